//! Configuration read beside the logs: nginx's (`nginx -T` output or
//! `.conf` files, format `nginx-config`) and php-fpm's (`php-fpm -tt`
//! output or its ini files, format `fpm-config`).
//!
//! Each parser reads a whole file (configurations are small) into a syntax
//! tree that keeps every directive, known or not, with the file and line
//! it was read at, and accounts for every physical line:
//! `lines = parsed + skipped` (blank lines are skipped as `empty`, lines
//! that are not the grammar's as `unrecognized`). Bad input is never an
//! error. [`nginx::facts`] and [`fpm::facts`] then resolve what bears on a
//! 502/504 (where nginx passes FastCGI requests, its timeouts with their
//! inheritance and defaults, each pool's socket, process manager and
//! timeouts) into [`ConfigFacts`], which the correlator checks.

use std::io::Read as _;

use serde::Serialize;

use crate::error::SkipReason;
use crate::scan::{SAMPLES_PER_REASON, SkipSample, Tally};

pub mod fpm;
pub mod nginx;

pub use fpm::{FpmConfig, FpmFacts, Pool};
pub use nginx::{NginxConfig, NginxFacts};

/// Where a directive was read: the file as the configuration names it
/// (`nginx -T`'s `# configuration file PATH:` headers), else the input's
/// path, and the 1-based line in that file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct Ref {
    /// The file.
    pub file: String,
    /// The line (1-based).
    pub line: u32,
}

/// A value with where it was set; `at: None` is the program's default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it was set (`None`: the default).
    pub at: Option<Ref>,
}

impl<T> Setting<T> {
    /// A default value, set nowhere.
    pub fn default_value(value: T) -> Setting<T> {
        Setting { value, at: None }
    }
}

/// Every configuration fact read, nginx's and php-fpm's, merged over the
/// inputs of each kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigFacts {
    /// nginx's (`None`: no nginx configuration was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nginx: Option<NginxFacts>,
    /// php-fpm's (`None`: no php-fpm configuration was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fpm: Option<FpmFacts>,
    /// The machine's memory (bytes), when known: what
    /// `pm.max_children` × `memory_limit` is checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Where `memory_bytes` came from (`--memory`, `the kernel's OOM
    /// report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_source: Option<String>,
}

impl ConfigFacts {
    /// Facts from the parsed inputs of both kinds.
    pub fn from_parsed(nginx: &[&NginxConfig], fpm: &[&FpmConfig]) -> ConfigFacts {
        ConfigFacts {
            nginx: (!nginx.is_empty()).then(|| nginx::facts(nginx)),
            fpm: (!fpm.is_empty()).then(|| fpm::facts(fpm)),
            memory_bytes: None,
            memory_source: None,
        }
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.nginx.is_none() && self.fpm.is_none()
    }
}

/// The configuration format `sample` is, if it is one (see
/// [`nginx::looks_like`] and [`fpm::looks_like`]).
pub fn detect(sample: &[u8]) -> Option<crate::Format> {
    if fpm::looks_like(sample) {
        Some(crate::Format::FpmConfig)
    } else if nginx::looks_like(sample) {
        Some(crate::Format::NginxConfig)
    } else {
        None
    }
}

/// One parsed configuration input, of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `nginx-config`.
    Nginx(NginxConfig),
    /// `fpm-config`.
    Fpm(FpmConfig),
}

impl Parsed {
    /// Its line accounting.
    pub fn tally(&self) -> &Tally {
        match self {
            Parsed::Nginx(c) => &c.tally,
            Parsed::Fpm(c) => &c.tally,
        }
    }

    /// Names the file of what was read before any `# configuration file`
    /// header (parsers inside [`crate::summary`] do not know the path).
    pub fn name_file(&mut self, path: &str) {
        match self {
            Parsed::Nginx(c) => {
                for s in c.sections.iter_mut().filter(|s| s.file.is_empty()) {
                    s.file = path.to_string();
                }
            }
            Parsed::Fpm(c) if c.file.is_empty() => c.file = path.to_string(),
            Parsed::Fpm(_) => {}
        }
    }
}

/// Reads a whole configuration input of `format` (up to
/// [`MAX_CONFIG_BYTES`]; the lines beyond are counted as skipped) and
/// parses it; refs name the file `""` until [`Parsed::name_file`].
/// Returns the read error that cut it short, if any.
pub fn read(
    mut r: impl std::io::Read,
    format: crate::Format,
) -> (Parsed, Option<crate::error::Error>) {
    let mut buf = Vec::new();
    let mut err = None;
    let limit = MAX_CONFIG_BYTES as u64 + 1;
    if let Err(e) = r.by_ref().take(limit).read_to_end(&mut buf) {
        err = Some(crate::error::Error::io(e, buf.len() as u64));
    }
    // Past the limit, the rest is only counted.
    let mut extra = (0u64, 0u64);
    if buf.len() > MAX_CONFIG_BYTES && err.is_none() {
        let mut ended = buf[MAX_CONFIG_BYTES - 1] == b'\n';
        let mut chunk = vec![0u8; 64 << 10];
        let tail = buf.split_off(MAX_CONFIG_BYTES);
        let mut count = |b: &[u8], ended: &mut bool| {
            extra.0 += b.len() as u64;
            extra.1 += memchr::memchr_iter(b'\n', b).count() as u64;
            if let Some(&last) = b.last() {
                *ended = last == b'\n';
            }
        };
        let started = ended;
        count(&tail, &mut ended);
        loop {
            match r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => count(&chunk[..n], &mut ended),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    err = Some(crate::error::Error::io(
                        e,
                        MAX_CONFIG_BYTES as u64 + extra.0,
                    ));
                    break;
                }
            }
        }
        // An unterminated last line is a line; a first line continuing
        // the last one parsed is not another.
        if !ended {
            extra.1 += 1;
        }
        if !started {
            extra.1 = extra.1.saturating_sub(1);
        }
    }
    let mut parsed = match format {
        crate::Format::FpmConfig => Parsed::Fpm(fpm::parse(&buf, "")),
        _ => Parsed::Nginx(nginx::parse(&buf, "")),
    };
    let t = match &mut parsed {
        Parsed::Nginx(c) => &mut c.tally,
        Parsed::Fpm(c) => &mut c.tally,
    };
    t.bytes += extra.0;
    t.lines += extra.1;
    t.skipped_by_reason[SkipReason::TooLong.index()] += extra.1;
    (parsed, err)
}

/// The largest configuration input read (bytes); anything beyond is
/// counted as skipped `too_long` lines.
pub const MAX_CONFIG_BYTES: usize = 64 << 20;

/// Per physical line: how the parser used it. The worst mark wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    Untouched,
    Parsed,
    Bad,
}

/// The line accounting of one input: each byte range the parser used is
/// marked on its lines, and [`LineMarks::tally`] turns the marks into a
/// [`Tally`].
struct LineMarks<'a> {
    input: &'a [u8],
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    marks: Vec<Mark>,
}

impl<'a> LineMarks<'a> {
    fn new(input: &'a [u8]) -> LineMarks<'a> {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', input).map(|i| i + 1));
        if starts.last() == Some(&input.len()) && !input.is_empty() {
            starts.pop();
        }
        if input.is_empty() {
            starts.clear();
        }
        let marks = vec![Mark::Untouched; starts.len()];
        LineMarks {
            input,
            starts,
            marks,
        }
    }

    /// The 0-based line holding byte `at`.
    fn line_of(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at).saturating_sub(1)
    }

    /// Marks the lines of bytes `from..to` (at least the line of `from`).
    fn mark(&mut self, from: usize, to: usize, m: Mark) {
        if self.marks.is_empty() {
            return;
        }
        let a = self.line_of(from);
        let b = self.line_of(to.saturating_sub(1).max(from));
        for x in &mut self.marks[a..=b] {
            *x = (*x).max(m);
        }
    }

    /// The line (0-based) and its bytes without the newline.
    fn line(&self, n: usize) -> &'a [u8] {
        let s = self.starts[n];
        let e = self.starts.get(n + 1).copied().unwrap_or(self.input.len());
        let l = &self.input[s..e];
        let l = l.strip_suffix(b"\n").unwrap_or(l);
        l.strip_suffix(b"\r").unwrap_or(l)
    }

    fn tally(&self, extra_bytes: u64, extra_lines: u64) -> Tally {
        let mut t = Tally {
            bytes: self.input.len() as u64 + extra_bytes,
            ..Tally::default()
        };
        let skip = |t: &mut Tally, reason: SkipReason, n: usize, text: &[u8]| {
            t.lines += 1;
            t.skipped_by_reason[reason.index()] += 1;
            if t.samples.iter().filter(|s| s.reason == reason).count() < SAMPLES_PER_REASON {
                t.samples.push(SkipSample {
                    reason,
                    line: n as u64 + 1,
                    offset: self.starts[n] as u64,
                    text: text[..text.len().min(crate::scan::SAMPLE_BYTES)].to_vec(),
                });
            }
        };
        for (n, m) in self.marks.iter().enumerate() {
            let text = self.line(n);
            match m {
                Mark::Bad => skip(&mut t, SkipReason::Unrecognized, n, text),
                Mark::Untouched if text.trim_ascii().is_empty() => {
                    skip(&mut t, SkipReason::Empty, n, text)
                }
                _ => {
                    t.lines += 1;
                    t.parsed += 1;
                }
            }
        }
        if extra_lines > 0 {
            t.lines += extra_lines;
            t.skipped_by_reason[SkipReason::TooLong.index()] += extra_lines;
        }
        t
    }
}

/// Counts the lines of bytes past [`MAX_CONFIG_BYTES`] (a partial first
/// line continues the last line read, so it is not counted again).
fn rest_lines(rest: &[u8], last_ended: bool) -> u64 {
    let mut n = memchr::memchr_iter(b'\n', rest).count() as u64;
    if !rest.is_empty() && rest.last() != Some(&b'\n') {
        n += 1;
    }
    if !last_ended && !rest.is_empty() {
        n = n.saturating_sub(1);
    }
    n
}

/// Splits an input at [`MAX_CONFIG_BYTES`]: the part parsed, and the
/// bytes and lines of the rest.
fn split_input(input: &[u8]) -> (&[u8], u64, u64) {
    if input.len() <= MAX_CONFIG_BYTES {
        return (input, 0, 0);
    }
    let (a, b) = input.split_at(MAX_CONFIG_BYTES);
    (a, b.len() as u64, rest_lines(b, a.last() == Some(&b'\n')))
}

/// Lossy text of bytes read from a configuration.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses a time as nginx and php-fpm write them (`60`, `60s`, `5m`,
/// `1h 30m`, `500ms`, `1m30s`): seconds. Bare numbers are seconds.
pub fn parse_seconds(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut total = 0.0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 12 {
            return None;
        }
        let n: f64 = s[start..i].parse().ok()?;
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &s[unit_start..i] {
            "" | "s" => 1.0,
            "ms" => 0.001,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "M" => 2_592_000.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += n * mult;
    }
    Some(total)
}

/// Parses a size as nginx and PHP write them (`4k`, `8K`, `1m`, `256M`,
/// `1G`, `4096`): bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    if num.is_empty() || num.len() > 15 || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes() {
        assert_eq!(parse_seconds("60"), Some(60.0));
        assert_eq!(parse_seconds("60s"), Some(60.0));
        assert_eq!(parse_seconds("5m"), Some(300.0));
        assert_eq!(parse_seconds("1h 30m"), Some(5400.0));
        assert_eq!(parse_seconds("1m30s"), Some(90.0));
        assert_eq!(parse_seconds("500ms"), Some(0.5));
        assert_eq!(parse_seconds("0s"), Some(0.0));
        assert_eq!(parse_seconds("x"), None);
        assert_eq!(parse_seconds("5q"), None);
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_size("4k"), Some(4096));
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
    }

    #[test]
    fn marks_account_for_every_line() {
        let input = b"a;\n\n  \nbad\nb;";
        let mut m = LineMarks::new(input);
        assert_eq!(m.marks.len(), 5);
        m.mark(0, 2, Mark::Parsed);
        m.mark(7, 10, Mark::Bad);
        m.mark(12, 14, Mark::Parsed);
        let t = m.tally(0, 0);
        assert_eq!((t.lines, t.parsed, t.skipped()), (5, 2, 3));
        assert_eq!(t.skipped_for(SkipReason::Empty), 2);
        assert_eq!(t.skipped_for(SkipReason::Unrecognized), 1);
        assert_eq!(t.samples[2].text, b"bad");
        assert_eq!(LineMarks::new(b"").tally(0, 0).lines, 0);
    }
}
