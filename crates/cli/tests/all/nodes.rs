//! Many machines: bundles of node folders and `--node NAME=PATH`, each
//! node correlated apart, fleet incidents over them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn baton_text(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-nodes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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

/// `(cause, start, end, gateway_errors)` of each incident.
fn incidents(r: &Value) -> Vec<(String, String, String, u64)> {
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
}

fn of_node(r: &Value, node: &str) -> Vec<(String, String, String, u64)> {
    let mut all = incidents(r);
    let nodes: Vec<&str> = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["node"].as_str().unwrap())
        .collect();
    let mut k = 0;
    all.retain(|_| {
        k += 1;
        nodes[k - 1] == node
    });
    all
}

#[test]
fn a_bundle_keeps_each_nodes_incidents_and_evidence_apart() {
    let d = scratch("bundle");
    copy_set("sample", &d.join("web1/var/log/nginx"));
    copy_set("lab-segfault", &d.join("web2/var/log"));
    let bundle = d.to_str().unwrap();
    let r = baton_json(&["report", "--format", "json", bundle]);
    // Each node's incidents are those of a run over its files alone.
    let web1 = baton_json(&["report", "--format", "json", "testdata/sample"]);
    let web2 = baton_json(&["report", "--format", "json", "testdata/lab-segfault"]);
    assert_eq!(of_node(&r, "web1"), incidents(&web1));
    assert_eq!(of_node(&r, "web2"), incidents(&web2));
    assert!(of_node(&r, "web2").iter().any(|i| i.0 == "segfault"));
    assert!(of_node(&r, "web1").iter().any(|i| i.0 == "fpm_down"));
    // Renumbered in start order.
    let ids: Vec<u64> = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    // No evidence crosses nodes.
    for i in r["incidents"].as_array().unwrap() {
        let node = i["node"].as_str().unwrap();
        for e in i["evidence_refs"].as_array().unwrap() {
            let f = e["file"].as_str().unwrap();
            assert!(
                f.starts_with(&format!("{bundle}/{node}/")),
                "{node}'s incident cites {f}"
            );
        }
    }
    // Different causes: no fleet incident.
    assert_eq!(r["fleet_incidents"], serde_json::json!([]));
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["name"], "web1");
    assert_eq!(nodes[1]["name"], "web2");
    assert_eq!(
        nodes[0]["gateway_errors"].as_u64().unwrap() + nodes[1]["gateway_errors"].as_u64().unwrap(),
        r["totals"]["gateway_errors"].as_u64().unwrap()
    );
    for f in r["files"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        let n = f["node"].as_str().unwrap();
        assert!(p.starts_with(&format!("{bundle}/{n}/")), "{p} in {n}");
    }
    // The text names the node in each headline.
    let text = baton_text(&["report", bundle]);
    assert!(text.contains("[web2] CRASH segfault"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_same_crash_on_two_nodes_at_once_is_a_fleet_incident() {
    let d = scratch("fleet");
    copy_set("lab-segfault", &d.join("b/web-a"));
    copy_set("lab-segfault", &d.join("b/web-b"));
    // One folder leading to the bundle is walked through.
    let r = baton_json(&["report", "--format", "json", d.to_str().unwrap()]);
    let f = r["fleet_incidents"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["nodes"], serde_json::json!(["web-a", "web-b"]));
    assert_eq!(f[0]["first_node"], "web-a");
    assert_eq!(f[0]["cause"], "segfault");
    assert_eq!(f[0]["shared"], "other");
    assert_eq!(f[0]["incident_ids"], serde_json::json!([1, 2]));
    let text = baton_text(&["report", d.to_str().unwrap()]);
    assert!(text.find("fleet #1").unwrap() < text.find("#1 [web-a]").unwrap());
    let html = baton_text(&["report", "--format", "html", d.to_str().unwrap()]);
    assert!(html.contains("Fleet incidents"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn node_names_a_path_and_one_node_stays_local() {
    let r = baton_json(&[
        "report",
        "--format",
        "json",
        "--node",
        "alpha=testdata/sample",
        "--node",
        "beta=testdata/lab-segfault",
    ]);
    assert_eq!(of_node(&r, "beta")[0].0, "segfault");
    assert_eq!(r["nodes"][0]["name"], "alpha");
    assert_eq!(r["nodes"][0]["files"], 6);
    let s = baton_json(&["stats", "--format", "json", "testdata/sample"]);
    assert_eq!(s["nodes"][0]["name"], "local");
    assert!(
        s["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["node"] == "local")
    );
    // One node: incidents carry no node, and there are no fleet incidents.
    let one = baton_json(&["report", "--format", "json", "testdata/sample"]);
    assert!(one["incidents"][0].get("node").is_none());
    assert_eq!(one["fleet_incidents"], serde_json::json!([]));
    // A machine's log folders (access/ and error/) are no bundle.
    let d = scratch("folders");
    std::fs::create_dir_all(d.join("access")).unwrap();
    std::fs::create_dir_all(d.join("error")).unwrap();
    std::fs::copy(
        root().join("testdata/sample/access.log"),
        d.join("access/access.log"),
    )
    .unwrap();
    std::fs::copy(
        root().join("testdata/sample/error.log"),
        d.join("error/error.log"),
    )
    .unwrap();
    let s = baton_json(&["stats", "--format", "json", d.to_str().unwrap()]);
    assert_eq!(s["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(s["nodes"][0]["name"], "local");
    let _ = std::fs::remove_dir_all(&d);
}
