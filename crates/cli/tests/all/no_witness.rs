//! No false all-clear: `baton report` exits 4, and says so first, when no
//! input can show a gateway error over the window asked for.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton_with(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("baton runs");
    if let Some(bytes) = stdin {
        let mut w = child.stdin.take().unwrap();
        w.write_all(bytes).unwrap();
    }
    child.wait_with_output().expect("baton ends")
}

fn baton(args: &[&str]) -> Output {
    baton_with(args, None)
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-nw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit 4, and the first line says what was read and that nothing could
/// show a gateway error; never the all-clear.
fn assert_blind(out: &Output, read: &str) {
    let t = text(out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "stdout: {t}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = t.lines().next().unwrap_or_default();
    assert!(first.contains(read), "first line: {first}");
    assert!(
        first.contains("can show a gateway error"),
        "first line: {first}"
    );
    assert!(!t.contains("were isolated"), "{t}");
    assert!(!t.contains("no incident in"), "{t}");
}

#[test]
fn empty_directory_exits_4() {
    let d = tempdir("empty-dir");
    let out = baton(&["report", d.to_str().unwrap()]);
    assert_blind(&out, "read no file");
}

#[test]
fn empty_file_exits_4() {
    let d = tempdir("empty-file");
    let f = d.join("access.log");
    std::fs::write(&f, b"").unwrap();
    let out = baton(&["report", f.to_str().unwrap()]);
    assert_blind(&out, "read 1 file");
}

#[test]
fn non_log_file_exits_4() {
    let d = tempdir("png");
    let f = d.join("error.log");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0u8..=255).cycle().take(600));
    std::fs::write(&f, png).unwrap();
    let out = baton(&["report", f.to_str().unwrap()]);
    assert_blind(&out, "(unknown)");
}

#[test]
fn empty_stdin_exits_4() {
    let out = baton_with(&["report", "-"], Some(b""));
    assert_blind(&out, "read 1 file: - (unknown)");
}

#[test]
fn logs_that_cannot_show_a_gateway_error_exit_4() {
    let out = baton(&["report", "testdata/sample/php-fpm.log"]);
    assert_blind(&out, "testdata/sample/php-fpm.log (fpm-log)");
}

#[test]
fn a_window_no_log_covers_exits_4() {
    let out = baton(&[
        "report",
        "--since",
        "2026-11-25T00:00:00Z",
        "testdata/sample/access.log",
        "testdata/sample/error.log",
    ]);
    assert_blind(&out, "read 2 files");
    assert!(
        text(&out)
            .lines()
            .next()
            .unwrap()
            .contains("window asked for")
    );
}

#[test]
fn json_says_it_in_the_first_warning() {
    let d = tempdir("json");
    let out = baton(&["report", "--format", "json", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = v["warnings"][0].as_str().unwrap();
    assert!(w.contains("can show a gateway error"), "{w}");
}

#[test]
fn an_input_error_outranks_4() {
    let out = baton(&["report", "testdata/no-such-dir-for-baton"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn four_outranks_fail_on() {
    // A verdictless set still exits 4 with --fail-on, not 1 or 0.
    let d = tempdir("fail-on");
    let out = baton(&["report", "--fail-on", "incident", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn a_real_set_exits_0() {
    let out = baton(&["report", "testdata/sample"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("can show a gateway error"));
}

#[test]
fn a_quiet_window_says_what_was_read_and_when() {
    let out = baton(&[
        "report",
        "--since",
        "2026-11-24T11:16:51Z",
        "--until",
        "2026-11-24T11:16:54Z",
        "testdata/sample/access.log",
        "testdata/sample/error.log",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    let line = t
        .lines()
        .find(|l| l.starts_with("no incident"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(line.contains("access log 2026-11-24 11:16:"), "{line}");
    assert!(line.contains("error log 2026-11-24 11:16:"), "{line}");
    assert!(
        line.ends_with("no gateway error outside the background"),
        "{line}"
    );
}
