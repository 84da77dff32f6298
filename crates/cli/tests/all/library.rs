//! The library's front door gives the command line's answers.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn postmortem_gives_the_incidents_of_baton_report() {
    let sample = root().join("testdata/sample");
    let lib =
        serde_json::to_value(baton::postmortem(&[&sample], &baton::Options::default())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["report", "--format", "json"])
        .arg(&sample)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lib["schema"], "baton.report.v1");
    assert_eq!(lib["incidents"], cli["incidents"]);
    assert_eq!(lib["background"], cli["background"]);
    assert_eq!(lib["totals"], cli["totals"]);
    assert_eq!(lib["incidents"].as_array().unwrap().len(), 3);
}

#[test]
fn the_example_prints_the_same_report() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let sample = root().join("testdata/sample");
    let out = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "-p",
            "baton-cli",
            "--example",
            "postmortem",
            "--",
        ])
        .arg(&sample)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let example: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["report", "--format", "json"])
        .arg(&sample)
        .output()
        .unwrap();
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(example["incidents"], cli["incidents"]);
}

#[test]
fn stats_counts_what_was_read_and_names_missing_inputs() {
    let s = baton::stats(
        &[root().join("testdata/sample"), root().join("no/such/dir")],
        &baton::Options::default(),
    );
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["schema"], "baton.stats.v1");
    assert_eq!(v["access"]["requests"], 97);
    let errors = s.input_errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].0.ends_with("no/such/dir"), "{errors:?}");
}
