use super::*;
use crate::time::{civil_from_days, days_from_civil};

fn p() -> JournalParser {
    JournalParser::new(Zone::UTC, 2026)
}

fn rec(line: &[u8]) -> JournalRecord<'_> {
    p().parse(line).unwrap()
}

fn ts(s: &str) -> Timestamp {
    parse_iso8601(s.as_bytes()).unwrap()
}

#[test]
fn short_line() {
    let r = rec(b"Nov 24 11:19:08 vm php-fpm8.2[3399]: [NOTICE] fpm is running, pid 3399");
    assert_eq!(
        r,
        JournalRecord {
            form: JournalForm::Short,
            time: Some(ts("2026-11-24T11:19:08Z")),
            yearless: Some(Yearless {
                month: 11,
                rollovers: 0,
                zone: Zone::UTC
            }),
            host: b"vm",
            identifier: b"php-fpm8.2",
            pid: Some(3399),
            unit: None,
            about_unit: None,
            priority: None,
            message: b"[NOTICE] fpm is running, pid 3399",
            encoding: Encoding::Raw,
            source: Source::Fpm,
            container: b"",
        }
    );
    let mut s = Vec::new();
    assert_eq!(
        r.event(&mut s),
        JournalEvent::Fpm(FpmLine {
            level: b"NOTICE",
            message: b"fpm is running, pid 3399"
        })
    );
}

#[test]
fn short_precise_kernel_and_space_padded_day() {
    let r = rec(b"Aug  1 00:00:03.5 vm kernel: php[5532]: segfault at 7ffc ip 0000558254056766 sp 00007ffc7d9cc000 error 6 in php8.2[30a766,558253e37000+30c000]");
    assert_eq!(r.form, JournalForm::ShortPrecise);
    assert_eq!(r.time, Some(ts("2026-08-01T00:00:03.5Z")));
    assert_eq!(
        (r.host, r.identifier, r.pid),
        (&b"vm"[..], &b"kernel"[..], None)
    );
    assert_eq!(r.source, Source::Kernel);
    assert!(r.message.starts_with(b"php[5532]: segfault at"));
    let mut s = Vec::new();
    let JournalEvent::Kernel(KernelEvent::Segfault(sf)) = r.event(&mut s) else {
        panic!("{:?}", r.event(&mut Vec::new()))
    };
    assert_eq!(sf.process, b"php");
}

#[test]
fn short_iso_forms() {
    let r = rec(b"2026-11-24T11:19:08+0100 vm nginx[3523]: 2026/11/24 11:19:08 [notice] 3523#3523: nginx/1.22.1");
    assert_eq!(r.form, JournalForm::ShortIso);
    assert_eq!(r.time, Some(ts("2026-11-24T11:19:08+01:00")));
    assert_eq!(r.time.unwrap().offset_s, 3600);
    assert_eq!(r.yearless, None);
    assert_eq!((r.identifier, r.pid), (&b"nginx"[..], Some(3523)));
    assert_eq!(r.source, Source::Nginx);
    assert_eq!(&r.message[..10], b"2026/11/24");
    let r = rec(b"2026-11-24T11:19:08.297711+0000 vm php-fpm8.2[3399]: [NOTICE] ready to handle connections");
    assert_eq!(r.form, JournalForm::ShortIsoPrecise);
    assert_eq!(r.time.unwrap().unix_us, 1_795_519_148_297_711);
    // rsyslog's RFC 3339 file format, identifier without pid.
    let r = rec(b"2025-08-31T09:36:55.418891-07:00 stack-pc2 rsyslogd: [origin software=\"rsyslogd\"] rsyslogd was HUPed");
    assert_eq!(
        (r.host, r.identifier, r.pid),
        (&b"stack-pc2"[..], &b"rsyslogd"[..], None)
    );
    assert_eq!(r.time.unwrap().offset_s, -7 * 3600);
    assert_eq!(
        r.message,
        b"[origin software=\"rsyslogd\"] rsyslogd was HUPed"
    );
}

#[test]
fn rfc5424() {
    let r = rec(b"<134>1 2026-11-24T11:19:08.123Z host app 123 - - msg here");
    assert_eq!(
        r,
        JournalRecord {
            form: JournalForm::Rfc5424,
            time: Some(ts("2026-11-24T11:19:08.123Z")),
            yearless: None,
            host: b"host",
            identifier: b"app",
            pid: Some(123),
            unit: None,
            about_unit: None,
            priority: Some(6),
            message: b"msg here",
            encoding: Encoding::Raw,
            source: Source::Other,
            container: b"",
        }
    );
    let r = rec(b"<46>1 2017-04-27T07:50:47.381967+02:00 logserver rsyslogd - - [origin software=\"rsyslogd\" x-info=\"a]b\"] start");
    assert_eq!(
        (r.pid, r.priority, r.message),
        (None, Some(6), &b"start"[..])
    );
    let r = rec(b"<171>1 - - nginx - - - \xEF\xBB\xBFx");
    assert_eq!(
        (r.time, r.host, r.identifier, r.message),
        (None, &b""[..], &b"nginx"[..], &b"x"[..])
    );
    assert_eq!(
        p().parse(b"<171>1 2026-11-24T11:19:08Z h"),
        Err(SkipReason::Truncated)
    );
    assert_eq!(
        p().parse(b"<171>1 2026-13-24T11:19:08Z h a - - - m"),
        Err(SkipReason::BadTimestamp)
    );
}

#[test]
fn rfc3164_with_pri_and_odd_tags() {
    let r = rec(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed");
    assert_eq!(r.priority, Some(2));
    assert_eq!(
        (r.identifier, r.message),
        (&b"su"[..], &b"'su root' failed"[..])
    );
    let r = rec(b"Apr 28 04:02:03 tstack-centos5 syslogd 1.4.1: restart.");
    assert_eq!(
        (r.identifier, r.message),
        (&b"syslogd"[..], &b"1.4.1: restart."[..])
    );
}

#[test]
fn json_line() {
    let line = br#"{ "__REALTIME_TIMESTAMP" : "1795519148298576", "_SOURCE_REALTIME_TIMESTAMP":"1795519148297711", "_HOSTNAME":"vm", "SYSLOG_IDENTIFIER":"php-fpm8.2", "_PID":"3399", "SYSLOG_PID":"1", "_SYSTEMD_UNIT":"php8.2-fpm.service", "PRIORITY":"4", "MESSAGE":"[WARNING] [pool www] child 3400, script '/x.php' (request: \"GET /x\") executing too slow (1.27 sec), logging", "N":null, "O":{"a":[1,"]"]} }"#;
    let r = rec(line);
    assert_eq!(r.form, JournalForm::Json);
    assert_eq!(
        r.time,
        Some(Timestamp {
            unix_us: 1_795_519_148_297_711,
            offset_s: 0
        })
    );
    assert_eq!(
        (r.host, r.identifier, r.pid),
        (&b"vm"[..], &b"php-fpm8.2"[..], Some(3399))
    );
    assert_eq!(
        (r.unit, r.priority),
        (Some(&b"php8.2-fpm.service"[..]), Some(4))
    );
    assert_eq!(r.encoding, Encoding::JsonString);
    assert!(
        r.message
            .ends_with(br#"(request: \"GET /x\") executing too slow (1.27 sec), logging"#)
    );
    let mut s = Vec::new();
    let JournalEvent::Fpm(l) = r.event(&mut s) else {
        panic!()
    };
    assert_eq!(l.level, b"WARNING");
    assert_eq!(
        l.message,
        &b"[pool www] child 3400, script '/x.php' (request: \"GET /x\") executing too slow (1.27 sec), logging"[..]
    );
    // Only __REALTIME_TIMESTAMP; identifier from _COMM; binary message.
    let r = rec(br#"{"__REALTIME_TIMESTAMP":"1534860261221373","_COMM":"nginx","MESSAGE":[104,105,0,10,255]}"#);
    assert_eq!(r.time.unwrap().unix_us, 1_534_860_261_221_373);
    assert_eq!(
        (r.identifier, r.encoding),
        (&b"nginx"[..], Encoding::JsonBytes)
    );
    assert_eq!(&r.message_text()[..], b"hi\0\n\xff");
    // Escapes, surrogate pairs.
    let r = rec(br#"{"MESSAGE":"a\tb\u00e9\ud83d\ude00\\\/"}"#);
    assert_eq!(&r.message_text()[..], "a\tbé😀\\/".as_bytes());
    // Cut short: truncated, as for every JSON format baton reads.
    assert_eq!(p().parse(br#"{"MESSAGE":"x""#), Err(SkipReason::Truncated));
    assert_eq!(
        p().parse(br#"{"MESSAGE":"x"} junk"#),
        Err(SkipReason::BadJson)
    );
    assert_eq!(
        p().parse(br#"{"other":"x"}"#),
        Err(SkipReason::Unrecognized)
    );
}

const EXPORT: &[u8] = b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1795519148298576\n_HOSTNAME=vm\nSYSLOG_IDENTIFIER=php-fpm8.2\n_PID=3399\nPRIORITY=5\nMESSAGE\n\x0b\0\0\0\0\0\0\0[NOTICE] a\n\nSYSLOG_PID=3399\n\n__CURSOR=s=2\n__REALTIME_TIMESTAMP=1795519148298577\nSYSLOG_IDENTIFIER=kernel\nMESSAGE=Out of memory\n\n";

#[test]
fn export_framing_and_binary_fields() {
    let p = p();
    let lines: Vec<&[u8]> = EXPORT.split(|&b| b == b'\n').collect();
    // The length 11 is `\x0b`, data "[NOTICE] a\n" holds a newline and is
    // followed by the field's own `\n`, then a blank line inside the data.
    assert!(p.is_record_start(lines[0]));
    assert!(!p.is_record_start(lines[1]));
    assert!(p.is_record_start(lines[11]));
    let (sink, tally) = crate::scan::scan_slice(
        EXPORT,
        0,
        &p.clone().with_form(JournalForm::Export),
        &crate::scan::ScanOptions::default(),
        &JournalSummary::default,
    );
    assert_eq!((tally.lines, tally.parsed, tally.skipped()), (16, 16, 0));
    assert_eq!(sink.records, 2);
    assert_eq!((sink.fpm_lines, sink.kernel_lines), (1, 1));
    let head = &EXPORT[..EXPORT.iter().position(|&b| b == b'\x0b').unwrap() + 8];
    assert!(p.continues(head, b"[NOTICE] a"));
    let rec1 = &EXPORT[..memchr::memmem::find(EXPORT, b"\n\n__CURSOR=s=2").unwrap() + 1];
    let r = p.clone().parse(rec1).unwrap();
    assert_eq!(r.form, JournalForm::Export);
    assert_eq!(r.message, b"[NOTICE] a\n");
    assert_eq!(
        (r.pid, r.priority, r.host),
        (Some(3399), Some(5), &b"vm"[..])
    );
    assert!(!p.continues(rec1, b"__CURSOR=s=2"));
    assert!(!p.continues(rec1, b"X=1"));
}

#[test]
fn short_continuation_lines() {
    let p = p();
    assert!(p.continues(b"Nov 24 11:19:10 vm nginx[3527]: a", b"    Stack trace:"));
    assert!(!p.continues(b"Nov 24 11:19:10 vm nginx[3527]: a", b"Stack trace:"));
    assert!(!p.is_record_start(b"                                #0 {main}"));
    let r = rec(b"Nov 24 11:19:10 vm nginx[3527]: a\n    b");
    assert_eq!(r.message, b"a\n    b");
}

#[test]
fn markers() {
    let r = rec(b"-- Boot 67ed79b101e442beb1212ba7868648f9 --");
    assert_eq!((r.form, r.time), (JournalForm::Marker, None));
}

#[test]
fn systemd_unit_actions() {
    let cases: [(&[u8], Option<UnitAction>); 9] = [
        (
            b"Stopping php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager...",
            Some(UnitAction::Stopping),
        ),
        (
            b"Stopped php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.",
            Some(UnitAction::Stopped),
        ),
        (
            b"Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.",
            Some(UnitAction::Started),
        ),
        (
            b"Started The PHP 8.2 FastCGI Process Manager.",
            Some(UnitAction::Started),
        ),
        (b"Reloaded php-fpm.service.", Some(UnitAction::Reloaded)),
        (
            b"php8.2-fpm.service: Failed with result 'exit-code'.",
            Some(UnitAction::Failed),
        ),
        (
            b"Failed to start php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.",
            Some(UnitAction::Failed),
        ),
        (
            b"Started nginx.service - A high performance web server.",
            None,
        ),
        (b"php8.2-fpm.service: Deactivated successfully.", None),
    ];
    for (m, want) in cases {
        assert_eq!(unit_action(m, None), want, "{}", String::from_utf8_lossy(m));
    }
    assert_eq!(
        unit_action(b"Started Foo.", Some(b"php7.4-fpm.service")),
        Some(UnitAction::Started)
    );
}

#[test]
fn unit_restarts_merge_across_parts() {
    use UnitAction::*;
    let seq = [
        Started, Stopping, Stopped, Started, Failed, Started, Started, Stopping,
    ];
    let mut whole = UnitSummary::default();
    for a in seq {
        whole.add(a);
    }
    assert_eq!(whole.restarts, 2);
    for cut in 0..=seq.len() {
        let (mut a, mut b) = (UnitSummary::default(), UnitSummary::default());
        seq[..cut].iter().for_each(|x| a.add(*x));
        seq[cut..].iter().for_each(|x| b.add(*x));
        a.append(&b);
        assert_eq!(a, whole, "cut {cut}");
    }
}

#[test]
fn split_fpm_forms() {
    assert_eq!(
        split_fpm(b"[24-Nov-2026 11:19:35] ERROR: FPM initialization failed"),
        Some(FpmLine {
            level: b"ERROR",
            message: b"FPM initialization failed"
        })
    );
    assert_eq!(split_fpm(b"[pool www] child 1 said into stderr"), None);
    assert_eq!(split_fpm(b"no level"), None);
}

#[test]
fn year_rollover_sequential() {
    let mut p = p();
    let a = p.parse(b"Dec 31 23:59:59 vm a: x").unwrap();
    let b = p.parse(b"Jan  1 00:00:01 vm a: x").unwrap();
    assert_eq!(a.time, Some(ts("2026-12-31T23:59:59Z")));
    assert_eq!(b.time, Some(ts("2027-01-01T00:00:01Z")));
    assert_eq!(b.yearless.unwrap().rollovers, 1);
    // Jitter back across a month end is not a New Year.
    let c = p.parse(b"Feb  1 00:00:00 vm a: x").unwrap();
    let d = p.parse(b"Jan 31 23:59:59 vm a: x").unwrap();
    assert_eq!(c.time, Some(ts("2027-02-01T00:00:00Z")));
    assert_eq!(d.time, Some(ts("2027-01-31T23:59:59Z")));
}

#[test]
fn shift_years_keeps_wall_clock() {
    let z: Zone = "Europe/Berlin".parse().unwrap();
    let t = ts("2026-07-01T12:00:00+02:00");
    assert_eq!(shift_years(t, 1, z), ts("2027-07-01T12:00:00+02:00"));
    // 2026-03-28 is CET; 2027-03-28 is CEST (last Sunday of March).
    let t = ts("2026-03-28T12:00:00+01:00");
    assert_eq!(shift_years(t, 1, z), ts("2027-03-28T12:00:00+02:00"));
    assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
}

#[test]
fn detection_helpers() {
    assert!(looks_like_short(b"Nov 24 11:19:08 vm php-fpm8.2[3399]: x"));
    assert!(looks_like_short(b"Nov 24 11:19:08.297711 vm kernel: x"));
    assert!(!looks_like_short(b"Nov 24 11:19:08"));
    assert!(looks_like_iso(b"2026-11-24T11:19:08+0000 vm kernel: x"));
    assert!(!looks_like_iso(b"2026/11/24 11:19:08 [error] 1#1: x"));
    assert!(looks_like_json(
        br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}"#
    ));
    assert!(!looks_like_json(
        br#"{"remote_addr":"1.2.3.4","status":200}"#
    ));
    assert!(looks_like_export(b"__CURSOR=s=69f0"));
    assert!(looks_like_rfc5424(
        b"<134>1 2026-11-24T11:19:08.123Z host app 123 - - msg"
    ));
    assert!(!looks_like_rfc5424(b"<34>Oct 11 22:14:15 mymachine su: x"));
    assert!(looks_like(b"<34>Oct 11 22:14:15 mymachine su: x"));
    assert!(!looks_like(b"-- Boot 1 --"));
    assert!(!looks_like(b"[24-Nov-2026 11:19:35] ERROR: x"));
    assert!(!looks_like(b""));
}

#[test]
fn with_form_restricts() {
    let mut p = p().with_form(JournalForm::Short);
    assert_eq!(
        p.parse(b"2026-11-24T11:19:08+0000 vm a: x"),
        Err(SkipReason::Unrecognized)
    );
    assert_eq!(
        p.parse(br#"{"MESSAGE":"x"}"#),
        Err(SkipReason::Unrecognized)
    );
    assert!(p.parse(b"Nov 24 11:19:08.5 vm a: x").is_ok());
    let e = JournalParser::new(Zone::UTC, 2026).with_form(JournalForm::Export);
    assert!(!e.is_record_start(b"Nov 24 11:19:08 vm a: x"));
}

/// Issue 19: an nginx error entry carried by syslog or the journal is an
/// nginx error record, and php-fpm 5.x's `func(), line N:` layout yields
/// its event, in syslog form as in file form.
#[test]
fn carried_nginx_entries_and_fpm5_layout() {
    use crate::event::{EventKind, from_journal};
    use crate::nginx::error::UpstreamKind;
    let mut s = Vec::new();
    let nginx = b"Nov 24 11:17:00 vm nginx[123]: 2026/11/24 11:17:00 [error] 23#23: *1 connect() to unix:/run/php/php-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php-fpm.sock:\", host: \"a\"";
    let r = rec(nginx);
    assert!(
        matches!(r.event(&mut s), JournalEvent::NginxError(m) if m.starts_with(b"2026/11/24 11:17:00 [error]"))
    );
    let e = from_journal(&r, 7, nginx, &mut s).unwrap();
    assert_eq!(e.kind, Some(EventKind::UpstreamError));
    assert_eq!(e.upstream_kind, Some(UpstreamKind::ConnectRefused));
    assert_eq!(e.time, Some(ts("2026-11-24T11:17:00Z")));
    assert_eq!((e.line, e.pid), (7, Some(123)));
    // Not an entry: another program's line that happens to say [error].
    let other = rec(b"Nov 24 11:17:00 vm nginx[123]: [error] something");
    assert_eq!(other.event(&mut s), JournalEvent::Other);

    let fpm5 = b"Nov 24 11:21:49 vm php-fpm:  [WARNING] fpm_children_bury(), line 252: [pool www] child 14226 exited on signal 15 (SIGTERM) after 7189.199345 seconds from start";
    let r = rec(fpm5);
    let e = from_journal(&r, 1, fpm5, &mut s).unwrap();
    assert_eq!(e.kind, Some(EventKind::FpmChildExit));
    assert_eq!(e.detail().signal.as_deref(), Some("SIGTERM"));
    assert_eq!(e.pid, Some(14226));
    assert_eq!(e.pool.as_deref(), Some(&b"www"[..]));

    // Counted: an error log's upstream errors inside the journal summary.
    let mut sum = JournalSummary::default();
    let loc = Loc {
        offset: 0,
        line: 1,
        lines: 1,
    };
    sum.record(rec(nginx), loc);
    sum.record(rec(fpm5), loc);
    assert_eq!(sum.nginx_lines, 1);
    assert_eq!(
        sum.nginx.upstream_errors()[0],
        (UpstreamKind::ConnectRefused, 1)
    );
    assert_eq!(sum.fpm.child_signals.get("SIGTERM"), Some(&1));
}
