//! Issue 20 through the command line: the access log's format taken from
//! nginx's configuration, and the memory `pm.max_children` ×
//! `memory_limit` is checked against (`--memory`, else the kernel's OOM
//! report).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("baton runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-config-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const NGINX: &str = r#"user www-data;
events {}
http {
    log_format pipes '$time_iso8601|$remote_addr|$request|$status|$body_bytes_sent|$request_time|$request_id';
    server {
        server_name shop.example.com;
        access_log /var/log/nginx/shop_access.log pipes;
        location ~ \.php$ {
            fastcgi_pass unix:/run/php/php8.2-fpm.sock;
        }
    }
}
"#;

const FPM: &str = "[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
pm = dynamic
pm.max_children = 20
php_admin_value[memory_limit] = 256M
";

/// A set whose access log is in a format detection does not know.
fn set(name: &str) -> PathBuf {
    let d = tempdir(name);
    std::fs::write(d.join("nginx.conf"), NGINX).unwrap();
    std::fs::write(d.join("www.conf"), FPM).unwrap();
    let mut log = String::new();
    for i in 10..60 {
        let status = if i > 40 { 502 } else { 200 };
        log.push_str(&format!(
            "2026-11-24T10:00:{i}+01:00|10.0.0.{i}|GET /shop/?p={i} HTTP/1.1|{status}|512|0.0{}|req{i}\n",
            i % 9
        ));
    }
    // A rotation of the same log.
    std::fs::write(d.join("shop_access.log"), &log).unwrap();
    std::fs::write(d.join("shop_access.log.1"), log.replace("T10:", "T09:")).unwrap();
    d
}

fn formats(stats: &Value) -> Vec<(String, String)> {
    stats["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["format"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_access_logs_format_comes_from_nginxs_configuration() {
    let d = set("log-format");
    // Alone, the log is in no format baton knows.
    let alone = json(&baton(
        &["stats", "--format", "json", "shop_access.log"],
        &d,
    ));
    assert_eq!(formats(&alone)[0].1, "unknown");
    // Beside the configuration, it is read with its access_log's log_format.
    let out = baton(
        &[
            "stats",
            "--format",
            "json",
            "nginx.conf",
            "www.conf",
            "shop_access.log",
            "shop_access.log.1",
        ],
        &d,
    );
    let s = json(&out);
    let f = formats(&s);
    assert!(
        f.contains(&("shop_access.log".into(), "nginx-access".into())),
        "{f:?}"
    );
    assert!(
        f.contains(&("shop_access.log.1".into(), "nginx-access".into())),
        "{f:?}"
    );
    for file in s["files"].as_array().unwrap() {
        assert_eq!(file["skipped"], 0, "{file}");
    }
    assert_eq!(s["access"]["requests"], 100);
    assert_eq!(s["access"]["status"]["502"], 38);
    // The zone from its offsets, as for a detected log.
    assert_eq!(s["tz_source"], "access-log offsets", "{s}");
    // The report sees its gateway errors.
    let r = json(&baton(
        &[
            "report",
            "--format",
            "json",
            "nginx.conf",
            "www.conf",
            "shop_access.log",
        ],
        &d,
    ));
    assert_eq!(r["totals"]["gateway_errors"], 19, "{}", r["totals"]);
    // --log-format still wins.
    let forced = json(&baton(
        &[
            "stats",
            "--format",
            "json",
            "--log-format",
            "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent",
            "nginx.conf",
            "shop_access.log",
        ],
        &d,
    ));
    assert_eq!(forced["access"]["requests"], 0, "{}", forced["access"]);
}

fn findings(r: &Value) -> Vec<(String, String)> {
    r["config_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn memory_from_the_option_or_the_kernels_oom_report() {
    let d = set("memory");
    let args = ["report", "--format", "json", "nginx.conf", "www.conf"];
    // No memory known: no max_children_memory.
    let r = json(&baton(&args, &d));
    assert!(
        !findings(&r).iter().any(|f| f.0 == "max_children_memory"),
        "{:?}",
        findings(&r)
    );
    let mut with = args.to_vec();
    with.extend(["--memory", "4G"]);
    let r = json(&baton(&with, &d));
    let f = findings(&r);
    assert!(
        f.contains(&(
            "max_children_memory".into(),
            "pool www: pm.max_children 20 × memory_limit 256M = 5G of workers at the limit, above the 4G given with --memory: under load the kernel's OOM killer ends workers mid-request (502); lower pm.max_children to 16 or lower memory_limit".into()
        )),
        "{f:?}"
    );
    // Enough memory: nothing.
    let mut with = args.to_vec();
    with.extend(["--memory", "8GiB"]);
    let r = json(&baton(&with, &d));
    assert!(!findings(&r).iter().any(|f| f.0 == "max_children_memory"));
    // Not a size: a usage error.
    let mut with = args.to_vec();
    with.extend(["--memory", "lots"]);
    let out = baton(&with, &d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--memory"));
    // The kernel's OOM report of the lab's php-fpm service: its cgroup's
    // 1 GiB limit.
    let dmesg = root().join("testdata/kernel/lab/phaseA/dmesg.txt");
    let mut with = args.to_vec();
    with.push(dmesg.to_str().unwrap());
    let r = json(&baton(&with, &d));
    let f = findings(&r);
    assert!(
        f.iter().any(|(c, t)| c == "max_children_memory"
            && t.contains(
                "above the 1G the kernel's OOM report (the memory cgroup's limit) shows"
            )
            && t.contains("lower pm.max_children to 4 ")),
        "{f:?}"
    );
}
