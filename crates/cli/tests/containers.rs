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

/// Wraps `lines`; lines longer than 120 bytes are cut in two partials where
/// the envelope has them.
fn wrap(env: Env, lines: &[&str], stream: &str) -> String {
    let mut out = String::new();
    for l in lines {
        let cut = (l.len() > 120).then(|| (60..l.len()).find(|c| l.is_char_boundary(*c)).unwrap());
        let pieces: Vec<&str> = match cut {
            Some(c) => vec![&l[..c], &l[c..]],
            None => vec![l],
        };
        match env {
            Env::DockerJson => {
                for (i, p) in pieces.iter().enumerate() {
                    let end = if i + 1 == pieces.len() { "\n" } else { "" };
                    let log = serde_json::to_string(&format!("{p}{end}")).unwrap();
                    out.push_str(&format!(
                        "{{\"log\":{log},\"stream\":\"{stream}\",\"time\":\"{TIME}\"}}\n"
                    ));
                }
            }
            Env::Cri => {
                for (i, p) in pieces.iter().enumerate() {
                    let tag = if i + 1 == pieces.len() { "F" } else { "P" };
                    out.push_str(&format!("{TIME} {stream} {tag} {p}\n"));
                }
            }
            Env::DockerT => out.push_str(&format!("{TIME} {l}\n")),
            Env::Compose => out.push_str(&format!("nginx-1  | {l}\n")),
            Env::ComposeT => out.push_str(&format!("\x1b[36mnginx-1  |\x1b[0m {TIME} {l}\n")),
        }
    }
    out
}

const SET: [(&str, &str); 3] = [
    ("access.log", "stdout"),
    ("error.log", "stderr"),
    ("php-fpm.log", "stderr"),
];

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join("testdata/sample").join(name)).unwrap()
}

/// What must not change: every count but the per-file entries, and the
/// incidents without their evidence references (line numbers move when
/// lines are interleaved).
fn stats_counts(dir: &Path) -> Value {
    let mut v = baton_json(&["stats", "--format", "json", dir.to_str().unwrap()]);
    let o = v.as_object_mut().unwrap();
    o.remove("files");
    o.remove("tz_source");
    v
}

fn incidents(dir: &Path) -> Value {
    let v = baton_json(&["report", "--format", "json", dir.to_str().unwrap()]);
    let mut inc = v["incidents"].clone();
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
            let lines: Vec<&str> = text.lines().collect();
            std::fs::write(dir.join(name), wrap(env, &lines, stream)).unwrap();
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
        let (mut a, mut e) = (access.lines().peekable(), error.lines().peekable());
        let mut out = String::new();
        while a.peek().is_some() || e.peek().is_some() {
            if let Some(l) = a.next() {
                out.push_str(&wrap(env, &[l], "stdout"));
            }
            if let Some(l) = e.next() {
                out.push_str(&wrap(env, &[l], "stderr"));
            }
        }
        std::fs::write(dir.join("nginx-json.log"), out).unwrap();
        std::fs::write(
            dir.join("php-fpm.log"),
            wrap(
                env,
                &read("php-fpm.log").lines().collect::<Vec<_>>(),
                "stderr",
            ),
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
                "nginx-access": access.lines().count(),
                "nginx-error": error.lines().count(),
            }),
            "{env:?}"
        );
        assert_eq!(nginx["skipped"], 0, "{env:?}");
        assert_eq!(stats_counts(&dir), want_stats, "{env:?}");
        assert_eq!(incidents(&dir), want_incidents, "{env:?}");
    }
}

/// The pasted lines give their events.
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
