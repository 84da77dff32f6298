//! The php-fpm log (the master's `error_log` file): framing and parsing.

use memchr::memchr;

use crate::error::SkipReason;
use crate::frame::{RecordParser, trim_cr};
use crate::time::{LocalResolver, Timestamp, Zone, civil_to_secs, month_from_abbrev};

use super::events::{
    DebugOrigin, FpmEvent, FpmLevel, WorkerOutput, classify, decorated_payload, php_location,
    php_message, split_debug_prefix,
};

/// FPM's default `log_limit`: a decorated line wrapped by FPM is exactly
/// `log_limit - 1` bytes long, so at least this long.
const WRAP_MIN: usize = 1023;

/// One php-fpm log record: one entry, or one worker output spread over
/// several physical lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpmRecord<'a> {
    /// The entry's time, resolved in the configured zone (with its
    /// microseconds at `log_level = debug`); `None` for undecorated
    /// worker output, which carries no time.
    pub time: Option<Timestamp>,
    /// The level; `None` for undecorated worker output.
    pub level: Option<FpmLevel>,
    /// The `pid N, function(), line N: ` prefix of `log_level = debug`.
    pub origin: Option<DebugOrigin<'a>>,
    /// The first line's message, after the level and any debug prefix.
    pub message: &'a [u8],
    /// What the message says.
    pub event: FpmEvent<'a>,
}

/// The parts of a header: `[DD-Mon-YYYY HH:MM:SS(.ffffff)] LEVEL: `.
struct Header {
    level: FpmLevel,
    /// Offset of the message (after `LEVEL: `).
    msg: usize,
}

/// The shape of `[DD-Mon-YYYY HH:MM:SS`: `d` a digit, `a` a letter,
/// anything else itself.
const SHAPE: &[u8; 21] = b"[dd-aaa-dddd dd:dd:dd";

/// Whether `b` matches [`SHAPE`] for as many bytes as it has.
#[inline]
fn shape_prefix(b: &[u8]) -> bool {
    b.iter().zip(SHAPE).all(|(&c, &s)| match s {
        b'd' => c.is_ascii_digit(),
        b'a' => c.is_ascii_alphabetic(),
        _ => c == s,
    })
}

/// Reads the header's `]`, level and `: ` after the 21 bytes of the time:
/// the level and the message offset. `Err` says why a line with a full
/// time shape is not an entry.
#[inline]
fn header(line: &[u8]) -> Result<Header, SkipReason> {
    let mut i = SHAPE.len();
    if line.get(i) == Some(&b'.') {
        i += 1;
        let n = line[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(if i + n == line.len() {
                SkipReason::Truncated
            } else {
                SkipReason::BadTimestamp
            });
        }
        i += n;
    }
    match line.get(i..i + 2) {
        Some(b"] ") => i += 2,
        Some(_) => return Err(SkipReason::BadTimestamp),
        None => return Err(SkipReason::Truncated),
    }
    let rest = &line[i..];
    let n = rest
        .iter()
        .take(8)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    let level = match FpmLevel::from_bytes(&rest[..n]) {
        Some(l) => l,
        None if n == rest.len() => return Err(SkipReason::Truncated),
        None => return Err(SkipReason::BadField),
    };
    match rest.get(n) {
        Some(b':') => {}
        Some(_) => return Err(SkipReason::BadField),
        None => return Err(SkipReason::Truncated),
    }
    let msg = i + n + 1 + (rest.get(n + 1) == Some(&b' ')) as usize;
    Ok(Header { level, msg })
}

/// Whether `line` is a php-fpm log entry: `[DD-Mon-YYYY HH:MM:SS` (perhaps
/// with `.ffffff`), `] `, and a level followed by `:`.
pub fn is_entry_start(line: &[u8]) -> bool {
    line.len() > SHAPE.len() && shape_prefix(line) && header(line).is_ok()
}

/// Splits a php-fpm entry header off `line`: its level and the message
/// after `LEVEL: ` (the time is not decoded). For messages that carry
/// FPM's own header inside another log, such as the journal's
/// `php-fpm8.2[4422]: [24-Nov-2026 11:19:35] ERROR: FPM initialization failed`.
///
/// ```
/// use baton_logparse::fpm::{FpmLevel, split_header};
/// assert_eq!(
///     split_header(b"[24-Nov-2026 11:19:35] ERROR: FPM initialization failed"),
///     Some((FpmLevel::Error, &b"FPM initialization failed"[..]))
/// );
/// assert_eq!(split_header(b"[WARNING] [pool www] x"), None);
/// ```
pub fn split_header(line: &[u8]) -> Option<(FpmLevel, &[u8])> {
    if line.len() <= SHAPE.len() || !shape_prefix(line) {
        return None;
    }
    let h = header(line).ok()?;
    Some((h.level, &line[h.msg..]))
}

/// The message of a decorated worker-output entry (`WARNING: [pool www]
/// child 1 said into stderr: "`...), or `None`.
#[inline]
fn worker_message(line: &[u8]) -> Option<&[u8]> {
    if line.len() <= SHAPE.len() || !shape_prefix(line) {
        return None;
    }
    let h = header(line).ok()?;
    if h.level != FpmLevel::Warning {
        return None;
    }
    let (_, m) = split_debug_prefix(&line[h.msg..]);
    if !m.starts_with(b"[pool ") {
        return None;
    }
    decorated_payload(m).map(|_| m)
}

/// Whether an undecorated line starts a message of its own (FPM's or
/// PHP's level prefix), rather than continuing the one before it.
#[inline]
fn undecorated_start(line: &[u8]) -> bool {
    match line.first() {
        None => true,
        Some(b'N') => line.starts_with(b"NOTICE: "),
        Some(b'W') => line.starts_with(b"WARNING: "),
        Some(b'E') => line.starts_with(b"ERROR: "),
        Some(b'A') => line.starts_with(b"ALERT: "),
        Some(b'D') => line.starts_with(b"DEBUG: "),
        Some(b'P') => line.starts_with(b"PHP "),
        Some(b'[') => shape_prefix(line),
        Some(_) => line.iter().all(u8::is_ascii_whitespace),
    }
}

/// Parses the php-fpm log (its `error_log` file), resolving its
/// offset-less times in a zone.
///
/// # Format accepted
///
/// ```text
/// [DD-Mon-YYYY HH:MM:SS] LEVEL: [pool NAME] message
/// [24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544
/// [24-Nov-2026 11:17:02] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it
/// [24-Nov-2026 11:21:41.781325] WARNING: pid 7260, fpm_request_check_timed_out(), line 261: [pool www] child 7261, script '/var/www/shop/public/slow.php' (request: "GET /slow.php?s=2") executing too slow (1.290234 sec), logging
/// NOTICE: PHP message: PHP Fatal error:  Uncaught Error: boom in /var/www/a.php:3
/// ```
///
/// - The time is local without an offset: it is resolved in the [`Zone`]
///   given to [`FpmLogParser::new`] (DST applied at each instant, file
///   order decides in a repeated hour). At `log_level = debug` it carries
///   microseconds (`.439495`) and every message starts with `pid N,
///   function(), line N: ` ([`FpmRecord::origin`]).
/// - `LEVEL` is `DEBUG`, `NOTICE`, `WARNING`, `ERROR` or `ALERT`. The
///   message, with or without `[pool NAME] `, is typed by [`classify`].
/// - Worker output (`catch_workers_output = yes`): FPM cuts output longer
///   than its `log_limit` (1024 bytes by default) into several entries of
///   the same writer, the first exactly `log_limit - 1` bytes long and
///   ending in `"`. Such entries are one record (a decorated worker entry
///   continues the one before it when that one is at least 1023 bytes
///   long, ends with `"` and has the same `[pool NAME] child N said into
///   stdXXX: "` prefix).
/// - With `decorate_workers_output = no`, worker output has no time, pool
///   or quotes: each line that starts a message (`NOTICE: `, `WARNING: `,
///   `PHP `, ...) begins a record, and the lines after it that start no
///   message of their own (`Stack trace:`, `#0 {main}`, `  thrown in ...`,
///   the rest of a wrapped line) belong to it. Such a record is
///   [`FpmEvent::WorkerOutput`] with no time; so is any other text line
///   (a worker's raw output), unless it holds a NUL byte.
///
/// Records are cut only before an entry that is not worker output, or
/// before an undecorated line that starts a message, so parallel chunks
/// never split a record.
///
/// ```
/// use baton_logparse::fpm::{FpmEvent, FpmLogParser, Master};
/// use baton_logparse::{RecordParser, Zone};
/// let mut p = FpmLogParser::new(Zone::UTC);
/// let r = p.parse(b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544").unwrap();
/// assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:16:51+00:00");
/// assert_eq!(r.event, FpmEvent::Master(Master::Running { pid: 31544 }));
/// ```
#[derive(Debug, Clone)]
pub struct FpmLogParser {
    resolver: LocalResolver,
    /// `DD-Mon-YYYY HH:MM` of the previous entry and its local seconds.
    minute_key: [u8; 17],
    minute_secs: i64,
}

impl FpmLogParser {
    /// A parser resolving times in `zone`.
    pub fn new(zone: Zone) -> FpmLogParser {
        FpmLogParser {
            resolver: LocalResolver::new(zone),
            minute_key: [0; 17],
            minute_secs: i64::MIN,
        }
    }

    /// Local seconds (as if UTC) of `[DD-Mon-YYYY HH:MM:SS` (21 bytes, shape
    /// checked), reusing the previous entry's date and minute.
    #[inline]
    fn local_secs(&mut self, b: &[u8]) -> Option<i64> {
        let s = (b[19] - b'0') as i64 * 10 + (b[20] - b'0') as i64;
        if b[1..18] == self.minute_key && self.minute_secs != i64::MIN {
            return (s < 61).then(|| self.minute_secs + s.min(59));
        }
        let d2 = |i: usize| (b[i] - b'0') as u32 * 10 + (b[i + 1] - b'0') as u32;
        let month = month_from_abbrev(&b[4..7])?;
        let year = (d2(8) * 100 + d2(10)) as i64;
        let secs = civil_to_secs(year, month, d2(1), d2(13), d2(16), d2(19))?;
        let minute = secs - secs.rem_euclid(60);
        self.minute_key.copy_from_slice(&b[1..18]);
        self.minute_secs = minute;
        Some(secs)
    }

    /// A record that does not start with an entry header: undecorated
    /// worker output.
    fn undecorated<'a>(rec: &'a [u8]) -> Result<FpmRecord<'a>, SkipReason> {
        if memchr(0, rec).is_some() {
            return Err(SkipReason::Unrecognized);
        }
        let (first, rest) = split_first_line(rec);
        let lines = 1 + memchr::memchr_iter(b'\n', rec).count() as u32;
        let out = WorkerOutput {
            pool: None,
            pid: None,
            stream: None,
            text: first,
            continued: rest,
            decorated: false,
            lines,
            truncated: false,
            php: php_message(first),
        };
        Ok(FpmRecord {
            time: None,
            level: None,
            origin: None,
            message: first,
            event: FpmEvent::WorkerOutput(out),
        })
    }
}

/// The first line of `rec` (without `\r`) and what follows its `\n`.
fn split_first_line(rec: &[u8]) -> (&[u8], &[u8]) {
    match memchr(b'\n', rec) {
        Some(i) => (trim_cr(&rec[..i]), &rec[i + 1..]),
        None => (rec, &[][..]),
    }
}

impl RecordParser for FpmLogParser {
    type Record<'a> = FpmRecord<'a>;
    const MULTILINE: bool = true;

    /// An entry ([`is_entry_start`]) that is not decorated worker output,
    /// or an undecorated line that starts a message (`NOTICE: `,
    /// `WARNING: `, `PHP `, ...), or a blank line.
    fn is_record_start(&self, line: &[u8]) -> bool {
        if line.first() == Some(&b'[') && shape_prefix(line) && line.len() > SHAPE.len() {
            return worker_message(line).is_none();
        }
        undecorated_start(line)
    }

    /// A decorated worker entry continues `head` when `head`'s last line is
    /// an entry of the same writer that FPM wrapped (at least 1023 bytes,
    /// ending in `"`). An undecorated line continues `head` when `head` is
    /// undecorated output.
    fn continues(&self, head: &[u8], next: &[u8]) -> bool {
        if let Some(n) = worker_message(next) {
            let last = match memchr::memrchr(b'\n', head) {
                Some(i) => &head[i + 1..],
                None => head,
            };
            let last = trim_cr(last);
            if last.len() < WRAP_MIN || last.last() != Some(&b'"') {
                return false;
            }
            return match (worker_message(last), decorated_payload(n)) {
                (Some(l), Some((nk, _, _, _))) => {
                    decorated_payload(l).is_some_and(|(lk, _, _, _)| lk == nk)
                }
                _ => false,
            };
        }
        !is_entry_start(head)
    }

    /// Parses one record. Skips: a line that starts like a time but is cut
    /// short is [`SkipReason::Truncated`]; an impossible date or a bad
    /// fraction [`SkipReason::BadTimestamp`]; an unknown level
    /// [`SkipReason::BadField`]; undecorated text holding a NUL byte
    /// [`SkipReason::Unrecognized`] (reported as `binary`).
    #[inline]
    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<FpmRecord<'a>, SkipReason> {
        if rec.first() != Some(&b'[') || !shape_prefix(rec) {
            return Self::undecorated(rec);
        }
        if rec.len() <= SHAPE.len() {
            // A time cut short, or text such as `[2`.
            return if rec.len() >= 4 {
                Err(SkipReason::Truncated)
            } else {
                Self::undecorated(rec)
            };
        }
        let (first, rest) = split_first_line(rec);
        let h = header(first)?;
        let local = self.local_secs(first).ok_or(SkipReason::BadTimestamp)?;
        let mut time = self.resolver.resolve(local);
        if first[SHAPE.len()] == b'.' {
            let f = &first[SHAPE.len() + 1..];
            let mut us = 0i64;
            let mut scale = 100_000;
            for &c in f.iter().take_while(|c| c.is_ascii_digit()).take(6) {
                us += (c - b'0') as i64 * scale;
                scale /= 10;
            }
            time.unix_us += us;
        }
        let (origin, message) = split_debug_prefix(&first[h.msg..]);
        let mut event = classify(h.level, message);
        if let FpmEvent::WorkerOutput(w) = &mut event
            && !rest.is_empty()
        {
            join_wrapped(w, rest);
        }
        Ok(FpmRecord {
            time: Some(time),
            level: Some(h.level),
            origin,
            message,
            event,
        })
    }
}

/// Completes a decorated worker output with the lines FPM wrapped it into.
fn join_wrapped<'a>(w: &mut WorkerOutput<'a>, rest: &'a [u8]) {
    w.continued = rest;
    w.lines = 2 + memchr::memchr_iter(b'\n', rest).count() as u32;
    let last = match memchr::memrchr(b'\n', rest) {
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    let last = trim_cr(last);
    let (payload, closed) = match worker_message(last).and_then(decorated_payload) {
        Some((_, _, p, closed)) => (p, closed),
        None => (last, false),
    };
    w.truncated = !closed || payload.ends_with(b"...");
    if let Some(php) = &mut w.php
        && php.file.is_none()
        && !w.truncated
        && let (_, Some(file), line) = php_location(payload)
    {
        php.file = Some(file);
        php.line = line;
    }
}
