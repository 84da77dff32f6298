//! Limits and faults, through the `baton` binary: huge lines, files
//! without a newline, NULs, broken encodings, damaged and explosive
//! archives, odd files (empty, `/dev/null`, FIFOs, symlink loops, files
//! that change while read, unreadable files), and odd times. Every test
//! asserts what baton answers: the exit code, the counts of
//! `baton stats --format json`, the messages.
//!
//! The large cases take their sizes from the environment, small by default
//! so that `cargo test` stays quick; `scripts/limits.sh` runs them at full
//! size against a release build:
//!
//! | variable | default | full size |
//! | --- | ---: | ---: |
//! | `BATON_LIMITS_LINE` (one line) | `4M` | `100M` |
//! | `BATON_LIMITS_NONEWLINE` (a file without `\n`, and the NUL file) | `16M` | `2G` |
//! | `BATON_LIMITS_BOMB` (decompressed size of the gzip/zstd bombs) | `256M` | `10G` |
//! | `BATON_LIMITS_FILES` (small files in one directory) | `300` | `10000` |
//!
//! Sizes take a `K`, `M` or `G` suffix (powers of 1024). Peak memory is
//! measured with `/usr/bin/time -v` when it exists (the assertion is
//! skipped, with a note, when it does not) and must stay under
//! [`MAX_RSS_MIB`] whatever the size of an input, plus [`PER_FILE_KIB`]
//! per input. `BATON_LIMITS_TIMEOUT` (seconds,
//! default 300) bounds every run: a run that takes longer is killed and
//! the test fails, so a hang is a failure, not a stuck suite.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The documented memory bound of `baton stats` on one input of any size:
/// three 8 MiB blocks in flight, the decoder's window and the binary.
const MAX_RSS_MIB: u64 = 64;

/// What each further input may add to that: its counts are kept until the
/// output is written.
const PER_FILE_KIB: u64 = 16;

/// A size from the environment: bytes, or with a `K`, `M` or `G` suffix.
fn size_env(name: &str, default: &str) -> u64 {
    let s = std::env::var(name).unwrap_or_else(|_| default.to_string());
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .unwrap_or_else(|_| panic!("{name}={s}: not a size"));
    n * mult
}

fn timeout() -> Duration {
    Duration::from_secs(size_env("BATON_LIMITS_TIMEOUT", "300"))
}

/// A temporary directory, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "baton-limits-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Temp(d)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // Restore permissions a test took away, so removal succeeds.
        if let Ok(entries) = fs::read_dir(&self.0) {
            for e in entries.flatten() {
                let _ = chmod(&e.path(), 0o755);
            }
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

/// One finished run of `baton`.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory in KiB, when `/usr/bin/time -v` measured it.
    peak_kib: Option<u64>,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(2000)]),
                self.stderr
            )
        })
    }

    /// The run ended with `code`, and did not panic.
    fn expect_code(&self, code: i32) -> &Run {
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert_eq!(self.code, Some(code), "stderr: {}", self.stderr);
        self
    }

    /// Peak memory stayed under the documented bound (when measured).
    fn expect_bounded_memory(&self, what: &str) {
        self.expect_memory_under(what, MAX_RSS_MIB * 1024);
    }

    /// Peak memory stayed under `bound_kib` (when measured).
    fn expect_memory_under(&self, what: &str, bound_kib: u64) {
        match self.peak_kib {
            Some(k) => {
                eprintln!(
                    "{what}: peak RSS {:.1} MiB in {:.2} s",
                    k as f64 / 1024.0,
                    self.elapsed.as_secs_f64()
                );
                assert!(
                    k < bound_kib,
                    "{what}: peak RSS {k} KiB over {bound_kib} KiB"
                );
            }
            None => eprintln!("{what}: /usr/bin/time not found, peak memory not checked"),
        }
    }
}

/// Where the stdin of a run comes from.
enum Input {
    None,
    File(PathBuf),
    /// A real pipe: `cat FILE |`.
    Pipe(PathBuf),
}

fn time_v() -> Option<&'static str> {
    Path::new("/usr/bin/time")
        .exists()
        .then_some("/usr/bin/time")
}

/// Runs `baton ARGS` with a deadline, measuring peak memory when it can.
fn baton_with(args: &[&str], input: Input) -> Run {
    let bin = env!("CARGO_BIN_EXE_baton");
    let mut cmd = match time_v() {
        Some(t) => {
            let mut c = Command::new(t);
            c.arg("-v").arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut feeder: Option<Child> = None;
    match input {
        Input::None => {
            cmd.stdin(Stdio::null());
        }
        Input::File(p) => {
            cmd.stdin(File::open(p).unwrap());
        }
        Input::Pipe(p) => {
            let mut cat = Command::new("cat")
                .arg(p)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            cmd.stdin(Stdio::from(cat.stdout.take().unwrap()));
            feeder = Some(cat);
        }
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("baton runs");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > timeout() {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(mut f) = feeder {
                let _ = f.kill();
                let _ = f.wait();
            }
            panic!("baton {args:?} still running after {:?}: killed", timeout());
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = t0.elapsed();
    if let Some(mut f) = feeder {
        let _ = f.wait();
    }
    let stdout = out_t.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    let (stderr, peak_kib) = match time_v() {
        Some(_) => split_time_report(&stderr),
        None => (stderr, None),
    };
    Run {
        // `time -v` exits with the command's code.
        code: status.code(),
        stdout,
        stderr,
        elapsed,
        peak_kib,
    }
}

/// Splits `/usr/bin/time -v`'s report from baton's own standard error.
fn split_time_report(stderr: &str) -> (String, Option<u64>) {
    let mut own = String::new();
    let mut peak = None;
    let mut in_report = false;
    for line in stderr.lines() {
        let t = line.trim();
        if t.starts_with("Command being timed:") || t.starts_with("Command exited with") {
            in_report = true;
        }
        if let Some(v) = t.strip_prefix("Maximum resident set size (kbytes):") {
            peak = v.trim().parse().ok();
        }
        if !in_report {
            own.push_str(line);
            own.push('\n');
        }
    }
    (own, peak)
}

fn baton(args: &[&str]) -> Run {
    baton_with(args, Input::None)
}

fn stats(paths: &[&Path]) -> Run {
    let mut args = vec!["stats", "--format", "json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    baton(&args)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Every file of a stats document: `lines = parsed + skipped`, and the
/// reasons add up to `skipped`.
fn accounted(v: &Value) {
    for f in v["files"].as_array().unwrap() {
        assert_eq!(
            u(&f["lines"]),
            u(&f["parsed"]) + u(&f["skipped"]),
            "lines != parsed + skipped: {f}"
        );
        let by_reason: u64 = f["skipped_by_reason"]
            .as_object()
            .unwrap()
            .values()
            .map(u)
            .sum();
        assert_eq!(by_reason, u(&f["skipped"]), "{f}");
    }
}

/// (lines, parsed, skipped by reason) of file `i`.
fn counts(v: &Value, i: usize) -> (u64, u64, BTreeMap<String, u64>) {
    let f = &v["files"][i];
    let by = f["skipped_by_reason"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), u(n)))
        .collect();
    (u(&f["lines"]), u(&f["parsed"]), by)
}

fn reasons(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// A combined access-log line, one second apart per `i` within a day.
fn access_line(i: u64, status: u16) -> String {
    let s = i % 86_400;
    format!(
        "203.0.113.{} - - [24/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET /p/{i}?q=x HTTP/1.1\" {status} 13 \"-\" \"curl/8.5.0\"\n",
        i % 250 + 1,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn access_log(n: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|i| access_line(i, if i % 7 == 0 { 502 } else { 200 }).into_bytes())
        .collect()
}

/// Writes `n` bytes of `byte` to `w` in 1 MiB pieces.
fn write_repeated(w: &mut impl Write, byte: u8, n: u64) {
    let piece = vec![byte; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(piece.len() as u64) as usize;
        w.write_all(&piece[..k]).unwrap();
        left -= k as u64;
    }
}

// ---------------------------------------------------------------- sizes

#[test]
fn a_huge_line_is_skipped_too_long_in_bounded_memory() {
    let size = size_env("BATON_LIMITS_LINE", "4M");
    let t = Temp::new("hugeline");
    let p = t.path("access.log");
    {
        let mut f = std::io::BufWriter::new(File::create(&p).unwrap());
        f.write_all(&access_log(3)).unwrap();
        // An access line whose path runs on for `size` bytes.
        f.write_all(b"203.0.113.7 - - [24/Nov/2026:01:00:00 +0000] \"GET /")
            .unwrap();
        write_repeated(&mut f, b'a', size);
        f.write_all(b" HTTP/1.1\" 414 0 \"-\" \"-\"\n").unwrap();
        f.write_all(&access_log(3)).unwrap();
    }
    let want = (7, 6, reasons(&[("too_long", 1)]));
    // A regular file (positioned reads), then a pipe (blocks).
    for input in ["file", "pipe"] {
        let run = match input {
            "file" => stats(&[&p]),
            _ => baton_with(&["stats", "--format", "json", "-"], Input::Pipe(p.clone())),
        };
        run.expect_code(0);
        let v = run.json();
        accounted(&v);
        assert_eq!(counts(&v, 0), want, "{input}");
        assert_eq!(v["files"][0]["format"], "nginx-access");
        assert_eq!(v["access"]["requests"], 6);
        let sample = &v["files"][0]["skipped_samples"][0];
        assert_eq!(
            (&sample["line"], &sample["reason"]),
            (&4.into(), &"too_long".into())
        );
        assert!(u(&v["files"][0]["bytes"]) > size);
        run.expect_bounded_memory(&format!("{size} B line ({input})"));
    }
}

#[test]
fn a_file_without_a_newline_is_one_too_long_line() {
    let size = size_env("BATON_LIMITS_NONEWLINE", "16M");
    let t = Temp::new("nonewline");
    let p = t.path("one.log");
    write_repeated(&mut File::create(&p).unwrap(), b'x', size);
    let run = stats(&[&p]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    assert_eq!(counts(&v, 0), (1, 0, reasons(&[("too_long", 1)])));
    assert_eq!(v["files"][0]["format"], "unknown");
    assert_eq!(u(&v["files"][0]["bytes"]), size);
    run.expect_bounded_memory(&format!("{size} B without a newline"));
    // Linear time: every segment of the line used to be probed to its end.
    let budget = Duration::from_secs(5) + Duration::from_secs(size / (50 << 20));
    assert!(run.elapsed < budget, "took {:?}", run.elapsed);
}

#[test]
fn files_of_nuls_are_binary_or_too_long() {
    let size = size_env("BATON_LIMITS_NONEWLINE", "16M");
    let t = Temp::new("nuls");
    // Only NULs, no line end: one line longer than a record may be.
    let big = t.path("zeros.big");
    write_repeated(&mut File::create(&big).unwrap(), 0, size);
    // Under the record limit: one binary line.
    let small = t.path("zeros.small");
    fs::write(&small, vec![0u8; 64 << 10]).unwrap();
    // NUL lines.
    let lines = t.path("zeros.lines");
    fs::write(&lines, b"\0\0\0\0\n".repeat(1000)).unwrap();
    // What a crash leaves in an access log: a block of NULs glued to the
    // start of the next line.
    let crashed = t.path("access.log");
    let mut data = access_log(50);
    let mut glued = vec![0u8; 4096];
    glued.extend_from_slice(access_line(50, 200).as_bytes());
    data.extend_from_slice(&glued);
    data.extend_from_slice(&access_log(50));
    fs::write(&crashed, &data).unwrap();

    let run = stats(&[&big, &small, &lines, &crashed]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    assert_eq!(counts(&v, 0), (1, 0, reasons(&[("too_long", 1)])));
    assert_eq!(counts(&v, 1), (1, 0, reasons(&[("binary", 1)])));
    assert_eq!(counts(&v, 2), (1000, 0, reasons(&[("binary", 1000)])));
    for i in 0..3 {
        assert_eq!(v["files"][i]["format"], "unknown");
        let reason = v["files"][i]["reason"].as_str().unwrap();
        assert!(reason.contains("binary"), "{reason}");
    }
    assert_eq!(v["files"][3]["format"], "nginx-access");
    // The request after the NULs is still read: nothing is lost.
    assert_eq!(counts(&v, 3), (101, 101, reasons(&[])));
    assert_eq!(v["access"]["requests"], 101);
    run.expect_bounded_memory(&format!("{size} NULs"));
}

// ----------------------------------------------------------- encodings

#[test]
fn invalid_utf8_crlf_bom_and_escapes_are_read() {
    let t = Temp::new("encodings");
    // nginx's escape=default writes `\xHH` for quotes and bytes outside
    // printable ASCII; a TLS handshake sent to a plain-HTTP port is a 400
    // whose request is all escapes.
    let escaped = t.path("escaped.log");
    fs::write(
        &escaped,
        concat!(
            "203.0.113.9 - - [24/Nov/2026:11:16:54 +0000] \"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\" 400 157 \"-\" \"-\"\n",
            "203.0.113.9 - - [24/Nov/2026:11:16:55 +0000] \"GET /search?q=\\x22quoted\\x22 HTTP/1.1\" 200 13 \"-\" \"Mozilla/5.0 \\x22evil\\x22 \\xF0\\x9F\\x98\\x80\"\n",
            "203.0.113.9 - - [24/Nov/2026:11:16:56 +0000] \"GET /x HTTP/1.1\" 502 13 \"-\" \"agent \\x5C backslash\"\n",
        ),
    )
    .unwrap();
    // Raw bytes that are not UTF-8 inside quoted fields, CRLF line ends,
    // and a byte order mark before the first line.
    let raw = t.path("raw.log");
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(
        b"203.0.113.9 - - [24/Nov/2026:11:16:57 +0000] \"GET /caf\xe9\xff\xfe HTTP/1.1\" 404 13 \"http://r\xc3\x28/\" \"ua \xff\x80\"\r\n",
    );
    for i in 0..5 {
        data.extend_from_slice(access_line(i, 200).replace('\n', "\r\n").as_bytes());
    }
    data.extend_from_slice(b"\xff\xfe garbage that is no log line \xc0\xaf\r\n");
    fs::write(&raw, &data).unwrap();
    // The same in an error log.
    let error = t.path("error.log");
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(
        b"2026/11/24 11:17:00 [error] 31575#31575: *12 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.9, server: example.com, request: \"GET /caf\xe9\xff HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"ex\xc3\x28ample.com\"\r\n",
    );
    data.extend_from_slice(
        b"2026/11/24 11:17:01 [error] 31575#31575: *13 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.9, server: example.com, request: \"GET /\\x22q\\x22 HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock\", host: \"example.com\"\r\n",
    );
    fs::write(&error, &data).unwrap();

    let run = stats(&[&escaped, &raw, &error]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    assert_eq!(counts(&v, 0), (3, 3, reasons(&[])));
    assert_eq!(counts(&v, 1), (7, 6, reasons(&[("unrecognized", 1)])));
    assert_eq!(counts(&v, 2), (2, 2, reasons(&[])));
    assert_eq!(v["files"][2]["format"], "nginx-error");
    assert_eq!(v["access"]["requests"], 9);
    assert_eq!(v["access"]["status"]["400"], 1);
    assert_eq!(v["access"]["status"]["404"], 1);
    assert_eq!(v["access"]["status"]["502"], 1);
    assert_eq!(v["upstream_errors"]["connect_refused"], 1);
    assert_eq!(v["upstream_errors"]["timed_out"], 1);
    // The skipped line's sample is escaped, not mangled.
    let sample = v["files"][1]["skipped_samples"][0]["text"]
        .as_str()
        .unwrap();
    assert!(sample.starts_with("\\xff\\xfe garbage"), "{sample}");
    assert_eq!(v["files"][1]["skipped_samples"][0]["line"], 7);
    // The text output says the same, without failing on the bytes.
    let text = baton(&["stats", raw.to_str().unwrap()]);
    text.expect_code(0);
    assert!(String::from_utf8(text.stdout).is_ok());
}

// -------------------------------------------------- archives and bombs

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// How many whole lines `zcat` would give of damaged gzip bytes before the
/// damage (flate2, read to the error).
fn lines_before_damage(z: &[u8], gzip: bool) -> u64 {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut r: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(z))
    } else {
        Box::new(zstd::stream::read::Decoder::new(z).unwrap())
    };
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out.iter().filter(|&&b| b == b'\n').count() as u64
}

#[test]
fn truncated_and_corrupt_archives_keep_the_lines_before_the_damage() {
    let t = Temp::new("archives");
    let n = 60_000; // about 5 MB: damage past the first stream block
    let data = access_log(n);
    let gz = gzip(&data);
    let zst = zstd::encode_all(&data[..], 3).unwrap();
    let cut_gz = gz.len() * 3 / 4;
    let cut_zst = zst.len() * 3 / 4;
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let cases: [(&str, &[u8], bool, String); 3] = [
        (
            "access.log.gz",
            &gz[..cut_gz],
            true,
            format!("gzip stream truncated at byte {cut_gz}"),
        ),
        (
            "access.log.zst",
            &zst[..cut_zst],
            false,
            "zstd stream truncated at byte ".to_string(),
        ),
        (
            "flipped.log.gz",
            &flipped,
            true,
            "gzip stream corrupt at byte ".to_string(),
        ),
    ];
    for (name, bytes, is_gzip, message) in cases {
        let p = t.path(name);
        fs::write(&p, bytes).unwrap();
        let path = p.to_str().unwrap();
        // Flipped bytes may decode into garbage before the checksum fails.
        let whole = lines_before_damage(bytes, is_gzip);
        assert!(whole > 1000, "{name}: {whole}");
        for input in ["file", "stdin"] {
            let run = match input {
                "file" => stats(&[&p]),
                _ => baton_with(&["stats", "--format", "json", "-"], Input::File(p.clone())),
            };
            run.expect_code(3);
            let shown = if input == "file" { path } else { "-" };
            assert!(
                run.stderr
                    .contains(&format!("baton: {shown}: cut short: {message}")),
                "{name} ({input}): {}",
                run.stderr
            );
            let v = run.json();
            accounted(&v);
            let f = &v["files"][0];
            assert_eq!(f["format"], "nginx-access", "{name}");
            assert!(f["error"].as_str().unwrap().contains(&message), "{f}");
            assert_eq!(u(&f["compressed_bytes"]), bytes.len() as u64, "{name}");
            // Every whole line decoded before the damage is kept; a line
            // cut by it is counted, not lost.
            let (lines, parsed, by) = counts(&v, 0);
            assert!(
                lines == whole || lines == whole + 1,
                "{name} ({input}): {lines} lines, {whole} decoded"
            );
            assert_eq!(u(&v["access"]["requests"]), parsed);
            if name != "flipped.log.gz" {
                // Cut short, not garbled: every whole line parses.
                assert_eq!(parsed, whole, "{name} ({input}): {by:?}");
            }
        }
    }
}

/// `count` copies of one gzip member (or zstd frame) of `piece` zero bytes.
fn bomb(path: &Path, zstd: bool, piece: usize, count: u64) -> u64 {
    let zeros = vec![0u8; piece];
    let member = if zstd {
        zstd::encode_all(&zeros[..], 19).unwrap()
    } else {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&zeros).unwrap();
        e.finish().unwrap()
    };
    let mut f = std::io::BufWriter::new(File::create(path).unwrap());
    for _ in 0..count {
        f.write_all(&member).unwrap();
    }
    f.flush().unwrap();
    member.len() as u64 * count
}

/// A decompression bomb is read as a stream: memory stays under the
/// documented bound whatever it expands to, and the time is the time to
/// decode it. baton puts no cap on the expansion ratio (see the README).
#[test]
fn decompression_bombs_are_read_in_bounded_memory() {
    let size = size_env("BATON_LIMITS_BOMB", "256M");
    let piece = 1usize << 20;
    let count = size.div_ceil(piece as u64);
    let size = count * piece as u64;
    let t = Temp::new("bomb");
    for (name, zstd) in [("bomb.gz", false), ("bomb.zst", true)] {
        let p = t.path(name);
        let compressed = bomb(&p, zstd, piece, count);
        let run = stats(&[&p]);
        run.expect_code(0);
        let v = run.json();
        accounted(&v);
        let f = &v["files"][0];
        assert_eq!(u(&f["bytes"]), size, "{name}");
        assert_eq!(u(&f["compressed_bytes"]), compressed, "{name}");
        assert_eq!(counts(&v, 0), (1, 0, reasons(&[("too_long", 1)])));
        eprintln!(
            "{name}: {size} B from {compressed} B (ratio {}:1)",
            size / compressed
        );
        run.expect_bounded_memory(name);
    }
}

// ------------------------------------------------------------ odd files

#[test]
fn empty_inputs_dev_null_and_stdin() {
    let t = Temp::new("empty");
    let empty = t.path("empty.log");
    File::create(&empty).unwrap();
    let run = stats(&[&empty, Path::new("/dev/null")]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    for i in 0..2 {
        assert_eq!(counts(&v, i), (0, 0, reasons(&[])));
        assert_eq!(v["files"][i]["format"], "unknown");
        assert_eq!(v["files"][i]["reason"], "empty input");
        assert_eq!(v["files"][i]["bytes"], 0);
    }
    assert_eq!(v["files"][1]["path"], "/dev/null");
    // Empty standard input.
    let run = baton(&["stats", "--format", "json", "-"]);
    run.expect_code(0);
    assert_eq!(run.json()["files"][0]["lines"], 0);
}

fn mkfifo(p: &Path) -> bool {
    match Command::new("mkfifo").arg(p).status() {
        Ok(s) if s.success() => true,
        _ => {
            eprintln!("mkfifo unavailable: FIFO case skipped");
            false
        }
    }
}

/// Regression: a FIFO was opened once to detect its format and again to
/// read it, and the second open waited forever for a writer that was gone.
#[test]
fn a_fifo_is_read_once() {
    let t = Temp::new("fifo");
    let n = 4000; // more than detection reads (256 KiB)
    let data = access_log(n);
    for (name, bytes) in [("plain.fifo", data.clone()), ("gzip.fifo", gzip(&data))] {
        let p = t.path(name);
        if !mkfifo(&p) {
            return;
        }
        let writer = {
            let p = p.clone();
            thread::spawn(move || {
                // Opening blocks until baton opens the other end.
                let mut f = fs::OpenOptions::new().write(true).open(&p).unwrap();
                let _ = f.write_all(&bytes);
            })
        };
        let run = stats(&[&p]);
        run.expect_code(0);
        writer.join().unwrap();
        let v = run.json();
        accounted(&v);
        assert_eq!(counts(&v, 0), (n, n, reasons(&[])), "{name}");
        assert_eq!(v["access"]["requests"], n);
        assert_eq!(v["access"]["status"]["502"], n.div_ceil(7));
    }
}

#[test]
fn a_directory_of_many_small_files() {
    let n = size_env("BATON_LIMITS_FILES", "300");
    let t = Temp::new("many");
    let dir = t.path("logs");
    fs::create_dir(&dir).unwrap();
    for i in 0..n {
        fs::write(dir.join(format!("access-{i:05}.log")), access_log(3)).unwrap();
    }
    let run = stats(&[&dir]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len() as u64, n);
    // Walked in name order.
    assert!(
        files[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("access-00000.log")
    );
    assert!(
        files
            .windows(2)
            .all(|w| w[0]["path"].as_str() < w[1]["path"].as_str())
    );
    assert!(files.iter().all(|f| f["parsed"] == 3));
    assert_eq!(u(&v["access"]["requests"]), 3 * n);
    eprintln!("{n} files: {:.2} s", run.elapsed.as_secs_f64());
    // Each input keeps its own counts until the output is written: about
    // 13 KiB for an access log (its table of 1000 status codes, mostly).
    run.expect_memory_under(&format!("{n} files"), MAX_RSS_MIB * 1024 + n * PER_FILE_KIB);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_not_fatal() {
    use std::os::unix::fs::symlink;
    let t = Temp::new("loops");
    let dir = t.path("logs");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("access.log"), access_log(10)).unwrap();
    fs::write(dir.join("sub/access.log"), access_log(5)).unwrap();
    // A link back to an ancestor, and two links pointing at each other.
    symlink("..", dir.join("sub/up")).unwrap();
    symlink("ping", dir.join("pong")).unwrap();
    symlink("pong", dir.join("ping")).unwrap();
    let run = stats(&[&dir]);
    run.expect_code(3);
    let v = run.json();
    accounted(&v);
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert_eq!(v["access"]["requests"], 15);
    let up = dir.join("sub/up");
    assert!(
        run.stderr.contains(&format!(
            "{}: symlink loop: directory already visited",
            up.display()
        )),
        "{}",
        run.stderr
    );
    for name in ["ping", "pong"] {
        let line = format!("baton: {}: ", dir.join(name).display());
        assert!(run.stderr.contains(&line), "{}", run.stderr);
    }
    // Named on the command line, a looping link is reported the same way.
    let run = stats(&[&dir.join("ping"), &dir.join("access.log")]);
    run.expect_code(3);
    assert_eq!(run.json()["access"]["requests"], 10);
    assert!(run.stderr.contains("ping: "), "{}", run.stderr);
}

/// A file that logrotate truncates, or nginx appends to, while baton reads
/// it: best effort (the outcome depends on timing), but never a panic, a
/// hang or a miscount: `lines = parsed + skipped`, and a shrink that cut
/// the read short says so and exits 3.
#[test]
fn files_that_grow_or_shrink_while_read() {
    let t = Temp::new("moving");
    let data = access_log(200_000); // about 17 MB
    for mode in ["grow", "shrink"] {
        for round in 0..3 {
            let p = t.path(&format!("{mode}-{round}.log"));
            fs::write(&p, &data).unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let changer = {
                let (p, stop) = (p.clone(), Arc::clone(&stop));
                let mode = mode.to_string();
                thread::spawn(move || {
                    let mut f = fs::OpenOptions::new().append(true).open(&p).unwrap();
                    let mut i = 0u64;
                    // Small delays so that some rounds hit the read itself.
                    thread::sleep(Duration::from_millis(round * 3));
                    while !stop.load(Ordering::Relaxed) {
                        if mode == "grow" {
                            f.write_all(access_line(i, 200).as_bytes()).unwrap();
                        } else {
                            let len = f.metadata().unwrap().len();
                            f.set_len(len / 2).unwrap();
                            if len < 1000 {
                                break;
                            }
                            thread::sleep(Duration::from_millis(1));
                        }
                        i += 1;
                    }
                })
            };
            let run = stats(&[&p]);
            stop.store(true, Ordering::Relaxed);
            changer.join().unwrap();
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            let v = run.json();
            accounted(&v);
            match run.code {
                Some(0) => {}
                Some(3) => assert!(
                    run.stderr.contains(&format!("baton: {}: ", p.display())),
                    "{}",
                    run.stderr
                ),
                other => panic!("{mode}: exit {other:?}: {}", run.stderr),
            }
            let (lines, parsed, _) = counts(&v, 0);
            if mode == "grow" {
                // What was there when the scan started is all read (a line
                // being appended then may be cut).
                assert!(lines >= 200_000, "{lines}");
                assert!(parsed + 1 >= lines, "{parsed} of {lines}");
            }
            eprintln!("{mode} round {round}: exit {:?}, {lines} lines", run.code);
        }
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories_are_reported() {
    if running_as_root() {
        // root reads whatever the mode bits say.
        eprintln!("running as root: permission-denied case skipped");
        return;
    }
    let t = Temp::new("perm");
    let dir = t.path("logs");
    fs::create_dir_all(dir.join("closed")).unwrap();
    fs::write(dir.join("a.log"), access_log(4)).unwrap();
    fs::write(dir.join("b.log"), access_log(4)).unwrap();
    fs::write(dir.join("closed/c.log"), access_log(4)).unwrap();
    chmod(&dir.join("b.log"), 0o000).unwrap();
    chmod(&dir.join("closed"), 0o000).unwrap();
    let run = stats(&[&dir]);
    chmod(&dir.join("closed"), 0o755).unwrap();
    run.expect_code(3);
    let v = run.json();
    assert_eq!(v["access"]["requests"], 4);
    for p in [dir.join("b.log"), dir.join("closed")] {
        let want = format!("baton: {}: permission denied", p.display());
        assert!(run.stderr.contains(&want), "{}", run.stderr);
    }
}

// ----------------------------------------------------------------- time

#[test]
fn out_of_order_and_duplicated_lines_are_all_counted() {
    let t = Temp::new("order");
    // Lines in a scrambled order, every one written three times.
    let mut data = Vec::new();
    for k in 0..3 {
        for i in (0..1000u64).map(|i| (i * 617) % 1000) {
            data.extend_from_slice(access_line(i * 60, if k == 0 { 504 } else { 200 }).as_bytes());
        }
    }
    let p = t.path("access.log");
    fs::write(&p, &data).unwrap();
    let err = t.path("error.log");
    fs::write(
        &err,
        concat!(
            "2026/11/24 12:00:00 [error] 1#1: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock\", host: \"x\"\n",
            "2026/11/24 09:00:00 [error] 1#1: *1 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock\", host: \"x\"\n",
            "2026/11/24 12:00:00 [error] 1#1: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock\", host: \"x\"\n",
        ),
    )
    .unwrap();
    let run = stats(&[&p, &err]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    assert_eq!(counts(&v, 0), (3000, 3000, reasons(&[])));
    assert_eq!(v["access"]["requests"], 3000);
    assert_eq!(v["access"]["status"]["504"], 1000);
    // The time range is the earliest and latest time, not the first and last line's.
    assert_eq!(v["files"][0]["first_time"], "2026-11-24T00:00:00+00:00");
    assert_eq!(v["files"][0]["last_time"], "2026-11-24T16:39:00+00:00");
    assert_eq!(v["upstream_errors"]["timed_out"], 3);
    assert_eq!(v["files"][1]["first_time"], "2026-11-24T09:00:00+00:00");
    assert_eq!(v["files"][1]["last_time"], "2026-11-24T12:00:00+00:00");
}

#[test]
fn times_from_1970_to_2100_and_beyond() {
    let t = Temp::new("epochs");
    let access = t.path("access.log");
    fs::write(
        &access,
        concat!(
            "203.0.113.9 - - [01/Jan/1970:00:00:00 +0000] \"GET /epoch HTTP/1.1\" 200 1 \"-\" \"-\"\n",
            "203.0.113.9 - - [01/Jan/1970:00:30:00 +0100] \"GET /before-epoch HTTP/1.1\" 200 1 \"-\" \"-\"\n",
            "203.0.113.9 - - [31/Dec/2100:23:59:59 +0000] \"GET /2100 HTTP/1.1\" 502 1 \"-\" \"-\"\n",
            "203.0.113.9 - - [24/Nov/2026:11:16:57 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n",
        ),
    )
    .unwrap();
    let error = t.path("error.log");
    fs::write(
        &error,
        concat!(
            "1970/01/01 00:00:00 [error] 1#1: *1 upstream prematurely closed connection while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock:\", host: \"x\"\n",
            "2100/12/31 23:59:59 [error] 1#1: *2 upstream prematurely closed connection while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock:\", host: \"x\"\n",
        ),
    )
    .unwrap();
    let dmesg = t.path("dmesg.txt");
    fs::write(
        &dmesg,
        concat!(
            "[Thu Jan  1 00:00:05 1970] php-fpm8.2[20950]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
            "[Fri Dec 31 23:59:59 2100] php-fpm8.2[20951]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
        ),
    )
    .unwrap();
    let run = stats(&[&access, &error, &dmesg]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    assert_eq!(counts(&v, 0), (4, 4, reasons(&[])));
    // The earliest instant, written with its own offset: 1969-12-31T23:30Z.
    assert_eq!(v["files"][0]["first_time"], "1970-01-01T00:30:00+01:00");
    assert_eq!(v["files"][0]["last_time"], "2100-12-31T23:59:59+00:00");
    assert_eq!(counts(&v, 1), (2, 2, reasons(&[])));
    assert_eq!(v["upstream_errors"]["premature_close"], 2);
    assert_eq!(v["files"][1]["first_time"], "1970-01-01T00:00:00+00:00");
    assert_eq!(v["files"][1]["last_time"], "2100-12-31T23:59:59+00:00");
    assert_eq!(v["files"][2]["format"], "kernel");
    assert_eq!(counts(&v, 2), (2, 2, reasons(&[])));
    assert_eq!(v["kernel"]["segfaults"], 2);
    assert_eq!(v["files"][2]["last_time"], "2100-12-31T23:59:59+00:00");
}

#[test]
fn a_journal_spanning_two_new_years() {
    let t = Temp::new("newyears");
    let journal = t.path("journal.txt");
    fs::write(
        &journal,
        concat!(
            "Dec 31 23:59:58 web php-fpm8.2[100]: [NOTICE] fpm is running, pid 100\n",
            "Jan  1 00:00:01 web php-fpm8.2[100]: [NOTICE] ready to handle connections\n",
            "Jun 15 12:00:00 web systemd[1]: Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.\n",
            "Dec 31 23:59:59 web php-fpm8.2[100]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it\n",
            "Jan  1 00:00:02 web php-fpm8.2[100]: [WARNING] [pool www] child 2000 exited on signal 11 (SIGSEGV) after 10.000000 seconds from start\n",
        ),
    )
    .unwrap();
    let run = baton(&[
        "stats",
        "--format",
        "json",
        "--year",
        "2024",
        journal.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    let j = &v["files"][0];
    assert_eq!(j["format"], "journal");
    assert_eq!(counts(&v, 0), (5, 5, reasons(&[])));
    assert_eq!(
        (&j["year"], &j["year_source"]),
        (&2024.into(), &"--year".into())
    );
    assert_eq!(j["first_time"], "2024-12-31T23:59:58+00:00");
    assert_eq!(j["last_time"], "2026-01-01T00:00:02+00:00");
    assert_eq!(v["fpm"]["max_children_reached"], 1);
    assert_eq!(v["fpm"]["child_signals"]["SIGSEGV"], 1);
}

/// kern.log lines (the kernel format's yearless form) spanning two New
/// Years: a month more than six before the last one is the next year (the
/// journal's rule), inside one file and across its parallel chunks.
#[test]
fn a_kern_log_spanning_two_new_years() {
    let t = Temp::new("kernnewyears");
    let kern = t.path("kern.log");
    fs::write(
        &kern,
        concat!(
            "Dec 31 23:00:00 web kernel: [100.000001] php-fpm8.2[20950]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
            "May  1 00:00:00 web kernel: [200.000001] php-fpm8.2[20951]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
            "Dec 30 00:00:00 web kernel: [250.000001] php-fpm8.2[20953]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
            "Jan  2 00:00:00 web kernel: [300.000001] php-fpm8.2[20952]: segfault at 0 ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 4 in php-fpm8.2[2f9bb9,55803ab5f000+316000]\n",
        ),
    )
    .unwrap();
    let run = baton(&[
        "stats",
        "--format",
        "json",
        "--year",
        "2024",
        kern.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let v = run.json();
    accounted(&v);
    let k = &v["files"][0];
    assert_eq!(k["format"], "kernel");
    assert_eq!(counts(&v, 0), (4, 4, reasons(&[])));
    assert_eq!(k["first_time"], "2024-12-31T23:00:00+00:00");
    assert_eq!(k["last_time"], "2026-01-02T00:00:00+00:00");
    assert_eq!(v["kernel"]["segfaults"], 4);
}
