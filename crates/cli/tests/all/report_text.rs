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
        head.ends_with(", 1 gateway error (502 x 1) in 1 request, counted from the access log"),
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

fn root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `baton report ARGS` as JSON.
fn report_json(args: &[PathBuf]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["report", "--format", "json"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

// Zones said aloud (issue 16, point 6): a journal in `short-iso` form
// carries the server's offset, and the error log's local times are read in
// it.
#[test]
fn a_journals_offset_gives_the_zone_of_the_error_log() {
    let dir = tempdir("journal-zone");
    let error = dir.join("error.log");
    let mut lines = String::new();
    for n in 0..6 {
        lines.push_str(&format!(
            "2026/11/24 12:17:0{n} [error] 1187#1187: *{} connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 203.0.113.9, server: shop.example.com, request: \"GET /p{n} HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.example.com\"\n",
            n + 1
        ));
    }
    std::fs::write(&error, lines).unwrap();
    let journal = dir.join("fpm-journal.txt");
    std::fs::write(
        &journal,
        "2026-11-24T12:16:50+0100 web1 php-fpm8.2[31544]: [NOTICE] fpm is running, pid 31544\n\
         2026-11-24T12:16:59+0100 web1 php-fpm8.2[31544]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it\n",
    )
    .unwrap();
    let paths = [error.clone(), journal.clone()];
    let v = report_json(&paths);
    assert_eq!(v["tz"], "+01:00", "{}", v["tz_source"]);
    assert_eq!(v["tz_source"], "journal offsets");
    // 12:17:00 in Berlin's winter time is 11:17:00 UTC.
    assert_eq!(v["incidents"][0]["start"], "2026-11-24T12:17:00+01:00");
    let text = report(&paths);
    assert!(text.contains("+01:00 (journal offsets)"), "{text}");
    assert!(!text.contains("no input carrie"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// One set of counts, from the best witness, saying which (issue 16,
// point 4). The sample's error log alone: #1 is the `too big header` at
// 11:16:55 and the seven EAGAIN connects at 11:17:00 (error.log:34-49),
// #2 the timeout at 11:17:40 and the four resets to 11:18:02 (93-101),
// #3 the failed connects at 11:18:04 (103-121): nine lines, but *152 and
// *160 each tried two servers for one request, so seven requests.
#[test]
fn an_error_log_alone_counts_one_gateway_error_per_request_and_says_so() {
    let error = root().join("testdata/sample/error.log");
    let text = report(std::slice::from_ref(&error));
    assert_eq!(
        text.lines().next().unwrap(),
        "baton report: 3 incidents, 20 gateway errors (502 x 19, 504 x 1) counted from the error log (no access log read)",
        "{text}"
    );
    let v = report_json(std::slice::from_ref(&error));
    let t = &v["totals"];
    assert_eq!(
        (&t["gateway_errors"], &t["status_502"], &t["status_504"]),
        (&20.into(), &19.into(), &1.into()),
        "{t}"
    );
    let per: Vec<u64> = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["gateway_errors"].as_u64().unwrap())
        .collect();
    assert_eq!(per, [8, 5, 7]);
}

#[test]
fn with_the_access_log_the_counts_are_the_access_logs() {
    let text = report(&[root().join("testdata/sample")]);
    let head = text.lines().next().unwrap();
    assert!(
        head.ends_with(" requests, counted from the access log"),
        "{head}"
    );
}

// Words (issue 16, point 8).

#[test]
fn nothing_timed_and_no_gateway_error_say_neither_zone_nor_background() {
    let dir = tempdir("nothing");
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let text = report(std::slice::from_ref(&empty));
    assert!(!text.contains("assumed"), "{text}");
    assert!(text.contains("window: no timestamp was read"), "{text}");
    assert!(!text.contains("background:"), "{text}");
    // Raw `dmesg` with no --boot-time: a log, but no time read as UTC.
    let dmesg = dir.join("dmesg.txt");
    std::fs::write(
        &dmesg,
        "[11208.086696] Out of memory: Killed process 32570 (php-fpm8.2) total-vm:312000kB, anon-rss:120000kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:400kB oom_score_adj:0\n",
    )
    .unwrap();
    let text = report(std::slice::from_ref(&dmesg));
    assert!(!text.contains("read as UTC"), "{text}");
    assert!(!text.contains("assumed"), "{text}");
    // A quiet access log: times (so a zone), no gateway error, no
    // background line.
    let access = dir.join("access.log");
    std::fs::write(
        &access,
        "203.0.113.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 157 \"-\" \"-\"\n",
    )
    .unwrap();
    let text = report(std::slice::from_ref(&access));
    assert!(text.contains("UTC (access-log offsets)"), "{text}");
    assert!(!text.contains("background:"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_span_in_one_second_is_at_that_second() {
    // The sample's #3: six 502s, all at 11:18:04 (access.log:76-83).
    let text = report(&[root().join("testdata/sample")]);
    assert!(
        text.contains("6 gateway errors (502 x 6) at 2026-11-24T11:18:04+00:00"),
        "{text}"
    );
    for line in text.lines() {
        for (a, b) in [(" from ", " to "), (" between ", " and ")] {
            let Some((_, rest)) = line.split_once(a) else {
                continue;
            };
            let Some((x, after)) = rest.split_once(b) else {
                continue;
            };
            let y = after.split([' ', ';', ',']).next().unwrap_or("");
            let y = y.trim_end_matches(':');
            assert!(x.len() < 20 || x != y, "{line}");
        }
    }
}
