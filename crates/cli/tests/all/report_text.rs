//! `baton report` as text through the binary, on tiny hand-made logs: the
//! words (plurals, no zero parts, an assumed zone said aloud). The
//! renderer's own tests (phases, ruled out, what changed, "and N more",
//! findings) build reports by hand in `src/output/report_text.rs`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A fresh temporary directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-text-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The text report of `paths` (whatever the exit code).
fn report(paths: &[PathBuf]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("report")
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn one_of_everything_is_said_in_the_singular() {
    let dir = tempdir("one");
    let access = dir.join("access.log");
    std::fs::write(
        &access,
        "203.0.113.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"-\"\n",
    )
    .unwrap();
    let text = report(std::slice::from_ref(&access));
    let head = text.lines().next().unwrap();
    assert!(
        head.ends_with(", 1 gateway error (502 x 1) in 1 request"),
        "{text}"
    );
    assert!(!text.contains("x 0"), "{text}");
    assert!(text.contains("read 1 file, 1 line, 0 skipped"), "{text}");
    assert!(text.contains("UTC (access-log offsets)"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_zone_nothing_said_is_reported_as_assumed() {
    let dir = tempdir("assumed");
    let error = dir.join("error.log");
    std::fs::write(
        &error,
        "2026/11/24 10:00:00 [error] 1187#1187: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.9, server: shop.example.com, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.example.com\"\n",
    )
    .unwrap();
    let text = report(std::slice::from_ref(&error));
    assert!(
        text.contains("zone for timestamps without one: UTC, assumed: no input carried a UTC offset and no --tz was given"),
        "{text}"
    );
    // No access log: no "in 0 requests".
    assert!(!text.contains("0 requests"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The sample's #2 lost 4 workers 4 ways (testdata/sample): pid 32570
/// OOM-killed at cgroup /system.slice/php8.2-fpm.service's limit
/// (kern-dmesg-T.log:87), pid 31660 on SIGSEGV (php-fpm.log:78), pid
/// 31718 on SIGKILL with no OOM line (php-fpm.log:84), pid 32543 on
/// SIGTERM after `execution timed out` (php-fpm.log:90-91). Its headline
/// says so; #1 and #3 lost no worker and say nothing of deaths.
#[test]
fn a_crash_whose_workers_died_several_ways_says_so_in_its_headline() {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sample");
    let text = report(&[sample]);
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), 3, "{text}");
    assert!(
        heads[1].starts_with("#2 CRASH oom_kill  confidence "),
        "{}",
        heads[1]
    );
    assert!(
        heads[1].ends_with(
            ", php-fpm worker — 4 workers died: 1 OOM-killed (cgroup), 1 SIGSEGV, 1 SIGKILL from outside, 1 request_terminate_timeout"
        ),
        "{}",
        heads[1]
    );
    assert!(!heads[0].contains("died"), "{}", heads[0]);
    assert!(!heads[2].contains("died"), "{}", heads[2]);
}
