//! Summaries that also keep the events of interest: every format's sink
//! wrapped so that the records worth keeping become [`Event`]s as they are
//! counted (and access logs' volume [`Traffic`]).
//!
//! A [`Drain`] can take the events out as soon as they are final, chunk
//! by chunk, so that they do not accumulate per file.

use std::sync::Arc;

use crate::cloudflare::{CloudflareParser, EdgeRecord, EdgeSummary};
use crate::event::{self, Collect, Event, Traffic};
use crate::fpm::slowlog::{SlowlogParser, SlowlogRecord, SlowlogSummary};
use crate::fpm::{FpmLogParser, FpmRecord, FpmSummary};
use crate::frame::Loc;
use crate::journal::{JournalParser, JournalRecord, JournalSummary};
use crate::kernel::{KernelParser, KernelRecord, KernelSummary};
use crate::mysql_slow::{MysqlSlowParser, MysqlSlowSummary, SlowEntry};
use crate::nginx::access::{AccessParser, AccessRecord};
use crate::nginx::error::{ErrorParser, ErrorRecord, UpstreamClass};
use crate::nginx::summary::{AccessSummary, ErrorSummary};
use crate::php_error::{PhpErrorParser, PhpErrorRecord, PhpErrorSummary};
use crate::scan::Sink;
use crate::time::Zone;

/// Moves a later chunk's yearless times by the New Years before it (the
/// `redating` of a journal or kernel summary).
fn redate(events: &mut [Event], redating: Option<(u32, Zone)>) {
    if let Some((years, zone)) = redating {
        for e in events {
            e.time = e.time.map(|t| crate::journal::shift_years(t, years, zone));
        }
    }
}

/// Whether a request failed as far as the events go: a 5xx, or a 499 (the
/// client gave up waiting). Only those are kept, unless every request is.
pub fn failed(status: Option<u16>) -> bool {
    status.is_some_and(|s| s == 499 || s >= 500)
}

/// Whether an event's text may be left in its file: failed requests,
/// upstream errors and warnings, and the PHP messages nginx relays (on a
/// connection), a bad day's bulk: the correlator reads none of their text,
/// a report cites a few, and `baton events` reads them back row by row.
fn defers(e: &Event) -> bool {
    use crate::event::EventKind as K;
    match e.kind {
        // Failed ones only: `baton events --all` writes the rest out as it
        // reads (with their text).
        Some(K::Request | K::EdgeRequest) => failed(e.status),
        Some(K::UpstreamError | K::UpstreamWarning) => true,
        Some(K::PhpMessage) => e.connection.is_some(),
        _ => false,
    }
}

/// Takes an input's events as soon as they are final: their line numbers
/// absolute and their times settled (a later chunk's New Year redating
/// done), one chunk of the input at a time.
///
/// [`crate::summary::summarize_draining`] calls it, from the thread that
/// merges the input's chunks, for every event exactly once; the events it
/// leaves in the vector stay in [`crate::summary::FileSummary::events`], in
/// input order. Chunks come in input order, but several inputs may be
/// read at once: a drain shared by inputs must tell them apart itself.
pub trait Drain: Send + Sync {
    /// Removes from `events[from..]` (the events new since the last call,
    /// in input order) those it takes; `events[..from]` are the ones it
    /// left before, and must stay.
    fn drain(&self, events: &mut Vec<Event>, from: usize);
}

/// The drain of a root sink (a newtype for `Debug`).
#[derive(Clone)]
pub(crate) struct DrainTo(pub(crate) Arc<dyn Drain>);

impl std::fmt::Debug for DrainTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DrainTo(..)")
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
    /// One copy of each path, host, upstream... of the input's events,
    /// shared by the sinks of all its chunks.
    interner: std::sync::Arc<std::sync::Mutex<crate::text::Interner>>,
    /// Where the events of the chunks appended to this sink go once they
    /// are final: set on the scan's root sink only (the one every other
    /// chunk is appended to, in input order).
    pub(crate) drain: Option<DrainTo>,
    /// How many of `events` the drain has seen.
    offered: usize,
}

impl<S> Collecting<S> {
    /// Wraps a summary.
    pub fn new(summary: S, collect: Collect) -> Collecting<S> {
        Collecting::sharing(summary, collect, &Default::default())
    }

    /// Wraps a summary, its events' repeated values shared with those of
    /// every other sink given the same `interner` (the input's chunks).
    pub fn sharing(
        summary: S,
        collect: Collect,
        interner: &std::sync::Arc<std::sync::Mutex<crate::text::Interner>>,
    ) -> Collecting<S> {
        Collecting {
            summary,
            events: Vec::new(),
            traffic: None,
            collect,
            scratch: Vec::new(),
            interner: interner.clone(),
            drain: None,
            offered: 0,
        }
    }

    /// Hands the events the drain has not seen yet to it (a root sink's:
    /// they are final).
    pub(crate) fn offer(&mut self) {
        if let Some(d) = &self.drain
            && self.offered < self.events.len()
        {
            d.0.drain(&mut self.events, self.offered);
            self.offered = self.events.len();
        }
    }

    /// Keeps a request as an event (out of line: the scan's loop stays
    /// small).
    #[inline(never)]
    fn keep_access(&mut self, r: &AccessRecord<'_>, loc: Loc, raw: &[u8]) {
        // What `keep` would do with `from_access`'s event, without making
        // the texts it would then drop: shared values straight from the
        // interner, the line's text left in the file when it is deferred
        // (a request's text is always its first line).
        let defer = self.collect.defer_text && failed(r.status);
        let mut e = {
            let mut i = self
                .interner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            event::from_access_in(r, loc.line, raw, !defer, &mut |b| i.text(b))
        };
        e.offset = loc.offset;
        if defer {
            e.text_hash = event::text_hash(event::first_line_of(raw));
        }
        self.events.push(e);
    }

    /// Keeps an event read from `raw` at `loc`, its repeated values (path,
    /// host, upstream, pool...) shared with the chunk's earlier events, and
    /// its text left to be read back when [`Collect::defer_text`] says so.
    pub(crate) fn keep(&mut self, mut e: Event, loc: Loc, raw: &[u8]) {
        e.offset = loc.offset;
        if self.collect.defer_text && defers(&e) && *e.text == *event::first_line_of(raw) {
            e.text_hash = event::text_hash(&e.text);
            e.text = Default::default();
        }
        // A poisoned lock only means another chunk's thread panicked
        // mid-insert: the set is still a set.
        let mut i = self
            .interner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for t in [
            &mut e.method,
            &mut e.path,
            &mut e.action,
            &mut e.client,
            &mut e.host,
            &mut e.upstream,
            &mut e.pool,
        ]
        .into_iter()
        .flatten()
        {
            i.share(t);
        }
        if let Some(d) = e.detail.as_deref_mut() {
            for t in [&mut d.plugin, &mut d.process, &mut d.object, &mut d.frame]
                .into_iter()
                .flatten()
            {
                i.share(t);
            }
        }
        self.events.push(e);
    }

    /// Appends a later chunk whose summary merges through its own
    /// [`Sink::append`]: the summary, then the events and traffic.
    fn append_summary<P: crate::frame::RecordParser>(
        &mut self,
        mut later: Collecting<S>,
        line_shift: u64,
    ) where
        S: Sink<P> + Default,
    {
        let summary = std::mem::take(&mut later.summary);
        Sink::<P>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }

    /// Adds `shift` to the offsets of the events kept (summaries keep
    /// none).
    pub(crate) fn shift_event_offsets(&mut self, shift: u64) {
        for e in &mut self.events {
            e.offset += shift;
        }
    }

    pub(crate) fn append_events(&mut self, later: Collecting<S>, line_shift: u64) {
        let start = self.events.len();
        self.events.extend(later.events);
        for e in &mut self.events[start..] {
            e.line += line_shift;
        }
        // The root sink's events are final now.
        self.offer();
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

    // Every request passes here: inlined into the scan, so that the
    // record (700 bytes of fields) is never copied; the few kept as
    // events are made out of line.
    #[inline(always)]
    fn record_raw(&mut self, r: AccessRecord<'_>, loc: Loc, raw: &[u8]) {
        self.traffic
            .get_or_insert_with(Traffic::default)
            .add_parts(r.time, r.status, r.path, r.query, r.request);
        self.summary.count(r.status, r.time);
        if self.collect.all_requests || failed(r.status) {
            self.keep_access(&event::access_fields(&r), loc, raw);
        }
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
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
            if let Some(e) = event::from_error(&r, loc.line, raw).filter(|e| collect.keeps(e)) {
                self.keep(e, loc, raw);
            }
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
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
        if let Some(e) =
            event::from_fpm(&r.event, r.time, loc.line, raw).filter(|e| collect.keeps(e))
        {
            self.keep(e, loc, raw);
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.append_summary::<FpmLogParser>(later, line_shift);
    }
}

impl Sink<SlowlogParser> for Collecting<SlowlogSummary> {
    fn record(&mut self, r: SlowlogRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: SlowlogRecord<'_>, loc: Loc, raw: &[u8]) {
        self.keep(event::from_slowlog(&r, loc.line, raw), loc, raw);
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.append_summary::<SlowlogParser>(later, line_shift);
    }
}

impl Sink<KernelParser> for Collecting<KernelSummary> {
    fn record(&mut self, r: KernelRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: KernelRecord<'_>, loc: Loc, raw: &[u8]) {
        if r.is_kernel()
            && let Some(e) = event::from_kernel(&r.event, r.time, loc.line, raw)
        {
            self.keep(e, loc, raw);
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        redate(&mut later.events, self.summary.redating(&later.summary));
        self.append_summary::<KernelParser>(later, line_shift);
    }
}

impl Sink<JournalParser> for Collecting<JournalSummary> {
    fn record(&mut self, r: JournalRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: JournalRecord<'_>, loc: Loc, raw: &[u8]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let collect = self.collect;
        if let Some(e) =
            event::from_journal(&r, loc.line, raw, &mut scratch).filter(|e| collect.keeps(e))
        {
            self.keep(e, loc, raw);
        }
        self.scratch = scratch;
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        redate(&mut later.events, self.summary.redating(&later.summary));
        self.append_summary::<JournalParser>(later, line_shift);
    }
}

impl Sink<CloudflareParser> for Collecting<EdgeSummary> {
    fn record(&mut self, r: EdgeRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: EdgeRecord<'_>, loc: Loc, raw: &[u8]) {
        let failed = r.is_gateway_error() || r.edge_status.is_some_and(|s| s >= 500);
        if self.collect.all_edge || self.collect.all_requests || failed {
            self.keep(event::from_edge(&r, loc.line, raw), loc, raw);
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.append_summary::<CloudflareParser>(later, line_shift);
    }
}

impl Sink<PhpErrorParser> for Collecting<PhpErrorSummary> {
    fn record(&mut self, r: PhpErrorRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: PhpErrorRecord<'_>, loc: Loc, raw: &[u8]) {
        let e = event::from_php_error(&r, loc.line, raw);
        if self.collect.keeps(&e) {
            self.keep(e, loc, raw);
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.append_summary::<PhpErrorParser>(later, line_shift);
    }
}

impl Sink<MysqlSlowParser> for Collecting<MysqlSlowSummary> {
    fn record(&mut self, r: SlowEntry<'_>, loc: Loc) {
        if let SlowEntry::Query(q) = &r {
            self.keep(event::from_mysql_slow(q, loc.line), loc, b"");
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, later: Self, line_shift: u64) {
        self.append_summary::<MysqlSlowParser>(later, line_shift);
    }
}
