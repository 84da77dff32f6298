//! Generated fleets (`baton-gen --nodes N`) against their truth: each
//! node's incidents are those of a run over its folder alone and those
//! injected; the shared dependency and the rolling deploy come out as
//! fleet incidents with the right nodes, first node and shared kind; an
//! incident of one node alone is no fleet incident; `baton merge` of the
//! per-node reports is the bundle run's report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

fn baton(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
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
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn secs(v: &Value) -> i64 {
    baton_logparse::time::parse_iso8601(v.as_str().unwrap().as_bytes())
        .unwrap()
        .unix_secs()
}

/// `baton-gen --nodes N --seed SEED` into `DIR/bundle`, the truths moved
/// out of it (they are no logs): `(bundle, fleet truth, node truths)`.
fn generate(dir: &Path, nodes: usize, seed: u64) -> (PathBuf, Value, Vec<Value>) {
    let bundle = dir.join("bundle");
    let out = Command::new(crate::accuracy::generator())
        .args(["--nodes", &nodes.to_string(), "--seed", &seed.to_string()])
        .args(["--duration", "4h", "--rate", "2", "--out"])
        .arg(&bundle)
        .output()
        .expect("baton-gen runs");
    assert!(
        out.status.success(),
        "baton-gen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fleet = read_json(&bundle.join("truth.json"));
    std::fs::remove_file(bundle.join("truth.json")).unwrap();
    let mut truths = Vec::new();
    for k in 1..=nodes {
        let t = bundle.join(format!("web{k}/truth.json"));
        truths.push(read_json(&t));
        std::fs::remove_file(t).unwrap();
    }
    (bundle, fleet, truths)
}

/// `(cause, start, end, gateway_errors)` of each incident.
fn brief(incidents: &[&Value]) -> Vec<(String, String, String, u64)> {
    incidents
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

fn of_node<'a>(r: &'a Value, node: &str) -> Vec<&'a Value> {
    r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["node"] == node)
        .collect()
}

/// What is wrong with a node's incidents beside its truth (one incident
/// per injected one, same cause, verdict, times and gateway errors).
fn against_truth(what: &str, found: &[&Value], truth: &Value) -> Vec<String> {
    let want = truth["incidents"].as_array().unwrap();
    let mut bad = Vec::new();
    if found.len() != want.len() {
        bad.push(format!(
            "{what}: {} incidents found ({:?}), {} injected ({:?})",
            found.len(),
            found.iter().map(|i| &i["cause"]).collect::<Vec<_>>(),
            want.len(),
            want.iter().map(|i| &i["cause"]).collect::<Vec<_>>()
        ));
    }
    for t in want {
        let (ts, te) = (secs(&t["start"]), secs(&t["end"]));
        let Some(i) = found
            .iter()
            .find(|i| secs(&i["start"]) <= te && ts <= secs(&i["end"]))
        else {
            bad.push(format!("{what}: {} at {} not found", t["kind"], t["start"]));
            continue;
        };
        for k in ["cause", "verdict", "gateway_errors"] {
            if i[k] != t[k] {
                bad.push(format!(
                    "{what}: {} at {}: {k} {} (injected {})",
                    t["kind"], t["start"], i[k], t[k]
                ));
            }
        }
        // The plugin the slow traces blocked in, and in what.
        if let Some(c) = t["culprit"].as_object() {
            let got = &i["culprits"][0];
            if got["name"] != c["name"] || (!c["call"].is_null() && got["call"] != c["call"]) {
                bad.push(format!(
                    "{what}: {} at {}: culprit {} {} (injected {} {})",
                    t["kind"], t["start"], got["name"], got["call"], c["name"], c["call"]
                ));
            }
        }
        if (secs(&i["start"]), secs(&i["end"])) != (ts, te) {
            bad.push(format!(
                "{what}: {} at {}: from {} to {} (injected to {})",
                t["kind"], t["start"], i["start"], i["end"], t["end"]
            ));
        }
    }
    bad
}

/// One generated fleet: what is wrong with baton's reading of it.
fn check_fleet(nodes: usize, seed: u64) -> Vec<String> {
    let d = std::env::temp_dir().join(format!("baton-fleet-{}-{nodes}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let (bundle, truth, truths) = generate(&d, nodes, seed);
    let b = bundle.to_str().unwrap();
    let at = format!("seed {seed} ({nodes} nodes)");
    let mut bad = Vec::new();
    let fleet = json(&baton(&["report", "--format", "json", b]));
    let names: Vec<String> = (1..=nodes).map(|k| format!("web{k}")).collect();
    let listed: Vec<&str> = fleet["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names, "{at}: nodes");
    // Each node alone (named, so that its report merges), against the
    // bundle run's incidents of that node and against the node's truth.
    let mut parts = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let f = d.join(format!("{name}.json"));
        let out = baton(&[
            "report",
            "--format",
            "json",
            "--node",
            &format!("{name}={b}/{name}"),
        ]);
        let alone = json(&out);
        std::fs::write(&f, &out.stdout).unwrap();
        parts.push(f.to_str().unwrap().to_string());
        let alone_inc: Vec<&Value> = alone["incidents"].as_array().unwrap().iter().collect();
        if brief(&of_node(&fleet, name)) != brief(&alone_inc) {
            bad.push(format!(
                "{at}: {name}: the bundle run's incidents {:?} differ from its own run's {:?}",
                brief(&of_node(&fleet, name)),
                brief(&alone_inc)
            ));
        }
        bad.extend(against_truth(
            &format!("{at}: {name}"),
            &of_node(&fleet, name),
            &truths[k],
        ));
    }
    // Fleet incidents: the shared dependency and the deploy, each with its
    // nodes in the order they failed.
    let want = truth["fleet_incidents"].as_array().unwrap();
    let got = fleet["fleet_incidents"].as_array().unwrap();
    let ids_of = |f: &Value| -> Vec<u64> {
        f["incident_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    if got.len() != want.len() {
        bad.push(format!(
            "{at}: {} fleet incidents ({:?}), {} injected ({:?})",
            got.len(),
            got.iter().map(|f| &f["shared"]).collect::<Vec<_>>(),
            want.len(),
            want.iter().map(|f| &f["shared"]).collect::<Vec<_>>()
        ));
    }
    let incidents = fleet["incidents"].as_array().unwrap();
    let by_id = |id: u64| incidents.iter().find(|i| i["id"] == id).unwrap();
    for t in want {
        let what = format!("{at}: fleet {} at {}", t["shared"], t["start"]);
        let Some(f) = got.iter().find(|f| f["shared"] == t["shared"]) else {
            bad.push(format!("{what}: not found"));
            continue;
        };
        for k in ["nodes", "first_node", "cause", "verdict", "start"] {
            if f[k] != t[k] && !(k == "start" && secs(&f[k]) == secs(&t[k])) {
                bad.push(format!("{what}: {k} {} (injected {})", f[k], t[k]));
            }
        }
        // Its incidents are those nodes' incidents of that time.
        let mut members: Vec<(String, String)> = ids_of(f)
            .into_iter()
            .map(|id| {
                let i = by_id(id);
                (
                    i["node"].as_str().unwrap().to_string(),
                    i["start"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut injected: Vec<(String, String)> = t["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["node"].as_str().unwrap().to_string(),
                    i["start"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        members.sort();
        injected.sort();
        let norm = |v: &[(String, String)]| -> Vec<(String, i64)> {
            v.iter()
                .map(|(n, s)| (n.clone(), secs(&Value::from(s.as_str()))))
                .collect()
        };
        if norm(&members) != norm(&injected) {
            bad.push(format!(
                "{what}: incidents {members:?} (injected {injected:?})"
            ));
        }
    }
    // An incident of one node alone is in no fleet incident.
    let in_fleet: Vec<u64> = got.iter().flat_map(ids_of).collect();
    for t in truth["single_node_incidents"].as_array().unwrap() {
        let (ts, te) = (secs(&t["start"]), secs(&t["end"]));
        let hit = incidents
            .iter()
            .find(|i| i["node"] == t["node"] && secs(&i["start"]) <= te && ts <= secs(&i["end"]));
        match hit {
            Some(i) if in_fleet.contains(&i["id"].as_u64().unwrap()) => bad.push(format!(
                "{at}: {} of {} alone at {} is in a fleet incident",
                t["kind"], t["node"], t["start"]
            )),
            Some(_) => {}
            None => bad.push(format!(
                "{at}: {} of {} alone at {}: not found",
                t["kind"], t["node"], t["start"]
            )),
        }
    }
    // The per-node reports merged are the bundle run's report.
    let mut args = vec!["merge", "--format", "json"];
    args.extend(parts.iter().map(String::as_str));
    let merged = json(&baton(&args));
    if merged != fleet {
        let keys: Vec<&String> = fleet
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| merged.get(k.as_str()) != Some(v))
            .map(|(k, _)| k)
            .collect();
        bad.push(format!(
            "{at}: baton merge differs from the bundle run in {keys:?}"
        ));
    }
    let _ = std::fs::remove_dir_all(&d);
    bad
}

#[test]
fn generated_fleets_give_their_fleet_incidents_and_merge() {
    let t0 = Instant::now();
    // (nodes, seed): the shared dependency is the database in most and
    // the external API in seed 5; seed 15 once had a node whose isolated
    // background errors fell within 90 s of one another. Swept over seeds
    // 1-24 with 3, 4, 7 and 8 nodes when written.
    let cases = [(3, 1), (3, 2), (3, 5), (3, 7), (4, 3), (4, 15)];
    let bad: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|&(n, seed)| s.spawn(move || check_fleet(n, seed)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("runs"))
            .collect()
    });
    eprintln!(
        "{} generated fleets checked in {:.1} s",
        cases.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// `scripts/fleet-dask.py`: one `baton report` per node as Dask tasks on a
/// local cluster, then `baton merge`: the bundle run's report. Skipped
/// (with a message) where `dask.distributed` cannot be imported, unless
/// `BATON_REQUIRE_DASK` is set.
#[test]
fn the_dask_route_gives_the_bundle_runs_report() {
    let has = Command::new("python3")
        .args(["-c", "import dask.distributed"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            std::env::var_os("BATON_REQUIRE_DASK").is_none(),
            "BATON_REQUIRE_DASK is set but python3 cannot import dask.distributed"
        );
        eprintln!(
            "SKIPPED the_dask_route_gives_the_bundle_runs_report: python3 cannot import dask.distributed (pip install dask distributed)"
        );
        return;
    }
    let d = std::env::temp_dir().join(format!("baton-fleet-dask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let (bundle, _, _) = generate(&d, 3, 2);
    let b = bundle.to_str().unwrap();
    let fleet = json(&baton(&["report", "--format", "json", b]));
    let merged = d.join("merged.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fleet-dask.py");
    let t0 = Instant::now();
    let out = Command::new("python3")
        .arg(&script)
        .arg(b)
        .args([
            "--workers",
            "2",
            "--baton",
            env!("CARGO_BIN_EXE_baton"),
            "-o",
        ])
        .arg(&merged)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "fleet-dask.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "fleet-dask.py over 3 nodes: {:.1} s ({})",
        t0.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    assert_eq!(read_json(&merged), fleet);
    assert_eq!(fleet["fleet_incidents"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&d);
}
