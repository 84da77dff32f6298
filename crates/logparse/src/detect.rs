//! Format detection from content, never from file names.

use std::fmt;

use crate::cloudflare::CloudflareParser;
use crate::fpm::FpmLogParser;
use crate::fpm::slowlog::SlowlogParser;
use crate::frame::{Lines, Loc, RecordParser};
use crate::journal::{JournalForm, JournalParser};
use crate::kernel::KernelParser;
use crate::mysql_slow::MysqlSlowParser;
use crate::nginx::access::{AccessParser, DETECT_LINES};
use crate::nginx::error::ErrorParser;
use crate::php_error::PhpErrorParser;
use crate::scan::{ScanOptions, Sink, scan_slice};
use crate::time::Zone;

/// The format of an input, with the names of `baton.stats.v1`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
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
    /// PHP's error log or WordPress's `debug.log`.
    PhpError,
    /// The MySQL / MariaDB slow query log.
    MysqlSlow,
    /// nginx's configuration: `nginx -T` output or `.conf` files.
    NginxConfig,
    /// php-fpm's configuration: `php-fpm -tt` output or its ini files.
    FpmConfig,
    /// Not a log baton recognizes.
    #[default]
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
            Format::PhpError => "php-error",
            Format::MysqlSlow => "mysql-slow",
            Format::NginxConfig => "nginx-config",
            Format::FpmConfig => "fpm-config",
            Format::Unknown => "unknown",
        }
    }

    /// Every format baton reads, in the contract's order: the names
    /// `--as FORMAT=PATH` accepts (all but [`Format::Unknown`]).
    pub const READABLE: [Format; 11] = [
        Format::NginxAccess,
        Format::NginxError,
        Format::FpmLog,
        Format::Journal,
        Format::FpmSlowlog,
        Format::Kernel,
        Format::Cloudflare,
        Format::PhpError,
        Format::MysqlSlow,
        Format::NginxConfig,
        Format::FpmConfig,
    ];

    /// Parses a contract name (for `--as FORMAT=PATH`): one of
    /// [`Format::READABLE`], or `unknown`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::READABLE
            .into_iter()
            .chain([Format::Unknown])
            .find(|f| f.as_str() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of detection.
#[derive(Debug, Clone, Default)]
pub struct Detected {
    /// The format.
    pub format: Format,
    /// For access logs, the parser of the recognized variant.
    pub access: Option<AccessParser>,
    /// For journals, the form of the first line (`short`, `json`, ...).
    pub journal_form: Option<JournalForm>,
    /// For `Unknown`, why.
    pub reason: Option<String>,
    /// The container envelope taken off before the format was detected
    /// (the format is the inner lines'; see [`crate::envelope`]).
    pub envelope: Option<crate::envelope::Envelope>,
    /// The UTC offset the envelope's times give the inner lines'
    /// offset-less times ([`crate::envelope::zone_hint`]).
    pub envelope_offset: Option<i32>,
    /// nginx access lines and error entries in one stream, each read by
    /// its own parser ([`crate::mixed`]); `access` holds the access
    /// variant (none when the sample had no access line) and `format` is
    /// the one with more lines in the sample. Every nginx stream in a
    /// container envelope is mixed: its stdout and stderr share the log.
    pub mixed: bool,
    /// For one service of a `docker compose logs` stream: the lines this
    /// input keeps ([`crate::envelope::services`], [`detect_service`]).
    pub service: Option<crate::envelope::ServiceFilter>,
}

impl Detected {
    fn unknown(reason: impl Into<String>) -> Detected {
        Detected {
            reason: Some(reason.into()),
            ..Detected::default()
        }
    }
}

/// How many bytes of an input detection looks at.
pub const DETECT_BYTES: usize = 256 * 1024;

/// Detects the format of an input from its first bytes (up to
/// [`DETECT_BYTES`] and [`DETECT_LINES`] non-empty lines): every format
/// baton reads parses the sample, and the one that parses the most lines
/// wins, if it parses at least half of the non-empty ones.
///
/// A sample in a container envelope ([`crate::envelope::sniff`]) is
/// unwrapped first, and its inner lines are detected: the envelope is kept
/// when they parse at least as well as the lines as they are (a
/// `docker logs -t` line also reads as a journal line, with nothing in it).
pub fn detect(sample: &[u8]) -> Detected {
    detect_for(sample, None)
}

/// [`detect`] of the lines of one compose service (`only`): what that
/// container wrote, as its own input.
pub fn detect_service(sample: &[u8], only: &crate::envelope::ServiceFilter) -> Detected {
    let mut d = detect_for(sample, Some(only));
    if d.envelope == Some(crate::envelope::Envelope::Compose) {
        d.service = Some(only.clone());
    }
    d
}

fn detect_for(sample: &[u8], only: Option<&crate::envelope::ServiceFilter>) -> Detected {
    let sample = &sample[..sample.len().min(DETECT_BYTES)];
    let (plain, parsed, lines) = detect_plain(sample);
    let Some(env) = crate::envelope::sniff(sample) else {
        return plain;
    };
    // Unwrap whole envelope lines only.
    let whole = match memchr::memrchr(b'\n', sample) {
        Some(i) if sample.len() == DETECT_BYTES => &sample[..i + 1],
        _ => sample,
    };
    let only = only.filter(|_| env == crate::envelope::Envelope::Compose);
    let inner = crate::envelope::unwrap_sample_for(env, whole, only);
    let (mut wrapped, inner_parsed, inner_lines) = detect_plain(&inner);
    // Shares of lines parsed, as rejoined partials make fewer inner lines.
    if wrapped.format == Format::Unknown
        || (plain.format != Format::Unknown && inner_parsed * lines < parsed * inner_lines)
    {
        return plain;
    }
    wrapped.envelope = Some(env);
    wrapped.envelope_offset = crate::envelope::zone_hint(env, sample);
    // A container's log holds whatever its streams carried: nginx's image
    // sends the access log to stdout and the error log to stderr of one
    // container, so error entries may first show up long after the sample
    // (or access lines after a sample of startup notices). Each record of
    // an nginx container's log is read by the format that parses it.
    if matches!(wrapped.format, Format::NginxAccess | Format::NginxError) && !wrapped.mixed {
        // With no access line in the sample, the first one read fixes
        // the variant ([`crate::mixed::MixedParser`]).
        wrapped.mixed = true;
    }
    wrapped
}

/// What `--as FORMAT=PATH` reads: `format`, forced, with any container
/// envelope still taken off (the format names the lines inside it). For
/// `nginx-access`, the variant is the one the inner lines show (`None`:
/// the caller's default). A journal or syslog file is never unwrapped: its
/// lines are the format's own.
pub fn detect_as(sample: &[u8], format: Format) -> Detected {
    let sample = &sample[..sample.len().min(DETECT_BYTES)];
    let env = match format {
        Format::Journal | Format::Unknown => None,
        _ => crate::envelope::sniff(sample),
    };
    let whole = match memchr::memrchr(b'\n', sample) {
        Some(i) if sample.len() == DETECT_BYTES => &sample[..i + 1],
        _ => sample,
    };
    let inner = match env {
        Some(e) => std::borrow::Cow::Owned(crate::envelope::unwrap_sample(e, whole)),
        None => std::borrow::Cow::Borrowed(whole),
    };
    Detected {
        format,
        access: (format == Format::NginxAccess)
            .then(|| AccessParser::detect(&inner).map(|(p, _)| p))
            .flatten(),
        envelope: env,
        envelope_offset: env.and_then(|e| crate::envelope::zone_hint(e, sample)),
        ..Detected::default()
    }
}

/// The sample detection judges: the container's lines when `detected`
/// names an envelope, else the sample itself.
pub fn inner_sample<'a>(sample: &'a [u8], detected: &Detected) -> std::borrow::Cow<'a, [u8]> {
    match detected.envelope {
        Some(env) => std::borrow::Cow::Owned(crate::envelope::unwrap_sample_for(
            env,
            sample,
            detected.service.as_ref(),
        )),
        None => std::borrow::Cow::Borrowed(sample),
    }
}

/// [`detect`] without envelopes, with the number of lines the winner
/// parsed and the number of non-empty lines judged.
fn detect_plain(sample: &[u8]) -> (Detected, u64, u64) {
    let sample = &sample[..sample.len().min(DETECT_BYTES)];
    // Drop a possibly cut last line (unless it is the only one).
    let sample = match memchr::memrchr(b'\n', sample) {
        Some(i) if sample.len() == DETECT_BYTES => &sample[..i + 1],
        _ => sample,
    };
    let sample = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    if sample.is_empty() {
        return (Detected::unknown("empty input"), 0, 0);
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
        return (Detected::unknown("only blank lines"), 0, 0);
    }
    // Configurations first: a `php-fpm -tt` dump's lines are php-fpm log
    // lines too, and no log reads as nginx's grammar.
    if let Some(format) = crate::config::detect(sample) {
        let detected = Detected {
            format,
            ..Detected::default()
        };
        return (detected, nonempty as u64, nonempty as u64);
    }
    let nul = memchr::memchr_iter(0, sample).count();
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t')
        .count();
    // Binary bytes only name the reason when no format wins: a log with a
    // run of NULs in it (what a crash leaves) is still that log.
    let binary = nul > 0 && nul * 20 > sample.len() || controls * 10 > sample.len();
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
    let journal = parsed_lines(sample, &JournalParser::new(Zone::UTC, 2000));
    let fpm = fpm_lines(sample);
    let kernel = kernel_lines(sample);
    let candidates: [(Format, u64); 8] = [
        (Format::FpmLog, fpm),
        (
            Format::NginxError,
            parsed_lines(sample, &ErrorParser::new(Zone::UTC)),
        ),
        (
            Format::FpmSlowlog,
            parsed_lines(sample, &SlowlogParser::new(Zone::UTC)),
        ),
        // `journalctl -k` output is a journal of kernel lines: read it as a
        // kernel log when nine lines in ten are the kernel's.
        (
            Format::Kernel,
            if kernel * 10 >= journal * 9 {
                kernel.max(journal)
            } else {
                kernel
            },
        ),
        (Format::Journal, journal),
        (
            Format::Cloudflare,
            parsed_lines(sample, &CloudflareParser::new()),
        ),
        (Format::PhpError, php_error_lines(sample)),
        (
            Format::MysqlSlow,
            parsed_lines(sample, &MysqlSlowParser::new(Zone::UTC)),
        ),
    ];
    for (format, n) in candidates {
        if n > best.1 {
            best = (format, n);
        }
    }
    let (mut format, mut parsed) = best;
    // nginx access lines and error entries together (a container's stdout
    // and stderr): a mixed stream, when together they make the sample.
    let access_n = access.as_ref().map_or(0, |(_, n)| *n as u64);
    let error_n = candidates
        .iter()
        .find(|(f, _)| *f == Format::NginxError)
        .map_or(0, |(_, n)| *n);
    let mixed = access_n > 0
        && error_n > 0
        && matches!(format, Format::NginxAccess | Format::NginxError)
        && (access_n + error_n) * 2 >= nonempty as u64;
    if mixed {
        parsed = access_n + error_n;
        format = if access_n >= error_n {
            Format::NginxAccess
        } else {
            Format::NginxError
        };
    }
    if binary && (parsed == 0 || parsed * 2 < nonempty as u64) {
        return (
            Detected::unknown("not a log baton recognizes: looks like binary"),
            0,
            nonempty as u64,
        );
    }
    if parsed == 0 || parsed * 2 < nonempty as u64 {
        return (
            Detected::unknown(format!(
                "not a log baton recognizes: no format it reads parses half of the first {nonempty} lines"
            )),
            0,
            nonempty as u64,
        );
    }
    let detected = Detected {
        format,
        access: (format == Format::NginxAccess || mixed)
            .then(|| access.map(|(p, _)| p))
            .flatten(),
        mixed,
        journal_form: (format == Format::Journal)
            .then(|| {
                Lines::new(sample)
                    .filter_map(|(_, l)| crate::journal::form_of(l))
                    .find(|f| *f != JournalForm::Marker)
            })
            .flatten(),
        reason: None,
        ..Detected::default()
    };
    (detected, parsed, nonempty as u64)
}

/// How many physical lines of `sample` belong to timed php-fpm log records
/// (any text parses as undecorated worker output, so untimed records do
/// not make a php-fpm log).
fn fpm_lines(sample: &[u8]) -> u64 {
    lines_where(sample, &FpmLogParser::new(Zone::UTC), |r| r.time.is_some())
}

/// How many physical lines of `sample` belong to PHP error-log entries that
/// only a PHP error log writes: a `PHP LEVEL:` message, a WordPress
/// database error, or a time with its zone in the brackets (php-fpm's own
/// log shares the time's shape but names neither).
fn php_error_lines(sample: &[u8]) -> u64 {
    lines_where(sample, &PhpErrorParser::new(Zone::UTC), |r| {
        r.zone_named || !r.level_name.is_empty() || r.wp_db.is_some()
    })
}

/// How many physical lines of `sample` are kernel messages (syslog lines of
/// other programs parse as kernel-log records but do not make a kernel log).
fn kernel_lines(sample: &[u8]) -> u64 {
    // Any year will do to recognize yearless kernel lines.
    let parser = KernelParser::new(Zone::UTC).with_year(2000);
    lines_where(sample, &parser, |r| r.is_kernel())
}

/// Counts the physical lines of the records `keep` accepts.
struct CountWhere<P: RecordParser> {
    lines: u64,
    keep: fn(&P::Record<'_>) -> bool,
}

impl<P: RecordParser> Sink<P> for CountWhere<P> {
    fn record(&mut self, r: P::Record<'_>, loc: Loc) {
        if (self.keep)(&r) {
            self.lines += loc.lines as u64;
        }
    }
    fn append(&mut self, later: CountWhere<P>, _: u64) {
        self.lines += later.lines;
    }
}

/// How many physical lines of `sample` belong to records of `parser` that
/// `keep` accepts (read sequentially: samples are small).
fn lines_where<P: RecordParser>(
    sample: &[u8],
    parser: &P,
    keep: fn(&P::Record<'_>) -> bool,
) -> u64 {
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let new = || CountWhere::<P> { lines: 0, keep };
    scan_slice(sample, 0, parser, &opts, &new).0.lines
}

/// The month and day of the first yearless syslog-style timestamp
/// (`Nov 24 11:19:08`, `Dec  1 00:00:00`) in `sample`, if any: what the
/// year of a journal or kern.log is inferred for.
pub fn first_yearless_date(sample: &[u8]) -> Option<(u32, u32)> {
    let sample = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    Lines::new(sample).take(DETECT_LINES).find_map(|(_, l)| {
        if l.len() < 15 || l[3] != b' ' || l[6] != b' ' || l[9] != b':' || l[12] != b':' {
            return None;
        }
        let month = crate::time::month_from_abbrev(&l[..3])?;
        let day = match (l[4], l[5]) {
            (b' ', d) if d.is_ascii_digit() => (d - b'0') as u32,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => {
                ((a - b'0') * 10 + (b - b'0')) as u32
            }
            _ => return None,
        };
        (1..=31).contains(&day).then_some((month, day))
    })
}

/// The year of a yearless first date `(month, day)` beside inputs that
/// span `first..=last` (unix seconds): of the years around them, the one
/// that puts the date inside that span, or nearest to it (the later year on
/// a tie).
pub fn year_near(month: u32, day: u32, first: i64, last: i64) -> i32 {
    let year_of = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| chrono::Datelike::year(&d))
            .unwrap_or(1970)
    };
    let (lo, hi) = (year_of(first) - 1, year_of(last) + 1);
    (lo..=hi)
        .rev()
        .min_by_key(|y| {
            let day = day.min(crate::time::days_in_month(*y as i64, month).max(1));
            let t = crate::time::days_from_civil(*y as i64, month, day) * 86_400;
            if t < first - 86_400 {
                first - t
            } else if t > last {
                t - last
            } else {
                0
            }
        })
        .unwrap_or(lo + 1)
}

/// The year of a yearless first date `(month, day)` in a file last written
/// at `mtime` (unix seconds): the latest year that puts the date before it.
pub fn year_before(month: u32, day: u32, mtime: i64) -> i32 {
    let y = year_near(month, day, mtime, mtime);
    let day = day.min(crate::time::days_in_month(y as i64, month).max(1));
    let t = crate::time::days_from_civil(y as i64, month, day) * 86_400;
    if t > mtime + 86_400 { y - 1 } else { y }
}

/// How many physical lines of `sample` `parser` parses.
fn parsed_lines<P: RecordParser>(sample: &[u8], parser: &P) -> u64 {
    lines_where(sample, parser, |_| true)
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
    fn yearless_dates_and_years() {
        assert_eq!(
            first_yearless_date(b"junk\nNov 24 11:19:08 vm php-fpm8.2[3399]: x\n"),
            Some((11, 24))
        );
        assert_eq!(
            first_yearless_date(b"Jan  1 00:00:01 vm kernel: x\n"),
            Some((1, 1))
        );
        assert_eq!(
            first_yearless_date(b"2026-11-24T11:19:08+0000 vm x\n"),
            None
        );
        let jan2_2027 = crate::time::civil_to_secs(2027, 1, 2, 0, 0, 0).unwrap();
        // A journal starting Dec 31 beside an access log starting Jan 2.
        assert_eq!(year_near(12, 31, jan2_2027, jan2_2027), 2026);
        assert_eq!(year_near(1, 1, jan2_2027, jan2_2027), 2027);
        // Inside a window that spans two years, the year that fits it.
        let apr_2024 = crate::time::civil_to_secs(2024, 4, 10, 0, 0, 0).unwrap();
        let nov_2026 = crate::time::civil_to_secs(2026, 11, 25, 0, 0, 0).unwrap();
        assert_eq!(year_near(11, 24, apr_2024, nov_2026), 2026);
        assert_eq!(year_near(6, 1, apr_2024, nov_2026), 2026);
        // Last written Jan 2: a first line of Dec 30 is from the year before.
        assert_eq!(year_before(12, 30, jan2_2027), 2026);
        assert_eq!(year_before(1, 1, jan2_2027), 2027);
        // Feb 29 in a year that has none does not panic.
        let mar_2027 = crate::time::civil_to_secs(2027, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(year_near(2, 29, mar_2027, mar_2027), 2027);
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
        // A log with a block of NULs glued to one of its lines (a crash)
        // is still that log.
        let mut crashed = Vec::new();
        for i in 0..20 {
            crashed.extend_from_slice(format!("203.0.113.9 - - [24/Nov/2026:11:16:{i:02} +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n").as_bytes());
            if i == 10 {
                crashed.extend_from_slice(&[0u8; 8192]);
            }
        }
        assert_eq!(detect(&crashed).format, Format::NginxAccess);
        let text = detect(b"hello\nworld\n");
        assert_eq!(text.format, Format::Unknown);
        assert!(
            text.reason
                .unwrap()
                .starts_with("not a log baton recognizes")
        );
    }
}
