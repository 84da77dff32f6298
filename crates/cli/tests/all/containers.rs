//! Issue 19: logs from containers. The same set gives the same `stats`
//! counts and `report` incidents plain and wrapped in each container
//! envelope, and with access and error lines interleaved in one
//! container log.

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

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-containers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The envelopes, as the drivers write them. The envelope's time is far
/// from the lines' own (it does not decide their zone here: the access
/// log's offsets do, as for the plain set).
#[derive(Debug, Clone, Copy)]
enum Env {
    DockerJson,
    DockerT,
    Cri,
    Compose,
    ComposeT,
}

const ENVS: [Env; 5] = [
    Env::DockerJson,
    Env::DockerT,
    Env::Cri,
    Env::Compose,
    Env::ComposeT,
];
const TIME: &str = "2000-01-01T00:00:00.123456789Z";

/// JSON-escapes a log message as Docker's driver does (`"`, `\`, control
/// bytes; other bytes as they are: the sample's error log holds raw
/// request bytes, which Go would turn into U+FFFD).
fn json_escape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &c in b {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            c => out.push(c),
        }
    }
    out
}

/// Wraps `lines`; lines longer than 120 bytes are cut in two partials where
/// the envelope has them.
fn wrap(env: Env, lines: &[&[u8]], stream: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        let pieces: Vec<&[u8]> = if l.len() > 120 {
            vec![&l[..60], &l[60..]]
        } else {
            vec![l]
        };
        match env {
            Env::DockerJson => {
                for (i, p) in pieces.iter().enumerate() {
                    out.extend_from_slice(b"{\"log\":\"");
                    out.extend_from_slice(&json_escape(p));
                    if i + 1 == pieces.len() {
                        out.extend_from_slice(b"\\n");
                    }
                    out.extend_from_slice(
                        format!("\",\"stream\":\"{stream}\",\"time\":\"{TIME}\"}}\n").as_bytes(),
                    );
                }
            }
            Env::Cri => {
                for (i, p) in pieces.iter().enumerate() {
                    let tag = if i + 1 == pieces.len() { "F" } else { "P" };
                    out.extend_from_slice(format!("{TIME} {stream} {tag} ").as_bytes());
                    out.extend_from_slice(p);
                    out.push(b'\n');
                }
            }
            Env::DockerT => {
                out.extend_from_slice(format!("{TIME} ").as_bytes());
                out.extend_from_slice(l);
                out.push(b'\n');
            }
            Env::Compose => {
                out.extend_from_slice(b"nginx-1  | ");
                out.extend_from_slice(l);
                out.push(b'\n');
            }
            Env::ComposeT => {
                out.extend_from_slice(format!("\x1b[36mnginx-1  |\x1b[0m {TIME} ").as_bytes());
                out.extend_from_slice(l);
                out.push(b'\n');
            }
        }
    }
    out
}

/// The lines of a file (without their `\n`).
fn lines(text: &[u8]) -> Vec<&[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    text.split(|&b| b == b'\n').collect()
}

const SET: [(&str, &str); 3] = [
    ("access.log", "stdout"),
    ("error.log", "stderr"),
    ("php-fpm.log", "stderr"),
];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(root().join("testdata/sample").join(name)).unwrap()
}

/// What must not change: every count but the per-file entries, and the
/// incidents without their evidence references (line numbers move when
/// lines are interleaved).
fn stats_counts(dir: &Path) -> Value {
    let mut v = baton_json(&["stats", "--format", "json", dir.to_str().unwrap()]);
    v = without_dir(v, dir);
    let o = v.as_object_mut().unwrap();
    o.remove("files");
    o.remove("tz_source");
    // Files per node: one nginx log here where the plain set has two.
    if let Some(nodes) = o.get_mut("nodes").and_then(Value::as_array_mut) {
        for n in nodes {
            if let Some(n) = n.as_object_mut() {
                n.remove("files");
            }
        }
    }
    v
}

/// `v` with the set's directory and the nginx log's name taken out of
/// every string (the mixed set has one nginx log where the plain set has
/// two).
fn without_dir(v: Value, dir: &Path) -> Value {
    let text = serde_json::to_string(&v).unwrap();
    let text = text
        .replace(dir.to_str().unwrap(), "DIR")
        .replace("DIR/nginx-json.log", "DIR/NGINX")
        .replace("DIR/access.log", "DIR/NGINX")
        .replace("DIR/error.log", "DIR/NGINX");
    serde_json::from_str(&text).unwrap()
}

fn incidents(dir: &Path) -> Value {
    let v = baton_json(&["report", "--format", "json", dir.to_str().unwrap()]);
    let mut inc = without_dir(v["incidents"].clone(), dir);
    for i in inc.as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("evidence_refs");
    }
    assert!(
        !inc.as_array().unwrap().is_empty(),
        "the sample has incidents"
    );
    inc
}

#[test]
fn same_answers_plain_and_in_every_envelope() {
    let plain = tempdir("plain");
    for (name, _) in SET {
        std::fs::write(plain.join(name), read(name)).unwrap();
    }
    let want_stats = stats_counts(&plain);
    let want_incidents = incidents(&plain);
    for env in ENVS {
        let dir = tempdir(&format!("{env:?}"));
        for (name, stream) in SET {
            let text = read(name);
            std::fs::write(dir.join(name), wrap(env, &lines(&text), stream)).unwrap();
        }
        let stats = baton_json(&["stats", "--format", "json", dir.to_str().unwrap()]);
        for f in stats["files"].as_array().unwrap() {
            assert!(f["envelope"]["kind"].is_string(), "{env:?}: {f}");
            assert_eq!(f["skipped"], 0, "{env:?}: {f}");
        }
        assert_eq!(stats_counts(&dir), want_stats, "{env:?}");
        assert_eq!(incidents(&dir), want_incidents, "{env:?}");
    }
}

#[test]
fn same_answers_with_access_and_error_lines_in_one_container_log() {
    let plain = tempdir("plain-mixed");
    for (name, _) in SET {
        std::fs::write(plain.join(name), read(name)).unwrap();
    }
    let want_stats = stats_counts(&plain);
    let want_incidents = incidents(&plain);
    for env in [Env::DockerJson, Env::Cri] {
        let dir = tempdir(&format!("mixed-{env:?}"));
        // nginx's container: access lines on stdout, error lines on stderr,
        // interleaved as they were written.
        let (access, error) = (read("access.log"), read("error.log"));
        let (access, error) = (lines(&access), lines(&error));
        // nginx writes an error entry (FastCGI stderr continuation lines
        // and all) in one write: entries interleave, not their lines.
        let mut entries: Vec<Vec<&[u8]>> = Vec::new();
        for l in &error {
            match entries.last_mut() {
                Some(e) if !l.starts_with(b"2026/") => e.push(l),
                _ => entries.push(vec![l]),
            }
        }
        let (mut a, mut e) = (access.iter().peekable(), entries.iter().peekable());
        let mut out = Vec::new();
        while a.peek().is_some() || e.peek().is_some() {
            if let Some(l) = a.next() {
                out.extend_from_slice(&wrap(env, &[l], "stdout"));
            }
            if let Some(entry) = e.next() {
                out.extend_from_slice(&wrap(env, entry, "stderr"));
            }
        }
        std::fs::write(dir.join("nginx-json.log"), out).unwrap();
        std::fs::write(
            dir.join("php-fpm.log"),
            wrap(env, &lines(&read("php-fpm.log")), "stderr"),
        )
        .unwrap();
        let stats = baton_json(&["stats", "--format", "json", dir.to_str().unwrap()]);
        let nginx = stats["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with("nginx-json.log"))
            .unwrap()
            .clone();
        assert_eq!(
            nginx["formats"],
            serde_json::json!({
                "nginx-access": access.len(),
                "nginx-error": error.len(),
            }),
            "{env:?}"
        );
        assert_eq!(nginx["skipped"], 0, "{env:?}");
        assert_eq!(stats_counts(&dir), want_stats, "{env:?}");
        assert_eq!(incidents(&dir), want_incidents, "{env:?}");
    }
}

/// The issue's pasted lines give their events.
#[test]
fn pasted_lines_give_their_events() {
    let dir = tempdir("pasted");
    std::fs::write(
        dir.join("docker-t.log"),
        "2017-05-10T06:50:00.434167704Z 2017/05/10 06:50:00 [error] 23#23: *423240 connect() to unix:/var/run/php-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 172.17.0.1, server: localhost, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/var/run/php-fpm.sock:\", host: \"localhost\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("cri.log"),
        "2023-11-06T21:09:49.65381919Z stderr F [06-Nov-2023 21:09:49] WARNING: [pool www] child 132 exited on signal 9 (SIGKILL) after 1017.285544 seconds from start\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.log"),
        "server_1  | 128.14.209.162 - - [04/Jun/2020:10:11:12 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"Mozilla/5.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("syslog"),
        "Nov 24 11:17:00 vm nginx[123]: 2026/11/24 11:17:00 [error] 23#23: *1 connect() to unix:/run/php/php-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php-fpm.sock:\", host: \"a\"\nNov 24 11:21:49 vm php-fpm:  [WARNING] fpm_children_bury(), line 252: [pool www] child 14226 exited on signal 15 (SIGTERM) after 7189.199345 seconds from start\n",
    )
    .unwrap();
    let v = baton_json(&[
        "stats",
        "--format",
        "json",
        "--year",
        "2026",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        v["upstream_errors"],
        serde_json::json!({"connect_refused": 1, "connect_eagain": 1})
    );
    assert_eq!(
        v["fpm"]["child_signals"],
        serde_json::json!({"SIGKILL": 1, "SIGTERM": 1})
    );
    assert_eq!(v["access"]["status"], serde_json::json!({"502": 1}));
    let formats: Vec<(String, Value)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p[p.rfind('/').unwrap() + 1..].to_string(),
                f["format"].clone(),
            )
        })
        .collect();
    assert_eq!(
        formats,
        [
            ("compose.log".to_string(), Value::from("nginx-access")),
            ("cri.log".to_string(), Value::from("fpm-log")),
            ("docker-t.log".to_string(), Value::from("nginx-error")),
            ("syslog".to_string(), Value::from("journal")),
        ]
    );
    assert_eq!(v["tz_source"], "container envelope times");
}

/// The captures in testdata/containers (see its PROVENANCE.md).
#[test]
fn captures_are_unwrapped_and_read_whole() {
    let v = baton_json(&["stats", "--format", "json", "testdata/containers"]);
    let files: Vec<(String, String, String, u64, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(".log"))
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p[p.rfind('/').unwrap() + 1..].to_string(),
                f["format"].as_str().unwrap().to_string(),
                f["envelope"]["kind"].as_str().unwrap_or("none").to_string(),
                f["skipped"].as_u64().unwrap(),
                f["container"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    // The compose log holds two services: each is read as its container's
    // log (an access line of `server_1`, an error entry of `nginx_1`).
    let want = [
        ("compose-t.log", "nginx-error", "compose", 0, "nginx-1"),
        ("compose.log", "nginx-access", "compose", 0, "server_1"),
        ("compose.log", "nginx-error", "compose", 0, "nginx_1"),
        ("cri.log", "fpm-log", "cri", 0, "-"),
        ("docker-json.log", "nginx-access", "docker-json", 0, "-"),
        ("docker-t.log", "nginx-error", "timestamps", 0, "-"),
    ];
    let want: Vec<(String, String, String, u64, String)> = want
        .iter()
        .map(|(a, b, c, d, e)| {
            (
                a.to_string(),
                b.to_string(),
                c.to_string(),
                *d,
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(files, want);
    assert_eq!(
        v["upstream_errors"],
        serde_json::json!({"connect_refused": 1, "connect_eagain": 2, "timed_out": 1})
    );
    assert_eq!(v["access"]["status"], serde_json::json!({"502": 2}));
    assert_eq!(v["fpm"]["child_signals"], serde_json::json!({"SIGKILL": 1}));
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// Thirds of `lines`, oldest first.
fn thirds<'a>(lines: &'a [&'a [u8]]) -> [&'a [&'a [u8]]; 3] {
    let n = lines.len();
    [
        &lines[..n / 3],
        &lines[n / 3..2 * n / 3],
        &lines[2 * n / 3..],
    ]
}

/// Docker's and the kubelet's directories as they are on a host: each
/// file names its container (`config.v2.json`'s `Name`, else the short
/// ID; `NAMESPACE/POD/CONTAINER` from a pod log's path), rotated members
/// (`-json.log.1`, `-json.log.2.gz`, the kubelet's `0.log.STAMP.gz`) are
/// read as one log, Docker's own files are left out, and the answers are
/// the plain set's.
#[test]
fn container_logs_where_the_runtimes_keep_them() {
    let plain = tempdir("plain-paths");
    for (name, _) in SET {
        std::fs::write(plain.join(name), read(name)).unwrap();
    }
    let want_stats = stats_counts(&plain);
    let want_incidents = incidents(&plain);

    let root = tempdir("paths");
    let id1 = "4f1d2c3b".repeat(8);
    let id2 = "a0b1c2d3".repeat(8);
    let c1 = root.join("docker/containers").join(&id1);
    let c2 = root.join("docker/containers").join(&id2);
    std::fs::create_dir_all(&c1).unwrap();
    std::fs::create_dir_all(&c2).unwrap();
    let access = read("access.log");
    let access = lines(&access);
    let [old, mid, new] = thirds(&access);
    let log1 = |suffix: &str| c1.join(format!("{id1}-json.log{suffix}"));
    std::fs::write(log1(".2.gz"), gzip(&wrap(Env::DockerJson, old, "stdout"))).unwrap();
    std::fs::write(log1(".1"), wrap(Env::DockerJson, mid, "stdout")).unwrap();
    std::fs::write(log1(""), wrap(Env::DockerJson, new, "stdout")).unwrap();
    std::fs::write(
        c1.join("config.v2.json"),
        br#"{"StreamConfig":{},"State":{"Running":true},"ID":"x","Name":"/shop-nginx-1","Driver":"overlay2"}"#,
    )
    .unwrap();
    std::fs::write(
        c1.join("hostconfig.json"),
        b"{\"LogConfig\":{\"Type\":\"json-file\"}}",
    )
    .unwrap();
    std::fs::write(c1.join("hostname"), b"4f1d2c3b4f1d\n").unwrap();
    std::fs::write(c1.join("resolv.conf"), b"nameserver 127.0.0.11\n").unwrap();
    // No config.v2.json: the short ID names it.
    let error = read("error.log");
    std::fs::write(
        c2.join(format!("{id2}-json.log")),
        wrap(Env::DockerJson, &lines(&error), "stderr"),
    )
    .unwrap();
    let pod = root
        .join("pods/shop_wordpress-5d8f9c7b6-x2x9k_0f6c3a1e-5b2d-4c1e-9a7b-2d3e4f5a6b7c/php-fpm");
    std::fs::create_dir_all(&pod).unwrap();
    let fpm = read("php-fpm.log");
    let fpm = lines(&fpm);
    let (a, b) = fpm.split_at(fpm.len() / 2);
    std::fs::write(
        pod.join("0.log.20261124-111800.gz"),
        gzip(&wrap(Env::Cri, a, "stderr")),
    )
    .unwrap();
    std::fs::write(pod.join("0.log"), wrap(Env::Cri, b, "stderr")).unwrap();

    let stats = baton_json(&["stats", "--format", "json", root.to_str().unwrap()]);
    let mut seen: Vec<(String, String)> = stats["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p[p.rfind('/').unwrap() + 1..].to_string(),
                f["container"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    seen.sort();
    let pod_name = "shop/wordpress-5d8f9c7b6-x2x9k/php-fpm".to_string();
    let mut want = vec![
        ("0.log".to_string(), pod_name.clone()),
        ("0.log.20261124-111800.gz".to_string(), pod_name),
        (format!("{id1}-json.log"), "shop-nginx-1".to_string()),
        (format!("{id1}-json.log.1"), "shop-nginx-1".to_string()),
        (format!("{id1}-json.log.2.gz"), "shop-nginx-1".to_string()),
        (format!("{id2}-json.log"), id2[..12].to_string()),
    ];
    want.sort();
    assert_eq!(seen, want);
    for f in stats["files"].as_array().unwrap() {
        assert_eq!(f["skipped"], 0, "{f}");
        assert!(f["envelope"]["kind"].is_string(), "{f}");
    }
    // The same counts and incidents as the plain set.
    let text = serde_json::to_string(&stats_counts(&root)).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["access"],
        want_stats["access"]
    );
    let mut got = stats_counts(&root);
    got.as_object_mut().unwrap().remove("nodes");
    let mut want_s = want_stats.clone();
    want_s.as_object_mut().unwrap().remove("nodes");
    assert_eq!(got, want_s);
    let strip = |v: Value| {
        let t = serde_json::to_string(&v).unwrap();
        let pod =
            "DIR/pods/shop_wordpress-5d8f9c7b6-x2x9k_0f6c3a1e-5b2d-4c1e-9a7b-2d3e4f5a6b7c/php-fpm";
        let renames = [
            (
                format!("DIR/docker/containers/{id1}/{id1}-json.log"),
                "DIR/NGINX",
            ),
            (
                format!("DIR/docker/containers/{id2}/{id2}-json.log"),
                "DIR/NGINX",
            ),
            (format!("{pod}/0.log.20261124-111800.gz"), "DIR/php-fpm.log"),
            (format!("{pod}/0.log"), "DIR/php-fpm.log"),
        ];
        let mut t = t;
        for (from, to) in renames {
            t = t.replace(&from, to);
        }
        serde_json::from_str::<Value>(&t).unwrap()
    };
    assert_eq!(strip(incidents(&root)), strip(want_incidents));
}

/// `--as FORMAT=PATH` names the lines inside the envelope: the envelope
/// still comes off (forced nginx-access lines keep the variant they show,
/// a forced compose log stays one input), and `--log-format` reads the
/// access lines inside one too.
#[test]
fn forced_formats_are_read_inside_their_envelope() {
    let dir = tempdir("forced");
    let access = read("access.log");
    let access = lines(&access);
    let error = read("error.log");
    let error = lines(&error);
    std::fs::write(dir.join("a.log"), wrap(Env::DockerJson, &access, "stdout")).unwrap();
    std::fs::write(dir.join("e.log"), wrap(Env::Cri, &error, "stderr")).unwrap();
    std::fs::write(dir.join("c.log"), wrap(Env::ComposeT, &error, "stderr")).unwrap();
    // A custom format detection does not know, in a json-file envelope.
    let custom: Vec<Vec<u8>> = [
        "10.0.0.1|24/Nov/2026:11:16:55 +0000|GET /slow.php HTTP/1.1|502",
        "10.0.0.2|24/Nov/2026:11:16:56 +0000|GET / HTTP/1.1|200",
    ]
    .iter()
    .map(|l| l.as_bytes().to_vec())
    .collect();
    let custom: Vec<&[u8]> = custom.iter().map(Vec::as_slice).collect();
    std::fs::write(dir.join("x.log"), wrap(Env::DockerJson, &custom, "stdout")).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let (a, e, c, x) = (p("a.log"), p("e.log"), p("c.log"), p("x.log"));
    let v = baton_json(&[
        "stats",
        "--format",
        "json",
        "--as",
        &format!("nginx-access={a}"),
        "--as",
        &format!("nginx-error={e}"),
        "--as",
        &format!("nginx-error={c}"),
        &a,
        &e,
        &c,
    ]);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{v}");
    for (f, (format, kind, n)) in files.iter().zip([
        ("nginx-access", "docker-json", access.len()),
        ("nginx-error", "cri", error.len()),
        ("nginx-error", "compose", error.len()),
    ]) {
        assert_eq!(f["format"], format, "{f}");
        assert_eq!(f["envelope"]["kind"], kind, "{f}");
        assert_eq!(
            (f["lines"].as_u64(), f["skipped"].as_u64()),
            (Some(n as u64), Some(0)),
            "{f}"
        );
    }
    let plain = baton_json(&[
        "stats",
        "--format",
        "json",
        "testdata/sample/access.log",
        "testdata/sample/error.log",
    ]);
    assert_eq!(files[0]["variant"], plain["files"][0]["variant"]);
    assert_eq!(v["access"], plain["access"]);
    let twice: u64 = plain["upstream_errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap() * 2)
        .sum();
    let got: u64 = v["upstream_errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(got, twice, "the error log twice: {}", v["upstream_errors"]);
    let v = baton_json(&[
        "stats",
        "--format",
        "json",
        "--log-format",
        "$remote_addr|$time_local|$request|$status",
        &x,
    ]);
    let f = &v["files"][0];
    assert_eq!(
        (f["format"].as_str(), f["variant"].as_str()),
        (Some("nginx-access"), Some("custom")),
        "{f}"
    );
    assert_eq!(f["envelope"]["kind"], "docker-json");
    assert_eq!(f["skipped"], 0);
    assert_eq!(
        v["access"]["status"],
        serde_json::json!({"200": 1, "502": 1})
    );
}

/// The `journald` log driver: each record's `MESSAGE` is the container's
/// own line, its identifier the container's short ID. nginx's error entry
/// is an nginx error record, php-fpm's line a php-fpm record (json and
/// export forms).
#[test]
fn journald_driver_records_are_the_containers_lines() {
    let dir = tempdir("journald");
    let nginx = r#"2026/11/24 11:17:00 [error] 29#29: *7 connect() to unix:/run/php/php-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 172.18.0.1, server: _, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php-fpm.sock:\", host: \"localhost\""#;
    let fpm = "[24-Nov-2026 11:17:01] WARNING: [pool www] child 132 exited on signal 9 (SIGKILL) after 1017.285544 seconds from start";
    let json = format!(
        "{{\"__REALTIME_TIMESTAMP\":\"1795519020000000\",\"_HOSTNAME\":\"web1\",\"SYSLOG_IDENTIFIER\":\"4f1d2c3b4f1d\",\"CONTAINER_NAME\":\"shop-nginx-1\",\"CONTAINER_ID\":\"4f1d2c3b4f1d\",\"CONTAINER_TAG\":\"4f1d2c3b4f1d\",\"_COMM\":\"dockerd\",\"PRIORITY\":\"3\",\"MESSAGE\":\"{nginx}\"}}\n\
         {{\"__REALTIME_TIMESTAMP\":\"1795519021000000\",\"_HOSTNAME\":\"web1\",\"SYSLOG_IDENTIFIER\":\"a0b1c2d3a0b1\",\"CONTAINER_NAME\":\"shop-php-fpm-1\",\"CONTAINER_ID\":\"a0b1c2d3a0b1\",\"_COMM\":\"dockerd\",\"PRIORITY\":\"3\",\"MESSAGE\":\"{fpm}\"}}\n"
    );
    std::fs::write(dir.join("journal.json"), &json).unwrap();
    let export = format!(
        "__CURSOR=s=1\n__REALTIME_TIMESTAMP=1795519020000000\n_HOSTNAME=web1\nSYSLOG_IDENTIFIER=4f1d2c3b4f1d\nCONTAINER_NAME=shop-nginx-1\nCONTAINER_ID=4f1d2c3b4f1d\n_COMM=dockerd\nMESSAGE={}\n\n\
         __CURSOR=s=2\n__REALTIME_TIMESTAMP=1795519021000000\n_HOSTNAME=web1\nSYSLOG_IDENTIFIER=a0b1c2d3a0b1\nCONTAINER_ID=a0b1c2d3a0b1\n_COMM=dockerd\nMESSAGE={fpm}\n\n",
        nginx.replace("\\\"", "\"")
    );
    std::fs::write(dir.join("journal.export"), &export).unwrap();
    for name in ["journal.json", "journal.export"] {
        let p = dir.join(name);
        let v = baton_json(&["stats", "--format", "json", p.to_str().unwrap()]);
        let f = &v["files"][0];
        assert_eq!(f["format"], "journal", "{name}: {f}");
        assert_eq!(f["skipped"], 0, "{name}: {f}");
        assert_eq!(
            v["upstream_errors"],
            serde_json::json!({"connect_refused": 1}),
            "{name}"
        );
        assert_eq!(
            v["fpm"]["child_signals"],
            serde_json::json!({"SIGKILL": 1}),
            "{name}"
        );
    }
}
