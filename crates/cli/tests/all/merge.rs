//! `baton merge`: reports of several nodes, or of one node over
//! consecutive windows, combined into the report one run would give.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs")
}

fn json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-merge-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `baton report --format json ARGS` to `file`.
fn report_to(file: &Path, args: &[&str]) {
    let mut a = vec!["report", "--format", "json"];
    a.extend_from_slice(args);
    let out = baton(&a);
    // 4: a window no log covers (the report says so; it is still one).
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(file, &out.stdout).unwrap();
}

/// `baton-gen` into `dir`.
fn generate(dir: &Path, args: &[&str]) {
    let out = Command::new(crate::accuracy::generator())
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .expect("baton-gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies the log files of `testdata/SET` into `dir` (created).
fn copy_set(set: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(root().join("testdata").join(set)).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") || !p.is_file() {
            continue;
        }
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn merging_per_node_reports_gives_the_bundle_runs_report() {
    let d = scratch("nodes");
    let b = d.join("bundle");
    // Two generated nodes failing the same way at the same time (a fleet
    // incident), and a hand-built one whose pids and connection numbers
    // are the lab's.
    for node in ["web1", "web2"] {
        generate(
            &b.join(node),
            &["--seed", "7", "--duration", "3h", "--rate", "2"],
        );
        // The generator's ground truth is no log.
        let _ = std::fs::remove_file(b.join(node).join("truth.json"));
    }
    copy_set("lab-segfault", &b.join("web3"));
    let bundle = b.to_str().unwrap();
    let fleet = json(&baton(&["report", "--format", "json", bundle]));
    let mut parts = Vec::new();
    for node in ["web1", "web2", "web3"] {
        let f = d.join(format!("{node}.json"));
        report_to(&f, &["--node", &format!("{node}={bundle}/{node}")]);
        parts.push(f.to_str().unwrap().to_string());
    }
    let mut args = vec!["merge", "--format", "json"];
    args.extend(parts.iter().map(String::as_str));
    let t0 = Instant::now();
    let merged = json(&baton(&args));
    eprintln!(
        "baton merge of 3 node reports: {:.0} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    // The same document, key for key; no field differs here (a fleet run's
    // warnings about clocks and zones are taken over every node's files, a
    // node's over its own: the same when every node's clock agrees).
    assert_eq!(merged, fleet);
    assert!(!fleet["fleet_incidents"].as_array().unwrap().is_empty());
    assert_eq!(fleet["nodes"].as_array().unwrap().len(), 3);
    assert!(
        fleet["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["node"] == "web3")
    );
    // Order does not matter.
    let mut rev = vec!["merge", "--format", "json"];
    rev.extend(parts.iter().rev().map(String::as_str));
    assert_eq!(json(&baton(&rev)), fleet);
    // Text and HTML render the merged report as a run's.
    let mut text = vec!["merge"];
    text.extend(parts.iter().map(String::as_str));
    let out = baton(&text);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("fleet #1"), "{s}");
    let mut html = vec!["merge", "--format", "html"];
    html.extend(parts.iter().map(String::as_str));
    let out = baton(&html);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Fleet incidents"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn consecutive_windows_of_one_node_merge_to_the_whole_run() {
    let d = scratch("windows");
    let set = "testdata/sample";
    let whole = json(&baton(&["report", "--format", "json", set]));
    let counts = |r: &Value| {
        [
            r["totals"].clone(),
            r["timeline"].clone(),
            r["marks"].clone(),
            r["nodes"].clone(),
        ]
    };
    let incidents = |r: &Value| -> Vec<(String, String, String, u64)> {
        r["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["cause"].as_str().unwrap().to_string(),
                    i["start"].as_str().unwrap().to_string(),
                    i["end"].as_str().unwrap().to_string(),
                    i["gateway_errors"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Cut at whole minutes (requests are counted by the minute).
    for cut in ["2026-11-24T11:18:00Z", "2026-11-24T11:19:00Z"] {
        let (a, b) = (d.join("a.json"), d.join("b.json"));
        report_to(&a, &["--until", cut, set]);
        report_to(&b, &["--since", cut, set]);
        let m = json(&baton(&[
            "merge",
            "--format",
            "json",
            b.to_str().unwrap(),
            a.to_str().unwrap(),
        ]));
        assert_eq!(counts(&m), counts(&whole), "cut at {cut}");
        assert_eq!(m["files"], whole["files"], "each input listed once");
        let in_incidents = |r: &Value| -> u64 { incidents(r).iter().map(|i| i.3).sum() };
        assert_eq!(
            in_incidents(&m) + m["background"]["gateway_errors"].as_u64().unwrap(),
            in_incidents(&whole) + whole["background"]["gateway_errors"].as_u64().unwrap()
        );
        if cut.ends_with("11:19:00Z") {
            // No incident near the cut: the same incidents.
            assert_eq!(incidents(&m), incidents(&whole));
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_document_that_is_not_a_report_exits_2() {
    let d = scratch("bad");
    let stats = d.join("stats.json");
    let out = baton(&["stats", "--format", "json", "testdata/sample"]);
    std::fs::write(&stats, &out.stdout).unwrap();
    let junk = d.join("junk.json");
    std::fs::write(&junk, b"not json").unwrap();
    let good = d.join("good.json");
    report_to(&good, &["testdata/sample"]);
    for bad in [&stats, &junk] {
        let out = baton(&["merge", good.to_str().unwrap(), bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a baton.report.v1 document"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // A missing one: the rest is merged, exit 3.
    let out = baton(&[
        "merge",
        "--format",
        "json",
        good.to_str().unwrap(),
        "/nonexistent/r.json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    let alone: Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    assert_eq!(one, alone);
    let _ = std::fs::remove_dir_all(&d);
}
