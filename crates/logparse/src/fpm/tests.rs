//! Exact events for every php-fpm message kind: lab lines
//! (`shared/peers/generated-lab-nginx-phpfpm/phase{A,C,D}*/php-fpm.log`)
//! and hand-written lines in FPM's formats for kinds the lab lacks.

use super::*;
use crate::error::SkipReason;
use crate::frame::RecordParser;
use crate::nginx::error::PhpMessage;
use crate::scan::{ScanOptions, scan_slice};
use crate::time::{Timestamp, Zone, parse_iso8601};

fn ts(s: &str) -> Timestamp {
    parse_iso8601(s.as_bytes()).unwrap()
}

fn parse(line: &[u8]) -> FpmRecord<'_> {
    FpmLogParser::new(Zone::UTC).parse(line).unwrap()
}

fn ev(line: &[u8]) -> FpmEvent<'_> {
    parse(line).event
}

const WWW: Option<&[u8]> = Some(b"www");

#[test]
fn max_children_reached() {
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:02] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it"),
        FpmEvent::MaxChildrenReached { pool: WWW, limit: 3 }
    );
    // The ondemand wording (lab phase B, journal form) has no `pm.`.
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool ondemand] server reached max_children setting (2), consider raising it"
        ),
        FpmEvent::MaxChildrenReached {
            pool: Some(b"ondemand"),
            limit: 2
        }
    );
}

#[test]
fn seems_busy() {
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:13] WARNING: [pool busy] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and 4 total children"),
        FpmEvent::SeemsBusy {
            pool: Some(b"busy"),
            spawning: 8,
            idle: 0,
            total: 4
        }
    );
    // Hand-written, as FPM's format string writes it.
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 32 children, there are 1 idle, and 57 total children"
        ),
        FpmEvent::SeemsBusy {
            pool: WWW,
            spawning: 32,
            idle: 1,
            total: 57
        }
    );
}

#[test]
fn child_started_and_exited() {
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:45] NOTICE: [pool www] child 32543 started"),
        FpmEvent::ChildStarted {
            pool: WWW,
            pid: 32543
        }
    );
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:45] WARNING: [pool www] child 31660 exited on signal 11 (SIGSEGV) after 48.610558 seconds from start"),
        FpmEvent::ChildExited(ChildExit {
            pool: WWW,
            pid: 31660,
            status: ExitStatus::Signal {
                number: 11,
                name: b"SIGSEGV",
                core_dumped: false
            },
            uptime_us: Some(48_610_558),
        })
    );
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:48] WARNING: [pool www] child 31718 exited on signal 9 (SIGKILL) after 47.126541 seconds from start"),
        FpmEvent::ChildExited(ChildExit {
            pool: WWW,
            pid: 31718,
            status: ExitStatus::Signal {
                number: 9,
                name: b"SIGKILL",
                core_dumped: false
            },
            uptime_us: Some(47_126_541),
        })
    );
    // Routine recycling stays a code exit, not a crash.
    let e = ev(b"[24-Nov-2026 11:18:11] NOTICE: [pool www] child 32651 exited with code 0 after 14.029870 seconds from start");
    assert_eq!(
        e,
        FpmEvent::ChildExited(ChildExit {
            pool: WWW,
            pid: 32651,
            status: ExitStatus::Code(0),
            uptime_us: Some(14_029_870),
        })
    );
    let FpmEvent::ChildExited(c) = e else {
        unreachable!()
    };
    assert!(!c.is_signal());
    // Hand-written: a core dump, and a non-zero code.
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] child 20961 exited on signal 11 (SIGSEGV - core dumped) after 12.5 seconds from start"
        ),
        FpmEvent::ChildExited(ChildExit {
            pool: WWW,
            pid: 20961,
            status: ExitStatus::Signal {
                number: 11,
                name: b"SIGSEGV",
                core_dumped: true
            },
            uptime_us: Some(12_500_000),
        })
    );
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] child 7 exited with code 255 after 0.000100 seconds from start"
        ),
        FpmEvent::ChildExited(ChildExit {
            pool: WWW,
            pid: 7,
            status: ExitStatus::Code(255),
            uptime_us: Some(100),
        })
    );
}

#[test]
fn slow_request_and_timeout() {
    assert_eq!(
        ev(b"[24-Nov-2026 11:16:57] WARNING: [pool www] child 31545, script '/var/www/shop/public/slow.php' (request: \"GET /slow.php?s=3\") executing too slow (1.070142 sec), logging"),
        FpmEvent::SlowRequest(SlowRequest {
            pool: WWW,
            pid: 31545,
            script: b"/var/www/shop/public/slow.php",
            method: b"GET",
            uri: b"/slow.php?s=3",
            elapsed_us: 1_070_142,
        })
    );
    assert_eq!(
        ev(b"[24-Nov-2026 11:17:57] WARNING: [pool www] child 32543, script '/var/www/shop/public/stall.php' (request: \"GET /stall.php\") execution timed out (8.073627 sec), terminating"),
        FpmEvent::ExecutionTimeout(SlowRequest {
            pool: WWW,
            pid: 32543,
            script: b"/var/www/shop/public/stall.php",
            method: b"GET",
            uri: b"/stall.php",
            elapsed_us: 8_073_627,
        })
    );
    // Hand-written, as the issue quotes them.
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] child 9, script '/srv/x.php' (request: \"POST /x\") execution timed out (60.1 sec), terminating"
        ),
        FpmEvent::ExecutionTimeout(SlowRequest {
            pool: WWW,
            pid: 9,
            script: b"/srv/x.php",
            method: b"POST",
            uri: b"/x",
            elapsed_us: 60_100_000,
        })
    );
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] child 9, script '/srv/x.php' (request: \"POST /x?q=\"a\"\") executing too slow (5.01 sec), logging"
        ),
        FpmEvent::SlowRequest(SlowRequest {
            pool: WWW,
            pid: 9,
            script: b"/srv/x.php",
            method: b"POST",
            uri: b"/x?q=\"a\"",
            elapsed_us: 5_010_000,
        })
    );
}

#[test]
fn master_lifecycle() {
    let m = |line: &'static [u8]| ev(line);
    assert_eq!(
        m(b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544"),
        FpmEvent::Master(Master::Running { pid: 31544 })
    );
    assert_eq!(
        m(b"[24-Nov-2026 11:16:51] NOTICE: ready to handle connections"),
        FpmEvent::Master(Master::Ready)
    );
    assert_eq!(
        m(b"[24-Nov-2026 11:18:12] NOTICE: Reloading in progress ..."),
        FpmEvent::Master(Master::ReloadingInProgress)
    );
    assert_eq!(
        m(b"[24-Nov-2026 11:18:12] NOTICE: reloading: execvp(\"php-fpm8.2\", {\"php-fpm8.2\", \"-y\", \"/tmp/lab/php-fpm.conf\"})"),
        FpmEvent::Master(Master::Reloading {
            command: b"\"php-fpm8.2\", {\"php-fpm8.2\", \"-y\", \"/tmp/lab/php-fpm.conf\"}"
        })
    );
    assert_eq!(
        m(b"[24-Nov-2026 11:18:14] NOTICE: Finishing ..."),
        FpmEvent::Master(Master::Finishing)
    );
    assert_eq!(
        m(b"[24-Nov-2026 11:18:14] NOTICE: exiting, bye-bye!"),
        FpmEvent::Master(Master::Exiting)
    );
    // Hand-written (SIGTERM to the master).
    assert_eq!(
        classify(FpmLevel::Notice, b"Terminating ..."),
        FpmEvent::Master(Master::Terminating)
    );
    assert_eq!(
        classify(FpmLevel::Notice, b"Reloading in progress ..."),
        FpmEvent::Master(Master::ReloadingInProgress)
    );
}

#[test]
fn startup_failures() {
    assert_eq!(
        classify(
            FpmLevel::Error,
            b"unable to bind listening socket for address '127.0.0.1:9000': Address already in use (98)"
        ),
        FpmEvent::StartupFailure(StartupFailure::Bind {
            pool: None,
            address: b"127.0.0.1:9000",
            reason: b"Address already in use (98)"
        })
    );
    assert_eq!(
        classify(
            FpmLevel::Error,
            b"[pool www] unable to bind listening socket for address '/run/php/php8.2-fpm.sock': Permission denied (13)"
        ),
        FpmEvent::StartupFailure(StartupFailure::Bind {
            pool: WWW,
            address: b"/run/php/php8.2-fpm.sock",
            reason: b"Permission denied (13)"
        })
    );
    // The lab's phase B journal carries this one.
    assert_eq!(
        classify(FpmLevel::Error, b"FPM initialization failed"),
        FpmEvent::StartupFailure(StartupFailure::InitFailed)
    );
}

#[test]
fn other_keeps_level_and_pool() {
    assert_eq!(
        ev(b"[24-Nov-2026 11:16:57] NOTICE: child 31545 stopped for tracing"),
        FpmEvent::Other {
            level: FpmLevel::Notice,
            pool: None,
            text: b"child 31545 stopped for tracing"
        }
    );
    assert_eq!(
        ev(b"[24-Nov-2026 11:16:51] NOTICE: systemd monitor interval set to 10000ms"),
        FpmEvent::Other {
            level: FpmLevel::Notice,
            pool: None,
            text: b"systemd monitor interval set to 10000ms"
        }
    );
    assert_eq!(
        classify(
            FpmLevel::Error,
            b"failed to open error_log (/proc/self/fd/2): No such device or address (6)"
        ),
        FpmEvent::Other {
            level: FpmLevel::Error,
            pool: None,
            text: b"failed to open error_log (/proc/self/fd/2): No such device or address (6)"
        }
    );
    // Near misses stay `other`.
    assert_eq!(
        classify(FpmLevel::Warning, b"[pool www] child 12 exited"),
        FpmEvent::Other {
            level: FpmLevel::Warning,
            pool: WWW,
            text: b"child 12 exited"
        }
    );
    assert_eq!(
        classify(FpmLevel::Notice, b"fpm is running, pid x"),
        FpmEvent::Other {
            level: FpmLevel::Notice,
            pool: None,
            text: b"fpm is running, pid x"
        }
    );
}

#[test]
fn worker_output_decorated() {
    let r = parse(b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 33554432 bytes exhausted (tried to allocate 2097152 bytes) in /var/www/shop/public/memory.php on line 4\"");
    let FpmEvent::WorkerOutput(w) = r.event else {
        panic!("{:?}", r.event)
    };
    assert_eq!(
        w,
        WorkerOutput {
            pool: WWW,
            pid: Some(31545),
            stream: Some(OutputStream::Stderr),
            text: b"NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 33554432 bytes exhausted (tried to allocate 2097152 bytes) in /var/www/shop/public/memory.php on line 4",
            continued: b"",
            decorated: true,
            lines: 1,
            truncated: false,
            php: Some(PhpMessage {
                level: b"Fatal error",
                text: b"Allowed memory size of 33554432 bytes exhausted (tried to allocate 2097152 bytes)",
                file: Some(b"/var/www/shop/public/memory.php"),
                line: Some(4),
            }),
        }
    );
    assert!(w.is_fatal() && w.is_memory_exhausted());

    let FpmEvent::WorkerOutput(w) = ev(b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function plugin_function_that_does_not_exist() in /var/www/shop/public/fatal.php:3\"") else {
        panic!()
    };
    assert_eq!(
        w.php,
        Some(PhpMessage {
            level: b"Fatal error",
            text:
                b"Uncaught Error: Call to undefined function plugin_function_that_does_not_exist()",
            file: Some(b"/var/www/shop/public/fatal.php"),
            line: Some(3),
        })
    );
    assert!(w.is_fatal() && !w.is_memory_exhausted());

    let FpmEvent::WorkerOutput(w) = ev(b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"NOTICE: PHP message: app error_log(): payment gateway returned HTTP 503\"") else {
        panic!()
    };
    assert_eq!(
        w.php,
        Some(PhpMessage {
            level: b"",
            text: b"app error_log(): payment gateway returned HTTP 503",
            file: None,
            line: None,
        })
    );
    let FpmEvent::WorkerOutput(w) = ev(b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 31545 said into stderr: \"worker diagnostic: cache miss for key=user:42\"") else {
        panic!()
    };
    assert_eq!(
        (w.text, w.php, w.truncated),
        (
            &b"worker diagnostic: cache miss for key=user:42"[..],
            None,
            false
        )
    );
    // stdout, and a line cut before its closing quote.
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"[pool www] child 5 said into stdout: \"hello"
        ),
        FpmEvent::WorkerOutput(WorkerOutput {
            pool: WWW,
            pid: Some(5),
            stream: Some(OutputStream::Stdout),
            text: b"hello",
            continued: b"",
            decorated: true,
            lines: 1,
            truncated: true,
            php: None,
        })
    );
}

/// The lab's wrapped output: a 1023-byte entry ending in `"`, then the rest
/// in an entry of the same writer, cut with `...`.
#[test]
fn worker_output_wrapped_is_one_record() {
    let lab = include_bytes!("../../../../testdata/fpm-log/lab/phaseA/php-fpm.log");
    let lines: Vec<&[u8]> = lab.split(|&c| c == b'\n').collect();
    let (l14, l15) = (lines[13], lines[14]);
    assert_eq!((l14.len(), l15.len()), (1023, 150));
    let p = FpmLogParser::new(Zone::UTC);
    assert!(!p.is_record_start(l15));
    assert!(p.continues(l14, l15));
    // Not after an unwrapped entry, nor after another writer's.
    assert!(!p.continues(lines[12], l15));
    let other_child = [&l14[..60], b"child 31546".as_slice(), &l14[71..]].concat();
    assert_eq!(other_child.len(), 1023);
    assert!(!p.continues(&other_child, l15));

    let rec = [l14, b"\n", l15].concat();
    let r = parse(&rec);
    let FpmEvent::WorkerOutput(w) = r.event else {
        panic!()
    };
    assert_eq!(w.lines, 2);
    assert!(w.truncated);
    assert_eq!(w.continued, l15);
    let pieces: Vec<&[u8]> = w.pieces().collect();
    let z = |n| vec![b'Z'; n];
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[1], [z(72), b"...".to_vec()].concat());
    assert!(
        pieces[0].starts_with(b"NOTICE: PHP message: PHP Warning:  checkout payload rejected: ZZZ")
    );
    assert_eq!(
        w.php.map(|p| (p.level, p.file)),
        Some((&b"Warning"[..], None))
    );
}

#[test]
fn worker_output_wrapped_location_from_last_piece() {
    let head = b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 8 said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Uncaught Exception: ";
    let mut l1 = head.to_vec();
    l1.resize(1022, b'x');
    l1.push(b'"');
    let l2 = b"[24-Nov-2026 11:16:55] WARNING: [pool www] child 8 said into stderr: \"xxxx in /var/www/a.php:12\"";
    let rec = [&l1[..], b"\n", l2].concat();
    let FpmEvent::WorkerOutput(w) = parse(&rec).event else {
        panic!()
    };
    let php = w.php.unwrap();
    assert_eq!(
        (php.level, php.file, php.line, w.truncated),
        (
            &b"Fatal error"[..],
            Some(&b"/var/www/a.php"[..]),
            Some(12),
            false
        )
    );
    assert_eq!(w.pieces().nth(1), Some(&b"xxxx in /var/www/a.php:12"[..]));
}

#[test]
fn worker_output_undecorated() {
    let buf = b"[24-Nov-2026 11:17:30] NOTICE: [pool ondemand] child 9 started
NOTICE: PHP message: PHP Fatal error:  Uncaught Error: boom in /var/www/a.php:3
Stack trace:
#0 {main}
  thrown in /var/www/a.php on line 3
NOTICE: PHP message: PHP Warning:  Undefined variable $x in /var/www/b.php on line 7
wrapped rest of the warning
[24-Nov-2026 11:17:31] NOTICE: [pool ondemand] child 10 started
raw worker text
second raw line
";
    let p = FpmLogParser::new(Zone::UTC);
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    #[derive(Default)]
    struct Spans(Vec<(u64, u32)>);
    impl crate::scan::Sink<FpmLogParser> for Spans {
        fn record(&mut self, _r: FpmRecord<'_>, loc: crate::frame::Loc) {
            self.0.push((loc.line, loc.lines));
        }
        fn append(&mut self, later: Spans, shift: u64) {
            self.0
                .extend(later.0.into_iter().map(|(l, n)| (l + shift, n)));
        }
    }
    let (spans, t) = scan_slice(buf, 0, &p, &opts, &Spans::default);
    // Undecorated lines that start no message belong to the undecorated
    // record before them, never to an entry.
    assert_eq!(spans.0, [(1, 1), (2, 4), (6, 2), (8, 1), (9, 2)]);
    assert_eq!((t.lines, t.parsed, t.skipped()), (10, 10, 0));

    let fatal: &[u8] =
        b"NOTICE: PHP message: PHP Fatal error:  Uncaught Error: boom in /var/www/a.php:3
Stack trace:
#0 {main}
  thrown in /var/www/a.php on line 3";
    let r = parse(fatal);
    assert_eq!((r.time, r.level, r.origin), (None, None, None));
    assert_eq!(
        r.event,
        FpmEvent::WorkerOutput(WorkerOutput {
            pool: None,
            pid: None,
            stream: None,
            text:
                b"NOTICE: PHP message: PHP Fatal error:  Uncaught Error: boom in /var/www/a.php:3",
            continued: b"Stack trace:\n#0 {main}\n  thrown in /var/www/a.php on line 3",
            decorated: false,
            lines: 4,
            truncated: false,
            php: Some(PhpMessage {
                level: b"Fatal error",
                text: b"Uncaught Error: boom",
                file: Some(b"/var/www/a.php"),
                line: Some(3),
            }),
        })
    );
    let FpmEvent::WorkerOutput(w) = r.event else {
        panic!()
    };
    let pieces: Vec<&[u8]> = w.pieces().collect();
    assert_eq!(
        pieces,
        [
            &b"NOTICE: PHP message: PHP Fatal error:  Uncaught Error: boom in /var/www/a.php:3"[..],
            b"Stack trace:",
            b"#0 {main}",
            b"  thrown in /var/www/a.php on line 3"
        ]
    );
}

#[test]
fn debug_log_level_prefix() {
    let r = parse(b"[24-Nov-2026 11:21:49.523456] DEBUG: pid 7260, fpm_children_bury(), line 289: [pool busy] child 7337 exited on signal 15 (SIGTERM) after 3.071167 seconds from start");
    assert_eq!(r.time, Some(ts("2026-11-24T11:21:49.523456+00:00")));
    assert_eq!(r.level, Some(FpmLevel::Debug));
    assert_eq!(
        r.origin,
        Some(DebugOrigin {
            pid: Some(7260),
            function: b"fpm_children_bury",
            line: 289
        })
    );
    assert_eq!(
        r.message,
        b"[pool busy] child 7337 exited on signal 15 (SIGTERM) after 3.071167 seconds from start"
    );
    assert_eq!(
        r.event,
        FpmEvent::ChildExited(ChildExit {
            pool: Some(b"busy"),
            pid: 7337,
            status: ExitStatus::Signal {
                number: 15,
                name: b"SIGTERM",
                core_dumped: false
            },
            uptime_us: Some(3_071_167),
        })
    );
    let r = parse(b"[24-Nov-2026 11:21:38.445696] NOTICE: pid 7260, fpm_init(), line 83: fpm is running, pid 7260");
    assert_eq!(r.event, FpmEvent::Master(Master::Running { pid: 7260 }));
    // classify strips the prefix too (journal lines at debug level).
    assert_eq!(
        classify(
            FpmLevel::Warning,
            b"pid 7260, fpm_request_check_timed_out(), line 261: [pool www] child 7261, script '/var/www/shop/public/slow.php' (request: \"GET /slow.php?s=2\") executing too slow (1.290234 sec), logging"
        ),
        FpmEvent::SlowRequest(SlowRequest {
            pool: WWW,
            pid: 7261,
            script: b"/var/www/shop/public/slow.php",
            method: b"GET",
            uri: b"/slow.php?s=2",
            elapsed_us: 1_290_234,
        })
    );
}

#[test]
fn zones() {
    let line = b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544";
    let at = |z: &str| {
        FpmLogParser::new(z.parse().unwrap())
            .parse(line)
            .unwrap()
            .time
            .unwrap()
    };
    assert_eq!(at("UTC").to_rfc3339(), "2026-11-24T11:16:51+00:00");
    assert_eq!(at("+01:00").to_rfc3339(), "2026-11-24T11:16:51+01:00");
    assert_eq!(at("+01:00").to_rfc3339_at(0), "2026-11-24T10:16:51+00:00");
    let ny = at("America/New_York");
    assert_eq!(ny.to_rfc3339(), "2026-11-24T11:16:51-05:00");
    assert_eq!(ny.to_rfc3339_at(0), "2026-11-24T16:16:51+00:00");
    // Summer time in New York: -04:00.
    let mut p = FpmLogParser::new("America/New_York".parse().unwrap());
    let r = p
        .parse(b"[01-Jul-2026 09:00:00.500000] NOTICE: ready to handle connections")
        .unwrap();
    assert_eq!(
        r.time.unwrap().to_rfc3339(),
        "2026-07-01T09:00:00.500-04:00"
    );
}

#[test]
fn time_cache_across_minutes_and_days() {
    let mut p = FpmLogParser::new(Zone::UTC);
    for (line, want) in [
        (
            &b"[31-Dec-2025 23:59:58] NOTICE: a"[..],
            "2025-12-31T23:59:58+00:00",
        ),
        (
            b"[31-Dec-2025 23:59:59] NOTICE: a",
            "2025-12-31T23:59:59+00:00",
        ),
        (
            b"[01-Jan-2026 00:00:00] NOTICE: a",
            "2026-01-01T00:00:00+00:00",
        ),
        (
            b"[01-Jan-2026 00:00:07] NOTICE: a",
            "2026-01-01T00:00:07+00:00",
        ),
        (
            b"[01-Jan-2026 00:01:00] NOTICE: a",
            "2026-01-01T00:01:00+00:00",
        ),
        (
            b"[01-Jan-2026 00:00:07] NOTICE: a",
            "2026-01-01T00:00:07+00:00",
        ),
    ] {
        assert_eq!(p.parse(line).unwrap().time.unwrap().to_rfc3339(), want);
    }
}

#[test]
fn skip_reasons() {
    let mut p = FpmLogParser::new(Zone::UTC);
    let cases: [(&[u8], SkipReason); 7] = [
        (b"[24-Nov-2026 11:16", SkipReason::Truncated),
        (b"[24-Nov-2026 11:16:51", SkipReason::Truncated),
        (b"[24-Nov-2026 11:16:51] NOT", SkipReason::Truncated),
        (b"[24-Nov-2026 11:16:51] INFO: x", SkipReason::BadField),
        (
            b"[24-Foo-2026 11:16:51] NOTICE: x",
            SkipReason::BadTimestamp,
        ),
        (
            b"[31-Nov-2026 11:16:51] NOTICE: x",
            SkipReason::BadTimestamp,
        ),
        (b"raw \0 bytes", SkipReason::Unrecognized),
    ];
    for (line, want) in cases {
        assert_eq!(
            p.parse(line),
            Err(want),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

fn t(s: &str) -> Option<Timestamp> {
    Some(ts(s))
}

/// Feeds `(event, time)` pairs into summaries cut at every position and
/// merged, which must equal the uncut one.
fn check_cuts(evs: &[(FpmEvent<'_>, Option<Timestamp>)]) -> FpmSummary {
    let mut whole = FpmSummary::default();
    for (e, t) in evs {
        whole.add_event(e, *t);
    }
    for cut1 in 0..=evs.len() {
        for cut2 in cut1..=evs.len() {
            let mut parts = [
                FpmSummary::default(),
                FpmSummary::default(),
                FpmSummary::default(),
            ];
            for (i, (e, t)) in evs.iter().enumerate() {
                let k = (i >= cut1) as usize + (i >= cut2) as usize;
                parts[k].add_event(e, *t);
            }
            let [mut a, b, c] = parts;
            a.append_chunk(b);
            a.append_chunk(c);
            assert_eq!(a, whole, "cuts at {cut1}, {cut2}");
        }
    }
    whole
}

#[test]
fn restarts_and_reloads() {
    use Master::*;
    let m = FpmEvent::Master;
    let evs = [
        (m(Running { pid: 1 }), t("2026-01-01T00:00:00Z")),
        (m(Ready), t("2026-01-01T00:00:00Z")),
        (m(Terminating), t("2026-01-01T00:05:00Z")),
        (m(Exiting), t("2026-01-01T00:05:02Z")),
        (m(Running { pid: 2 }), t("2026-01-01T00:05:09Z")),
        (m(ReloadingInProgress), t("2026-01-01T00:10:00Z")),
        (m(Reloading { command: b"x" }), t("2026-01-01T00:10:00Z")),
        (m(Running { pid: 2 }), t("2026-01-01T00:10:01Z")),
        (m(Finishing), t("2026-01-01T00:20:00Z")),
        (m(Exiting), t("2026-01-01T00:20:01Z")),
        (m(Running { pid: 3 }), t("2026-01-01T00:20:30Z")),
        (m(Reloading { command: b"x" }), t("2026-01-01T00:30:00Z")),
        (m(Running { pid: 3 }), t("2026-01-01T00:30:02Z")),
    ];
    let s = check_cuts(&evs);
    assert_eq!((s.restarts, s.reloads), (3, 2));
    let cyc: Vec<(CycleKind, Option<i64>, u32)> = s
        .cycles
        .iter()
        .map(|c| (c.kind, c.gap_us().map(|g| g / 1_000_000), c.pid))
        .collect();
    assert_eq!(
        cyc,
        [
            (CycleKind::Restart, None, 1),
            (CycleKind::Restart, Some(9), 2),
            (CycleKind::Reload, Some(1), 2),
            (CycleKind::Restart, Some(30), 3),
            (CycleKind::Reload, Some(2), 3),
        ]
    );
    // A chunk that starts in the middle of a stop or a reload.
    let s = check_cuts(&evs[3..]);
    assert_eq!((s.restarts, s.reloads), (2, 2));
    assert_eq!(s.cycles[0].start, t("2026-01-01T00:05:02Z"));
    let s = check_cuts(&evs[6..]);
    assert_eq!((s.restarts, s.reloads), (1, 2));
    assert_eq!(s.cycles[0].start, t("2026-01-01T00:10:00Z"));
}

#[test]
fn summary_counts_signals_by_name() {
    let mut s = FpmSummary::default();
    let exit = |number, name: &'static [u8]| {
        FpmEvent::ChildExited(ChildExit {
            pool: None,
            pid: 1,
            status: ExitStatus::Signal {
                number,
                name,
                core_dumped: false,
            },
            uptime_us: None,
        })
    };
    s.add_event(&exit(11, b"SIGSEGV"), None);
    s.add_event(&exit(11, b""), None);
    s.add_event(&exit(9, b"SIGKILL"), None);
    s.add_event(&exit(40, b""), None);
    s.add_event(
        &FpmEvent::ChildExited(ChildExit {
            pool: None,
            pid: 1,
            status: ExitStatus::Code(0),
            uptime_us: None,
        }),
        None,
    );
    let got: Vec<(&str, u64)> = s
        .child_signals
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(got, [("SIG40", 1), ("SIGKILL", 1), ("SIGSEGV", 2)]);
    assert_eq!((s.child_exits, s.untimed, s.entries), (5, 5, 5));
}
