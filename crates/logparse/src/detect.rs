//! Format detection from content, never from file names.

use std::fmt;

use crate::fpm::slowlog::SlowlogParser;
use crate::frame::{Lines, RecordParser};
use crate::nginx::access::{AccessParser, DETECT_LINES};
use crate::nginx::error::ErrorParser;
use crate::scan::{ScanOptions, scan_slice};
use crate::time::Zone;

/// The format of an input, with the names of `baton.stats.v1`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// nginx access log (any recognized variant).
    NginxAccess,
    /// nginx error log.
    NginxError,
    /// The php-fpm log.
    FpmLog,
    /// A systemd journal export or syslog file.
    Journal,
    /// A php-fpm slowlog.
    FpmSlowlog,
    /// Kernel messages (dmesg, kern.log).
    Kernel,
    /// Cloudflare Logpush `http_requests`.
    Cloudflare,
    /// Not a log baton recognizes.
    Unknown,
}

impl Format {
    /// The contract's name (`nginx-access`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::NginxAccess => "nginx-access",
            Format::NginxError => "nginx-error",
            Format::FpmLog => "fpm-log",
            Format::Journal => "journal",
            Format::FpmSlowlog => "fpm-slowlog",
            Format::Kernel => "kernel",
            Format::Cloudflare => "cloudflare",
            Format::Unknown => "unknown",
        }
    }

    /// Parses a contract name (for `--as FORMAT=PATH`).
    pub fn from_name(name: &str) -> Option<Format> {
        [
            Format::NginxAccess,
            Format::NginxError,
            Format::FpmLog,
            Format::Journal,
            Format::FpmSlowlog,
            Format::Kernel,
            Format::Cloudflare,
            Format::Unknown,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of detection.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The format.
    pub format: Format,
    /// For access logs, the parser of the recognized variant.
    pub access: Option<AccessParser>,
    /// For `Unknown`, why.
    pub reason: Option<String>,
}

impl Detected {
    fn unknown(reason: impl Into<String>) -> Detected {
        Detected {
            format: Format::Unknown,
            access: None,
            reason: Some(reason.into()),
        }
    }
}

/// How many bytes of an input detection looks at.
pub const DETECT_BYTES: usize = 256 * 1024;

/// Detects the format of an input from its first bytes (up to
/// [`DETECT_BYTES`] and [`DETECT_LINES`] non-empty lines): every format
/// baton reads parses the sample, and the one that parses the most lines
/// wins, if it parses at least half of the non-empty ones.
pub fn detect(sample: &[u8]) -> Detected {
    let sample = &sample[..sample.len().min(DETECT_BYTES)];
    // Drop a possibly cut last line (unless it is the only one).
    let sample = match memchr::memrchr(b'\n', sample) {
        Some(i) if sample.len() == DETECT_BYTES => &sample[..i + 1],
        _ => sample,
    };
    let sample = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    if sample.is_empty() {
        return Detected::unknown("empty input");
    }
    // Every candidate judges the same lines: the first DETECT_LINES
    // non-empty ones.
    let sample = match Lines::new(sample)
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .nth(DETECT_LINES)
    {
        Some((start, _)) => &sample[..start],
        None => sample,
    };
    let nonempty = Lines::new(sample)
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .count();
    if nonempty == 0 {
        return Detected::unknown("only blank lines");
    }
    let nul = memchr::memchr_iter(0, sample).count();
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t')
        .count();
    if nul > 0 && nul * 20 > sample.len() || controls * 10 > sample.len() {
        return Detected::unknown("not a log baton recognizes: looks like binary");
    }
    let access = AccessParser::detect(sample);
    let mut best = (
        Format::Unknown,
        access.as_ref().map_or(0, |(_, n)| *n as u64),
    );
    if best.1 > 0 {
        best.0 = Format::NginxAccess;
    }
    // Every other candidate parses the sample; the one that parses the most
    // lines wins (ties keep the earlier candidate).
    let candidates: [(Format, u64); 2] = [
        (
            Format::NginxError,
            parsed_lines(sample, &ErrorParser::new(Zone::UTC)),
        ),
        (
            Format::FpmSlowlog,
            parsed_lines(sample, &SlowlogParser::new(Zone::UTC)),
        ),
    ];
    for (format, n) in candidates {
        if n > best.1 {
            best = (format, n);
        }
    }
    let (format, parsed) = best;
    if parsed == 0 || parsed * 2 < nonempty as u64 {
        return Detected::unknown(format!(
            "not a log baton recognizes: no format it reads parses half of the first {nonempty} lines"
        ));
    }
    Detected {
        format,
        access: (format == Format::NginxAccess)
            .then(|| access.map(|(p, _)| p))
            .flatten(),
        reason: None,
    }
}

/// How many physical lines of `sample` `parser` parses.
fn parsed_lines<P: RecordParser>(sample: &[u8], parser: &P) -> u64 {
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    scan_slice(sample, 0, parser, &opts, &|| ()).1.parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_samples_are_judged_on_the_same_lines() {
        let line = b"127.0.0.1 - - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 13 \"-\" \"curl/7.88.1\"\n";
        let sample = line.repeat(3000);
        let d = detect(&sample);
        assert_eq!(d.format, Format::NginxAccess, "{:?}", d.reason);
        let err = b"2026/11/24 11:16:52 [notice] 31574#31574: nginx/1.22.1\n".repeat(3000);
        assert_eq!(detect(&err).format, Format::NginxError);
    }

    #[test]
    fn unknown_inputs_say_why() {
        assert_eq!(detect(b"").reason.as_deref(), Some("empty input"));
        assert_eq!(detect(b"\n \n").reason.as_deref(), Some("only blank lines"));
        let bin = detect(&[0u8, 1, 2, 3, 0, 0, 7, 8].repeat(100));
        assert_eq!(
            bin.reason.as_deref(),
            Some("not a log baton recognizes: looks like binary")
        );
        let text = detect(b"hello\nworld\n");
        assert_eq!(text.format, Format::Unknown);
        assert!(
            text.reason
                .unwrap()
                .starts_with("not a log baton recognizes")
        );
    }
}
