//! The php-fpm slowlog: one stack trace per slow request, with the culprit
//! named at parse time.
//!
//! # Format accepted
//!
//! php-fpm (`request_slowlog_timeout`) appends one trace per slow request,
//! each preceded by a blank line:
//!
//! ```text
//!
//! [24-Nov-2026 11:16:57]  [pool www] pid 31545
//! script_filename = /var/www/shop/public/slow.php
//! [0x00007fcb18a132c0] usleep() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:3
//! [0x00007fcb18a13240] rb_fetch_remote_rates() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:7
//! [0x00007fcb18a13150] render() /var/www/shop/public/slow.php:5
//! ```
//!
//! - The header is `[DD-Mon-YYYY HH:MM:SS] [pool NAME] pid N` (php-fpm
//!   writes two spaces after the time; one or more are accepted). With
//!   `log_level = debug` the time carries microseconds
//!   (`[24-Nov-2026 11:16:57.123456]`). The time has no zone: it is resolved
//!   in the [`Zone`] given to [`SlowlogParser::new`]. The pool name runs to
//!   the last `] pid ` of the line, so it may hold dots, spaces or brackets.
//! - `script_filename = PATH` follows the header.
//! - Each frame is `[0xADDR] FUNCTION() FILE:LINE`, innermost first, at most
//!   20 of them. `FUNCTION` is a bare name (`query`, `{closure}`,
//!   `[INCLUDE_OR_EVAL]`, `???`: no class), and `FILE:LINE` is where the
//!   call was made (`unknown:0` when no PHP code made it).
//! - `+++ dump failed` ends a trace php-fpm could not read to the end.
//!
//! A trace is one record: it starts at its header line (so large slowlogs
//! are cut into parallel chunks before headers) and continues over the
//! `script_filename` line, frame lines and `+++ dump failed`. The blank
//! lines between traces are records of their own, skipped as `empty`.
//!
//! A trace is kept and marked [`SlowlogRecord::truncated`] when it has no
//! frame, when a frame line is cut short (a file rotated or cut mid-line),
//! or after `+++ dump failed`. A header cut short before its pid is skipped
//! as `truncated`.
//!
//! # Attribution
//!
//! Every frame gets a [`CodeKind`] and a name from its file ([`attribute`]).
//! The trace's culprit ([`Culprit`]) is its innermost frame that is neither
//! core nor `unknown`; when every frame is core, the innermost core frame.
//! Its blocking call is the innermost frame's function, classified with the
//! file that called it ([`classify_call`], where the `external_call` and
//! `file_io` rule is spelled out).
//!
//! A trace is WordPress when one of its paths (script or frame) holds
//! `/wp-content/`, `/wp-includes/` or `/wp-admin/`, or names a WordPress
//! root file such as `wp-settings.php`; the directory above is its root
//! ([`SlowlogRecord::wp_root`]). In a trace that is not WordPress, the
//! framework's `/vendor/` tree counts as core, so the culprit is the
//! innermost frame outside it.

use memchr::{memchr, memmem, memrchr};

use crate::error::SkipReason;
use crate::frame::{Loc, RecordParser, trim_cr};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{LocalResolver, Timestamp, Zone, civil_to_secs, month_from_abbrev};

mod attribute;
#[cfg(test)]
mod tests;

pub use attribute::{
    CallKind, CodeKind, attribute, classify_call, is_db_layer, is_http_layer, wp_root_of,
};

/// `script_filename = `
const SCRIPT: &[u8] = b"script_filename = ";
/// php-fpm's line after a trace it could not finish.
const DUMP_FAILED: &[u8] = b"+++ dump failed";

/// One frame of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The `zend_execute_data` address in brackets.
    pub addr: u64,
    /// The function name, without `()`.
    pub function: &'a [u8],
    /// The file of the code that made the call (`unknown` when none did).
    pub file: &'a [u8],
    /// Its line.
    pub line: u32,
    /// The frame as printed, without the address: `usleep() /path/file.php:3`.
    pub text: &'a [u8],
    /// Where `file` lives.
    pub kind: CodeKind,
    /// The slug (plugin, mu-plugin, theme) or path (see [`attribute`]).
    pub name: &'a [u8],
}

/// The code a trace is blamed on and what it was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Culprit<'a> {
    /// Where the culprit frame's code lives.
    pub kind: CodeKind,
    /// Its slug or path (see [`attribute`]).
    pub name: &'a [u8],
    /// What the innermost frame is doing.
    pub call: CallKind,
    /// The culprit frame as printed, without the address
    /// (`wp_remote_get() /var/www/wp-content/plugins/acme/api.php:88`).
    pub frame: &'a [u8],
}

/// One slowlog trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowlogRecord<'a> {
    /// When php-fpm wrote the trace (`request_slowlog_timeout` after the
    /// request started), resolved in the configured zone.
    pub time: Timestamp,
    /// The pool name.
    pub pool: &'a [u8],
    /// The worker's pid.
    pub pid: u32,
    /// The `script_filename = ` path, when the line is there.
    pub script_filename: Option<&'a [u8]>,
    /// The frame lines as written (with their inner line ends); read them
    /// with [`SlowlogRecord::frames`].
    pub frames_text: &'a [u8],
    /// How many well-formed frames `frames_text` holds.
    pub frame_count: u32,
    /// The WordPress root (with its trailing `/`) when the trace is
    /// WordPress.
    pub wp_root: Option<&'a [u8]>,
    /// No frame, a line cut short, or `+++ dump failed`.
    pub truncated: bool,
    /// php-fpm wrote `+++ dump failed`.
    pub dump_failed: bool,
    /// The culprit; `None` only when the trace has no frame.
    pub culprit: Option<Culprit<'a>>,
}

impl<'a> SlowlogRecord<'a> {
    /// The well-formed frames, innermost first, each attributed.
    pub fn frames(&self) -> Frames<'a> {
        Frames {
            rest: self.frames_text,
            root: self.wp_root,
        }
    }
}

/// The frames of a trace, innermost first ([`SlowlogRecord::frames`]).
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    rest: &'a [u8],
    root: Option<&'a [u8]>,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        while !self.rest.is_empty() {
            let (line, rest) = split_line(self.rest);
            self.rest = rest;
            if let Some(f) = parse_frame(line) {
                let (kind, name) = attribute(f.file, self.root);
                return Some(Frame { kind, name, ..f });
            }
        }
        None
    }
}

/// The first line of `b` (without `\r\n`) and what follows it.
#[inline]
fn split_line(b: &[u8]) -> (&[u8], &[u8]) {
    match memchr(b'\n', b) {
        Some(i) => (trim_cr(&b[..i]), &b[i + 1..]),
        None => (trim_cr(b), &[][..]),
    }
}

/// Reads `[0xADDR] FUNCTION() FILE:LINE` (kind and name left for the caller).
fn parse_frame(line: &[u8]) -> Option<Frame<'_>> {
    let rest = line.strip_prefix(b"[0x")?;
    let close = memchr(b']', rest)?;
    let hex = &rest[..close];
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    let mut addr = 0u64;
    for &c in hex {
        let d = (c as char).to_digit(16)?;
        addr = (addr << 4) | d as u64;
    }
    let text = rest[close + 1..].strip_prefix(b" ")?;
    let paren = memmem::find(text, b"() ")?;
    let loc = &text[paren + 3..];
    let colon = memrchr(b':', loc)?;
    let digits = &loc[colon + 1..];
    if colon == 0 || digits.is_empty() || digits.len() > 10 {
        return None;
    }
    let mut line_no = 0u64;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        line_no = line_no * 10 + (c - b'0') as u64;
    }
    Some(Frame {
        addr,
        function: &text[..paren],
        file: &loc[..colon],
        line: u32::try_from(line_no).ok()?,
        text,
        kind: CodeKind::Other,
        name: &[],
    })
}

/// Whether `line` continues a trace: a frame, or `+++ dump failed`.
#[inline]
fn is_frame_line(line: &[u8]) -> bool {
    line.starts_with(b"[0x") || line.starts_with(DUMP_FAILED)
}

/// The shape of a header's start, `[DD-Mon-YYYY HH:MM:SS`: `d` a digit,
/// `a` a letter, anything else itself.
const HEADER_SHAPE: &[u8; 21] = b"[dd-aaa-dddd dd:dd:dd";

/// Whether `b` matches [`HEADER_SHAPE`] for as many bytes as it has.
fn header_shape(b: &[u8]) -> bool {
    b.iter().zip(HEADER_SHAPE).all(|(&c, &s)| match s {
        b'd' => c.is_ascii_digit(),
        b'a' => c.is_ascii_alphabetic(),
        _ => c == s,
    })
}

#[inline]
fn d2(b: &[u8], i: usize) -> u32 {
    (b[i] - b'0') as u32 * 10 + (b[i + 1] - b'0') as u32
}

/// Parses `[DD-Mon-YYYY HH:MM:SS]` or `[DD-Mon-YYYY HH:MM:SS.ffffff]` at the
/// start of `b` (shape already checked for 21 bytes): local seconds as if
/// UTC, microseconds, and the rest after `]`.
fn parse_time(b: &[u8]) -> Result<(i64, u32, &[u8]), SkipReason> {
    let month = month_from_abbrev(&b[4..7]).ok_or(SkipReason::BadTimestamp)?;
    let year = (d2(b, 8) * 100 + d2(b, 10)) as i64;
    let secs = civil_to_secs(year, month, d2(b, 1), d2(b, 13), d2(b, 16), d2(b, 19))
        .ok_or(SkipReason::BadTimestamp)?;
    let mut i = 21;
    let mut us = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            us += (b[i] - b'0') as u32 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start || i - start > 9 {
            return Err(if i == b.len() {
                SkipReason::Truncated
            } else {
                SkipReason::BadTimestamp
            });
        }
    }
    match b.get(i) {
        Some(b']') => Ok((secs, us, &b[i + 1..])),
        None => Err(SkipReason::Truncated),
        Some(_) => Err(SkipReason::BadTimestamp),
    }
}

/// Parses `[pool NAME] pid N` after the time (leading spaces included).
fn parse_pool_pid(rest: &[u8]) -> Result<(&[u8], u32), SkipReason> {
    let spaces = rest.iter().take_while(|&&c| c == b' ').count();
    let rest = &rest[spaces..];
    let Some(named) = rest.strip_prefix(b"[pool ") else {
        return Err(if b"[pool ".starts_with(rest) {
            SkipReason::Truncated
        } else {
            SkipReason::Unrecognized
        });
    };
    let Some(close) = memmem::rfind(named, b"] pid ") else {
        return Err(SkipReason::Truncated);
    };
    let digits = &named[close + 6..];
    if digits.is_empty() {
        return Err(SkipReason::Truncated);
    }
    if digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(SkipReason::BadField);
    }
    let pid = digits.iter().fold(0u64, |n, &c| n * 10 + (c - b'0') as u64);
    let pid = u32::try_from(pid).map_err(|_| SkipReason::BadField)?;
    Ok((&named[..close], pid))
}

/// Parses php-fpm slowlog traces (the format is in the [module
/// docs](self)), resolving their offset-less times in a zone and naming
/// each trace's culprit.
///
/// ```
/// use baton_logparse::fpm::slowlog::{CallKind, CodeKind, SlowlogParser};
/// use baton_logparse::{RecordParser, Zone};
/// let mut p = SlowlogParser::new(Zone::UTC);
/// let trace = b"[24-Nov-2026 11:16:57]  [pool www] pid 31545
/// script_filename = /var/www/shop/public/slow.php
/// [0x00007f4c8b8f2a30] sleep() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:12
/// [0x00007f4c8b8f1d40] rb_run() /var/www/shop/public/slow.php:5";
/// let r = p.parse(trace).unwrap();
/// assert_eq!(r.time.to_rfc3339(), "2026-11-24T11:16:57+00:00");
/// assert_eq!((r.pool, r.pid, r.frame_count), (&b"www"[..], 31545, 2));
/// let c = r.culprit.unwrap();
/// assert_eq!((c.kind, c.name, c.call), (CodeKind::Plugin, &b"report-builder"[..], CallKind::Sleep));
/// let last = r.frames().last().unwrap();
/// assert_eq!((last.function, last.line, last.kind), (&b"rb_run"[..], 5, CodeKind::Other));
/// ```
#[derive(Debug, Clone)]
pub struct SlowlogParser {
    resolver: LocalResolver,
}

impl SlowlogParser {
    /// A parser resolving times in `zone`.
    pub fn new(zone: Zone) -> SlowlogParser {
        SlowlogParser {
            resolver: LocalResolver::new(zone),
        }
    }
}

impl RecordParser for SlowlogParser {
    type Record<'a> = SlowlogRecord<'a>;
    const MULTILINE: bool = true;

    /// A line starting `[DD-` (a header, perhaps cut short).
    fn is_record_start(&self, line: &[u8]) -> bool {
        line.len() >= 4 && header_shape(&line[..4])
    }

    /// `next` continues `head` when `head` is a trace (or a run of orphan
    /// frame lines) and `next` is its `script_filename = ` line (only right
    /// after the header), a frame line or `+++ dump failed`.
    fn continues(&self, head: &[u8], next: &[u8]) -> bool {
        let in_trace = head.first() == Some(&b'[') || head.starts_with(DUMP_FAILED);
        in_trace
            && (is_frame_line(next) || (next.starts_with(SCRIPT) && memchr(b'\n', head).is_none()))
    }

    /// Parses one trace. Skips: frame lines with no header before them are
    /// [`SkipReason::OrphanContinuation`]; a header cut short
    /// [`SkipReason::Truncated`]; an impossible date
    /// [`SkipReason::BadTimestamp`]; a pid that is not a number
    /// [`SkipReason::BadField`]; anything else [`SkipReason::Unrecognized`].
    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<SlowlogRecord<'a>, SkipReason> {
        let (header, body) = split_line(rec);
        if header.is_empty() {
            return Err(SkipReason::Unrecognized);
        }
        if !header_shape(header) {
            return Err(if is_frame_line(header) || header.starts_with(SCRIPT) {
                SkipReason::OrphanContinuation
            } else {
                SkipReason::Unrecognized
            });
        }
        if header.len() < HEADER_SHAPE.len() {
            return Err(SkipReason::Truncated);
        }
        let (local, us, rest) = parse_time(header)?;
        let (pool, pid) = parse_pool_pid(rest)?;
        let mut t = self.resolver.resolve(local);
        t.unix_us += us as i64;

        // script_filename, then frames.
        let mut body = body;
        let mut script_filename = None;
        if body.starts_with(SCRIPT) {
            let (line, rest) = split_line(body);
            script_filename = Some(&line[SCRIPT.len()..]);
            body = rest;
        }
        let mut wp_root = script_filename.and_then(wp_root_of);
        let mut frame_count = 0u32;
        let mut bad_lines = false;
        let mut dump_failed = false;
        let mut rest = body;
        while !rest.is_empty() {
            let (line, r) = split_line(rest);
            rest = r;
            if let Some(f) = parse_frame(line) {
                frame_count += 1;
                if wp_root.is_none() {
                    wp_root = wp_root_of(f.file);
                }
            } else if line == DUMP_FAILED {
                dump_failed = true;
            } else {
                bad_lines = true;
            }
        }
        let mut r = SlowlogRecord {
            time: t,
            pool,
            pid,
            script_filename,
            frames_text: body,
            frame_count,
            wp_root,
            truncated: frame_count == 0 || bad_lines || dump_failed,
            dump_failed,
            culprit: None,
        };
        r.culprit = find_culprit(&r);
        Ok(r)
    }
}

/// The innermost frame that is neither core nor `unknown` (else the
/// innermost core frame, else the innermost frame), with the innermost
/// frame's call class.
fn find_culprit<'a>(r: &SlowlogRecord<'a>) -> Option<Culprit<'a>> {
    let mut frames = r.frames();
    let first = frames.next()?;
    let call = classify_call(first.function, first.file);
    let mut core = None;
    let mut pick = None;
    for f in std::iter::once(first).chain(frames) {
        if f.kind == CodeKind::Core {
            core.get_or_insert(f);
        } else if f.file != b"unknown" {
            pick = Some(f);
            break;
        }
    }
    let f = pick.or(core).unwrap_or(first);
    Some(Culprit {
        kind: f.kind,
        name: f.name,
        call,
        frame: f.text,
    })
}

/// Counts of a slowlog: the `slowlog` section of `baton.stats.v1`
/// (`traces`, `by_plugin`, `by_theme`, `core`) and more.
///
/// Every trace is counted once by its culprit, so `traces` is the sum of
/// the `by_plugin`, `by_mu_plugin` and `by_theme` values plus `core`,
/// `other` and `unattributed`.
///
/// Maps are keyed by the raw slug bytes (a key is allocated only the first
/// time a slug is seen); they iterate in byte order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlowlogSummary {
    /// Traces parsed.
    pub traces: u64,
    /// Traces whose culprit is a plugin, by slug.
    pub by_plugin: std::collections::BTreeMap<Vec<u8>, u64>,
    /// Traces whose culprit is a must-use plugin, by slug.
    pub by_mu_plugin: std::collections::BTreeMap<Vec<u8>, u64>,
    /// Traces whose culprit is a theme, by slug.
    pub by_theme: std::collections::BTreeMap<Vec<u8>, u64>,
    /// Traces with no culprit outside core (WordPress core, or a framework's
    /// `/vendor/` outside WordPress).
    pub core: u64,
    /// Traces whose culprit is other code (site scripts, drop-ins, an
    /// application's own code).
    pub other: u64,
    /// Traces with no frame at all.
    pub unattributed: u64,
    /// Traces by the innermost frame's call class, indexed by
    /// [`CallKind::index`] (traces with no frame are not counted).
    pub calls: [u64; CallKind::ALL.len()],
    /// Traces marked [`SlowlogRecord::truncated`].
    pub truncated: u64,
    /// Times seen.
    pub range: TimeRange,
}

fn bump(map: &mut std::collections::BTreeMap<Vec<u8>, u64>, key: &[u8], n: u64) {
    match map.get_mut(key) {
        Some(c) => *c += n,
        None => {
            map.insert(key.to_vec(), n);
        }
    }
}

impl SlowlogSummary {
    /// Adds the counts of another input (totals across files).
    pub fn merge(&mut self, other: &SlowlogSummary) {
        self.traces += other.traces;
        for (k, n) in &other.by_plugin {
            bump(&mut self.by_plugin, k, *n);
        }
        for (k, n) in &other.by_mu_plugin {
            bump(&mut self.by_mu_plugin, k, *n);
        }
        for (k, n) in &other.by_theme {
            bump(&mut self.by_theme, k, *n);
        }
        self.core += other.core;
        self.other += other.other;
        self.unattributed += other.unattributed;
        for (a, b) in self.calls.iter_mut().zip(other.calls) {
            *a += b;
        }
        self.truncated += other.truncated;
        self.range.merge(other.range);
    }

    /// Traces by call class, non-zero only, in contract order.
    pub fn calls(&self) -> Vec<(CallKind, u64)> {
        CallKind::ALL
            .iter()
            .map(|k| (*k, self.calls[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

impl Sink<SlowlogParser> for SlowlogSummary {
    fn record(&mut self, r: SlowlogRecord<'_>, _loc: Loc) {
        self.traces += 1;
        self.truncated += r.truncated as u64;
        self.range.add(r.time);
        let Some(c) = r.culprit else {
            self.unattributed += 1;
            return;
        };
        self.calls[c.call.index()] += 1;
        match c.kind {
            CodeKind::Plugin => bump(&mut self.by_plugin, c.name, 1),
            CodeKind::MuPlugin => bump(&mut self.by_mu_plugin, c.name, 1),
            CodeKind::Theme => bump(&mut self.by_theme, c.name, 1),
            CodeKind::Core => self.core += 1,
            CodeKind::Other => self.other += 1,
        }
    }

    fn append(&mut self, later: SlowlogSummary, _line_shift: u64) {
        self.merge(&later);
    }
}
