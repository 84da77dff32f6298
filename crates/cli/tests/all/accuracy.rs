//! Accuracy against the generator's `truth.json`: every injected incident
//! found with its verdict, cause, top path and culprit, no extra incident,
//! and the exact counts in `stats`; the same incidents for another zone,
//! for the php-fpm journal, and for any thread count.
//!
//! The generator (`baton-gen`) is a workspace binary, built (or found up
//! to date) beside `baton` by cargo once per test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `baton-gen` binary of the same profile as `baton`, brought up to
/// date with cargo (a no-op when the workspace build made it).
pub(crate) fn generator() -> &'static Path {
    static GEN: OnceLock<PathBuf> = OnceLock::new();
    GEN.get_or_init(|| {
        let baton = PathBuf::from(env!("CARGO_BIN_EXE_baton"));
        let dir = baton.parent().unwrap().to_path_buf();
        let exe = dir.join(format!("baton-gen{}", std::env::consts::EXE_SUFFIX));
        {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--quiet", "-p", "baton-gen"])
                .current_dir(root());
            if dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            // The same target directory as this build.
            if let Some(target) = dir.parent() {
                cmd.env("CARGO_TARGET_DIR", target);
            }
            let status = cmd.status().expect("cargo runs");
            assert!(status.success(), "building baton-gen failed");
        }
        exe
    })
}

fn generate(name: &str, args: &[&str]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-accuracy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let out = Command::new(generator())
        .args(args)
        .arg("--out")
        .arg(&d)
        .output()
        .expect("baton-gen runs");
    assert!(
        out.status.success(),
        "baton-gen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn baton_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs")
}

fn json_of(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn report(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    json_of(&baton_env(&args, &[]))
}

fn truth(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
}

fn secs(v: &Value) -> i64 {
    baton_logparse::time::parse_iso8601(v.as_str().unwrap().as_bytes())
        .unwrap()
        .unix_secs()
}

/// Checks the report's incidents against the truth: one each, overlapping
/// in time, with the same diagnosis.
fn check_incidents(report: &Value, truth: &Value) {
    let found = report["incidents"].as_array().unwrap();
    let want = truth["incidents"].as_array().unwrap();
    let names = |v: &[Value], key: &str| v.iter().map(|i| i[key].to_string()).collect::<Vec<_>>();
    assert_eq!(
        found.len(),
        want.len(),
        "found {:?}, injected {:?}",
        names(found, "cause"),
        names(want, "cause")
    );
    for t in want {
        let (ts, te) = (secs(&t["start"]), secs(&t["end"]));
        let i = found
            .iter()
            .find(|i| secs(&i["start"]) <= te && ts <= secs(&i["end"]))
            .unwrap_or_else(|| panic!("{} at {}: not found", t["kind"], t["start"]));
        let what = format!("{} at {}", t["kind"], t["start"]);
        assert_eq!(i["verdict"], t["verdict"], "{what}");
        assert_eq!(i["cause"], t["cause"], "{what}");
        assert_eq!(i["handoff"], t["handoff"], "{what}");
        assert_eq!(secs(&i["start"]), ts, "{what}: start");
        assert_eq!(secs(&i["end"]), te, "{what}: end");
        let errors = if t["cause"] == "edge_only" {
            &t["edge_gateway_errors"]
        } else {
            &t["gateway_errors"]
        };
        assert_eq!(&i["gateway_errors"], errors, "{what}: gateway errors");
        let top = &i["top_paths"][0];
        assert_eq!(top["path"], t["top_path"]["path"], "{what}: top path");
        assert_eq!(
            top["count"], t["top_path"]["count"],
            "{what}: top path count"
        );
        if let Some(action) = t["top_path"]["action"].as_str() {
            assert_eq!(top["action"], action, "{what}: action");
        }
        if let Some(c) = t["culprit"].as_object() {
            let got = &i["culprits"][0];
            assert_eq!(got["name"], c["name"], "{what}: culprit");
            assert_eq!(got["kind"], c["kind"], "{what}: culprit kind");
            if !c["call"].is_null() {
                assert_eq!(got["call"], c["call"], "{what}: culprit call");
            }
        }
        if t["verdict"] != "edge" {
            for (k, n) in t["upstream_errors"].as_object().unwrap() {
                assert_eq!(&i["upstream_errors"][k], n, "{what}: upstream {k}");
            }
        }
    }
    assert_eq!(
        report["background"]["gateway_errors"], truth["background"]["gateway_errors"],
        "background"
    );
}

/// The counts `stats` must give exactly.
fn check_stats(dir: &Path, truth: &Value) {
    let s = json_of(&baton_env(
        &["stats", "--format", "json", dir.to_str().unwrap()],
        &[],
    ));
    let t = &truth["totals"];
    assert_eq!(s["access"]["requests"], t["requests"]);
    assert_eq!(s["access"]["status"], t["status"]);
    assert_eq!(s["upstream_errors"], t["upstream_errors"]);
    assert_eq!(s["upstream_warnings"], t["upstream_warnings"]);
    for k in [
        "max_children_reached",
        "slow_requests",
        "execution_timeouts",
        "restarts",
        "child_signals",
    ] {
        assert_eq!(s["fpm"][k], t["fpm"][k], "fpm {k}");
    }
    assert_eq!(s["kernel"]["oom_kills"], t["kernel"]["oom_kills"]);
    assert_eq!(s["kernel"]["segfaults"], t["kernel"]["segfaults"]);
    assert_eq!(s["slowlog"]["traces"], t["slowlog"]["traces"]);
    for f in s["files"].as_array().unwrap() {
        let name = Path::new(f["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        if let Some(lines) = t["lines"].get(name) {
            assert_eq!(&f["lines"], lines, "{name}: lines");
        }
        assert_eq!(
            f["lines"].as_u64().unwrap(),
            f["parsed"].as_u64().unwrap() + f["skipped"].as_u64().unwrap(),
            "{name}"
        );
    }
    if let Some(e) = t.get("edge") {
        assert_eq!(s["edge"]["requests"], e["requests"]);
        assert_eq!(s["edge"]["gateway_errors"], e["gateway_errors"]);
    }
    // Malformed lines: each skipped, by reason.
    let m = &t["malformed"];
    let access = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("access.log"))
        .unwrap();
    let reasons = &access["skipped_by_reason"];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    assert_eq!(n(&reasons["binary"]), n(&m["binary"]), "binary");
    assert_eq!(n(&reasons["too_long"]), n(&m["huge"]), "huge");
    // The generator's invalid-UTF-8 line is a request line cut short
    // after its bytes: skipped as truncated, like the truncated ones.
    assert_eq!(
        n(&reasons["truncated"]),
        n(&m["truncated"]) + n(&m["invalid_utf8"]),
        "truncated: {reasons}"
    );
    assert_eq!(
        n(&access["skipped"]),
        n(&m["binary"]) + n(&m["huge"]) + n(&m["truncated"]) + n(&m["invalid_utf8"]),
        "skipped: {reasons}"
    );
}

#[test]
fn every_incident_kind_is_found_with_its_diagnosis() {
    let dir = generate(
        "all",
        &[
            "--seed",
            "7",
            "--duration",
            "3h",
            "--rate",
            "4",
            "--cloudflare",
            "--access-format",
            "timing",
            "--malformed-rate",
            "0.001",
        ],
    );
    let t = truth(&dir);
    assert_eq!(
        t["incidents"].as_array().unwrap().len(),
        15,
        "every kind injected"
    );
    let r = report(&dir, &[]);
    check_incidents(&r, &t);
    check_stats(&dir, &t);
    // Every access-log gateway error matched its error-log line.
    assert_eq!(r["joins"]["unmatched_access"], 0);
    // The same report for any thread count.
    let args = ["report", "--format", "json", dir.to_str().unwrap()];
    let one = baton_env(&args, &[("RAYON_NUM_THREADS", "1")]);
    let three = baton_env(&args, &[("RAYON_NUM_THREADS", "3")]);
    assert!(
        one.stdout == three.stdout,
        "the report depends on the thread count"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_zone_with_the_right_tz_gives_the_same_incidents() {
    let kinds = "capacity,fpm_restart,segfault,external_call";
    let args = |tz: &'static str| {
        vec![
            "--seed",
            "11",
            "--duration",
            "1h",
            "--rate",
            "3",
            "--incidents",
            kinds,
            "--tz",
            tz,
        ]
    };
    let utc = generate("utc", &args("UTC"));
    let kolkata = generate("kolkata", &args("+05:30"));
    let a = report(&utc, &[]);
    check_incidents(&a, &truth(&utc));
    // The access log's own offset sets the zone...
    let b = report(&kolkata, &[]);
    assert_eq!(b["tz_source"], "access-log offsets");
    check_incidents(&b, &truth(&kolkata));
    // ...and --tz names it too.
    let c = report(&kolkata, &["--tz", "+05:30"]);
    check_incidents(&c, &truth(&kolkata));
    for (x, y) in a["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["incidents"].as_array().unwrap())
    {
        assert_eq!(secs(&x["start"]), secs(&y["start"]));
        assert_eq!(x["cause"], y["cause"]);
        assert_eq!(x["gateway_errors"], y["gateway_errors"]);
    }
    // Read in the wrong zone, the report names the one that fixes it.
    let wrong = report(&kolkata, &["--tz", "UTC"]);
    let warnings = wrong["warnings"].to_string();
    assert!(warnings.contains("try --tz +05:30"), "{warnings}");
    let _ = std::fs::remove_dir_all(&utc);
    let _ = std::fs::remove_dir_all(&kolkata);
}

#[test]
fn the_php_fpm_journal_and_the_main_format_give_the_same_diagnoses() {
    let dir = generate(
        "journal",
        &[
            "--seed",
            "5",
            "--duration",
            "1h",
            "--rate",
            "3",
            "--incidents",
            "fpm_restart,capacity,oom_kill,request_flood",
            "--fpm-log",
            "journal",
            "--access-format",
            "main",
        ],
    );
    let t = truth(&dir);
    check_incidents(&report(&dir, &[]), &t);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 18: a failure-heavy day (`baton-gen --heavy`: 24 h, about 1 %
/// of the requests gateway errors in 5 to 8 long incidents, lone 502s and
/// 504s every hour): every incident found, in order, with its diagnosis,
/// span, counts and top path, the lone errors left in the background, and
/// the exact counts in `stats`.
#[test]
fn a_failure_heavy_day_is_found_incident_by_incident() {
    for seed in ["2", "3"] {
        let dir = generate(
            &format!("heavy-{seed}"),
            &["--heavy", "--size", "20M", "--seed", seed],
        );
        let t = truth(&dir);
        let status = &t["totals"]["status"];
        let gw = status["502"].as_u64().unwrap_or(0) + status["504"].as_u64().unwrap_or(0);
        let share = gw as f64 / t["totals"]["requests"].as_u64().unwrap() as f64;
        assert!((0.005..=0.02).contains(&share), "seed {seed}: {share}");
        let r = report(&dir, &[]);
        let causes = |v: &Value| -> Vec<Value> {
            v["incidents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["cause"].clone())
                .collect()
        };
        assert_eq!(causes(&r), causes(&t), "seed {seed}");
        check_incidents(&r, &t);
        check_stats(&dir, &t);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `secs` of an optional time.
fn secs_opt(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| baton_logparse::time::parse_iso8601(s.as_bytes()))
        .map(|t| t.unix_secs())
}

fn phase_classes(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["class"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every difference between a report and the truth of a messy set, one
/// line each: incidents missed, split, merged or extra; verdict, cause,
/// top path, culprit and phase sequence of each; background findings.
fn messy_mismatches(seed: u64, report: &Value, truth: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let found = report["incidents"].as_array().cloned().unwrap_or_default();
    let want = truth["incidents"].as_array().cloned().unwrap_or_default();
    let span =
        |v: &Value| -> Option<(i64, i64)> { Some((secs_opt(&v["start"])?, secs_opt(&v["end"])?)) };
    let overlaps = |a: (i64, i64), b: (i64, i64)| a.0 <= b.1 && b.0 <= a.1;
    let brief = |i: &Value| {
        format!(
            "{}/{} {}..{} ({} errors)",
            i["verdict"].as_str().unwrap_or("?"),
            i["cause"].as_str().unwrap_or("?"),
            i["start"].as_str().unwrap_or("?"),
            i["end"].as_str().unwrap_or("?"),
            i["gateway_errors"]
        )
    };
    for t in &want {
        let kind = t["kind"].as_str().unwrap_or("?");
        let Some(ts) = span(t) else { continue };
        let what = format!(
            "seed {seed}: {kind} ({}) at {}",
            t["cause"].as_str().unwrap_or("?"),
            t["start"].as_str().unwrap_or("?")
        );
        let hits: Vec<&Value> = found
            .iter()
            .filter(|i| span(i).is_some_and(|s| overlaps(s, ts)))
            .collect();
        if hits.is_empty() {
            out.push(format!("{what}: not found"));
            continue;
        }
        if hits.len() > 1 {
            let parts: Vec<String> = hits.iter().map(|i| brief(i)).collect();
            out.push(format!(
                "{what}: split into {} incidents: {}",
                hits.len(),
                parts.join("; ")
            ));
        }
        // The one carrying most of its errors is the one judged.
        let i = hits
            .iter()
            .max_by_key(|i| i["gateway_errors"].as_u64().unwrap_or(0))
            .unwrap();
        let others: Vec<&Value> = want
            .iter()
            .filter(|o| !std::ptr::eq(*o, t))
            .filter(|o| span(o).zip(span(i)).is_some_and(|(a, b)| overlaps(a, b)))
            .collect();
        for o in others {
            if std::ptr::eq(
                t,
                want.iter()
                    .find(|w| span(w).zip(span(i)).is_some_and(|(a, b)| overlaps(a, b)))
                    .unwrap(),
            ) {
                out.push(format!(
                    "{what}: merged with {} ({}) at {} into {}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["cause"].as_str().unwrap_or("?"),
                    o["start"].as_str().unwrap_or("?"),
                    brief(i)
                ));
            }
        }
        for key in ["verdict", "cause"] {
            if i[key] != t[key] {
                out.push(format!("{what}: {key} expected {}, got {}", t[key], i[key]));
            }
        }
        let top = &i["top_paths"][0];
        let want_top = &t["top_path"];
        if top["path"] != want_top["path"]
            || (want_top["action"].is_string() && top["action"] != want_top["action"])
        {
            out.push(format!(
                "{what}: top path expected {} {} ({}), got {} {} ({})",
                want_top["path"],
                want_top["action"],
                want_top["count"],
                top["path"],
                top["action"],
                top["count"]
            ));
        }
        if let Some(c) = t["culprit"].as_object() {
            let got = &i["culprits"][0];
            let same = got["name"] == c["name"]
                && got["kind"] == c["kind"]
                && (c["call"].is_null() || got["call"] == c["call"]);
            if !same {
                out.push(format!(
                    "{what}: culprit expected {}/{}/{}, got {}/{}/{}",
                    c["kind"], c["name"], c["call"], got["kind"], got["name"], got["call"]
                ));
            }
        }
        let (tp, ip) = (phase_classes(&t["phases"]), phase_classes(&i["phases"]));
        if tp != ip {
            out.push(format!(
                "{what}: phases expected [{}], got [{}]",
                tp.join(" → "),
                ip.join(" → ")
            ));
        }
    }
    for i in &found {
        let Some(s) = span(i) else { continue };
        if !want
            .iter()
            .any(|t| span(t).is_some_and(|ts| overlaps(s, ts)))
        {
            out.push(format!("seed {seed}: extra incident {}", brief(i)));
        }
    }
    let got_findings = report["background"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for f in truth["background"]["findings"].as_array().unwrap() {
        let cause = f["cause"].as_str().unwrap();
        match got_findings.iter().find(|g| g["cause"] == cause) {
            None => out.push(format!(
                "seed {seed}: background finding {cause} x{}: not reported (findings: {})",
                f["count"],
                Value::Array(got_findings.iter().map(json_brief).collect())
            )),
            Some(g) if g["count"] != f["count"] => out.push(format!(
                "seed {seed}: background finding {cause}: count expected {}, got {}",
                f["count"], g["count"]
            )),
            Some(_) => {}
        }
    }
    out
}

fn json_brief(f: &Value) -> Value {
    serde_json::json!({"cause": f["cause"], "count": f["count"]})
}

/// Messy sets written by `baton-gen --messy` over many seeds: cascades,
/// deploy windows, permission changes with restarts, surges, two close
/// incidents, lone segfaults. Every incident found with its diagnosis and
/// phases, no extra one, the background findings reported; every
/// difference of every seed listed in the failure.
#[test]
fn messy_sets_over_many_seeds() {
    // BATON_MESSY_SEEDS=FIRST-LAST widens the run beyond CI's 24 seeds,
    // BATON_MESSY_DURATION and BATON_MESSY_RATE change the sets' size.
    let env = |k: &str| std::env::var(k).ok();
    let (first, last) = env("BATON_MESSY_SEEDS")
        .and_then(|r| {
            let (a, b) = r.split_once('-')?;
            Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
        })
        .unwrap_or((1, 24));
    let duration_env = env("BATON_MESSY_DURATION");
    let rate_env = env("BATON_MESSY_RATE");
    // One seed: its differences and (incidents, incidents without one).
    let run = |seed: u64| -> (Vec<String>, usize, usize) {
        let formats = ["combined", "timing", "main", "json"];
        let zones = ["UTC", "-05:00", "+01:00"];
        let duration = duration_env
            .as_deref()
            .unwrap_or(if seed.is_multiple_of(2) { "2h" } else { "100m" });
        let rate = rate_env
            .as_deref()
            .unwrap_or(["2", "3", "4"][(seed % 3) as usize]);
        let seed_s = seed.to_string();
        let tz = format!("--tz={}", zones[(seed % 3) as usize]);
        let mut args = vec![
            "--messy",
            "--seed",
            &seed_s,
            "--duration",
            duration,
            "--rate",
            rate,
            "--access-format",
            formats[(seed % 4) as usize],
            &tz,
        ];
        if seed.is_multiple_of(5) {
            args.extend(["--fpm-log", "journal"]);
        }
        let dir = generate(&format!("messy-{seed}"), &args);
        let t = truth(&dir);
        let r = report(&dir, &[]);
        let m = messy_mismatches(seed, &r, &t);
        let _ = std::fs::remove_dir_all(&dir);
        let incs = t["incidents"].as_array().unwrap();
        let right = incs
            .iter()
            .filter(|i| {
                let key = format!(
                    "seed {seed}: {} ({}) at {}:",
                    i["kind"].as_str().unwrap_or("?"),
                    i["cause"].as_str().unwrap_or("?"),
                    i["start"].as_str().unwrap_or("?")
                );
                !m.iter().any(|l| l.starts_with(&key))
            })
            .count();
        (m, incs.len(), right)
    };
    // Two seeds at a time (CI has two cores).
    let results: Vec<(Vec<String>, usize, usize)> = std::thread::scope(|s| {
        let odd = s.spawn(|| (first..=last).step_by(2).map(run).collect::<Vec<_>>());
        let even: Vec<_> = (first + 1..=last).step_by(2).map(run).collect();
        let odd = odd.join().expect("seeds run");
        // Back in seed order.
        let mut all: Vec<_> = Vec::new();
        let (mut a, mut b) = (odd.into_iter(), even.into_iter());
        loop {
            match (a.next(), b.next()) {
                (None, None) => break,
                (x, y) => all.extend(x.into_iter().chain(y)),
            }
        }
        all
    });
    let mut all = Vec::new();
    let (mut incidents, mut right) = (0usize, 0usize);
    for (m, n, r) in results {
        all.extend(m);
        incidents += n;
        right += r;
    }
    assert!(
        all.is_empty(),
        "{} seeds, {incidents} incidents, {right} without a difference; {} differences:\n{}",
        last + 1 - first,
        all.len(),
        all.join("\n")
    );
}

/// The messy set's generator arguments of a seed (as in
/// `messy_sets_over_many_seeds`).
fn messy_args(seed: u64) -> Vec<String> {
    let formats = ["combined", "timing", "main", "json"];
    let zones = ["UTC", "-05:00", "+01:00"];
    let mut args: Vec<String> = vec![
        "--messy".into(),
        "--seed".into(),
        seed.to_string(),
        "--duration".into(),
        if seed.is_multiple_of(2) { "2h" } else { "100m" }.into(),
        "--rate".into(),
        ["2", "3", "4"][(seed % 3) as usize].into(),
        "--access-format".into(),
        formats[(seed % 4) as usize].into(),
        format!("--tz={}", zones[(seed % 3) as usize]),
    ];
    if seed.is_multiple_of(5) {
        args.extend(["--fpm-log".into(), "journal".into()]);
    }
    args
}

/// What must not change when the other witnesses are added: the
/// incidents (span, errors, verdict, cause, handoff, phases, top path,
/// first culprit), contributing causes (PHP fatal errors may add
/// `fatal_error` where the truth says the PHP error log has some), the
/// background count and findings.
fn same_diagnoses(seed: u64, plain: &Value, wit: &Value, truth: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (
        plain["incidents"].as_array().unwrap(),
        wit["incidents"].as_array().unwrap(),
    );
    if a.len() != b.len() {
        out.push(format!(
            "seed {seed}: {} incidents without the witnesses, {} with them",
            a.len(),
            b.len()
        ));
        return out;
    }
    for (x, y) in a.iter().zip(b) {
        let what = format!("seed {seed}: incident at {}", x["start"]);
        for k in [
            "start",
            "end",
            "gateway_errors",
            "status_502",
            "status_504",
            "verdict",
            "cause",
            "handoff",
        ] {
            if x[k] != y[k] {
                out.push(format!("{what}: {k} {} without, {} with", x[k], y[k]));
            }
        }
        if phase_classes(&x["phases"]) != phase_classes(&y["phases"]) {
            out.push(format!(
                "{what}: phases {:?} without, {:?} with",
                phase_classes(&x["phases"]),
                phase_classes(&y["phases"])
            ));
        }
        if x["top_paths"][0] != y["top_paths"][0] {
            out.push(format!(
                "{what}: top path {} without, {} with",
                x["top_paths"][0], y["top_paths"][0]
            ));
        }
        if x["culprits"][0]["name"] != y["culprits"][0]["name"] {
            out.push(format!(
                "{what}: culprit {} without, {} with",
                x["culprits"][0]["name"], y["culprits"][0]["name"]
            ));
        }
        // PHP fatal errors the truth put in the incident may add
        // fatal_error; nothing else is added, nothing removed.
        let fatal = truth["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                secs_opt(&t["start"]).is_some_and(|s| s <= secs(&x["end"]))
                    && secs_opt(&t["end"]).is_some_and(|e| e >= secs(&x["start"]))
            })
            .is_some_and(|t| {
                t["witness_evidence"]["php_errors"]["fatal"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0
            });
        let list = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().map(|c| c.as_str().unwrap().to_string()).collect())
                .unwrap_or_default()
        };
        let (ca, cb) = (
            list(&x["contributing_causes"]),
            list(&y["contributing_causes"]),
        );
        let removed: Vec<&String> = ca.iter().filter(|c| !cb.contains(c)).collect();
        let added: Vec<&String> = cb
            .iter()
            .filter(|c| !(ca.contains(c) || fatal && *c == "fatal_error"))
            .collect();
        if !removed.is_empty() || !added.is_empty() {
            out.push(format!(
                "{what}: contributing causes {ca:?} without, {cb:?} with"
            ));
        }
    }
    if plain["background"]["gateway_errors"] != wit["background"]["gateway_errors"] {
        out.push(format!(
            "seed {seed}: background {} without, {} with",
            plain["background"]["gateway_errors"], wit["background"]["gateway_errors"]
        ));
    }
    let findings = |r: &Value| -> Vec<Value> {
        r["background"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(json_brief)
            .collect()
    };
    // PHP's log adds one finding of its own: the uncaught errors it logged
    // far from every failure, when they recur (two or more). It costs no
    // gateway error, so it is the only finding with a count of 0.
    let recurring = truth["witnesses"]["written"]["php_errors"]["background_fatals"]
        .as_u64()
        .unwrap_or(0)
        >= 2;
    let mut with = findings(wit);
    let fatal_finding = with
        .iter()
        .position(|f| f["cause"] == "fatal_error" && f["count"] == 0);
    match (recurring, fatal_finding) {
        (true, Some(k)) => {
            with.remove(k);
        }
        (true, None) => out.push(format!(
            "seed {seed}: the background's recurring PHP fatal errors are no finding"
        )),
        (false, Some(_)) => out.push(format!(
            "seed {seed}: a PHP fatal finding where truth has fewer than two background fatals"
        )),
        (false, None) => {}
    }
    if findings(plain) != with {
        out.push(format!(
            "seed {seed}: background findings {:?} without, {:?} with",
            findings(plain),
            findings(wit)
        ));
    }
    out
}

/// Database incidents found with MySQL's slow log and no php-fpm
/// slowlog: `latency`/`database`, citing the truth's statement.
fn database_without_slowlog(seed: u64, r: &Value, truth: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let found = r["incidents"].as_array().unwrap();
    for t in truth["incidents"].as_array().unwrap() {
        let Some(stmt) = t["witness_evidence"]["mysql_slow"]["statement"].as_str() else {
            continue;
        };
        if t["cause"] != "database" {
            continue;
        }
        let what = format!(
            "seed {seed} without slowlog: {} at {}",
            t["kind"], t["start"]
        );
        let Some(i) = found.iter().find(|i| {
            secs_opt(&t["start"]).is_some_and(|s| s <= secs(&i["end"]))
                && secs_opt(&t["end"]).is_some_and(|e| e >= secs(&i["start"]))
        }) else {
            out.push(format!("{what}: not found"));
            continue;
        };
        if (i["verdict"].as_str(), i["cause"].as_str()) != (Some("latency"), Some("database")) {
            out.push(format!("{what}: {} {}", i["verdict"], i["cause"]));
        }
        let fp = baton_logparse::mysql_slow::fingerprint_string(stmt.as_bytes());
        if !i["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(&format!("`{fp}`")))
        {
            out.push(format!("{what}: evidence does not cite `{fp}`"));
        }
    }
    out
}

/// What the witnesses must add: database incidents cite the statement
/// the truth says their traces waited in (its fingerprint, and a line of
/// mysql-slow.log); the configuration checks are the truth's; stats reads
/// every new file in its format with the truth's line counts.
fn witness_evidence(seed: u64, dir: &Path, wit: &Value, truth: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let found = wit["incidents"].as_array().unwrap();
    for t in truth["incidents"].as_array().unwrap() {
        let Some(stmt) = t["witness_evidence"]["mysql_slow"]["statement"].as_str() else {
            continue;
        };
        let what = format!("seed {seed}: {} at {}", t["kind"], t["start"]);
        let Some(i) = found.iter().find(|i| {
            secs_opt(&t["start"]).is_some_and(|s| s <= secs(&i["end"]))
                && secs_opt(&t["end"]).is_some_and(|e| e >= secs(&i["start"]))
        }) else {
            out.push(format!("{what}: not found"));
            continue;
        };
        if t["cause"] != "database" {
            continue;
        }
        let fp = baton_logparse::mysql_slow::fingerprint_string(stmt.as_bytes());
        let cited = i["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(&format!("`{fp}`")));
        if !cited {
            out.push(format!(
                "{what}: evidence does not cite `{fp}`: {}",
                i["evidence"]
            ));
        }
        let referenced = i["evidence_refs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["file"].as_str().unwrap().ends_with("mysql-slow.log"));
        if !referenced {
            out.push(format!("{what}: no evidence_refs line of mysql-slow.log"));
        }
    }
    // The configuration read bears on the incidents it explains: the
    // pool's numbers for capacity, its socket's owner and mode for a
    // permission failure, where it listens for php-fpm down or restarting.
    let pools = truth["witnesses"]["written"]["config"]["pools"]
        .as_array()
        .unwrap();
    let www = pools.iter().find(|p| p["name"] == "www").unwrap();
    for i in found {
        let said = |needle: &str| {
            i["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().contains(needle))
        };
        let what = format!("seed {seed}: incident at {} ({})", i["start"], i["cause"]);
        let want = match i["cause"].as_str().unwrap() {
            "max_children" | "backlog_full" | "request_flood" => {
                format!("pm.max_children = {}", www["max_children"])
            }
            "socket_permission" => "configuration: pool www's socket".to_string(),
            "fpm_down" | "fpm_restart" => {
                format!("pool www listens on {}", www["listen"].as_str().unwrap())
            }
            _ => continue,
        };
        if !said(&want) {
            out.push(format!(
                "{what}: no configuration evidence `{want}`: {}",
                i["evidence"]
            ));
        }
    }
    let mut checks: Vec<&str> = wit["config_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    checks.sort_unstable();
    checks.dedup();
    let want: Vec<&str> = truth["config_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    if checks != want {
        out.push(format!(
            "seed {seed}: config_findings {checks:?}, truth {want:?}"
        ));
    }
    let s = json_of(&baton_env(
        &["stats", "--format", "json", dir.to_str().unwrap()],
        &[],
    ));
    let formats = [
        ("php-error.log", "php-error"),
        ("mysql-slow.log", "mysql-slow"),
        ("nginx-T.txt", "nginx-config"),
        ("php-fpm-tt.txt", "fpm-config"),
    ];
    for (name, format) in formats {
        let Some(f) = s["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
        else {
            out.push(format!("seed {seed}: {name} not read"));
            continue;
        };
        if f["format"] != format {
            out.push(format!("seed {seed}: {name} read as {}", f["format"]));
        }
        if f["lines"] != truth["totals"]["lines"][name] {
            out.push(format!(
                "seed {seed}: {name}: {} lines, truth {}",
                f["lines"], truth["totals"]["lines"][name]
            ));
        }
        // Only the dumps' blank lines are skipped.
        let skipped = f["skipped"].as_u64().unwrap();
        let empty = f["skipped_by_reason"]["empty"].as_u64().unwrap_or(0);
        if skipped != empty {
            out.push(format!(
                "seed {seed}: {name}: skipped {}",
                f["skipped_by_reason"]
            ));
        }
    }
    let levels = &truth["totals"]["php_error_log_levels"];
    for k in ["warning", "notice", "deprecated"] {
        if s["php_messages"][k].as_u64().unwrap_or(0) != levels[k].as_u64().unwrap_or(0) {
            out.push(format!(
                "seed {seed}: php_messages {k} {}, truth {}",
                s["php_messages"][k], levels[k]
            ));
        }
    }
    let queries = &truth["witnesses"]["written"]["mysql_slow"]["queries"];
    if &s["mysql_slow"]["queries"] != queries {
        out.push(format!(
            "seed {seed}: mysql_slow queries {}, truth {queries}",
            s["mysql_slow"]["queries"]
        ));
    }
    out
}

/// Messy sets with PHP's error log, the MySQL slow log and the
/// configuration dumps (`--php-errors --mysql-slow --config`) against the
/// same seeds without them: the same incidents with the same diagnoses,
/// database incidents citing their slow statement, the configuration
/// checks of the truth. `BATON_WITNESS_SEEDS=FIRST-LAST` widens the run.
#[test]
fn witnesses_keep_the_diagnoses_and_add_their_evidence() {
    let (first, last) = std::env::var("BATON_WITNESS_SEEDS")
        .ok()
        .and_then(|r| {
            let (a, b) = r.split_once('-')?;
            Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
        })
        .unwrap_or((1, 4));
    let run = |seed: u64| -> Vec<String> {
        let args = messy_args(seed);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let plain = generate(&format!("wit-plain-{seed}"), &args);
        let mut with = args.clone();
        with.extend(["--php-errors", "--mysql-slow", "--config"]);
        let dir = generate(&format!("wit-{seed}"), &with);
        let t = truth(&dir);
        assert_eq!(
            t["witnesses"]["written"]["config"]["files"],
            serde_json::json!(["nginx-T.txt", "php-fpm-tt.txt"])
        );
        let memory = t["witnesses"]["written"]["config"]["memory"]
            .as_str()
            .unwrap()
            .to_string();
        let rp = report(&plain, &[]);
        let rw = report(&dir, &["--memory", &memory]);
        let mut m = same_diagnoses(seed, &rp, &rw, &t);
        m.extend(witness_evidence(seed, &dir, &rw, &t));
        // Without php-fpm's slowlog the MySQL slow log alone names the
        // database: the same set less its `*-slow.log` files.
        let bare = dir.with_file_name(format!(
            "{}-noslowlog",
            dir.file_name().unwrap().to_str().unwrap()
        ));
        let _ = std::fs::remove_dir_all(&bare);
        std::fs::create_dir_all(&bare).unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if !name.ends_with("-slow.log") || name == "mysql-slow.log" {
                std::os::unix::fs::symlink(e.path(), bare.join(&name)).unwrap();
            }
        }
        let rb = report(&bare, &["--memory", &memory]);
        m.extend(database_without_slowlog(seed, &rb, &t));
        let _ = std::fs::remove_dir_all(&bare);
        let _ = std::fs::remove_dir_all(&plain);
        let _ = std::fs::remove_dir_all(&dir);
        m
    };
    let all: Vec<String> = std::thread::scope(|s| {
        let odd = s.spawn(|| (first..=last).step_by(2).flat_map(run).collect::<Vec<_>>());
        let mut v: Vec<String> = (first + 1..=last).step_by(2).flat_map(run).collect();
        v.extend(odd.join().expect("seeds run"));
        v
    });
    assert!(
        all.is_empty(),
        "{} differences:\n{}",
        all.len(),
        all.join("\n")
    );
}

/// `baton-gen --container docker|cri|compose` writes the containers'
/// streams (nginx's access and error logs, php-fpm's log) in the runtime's
/// envelope: the same incidents, diagnoses and request count as the plain
/// set of the same seed. A json-file or CRI file holds one nginx
/// container's stdout (access) and stderr (error) interleaved, and its
/// first error entry may come long after detection's sample (seed 4: line
/// 595); a compose log holds every service's lines (seed 7: nginx's and
/// php-fpm's), each read as its own container's log.
#[test]
fn container_envelopes_give_the_plain_diagnoses() {
    let cases = [("docker", 3u64), ("cri", 4), ("compose", 7)];
    let run = |(runtime, seed): (&str, u64)| -> Vec<String> {
        let args = messy_args(seed);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let plain = generate(&format!("ctr-plain-{runtime}-{seed}"), &args);
        let mut with = args.clone();
        with.extend(["--container", runtime]);
        let dir = generate(&format!("ctr-{runtime}-{seed}"), &with);
        let t = truth(&dir);
        assert_eq!(t["container"]["runtime"], runtime);
        let (rp, rw) = (report(&plain, &[]), report(&dir, &[]));
        let mut m: Vec<String> = same_diagnoses(seed, &rp, &rw, &t)
            .into_iter()
            .map(|l| format!("{runtime}: {l}"))
            .collect();
        if rp["totals"] != rw["totals"] {
            m.push(format!(
                "{runtime}: seed {seed}: totals {} plain, {} enveloped",
                rp["totals"], rw["totals"]
            ));
        }
        let _ = std::fs::remove_dir_all(&plain);
        let _ = std::fs::remove_dir_all(&dir);
        m
    };
    let all: Vec<String> = std::thread::scope(|s| {
        let first = s.spawn(|| run(cases[0]));
        let mut v: Vec<String> = cases[1..].iter().flat_map(|&c| run(c)).collect();
        v.extend(first.join().expect("runs"));
        v
    });
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// The evidence lines a report cites are the files' lines, word for word:
/// requests' and upstream errors' text is not kept while reading plain
/// files but read back at its offset (in a set large enough to be read in
/// many parallel chunks), and every other line's was kept.
#[test]
fn cited_lines_are_the_files_lines() {
    let dir = generate("cited", &["--messy", "--seed", "5", "--size", "24M"]);
    let r = report(&dir, &[]);
    let refs: Vec<&Value> = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["background"]["findings"].as_array().unwrap())
        .flat_map(|x| x["evidence_refs"].as_array().unwrap())
        .collect();
    assert!(refs.len() > 20, "only {} evidence lines", refs.len());
    let mut lines_of: std::collections::HashMap<String, Vec<Vec<u8>>> = Default::default();
    let mut requests = 0;
    for e in refs {
        let file = e["file"].as_str().unwrap();
        let lines = lines_of.entry(file.to_string()).or_insert_with(|| {
            std::fs::read(file)
                .unwrap()
                .split(|&b| b == b'\n')
                .map(|l| l.to_vec())
                .collect()
        });
        let n = e["line"].as_u64().unwrap() as usize;
        let line = &lines[n - 1];
        let line = &line[..line.len().min(300)];
        assert_eq!(
            e["text"].as_str().unwrap(),
            baton_logparse::text::escape(line),
            "{file}:{n}"
        );
        requests += usize::from(file.ends_with("access.log") || file.ends_with("error.log"));
    }
    assert!(requests > 0, "no access or error log line was cited");
    let _ = std::fs::remove_dir_all(&dir);
}
