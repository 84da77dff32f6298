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
            && last.contains("7/7 files"),
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
