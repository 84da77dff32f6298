//! Inputs: files, directories walked recursively, and standard input.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use baton_logparse::decode::Decoder;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A regular file (or anything `open` reads: a FIFO, `/dev/null`).
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name shown in output.
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }

    /// The path, for files.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Input::File(p) => Some(p),
            Input::Stdin => None,
        }
    }

    /// Whether the input can be read only once (standard input, a FIFO, a
    /// character device): the bytes detection reads must be kept for the
    /// scan, since opening it again would wait for a writer that is gone.
    pub fn read_once(&self) -> bool {
        match self {
            Input::File(p) => !fs::metadata(p).is_ok_and(|m| m.is_file()),
            Input::Stdin => true,
        }
    }

    /// Opens the input for the scan driver: regular files are read by
    /// positioned reads in parallel, anything else as a stream.
    pub fn open_source(&self) -> io::Result<baton_logparse::summary::Source> {
        use baton_logparse::summary::Source;
        match self {
            Input::File(p) => {
                let f = fs::File::open(p)?;
                if f.metadata()?.is_file() {
                    Ok(Source::File(f))
                } else {
                    Ok(Source::Stream(Box::new(f)))
                }
            }
            Input::Stdin => Ok(Source::Stream(Box::new(io::stdin()))),
        }
    }

    /// Opens the input for reading its decompressed bytes: gzip and zstd
    /// are recognized by their magic bytes, anything else passes through.
    pub fn open_decoded(&self) -> io::Result<Decoder> {
        match self {
            Input::File(p) => Decoder::new(fs::File::open(p)?),
            Input::Stdin => Decoder::new(io::stdin()),
        }
    }
}

/// A path that could not be read, with the reason.
#[derive(Debug)]
pub struct InputError {
    /// The path as given or found.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Expands the command line's paths into inputs, in the order given;
/// directories are walked recursively in name order. Unreadable paths and
/// symlink loops are returned as errors, not fatal.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut seen = HashSet::new();
                walk(p, &mut seen, &mut inputs, &mut errors);
            }
            Ok(_) => inputs.push(Input::File(p.clone())),
            Err(e) => errors.push(InputError {
                path: p.display().to_string(),
                reason: io_reason(&e),
            }),
        }
    }
    (inputs, errors)
}

fn walk(
    dir: &Path,
    seen: &mut HashSet<PathBuf>,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<InputError>,
) {
    let canon = match fs::canonicalize(dir) {
        Ok(c) => c,
        Err(e) => {
            errors.push(InputError {
                path: dir.display().to_string(),
                reason: io_reason(&e),
            });
            return;
        }
    };
    if !seen.insert(canon) {
        errors.push(InputError {
            path: dir.display().to_string(),
            reason: "symlink loop: directory already visited".to_string(),
        });
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            errors.push(InputError {
                path: dir.display().to_string(),
                reason: io_reason(&e),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        match fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, seen, inputs, errors),
            Ok(_) => inputs.push(Input::File(p)),
            Err(e) => errors.push(InputError {
                path: p.display().to_string(),
                reason: io_reason(&e),
            }),
        }
    }
}

/// A short reason for an I/O error: `permission denied`, `no such file or directory`, ...
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads up to `limit` bytes (fewer only at the end of the input).
pub fn read_sample(r: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(limit.min(1 << 20));
    r.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads up to `limit` bytes like [`read_sample`], but keeps what was read
/// before an error and returns the error beside it (a damaged archive is
/// still detected from the lines before the damage).
pub fn read_sample_partial(r: &mut dyn Read, limit: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut buf = Vec::with_capacity(limit.min(1 << 20));
    let mut chunk = vec![0u8; 64 * 1024];
    while buf.len() < limit {
        let want = chunk.len().min(limit - buf.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (buf, Some(e)),
        }
    }
    (buf, None)
}

/// A reader that fails once with a stored error, then reads as empty: the
/// rest of a stream whose sample read already failed.
pub struct Failed(pub Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}
