//! What was read: per-input counts for `baton stats`.
//!
//! [`summarize`] runs the scan driver over one input with a counting sink
//! for its format and returns a [`FileSummary`]. Memory does not grow with
//! the number of lines.

use std::collections::BTreeMap;
use std::io::Read;

use crate::cloudflare::{CloudflareParser, EdgeRecord, EdgeSummary};
use crate::detect::{Detected, Format};
use crate::error::Error;
use crate::event::{self, Collect, Event, Traffic};
use crate::fpm::slowlog::{SlowlogParser, SlowlogRecord, SlowlogSummary};
use crate::fpm::{FpmLogParser, FpmRecord, FpmSummary};
use crate::frame::Loc;
use crate::journal::{JournalParser, JournalRecord, JournalSummary};
use crate::kernel::{KernelParser, KernelRecord, KernelSummary};
use crate::mysql_slow::{MysqlSlowParser, MysqlSlowSummary, SlowEntry};
use crate::nginx::access::{AccessParser, AccessRecord};
use crate::nginx::error::{ErrorParser, ErrorRecord, UpstreamClass, UpstreamKind};
use crate::php::PhpCounts;
use crate::php_error::{PhpErrorParser, PhpErrorRecord, PhpErrorSummary};
use crate::scan::{ScanOptions, Sink, Tally, scan_reader};
use crate::time::Zone;

pub use crate::time::TimeRange;

/// Counts of an access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSummary {
    /// Parsed requests.
    pub requests: u64,
    /// Requests by status code (100..=999); index = status.
    status: Box<[u64; 1000]>,
    /// Times seen.
    pub range: TimeRange,
}

impl Default for AccessSummary {
    fn default() -> AccessSummary {
        AccessSummary {
            requests: 0,
            status: Box::new([0; 1000]),
            range: TimeRange::default(),
        }
    }
}

impl AccessSummary {
    /// Requests by status, non-zero entries only, in status order.
    pub fn status(&self) -> BTreeMap<u16, u64> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (s as u16, *n))
            .collect()
    }

    /// Adds another summary's counts (a later chunk, or another file).
    pub fn merge(&mut self, other: &AccessSummary) {
        self.requests += other.requests;
        for (a, b) in self.status.iter_mut().zip(other.status.iter()) {
            *a += *b;
        }
        self.range.merge(other.range);
    }

    /// Requests answered with `status`.
    pub fn status_count(&self, status: u16) -> u64 {
        self.status.get(status as usize).copied().unwrap_or(0)
    }
}

impl Sink<AccessParser> for AccessSummary {
    #[inline]
    fn record(&mut self, r: AccessRecord<'_>, _loc: Loc) {
        self.requests += 1;
        if let Some(c) = r.status.and_then(|s| self.status.get_mut(s as usize)) {
            *c += 1;
        }
        if let Some(t) = r.time {
            self.range.add(t);
        }
    }

    fn append(&mut self, later: AccessSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

/// Counts of an error log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorSummary {
    /// Entries parsed.
    pub entries: u64,
    /// Upstream errors by kind, indexed by [`UpstreamKind::index`].
    pub upstream_errors: [u64; UpstreamKind::ALL.len()],
    /// Upstream lines at `warn`.
    pub upstream_warnings: u64,
    /// `FastCGI sent in stderr` entries (never upstream errors).
    pub fastcgi_stderr: u64,
    /// The PHP messages of those entries, by level (an entry may carry
    /// several).
    pub php_messages: PhpCounts,
    /// Times seen.
    pub range: TimeRange,
}

impl ErrorSummary {
    /// Adds another summary's counts (a later chunk, or another file).
    pub fn merge(&mut self, other: &ErrorSummary) {
        self.entries += other.entries;
        for (a, b) in self.upstream_errors.iter_mut().zip(other.upstream_errors) {
            *a += b;
        }
        self.upstream_warnings += other.upstream_warnings;
        self.fastcgi_stderr += other.fastcgi_stderr;
        self.php_messages.merge(&other.php_messages);
        self.range.merge(other.range);
    }

    /// Upstream errors by kind, non-zero only, in contract order.
    pub fn upstream_errors(&self) -> Vec<(UpstreamKind, u64)> {
        UpstreamKind::ALL
            .iter()
            .map(|k| (*k, self.upstream_errors[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

impl Sink<ErrorParser> for ErrorSummary {
    #[inline]
    fn record(&mut self, r: ErrorRecord<'_>, _loc: Loc) {
        self.entries += 1;
        match r.upstream_class {
            UpstreamClass::Error(k) => self.upstream_errors[k.index()] += 1,
            UpstreamClass::Warning => self.upstream_warnings += 1,
            UpstreamClass::None => {}
        }
        if r.fastcgi_stderr {
            self.fastcgi_stderr += 1;
            self.php_messages.merge(&r.php_counts);
        }
        self.range.add(r.time);
    }

    fn append(&mut self, later: ErrorSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

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

fn scan_source<P, S, F>(
    source: Source,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> crate::scan::Scanned<S>
where
    P: crate::frame::RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    match source {
        Source::File(f) => crate::scan::scan_file(&f, parser, opts, new_sink),
        Source::Stream(r) => scan_reader(r, parser, opts, new_sink),
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
    let mut out = FileSummary {
        format: detected.format,
        reason: detected.reason.clone(),
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
    };
    // A container envelope comes off first: the format's parser reads the
    // container's own lines.
    let counts = detected
        .envelope
        .map(|_| std::sync::Arc::new(crate::envelope::EnvelopeCounts::default()));
    let source = match (detected.envelope, &counts) {
        (Some(env), Some(c)) => {
            let inner: Box<dyn Read + Send> = match source {
                Source::File(f) => Box::new(f),
                Source::Stream(r) => r,
            };
            Source::Stream(Box::new(crate::envelope::Unwrap::new(
                inner,
                env,
                c.clone(),
            )))
        }
        _ => source,
    };
    summarize_plain(source, detected, time, opts, collect, &mut out);
    if let (Some(env), Some(c)) = (detected.envelope, counts) {
        out.envelope = Some(c.summary(env));
    }
    out
}

/// [`summarize`] once any envelope is off.
fn summarize_plain(
    source: Source,
    detected: &Detected,
    time: &TimeConfig,
    opts: &ScanOptions,
    collect: Collect,
    out: &mut FileSummary,
) {
    let zone = time.zone;
    match (detected.format, &detected.access) {
        (Format::NginxAccess | Format::NginxError, Some(p)) if detected.mixed => {
            let p = crate::mixed::MixedParser::new(p.clone(), time.zone);
            let s = run(
                source,
                &p,
                opts,
                collect,
                crate::mixed::MixedSummary::default,
                out,
            );
            out.variant = Some(p.access_variant());
            out.formats = vec![
                (Format::NginxAccess, s.access_lines),
                (Format::NginxError, s.error_lines),
            ];
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
            let reader: Box<dyn Read> = match source {
                Source::File(f) => Box::new(f),
                Source::Stream(r) => r,
            };
            let (parsed, err) = crate::config::read(reader, detected.format);
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

/// Scans `source` into a fresh `S`, collecting events into `out` when
/// asked; the tally and any read error go to `out` too.
fn run<P, S>(
    source: Source,
    parser: &P,
    opts: &ScanOptions,
    collect: Collect,
    new: fn() -> S,
    out: &mut FileSummary,
) -> S
where
    P: crate::frame::RecordParser,
    S: Sink<P>,
    Collecting<S>: Sink<P>,
{
    if collect.events {
        let s = scan_source(source, parser, opts, &|| Collecting::new(new(), collect));
        out.tally = s.tally;
        out.read_error = s.error;
        out.events = s.sink.events;
        out.traffic = s.sink.traffic;
        s.sink.summary
    } else {
        let s = scan_source(source, parser, opts, &new);
        out.tally = s.tally;
        out.read_error = s.error;
        s.sink
    }
}

/// A summary sink that also keeps the events of interest (and, for access
/// logs, the traffic per minute).
#[derive(Debug)]
pub struct Collecting<S> {
    /// The counts.
    pub summary: S,
    /// Events, in input order.
    pub events: Vec<Event>,
    /// Request volume (access logs).
    pub traffic: Option<Traffic>,
    pub(crate) collect: Collect,
    scratch: Vec<u8>,
}

impl<S> Collecting<S> {
    /// Wraps a summary.
    pub fn new(summary: S, collect: Collect) -> Collecting<S> {
        Collecting {
            summary,
            events: Vec::new(),
            traffic: None,
            collect,
            scratch: Vec::new(),
        }
    }

    pub(crate) fn append_events(&mut self, later: Collecting<S>, line_shift: u64) {
        let start = self.events.len();
        self.events.extend(later.events);
        for e in &mut self.events[start..] {
            e.line += line_shift;
        }
        match (&mut self.traffic, later.traffic) {
            (Some(t), Some(l)) => t.merge(&l),
            (t @ None, l) => *t = l,
            (Some(_), None) => {}
        }
    }
}

impl Sink<AccessParser> for Collecting<AccessSummary> {
    fn record(&mut self, r: AccessRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    #[inline]
    fn record_raw(&mut self, r: AccessRecord<'_>, loc: Loc, raw: &[u8]) {
        self.traffic.get_or_insert_with(Traffic::default).add(&r);
        if self.collect.all_requests || r.status.is_some_and(|s| s == 499 || s >= 500) {
            self.events.push(event::from_access(&r, loc.line, raw));
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.summary.merge(&later.summary);
        self.append_events(later, line_shift);
    }
}

impl Sink<ErrorParser> for Collecting<ErrorSummary> {
    fn record(&mut self, r: ErrorRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    #[inline]
    fn record_raw(&mut self, r: ErrorRecord<'_>, loc: Loc, raw: &[u8]) {
        if r.upstream_class != UpstreamClass::None || r.fastcgi_stderr {
            let collect = self.collect;
            self.events
                .extend(event::from_error(&r, loc.line, raw).filter(|e| collect.keeps(e)));
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.summary.merge(&later.summary);
        self.append_events(later, line_shift);
    }
}

impl Sink<FpmLogParser> for Collecting<FpmSummary> {
    fn record(&mut self, r: FpmRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: FpmRecord<'_>, loc: Loc, raw: &[u8]) {
        let collect = self.collect;
        self.events
            .extend(event::from_fpm(&r.event, r.time, loc.line, raw).filter(|e| collect.keeps(e)));
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<FpmLogParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<SlowlogParser> for Collecting<SlowlogSummary> {
    fn record(&mut self, r: SlowlogRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: SlowlogRecord<'_>, loc: Loc, raw: &[u8]) {
        self.events.push(event::from_slowlog(&r, loc.line, raw));
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<SlowlogParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<KernelParser> for Collecting<KernelSummary> {
    fn record(&mut self, r: KernelRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: KernelRecord<'_>, loc: Loc, raw: &[u8]) {
        if r.is_kernel() {
            self.events
                .extend(event::from_kernel(&r.event, r.time, loc.line, raw));
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        // The later chunk's yearless times move by the New Years before it.
        if let Some((years, zone)) = self.summary.redating(&later.summary) {
            for e in &mut later.events {
                e.time = e.time.map(|t| crate::journal::shift_years(t, years, zone));
            }
        }
        let summary = std::mem::take(&mut later.summary);
        Sink::<KernelParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<JournalParser> for Collecting<JournalSummary> {
    fn record(&mut self, r: JournalRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: JournalRecord<'_>, loc: Loc, raw: &[u8]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let collect = self.collect;
        self.events.extend(
            event::from_journal(&r, loc.line, raw, &mut scratch).filter(|e| collect.keeps(e)),
        );
        self.scratch = scratch;
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        // The later chunk's yearless times move by the New Years before it.
        if let Some((years, zone)) = self.summary.redating(&later.summary) {
            for e in &mut later.events {
                e.time = e.time.map(|t| crate::journal::shift_years(t, years, zone));
            }
        }
        let summary = std::mem::take(&mut later.summary);
        Sink::<JournalParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<CloudflareParser> for Collecting<EdgeSummary> {
    fn record(&mut self, r: EdgeRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: EdgeRecord<'_>, loc: Loc, raw: &[u8]) {
        let failed = r.is_gateway_error() || r.edge_status.is_some_and(|s| s >= 500);
        if self.collect.all_edge || self.collect.all_requests || failed {
            self.events.push(event::from_edge(&r, loc.line, raw));
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<CloudflareParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<PhpErrorParser> for Collecting<PhpErrorSummary> {
    fn record(&mut self, r: PhpErrorRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: PhpErrorRecord<'_>, loc: Loc, raw: &[u8]) {
        let e = event::from_php_error(&r, loc.line, raw);
        if self.collect.keeps(&e) {
            self.events.push(e);
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<PhpErrorParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

impl Sink<MysqlSlowParser> for Collecting<MysqlSlowSummary> {
    fn record(&mut self, r: SlowEntry<'_>, loc: Loc) {
        if let SlowEntry::Query(q) = &r {
            self.events.push(event::from_mysql_slow(q, loc.line));
        }
        self.summary.record(r, loc);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<MysqlSlowParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
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
