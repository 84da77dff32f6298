//! The README and docs/ against the code: every upstream kind, verdict,
//! cause and format name they write in backticks exists, every verdict and
//! cause is explained, every option they name is one `baton` accepts, and
//! the repository stands alone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use baton_correlate::{Cause, Verdict};
use baton_logparse::{Format, UpstreamKind};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The documents checked: the README and every Markdown file in docs/
/// (but `planned.md`, the names not built yet, for names; see `all_documents`).
fn documents() -> Vec<(String, String)> {
    all_documents()
        .into_iter()
        .filter(|(d, _)| d != "docs/planned.md")
        .collect()
}

fn all_documents() -> Vec<(String, String)> {
    let mut out = vec![("README.md".to_string(), read("README.md"))];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    for p in docs {
        let rel = format!("docs/{}", p.file_name().unwrap().to_string_lossy());
        out.push((rel.clone(), read(&rel)));
    }
    out
}

/// The text between backticks (code spans) on each line.
fn spans(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split('`');
        parts.next();
        while let Some(inside) = parts.next() {
            out.push(inside);
            parts.next();
        }
    }
    out
}

fn kinds() -> BTreeSet<&'static str> {
    UpstreamKind::ALL.iter().map(|k| k.as_str()).collect()
}
fn verdicts() -> BTreeSet<&'static str> {
    Verdict::ALL.iter().map(|v| v.as_str()).collect()
}
fn causes() -> BTreeSet<&'static str> {
    Cause::ALL.iter().map(|c| c.as_str()).collect()
}

/// Does this span look like an upstream kind (so it must be one)?
fn looks_like_kind(s: &str) -> bool {
    let prefixes = [
        "connect_",
        "timed_",
        "premature_",
        "reset_",
        "no_live_",
        "too_big_",
    ];
    s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && prefixes.iter().any(|p| s.starts_with(p))
}

#[test]
fn no_kind_that_does_not_exist() {
    let known = kinds();
    for (doc, text) in documents() {
        assert!(
            !text.contains("timeout_read"),
            "{doc} names `timeout_read`, which is no upstream kind"
        );
        for s in spans(&text) {
            if looks_like_kind(s) {
                assert!(known.contains(s), "{doc}: `{s}` is not an upstream kind");
            }
        }
    }
}

#[test]
fn format_names_exist() {
    for (doc, text) in documents() {
        for s in spans(&text) {
            // `nginx-access`, `fpm-slowlog`, `--as nginx-error=PATH`.
            for word in s.split(|c: char| c.is_whitespace() || c == '=' || c == ',') {
                let is_format_like = (word.starts_with("nginx-") || word.starts_with("fpm-"))
                    && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
                if is_format_like {
                    assert!(
                        Format::from_name(word).is_some(),
                        "{doc}: `{word}` is not a format name"
                    );
                }
            }
        }
    }
}

/// The rows of the Markdown table that follows `heading` in `text`.
fn table_rows<'a>(text: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect()
}

#[test]
fn readme_explains_every_verdict_and_cause_by_its_name() {
    let readme = read("README.md");
    let rows = table_rows(&readme, "## Reading the report");
    let mut seen_verdicts = BTreeSet::new();
    let mut seen_causes = BTreeSet::new();
    for row in &rows {
        let v = row[0].trim_matches('`');
        assert!(verdicts().contains(v), "README: `{v}` is not a verdict");
        assert!(
            Verdict::from_name(v).is_some(),
            "README: `{v}` is not a verdict"
        );
        seen_verdicts.insert(v);
        for c in spans(row[2]) {
            assert!(
                Cause::from_name(c).is_some(),
                "README: `{c}` is not a cause"
            );
            seen_causes.insert(c);
        }
    }
    assert_eq!(seen_verdicts, verdicts(), "every verdict, once");
    assert_eq!(seen_causes, causes(), "every cause");
}

#[test]
fn contract_tables_match_the_code() {
    let contract = read("docs/contract.md");
    let listed: BTreeSet<&str> = table_rows(&contract, "## Upstream error kinds")
        .iter()
        .map(|r| r[0].trim_matches('`'))
        .collect();
    assert_eq!(listed, kinds());
    let rows = table_rows(&contract, "## Verdicts and causes");
    let listed: BTreeSet<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(listed, causes());
    for r in &rows {
        let cause = Cause::from_name(r[0].trim_matches('`')).unwrap();
        assert_eq!(cause.verdict().as_str(), r[1], "{r:?}");
    }
}

/// The `--options` each command's help offers.
fn help_options(cmd: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args([cmd, "--help"])
        .output()
        .expect("baton runs");
    assert!(out.status.success());
    long_options(&String::from_utf8_lossy(&out.stdout))
}

fn long_options(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("--") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if name.len() > 1 && !name.ends_with('-') {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_option_named_is_accepted() {
    let commands = ["report", "stats", "events"];
    let helps: Vec<(&str, BTreeSet<String>)> =
        commands.iter().map(|c| (*c, help_options(c))).collect();
    // Lines about other tools (cargo, journalctl, pip, kubectl, the
    // generator) name their options.
    let other_tool = |l: &str| {
        [
            "cargo ",
            "journalctl",
            "pip ",
            "tar ",
            "kubectl ",
            "RUSTC_BOOTSTRAP",
            "built with",
            "scripts/",
            "baton-gen",
        ]
        .iter()
        .any(|t| l.contains(t))
    };
    for doc in ["README.md", "docs/reference.md"] {
        let text = read(doc);
        for line in text.lines().filter(|l| !other_tool(l)) {
            for opt in long_options(line) {
                // A line that runs one command must name that command's
                // options; otherwise some command must take it.
                let named: Vec<&str> = commands
                    .iter()
                    .copied()
                    .filter(|c| line.contains(&format!("baton {c}")))
                    .collect();
                let ok = if named.len() == 1 {
                    helps
                        .iter()
                        .any(|(c, h)| *c == named[0] && h.contains(&opt))
                } else {
                    helps.iter().any(|(_, h)| h.contains(&opt))
                };
                assert!(ok, "{doc}: `--{opt}` is not accepted ({line})");
            }
        }
    }
}

#[test]
fn stats_does_not_offer_what_it_ignores() {
    let stats = help_options("stats");
    for opt in ["since", "until", "window"] {
        assert!(!stats.contains(opt), "stats --help offers --{opt}");
    }
    for cmd in ["report", "events"] {
        let h = help_options(cmd);
        for opt in ["since", "until", "window"] {
            assert!(h.contains(opt), "{cmd} --help lacks --{opt}");
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["stats", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for f in [
        "nginx-access",
        "nginx-error",
        "fpm-log",
        "journal",
        "fpm-slowlog",
        "kernel",
        "cloudflare",
        "php-error",
        "mysql-slow",
    ] {
        assert!(help.contains(f), "--as help does not list {f}");
        assert!(Format::from_name(f).is_some());
    }
}

#[test]
fn the_repository_stands_alone() {
    for (doc, text) in all_documents() {
        for bad in ["../shared", "shared/CONTRACT", "PLAYBOOK.md", "](../"] {
            assert!(
                !text.contains(bad),
                "{doc} points outside the repository: {bad}"
            );
        }
    }
    // Relative links resolve inside the repository.
    for (doc, text) in all_documents() {
        let dir = Path::new(&doc).parent().unwrap().to_path_buf();
        for (i, _) in text.match_indices("](") {
            let target: String = text[i + 2..].chars().take_while(|c| *c != ')').collect();
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            assert!(
                root().join(&dir).join(file).exists(),
                "{doc}: link to {target} does not resolve"
            );
        }
    }
}

#[test]
fn the_readme_commands_are_the_ci_commands() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    assert!(readme.contains("cargo run --release -p baton-cli -- report testdata/sample"));
    assert!(readme.contains("cargo test --workspace --locked"));
    assert!(ci.contains("cargo test --workspace --locked"));
    assert!(ci.contains("report testdata/sample"));
    assert!(readme.contains("cargo install --path crates/cli"));
}
