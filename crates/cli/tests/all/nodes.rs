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

/// Writes `lines` (one a line) to `dir/name`.
fn write_lines(dir: &Path, name: &str, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(name), text).unwrap();
}

/// Combined access-log lines: a 502 at each of `secs` after 11:17:00 UTC.
fn access_502s(secs: &[u32]) -> Vec<String> {
    secs.iter()
        .map(|s| {
            format!(
                "10.0.0.{s} - - [24/Nov/2026:11:{:02}:{:02} +0000] \"GET /shop/ HTTP/1.1\" 502 157 \"-\" \"curl/8\"",
                17 + s / 60,
                s % 60
            )
        })
        .collect()
}

/// A `journalctl -o json` record of php-fpm on `host`, `s` seconds after
/// 11:17:00 UTC.
fn journal_json(host: &str, s: u64) -> String {
    let us = (1_795_519_020 + s) * 1_000_000;
    format!(
        r#"{{"__REALTIME_TIMESTAMP":"{us}","_HOSTNAME":"{host}","SYSLOG_IDENTIFIER":"php-fpm8.2","_PID":"3399","PRIORITY":"4","MESSAGE":"[WARNING] [pool www] server reached pm.max_children setting (5), consider raising it"}}"#
    )
}

/// An RFC 3164 syslog line (`Nov 24 11:17:SS HOST ident[pid]: msg`).
fn syslog(host: &str, s: u32, ident: &str, msg: &str) -> String {
    format!("Nov 24 11:17:{s:02} {host} {ident}: {msg}")
}

/// `(path's file name, node)` of every file of a stats or report document.
fn file_nodes(doc: &Value) -> Vec<(String, String)> {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let name = Path::new(p).file_name().unwrap().to_string_lossy();
            (name.into_owned(), f["node"].as_str().unwrap().to_string())
        })
        .collect()
}

fn node_names(doc: &Value) -> Vec<String> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_journals_hostname_names_the_machine_and_its_hostless_logs_with_it() {
    let d = scratch("hostname-one");
    write_lines(&d, "access.log", &access_502s(&[2, 5, 9]));
    let fpm: Vec<String> = (0..4u64).map(|s| journal_json("web7", s * 3)).collect();
    write_lines(&d, "fpm-journal.json", &fpm);
    let dir = d.to_str().unwrap();
    let s = baton_json(&["stats", "--format", "json", dir]);
    let formats: Vec<&str> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["nginx-access", "journal"]);
    // The access log names no host: it is the one machine's the journal names.
    assert_eq!(
        file_nodes(&s),
        [
            ("access.log".to_string(), "web7".to_string()),
            ("fpm-journal.json".to_string(), "web7".to_string())
        ]
    );
    assert_eq!(node_names(&s), ["web7"]);
    assert_eq!(s["nodes"][0]["files"], 2);
    assert_eq!(s["nodes"][0]["gateway_errors"], 3);
    // --node still wins over the record.
    let named = baton_json(&[
        "stats",
        "--format",
        "json",
        "--node",
        &format!("box={dir}"),
        dir,
    ]);
    assert_eq!(node_names(&named), ["box"]);
}

#[test]
fn syslog_hosts_name_their_files_and_a_shared_file_goes_to_its_main_host() {
    let d = scratch("hostname-many");
    write_lines(&d, "access.log", &access_502s(&[2, 5, 9]));
    let fpm1: Vec<String> = (0..3u64).map(|s| journal_json("web1", s)).collect();
    write_lines(&d, "web1-journal.json", &fpm1);
    let busy =
        "[WARNING] [pool www] server reached pm.max_children setting (5), consider raising it";
    write_lines(
        &d,
        "web2-syslog.log",
        &[
            syslog("web2", 1, "php-fpm8.2[811]", busy),
            syslog("web2", 4, "php-fpm8.2[811]", busy),
        ],
    );
    // `journalctl -k -o short` of web3: a kernel log.
    write_lines(
        &d,
        "web3-kern.log",
        &[
            syslog(
                "web3",
                3,
                "kernel",
                "php-fpm8.2[4242]: segfault at 0 ip 00007f sp 00007ffd error 4 in libc.so.6",
            ),
            syslog(
                "web3",
                6,
                "kernel",
                "php-fpm8.2[4243]: segfault at 0 ip 00007f sp 00007ffd error 4 in libc.so.6",
            ),
        ],
    );
    // A central syslog file: mostly web4, one line of web5, and lines
    // written before the machine had its name.
    let mut central = vec![
        syslog("localhost", 0, "php-fpm8.2[10]", busy),
        syslog("localhost", 0, "php-fpm8.2[10]", busy),
        syslog("localhost", 0, "php-fpm8.2[10]", busy),
        syslog("localhost", 0, "php-fpm8.2[10]", busy),
    ];
    for s in [1, 2, 3] {
        central.push(syslog("web4", s, "php-fpm8.2[12]", busy));
    }
    central.push(syslog("web5", 8, "php-fpm8.2[13]", busy));
    write_lines(&d, "central.log", &central);
    let dir = d.to_str().unwrap();
    let s = baton_json(&["stats", "--format", "json", dir]);
    let mut got = file_nodes(&s);
    got.sort();
    let want: Vec<(String, String)> = [
        ("access.log", "local"),
        ("central.log", "web4"),
        ("web1-journal.json", "web1"),
        ("web2-syslog.log", "web2"),
        ("web3-kern.log", "web3"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want, "{s:#}");
    assert_eq!(node_names(&s), ["local", "web1", "web2", "web3", "web4"]);
    // The report says both choices it had to make.
    let r = baton_json(&["report", "--format", "json", dir]);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w
            .contains("central.log: its records name several hosts (web4 3, web5 1)")
            && w.contains("read as node web4")),
        "{warnings:#?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("name no host (")
            && w.contains("access.log")
            && w.contains("--node")),
        "{warnings:#?}"
    );
    // Named, a file is the node it is named.
    let named = baton_json(&[
        "stats",
        "--format",
        "json",
        "--node",
        &format!("web1={dir}/access.log"),
        dir,
    ]);
    assert!(file_nodes(&named).contains(&("access.log".to_string(), "web1".to_string())));
}

#[test]
fn a_path_given_plain_and_with_node_is_read_once_as_that_node() {
    let alone = baton_json(&["report", "--format", "json", "testdata/sample"]);
    let n_files = alone["files"].as_array().unwrap().len();
    // The same folder as a plain argument and with --node (another
    // spelling of it, in either order), or the same file twice.
    for args in [
        &["testdata/sample", "--node", "alpha=testdata/sample"][..],
        &["--node", "alpha=./testdata/sample/", "testdata/sample"][..],
        &[
            "testdata/sample",
            "--node",
            "alpha=testdata/sample",
            "testdata/sample/access.log",
        ][..],
    ] {
        let mut a = vec!["report", "--format", "json"];
        a.extend_from_slice(args);
        let r = baton_json(&a);
        assert_eq!(r["files"].as_array().unwrap().len(), n_files, "{args:?}");
        assert_eq!(r["totals"], alone["totals"], "{args:?}");
        assert_eq!(incidents(&r), incidents(&alone), "{args:?}");
        // The explicit --node wins over the plain argument's `local`.
        assert_eq!(node_names(&r), ["alpha"], "{args:?}");
        assert!(
            r["files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["node"] == "alpha")
        );
        assert_eq!(r["nodes"][0]["files"].as_u64().unwrap() as usize, n_files);
    }
    // A plain file given twice is read once too.
    let twice = baton_json(&[
        "stats",
        "--format",
        "json",
        "testdata/sample/access.log",
        "testdata/sample/access.log",
    ]);
    assert_eq!(twice["files"].as_array().unwrap().len(), 1);
    // In a bundle, --node on one node's folder names it and takes nothing
    // from the others.
    let d = scratch("node-in-bundle");
    copy_set("sample", &d.join("web1"));
    copy_set("lab-segfault", &d.join("web2"));
    let bundle = d.to_str().unwrap();
    let plain = baton_json(&["report", "--format", "json", bundle]);
    let named = baton_json(&[
        "report",
        "--format",
        "json",
        bundle,
        "--node",
        &format!("front={bundle}/web1"),
    ]);
    assert_eq!(node_names(&named), ["front", "web2"]);
    assert_eq!(named["totals"], plain["totals"]);
    assert_eq!(of_node(&named, "front"), of_node(&plain, "web1"));
    assert_eq!(of_node(&named, "web2"), of_node(&plain, "web2"));
    let _ = std::fs::remove_dir_all(&d);
}
