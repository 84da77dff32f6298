//! The messy plan (`--messy`): deterministic, and unambiguous by
//! construction over many seeds: same-cause incidents 20 min apart,
//! background gateway errors 10 min from every incident and never three
//! within 90 s, a clear top path, phases of the classes they claim.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn generate(name: &str, args: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let st = Command::new(env!("CARGO_BIN_EXE_baton-gen"))
        .args(args)
        .arg("--out")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "baton-gen {args:?} failed");
    dir
}

fn truth(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Unix seconds of the access log's 502/504s (combined format, UTC).
fn gateway_times(dir: &Path) -> Vec<i64> {
    let text =
        String::from_utf8_lossy(&std::fs::read(dir.join("access.log")).unwrap()).into_owned();
    let mut v = Vec::new();
    for line in text.lines() {
        let Some(q) = line.find("\" ") else { continue };
        let status = &line[q + 2..q + 5];
        if status != "502" && status != "504" {
            continue;
        }
        let a = line.find('[').unwrap() + 1;
        let b = line.find(']').unwrap();
        let t = chrono::DateTime::parse_from_str(&line[a..b], "%d/%b/%Y:%H:%M:%S %z").unwrap();
        v.push(t.timestamp());
    }
    v.sort_unstable();
    v
}

#[test]
fn same_seed_same_bytes() {
    let args = [
        "--messy",
        "--seed",
        "3",
        "--duration",
        "100m",
        "--rate",
        "2",
    ];
    let a = generate("messy-det-a", &args);
    let b = generate("messy-det-b", &args);
    for f in [
        "access.log",
        "error.log",
        "php-fpm.log",
        "www-slow.log",
        "kern.log",
        "truth.json",
    ] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn every_seed_is_unambiguous_by_construction() {
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 1..=20u64 {
        let s = seed.to_string();
        let d = generate(
            &format!("messy-{seed}"),
            &["--messy", "--seed", &s, "--duration", "2h", "--rate", "2"],
        );
        let t = truth(&d);
        let incs = t["incidents"].as_array().unwrap();
        assert!(incs.len() >= 2, "seed {seed}: {} incidents", incs.len());
        let spans: Vec<(i64, i64)> = incs
            .iter()
            .map(|i| (secs(&i["start"]), secs(&i["end"])))
            .collect();
        for (n, i) in incs.iter().enumerate() {
            let what = format!("seed {seed}: {} at {}", i["kind"], i["start"]);
            kinds.insert(i["kind"].as_str().unwrap().to_string());
            // In time order; the same cause 20 min apart.
            if n > 0 {
                assert!(
                    spans[n].0 > spans[n - 1].1,
                    "{what}: overlaps the previous one"
                );
            }
            for (m, o) in incs.iter().enumerate().take(n) {
                if o["cause"] == i["cause"] {
                    assert!(
                        spans[n].0 - spans[m].1 >= 1200,
                        "{what}: same cause as {}",
                        o["kind"]
                    );
                }
            }
            // A clear top path.
            let top = &i["top_path"];
            assert!(
                u(&top["count"]) >= u(&top["next_count"]) + 3,
                "{what}: top path {top}"
            );
            // Phases add up and are what they claim.
            let phases = i["phases"].as_array().unwrap();
            let sum: u64 = phases.iter().map(|p| u(&p["gateway_errors"])).sum();
            assert_eq!(sum, u(&i["gateway_errors"]), "{what}: phases");
            for p in phases {
                let up = &p["upstream_errors"];
                let total: u64 = up.as_object().unwrap().values().map(u).sum();
                match p["class"].as_str().unwrap() {
                    "timeout" => {
                        assert!(u(&p["gateway_errors"]) >= 5, "{what}: {p}");
                        assert!(10 * u(&up["timed_out"]) >= 9 * total, "{what}: {p}");
                    }
                    "saturation" => {
                        assert!(10 * u(&up["connect_eagain"]) >= 4 * total, "{what}: {p}")
                    }
                    _ => {}
                }
            }
            let classes: Vec<&str> = phases
                .iter()
                .map(|p| p["class"].as_str().unwrap())
                .collect();
            match i["kind"].as_str().unwrap() {
                "deploy_window" => {
                    assert_eq!(classes.len(), 1, "{what}: {classes:?}");
                    assert!(u(&i["fpm"]["restarts"]) >= 3, "{what}");
                }
                "permission_deploy" => {
                    assert_eq!(classes, ["refused", "permission", "refused"], "{what}")
                }
                _ => {}
            }
        }
        // Background gateway errors: far from every incident, never a run.
        let bg: Vec<i64> = gateway_times(&d)
            .into_iter()
            .filter(|&g| !spans.iter().any(|&(s, e)| s <= g && g <= e))
            .collect();
        assert_eq!(
            bg.len() as u64,
            u(&t["background"]["gateway_errors"]),
            "seed {seed}"
        );
        for &g in &bg {
            for &(s, e) in &spans {
                assert!(
                    g < s - 600 || g > e + 600,
                    "seed {seed}: background error at {g} near {s}..{e}"
                );
            }
        }
        for w in bg.windows(3) {
            assert!(
                w[2] - w[0] > 90,
                "seed {seed}: three background errors within 90 s"
            );
        }
        let lone: u64 = t["background"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["cause"] == "segfault")
            .map(|f| u(&f["count"]))
            .sum();
        assert!(lone >= 1, "seed {seed}: no lone segfault in 2 h");
        let _ = std::fs::remove_dir_all(&d);
    }
    // Over 20 seeds, every scenario.
    for k in [
        "cascade_database",
        "cascade_external_call",
        "oom_after_raise",
        "checkout_hang",
        "deploy_window",
        "permission_deploy",
        "segfault_then_capacity",
        "traffic_surge",
        "campaign_widget",
    ] {
        assert!(kinds.contains(k), "{k} never drawn: {kinds:?}");
    }
}
