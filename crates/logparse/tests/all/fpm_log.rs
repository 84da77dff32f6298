//! The php-fpm log parser against the lab's php-fpm logs and a hand-written
//! log (`testdata/fpm-log/`, see its `PROVENANCE.md`), with counts written
//! by hand from reading the files and the lab's `ground-truth.tsv`; zone
//! tests; and property tests (random bytes, parallel chunks).

use std::collections::BTreeMap;

use baton_logparse::fpm::{
    CycleKind, ExitStatus, FpmEvent, FpmLevel, FpmLogParser, FpmRecord, FpmSummary, Master,
    StartupFailure,
};
use baton_logparse::frame::count_lines;
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_reader, scan_slice};
use baton_logparse::{Loc, PhpLevel, RecordParser, SkipReason, Zone};
use proptest::prelude::*;

macro_rules! data {
    ($p:literal) => {
        include_bytes!(concat!("../../../../testdata/fpm-log/", $p))
    };
}

const PHASE_A: &[u8] = data!("lab/phaseA/php-fpm.log");
const PHASE_C: &[u8] = data!("lab/phaseC/php-fpm.log");
const PHASE_D: &[u8] = data!("lab/phaseD/php-fpm.log");
const LIFECYCLE: &[u8] = data!("handwritten/lifecycle.log");

/// Every record as `(loc, Debug text)`, plus the summary.
#[derive(Default, Debug, PartialEq)]
struct Both {
    records: Vec<(Loc, String)>,
    summary: FpmSummary,
}

impl Sink<FpmLogParser> for Both {
    fn record(&mut self, r: FpmRecord<'_>, loc: Loc) {
        self.records.push((loc, format!("{r:?}")));
        Sink::<FpmLogParser>::record(&mut self.summary, r, loc);
    }
    fn append(&mut self, later: Both, shift: u64) {
        self.records
            .extend(later.records.into_iter().map(|(mut l, r)| {
                l.line += shift;
                (l, r)
            }));
        Sink::<FpmLogParser>::append(&mut self.summary, later.summary, shift);
    }
}

fn sequential() -> ScanOptions {
    ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    }
}

fn scan(buf: &[u8], zone: Zone) -> (Both, Tally) {
    scan_slice(
        buf,
        0,
        &FpmLogParser::new(zone),
        &sequential(),
        &Both::default,
    )
}

fn summary(buf: &[u8]) -> (FpmSummary, Tally) {
    let (s, t) = scan_slice(
        buf,
        0,
        &FpmLogParser::new(Zone::UTC),
        &sequential(),
        &FpmSummary::default,
    );
    assert_eq!(t.lines, count_lines(buf));
    assert_eq!(t.lines, t.parsed + t.skipped());
    (s, t)
}

fn signals(s: &FpmSummary) -> BTreeMap<&str, u64> {
    s.child_signals
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect()
}

fn rfc(t: Option<baton_logparse::Timestamp>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// Phase A (`phaseA-file-logs/php-fpm.log`, 125 lines), counted by hand:
/// scenario `saturation`: one `server reached pm.max_children setting (3)`;
/// `busy`: 13 `seems busy` lines (11:17:13 to 11:17:25, one a second);
/// 16 `executing too slow` (12 on www, 4 on ondemand: the traces of
/// `www-slow.log` and `ondemand-slow.log`); `terminate`: one `execution
/// timed out (8.07 sec)`; `segv`: `exited on signal 11`; `sigkill` and
/// `oom`: two `exited on signal 9`; `terminate`: one `exited on signal
/// 15`; `lifecycle`: four `exited with code 0` (SIGUSR1 recycling), then
/// SIGUSR2 (`Reloading in progress` → `execvp` → `fpm is running, pid
/// 505`: one reload), after the cold start `fpm is running, pid 31544`
/// (one restart). `php_errors`: 12 `said into stderr` lines, of which the
/// 1023-byte line 14 is wrapped into line 15: 11 worker records, two of
/// them PHP Fatal errors (fatal.php, memory.php). So 124 records.
#[test]
fn lab_phase_a() {
    let (s, t) = summary(PHASE_A);
    assert_eq!((t.lines, t.parsed, t.skipped()), (125, 125, 0));
    assert_eq!(s.entries, 124);
    assert_eq!(s.max_children_reached, 1);
    assert_eq!(s.seems_busy, 13);
    assert_eq!(s.slow_requests, 16);
    assert_eq!(s.execution_timeouts, 1);
    assert_eq!(
        signals(&s),
        BTreeMap::from([("SIGKILL", 2), ("SIGSEGV", 1), ("SIGTERM", 1)])
    );
    assert_eq!(s.child_exits, 8);
    assert_eq!((s.restarts, s.reloads), (1, 1));
    assert_eq!(s.startup_failures, 0);
    assert_eq!((s.worker_output, s.php_fatal_errors), (11, 2));
    // PHP messages by level: warn.php's 2 warnings and 1 deprecation,
    // fatal.php and memory.php, the wrapped long.php warning (one record),
    // stderr.php's bare error_log() message (`other`). The stack trace's
    // lines and the worker's own diagnostic are no PHP message.
    assert_eq!(
        s.php_messages.non_zero(),
        [
            (PhpLevel::Fatal, 2),
            (PhpLevel::Warning, 3),
            (PhpLevel::Deprecated, 1),
            (PhpLevel::Other, 1),
        ]
    );
    assert_eq!(s.untimed, 0);
    assert_eq!(
        rfc(s.range.first).as_deref(),
        Some("2026-11-24T11:16:51+00:00")
    );
    assert_eq!(
        rfc(s.range.last).as_deref(),
        Some("2026-11-24T11:18:14+00:00")
    );
    let cycles: Vec<_> = s
        .cycles
        .iter()
        .map(|c| (c.kind, rfc(c.start), rfc(c.end), c.pid))
        .collect();
    assert_eq!(
        cycles,
        [
            (
                CycleKind::Restart,
                None,
                Some("2026-11-24T11:16:51+00:00".into()),
                31544
            ),
            (
                CycleKind::Reload,
                Some("2026-11-24T11:18:12+00:00".into()),
                Some("2026-11-24T11:18:12+00:00".into()),
                505
            ),
        ]
    );
}

/// The kernel OOM kill of phase A (`phaseA-kernel-oom`, 11:18:02) is the
/// second SIGKILL: `child 32570 exited on signal 9 (SIGKILL) after
/// 14.349473 seconds from start`, line 97.
#[test]
fn lab_phase_a_oom_victim() {
    #[derive(Default)]
    struct Kills(Vec<(u64, u32)>);
    impl Sink<FpmLogParser> for Kills {
        fn record(&mut self, r: FpmRecord<'_>, loc: Loc) {
            if let FpmEvent::ChildExited(e) = r.event
                && let ExitStatus::Signal { number: 9, .. } = e.status
            {
                self.0.push((loc.line, e.pid));
            }
        }
        fn append(&mut self, later: Kills, shift: u64) {
            self.0
                .extend(later.0.into_iter().map(|(l, p)| (l + shift, p)));
        }
    }
    let p = FpmLogParser::new(Zone::UTC);
    let (k, _) = scan_slice(PHASE_A, 0, &p, &sequential(), &Kills::default);
    assert_eq!(k.0, [(84, 31718), (97, 32570)]);
    let mut p = FpmLogParser::new(Zone::UTC);
    let line = PHASE_A.split(|&c| c == b'\n').nth(96).unwrap();
    let r = p.parse(line).unwrap();
    let FpmEvent::ChildExited(e) = r.event else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.pid, e.status, e.uptime_us),
        (
            32570,
            ExitStatus::Signal {
                number: 9,
                name: b"SIGKILL",
                core_dumped: false
            },
            Some(14_349_473)
        )
    );
    assert_eq!(rfc(r.time).as_deref(), Some("2026-11-24T11:18:02+00:00"));
}

/// Phase C (9 lines): the real SIGSEGV of `crash.php`, twice (IPv4 and
/// IPv6 requests: children 6091 and 6199), one cold start, `Finishing`,
/// `exiting, bye-bye!`.
#[test]
fn lab_phase_c() {
    let (s, t) = summary(PHASE_C);
    assert_eq!((t.lines, t.parsed, t.skipped()), (9, 9, 0));
    assert_eq!(s.entries, 9);
    assert_eq!(signals(&s), BTreeMap::from([("SIGSEGV", 2)]));
    assert_eq!(s.child_exits, 2);
    assert_eq!((s.restarts, s.reloads), (1, 0));
    assert_eq!(
        (
            s.max_children_reached,
            s.slow_requests,
            s.execution_timeouts
        ),
        (0, 0, 0)
    );
}

/// Phase D (134 lines, `log_level = debug`): every line has microseconds
/// and the `pid N, function(), line N: ` prefix. One `fpm is running, pid
/// 7260` (a cold start), one `seems busy` (11:21:46), one `executing too
/// slow` (child 7261), five children `exited on signal 15 (SIGTERM)` at
/// SIGQUIT shutdown; the two `has been killed by the process management`
/// lines are DEBUG `other`.
#[test]
fn lab_phase_d() {
    let (s, t) = summary(PHASE_D);
    assert_eq!((t.lines, t.parsed, t.skipped()), (134, 134, 0));
    assert_eq!(s.entries, 134);
    assert_eq!(s.seems_busy, 1);
    assert_eq!(s.slow_requests, 1);
    assert_eq!(signals(&s), BTreeMap::from([("SIGTERM", 5)]));
    assert_eq!(s.child_exits, 5);
    assert_eq!((s.restarts, s.reloads), (1, 0));
    assert_eq!(
        rfc(s.range.first).as_deref(),
        Some("2026-11-24T11:21:38.439495+00:00")
    );
    assert_eq!(
        rfc(s.range.last).as_deref(),
        Some("2026-11-24T11:21:49.525448+00:00")
    );
    let mut p = FpmLogParser::new(Zone::UTC);
    let mut debug = 0;
    let mut with_origin = 0;
    for line in PHASE_D.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let r = p.parse(line).unwrap();
        debug += (r.level == Some(FpmLevel::Debug)) as u32;
        with_origin += r.origin.is_some() as u32;
    }
    // 124 DEBUG, 8 NOTICE and 2 WARNING lines, each with its origin.
    assert_eq!(with_origin, 134);
    assert_eq!(debug, 124);
}

/// The hand-written log: see `PROVENANCE.md`. 29 lines: a blank line
/// (skipped `empty`) and a time cut short at the end (skipped
/// `truncated`); the undecorated fatal error and its stack trace are one
/// 5-line record.
#[test]
fn handwritten_lifecycle() {
    let (s, t) = summary(LIFECYCLE);
    assert_eq!((t.lines, t.parsed, t.skipped()), (29, 27, 2));
    assert_eq!(t.skipped_for(SkipReason::Empty), 1);
    assert_eq!(t.skipped_for(SkipReason::Truncated), 1);
    // Lines 1-10 and 17-27 are one entry each; 11-15 and 16 are the two
    // undecorated fatal errors.
    assert_eq!(s.entries, 10 + 2 + 11);
    assert_eq!(s.max_children_reached, 1);
    assert_eq!(s.seems_busy, 1);
    assert_eq!((s.slow_requests, s.execution_timeouts), (1, 1));
    assert_eq!(
        signals(&s),
        BTreeMap::from([("SIGSEGV", 1), ("SIGTERM", 1)])
    );
    assert_eq!(s.child_exits, 2);
    assert_eq!((s.restarts, s.reloads), (2, 1));
    assert_eq!(s.startup_failures, 2);
    assert_eq!((s.worker_output, s.php_fatal_errors, s.untimed), (2, 2, 2));
    assert_eq!(s.php_messages.non_zero(), [(PhpLevel::Fatal, 2)]);
    let cycles: Vec<_> = s
        .cycles
        .iter()
        .map(|c| (c.kind, rfc(c.start), c.gap_us(), c.pid))
        .collect();
    assert_eq!(
        cycles,
        [
            (CycleKind::Restart, None, None, 20811),
            (
                CycleKind::Restart,
                Some("2025-12-26T14:06:00+00:00".into()),
                Some(9_000_000),
                21100
            ),
            (
                CycleKind::Reload,
                Some("2025-12-26T14:10:00+00:00".into()),
                Some(1_000_000),
                21100
            ),
        ]
    );

    let (b, _) = scan(LIFECYCLE, Zone::UTC);
    let spans: Vec<(u64, u32)> = b.records.iter().map(|(l, _)| (l.line, l.lines)).collect();
    assert_eq!(spans[10], (11, 5));
    assert_eq!(spans[11], (16, 1));
    assert_eq!(spans.len(), 23);

    let mut p = FpmLogParser::new(Zone::UTC);
    let lines: Vec<&[u8]> = LIFECYCLE.split(|&c| c == b'\n').collect();
    let r = p.parse(lines[4]).unwrap();
    assert_eq!(
        rfc(r.time).as_deref(),
        Some("2025-12-26T14:03:05.250+00:00")
    );
    let FpmEvent::SlowRequest(q) = r.event else {
        panic!("{r:?}")
    };
    assert_eq!(
        (q.method, q.uri, q.elapsed_us),
        (
            &b"POST"[..],
            &b"/wp-admin/admin-ajax.php?action=heartbeat"[..],
            5_010_000
        )
    );
    assert_eq!(
        p.parse(lines[18]).unwrap().event,
        FpmEvent::StartupFailure(StartupFailure::Bind {
            pool: None,
            address: b"127.0.0.1:9000",
            reason: b"Address already in use (98)"
        })
    );
    assert_eq!(
        p.parse(lines[19]).unwrap().event,
        FpmEvent::StartupFailure(StartupFailure::InitFailed)
    );
    assert_eq!(
        p.parse(lines[16]).unwrap().event,
        FpmEvent::Master(Master::Terminating)
    );
    assert_eq!(
        p.parse(lines[26]).unwrap().event,
        FpmEvent::Other {
            level: FpmLevel::Alert,
            pool: None,
            text: b"oops, unknown child (21050) exited with code 1. Please open a bug report (https://github.com/php/php-src/issues)."
        }
    );
}

/// Worker output carrying a PHP message is a `php_message` event (it was
/// `fpm_other`, fatal errors only): its level, whether it is fatal, its
/// file, line and plugin, and the worker's pool and pid to join on.
#[test]
fn php_message_events_from_worker_output() {
    use baton_logparse::summary::Collecting;
    use baton_logparse::{Collect, EventKind};
    let events = |buf: &[u8], collect: Collect| {
        let p = FpmLogParser::new(Zone::UTC);
        let (c, t) = scan_slice(buf, 0, &p, &sequential(), &|| {
            Collecting::new(FpmSummary::default(), collect)
        });
        assert_eq!(t.lines, t.parsed + t.skipped());
        c.events
    };
    let all = Collect {
        events: true,
        all_php: true,
        ..Collect::default()
    };
    let php: Vec<(u64, Option<&str>, bool)> = events(PHASE_A, all)
        .iter()
        .filter(|e| e.kind == Some(EventKind::PhpMessage))
        .map(|e| (e.line, e.php_level.map(|l| l.as_str()), e.fatal))
        .collect();
    assert_eq!(
        php,
        [
            (4, Some("warning"), false),
            (5, Some("deprecated"), false),
            (6, Some("warning"), false),
            (7, Some("fatal"), true),
            (11, Some("fatal"), true),
            (13, Some("other"), false),
            (14, Some("warning"), false),
        ]
    );
    let ev = events(PHASE_A, all);
    let fatal = ev.iter().find(|e| e.line == 7).unwrap();
    assert_eq!(
        (
            fatal.pool.as_deref(),
            fatal.pid,
            fatal.detail().object.as_deref(),
            fatal.detail().number
        ),
        (
            Some(&b"www"[..]),
            Some(31545),
            Some(&b"/var/www/shop/public/fatal.php"[..]),
            Some(3)
        )
    );
    assert!(ev.iter().all(|e| e.kind != Some(EventKind::FpmOther)));

    // Undecorated output: the fatal error of a plugin, then memory
    // exhaustion in core. By default only such fatal ones are kept.
    let ev: Vec<_> = events(
        LIFECYCLE,
        Collect {
            events: true,
            ..Collect::default()
        },
    )
    .into_iter()
    .filter(|e| e.kind == Some(EventKind::PhpMessage))
    .collect();
    assert_eq!(ev.len(), 2);
    assert_eq!((ev[0].line, ev[0].time, ev[0].pid), (11, None, None));
    assert!(ev[0].fatal && ev[1].fatal);
    assert_eq!(
        (ev[0].detail().plugin.as_deref(), ev[0].detail().number),
        (Some(&b"shop-sync"[..]), Some(42))
    );
    assert_eq!(
        (
            ev[1].detail().plugin.as_deref(),
            ev[1].detail().object.as_deref(),
            ev[1].detail().number
        ),
        (
            None,
            Some(&b"/var/www/example.com/public/wp-includes/class-wpdb.php"[..]),
            Some(2349)
        )
    );
    // Warnings are kept only when every PHP message is asked for.
    let default = events(
        PHASE_A,
        Collect {
            events: true,
            ..Collect::default()
        },
    );
    let lines: Vec<u64> = default
        .iter()
        .filter(|e| e.kind == Some(EventKind::PhpMessage))
        .map(|e| e.line)
        .collect();
    assert_eq!(lines, [7, 11]);
}

/// Totals across files add up.
#[test]
fn merge_across_files() {
    let mut total = FpmSummary::default();
    for f in [PHASE_A, PHASE_C, PHASE_D, LIFECYCLE] {
        total.merge(&summary(f).0);
    }
    assert_eq!(total.restarts, 1 + 1 + 1 + 2);
    assert_eq!(total.reloads, 1 + 1);
    assert_eq!(
        signals(&total),
        BTreeMap::from([
            ("SIGKILL", 2),
            ("SIGSEGV", 1 + 2 + 1),
            ("SIGTERM", 1 + 5 + 1)
        ])
    );
    assert_eq!(total.slow_requests, 16 + 1 + 1);
    assert_eq!(total.cycles.len(), 2 + 1 + 1 + 3);
}

/// The same line in three zones.
#[test]
fn zones() {
    let line = b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544\n";
    for (zone, local, utc) in [
        (
            "UTC",
            "2026-11-24T11:16:51+00:00",
            "2026-11-24T11:16:51+00:00",
        ),
        (
            "+01:00",
            "2026-11-24T11:16:51+01:00",
            "2026-11-24T10:16:51+00:00",
        ),
        (
            "America/New_York",
            "2026-11-24T11:16:51-05:00",
            "2026-11-24T16:16:51+00:00",
        ),
    ] {
        let (s, _) = scan_slice(
            line,
            0,
            &FpmLogParser::new(zone.parse().unwrap()),
            &sequential(),
            &FpmSummary::default,
        );
        let t = s.range.first.unwrap();
        assert_eq!(t.to_rfc3339(), local, "{zone}");
        assert_eq!(t.to_rfc3339_at(0), utc, "{zone}");
    }
}

/// The reader path (tiny blocks, so records straddle refills) gives what
/// the slice path gives.
#[test]
fn reader_equals_slice() {
    for f in [PHASE_A, PHASE_C, PHASE_D, LIFECYCLE] {
        let (a, ta) = scan(f, Zone::UTC);
        let opts = ScanOptions {
            block_size: 4096,
            chunk_size: 4096,
            max_record: 2048,
            parallel: true,
            ..ScanOptions::default()
        };
        let s = scan_reader(f, &FpmLogParser::new(Zone::UTC), &opts, &Both::default);
        assert!(s.error.is_none());
        assert_eq!(s.tally.lines, ta.lines);
        assert_eq!(s.tally.parsed, ta.parsed);
        assert_eq!(s.sink, a);
    }
}

/// A log built from lab and hand-written lines, picked at random, with
/// master lifecycle lines in between so restarts and reloads straddle
/// chunk boundaries.
fn build(picks: &[(usize, usize)]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = Vec::new();
    for f in [PHASE_A, PHASE_D, LIFECYCLE] {
        lines.extend(f.split(|&c| c == b'\n'));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < picks.len() {
        let (a, n) = picks[i];
        // Runs of consecutive lines keep wrapped output and stack traces.
        let start = a % lines.len();
        for l in lines.iter().skip(start).take(1 + n % 6) {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut p = FpmLogParser::new(Zone::UTC);
        if let Ok(r) = p.parse(&bytes)
            && let FpmEvent::WorkerOutput(w) = r.event
        {
            let _ = w.pieces().count();
        }
        let _ = p.continues(&bytes, &bytes);
        let _ = p.is_record_start(&bytes);
        let _ = baton_logparse::fpm::classify(FpmLevel::Warning, &bytes);
        let (_, t) = scan(&bytes, Zone::UTC);
        prop_assert_eq!(t.lines, count_lines(&bytes));
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
    }

    #[test]
    fn random_text_lines_never_panic(
        lines in proptest::collection::vec(
            "(\\[24-Nov-2026 11:1[0-9]:[0-9]{0,2}(\\.[0-9]{0,7})?\\]? ?(NOTICE|WARNING|DEBUG|ERR)?:? ?(pid 1, f\\(\\), line 2: )?(\\[pool w\\] )?|NOTICE: |PHP |#0 )?(child [0-9]{0,3}( said into stderr: \"| exited on signal 9 \\(| exited with code |, script 'x' \\(request: \"G )?|fpm is running, pid |server reached pm.max_children setting \\()?[a-z0-9() .\"]{0,20}",
            0..30,
        ),
    ) {
        let buf = lines.join("\n");
        let (b, t) = scan(buf.as_bytes(), Zone::UTC);
        prop_assert_eq!(t.lines, count_lines(buf.as_bytes()));
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
        prop_assert_eq!(b.summary.restarts + b.summary.reloads, b.summary.cycles.len() as u64);
    }

    #[test]
    fn parallel_chunks_equal_sequential(
        picks in proptest::collection::vec((0usize..1000, 0usize..4000), 20..300),
    ) {
        let buf = build(&picks);
        let p = FpmLogParser::new(Zone::UTC);
        let (a, ta) = scan_slice(&buf, 0, &p, &sequential(), &Both::default);
        let par = ScanOptions { chunk_size: 1, parallel: true, ..ScanOptions::default() };
        let (b, tb) = scan_slice(&buf, 0, &p, &par, &Both::default);
        prop_assert_eq!(ta.lines, count_lines(&buf));
        prop_assert_eq!(ta.lines, ta.parsed + ta.skipped());
        prop_assert_eq!(&ta, &tb);
        prop_assert_eq!(&a.summary, &b.summary);
        prop_assert_eq!(&a.records, &b.records);
    }
}
