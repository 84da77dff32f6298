//! `baton` through the binary: rotated sets, directory walking and the
//! progress bar, on temporary trees built per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn baton(args: &[&str]) -> Output {
    command(args).output().expect("baton runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// A fresh temporary directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-inputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------- progress

#[test]
fn progress_on_a_pipe_only_when_asked() {
    let sample = "testdata/sample";
    let asked = baton(&["stats", "--progress", sample]);
    assert_eq!(asked.status.code(), Some(0), "{}", stderr(&asked));
    let err = stderr(&asked);
    let lines: Vec<&str> = err.lines().collect();
    // A run this short writes only the last line: what was read, in how long.
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("baton: progress: read ")
            && last.contains(" of ")
            && last.contains("6/6 files"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no terminal codes on a pipe: {err:?}"
    );

    let default = baton(&["stats", sample]);
    assert_eq!(default.status.code(), Some(0));
    assert_eq!(stderr(&default), "", "nothing on a pipe by default");

    let quiet = baton(&["stats", "--quiet", sample]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "", "nothing with --quiet");

    // The output is the same with and without the bar.
    assert_eq!(asked.stdout, default.stdout);
    assert_eq!(quiet.stdout, default.stdout);
}

#[test]
fn progress_counts_compressed_bytes_and_standard_input() {
    use std::io::Write;
    let d = tempdir("progress-gz");
    let data = std::fs::read(root().join("testdata/sample/access.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(d.join("access.log.1.gz"), &gz).unwrap();
    let out = baton(&["stats", "--format", "json", "--progress", s(&d)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["files"][0]["compressed_bytes"], gz.len());
    // Against the compressed size, all of it read.
    let size = indicatif::BinaryBytes(gz.len() as u64);
    let want = format!("read {size} of {size}");
    assert!(stderr(&out).contains(&want), "{want}: {}", stderr(&out));

    let mut child = command(&["stats", "--progress", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Standard input has no size: bytes and rate, no total.
    let want = format!(
        "baton: progress: read {} in ",
        indicatif::BinaryBytes(data.len() as u64)
    );
    assert!(stderr(&out).contains(&want), "{want}: {}", stderr(&out));
}

/// On a pseudo-terminal (through `script`, where it is installed) the bar
/// is drawn and cleared before the output.
#[cfg(target_os = "linux")]
#[test]
fn progress_on_a_terminal_is_drawn_and_cleared() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no script(1) to make a pseudo-terminal");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_baton");
    let out = Command::new("script")
        .args(["-qec", &format!("{bin} stats testdata/sample"), "/dev/null"])
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let drawn = text.find(" files").expect("the bar is drawn");
    let cleared = text.find("\r\u{1b}[2K").expect("the bar is cleared");
    let output = text.find("zone for timestamps").expect("the output");
    assert!(drawn < cleared && cleared < output, "{text:?}");

    let quiet = Command::new("script")
        .args([
            "-qec",
            &format!("{bin} stats --quiet testdata/sample"),
            "/dev/null",
        ])
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&quiet.stdout);
    assert!(!text.contains(" files"), "{text:?}");
}

// ------------------------------------------------------- directory walking

const ACCESS: &str =
    "203.0.113.9 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n";

fn paths(v: &Value) -> Vec<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

/// Loops, links to nowhere, links to what is read anyway, and FIFOs in a
/// walked tree are reported (path and reason) or read once; the rest is read.
#[cfg(unix)]
#[test]
fn walking_reports_what_it_cannot_read_and_goes_on() {
    use std::os::unix::fs::symlink;
    let d = tempdir("walk-links");
    let logs = d.join("logs");
    std::fs::create_dir_all(logs.join("nginx/deep")).unwrap();
    std::fs::create_dir_all(d.join("elsewhere")).unwrap();
    std::fs::write(logs.join("nginx/access.log"), ACCESS.repeat(2)).unwrap();
    std::fs::write(logs.join("nginx/deep/access.log"), ACCESS.repeat(3)).unwrap();
    std::fs::write(d.join("elsewhere/other.log"), ACCESS.repeat(5)).unwrap();
    // A loop back to an ancestor, two links at each other, a link to
    // nowhere, a second way into a directory already walked, a link to a
    // file read under its own name, and a link out of the tree.
    symlink("../..", logs.join("nginx/deep/up")).unwrap();
    symlink("pong", logs.join("ping")).unwrap();
    symlink("ping", logs.join("pong")).unwrap();
    symlink("gone.log", logs.join("dangling.log")).unwrap();
    symlink("nginx", logs.join("zz-nginx-again")).unwrap();
    symlink("nginx/access.log", logs.join("current.log")).unwrap();
    symlink("../elsewhere/other.log", logs.join("other.log")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(logs.join("pipe.log"))
        .status()
        .is_ok_and(|s| s.success());

    let out = baton(&["stats", "--format", "json", s(&logs)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json(&out);
    let l = |p: &str| logs.join(p).display().to_string();
    assert_eq!(
        paths(&v),
        [
            l("nginx/access.log"),
            l("nginx/deep/access.log"),
            l("other.log")
        ]
    );
    assert_eq!(v["access"]["requests"], 2 + 3 + 5);
    let err = stderr(&out);
    let mut want = vec![
        format!(
            "baton: {}: symlink loop: directory already visited",
            l("nginx/deep/up")
        ),
        format!(
            "baton: {}: symlink loop: too many levels of symbolic links",
            l("ping")
        ),
        format!(
            "baton: {}: symlink loop: too many levels of symbolic links",
            l("pong")
        ),
        format!(
            "baton: {}: broken symlink: no such file or directory",
            l("dangling.log")
        ),
    ];
    if fifo {
        want.push(format!(
            "baton: {}: not a regular file (fifo): skipped",
            l("pipe.log")
        ));
    }
    for w in &want {
        assert!(err.lines().any(|line| line == w), "{w}\n{err}");
    }
    assert_eq!(err.lines().count(), want.len(), "{err}");

    // Named on the command line, a link to nowhere is reported the same way.
    let out = baton(&[
        "stats",
        s(&logs.join("dangling.log")),
        s(&logs.join("nginx/access.log")),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("dangling.log: broken symlink: no such file or directory"));
}

/// Permission denied on a file and on a directory, as an unprivileged user
/// (root reads through mode bits: the test then runs baton as `nobody`
/// through setpriv, or is skipped where it cannot).
#[cfg(target_os = "linux")]
#[test]
fn unreadable_entries_are_reported_and_the_rest_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir("walk-perm");
    let logs = d.join("logs");
    std::fs::create_dir_all(logs.join("closed")).unwrap();
    std::fs::write(logs.join("a.log"), ACCESS.repeat(2)).unwrap();
    std::fs::write(logs.join("b.log"), ACCESS.repeat(4)).unwrap();
    std::fs::write(logs.join("closed/c.log"), ACCESS).unwrap();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(&logs.join("b.log"), 0o000).unwrap();
    mode(&logs.join("closed"), 0o000).unwrap();
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let bin = env!("CARGO_BIN_EXE_baton");
    let mut cmd = if root_user {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .args(["stats", "--format", "json", s(&logs)])
        .stdin(Stdio::null())
        .output();
    mode(&logs.join("closed"), 0o755).unwrap();
    let out = match out {
        Ok(o) if !(root_user && o.stdout.is_empty()) => o,
        _ => {
            eprintln!("skipped: cannot run baton unprivileged here");
            return;
        }
    };
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["access"]["requests"], 2);
    let err = stderr(&out);
    for p in ["b.log", "closed"] {
        let want = format!("baton: {}: permission denied", logs.join(p).display());
        assert!(err.contains(&want), "{want}\n{err}");
    }
}

// ------------------------------------------------------------ rotated sets

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// Access lines on one day, `n` of them a minute apart, status 502 on
/// the last.
fn access_day(day: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            let status = if i + 1 == n { 502 } else { 200 };
            format!(
                "203.0.113.9 - - [{day:02}/Nov/2026:10:{i:02}:00 +0000] \"GET /d{day} HTTP/1.1\" {status} 5 \"-\" \"curl/8\"\n"
            )
        })
        .collect()
}

fn first_times(v: &Value) -> Vec<(String, String)> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let name = Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, f["first_time"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

/// A logrotate directory: each set is read as one log, oldest first by
/// the times inside (a `.10.gz` renamed out of turn, a gzip member), the
/// php-fpm master's reload spans two files, and a yearless kern.log set
/// crosses the New Year with one year per member.
#[test]
fn rotated_sets_are_read_as_one_log_in_time_order() {
    let d = tempdir("rotated");
    let logs = d.join("nginx");
    std::fs::create_dir_all(&logs).unwrap();
    // Time order: .2.gz (20 Nov), .10.gz (21 Nov), .1 (22 Nov), live (23 Nov);
    // name order says .10.gz first, the walk's order says .10.gz after .1.
    std::fs::write(
        logs.join("access.log.2.gz"),
        gzip(access_day(20, 4).as_bytes()),
    )
    .unwrap();
    std::fs::write(
        logs.join("access.log.10.gz"),
        gzip(access_day(21, 3).as_bytes()),
    )
    .unwrap();
    std::fs::write(logs.join("access.log.1"), access_day(22, 2)).unwrap();
    std::fs::write(logs.join("access.log"), access_day(23, 1)).unwrap();
    // Not of the set: another log in the same directory.
    std::fs::write(logs.join("other.access.log"), access_day(19, 1)).unwrap();
    // php-fpm: the reload begins in .1 and the master comes back in the
    // live file; read apart, that start would count as a restart.
    std::fs::write(
        logs.join("php-fpm.log.1"),
        "[22-Nov-2026 09:00:00] NOTICE: fpm is running, pid 100\n\
         [22-Nov-2026 09:00:00] NOTICE: ready to handle connections\n\
         [22-Nov-2026 23:59:59] NOTICE: Reloading in progress ...\n\
         [22-Nov-2026 23:59:59] NOTICE: reloading: execvp(\"php-fpm8.2\", {\"php-fpm8.2\"})\n",
    )
    .unwrap();
    std::fs::write(
        logs.join("php-fpm.log"),
        "[23-Nov-2026 00:00:00] NOTICE: fpm is running, pid 100\n\
         [23-Nov-2026 00:00:00] NOTICE: ready to handle connections\n",
    )
    .unwrap();

    let out = baton(&["stats", "--format", "json", s(&logs)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let t = |day: u32| format!("2026-11-{day}T10:00:00+00:00");
    assert_eq!(
        first_times(&v),
        [
            ("access.log.2.gz".into(), t(20)),
            ("access.log.10.gz".into(), t(21)),
            ("access.log.1".into(), t(22)),
            ("access.log".into(), t(23)),
            ("other.access.log".into(), t(19)),
            ("php-fpm.log.1".into(), "2026-11-22T09:00:00+00:00".into()),
            ("php-fpm.log".into(), "2026-11-23T00:00:00+00:00".into()),
        ]
    );
    assert_eq!(v["access"]["requests"], 4 + 3 + 2 + 1 + 1);
    assert_eq!(v["access"]["status"]["502"], 5);
    assert_eq!(v["fpm"]["restarts"], 1, "{}", v["fpm"]);
    assert_eq!(v["fpm"]["reloads"], 1, "{}", v["fpm"]);

    // The same set named file by file, in any order, reads the same.
    let named: Vec<String> = [
        "access.log",
        "access.log.1",
        "access.log.10.gz",
        "access.log.2.gz",
    ]
    .iter()
    .map(|n| logs.join(n).display().to_string())
    .collect();
    let mut args = vec!["stats", "--format", "json"];
    args.extend(named.iter().map(String::as_str));
    let w = json(&baton(&args));
    assert_eq!(first_times(&w), first_times(&v)[..4]);

    // The report's events come in time order too.
    let out = baton(&["report", "--format", "json", s(&logs)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A yearless kernel log rotated across the New Year: `kern.log.1` ends in
/// December, `kern.log` begins in January; each takes its own year, from
/// `--year` (the set's first line) or from the newest file's mtime.
#[test]
fn a_yearless_set_crosses_the_new_year() {
    let d = tempdir("rotated-kern");
    let oom = |when: &str, pid: u32| {
        format!(
            "{when} vm kernel: Memory cgroup out of memory: Killed process {pid} (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0\n"
        )
    };
    // Renamed out of turn: .1 is older than .2.gz.
    std::fs::write(
        d.join("kern.log.1"),
        format!("{}{}", oom("Dec 20 08:00:00", 1), oom("Dec 24 08:00:00", 2)),
    )
    .unwrap();
    std::fs::write(
        d.join("kern.log.2.gz"),
        gzip(format!("{}{}", oom("Dec 27 08:00:00", 3), oom("Dec 31 23:59:00", 4)).as_bytes()),
    )
    .unwrap();
    std::fs::write(
        d.join("kern.log"),
        format!("{}{}", oom("Jan  1 00:01:00", 5), oom("Jan  3 12:00:00", 6)),
    )
    .unwrap();

    let v = json(&baton(&[
        "stats",
        "--format",
        "json",
        "--year",
        "2025",
        s(&d),
    ]));
    assert_eq!(
        first_times(&v),
        [
            ("kern.log.1".into(), "2025-12-20T08:00:00+00:00".into()),
            ("kern.log.2.gz".into(), "2025-12-27T08:00:00+00:00".into()),
            ("kern.log".into(), "2026-01-01T00:01:00+00:00".into()),
        ]
    );
    let years: Vec<i64> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [2025, 2025, 2026]);
    assert_eq!(v["files"][2]["last_time"], "2026-01-03T12:00:00+00:00");
    assert_eq!(v["kernel"]["oom_kills"], 6);

    // Without --year: the newest file's mtime (here: now, the files were
    // just written) dates the set's last member; the others follow it.
    let v = json(&baton(&["stats", "--format", "json", s(&d)]));
    let firsts = first_times(&v);
    let year_of = |k: usize| firsts[k].1[..4].parse::<i32>().unwrap();
    assert_eq!(firsts[0].0, "kern.log.1");
    assert_eq!(year_of(0), year_of(1));
    assert_eq!(year_of(2), year_of(1) + 1);
    assert_eq!(v["files"][2]["year_source"], "file mtime, rotated set");
}
