//! Every clock checked, through the binary: offset-less logs (php-fpm log,
//! slowlog, kernel log, error log) written in another zone than the one
//! they are read in are re-read at the offset that lines them up with the
//! access log, and the report says so per file; sets that are right, or
//! too thin to tell, are left alone and nothing is said.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-clocks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn report(dir: &Path, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["report", "--format", "json"])
        .args(extra)
        .arg(dir)
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

/// `HH:MM:SS` of seconds into the day.
fn hms(s: i64) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `+0100` of an offset in hours.
fn off(h: i64) -> String {
    format!("{}{:02}00", if h < 0 { '-' } else { '+' }, h.abs())
}

/// An access-log line of 24 Nov 2026 at `local` seconds into the day.
fn access(day: &str, local: i64, offset_h: i64, path: &str, status: u16, rt: f64) -> String {
    format!(
        "203.0.113.7 - - [{day}:{} {}] \"GET {path} HTTP/1.1\" {status} 157 \"-\" \"curl/8.5\" rt={rt:.3} uct=\"0.000\" uht=\"-\" urt=\"{rt:.3}\" ua=\"unix:/run/php/php8.2-fpm.sock\" us=\"{status}\" rid=0 host=shop.example proto=HTTP/1.1\n",
        hms(local),
        off(offset_h)
    )
}

fn upstream_timed_out(date: &str, wall: i64, path: &str) -> String {
    format!(
        "{date} {} [error] 31577#31577: *23 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: shop.example, request: \"GET {path} HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.example\"\n",
        hms(wall)
    )
}

fn fpm_too_slow(day: &str, wall: i64, pid: u32) -> String {
    format!(
        "[{day} {}] WARNING: [pool www] child {pid}, script '/var/www/shop/index.php' (request: \"GET /checkout/\") executing too slow (10.070142 sec), logging\n",
        hms(wall)
    )
}

fn fpm_timed_out(day: &str, wall: i64, pid: u32) -> String {
    format!(
        "[{day} {}] WARNING: [pool www] child {pid}, script '/var/www/shop/index.php' (request: \"GET /checkout/\") execution timed out (30.073627 sec), terminating\n",
        hms(wall)
    )
}

fn slow_trace(day: &str, wall: i64, pid: u32) -> String {
    format!(
        "[{day} {}]  [pool www] pid {pid}\nscript_filename = /var/www/shop/index.php\n[0x00007fcb18a132c0] curl_exec() /var/www/shop/wp-content/plugins/ship-rates/api.php:88\n[0x00007fcb18a13240] sr_quote() /var/www/shop/wp-content/plugins/ship-rates/ship-rates.php:7\n[0x00007fcb18a130a0] {{main}}() /var/www/shop/index.php:17\n\n",
        hms(wall)
    )
}

fn oom_kill(wall: i64, pid: u32) -> String {
    format!(
        "[Tue Nov 24 {} 2026] Memory cgroup out of memory: Killed process {pid} (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0\n",
        hms(wall)
    )
}

/// The files of a latency incident: 24 checkout requests timing out
/// after 30 s, one every 10 s from 10:20:00 (access-log local time, at
/// `access_h`), amid background traffic from 10:00 to 10:40. Each log
/// writes its wall clock at its own offset (hours east); `None` leaves
/// the log out.
struct Set {
    access_h: i64,
    error_h: Option<i64>,
    fpm_h: Option<i64>,
    slowlog_h: Option<i64>,
    failures: i64,
}

const DAY: &str = "24/Nov/2026";
const FPM_DAY: &str = "24-Nov-2026";
const ERR_DATE: &str = "2026/11/24";

impl Set {
    fn write(&self, dir: &Path) {
        let a = self.access_h;
        let mut acc = String::new();
        let ends: Vec<i64> = (0..self.failures)
            .map(|i| 10 * 3600 + 1230 + i * 10)
            .collect();
        for t in (10 * 3600..10 * 3600 + 2400).step_by(5) {
            if !ends.contains(&t) {
                acc.push_str(&access(DAY, t, a, "/", 200, 0.05));
            }
            if ends.contains(&t) {
                acc.push_str(&access(DAY, t, a, "/checkout/", 504, 30.001));
            }
        }
        std::fs::write(dir.join("access.log"), acc).unwrap();
        // The wall clock a log at offset `h` shows for access-log local `t`.
        let wall = |h: i64, t: i64| t + (h - a) * 3600;
        if let Some(h) = self.error_h {
            let mut s = String::new();
            for &t in &ends {
                s.push_str(&upstream_timed_out(ERR_DATE, wall(h, t), "/checkout/"));
            }
            std::fs::write(dir.join("error.log"), s).unwrap();
        }
        if let Some(h) = self.fpm_h {
            let mut s = String::new();
            for (i, &t) in ends.iter().enumerate() {
                s.push_str(&fpm_too_slow(FPM_DAY, wall(h, t - 20), 4000 + i as u32));
            }
            for (i, &t) in ends.iter().enumerate() {
                s.push_str(&fpm_timed_out(FPM_DAY, wall(h, t), 4000 + i as u32));
            }
            std::fs::write(dir.join("php-fpm.log"), s).unwrap();
        }
        if let Some(h) = self.slowlog_h {
            let mut s = String::new();
            for (i, &t) in ends.iter().enumerate() {
                s.push_str(&slow_trace(FPM_DAY, wall(h, t - 20), 4000 + i as u32));
            }
            std::fs::write(dir.join("www-slow.log"), s).unwrap();
        }
    }
}

fn file<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in files: {}", r["files"]))
}

fn warnings(r: &Value) -> Vec<String> {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

fn clock_warnings(r: &Value) -> Vec<String> {
    warnings(r)
        .into_iter()
        .filter(|w| w.contains("line up with"))
        .collect()
}

#[test]
fn a_php_fpm_log_and_slowlog_in_utc_beside_an_access_log_in_plus_one() {
    let dir = tempdir("fpm-utc");
    Set {
        access_h: 1,
        error_h: Some(1),
        fpm_h: Some(0),
        slowlog_h: Some(0),
        failures: 24,
    }
    .write(&dir);
    let r = report(&dir, &[]);
    assert_eq!(r["tz"], "+01:00");
    assert_eq!(r["tz_source"], "access-log offsets");
    assert_eq!(file(&r, "access.log")["tz_source"], "own offsets");
    assert_eq!(file(&r, "error.log")["tz_source"], "access-log offsets");
    for f in ["php-fpm.log", "www-slow.log"] {
        assert_eq!(
            file(&r, f)["tz_source"],
            "read as +00:00 (shifted +1 h) to match the access log"
        );
    }
    // files[] shows the times as the log wrote them, at their own offset.
    let first = file(&r, "www-slow.log")["first_time"].as_str().unwrap();
    assert_eq!(first, "2026-11-24T09:20:10+00:00");
    let w = clock_warnings(&r);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w.iter().any(|w| w.contains("php-fpm.log: its times line up with the access log only shifted by +1 h (48 of 48 events match then, 0 as read): read as +00:00")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.contains("www-slow.log: ")), "{w:?}");
    assert!(w.iter().all(|w| !w.contains("try --tz")), "{w:?}");
    // And the incident is the slow call it is, not `unknown`.
    let inc = r["incidents"].as_array().unwrap();
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert_eq!(inc[0]["verdict"], "latency", "{}", inc[0]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_set_that_is_right_shifts_nothing_and_says_nothing() {
    // The control: with the php-fpm log and slowlog in the access log's
    // zone the diagnosis is the same, and nothing is said or shifted.
    let dir = tempdir("right");
    Set {
        access_h: 1,
        error_h: Some(1),
        fpm_h: Some(1),
        slowlog_h: Some(1),
        failures: 24,
    }
    .write(&dir);
    let r = report(&dir, &[]);
    assert!(clock_warnings(&r).is_empty(), "{:?}", warnings(&r));
    for f in ["error.log", "php-fpm.log", "www-slow.log"] {
        assert_eq!(file(&r, f)["tz_source"], "access-log offsets");
    }
    let inc = r["incidents"].as_array().unwrap();
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert_eq!(inc[0]["verdict"], "latency", "{}", inc[0]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_set_read_in_the_wrong_zone_is_shifted_whole_and_names_the_zone() {
    // Everything at +05:30 wall clock; read as UTC because --tz says so.
    let dir = tempdir("whole");
    let mut acc = String::new();
    let mut err = String::new();
    let mut fpm = String::new();
    for i in 0..12 {
        let t = 11 * 3600 + i * 40;
        acc.push_str(&access(DAY, t - 20, 0, "/", 200, 0.05).replace("+0000", "+0530"));
        acc.push_str(&access(DAY, t, 0, &format!("/p{i}"), 504, 30.0).replace("+0000", "+0530"));
        err.push_str(&upstream_timed_out(ERR_DATE, t, &format!("/p{i}")));
        fpm.push_str(&fpm_timed_out(FPM_DAY, t, 5000 + i as u32));
    }
    std::fs::write(dir.join("access.log"), acc).unwrap();
    std::fs::write(dir.join("error.log"), err).unwrap();
    std::fs::write(dir.join("php-fpm.log"), fpm).unwrap();
    let r = report(&dir, &["--tz", "UTC"]);
    let w = clock_warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("try --tz +05:30"), "{w:?}");
    assert!(
        w[0].contains("error.log: 12 of 12 events match then, 0 as read"),
        "{w:?}"
    );
    assert!(w[0].contains("php-fpm.log: 12 of 12"), "{w:?}");
    assert_eq!(
        file(&r, "php-fpm.log")["tz_source"],
        "read as +05:30 (shifted -5.5 h) to match the access log"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kernel_log_one_hour_off() {
    // Access and error log in UTC; dmesg -T printed at +01:00.
    let dir = tempdir("kernel");
    let mut acc = String::new();
    let mut err = String::new();
    let mut kern = String::new();
    for i in 0..8 {
        let t = 11 * 3600 + i * 90;
        acc.push_str(&access(DAY, t - 30, 0, "/", 200, 0.05));
        acc.push_str(&access(DAY, t, 0, "/report/", 502, 2.5));
        err.push_str(&format!(
            "{ERR_DATE} {} [error] 31577#31577: *9 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7, server: shop.example, request: \"GET /report/ HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.example\"\n",
            hms(t)
        ));
        kern.push_str(&oom_kill(t + 3600, 32000 + i as u32));
    }
    std::fs::write(dir.join("access.log"), acc).unwrap();
    std::fs::write(dir.join("error.log"), err).unwrap();
    std::fs::write(dir.join("kern.log"), kern).unwrap();
    let r = report(&dir, &[]);
    let w = clock_warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("kern.log: its times line up with the access log only shifted by -1 h (8 of 8 events match then, 0 as read): read as +01:00"),
        "{w:?}"
    );
    assert_eq!(file(&r, "error.log")["tz_source"], "access-log offsets");
    assert_eq!(
        file(&r, "kern.log")["tz_source"],
        "read as +01:00 (shifted -1 h) to match the access log"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_error_log_alone_has_nothing_to_be_checked_against() {
    let dir = tempdir("error-alone");
    let mut err = String::new();
    for i in 0..10 {
        err.push_str(&upstream_timed_out(ERR_DATE, 11 * 3600 + i * 20, "/"));
    }
    std::fs::write(dir.join("error.log"), err).unwrap();
    let r = report(&dir, &[]);
    assert!(clock_warnings(&r).is_empty(), "{:?}", warnings(&r));
    assert_eq!(file(&r, "error.log")["tz_source"], "default UTC");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn too_few_events_to_tell_shift_nothing() {
    // Two php-fpm timeouts an hour off: they could be anything.
    let dir = tempdir("thin");
    Set {
        access_h: 1,
        error_h: None,
        fpm_h: Some(0),
        slowlog_h: None,
        failures: 1,
    }
    .write(&dir);
    let r = report(&dir, &[]);
    assert!(clock_warnings(&r).is_empty(), "{:?}", warnings(&r));
    assert_eq!(file(&r, "php-fpm.log")["tz_source"], "access-log offsets");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn witnesses_straddling_a_dst_change_line_up_a_utc_php_fpm_log() {
    // Europe/Berlin falls back at 03:00 CEST (01:00Z) on 25 Oct 2026; the
    // access log's offsets go +0200 -> +0100. The php-fpm log of a UTC
    // container, read at --tz Europe/Berlin, is 2 h off before the change
    // and 1 h off after it: re-read at +00:00 it lines up on both sides.
    let dir = tempdir("dst");
    let mut acc = String::new();
    let mut fpm = String::new();
    for i in -6..6i64 {
        let utc = 3600 + i * 300 + 30; // seconds into 25 Oct, UTC
        let h = if utc < 3600 { 2 } else { 1 };
        acc.push_str(&access(
            "25/Oct/2026",
            utc + h * 3600 - 10,
            h,
            "/",
            200,
            0.05,
        ));
        acc.push_str(&access(
            "25/Oct/2026",
            utc + h * 3600,
            h,
            "/checkout/",
            504,
            30.0,
        ));
        fpm.push_str(&fpm_timed_out("25-Oct-2026", utc, 6000 + (i + 6) as u32));
    }
    std::fs::write(dir.join("access.log"), acc).unwrap();
    std::fs::write(dir.join("php-fpm.log"), fpm).unwrap();
    let r = report(&dir, &["--tz", "Europe/Berlin"]);
    let w = clock_warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("12 of 12 events match then, 0 as read"),
        "{w:?}"
    );
    assert!(w[0].contains("try --tz +00:00"), "{w:?}");
    assert!(
        file(&r, "php-fpm.log")["tz_source"]
            .as_str()
            .unwrap()
            .starts_with("read as +00:00"),
        "{}",
        r["files"]
    );
    // Read as Berlin time and in the right zone, nothing is said.
    let dir2 = tempdir("dst-right");
    std::fs::copy(dir.join("access.log"), dir2.join("access.log")).unwrap();
    let mut fpm = String::new();
    for i in -6..6i64 {
        let utc = 3600 + i * 300 + 30;
        let h = if utc < 3600 { 2 } else { 1 };
        fpm.push_str(&fpm_timed_out(
            "25-Oct-2026",
            utc + h * 3600,
            6000 + (i + 6) as u32,
        ));
    }
    std::fs::write(dir2.join("php-fpm.log"), fpm).unwrap();
    let r = report(&dir2, &["--tz", "Europe/Berlin"]);
    assert!(clock_warnings(&r).is_empty(), "{:?}", warnings(&r));
    assert_eq!(file(&r, "php-fpm.log")["tz_source"], "--tz");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}
