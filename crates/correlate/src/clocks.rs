//! Every clock checked: offset-less inputs (error log, php-fpm log,
//! slowlog, kernel log) compared with the inputs that carry their offset,
//! and shifted by whole or half hours when the evidence is unambiguous.
//!
//! An offset-less log is read in one zone (`--tz`, else the access log's
//! offset, else UTC). When it was written in another (a php-fpm container
//! in UTC beside a host in local time), its events land hours away from
//! the gateway errors they caused and the correlator finds no cause. This
//! stage looks, per offset-less log, for the fixed offset its wall clock
//! was written in: each candidate offset (whole and half hours, -14 h to
//! +14 h) re-reads the log's wall-clock times, and is scored by how many
//! of the log's telling events then line up with the timed witnesses:
//!
//! | the log's event | lines up with |
//! | --- | --- |
//! | error-log upstream error | a 502/504 of the same client and path within 2 s |
//! | php-fpm `max_children` | a gateway error running then or starting within a minute |
//! | php-fpm child exit on a signal, `execution timed out` | a gateway error ending then |
//! | php-fpm `executing too slow`, slowlog trace | a failed or slow request running then |
//! | kernel OOM kill or segfault (of PHP) | a gateway error ending then |
//!
//! The witnesses are the access log's gateway errors and slow requests
//! (a request spans `[logged time - $request_time, logged time]`), else
//! Cloudflare's edge gateway errors, else (no timed log at all) the error
//! log's upstream errors, against which the other offset-less logs are
//! checked.
//!
//! A log is re-read only when one offset clearly wins: several events
//! agree ([`MIN_AGREE`]), at least a quarter of the log's telling events,
//! at least twice as many as when read as given, and twice as many as any
//! other offset more than half an hour away (and more than its half-hour
//! neighbours). Work is bounded: at most [`MAX_PROBES`] events per log are
//! scored, and the witnesses are a subset of the events already held.

use rayon::prelude::*;
use std::collections::BTreeMap;

use baton_logparse::{Event, EventKind, Format};

/// Events that must agree before a log is re-read.
pub const MIN_AGREE: usize = 3;

/// Events per log that are scored (evenly sampled beyond that).
pub const MAX_PROBES: usize = 400;

/// A request at least this slow (seconds) is a witness even when it
/// succeeded.
pub const SLOW_S: f64 = 3.0;

/// The longest request span taken from `$request_time` (longer ones are cut).
const MAX_SPAN_US: i64 = 15 * 60 * 1_000_000;

const S: i64 = 1_000_000;

/// What the caller knows of one input's clock, by input index
/// (`Event::file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileClock {
    /// The input's format.
    pub format: Format,
    /// Its timestamps carry their own offset (access logs, Cloudflare,
    /// journal JSON and `short-iso`, `dmesg --time-format iso`): it is a
    /// witness, never shifted.
    pub own_offset: bool,
    /// Inputs of one log (a rotated set) share a group and are shifted
    /// together; give each input its own index otherwise.
    pub group: u32,
}

/// The log the offset-less ones were compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// The access log's gateway errors and slow requests.
    AccessLog,
    /// Cloudflare's edge gateway errors.
    Edge,
    /// The nginx error log's upstream errors (no timed log was given).
    ErrorLog,
}

impl Reference {
    /// `the access log`, for sentences.
    pub fn name(self) -> &'static str {
        match self {
            Reference::AccessLog => "the access log",
            Reference::Edge => "the Cloudflare log",
            Reference::ErrorLog => "the error log",
        }
    }
}

/// One input re-read at another offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    /// The input (`Event::file`).
    pub file: u32,
    /// The offset (seconds east of UTC) its wall-clock times are now read
    /// at.
    pub offset_s: i32,
    /// How far its first event moved, in seconds (positive: later).
    pub shift_s: i64,
    /// Its telling events that line up with the reference at that offset.
    pub matched: usize,
    /// Those that line up as read.
    pub as_read: usize,
    /// Its telling events scored.
    pub probes: usize,
    /// What it was compared with.
    pub reference: Reference,
    /// Every offset-less log that could be checked needed this offset: the
    /// whole set was read in the wrong zone.
    pub whole_set: bool,
    /// It had too few telling events of its own and was re-read with the
    /// rest of the set (`matched`, `as_read` and `probes` are the set's).
    pub with_set: bool,
}

/// How an offset-less event lines up with a witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// An upstream error: a gateway error of the same client and path,
    /// logged within 2 s.
    Upstream,
    /// `max_children`: a gateway error running then, or starting within a
    /// minute.
    Saturation,
    /// A child killed, a request timed out, a kernel kill: a gateway error
    /// ending then.
    Crash,
    /// A slow request or slowlog trace: a failed or slow request running
    /// then.
    Slow,
}

impl Probe {
    fn of(e: &Event) -> Option<Probe> {
        match e.kind? {
            EventKind::UpstreamError => Some(Probe::Upstream),
            EventKind::FpmMaxChildren => Some(Probe::Saturation),
            EventKind::FpmChildExit if e.detail().signal.is_some() => Some(Probe::Crash),
            EventKind::FpmExecutionTimeout => Some(Probe::Crash),
            EventKind::FpmSlowRequest | EventKind::SlowlogTrace => Some(Probe::Slow),
            EventKind::KernelOomKill | EventKind::KernelSegfault => {
                let php = e
                    .detail()
                    .process
                    .as_deref()
                    .is_none_or(|p| p.starts_with(b"php"));
                php.then_some(Probe::Crash)
            }
            _ => None,
        }
    }

    /// How long before a witness's start, and after its end, the event may
    /// fall; and for witnesses without a duration, how long before their
    /// logged time.
    fn window(self) -> (i64, i64, i64) {
        match self {
            Probe::Upstream => (2 * S, 2 * S, 2 * S),
            Probe::Saturation => (60 * S, 2 * S, 120 * S),
            Probe::Crash => (5 * S, 5 * S, 10 * S),
            Probe::Slow => (2 * S, 2 * S, 120 * S),
        }
    }

    /// Whether a witness can stand for this event.
    fn accepts(self, w: &Witness) -> bool {
        match self {
            Probe::Upstream | Probe::Saturation | Probe::Crash => w.gateway,
            Probe::Slow => w.gateway || w.slow,
        }
    }
}

/// A timed request (or, without timed logs, an upstream error).
#[derive(Debug, Clone, Copy)]
struct Witness {
    /// Its start, when its duration is known.
    start: Option<i64>,
    end: i64,
    gateway: bool,
    slow: bool,
    event: usize,
}

struct Witnesses {
    /// By end.
    list: Vec<Witness>,
    /// The longest reach before a witness's end any probe looks.
    reach: i64,
}

impl Witnesses {
    fn new(mut list: Vec<Witness>) -> Witnesses {
        list.sort_by_key(|w| w.end);
        let span = list
            .iter()
            .filter_map(|w| w.start.map(|s| w.end.saturating_sub(s)))
            .max()
            .unwrap_or(0);
        Witnesses {
            list,
            reach: span.saturating_add(120 * S),
        }
    }

    /// Whether probe event `e` at instant `p` (microseconds) lines up with
    /// a witness.
    fn matches(&self, events: &[Event], e: &Event, probe: Probe, p: i64) -> bool {
        let (pre, post, untimed) = probe.window();
        let lo = self
            .list
            .partition_point(|w| w.end < p.saturating_sub(post));
        for w in &self.list[lo..] {
            if w.end > p.saturating_add(pre).saturating_add(self.reach) {
                break;
            }
            let start = w.start.unwrap_or(w.end.saturating_sub(untimed));
            if p < start.saturating_sub(pre) || p > w.end.saturating_add(post) || !probe.accepts(w)
            {
                continue;
            }
            if probe == Probe::Upstream {
                if p.abs_diff(w.end) > 2 * S as u64 {
                    continue;
                }
                let g = &events[w.event];
                let same =
                    |a: &Option<baton_logparse::event::Text>,
                     b: &Option<baton_logparse::event::Text>| match (a, b) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                if !same(&e.client, &g.client) || !same(&e.path, &g.path) {
                    continue;
                }
            }
            return true;
        }
        false
    }
}

/// Whether an event of an input with its own offsets can be a witness:
/// an access log's gateway error or slow request, an edge gateway error.
/// [`align`] reads nothing else of those inputs, so their other events
/// need not be given to it.
pub fn can_witness(e: &Event) -> bool {
    match e.kind {
        Some(EventKind::Request) => {
            matches!(e.status, Some(502 | 504)) || e.seconds.is_some_and(|s| s >= SLOW_S)
        }
        Some(EventKind::EdgeRequest) => matches!(e.status, Some(502 | 504 | 520..=526)),
        _ => false,
    }
}

/// The witnesses and what they are. The events are read in parallel (a
/// bad day holds hundreds of thousands), the witnesses kept in their order.
fn witnesses(events: &[Event], files: &[FileClock]) -> Option<(Witnesses, Reference)> {
    /// Which list a witness goes to.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum From {
        Access,
        Edge,
        Errors,
    }
    let clock = |e: &Event| files.get(e.file as usize);
    // Which list an event would go to.
    let from_of = |e: &Event| -> Option<From> {
        let (_, c) = (e.time?, clock(e)?);
        match (e.kind, c.own_offset) {
            (Some(EventKind::Request), true) if can_witness(e) => Some(From::Access),
            (Some(EventKind::EdgeRequest), true) if can_witness(e) => Some(From::Edge),
            (Some(EventKind::UpstreamError), false) if c.format == Format::NginxError => {
                Some(From::Errors)
            }
            _ => None,
        }
    };
    // The access log if it has any, else the edge's, else the error log:
    // only that list is built.
    let (from, reference) = [
        (From::Access, Reference::AccessLog),
        (From::Edge, Reference::Edge),
        (From::Errors, Reference::ErrorLog),
    ]
    .into_iter()
    .find(|(f, _)| events.par_iter().any(|e| from_of(e) == Some(*f)))?;
    let list: Vec<Witness> = events
        .par_iter()
        .enumerate()
        .filter(|(_, e)| from_of(e) == Some(from))
        .filter_map(|(i, e)| {
            let t = e.time?;
            Some(match from {
                From::Access => Witness {
                    start: e
                        .seconds
                        .filter(|s| *s > 0.0)
                        .and_then(|_| e.start())
                        .map(|s| s.unix_us.max(t.unix_us.saturating_sub(MAX_SPAN_US))),
                    end: t.unix_us,
                    gateway: matches!(e.status, Some(502 | 504)),
                    slow: e.seconds.is_some_and(|s| s >= SLOW_S),
                    event: i,
                },
                From::Edge => Witness {
                    start: Some(t.unix_us),
                    end: t.unix_us,
                    gateway: true,
                    slow: false,
                    event: i,
                },
                From::Errors => Witness {
                    start: None,
                    end: t.unix_us,
                    gateway: true,
                    slow: false,
                    event: i,
                },
            })
        })
        .collect();
    Some((Witnesses::new(list), reference))
}

/// What the scores of one log say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Re-read it at this offset.
    Offset(i32),
    /// As read is right.
    AsRead,
    /// Too little to tell.
    Undecided,
}

/// One log's scores.
#[derive(Debug, Clone)]
struct Scores {
    probes: usize,
    as_read: usize,
    /// The offset the log was mostly read at.
    read_at: i32,
    /// Per candidate offset (seconds east), when re-reading changes
    /// anything.
    by_offset: Vec<(i32, usize)>,
}

impl Scores {
    fn of(&self, o: i32) -> usize {
        self.by_offset
            .iter()
            .find(|(c, _)| *c == o)
            .map_or(self.as_read, |(_, n)| *n)
    }

    fn verdict(&self) -> Verdict {
        const HALF_HOUR: i32 = 1800;
        // The best re-reading: ties go to whole hours, then to the smaller
        // move.
        let best = self.by_offset.iter().copied().max_by_key(|(o, n)| {
            (
                *n,
                o % 3600 == 0,
                std::cmp::Reverse((*o - self.read_at).abs()),
            )
        });
        // Whether `n` clearly beats every other candidate than `at`.
        let clear = |at: i32, n: usize, skip_as_read: bool| {
            self.by_offset
                .iter()
                .filter(|(o, _)| *o != at)
                .all(|(o, m)| {
                    if (o - at).abs() <= HALF_HOUR {
                        n > *m
                    } else {
                        n >= 2 * m
                    }
                })
                && (skip_as_read || n >= 2 * self.as_read)
        };
        if let Some((o, n)) = best
            && n > self.as_read
        {
            let enough = n >= MIN_AGREE && n * 4 >= self.probes;
            return if enough && clear(o, n, false) {
                Verdict::Offset(o)
            } else {
                Verdict::Undecided
            };
        }
        let n = self.as_read;
        if n >= MIN_AGREE && n * 4 >= self.probes && clear(self.read_at, n, true) {
            Verdict::AsRead
        } else {
            Verdict::Undecided
        }
    }
}

/// Every whole and half hour from -14 h to +14 h, in seconds.
fn candidates() -> impl Iterator<Item = i32> {
    (-28..=28).map(|h| h * 1800)
}

/// A time re-read at offset `o` (seconds east of UTC): the same wall
/// clock, another instant.
pub fn reread(t: baton_logparse::Timestamp, o: i32) -> baton_logparse::Timestamp {
    baton_logparse::Timestamp {
        unix_us: t.unix_us.saturating_add((t.offset_s as i64 - o as i64) * S),
        offset_s: o,
    }
}

fn score(events: &[Event], w: &Witnesses, probes: &[(usize, Probe)]) -> Scores {
    let mut read_at: BTreeMap<i32, usize> = BTreeMap::new();
    let mut as_read = 0;
    for &(i, p) in probes {
        let Some(t) = events[i].time else { continue };
        *read_at.entry(t.offset_s).or_default() += 1;
        as_read += w.matches(events, &events[i], p, t.unix_us) as usize;
    }
    let read_at = read_at
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or(0, |(o, _)| *o);
    let uniform = |o: i32| {
        probes
            .iter()
            .all(|&(i, _)| events[i].time.is_none_or(|t| t.offset_s == o))
    };
    let candidates: Vec<i32> = candidates().filter(|o| !uniform(*o)).collect();
    // Each candidate offset scored apart: in parallel, in order.
    let by_offset = candidates
        .into_par_iter()
        .map(|o| {
            let n = probes
                .iter()
                .filter(|&&(i, p)| {
                    let e = &events[i];
                    e.time
                        .is_some_and(|t| w.matches(events, e, p, reread(t, o).unix_us))
                })
                .count();
            (o, n)
        })
        .collect();
    Scores {
        probes: probes.len(),
        as_read,
        read_at,
        by_offset,
    }
}

/// Compares every offset-less input with the timed ones and re-reads, at
/// the offset that lines them up, those whose evidence is unambiguous
/// (see the module's documentation). Events of an input re-read at offset
/// `o` keep their wall clock: `unix_us` moves by the difference between
/// their `offset_s` and `o`, and `offset_s` becomes `o`. Returns one
/// [`Shift`] per input re-read, by input index.
pub fn align(events: &mut [Event], files: &[FileClock]) -> Vec<Shift> {
    let Some((wit, reference)) = witnesses(events, files) else {
        return Vec::new();
    };
    let checked = |c: &FileClock| {
        !c.own_offset
            && c.format != Format::Unknown
            && !(reference == Reference::ErrorLog && c.format == Format::NginxError)
    };
    // The telling events of each group of offset-less inputs (read in
    // parallel, kept in order), and how many timed events each has.
    let mut groups: BTreeMap<u32, Vec<(usize, Probe)>> = BTreeMap::new();
    let mut timed: BTreeMap<u32, usize> = BTreeMap::new();
    /// A run of one file's events: the file, its timed events, its probes.
    type Run = (u32, usize, Vec<(usize, Probe)>);
    let per_file: Vec<Run> = events
        .par_iter()
        .enumerate()
        .fold(Vec::new, |mut acc: Vec<Run>, (i, e)| {
            if e.time.is_none() || !files.get(e.file as usize).is_some_and(checked) {
                return acc;
            }
            // Runs of one file's events: one entry a run.
            if acc.last().is_none_or(|r| r.0 != e.file) {
                acc.push((e.file, 0, Vec::new()));
            }
            if let Some(run) = acc.last_mut() {
                run.1 += 1;
                run.2.extend(Probe::of(e).map(|p| (i, p)));
            }
            acc
        })
        .flatten()
        .collect();
    for (file, n, probes) in per_file {
        let group = files[file as usize].group;
        *timed.entry(group).or_default() += n;
        if !probes.is_empty() {
            groups.entry(group).or_default().extend(probes);
        }
    }
    let mut verdicts: BTreeMap<u32, (Verdict, Scores)> = BTreeMap::new();
    for (g, probes) in &mut groups {
        if probes.len() > MAX_PROBES {
            let step = probes.len().div_ceil(MAX_PROBES);
            *probes = probes.iter().copied().step_by(step).collect();
        }
        let s = score(events, &wit, probes);
        verdicts.insert(*g, (s.verdict(), s));
    }
    // The whole set read in the wrong zone: every log that could tell
    // needs the same offset.
    let decided: Vec<Verdict> = verdicts
        .values()
        .map(|(v, _)| *v)
        .filter(|v| *v != Verdict::Undecided)
        .collect();
    let whole = match decided.first().filter(|_| reference != Reference::ErrorLog) {
        Some(Verdict::Offset(o)) if decided.iter().all(|v| *v == Verdict::Offset(*o)) => Some(*o),
        _ => None,
    };
    // With two logs or more agreeing, the ones too quiet to tell follow.
    let mut chosen: BTreeMap<u32, (i32, bool)> = verdicts
        .iter()
        .filter_map(|(g, (v, _))| match v {
            Verdict::Offset(o) => Some((*g, (*o, false))),
            _ => None,
        })
        .collect();
    if let Some(o) = whole.filter(|_| decided.len() >= 2) {
        for g in timed.keys() {
            chosen.entry(*g).or_insert((o, true));
        }
    }
    if chosen.is_empty() {
        return Vec::new();
    }
    // The set's totals, for logs that followed it.
    let set = verdicts
        .values()
        .filter(|(v, _)| matches!(v, Verdict::Offset(_)))
        .fold((0, 0, 0), |(m, a, p), (v, s)| {
            let o = match v {
                Verdict::Offset(o) => *o,
                _ => 0,
            };
            (m + s.of(o), a + s.as_read, p + s.probes)
        });
    let mut out: BTreeMap<u32, Shift> = BTreeMap::new();
    for e in events.iter_mut() {
        let Some(c) = files.get(e.file as usize).filter(|c| checked(c)) else {
            continue;
        };
        let Some(&(o, with_set)) = chosen.get(&c.group) else {
            continue;
        };
        let Some(t) = e.time else { continue };
        let moved = reread(t, o);
        e.time = Some(moved);
        out.entry(e.file).or_insert_with(|| {
            let (matched, as_read, probes) = match verdicts.get(&c.group) {
                Some((_, s)) if !with_set => (s.of(o), s.as_read, s.probes),
                _ => set,
            };
            Shift {
                file: e.file,
                offset_s: o,
                shift_s: moved.unix_us.saturating_sub(t.unix_us) / S,
                matched,
                as_read,
                probes,
                reference,
                whole_set: whole == Some(o),
                with_set,
            }
        });
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_logparse::Timestamp;

    const T0: i64 = 1_795_515_414; // 2026-11-24T10:16:54Z

    fn clock(format: Format, own_offset: bool, group: u32) -> FileClock {
        FileClock {
            format,
            own_offset,
            group,
        }
    }

    /// A 502/504 logged at `t` (unix seconds) at offset `off`, `rt` seconds
    /// long.
    fn request(file: u32, t: i64, off: i32, status: u16, rt: f64, path: &str) -> Event {
        Event {
            time: Some(Timestamp::from_unix(t, off)),
            file,
            kind: Some(EventKind::Request),
            status: Some(status),
            seconds: Some(rt),
            client: Some(b"203.0.113.7"[..].into()),
            path: Some(path.as_bytes().into()),
            ..Event::default()
        }
    }

    /// An offset-less event whose wall clock shows `wall` (unix seconds of
    /// the wall clock as if UTC), read at offset `read_at`.
    fn untimed(file: u32, wall: i64, read_at: i32, kind: EventKind) -> Event {
        Event {
            time: Some(Timestamp::from_unix(wall - read_at as i64, read_at)),
            file,
            kind: Some(kind),
            ..Event::default()
        }
    }

    fn upstream(file: u32, wall: i64, read_at: i32, path: &str) -> Event {
        Event {
            client: Some(b"203.0.113.7"[..].into()),
            path: Some(path.as_bytes().into()),
            ..untimed(file, wall, read_at, EventKind::UpstreamError)
        }
    }

    fn signal(mut e: Event) -> Event {
        e.detail_mut().signal = Some("SIGSEGV".into());
        e
    }

    /// Ten 504s a minute apart, each 30 s long, in +01:00.
    fn access(file: u32) -> Vec<Event> {
        (0..10)
            .map(|i| request(file, T0 + i * 60, 3600, 504, 30.0, "/checkout/"))
            .collect()
    }

    #[test]
    fn a_php_fpm_log_and_slowlog_in_utc_beside_an_access_log_in_plus_one() {
        // The set is read at +01:00 (the access log's offset); php-fpm and
        // the slowlog wrote UTC wall clocks.
        let mut ev = access(0);
        for i in 0..10 {
            // Trace 10 s into each request; timeout at its end.
            ev.push(untimed(1, T0 + i * 60 - 20, 3600, EventKind::SlowlogTrace));
            ev.push(untimed(
                2,
                T0 + i * 60,
                3600,
                EventKind::FpmExecutionTimeout,
            ));
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::FpmSlowlog, false, 1),
            clock(Format::FpmLog, false, 2),
        ];
        let before: Vec<_> = ev.iter().map(|e| e.time.unwrap()).collect();
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.len(), 2, "{shifts:?}");
        for s in &shifts {
            assert_eq!(s.offset_s, 0);
            assert_eq!(s.shift_s, 3600);
            assert_eq!((s.matched, s.as_read, s.probes), (10, 0, 10));
            assert_eq!(s.reference, Reference::AccessLog);
            assert!(s.whole_set && !s.with_set);
        }
        for (e, b) in ev.iter().zip(&before) {
            let t = e.time.unwrap();
            // The wall clock stays what the log showed.
            assert_eq!(
                t.unix_us + t.offset_s as i64 * S,
                b.unix_us + b.offset_s as i64 * S
            );
            if e.file == 0 {
                assert_eq!(t, *b);
            } else {
                assert_eq!(t.unix_us - b.unix_us, 3600 * S);
                assert_eq!(t.offset_s, 0);
            }
        }
    }

    #[test]
    fn a_set_that_is_right_moves_nothing() {
        let mut ev = access(0);
        for i in 0..10 {
            ev.push(upstream(1, T0 + 3600 + i * 60, 3600, "/checkout/"));
            ev.push(untimed(
                2,
                T0 + 3600 + i * 60 - 20,
                3600,
                EventKind::SlowlogTrace,
            ));
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::NginxError, false, 1),
            clock(Format::FpmSlowlog, false, 2),
        ];
        let before = ev.clone();
        assert!(align(&mut ev, &files).is_empty());
        assert_eq!(ev, before);
    }

    #[test]
    fn a_kernel_log_an_hour_off_alone_is_not_the_whole_set() {
        let mut ev = access(0);
        for i in 0..10 {
            // The error log is right...
            ev.push(upstream(1, T0 + 3600 + i * 60, 3600, "/checkout/"));
        }
        for i in [0, 3, 6, 9] {
            // ...the kernel log (written at +02:00) is not.
            let mut k = untimed(2, T0 + 7200 + i * 60 - 1, 3600, EventKind::KernelOomKill);
            k.detail_mut().process = Some(b"php-fpm8.2"[..].into());
            ev.push(k);
        }
        // A mysqld kill is no evidence either way.
        let mut m = untimed(2, T0 + 100, 3600, EventKind::KernelOomKill);
        m.detail_mut().process = Some(b"mysqld"[..].into());
        ev.push(m);
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::NginxError, false, 1),
            clock(Format::Kernel, false, 2),
        ];
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.len(), 1, "{shifts:?}");
        let s = &shifts[0];
        assert_eq!((s.file, s.offset_s, s.shift_s), (2, 7200, -3600));
        assert_eq!((s.matched, s.as_read, s.probes), (4, 0, 4));
        assert!(!s.whole_set);
    }

    #[test]
    fn the_whole_set_in_the_wrong_zone_moves_together() {
        // Read as UTC (--tz UTC); everything offset-less was written at
        // +05:30, as was the access log.
        let mut ev: Vec<Event> = (0..10)
            .map(|i| request(0, T0 + i * 60, 19800, 502, 0.2, &format!("/p{i}")))
            .collect();
        for i in 0..10 {
            ev.push(upstream(1, T0 + 19800 + i * 60, 0, &format!("/p{i}")));
            ev.push(signal(untimed(
                2,
                T0 + 19800 + i * 60,
                0,
                EventKind::FpmChildExit,
            )));
        }
        // A kernel log with nothing telling follows the set.
        ev.push(untimed(3, T0 + 5000, 0, EventKind::KernelSegfault));
        ev.last_mut().unwrap().detail_mut().process = Some(b"nginx"[..].into());
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::NginxError, false, 1),
            clock(Format::FpmLog, false, 2),
            clock(Format::Kernel, false, 3),
        ];
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.len(), 3, "{shifts:?}");
        assert!(shifts.iter().all(|s| s.offset_s == 19800 && s.whole_set));
        assert_eq!(shifts[2].file, 3);
        assert!(shifts[2].with_set && !shifts[0].with_set);
        assert_eq!(shifts[0].shift_s, -19800);
    }

    #[test]
    fn upstream_errors_need_their_own_request() {
        // Same times, other client: nothing lines up.
        let mut ev = access(0);
        for i in 0..10 {
            let mut u = upstream(1, T0 + i * 60, 0, "/checkout/");
            u.client = Some(b"198.51.100.1"[..].into());
            ev.push(u);
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::NginxError, false, 1),
        ];
        assert!(align(&mut ev, &files).is_empty());
    }

    #[test]
    fn too_few_events_move_nothing() {
        let mut ev = access(0);
        for i in 0..2 {
            ev.push(untimed(
                1,
                T0 + i * 60,
                3600,
                EventKind::FpmExecutionTimeout,
            ));
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::FpmLog, false, 1),
        ];
        assert!(align(&mut ev, &files).is_empty());
    }

    #[test]
    fn a_long_incident_that_fits_several_offsets_moves_nothing() {
        // Gateway errors for three hours: an hour either way fits as well.
        let mut ev: Vec<Event> = (0..180)
            .map(|i| request(0, T0 + i * 60, 0, 502, 1.0, "/"))
            .collect();
        for i in 60..120 {
            ev.push(signal(untimed(
                1,
                T0 + 3600 + i * 60,
                0,
                EventKind::FpmChildExit,
            )));
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::FpmLog, false, 1),
        ];
        assert!(align(&mut ev, &files).is_empty());
    }

    #[test]
    fn without_timed_logs_the_error_log_is_the_reference() {
        let mut ev = Vec::new();
        for i in 0..6 {
            ev.push(upstream(0, T0 + i * 60, 0, "/"));
            // max_children 20 s before each failure, in a clock 30 min ahead.
            ev.push(untimed(
                1,
                T0 + i * 60 - 20 + 1800,
                0,
                EventKind::FpmMaxChildren,
            ));
        }
        let files = [
            clock(Format::NginxError, false, 0),
            clock(Format::FpmLog, false, 1),
        ];
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.len(), 1, "{shifts:?}");
        assert_eq!(shifts[0].reference, Reference::ErrorLog);
        assert_eq!((shifts[0].file, shifts[0].offset_s), (1, 1800));
        // The error log alone: nothing to compare.
        let mut ev: Vec<Event> = (0..6).map(|i| upstream(0, T0 + i * 60, 0, "/")).collect();
        assert!(align(&mut ev, &files[..1]).is_empty());
    }

    #[test]
    fn witnesses_straddling_a_dst_change_shift_a_utc_log_by_its_instants() {
        // Europe/Berlin falls back at 01:00Z on 2026-10-25: the access log
        // shows +02:00 then +01:00; the set is read at --tz Europe/Berlin,
        // so the UTC php-fpm log was read 2 h early before the change and
        // 1 h early after it. Re-read at +00:00 it lines up on both sides.
        let change = 1_792_890_000; // 2026-10-25T01:00:00Z
        let mut ev = Vec::new();
        for i in -5..5i64 {
            let t = change + i * 300 + 30;
            let off = if t < change { 7200 } else { 3600 };
            ev.push(request(0, t, off, 502, 0.5, "/"));
            ev.push(signal(untimed(1, t, off, EventKind::FpmChildExit)));
        }
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::FpmLog, false, 1),
        ];
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.len(), 1, "{shifts:?}");
        assert_eq!(shifts[0].offset_s, 0);
        assert_eq!(shifts[0].matched, 10);
        for pair in ev.chunks(2) {
            assert_eq!(pair[0].time.unwrap().unix_us, pair[1].time.unwrap().unix_us);
        }
    }

    #[test]
    fn rotated_members_move_together_and_no_input_panics() {
        let mut ev = access(0);
        for i in 0..10 {
            ev.push(untimed(
                1 + (i % 2) as u32,
                T0 + i * 60,
                3600,
                EventKind::FpmExecutionTimeout,
            ));
        }
        ev.push(Event {
            file: 99,
            kind: Some(EventKind::UpstreamError),
            time: Some(Timestamp {
                unix_us: i64::MAX,
                offset_s: -50_000,
            }),
            ..Event::default()
        });
        ev.push(Event {
            file: 1,
            time: Some(Timestamp {
                unix_us: i64::MIN,
                offset_s: i32::MAX,
            }),
            kind: Some(EventKind::FpmMaxChildren),
            ..Event::default()
        });
        let files = [
            clock(Format::NginxAccess, true, 0),
            clock(Format::FpmLog, false, 1),
            clock(Format::FpmLog, false, 1),
        ];
        let shifts = align(&mut ev, &files);
        assert_eq!(shifts.iter().map(|s| s.file).collect::<Vec<_>>(), [1, 2]);
        assert!(shifts.iter().all(|s| s.offset_s == 0 && s.probes == 11));
        assert!(align(&mut [], &files).is_empty());
    }
}
