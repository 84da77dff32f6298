//! `baton events` through the binary: `baton.events.v1` as JSON lines, CSV
//! and Parquet, and the DuckDB route of the README.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

const COLUMNS: [&str; 25] = [
    "time",
    "local_time",
    "file",
    "node",
    "line",
    "format",
    "kind",
    "status",
    "method",
    "path",
    "action",
    "client",
    "host",
    "upstream_kind",
    "pid",
    "pool",
    "signal",
    "plugin",
    "call",
    "seconds",
    "ray_id",
    "request_id",
    "incident_id",
    "message",
    "fields",
];

const ACCESS: &str = "testdata/sample/access.log";
const ERROR: &str = "testdata/sample/error.log";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("baton runs")
}

fn baton(args: &[&str]) -> Output {
    baton_in(&root(), args)
}

fn ok(out: &Output) -> &[u8] {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

/// A fresh temporary directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-events-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A JSON object with its keys in the order written.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = m.next_entry()? {
                    v.push(kv);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// JSON lines, each checked to have exactly the columns, in order.
fn rows(stdout: &[u8]) -> Vec<BTreeMap<String, Value>> {
    let text = std::str::from_utf8(stdout).expect("JSON lines are UTF-8");
    text.lines()
        .map(|l| {
            let o: Ordered = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let keys: Vec<&str> = o.0.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, COLUMNS, "{l}");
            o.0.into_iter().collect()
        })
        .collect()
}

fn report(args: &[&str]) -> Value {
    let mut a = vec!["report", "--format", "json"];
    a.extend_from_slice(args);
    serde_json::from_slice(ok(&baton(&a))).unwrap()
}

fn is_gateway(r: &BTreeMap<String, Value>) -> bool {
    r["kind"] == "request" && (r["status"] == 502 || r["status"] == 504)
}

#[test]
fn jsonl_rows_have_the_columns_in_order_sorted_by_time() {
    let rows = rows(ok(&baton(&["events", "--tz", "+01:00", ACCESS, ERROR])));
    assert!(rows.len() > 20, "{}", rows.len());
    // Sorted by time, then file, then line.
    let keys: Vec<(String, String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["time"].as_str().unwrap().to_owned(),
                r["file"].as_str().unwrap().to_owned(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Requests: only 499 and 5xx by default.
    for r in rows.iter().filter(|r| r["kind"] == "request") {
        let s = r["status"].as_u64().unwrap();
        assert!(s == 499 || s >= 500, "{r:?}");
        assert_eq!(r["format"], "nginx-access");
        assert_eq!(r["file"], ACCESS);
    }
    // The 504 (logged at 11:17:40), every column.
    let r = rows
        .iter()
        .find(|r| r["kind"] == "request" && r["status"] == 504)
        .expect("the 504");
    assert_eq!(r["time"], "2026-11-24T11:17:40Z");
    assert_eq!(r["local_time"], "2026-11-24T12:17:40+01:00");
    assert_eq!(r["method"], "GET");
    assert!(r["path"].as_str().unwrap().starts_with('/'));
    assert!(r["seconds"].as_f64().unwrap() > 0.0);
    assert!(r["request_id"].is_string());
    assert!(r["pid"].is_null() && r["pool"].is_null() && r["signal"].is_null());
    assert!(r["message"].as_str().unwrap().contains("\" 504 "));
    let fields = r["fields"].as_object().unwrap();
    assert_eq!(fields["origin_status"], 504);
    assert!(fields["upstream"].is_string());
    // Error-log lines: upstream errors with their kind; the zone given
    // dates them (they carry none).
    let up: Vec<_> = rows
        .iter()
        .filter(|r| r["kind"] == "upstream_error")
        .collect();
    assert!(!up.is_empty());
    for r in &up {
        assert_eq!(r["format"], "nginx-error");
        assert!(r["upstream_kind"].is_string(), "{r:?}");
        assert!(r["local_time"].as_str().unwrap().ends_with("+01:00"));
        assert!(r["fields"]["connection"].is_u64(), "{r:?}");
    }
}

#[test]
fn incident_ids_match_the_report() {
    let rep = report(&[ACCESS, ERROR]);
    let incidents = rep["incidents"].as_array().unwrap();
    assert!(incidents.len() >= 2, "{rep}");
    let rows = rows(ok(&baton(&["events", ACCESS, ERROR])));
    // Gateway errors: exactly the incident's, and the background's.
    let mut per: BTreeMap<Option<u64>, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| is_gateway(r)) {
        *per.entry(r["incident_id"].as_u64()).or_default() += 1;
    }
    for i in incidents {
        let id = i["id"].as_u64();
        assert_eq!(per.get(&id).copied(), i["gateway_errors"].as_u64(), "{i}");
    }
    assert_eq!(
        per.get(&None).copied().unwrap_or(0),
        rep["background"]["gateway_errors"].as_u64().unwrap()
    );
    // Others by time span: inside an incident's span, that incident's id.
    let span = |i: &Value| {
        (
            i["id"].as_u64().unwrap(),
            chrono::DateTime::parse_from_rfc3339(i["start"].as_str().unwrap()).unwrap(),
            chrono::DateTime::parse_from_rfc3339(i["end"].as_str().unwrap()).unwrap(),
        )
    };
    let spans: Vec<_> = incidents.iter().map(span).collect();
    for r in &rows {
        let t = chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap()).unwrap();
        let want = spans
            .iter()
            .find(|(_, s, e)| *s <= t && t <= *e)
            .map(|(id, _, _)| *id);
        assert_eq!(r["incident_id"].as_u64(), want, "{r:?}");
    }
}

#[test]
fn all_adds_every_request() {
    let stats: Value =
        serde_json::from_slice(ok(&baton(&["stats", "--format", "json", ACCESS]))).unwrap();
    let by_status = stats["access"]["status"].as_object().unwrap();
    let total: u64 = by_status.values().map(|v| v.as_u64().unwrap()).sum();
    let failed: u64 = by_status
        .iter()
        .filter(|(s, _)| s.as_str() == "499" || s.as_str() >= "500")
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    let default = rows(ok(&baton(&["events", ACCESS, ERROR])));
    let all = rows(ok(&baton(&["events", "--all", ACCESS, ERROR])));
    let requests = |rows: &[BTreeMap<String, Value>]| {
        rows.iter().filter(|r| r["kind"] == "request").count() as u64
    };
    assert_eq!(requests(&default), failed);
    assert_eq!(requests(&all), total);
    assert!(total > failed);
    // Everything else is the same, incident ids included.
    let rest = |rows: &[BTreeMap<String, Value>]| -> Vec<BTreeMap<String, Value>> {
        rows.iter()
            .filter(|r| {
                r["kind"] != "request" || r["status"].as_u64().is_some_and(|s| s == 499 || s >= 500)
            })
            .cloned()
            .collect()
    };
    assert_eq!(rest(&default), rest(&all));
}

#[test]
fn since_and_until_filter_rows() {
    let all = rows(ok(&baton(&["events", ACCESS, ERROR])));
    let some = rows(ok(&baton(&[
        "events",
        "--since",
        "2026-11-24T11:17:30Z",
        "--until",
        "2026-11-24 11:18:00",
        ACCESS,
        ERROR,
    ])));
    let inside: Vec<_> = all
        .iter()
        .filter(|r| {
            let t = chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap()).unwrap();
            let (since, until) = (1_795_519_050, 1_795_519_080);
            (since..until).contains(&t.timestamp())
        })
        .cloned()
        .collect();
    assert!(!some.is_empty() && some.len() < all.len());
    assert_eq!(some.len(), inside.len());
    for (a, b) in some.iter().zip(&inside) {
        assert_eq!((&a["file"], &a["line"]), (&b["file"], &b["line"]));
    }
}

#[test]
fn fpm_and_kernel_events() {
    let dir = tempdir("fpm-kernel");
    std::fs::write(
        dir.join("php-fpm.log"),
        "[24-Nov-2026 11:17:02] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it\n\
         [24-Nov-2026 11:17:03] WARNING: [pool www] child 31545, script '/var/www/shop/public/slow.php' (request: \"GET /slow.php?s=3\") executing too slow (1.070142 sec), logging\n\
         [24-Nov-2026 11:17:05] WARNING: [pool www] child 31660 exited on signal 11 (SIGSEGV) after 48.610558 seconds from start\n\
         [24-Nov-2026 11:17:06] NOTICE: [pool www] child 31700 started\n\
         [24-Nov-2026 11:17:57] WARNING: [pool www] child 32543, script '/var/www/shop/public/stall.php' (request: \"POST /wp-admin/admin-ajax.php?action=heartbeat\") execution timed out (8.073627 sec), terminating\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("dmesg.log"),
        "[Tue Nov 24 11:18:02 2026] Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0\n\
         [Tue Nov 24 11:18:03 2026] php-fpm8.2[6091]: segfault at 7ffdb37d8fde ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
    )
    .unwrap();
    let rows = rows(ok(&baton_in(
        &dir,
        &[
            "events",
            "--tz",
            "Europe/Berlin",
            "php-fpm.log",
            "dmesg.log",
        ],
    )));
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "fpm_max_children",
            "fpm_slow_request",
            "fpm_child_exit",
            "fpm_execution_timeout",
            "kernel_oom_kill",
            "kernel_segfault"
        ]
    );
    let r = &rows[0];
    assert_eq!(r["time"], "2026-11-24T10:17:02Z");
    assert_eq!(r["local_time"], "2026-11-24T11:17:02+01:00");
    assert_eq!((&r["file"], &r["line"]), (&"php-fpm.log".into(), &1.into()));
    assert_eq!(r["format"], "fpm-log");
    assert_eq!(r["pool"], "www");
    assert_eq!(r["fields"], serde_json::json!({"number": 3}));
    let r = &rows[1];
    assert_eq!(
        (&r["method"], &r["path"]),
        (&"GET".into(), &"/slow.php".into())
    );
    assert_eq!(
        (&r["pid"], &r["seconds"]),
        (&31545.into(), &1.070142.into())
    );
    assert_eq!(r["fields"]["object"], "/var/www/shop/public/slow.php");
    let r = &rows[2];
    assert_eq!(
        (&r["signal"], &r["pid"]),
        (&"SIGSEGV".into(), &31660.into())
    );
    assert_eq!(r["fields"]["number"], 11);
    let r = &rows[3];
    assert_eq!((&r["action"], &r["line"]), (&"heartbeat".into(), &5.into()));
    let r = &rows[4];
    assert_eq!((&r["format"], &r["pid"]), (&"kernel".into(), &32570.into()));
    assert_eq!(r["fields"]["process"], "php-fpm8.2");
    assert_eq!(rows[5]["pid"], 6091);
    assert!(rows.iter().all(|r| r["incident_id"].is_null()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// PHP's stderr, as nginx passes it on and as php-fpm's workers write it:
/// `php_message` rows with their level, never `upstream_error` rows.
#[test]
fn php_messages_are_their_own_rows() {
    let dir = tempdir("php");
    std::fs::write(
        dir.join("error.log"),
        "2026/11/24 11:16:55 [error] 31577#31577: *30 FastCGI sent in stderr: \"PHP message: PHP Warning:  Undefined array key \"missing_key\" in /var/www/shop/public/warn.php on line 3; PHP message: PHP Deprecated:  legacy plugin hook 'wp_head' is deprecated, use 'wp_body_open' in /var/www/shop/public/warn.php on line 4\" while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: \"GET /warn.php HTTP/1.1\", upstream: \"fastcgi://unix:/tmp/lab/php-fpm-www.sock:\", host: \"127.0.0.1:8080\"\n\
         2026/11/24 11:17:00 [error] 31577#31577: *58 connect() to unix:/tmp/lab/php-fpm-www.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: \"GET /slow.php?s=4&n=11 HTTP/1.1\", upstream: \"fastcgi://unix:/tmp/lab/php-fpm-www.sock:\", host: \"127.0.0.1:8080\"\n\
         2026/11/24 11:17:03 [error] 31577#31577: *64 FastCGI sent in stderr: \"PHP message: PHP Notice:  Undefined index: rate in /var/www/shop/public/wp-content/themes/storefront/inc/cart.php on line 12; PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function acme_ship_quote() in /var/www/shop/public/wp-content/plugins/acme-shipping/src/Quote.php:88\n\
         Stack trace:\n\
         #0 {main}\n  thrown in /var/www/shop/public/wp-content/plugins/acme-shipping/src/Quote.php on line 88\" while reading response header from upstream, client: 10.0.0.8, server: shop.example.test, request: \"POST /wp-admin/admin-ajax.php?action=acme_quote HTTP/1.1\", upstream: \"fastcgi://unix:/tmp/lab/php-fpm-www.sock:\", host: \"shop.example.test\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("php-fpm.log"),
        "[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544\n\
         [24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"NOTICE: PHP message: PHP Deprecated:  legacy plugin hook 'wp_head' is deprecated, use 'wp_body_open' in /var/www/shop/public/wp-content/mu-plugins/legacy-hooks.php on line 4\"\n\
         [24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"worker diagnostic: cache miss for key=user:42\"\n\
         [24-Nov-2026 11:17:04] WARNING: [pool www] child 31546 said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes) in /var/www/shop/public/wp-includes/class-wpdb.php on line 2349\"\n",
    )
    .unwrap();
    let rows = rows(ok(&baton_in(&dir, &["events", "error.log", "php-fpm.log"])));
    let kinds: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["fields"]["level"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("php-fpm.log", "fpm_restart", None),
            ("error.log", "php_message", Some("warning")),
            ("php-fpm.log", "php_message", Some("deprecated")),
            ("error.log", "upstream_error", None),
            ("error.log", "php_message", Some("fatal")),
            ("php-fpm.log", "php_message", Some("fatal")),
        ]
    );
    // The nginx entry: the fatal error outranks the notice before it; its
    // file, line and plugin; the request it cut short, joinable like an
    // upstream error's.
    let r = &rows[4];
    assert!(r["upstream_kind"].is_null());
    assert_eq!(r["plugin"], "acme-shipping");
    assert_eq!(
        (&r["path"], &r["action"], &r["client"]),
        (
            &"/wp-admin/admin-ajax.php".into(),
            &"acme_quote".into(),
            &"10.0.0.8".into()
        )
    );
    assert_eq!(r["fields"]["fatal"], true);
    assert_eq!(
        r["fields"]["object"],
        "/var/www/shop/public/wp-content/plugins/acme-shipping/src/Quote.php"
    );
    assert_eq!(r["fields"]["number"], 88);
    assert_eq!(r["fields"]["connection"], 64);
    assert_eq!(r["fields"]["code"], "plugin");
    // warn.php lies outside wp-content: no plugin.
    assert!(rows[1]["plugin"].is_null());
    assert_eq!(rows[1]["fields"]["number"], 3);
    // php-fpm's worker: pool and pid; a mu-plugin's deprecation; core's
    // memory exhaustion has no plugin.
    let r = &rows[2];
    assert_eq!((&r["pool"], &r["pid"]), (&"www".into(), &31545.into()));
    assert_eq!(r["plugin"], "legacy-hooks");
    assert_eq!(r["fields"]["code"], "mu_plugin");
    let r = &rows[5];
    assert!(r["plugin"].is_null());
    assert_eq!(r["fields"]["fatal"], true);
    assert_eq!(r["fields"]["number"], 2349);

    // stats: the handoff failure is the only upstream error; PHP messages
    // from both logs by level.
    let out = baton_in(
        &dir,
        &["stats", "--format", "json", "error.log", "php-fpm.log"],
    );
    let v: Value = serde_json::from_slice(ok(&out)).unwrap();
    assert_eq!(
        v["upstream_errors"],
        serde_json::json!({"connect_eagain": 1})
    );
    assert_eq!(
        v["php_messages"],
        serde_json::json!({"fatal": 2, "warning": 1, "notice": 1, "deprecated": 2})
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JSON value as the CSV writes it.
fn csv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[test]
fn csv_has_a_header_and_the_same_rows_quoted() {
    let dir = tempdir("csv");
    // A line with quotes, commas and invalid UTF-8 in its message.
    let mut access = std::fs::read(root().join(ACCESS)).unwrap();
    access.extend_from_slice(
        b"10.0.0.9 - - [24/Nov/2026:11:18:30 +0000] \"GET /a,b\xffc HTTP/1.1\" 502 1 \"-\" \"x, y\"\n",
    );
    std::fs::write(dir.join("access.log"), &access).unwrap();
    let json = rows(ok(&baton_in(&dir, &["events", "access.log"])));
    let out = baton_in(
        &dir,
        &["events", "--format", "csv", "-o", "out.csv", "access.log"],
    );
    ok(&out);
    let mut r = csv::Reader::from_path(dir.join("out.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, COLUMNS);
    let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), json.len());
    for (rec, row) in records.iter().zip(&json) {
        for (i, c) in COLUMNS.iter().enumerate() {
            if *c == "fields" {
                let f: Value = serde_json::from_str(&rec[i]).unwrap();
                assert_eq!(f, row["fields"]);
            } else {
                assert_eq!(rec[i], csv_text(&row[*c]), "{c}");
            }
        }
    }
    let last = json.last().unwrap();
    assert_eq!(last["path"], "/a,b\\xffc");
    assert!(last["message"].as_str().unwrap().contains("\"x, y\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Copies the log files of `testdata/SET` into `dir` (created).
#[cfg(feature = "parquet")]
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

/// A bundle of three nodes: two lab sets, and `late`, an access log whose
/// 502s run across midnight UTC (two dates).
#[cfg(feature = "parquet")]
fn three_node_bundle(dir: &Path) -> PathBuf {
    let b = dir.join("bundle");
    copy_set("sample", &b.join("web1"));
    copy_set("lab-segfault", &b.join("web2"));
    std::fs::create_dir_all(b.join("late")).unwrap();
    let mut lines = String::new();
    for (i, t) in [
        "24/Nov/2026:23:59:50",
        "24/Nov/2026:23:59:58",
        "25/Nov/2026:00:00:03",
    ]
    .iter()
    .enumerate()
    {
        lines.push_str(&format!(
            "10.1.0.{i} - - [{t} +0000] \"GET /late/{i} HTTP/1.1\" 502 157 \"-\" \"curl/8\"\n"
        ));
    }
    std::fs::write(b.join("late/access.log"), &lines).unwrap();
    std::fs::write(b.join("late/error.log"), "").unwrap();
    b
}

/// `--partition` without the `parquet` feature: exit 2, saying why.
#[cfg(not(feature = "parquet"))]
#[test]
fn partition_without_the_feature_exits_2_and_names_it() {
    let dir = tempdir("no-parquet-partition");
    let out = baton(&[
        "events",
        "--partition",
        "node,date",
        "-o",
        dir.join("parts").to_str().unwrap(),
        ACCESS,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--partition") && err.contains("--features parquet"),
        "{err}"
    );
    assert!(!dir.join("parts").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn partition_needs_a_directory_and_parquet() {
    // Usage errors, before anything is read.
    let out = baton(&["events", "--partition", "node,date", ACCESS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o DIR"));
    let out = baton(&[
        "events",
        "--partition",
        "node",
        "--format",
        "csv",
        "-o",
        "x",
        ACCESS,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = baton(&["events", "--partition", "host", "-o", "x", ACCESS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("node, date"));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_needs_a_file_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed, no terminal to test with");
        return;
    }
    // `script` gives baton a pseudo-terminal as standard output.
    let cmd = format!(
        "{} events --format parquet {}",
        env!("CARGO_BIN_EXE_baton"),
        root().join(ACCESS).display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("give -o FILE"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Issue 18: the inputs of the spill tests: every sample log and a
/// Cloudflare log (both kinds of input whose rows are set aside).
const SPILL_INPUTS: [&str; 7] = [
    ACCESS,
    ERROR,
    "testdata/sample/php-fpm.log",
    "testdata/sample/www-slow.log",
    "testdata/sample/ondemand-slow.log",
    "testdata/sample/kern-dmesg-T.log",
    "testdata/cloudflare/handwritten/http_requests.jsonl",
];

/// `baton ARGS` with the temporary directory `tmp` and, when given, a
/// sorter buffer of `rows` rows (spilling runs past that).
fn baton_buffered(args: &[&str], rows: Option<usize>, tmp: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .env("TMPDIR", tmp)
        .env_remove("BATON_EVENTS_BUFFER_ROWS");
    if let Some(n) = rows {
        c.env("BATON_EVENTS_BUFFER_ROWS", n.to_string());
    }
    c.output().expect("baton runs")
}

/// Issue 18: `events --all` writes every row in order: sorted by time
/// (rows without one last), then input (in the order given), then line.
#[test]
fn all_rows_are_the_rows_sorted_by_time_file_and_line() {
    let mut args = vec!["events", "--all", "--tz", "+01:00", "--year", "2026"];
    args.extend(SPILL_INPUTS);
    let rows = rows(ok(&baton(&args)));
    let requests = rows.iter().filter(|r| r["kind"] == "request").count();
    assert!(requests > 90, "{requests}");
    assert!(rows.iter().any(|r| r["kind"] == "edge_request"));
    let key = |r: &BTreeMap<String, Value>| {
        let t = r["time"].as_str().map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_micros()
        });
        let file = SPILL_INPUTS
            .iter()
            .position(|p| r["file"] == *p)
            .expect("an input's row");
        (t.is_none(), t, file, r["line"].as_u64().unwrap())
    };
    let mut sorted = rows.clone();
    sorted.sort_by_key(key);
    assert_eq!(rows, sorted);
}

/// Issue 18: rows spilled to sorted runs (a buffer of a few rows) and
/// merged back are byte for byte the rows sorted in memory, as JSON lines
/// and CSV, with and without `--since`/`--until`; the runs are gone
/// afterwards.
#[test]
fn spilled_rows_are_byte_for_byte_the_rows_sorted_in_memory() {
    let tmp = tempdir("spill");
    let bounds = [
        "--since",
        "2026-11-24T11:17:00Z",
        "--until",
        "2026-11-24T11:19:00Z",
    ];
    for format in ["jsonl", "csv"] {
        for bounded in [false, true] {
            let mut args = vec!["events", "--all", "--format", format, "--year", "2026"];
            if bounded {
                args.extend(bounds);
            }
            args.extend(SPILL_INPUTS);
            let held = baton_buffered(&args, None, &tmp);
            let held = ok(&held);
            assert!(held.len() > 10_000, "{format}: {}", held.len());
            for rows in [1, 7, 50] {
                let spilled = baton_buffered(&args, Some(rows), &tmp);
                assert!(
                    ok(&spilled) == held,
                    "{format}, bounded {bounded}, buffer of {rows} rows: the output differs"
                );
            }
            let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
            assert!(left.is_empty(), "runs left behind: {left:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Issue 18: a temporary directory that cannot be written is an error
/// (exit 3) that names it and `TMPDIR`, when rows must spill; when they
/// fit in memory it is never touched.
#[test]
fn a_bad_temporary_directory_is_a_clear_error_only_when_rows_spill() {
    let tmp = tempdir("bad-tmp");
    let missing = tmp.join("missing");
    let args = ["events", "--all", ACCESS, ERROR];
    let out = baton_buffered(&args, Some(5), &missing);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(err.contains("TMPDIR"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty(), "no partial output");
    let fits = baton_buffered(&args, None, &missing);
    assert_eq!(ok(&fits), ok(&baton(&args)));
    assert!(!missing.exists());
    let _ = std::fs::remove_dir_all(&tmp);
}

#[cfg(feature = "parquet")]
mod parquet {
    use super::*;
    use baton_frame::polars::prelude::*;

    fn read(path: &Path) -> DataFrame {
        ParquetReader::new(std::fs::File::open(path).unwrap())
            .finish()
            .unwrap()
    }

    #[test]
    fn parquet_round_trips_row_for_row() {
        let dir = tempdir("parquet");
        let json = rows(ok(&baton(&["events", "--all", ACCESS, ERROR])));
        let file = dir.join("events.parquet");
        ok(&baton(&[
            "events",
            "--all",
            "--format",
            "parquet",
            "-o",
            file.to_str().unwrap(),
            ACCESS,
            ERROR,
        ]));
        let df = read(&file);
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(df.height(), json.len());
        assert_eq!(
            df.column("time").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        let time = df.column("time").unwrap().datetime().unwrap().physical();
        for (i, row) in json.iter().enumerate() {
            let t = chrono::DateTime::parse_from_rfc3339(row["time"].as_str().unwrap()).unwrap();
            assert_eq!(time.get(i), Some(t.timestamp_micros()), "row {i}");
            for c in COLUMNS.iter().skip(1) {
                let v = df.column(c).unwrap().get(i).unwrap();
                let got = match v {
                    AnyValue::Null => Value::Null,
                    AnyValue::String(s) if *c == "fields" => serde_json::from_str(s).unwrap(),
                    AnyValue::String(s) => s.into(),
                    AnyValue::Int32(n) => n.into(),
                    AnyValue::Int64(n) => n.into(),
                    AnyValue::Float64(f) => f.into(),
                    other => panic!("{c}: unexpected {other:?}"),
                };
                assert_eq!(got, row[*c], "row {i} column {c}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn parquet_to_a_pipe_is_parquet() {
        let out = baton(&["events", "--format", "parquet", ACCESS]);
        let bytes = ok(&out);
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        // No input events still gives a file with the columns.
        let dir = tempdir("empty");
        std::fs::write(dir.join("empty.log"), b"").unwrap();
        let out = baton_in(
            &dir,
            &[
                "events",
                "--format",
                "parquet",
                "-o",
                "e.parquet",
                "empty.log",
            ],
        );
        ok(&out);
        let df = read(&dir.join("e.parquet"));
        assert_eq!((df.height(), df.width()), (0, COLUMNS.len()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The README's DuckDB queries, run on the Parquet file, give the
    /// report's per-minute gateway errors and top paths.
    #[test]
    fn duckdb_route_matches_the_report() {
        let has_duckdb = Command::new("python3")
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_duckdb {
            assert!(
                std::env::var_os("BATON_REQUIRE_DUCKDB").is_none(),
                "BATON_REQUIRE_DUCKDB is set but python3 cannot import duckdb"
            );
            eprintln!(
                "skipped: the DuckDB route needs python3 with duckdb (pip install duckdb); set BATON_REQUIRE_DUCKDB=1 to make this a failure"
            );
            return;
        }
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        let section = readme
            .split("## Events for DuckDB, pandas and Spark")
            .nth(1)
            .expect("the README's DuckDB section");
        let queries: Vec<&str> = section
            .split("```sql\n")
            .skip(1)
            .map(|s| s.split("```").next().unwrap())
            .take(2)
            .collect();
        assert_eq!(queries.len(), 2, "two sql blocks in the README section");

        let dir = tempdir("duckdb");
        std::fs::create_dir_all(dir.join("events")).unwrap();
        let file = dir.join("events/host1.parquet");
        ok(&baton(&[
            "events",
            "--format",
            "parquet",
            "-o",
            file.to_str().unwrap(),
            ACCESS,
            ERROR,
        ]));
        let script = "import duckdb, json, sys\n\
            out = []\n\
            for q in sys.argv[1:]:\n\
            \x20   r = duckdb.sql(q)\n\
            \x20   cols = r.columns\n\
            \x20   out.append([dict(zip(cols, row)) for row in r.fetchall()])\n\
            print(json.dumps(out))\n";
        let out = Command::new("python3")
            .args(["-c", script, queries[0], queries[1]])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Value = serde_json::from_slice(&out.stdout).unwrap();

        let rep = report(&[ACCESS, ERROR]);
        let timeline: Vec<Value> = rep["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                serde_json::json!({
                    "minute": m["t"], "status_502": m["status_502"], "status_504": m["status_504"],
                })
            })
            .collect();
        let got: Vec<Value> = answers[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                serde_json::json!({
                    "minute": m["minute"], "status_502": m["status_502"], "status_504": m["status_504"],
                })
            })
            .collect();
        assert!(!timeline.is_empty());
        assert_eq!(got, timeline);

        let mut top: Vec<Value> = Vec::new();
        for i in rep["incidents"].as_array().unwrap() {
            for p in i["top_paths"].as_array().unwrap() {
                top.push(serde_json::json!({
                    "incident_id": i["id"], "path": p["path"],
                    "action": p.get("action").cloned().unwrap_or(Value::Null),
                    "count": p["count"],
                }));
            }
        }
        let got: Vec<Value> = answers[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "incident_id": r["incident_id"], "path": r["path"],
                    "action": r["action"], "count": r["count"],
                })
            })
            .collect();
        assert!(!top.is_empty());
        assert_eq!(got, top);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `--partition node,date` writes one Parquet file per node and UTC
    /// date under `node=NAME/date=YYYY-MM-DD/`, and DuckDB reads the tree
    /// as one table holding the rows of `events --format jsonl`.
    #[test]
    fn partitioned_parquet_loads_in_duckdb_as_the_jsonl_rows() {
        let dir = tempdir("partition");
        let bundle = three_node_bundle(&dir);
        let b = bundle.to_str().unwrap();
        let json = rows(ok(&baton(&["events", b])));
        let parts = dir.join("parts");
        let p = parts.to_str().unwrap();
        ok(&baton(&["events", "--partition", "node,date", "-o", p, b]));
        // The directories: one per node and UTC date of `time`, no other.
        let mut want_dirs: Vec<String> = json
            .iter()
            .map(|r| {
                // A row without a time (raw dmesg) is in Hive's null date.
                let date = r["time"]
                    .as_str()
                    .map_or("__HIVE_DEFAULT_PARTITION__".into(), |t| {
                        let t = chrono::DateTime::parse_from_rfc3339(t).unwrap();
                        t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string()
                    });
                format!("node={}/date={date}", r["node"].as_str().unwrap())
            })
            .collect();
        want_dirs.sort();
        want_dirs.dedup();
        let mut got_dirs = Vec::new();
        for n in std::fs::read_dir(&parts).unwrap() {
            let n = n.unwrap().path();
            for d in std::fs::read_dir(&n).unwrap() {
                let d = d.unwrap().path();
                let files: Vec<String> = std::fs::read_dir(&d)
                    .unwrap()
                    .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                assert_eq!(files, ["part-0.parquet"], "{}", d.display());
                got_dirs.push(format!(
                    "{}/{}",
                    n.file_name().unwrap().to_string_lossy(),
                    d.file_name().unwrap().to_string_lossy()
                ));
            }
        }
        got_dirs.sort();
        assert_eq!(got_dirs, want_dirs);
        assert!(got_dirs.contains(&"node=late/date=2026-11-24".to_string()));
        assert!(got_dirs.contains(&"node=late/date=2026-11-25".to_string()));
        assert!(got_dirs.iter().any(|d| d.starts_with("node=web1/")));
        assert!(got_dirs.iter().any(|d| d.starts_with("node=web2/")));
        let untimed = json.iter().filter(|r| r["time"].is_null()).count();

        let has_duckdb = Command::new("python3")
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_duckdb {
            assert!(
                std::env::var_os("BATON_REQUIRE_DUCKDB").is_none(),
                "BATON_REQUIRE_DUCKDB is set but python3 cannot import duckdb"
            );
            eprintln!(
                "skipped (DuckDB part): the Hive-partitioned read needs python3 with duckdb (pip install duckdb); set BATON_REQUIRE_DUCKDB=1 to make this a failure"
            );
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        // Every column as JSON: `time` as microseconds, the partition's
        // `date` as text.
        let script = "import duckdb, json, sys\n\
            q = \"SELECT epoch_us(time) AS time_us, * EXCLUDE (time, date), CAST(date AS VARCHAR) AS date \
            FROM read_parquet('\" + sys.argv[1] + \"/**/*.parquet', hive_partitioning=true)\"\n\
            r = duckdb.sql(q)\n\
            print(json.dumps([dict(zip(r.columns, row)) for row in r.fetchall()]))\n";
        let out = Command::new("python3")
            .args(["-c", script, p])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<BTreeMap<String, Value>> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got.len(), json.len());
        let canon = |mut m: BTreeMap<String, Value>| -> String {
            if let Some(Value::String(f)) = m.get("fields").cloned() {
                m.insert("fields".into(), serde_json::from_str(&f).unwrap());
            }
            serde_json::to_string(&m).unwrap()
        };
        let mut from_duckdb: Vec<String> = Vec::new();
        for mut r in got {
            // The partition's date is the UTC date of the row's time.
            let us = r.remove("time_us").unwrap().as_i64();
            let date = r.remove("date").unwrap();
            match us {
                Some(us) => {
                    let t = chrono::DateTime::from_timestamp_micros(us).unwrap();
                    assert_eq!(date, t.format("%Y-%m-%d").to_string());
                }
                None => assert_eq!(date, Value::Null),
            }
            r.insert("time".into(), us.into());
            from_duckdb.push(canon(r));
        }
        let mut from_jsonl: Vec<String> = json
            .into_iter()
            .map(|mut r| {
                let us = r["time"].as_str().map(|t| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .unwrap()
                        .timestamp_micros()
                });
                r.insert("time".into(), us.into());
                canon(r)
            })
            .collect();
        from_duckdb.sort();
        from_jsonl.sort();
        assert_eq!(from_duckdb, from_jsonl);
        eprintln!(
            "{} rows in {} partitions ({untimed} without a time) read back by DuckDB",
            from_jsonl.len(),
            got_dirs.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    /// Issue 18: Parquet from rows spilled to sorted runs is byte for byte
    /// the Parquet of the rows sorted in memory, as one file and as the
    /// partitions of `--partition node,date`.
    #[test]
    fn spilled_parquet_is_byte_for_byte_the_parquet_held() {
        let dir = tempdir("spill-parquet");
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let bundle = three_node_bundle(&dir);
        let mut inputs: Vec<&str> = SPILL_INPUTS.to_vec();
        inputs.retain(|p| !p.contains("sample"));
        let b = bundle.to_str().unwrap();
        inputs.push(b);
        let one = |name: &str, rows: Option<usize>| -> Vec<u8> {
            let path = dir.join(name);
            let mut args = vec!["events", "--all", "--format", "parquet", "-o"];
            args.push(path.to_str().unwrap());
            args.extend(&inputs);
            ok(&baton_buffered(&args, rows, &tmp));
            std::fs::read(&path).unwrap()
        };
        let held = one("held.parquet", None);
        assert!(held.starts_with(b"PAR1"));
        assert!(
            one("spilled.parquet", Some(3)) == held,
            "the Parquet differs"
        );
        let tree = |name: &str, rows: Option<usize>| -> BTreeMap<String, Vec<u8>> {
            let parts = dir.join(name);
            let mut args = vec!["events", "--all", "--partition", "node,date", "-o"];
            args.push(parts.to_str().unwrap());
            args.extend(&inputs);
            ok(&baton_buffered(&args, rows, &tmp));
            let mut files = BTreeMap::new();
            let mut stack = vec![parts.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        let rel = p.strip_prefix(&parts).unwrap().display().to_string();
                        files.insert(rel, std::fs::read(&p).unwrap());
                    }
                }
            }
            files
        };
        let held = tree("held", None);
        assert!(held.len() >= 4, "{:?}", held.keys());
        let spilled = tree("spilled", Some(2));
        assert_eq!(
            spilled.keys().collect::<Vec<_>>(),
            held.keys().collect::<Vec<_>>()
        );
        for (k, v) in &held {
            assert!(spilled[k] == *v, "{k} differs");
        }
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "runs left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A baton built without the `parquet` feature says so and exits 2.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_exits_2_and_names_it() {
    let dir = tempdir("no-parquet");
    let out = baton(&[
        "events",
        "--format",
        "parquet",
        "-o",
        dir.join("e.parquet").to_str().unwrap(),
        ACCESS,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--features parquet")
            || String::from_utf8_lossy(&out.stderr).contains("feature `parquet`")
    );
}
