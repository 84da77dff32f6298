//! What was read: per-input counts for `baton stats`.
//!
//! [`summarize`] runs the scan driver over one input with a counting sink
//! for its format and returns a [`FileSummary`]. Memory does not grow with
//! the number of lines.

use std::io::Read;
use std::sync::Arc;

use crate::cloudflare::{CloudflareParser, EdgeSummary};
use crate::detect::{Detected, Format};
use crate::envelope::{Envelope, EnvelopeCounts, ServiceFilter, Unwrap};
use crate::error::Error;
use crate::event::{Collect, Event, Traffic};
use crate::fpm::slowlog::{SlowlogParser, SlowlogSummary};
use crate::fpm::{FpmLogParser, FpmSummary};
use crate::frame::Loc;
use crate::journal::{JournalParser, JournalSummary};
use crate::kernel::{KernelParser, KernelSummary};
use crate::mysql_slow::{MysqlSlowParser, MysqlSlowSummary};
use crate::nginx::access::{AccessParser, AccessRecord};
use crate::nginx::error::ErrorParser;
use crate::php_error::{PhpErrorParser, PhpErrorSummary};
use crate::scan::{ScanOptions, Sink, Tally, scan_reader};
use crate::time::Zone;

pub use crate::time::TimeRange;

pub use crate::collecting::{Collecting, Drain};
pub use crate::nginx::summary::{AccessSummary, ErrorSummary};

/// Everything `baton stats` says about one input.
#[derive(Debug)]
pub struct FileSummary {
    /// The detected (or forced) format.
    pub format: Format,
    /// For `Unknown`, why.
    pub reason: Option<String>,
    /// The access-log variant (`combined`, `main`, `json`, ...).
    pub variant: Option<&'static str>,
    /// Line accounting.
    pub tally: Tally,
    /// Access-log counts.
    pub access: Option<AccessSummary>,
    /// Error-log counts.
    pub error: Option<ErrorSummary>,
    /// php-fpm log counts.
    pub fpm: Option<FpmSummary>,
    /// Slowlog counts.
    pub slowlog: Option<SlowlogSummary>,
    /// Kernel-log counts.
    pub kernel: Option<KernelSummary>,
    /// Cloudflare Logpush counts.
    pub edge: Option<EdgeSummary>,
    /// Journal / syslog counts (with the kernel and php-fpm events in it).
    pub journal: Option<JournalSummary>,
    /// PHP error-log counts.
    pub php_error: Option<PhpErrorSummary>,
    /// MySQL / MariaDB slow-log counts.
    pub mysql_slow: Option<MysqlSlowSummary>,
    /// A configuration input's directives and facts.
    pub config: Option<crate::config::Parsed>,
    /// The error that cut the input short, if any.
    pub read_error: Option<Error>,
    /// The container envelope taken off, with its counts.
    pub envelope: Option<crate::envelope::EnvelopeSummary>,
    /// For a mixed stream, the physical lines of each format's records.
    pub formats: Vec<(Format, u64)>,
    /// The events of interest, in input order (with [`Collect::events`]);
    /// their `file` is 0 until the caller numbers its inputs.
    pub events: Vec<Event>,
    /// Request volume per minute (access logs, with [`Collect::events`]).
    pub traffic: Option<Traffic>,
}

impl FileSummary {
    /// A summary of `format` with nothing counted yet.
    pub fn empty(format: Format) -> FileSummary {
        FileSummary {
            format,
            reason: None,
            variant: None,
            tally: Tally::default(),
            access: None,
            error: None,
            fpm: None,
            slowlog: None,
            kernel: None,
            edge: None,
            journal: None,
            php_error: None,
            mysql_slow: None,
            config: None,
            read_error: None,
            envelope: None,
            formats: Vec::new(),
            events: Vec::new(),
            traffic: None,
        }
    }

    /// The earliest and latest instants of the input.
    pub fn range(&self) -> TimeRange {
        let mut r = TimeRange::default();
        if let Some(a) = &self.access {
            r.merge(a.range);
        }
        if let Some(e) = &self.error {
            r.merge(e.range);
        }
        if let Some(f) = &self.fpm {
            r.merge(f.range);
        }
        if let Some(s) = &self.slowlog {
            r.merge(s.range);
        }
        if let Some(k) = &self.kernel {
            r.merge(k.range);
        }
        if let Some(e) = &self.edge {
            r.merge(e.range);
        }
        if let Some(j) = &self.journal {
            r.merge(j.range);
        }
        if let Some(p) = &self.php_error {
            r.merge(p.range);
        }
        if let Some(m) = &self.mysql_slow {
            r.merge(m.range);
        }
        r
    }
}

/// Where an input's bytes come from.
pub enum Source {
    /// A regular file, read by positioned reads in parallel segments
    /// ([`crate::scan::scan_file`]).
    File(std::fs::File),
    /// Any other stream (pipe, decoder), read in blocks ([`scan_reader`]).
    Stream(Box<dyn Read + Send>),
}

/// What the scan reads: a source, or a regular file whose container
/// envelope comes off inside the parallel scan.
enum Feed {
    Plain(Source),
    Enveloped {
        file: std::fs::File,
        envelope: Envelope,
        only: Option<ServiceFilter>,
        counts: Arc<EnvelopeCounts>,
    },
}

impl Feed {
    /// The feed as one stream of the container's lines.
    fn into_reader(self) -> Box<dyn Read + Send> {
        match self {
            Feed::Plain(Source::File(f)) => Box::new(f),
            Feed::Plain(Source::Stream(r)) => r,
            Feed::Enveloped {
                file,
                envelope,
                only,
                counts,
            } => Box::new(Unwrap::for_service(file, envelope, counts, only)),
        }
    }
}

fn scan_source<P, S, F>(
    feed: Feed,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> crate::scan::Scanned<S>
where
    P: crate::frame::RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    match feed {
        Feed::Plain(Source::File(f)) => crate::scan::scan_file(&f, parser, opts, new_sink),
        Feed::Plain(Source::Stream(r)) => scan_reader(r, parser, opts, new_sink),
        Feed::Enveloped {
            file,
            envelope,
            only,
            counts,
        } => crate::scan::scan_file_unwrapped(
            &file,
            envelope,
            only.as_ref(),
            &counts,
            parser,
            opts,
            new_sink,
        ),
    }
}

/// What parsers need to place timestamps that lack a zone, a year or a
/// clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeConfig {
    /// The zone of timestamps without an offset.
    pub zone: Zone,
    /// The year of the input's first yearless timestamp.
    pub year: Option<i32>,
    /// The boot time (unix seconds) of raw `dmesg` uptime stamps.
    pub boot_time: Option<i64>,
}

/// Summarizes one input of a detected format. Unknown inputs are counted
/// line by line (every line skipped as `unrecognized`), so that
/// `lines = parsed + skipped` holds for them too. With
/// [`Collect::events`], the records of interest are kept as [`Event`]s
/// and access logs' volume as [`Traffic`].
pub fn summarize(
    source: Source,
    detected: &Detected,
    time: &TimeConfig,
    opts: &ScanOptions,
    collect: Collect,
) -> FileSummary {
    summarize_draining(source, detected, time, opts, collect, None)
}

/// [`summarize`], with the events (when [`Collect::events`] asks for them)
/// handed to `drain` chunk by chunk as they become final: those it takes
/// never accumulate in [`FileSummary::events`], which keeps the rest.
pub fn summarize_draining(
    source: Source,
    detected: &Detected,
    time: &TimeConfig,
    opts: &ScanOptions,
    collect: Collect,
    drain: Option<std::sync::Arc<dyn Drain>>,
) -> FileSummary {
    let drain = drain.map(crate::collecting::DrainTo);
    let mut out = FileSummary {
        reason: detected.reason.clone(),
        ..FileSummary::empty(detected.format)
    };
    // Text can be read back at an offset only from a plain file: not from
    // a stream, nor from inside an envelope.
    let collect = Collect {
        defer_text: collect.defer_text
            && detected.envelope.is_none()
            && matches!(source, Source::File(_)),
        ..collect
    };
    // A container envelope comes off first: the format's parser reads the
    // container's own lines. A regular file's comes off in the parallel
    // scan, a stream's on its reader.
    let counts = detected
        .envelope
        .map(|_| Arc::new(EnvelopeCounts::default()));
    let feed = match (detected.envelope, &counts, source) {
        (Some(envelope), Some(c), Source::File(file)) => Feed::Enveloped {
            file,
            envelope,
            only: detected.service.clone(),
            counts: c.clone(),
        },
        (Some(env), Some(c), Source::Stream(inner)) => Feed::Plain(Source::Stream(Box::new(
            Unwrap::for_service(inner, env, c.clone(), detected.service.clone()),
        ))),
        (_, _, source) => Feed::Plain(source),
    };
    summarize_plain(
        feed,
        detected,
        time,
        opts,
        collect,
        drain.as_ref(),
        &mut out,
    );
    if let (Some(env), Some(c)) = (detected.envelope, counts) {
        out.envelope = Some(c.summary(env));
    }
    out
}

/// [`summarize`] once any envelope is off (or set to come off).
fn summarize_plain(
    source: Feed,
    detected: &Detected,
    time: &TimeConfig,
    opts: &ScanOptions,
    collect: Collect,
    drain: Option<&crate::collecting::DrainTo>,
    out: &mut FileSummary,
) {
    let zone = time.zone;
    let collect = Gather { collect, drain };
    match (detected.format, &detected.access) {
        (Format::NginxAccess | Format::NginxError, p) if detected.mixed => {
            let p = crate::mixed::MixedParser::new(p.clone(), time.zone);
            let s = run(
                source,
                &p,
                opts,
                collect,
                crate::mixed::MixedSummary::default,
                out,
            );
            out.variant = p.access_variant();
            out.formats = vec![
                (Format::NginxAccess, s.access_lines),
                (Format::NginxError, s.error_lines),
            ];
            // The whole input decides which format has more lines.
            if s.access_lines != s.error_lines {
                out.format = if s.access_lines > s.error_lines {
                    Format::NginxAccess
                } else {
                    Format::NginxError
                };
            }
            out.access = Some(s.access);
            out.error = Some(s.error);
        }
        (Format::NginxAccess, Some(p)) => {
            let s = run(source, p, opts, collect, AccessSummary::default, out);
            out.variant = Some(p.variant());
            out.access = Some(s);
        }
        (Format::NginxError, _) => {
            let p = ErrorParser::new(zone);
            out.error = Some(run(source, &p, opts, collect, ErrorSummary::default, out));
        }
        (Format::FpmLog, _) => {
            let p = FpmLogParser::new(zone);
            out.fpm = Some(run(source, &p, opts, collect, FpmSummary::default, out));
        }
        (Format::FpmSlowlog, _) => {
            let p = SlowlogParser::new(zone);
            out.slowlog = Some(run(source, &p, opts, collect, SlowlogSummary::default, out));
        }
        (Format::Kernel, _) => {
            let mut p = KernelParser::new(zone);
            if let Some(y) = time.year {
                p = p.with_year(y);
            }
            if let Some(b) = time.boot_time {
                p = p.with_boot_time(b);
            }
            out.kernel = Some(run(source, &p, opts, collect, KernelSummary::default, out));
        }
        (Format::Journal, _) => {
            let mut p = JournalParser::new(zone, time.year.unwrap_or(1970));
            if let Some(form) = detected.journal_form {
                p = p.with_form(form);
            }
            out.journal = Some(run(source, &p, opts, collect, JournalSummary::default, out));
            // nginx error entries carried by the journal count as an error
            // log's.
            out.error = out
                .journal
                .as_ref()
                .filter(|j| j.nginx_lines > 0)
                .map(|j| j.nginx.clone());
        }
        (Format::Cloudflare, _) => {
            let p = CloudflareParser::new();
            out.edge = Some(run(source, &p, opts, collect, EdgeSummary::default, out));
        }
        (Format::MysqlSlow, _) => {
            let p = MysqlSlowParser::new(zone);
            out.mysql_slow = Some(run(
                source,
                &p,
                opts,
                collect,
                MysqlSlowSummary::default,
                out,
            ));
        }
        (Format::PhpError, _) => {
            let p = PhpErrorParser::new(zone);
            out.php_error = Some(run(
                source,
                &p,
                opts,
                collect,
                PhpErrorSummary::default,
                out,
            ));
        }
        (Format::NginxConfig | Format::FpmConfig, _) => {
            let (parsed, err) = crate::config::read(source.into_reader(), detected.format);
            out.tally = parsed.tally().clone();
            out.read_error = err;
            out.config = Some(parsed);
        }
        _ => {
            let s = scan_source(source, &Unrecognized, opts, &|| ());
            out.tally = s.tally;
            out.read_error = s.error;
        }
    }
}

/// What [`run`] collects, and where its final events go.
#[derive(Clone, Copy)]
struct Gather<'a> {
    collect: Collect,
    drain: Option<&'a crate::collecting::DrainTo>,
}

/// Scans `source` into a fresh `S`, collecting events into `out` when
/// asked (through the drain, if any); the tally and any read error go to
/// `out` too.
fn run<P, S>(
    source: Feed,
    parser: &P,
    opts: &ScanOptions,
    gather: Gather<'_>,
    new: fn() -> S,
    out: &mut FileSummary,
) -> S
where
    P: crate::frame::RecordParser,
    S: Sink<P>,
    Collecting<S>: Sink<P>,
{
    let collect = gather.collect;
    if collect.events {
        // Every scan driver makes its root sink (the one the chunks are
        // appended to, in input order) first: only that one drains. All of
        // them share one interner.
        let root = std::sync::atomic::AtomicBool::new(true);
        let interner = Default::default();
        let new_sink = || {
            let mut c = Collecting::sharing(new(), collect, &interner);
            if root.swap(false, std::sync::atomic::Ordering::Relaxed) {
                c.drain = gather.drain.cloned();
            }
            c
        };
        let mut s = scan_source(source, parser, opts, &new_sink);
        // Events the root recorded itself (a scan of one chunk).
        s.sink.offer();
        out.tally = s.tally;
        out.read_error = s.error;
        out.events = s.sink.events;
        out.traffic = s.sink.traffic.map(|mut t| {
            t.finish();
            t
        });
        s.sink.summary
    } else {
        let s = scan_source(source, parser, opts, &new);
        out.tally = s.tally;
        out.read_error = s.error;
        s.sink
    }
}

/// A parser that recognizes nothing: every line is skipped `unrecognized`
/// (blank and binary lines keep their own reasons).
#[derive(Debug, Clone, Copy)]
pub struct Unrecognized;

impl crate::frame::RecordParser for Unrecognized {
    type Record<'a> = ();

    fn parse(&mut self, _record: &[u8]) -> Result<(), crate::error::SkipReason> {
        Err(crate::error::SkipReason::Unrecognized)
    }
}

/// The UTC offset of the first timestamp `parser` reads in `sample`: the
/// default zone for offset-less logs beside this access log.
pub fn access_offset(sample: &[u8], parser: &AccessParser) -> Option<i32> {
    #[derive(Default)]
    struct First(Option<i32>);
    impl Sink<AccessParser> for First {
        fn record(&mut self, r: AccessRecord<'_>, _: Loc) {
            if self.0.is_none() {
                self.0 = r.time.map(|t| t.offset_s);
            }
        }
        fn append(&mut self, later: First, _: u64) {
            self.0 = self.0.or(later.0);
        }
    }
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    crate::scan::scan_slice(sample, 0, parser, &opts, &First::default)
        .0
        .0
}

/// The UTC offset written in the first line of a journal or kernel
/// `sample` whose leading timestamp carries one: `journalctl -o short-iso`
/// and `short-iso-precise` (`2026-11-24T12:16:51+0100 host php-fpm[123]: ...`),
/// rsyslog's RFC 3339 files, RFC 5424 (`<134>1 2026-11-24T12:16:51+01:00 host ...`)
/// and `dmesg --time-format iso` (`2026-11-24T12:18:02,086696+01:00 ...`).
/// The default zone for offset-less logs beside it, as [`access_offset`]'s.
///
/// A stamp in `Z` says nothing of the machine's zone (RFC 5424 senders and
/// many tools write UTC whatever the zone), and the journal's JSON and
/// export forms hold instants with no zone at all: neither is read. Other
/// formats give `None`.
///
/// ```
/// use baton_logparse::{Format, summary::stamped_offset};
/// let s = b"2026-11-24T12:16:51+0100 web1 php-fpm8.2[31544]: [NOTICE] fpm is running, pid 31544\n";
/// assert_eq!(stamped_offset(s, Format::Journal), Some(3600));
/// assert_eq!(stamped_offset(b"<134>1 2026-11-24T11:16:51Z web1 app 1 - - hi\n", Format::Journal), None);
/// let s = b"<134>1 2026-11-24T06:16:51.2-05:00 web1 app 1 - - hi\n";
/// assert_eq!(stamped_offset(s, Format::Journal), Some(-5 * 3600));
/// let s = b"2026-11-24T12:18:02,086696+01:00 Out of memory: Killed process 32570\n";
/// assert_eq!(stamped_offset(s, Format::Kernel), Some(3600));
/// // An nginx error log's times carry no offset.
/// assert_eq!(stamped_offset(b"2026/11/24 11:17:00 [error] 1#1: *1 x\n", Format::NginxError), None);
/// ```
pub fn stamped_offset(sample: &[u8], format: Format) -> Option<i32> {
    if !matches!(format, Format::Journal | Format::Kernel) {
        return None;
    }
    sample.split(|&b| b == b'\n').take(64).find_map(|line| {
        // RFC 5424's `<PRI>1 ` comes before its stamp.
        let line = match line.strip_prefix(b"<") {
            Some(rest) => {
                let gt = rest.iter().position(|&b| b == b'>')?;
                rest[gt + 1..].strip_prefix(b"1 ")?
            }
            None => line,
        };
        let end = line.iter().position(|&b| b == b' ')?;
        let stamp = &line[..end];
        if stamp.last().is_some_and(|b| b.eq_ignore_ascii_case(&b'z')) {
            return None;
        }
        crate::time::parse_iso8601(stamp).map(|t| t.offset_s)
    })
}
