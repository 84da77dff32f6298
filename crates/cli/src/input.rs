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
/// directories are walked recursively in name order. A file reached
/// through several of the paths (given twice, a directory and a file or
/// folder inside it, a plain path and `--node NAME=PATH`) is read once, at
/// its first place. Nothing here is fatal: what cannot be walked or read
/// is returned as an error beside the inputs that can (see [`Walk`]).
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut once = |inputs: &mut Vec<Input>, p: PathBuf| {
        // Only regular files: a FIFO or a device named twice is opened as
        // asked.
        let regular = fs::metadata(&p).is_ok_and(|m| m.is_file());
        let fresh = !regular || fs::canonicalize(&p).map_or(true, |c| seen.insert(c));
        if fresh {
            inputs.push(Input::File(p));
        }
    };
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut walk = Walk::default();
                walk.dir(p);
                for i in walk.inputs() {
                    if let Input::File(f) = i {
                        once(&mut inputs, f);
                    }
                }
                errors.append(&mut walk.errors);
            }
            Ok(_) => once(&mut inputs, p.clone()),
            Err(e) => errors.push(InputError {
                path: p.display().to_string(),
                reason: path_reason(p, &e),
            }),
        }
    }
    (inputs, errors)
}

/// A recursive walk of one directory given on the command line.
///
/// - A symbolic link back to a directory being walked (an ancestor) is a
///   loop: reported, and not followed.
/// - A directory or file reached a second time through another link is
///   read once, under its own name when the walk meets that too.
/// - Entries that cannot be read (permission denied, a link to nowhere or
///   to itself, a directory that fails while listed) are reported with the
///   reason, and the walk goes on.
/// - FIFOs, sockets and devices found in a directory are reported and not
///   opened (a FIFO would wait for a writer); named on the command line
///   they are read.
#[derive(Default)]
struct Walk {
    /// Canonical paths of the directories on the current path.
    stack: Vec<PathBuf>,
    /// Canonical paths of the directories walked.
    visited: HashSet<PathBuf>,
    /// Files found: path, canonical path, whether the entry is a link.
    files: Vec<(PathBuf, Option<PathBuf>, bool)>,
    errors: Vec<InputError>,
}

impl Walk {
    fn error(&mut self, path: &Path, reason: String) {
        self.errors.push(InputError {
            path: path.display().to_string(),
            reason,
        });
    }

    fn dir(&mut self, dir: &Path) {
        let canon = match fs::canonicalize(dir) {
            Ok(c) => c,
            Err(e) => return self.error(dir, path_reason(dir, &e)),
        };
        if self.stack.contains(&canon) {
            return self.error(dir, "symlink loop: directory already visited".to_string());
        }
        if !self.visited.insert(canon.clone()) {
            return; // walked already, through another link
        }
        let entries = match fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => return self.error(dir, io_reason(&e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => paths.push(e.path()),
                Err(e) => self.error(dir, format!("listing failed: {}", io_reason(&e))),
            }
        }
        paths.sort();
        // A Docker container's directory holds the runtime's own files
        // beside its log: they are no logs, and are left out of walks.
        if crate::containers::is_docker_dir(dir, &paths) {
            paths.retain(|p| !crate::containers::is_docker_own_file(p));
        }
        self.stack.push(canon);
        for p in paths {
            let link = fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
            match fs::metadata(&p) {
                Ok(m) if m.is_dir() => self.dir(&p),
                Ok(m) if m.is_file() => {
                    let canon = fs::canonicalize(&p).ok();
                    self.files.push((p, canon, link));
                }
                Ok(m) => {
                    let reason = format!("not a regular file ({}): skipped", special_kind(&m));
                    self.error(&p, reason);
                }
                Err(e) => {
                    let reason = path_reason(&p, &e);
                    self.error(&p, reason);
                }
            }
        }
        self.stack.pop();
    }

    /// The files found, in walk order, each file once: where links lead
    /// to a file also found under its own name, that name is kept.
    fn inputs(&mut self) -> Vec<Input> {
        let mut chosen: std::collections::HashMap<&Path, usize> = Default::default();
        for (i, (_, canon, link)) in self.files.iter().enumerate() {
            let Some(c) = canon else { continue };
            // A name of its own wins over a link's.
            let replace = chosen
                .get(c.as_path())
                .is_none_or(|&j| self.files[j].2 && !link);
            if replace {
                chosen.insert(c, i);
            }
        }
        self.files
            .iter()
            .enumerate()
            .filter(|(i, (_, canon, _))| canon.as_ref().is_none_or(|c| chosen[c.as_path()] == *i))
            .map(|(_, (p, _, _))| Input::File(p.clone()))
            .collect()
    }
}

/// What kind of special file `m` describes: `fifo`, `socket`, `device`.
fn special_kind(m: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "fifo";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    let _ = m;
    "special file"
}

/// `ELOOP`: too many levels of symbolic links.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ELOOP: i32 = 40;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ELOOP: i32 = 62;

/// The reason a path could not be followed: [`io_reason`], with symbolic
/// links that loop or lead nowhere named as such.
pub fn path_reason(path: &Path, e: &io::Error) -> String {
    if e.raw_os_error() == Some(ELOOP) {
        return "symlink loop: too many levels of symbolic links".to_string();
    }
    let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if link && e.kind() == io::ErrorKind::NotFound {
        return "broken symlink: no such file or directory".to_string();
    }
    io_reason(e)
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

/// The log a rotated file belongs to: its name without the suffixes
/// logrotate adds (`.1`, `.2.gz`, `.zst`, `-20261124`), e.g. `access.log`
/// for `access.log.14.gz` and `error.log-20261124.gz`; the live file's
/// name is its own base.
pub fn rotation_base(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut base = name.as_str();
    loop {
        let before = base.len();
        for ext in [".gz", ".zst"] {
            if let Some(b) = base.strip_suffix(ext) {
                base = b;
            }
        }
        if let Some((b, n)) = base.rsplit_once('.')
            && !b.is_empty()
            && !n.is_empty()
            && ((n.len() <= 6 && n.bytes().all(|c| c.is_ascii_digit())) || kubelet_stamp(n))
        {
            base = b;
        }
        if let Some((b, d)) = base.rsplit_once('-')
            && !b.is_empty()
            && (8..=14).contains(&d.len())
            && d.bytes().all(|c| c.is_ascii_digit())
        {
            base = b;
        }
        if base.len() == before {
            return base.to_string();
        }
    }
}

/// The kubelet's rotation stamp, `YYYYMMDD-HHMMSS` (`0.log.20231106-210949`).
fn kubelet_stamp(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() == 15 && b[8] == b'-' && b[..8].iter().chain(&b[9..]).all(|c| c.is_ascii_digit())
}

/// Where a file stands in logrotate's naming, oldest first: the highest
/// `.N` is the oldest, a `-YYYYMMDD` date orders by date, the live file
/// (no suffix) is the newest. Only for sets whose times cannot say.
pub fn rotation_rank(path: &Path) -> (bool, u64, std::cmp::Reverse<u64>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.trim_end_matches(".gz").trim_end_matches(".zst");
    let number = name
        .rsplit_once('.')
        .and_then(|(_, n)| n.parse::<u64>().ok().filter(|_| n.len() <= 6));
    // The kubelet's `.YYYYMMDD-HHMMSS`: a date and time.
    let stamp = name
        .rsplit_once('.')
        .filter(|(_, n)| kubelet_stamp(n))
        .and_then(|(_, n)| n.replace('-', "").parse::<u64>().ok());
    let date = stamp.or_else(|| {
        name.rsplit_once('-')
            .map(|(_, d)| d.split('.').next().unwrap_or(d))
            .filter(|d| (8..=14).contains(&d.len()))
            .and_then(|d| d.parse::<u64>().ok())
    });
    let live = number.is_none() && date.is_none();
    (
        live,
        date.unwrap_or(0),
        std::cmp::Reverse(number.unwrap_or(0)),
    )
}

/// Seconds in the year the times of yearless members are placed in to be
/// compared (2000: a leap year, so that 29 February has a place).
pub const YEARLESS_KEY_YEAR: i32 = 2000;
const YEAR_S: i64 = 366 * 86_400;

/// The order, oldest first, of the members of a rotated set of yearless
/// logs, from the time of year of each one's first line (seconds since
/// 1 January): times of year are on a circle, and the set is assumed to
/// span less than a year, so it starts after the widest gap between
/// consecutive first times. Returns the order and, for each position in
/// it, the New Years passed since the oldest member's first line.
pub fn yearless_order(keys: &[i64]) -> (Vec<usize>, Vec<i32>) {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let key = |i: usize| keys[i].rem_euclid(YEAR_S);
    order.sort_by_key(|&i| key(i));
    if order.len() > 1 {
        // The gap before each member, the one before the first wrapping
        // around the New Year.
        let n = order.len();
        let widest = (0..n)
            .max_by_key(|&j| {
                let prev = key(order[(j + n - 1) % n]);
                let gap = (key(order[j]) - prev).rem_euclid(YEAR_S);
                // On equal gaps, the earliest start in the year wins.
                (gap, std::cmp::Reverse(j))
            })
            .unwrap_or(0);
        order.rotate_left(widest);
    }
    let mut years = Vec::with_capacity(order.len());
    let mut passed = 0;
    for (j, &i) in order.iter().enumerate() {
        if j > 0 && key(i) < key(order[j - 1]) {
            passed += 1;
        }
        years.push(passed);
    }
    (order, years)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_bases() {
        for (name, base) in [
            ("access.log", "access.log"),
            ("access.log.1", "access.log"),
            ("access.log.14.gz", "access.log"),
            ("error.log.2.zst", "error.log"),
            ("error.log-20261124", "error.log"),
            ("error.log-20261124.gz", "error.log"),
            ("php8.2-fpm.log.3.gz", "php8.2-fpm.log"),
            ("kern.log", "kern.log"),
            ("syslog.7.gz", "syslog"),
            ("2026.log", "2026.log"),
            (".1", ".1"),
        ] {
            assert_eq!(rotation_base(Path::new(name)), base, "{name}");
        }
    }

    #[test]
    fn rotation_ranks_put_the_oldest_first() {
        let mut names = vec![
            "access.log",
            "access.log.1",
            "access.log.10.gz",
            "access.log.2.gz",
        ];
        names.sort_by_key(|n| rotation_rank(Path::new(n)));
        assert_eq!(
            names,
            [
                "access.log.10.gz",
                "access.log.2.gz",
                "access.log.1",
                "access.log"
            ]
        );
        let mut names = vec!["e.log", "e.log-20261124.gz", "e.log-20261117.gz"];
        names.sort_by_key(|n| rotation_rank(Path::new(n)));
        assert_eq!(names, ["e.log-20261117.gz", "e.log-20261124.gz", "e.log"]);
    }

    #[test]
    fn yearless_sets_start_after_the_widest_gap() {
        let day = 86_400;
        // 28 Dec, 1 Jan, 20 Dec, 4 Jan: the set runs 20 Dec .. 4 Jan.
        let keys = [361 * day, 0, 353 * day, 3 * day];
        let (order, years) = yearless_order(&keys);
        assert_eq!(order, [2, 0, 1, 3]);
        assert_eq!(years, [0, 0, 1, 1]);
        // Inside one year.
        let (order, years) = yearless_order(&[50 * day, 10 * day, 30 * day]);
        assert_eq!(order, [1, 2, 0]);
        assert_eq!(years, [0, 0, 0]);
        assert_eq!(yearless_order(&[5]), (vec![0], vec![0]));
    }
}
