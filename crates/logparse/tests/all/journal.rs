//! Journal / syslog conformance: vendored lab and peer files with counts
//! written by hand from reading them (see `testdata/journal/PROVENANCE.md`),
//! hand-written rollover and binary-export files, and property tests.

use baton_logparse::frame::{Loc, RecordParser};
use baton_logparse::journal::{JournalForm, JournalParser, JournalRecord, JournalSummary, Source};
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_slice};
use baton_logparse::time::{Timestamp, Zone, parse_iso8601};
use proptest::prelude::*;

const B_SHORT: &[u8] = include_bytes!("../../../../testdata/journal/journal.phaseB.short.txt");
const B_ISO: &[u8] =
    include_bytes!("../../../../testdata/journal/journal.phaseB.short-iso-precise.txt");
const B_JSON: &[u8] = include_bytes!("../../../../testdata/journal/journal.phaseB.json.jsonl");
const B_EXPORT: &[u8] =
    include_bytes!("../../../../testdata/journal/journal.phaseB.php-fpm8.2.export");
const A_SHORT: &[u8] =
    include_bytes!("../../../../testdata/journal/phaseA.journal-kernel.short.txt");
const A_ISO: &[u8] =
    include_bytes!("../../../../testdata/journal/phaseA.journal-kernel.short-iso-precise.txt");
const A_JSON: &[u8] = include_bytes!("../../../../testdata/journal/phaseA.journal-kernel.jsonl");
const C_ISO: &[u8] =
    include_bytes!("../../../../testdata/journal/phaseC.journal-kernel.short-iso.txt");
const LNAV_JSON: &[u8] = include_bytes!("../../../../testdata/journal/lnav.logfile_journald.json");
const LNAV_SYSLOG: &[u8] = include_bytes!("../../../../testdata/journal/lnav.syslog-samples.log");
const CROWDSEC: &[u8] =
    include_bytes!("../../../../testdata/journal/crowdsec.pfsense-rfc5424-nginx.log");
const ROLLOVER: &[u8] = include_bytes!("../../../../testdata/journal/rollover.short.txt");
const BINARY: &[u8] = include_bytes!("../../../../testdata/journal/binary.export");

fn ts(s: &str) -> Timestamp {
    parse_iso8601(s.as_bytes()).unwrap()
}

fn opts(parallel: bool) -> ScanOptions {
    ScanOptions {
        chunk_size: 4096,
        parallel,
        ..ScanOptions::default()
    }
}

fn summarize(buf: &[u8], p: &JournalParser) -> (JournalSummary, Tally) {
    let (s, t) = scan_slice(buf, 0, p, &opts(false), &JournalSummary::default);
    // Every path gives the same answer: parallel 4 KiB chunks too.
    let (s2, t2) = scan_slice(buf, 0, p, &opts(true), &JournalSummary::default);
    assert_eq!(s, s2);
    assert_eq!(t, t2);
    assert_eq!(t.lines, t.parsed + t.skipped());
    (s, t)
}

/// One parsed record, owned.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    line: u64,
    form: JournalForm,
    time: Option<Timestamp>,
    host: Vec<u8>,
    identifier: Vec<u8>,
    pid: Option<u32>,
    priority: Option<u8>,
    message: Vec<u8>,
}

#[derive(Default)]
struct Rows(Vec<Row>);

impl Sink<JournalParser> for Rows {
    fn record(&mut self, r: JournalRecord<'_>, loc: Loc) {
        self.0.push(Row {
            line: loc.line,
            form: r.form,
            time: r.time,
            host: r.host.to_vec(),
            identifier: r.identifier.to_vec(),
            pid: r.pid,
            priority: r.priority,
            message: r.message_text().into_owned(),
        });
    }
    fn append(&mut self, later: Rows, shift: u64) {
        self.0.extend(later.0.into_iter().map(|mut r| {
            r.line += shift;
            r
        }));
    }
}

fn rows(buf: &[u8], p: &JournalParser) -> Vec<Row> {
    scan_slice(buf, 0, p, &opts(false), &Rows::default).0.0
}

fn utc(year: i32) -> JournalParser {
    JournalParser::new(Zone::UTC, year)
}

fn ids(s: &JournalSummary) -> Vec<(String, u64)> {
    s.by_identifier
        .iter()
        .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
        .collect()
}

fn levels(s: &JournalSummary) -> Vec<(String, u64)> {
    s.fpm_levels
        .iter()
        .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
        .collect()
}

/// Phase B: 62 php-fpm8.2 lines (43 `[NOTICE]`, 16 `[WARNING]`, 3
/// `[24-Nov-2026 11:19:35] ERROR:` from the stdout-stream attempt of
/// ground truth row B2), 112 nginx lines, 2 kernel lines (one `php[5532]:
/// segfault at`, one `Code:`). The text forms have one 4-line record (the
/// nginx `PHP Fatal error` with 3 indented continuation lines).
fn check_phase_b(s: &JournalSummary) {
    assert_eq!(s.records, 176);
    assert_eq!((s.fpm_lines, s.kernel_lines, s.other_lines), (62, 2, 112));
    assert_eq!(
        ids(s),
        [
            ("kernel".into(), 2),
            ("nginx".into(), 112),
            ("php-fpm8.2".into(), 62)
        ]
    );
    assert_eq!(
        levels(s),
        [
            ("ERROR".into(), 3),
            ("NOTICE".into(), 43),
            ("WARNING".into(), 16)
        ]
    );
    assert_eq!(s.fpm_unleveled, 0);
    assert_eq!((s.kernel.records, s.kernel.segfaults), (2, 1));
    assert_eq!(s.kernel.segfaults_php_fpm, 1);
    assert_eq!(s.kernel.oom_kills, 0);
    assert_eq!(s.units.restarts, 0);
    assert_eq!(s.untimed, 0);
}

#[test]
fn phase_b_short() {
    let (s, t) = summarize(B_SHORT, &utc(2026).with_form(JournalForm::Short));
    assert_eq!((t.lines, t.parsed, t.skipped()), (179, 179, 0));
    check_phase_b(&s);
    assert_eq!(s.range.first, Some(ts("2026-11-24T11:19:08Z")));
    assert_eq!(s.range.last, Some(ts("2026-11-24T11:20:05Z")));
    assert_eq!(s.kernel.range.first, Some(ts("2026-11-24T11:20:05Z")));
    // The same through the auto-detecting parser.
    assert_eq!(summarize(B_SHORT, &utc(2026)).0, s);
    let r = rows(B_SHORT, &utc(2026));
    // Line 15 opens the 4-line fatal-error record; line 19 follows it.
    let fatal = r.iter().find(|r| r.line == 15).unwrap();
    assert!(fatal.message.ends_with(b"host: \"127.0.0.1:8080\""));
    assert_eq!(fatal.message.iter().filter(|&&b| b == b'\n').count(), 3);
    assert_eq!(r[15].line, 19);
}

#[test]
fn phase_b_iso_json_export_agree() {
    let (s, t) = summarize(B_ISO, &utc(1970).with_form(JournalForm::ShortIsoPrecise));
    assert_eq!((t.lines, t.parsed), (179, 179));
    check_phase_b(&s);
    assert_eq!(s.range.first, Some(ts("2026-11-24T11:19:08.297711Z")));
    assert_eq!(s.range.last, Some(ts("2026-11-24T11:20:05.221414Z")));

    let (j, t) = summarize(B_JSON, &utc(1970).with_form(JournalForm::Json));
    assert_eq!((t.lines, t.parsed), (176, 176));
    check_phase_b(&j);
    assert_eq!(j.range, s.range);
    // journalctl prints _SOURCE_REALTIME_TIMESTAMP (else __REALTIME_TIMESTAMP):
    // record by record, the JSON and the text form have the same instants,
    // identifiers, pids and hosts.
    let a = rows(B_ISO, &utc(1970));
    let b = rows(B_JSON, &utc(1970));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.time, &x.identifier, x.pid, &x.host),
            (y.time, &y.identifier, y.pid, &y.host)
        );
    }
    // The JSON decodes `\"` in messages: the slow request of text line 45.
    assert_eq!(
        b[41].message,
        b"[WARNING] [pool www] child 3400, script '/var/www/shop/public/slow.php' (request: \"GET /slow.php?s=4&n=8\") executing too slow (1.271949 sec), logging"
    );

    // The export holds only the 62 php-fpm8.2 entries, 1417 lines in all.
    let (e, t) = summarize(B_EXPORT, &utc(1970).with_form(JournalForm::Export));
    assert_eq!((t.lines, t.parsed, t.skipped()), (1417, 1417, 0));
    assert_eq!(
        (e.records, e.fpm_lines, e.other_lines, e.kernel_lines),
        (62, 62, 0, 0)
    );
    assert_eq!(
        levels(&e),
        [
            ("ERROR".into(), 3),
            ("NOTICE".into(), 43),
            ("WARNING".into(), 16)
        ]
    );
    assert_eq!(e.range.first, Some(ts("2026-11-24T11:19:08.297711Z")));
    assert_eq!(summarize(B_EXPORT, &utc(1970)).0, e);
    let fpm_times: Vec<_> = a
        .iter()
        .filter(|r| r.identifier == b"php-fpm8.2")
        .map(|r| r.time)
        .collect();
    let exp_times: Vec<_> = rows(B_EXPORT, &utc(1970)).iter().map(|r| r.time).collect();
    assert_eq!(fpm_times, exp_times);
}

/// Phase A: `journalctl -k`: one `systemd-journald[24423]` line at
/// 11:16:50, then 88 kernel lines at 11:18:02 holding one OOM report
/// (`invoked oom-killer`, ..., `Killed process 32570 (php-fpm8.2)`).
fn check_phase_a(s: &JournalSummary) {
    assert_eq!(s.records, 89);
    assert_eq!((s.kernel_lines, s.other_lines, s.fpm_lines), (88, 1, 0));
    assert_eq!(
        ids(s),
        [("kernel".into(), 88), ("systemd-journald".into(), 1)]
    );
    assert_eq!((s.kernel.records, s.kernel.oom_kills), (88, 1));
    assert_eq!(
        (s.kernel.oom_kills_php_fpm, s.kernel.oom_invocations),
        (1, 1)
    );
    assert_eq!(s.kernel.segfaults, 0);
}

#[test]
fn phase_a_kernel_forms() {
    let (s, t) = summarize(A_SHORT, &utc(2026));
    assert_eq!((t.lines, t.parsed), (89, 89));
    check_phase_a(&s);
    assert_eq!(s.range.first, Some(ts("2026-11-24T11:16:50Z")));
    assert_eq!(s.range.last, Some(ts("2026-11-24T11:18:02Z")));
    assert_eq!(s.kernel.range.first, Some(ts("2026-11-24T11:18:02Z")));
    for buf in [A_ISO, A_JSON] {
        let (s, t) = summarize(buf, &utc(1970));
        assert_eq!((t.lines, t.parsed), (89, 89));
        check_phase_a(&s);
        assert_eq!(s.range.first, Some(ts("2026-11-24T11:16:50.314021Z")));
        assert_eq!(s.range.last, Some(ts("2026-11-24T11:18:02.534221Z")));
        assert_eq!(
            s.kernel.range.first,
            Some(ts("2026-11-24T11:18:02.533281Z"))
        );
    }
}

#[test]
fn phase_c_real_segfaults() {
    let (s, t) = summarize(C_ISO, &utc(1970));
    assert_eq!((t.lines, t.parsed), (4, 4));
    assert_eq!(
        (
            s.kernel_lines,
            s.kernel.segfaults,
            s.kernel.segfaults_php_fpm
        ),
        (4, 2, 2)
    );
    assert_eq!(s.by_form.get("short-iso"), Some(&4));
    assert_eq!(s.range.first, Some(ts("2026-11-24T11:20:18Z")));
    assert_eq!(s.range.last, Some(ts("2026-11-24T11:20:19Z")));
}

#[test]
fn lnav_journald_json() {
    let (s, t) = summarize(LNAV_JSON, &utc(1970));
    assert_eq!((t.lines, t.parsed), (2, 2));
    assert_eq!((s.records, s.other_lines), (2, 2));
    assert_eq!(ids(&s), [("python".into(), 2)]);
    let r = rows(LNAV_JSON, &utc(1970));
    assert_eq!(r[0].time, Some(ts("2018-08-21T14:04:21.221373Z")));
    assert_eq!((r[0].priority, r[1].priority), (Some(1), Some(6)));
    assert_eq!(r[0].pid, Some(184));
    assert_eq!(r[0].host, b"imx6ul-medusa");
    assert_eq!(r[1].message, b"GPS Reference latitude: 46.908706667");
}

#[test]
fn lnav_syslog_samples() {
    let (s, t) = summarize(LNAV_SYSLOG, &utc(2017));
    assert_eq!((t.lines, t.parsed), (9, 9));
    assert_eq!(s.by_form.get("short"), Some(&5));
    assert_eq!(s.by_form.get("rfc5424"), Some(&3));
    assert_eq!(s.by_form.get("short-iso-precise"), Some(&1));
    assert_eq!(
        ids(&s),
        [
            ("".into(), 1),
            ("CRON".into(), 1),
            ("Setup Assistant".into(), 1),
            ("com.apple.xpc.launchd".into(), 1),
            ("configd".into(), 1),
            ("dhclient".into(), 1),
            ("rsyslogd".into(), 2),
            ("syslogd".into(), 1),
        ]
    );
    assert_eq!(s.range.first, Some(ts("2017-04-27T07:50:47.381967+02:00")));
    assert_eq!(s.range.last, Some(ts("2025-08-31T09:36:55.418891-07:00")));
    let r = rows(LNAV_SYSLOG, &utc(2017));
    // `Aug  1` then `Jan  4`: a New Year.
    assert_eq!(r[6].time, Some(ts("2017-08-01T00:00:03Z")));
    assert_eq!(r[7].time, Some(ts("2018-01-04T10:23:26Z")));
    assert_eq!(
        (r[7].pid, &r[7].message[..]),
        (Some(1173), &b"Creating connection"[..])
    );
    assert_eq!(r[5].pid, Some(1472));
    assert_eq!(
        r[5].message,
        b" (root) CMD (  [ -x /usr/lib/php5/sessionclean ] && /usr/lib/php5/sessionclean)"
    );
    assert_eq!(r[0].message, b"1.4.1: restart.");
}

#[test]
fn crowdsec_rfc5424_nginx() {
    let (s, t) = summarize(CROWDSEC, &utc(1970));
    assert_eq!((t.lines, t.parsed, t.skipped()), (2, 1, 1));
    assert_eq!(s.other_lines, 1);
    let r = &rows(CROWDSEC, &utc(1970))[0];
    assert_eq!(r.form, JournalForm::Rfc5424);
    assert_eq!(r.time, Some(ts("2025-11-05T20:47:03Z")));
    assert_eq!(
        (&r.host[..], &r.identifier[..], r.pid, r.priority),
        (&b"firewall.lan"[..], &b"nginx"[..], None, Some(3))
    );
    assert!(
        r.message
            .starts_with(b"2025/11/05 20:47:03 [error] 24537#230441: *914 open()")
    );
    assert_eq!(Source::of(&r.identifier), Source::Nginx);
}

/// Hand-written: Dec 31 23:59 → Jan 1 00:01 with an FPM restart under
/// systemd (Stopping, Stopped, Starting, Started) and a kernel segfault.
#[test]
fn rollover_file_and_zone() {
    let berlin: Zone = "Europe/Berlin".parse().unwrap();
    let (s, t) = summarize(ROLLOVER, &JournalParser::new(berlin, 2025));
    assert_eq!((t.lines, t.parsed), (11, 11));
    assert_eq!((s.fpm_lines, s.kernel_lines, s.other_lines), (5, 1, 5));
    assert_eq!(s.range.first, Some(ts("2025-12-31T23:59:00+01:00")));
    assert_eq!(s.range.last, Some(ts("2026-01-01T00:01:00+01:00")));
    assert_eq!(
        s.range.last.unwrap().to_rfc3339_at(0),
        "2025-12-31T23:01:00+00:00"
    );
    assert_eq!(s.kernel.segfaults_php_fpm, 1);
    let u = s.units;
    assert_eq!(
        (u.stopping, u.stopped, u.starting, u.started, u.failed),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(u.restarts, 1);
    // Fixed offsets and UTC.
    let (s, _) = summarize(ROLLOVER, &JournalParser::new(Zone::Fixed(-5 * 3600), 2025));
    assert_eq!(s.range.last, Some(ts("2026-01-01T00:01:00-05:00")));
    let r = rows(ROLLOVER, &utc(2025));
    assert_eq!(r[1].time, Some(ts("2025-12-31T23:59:59Z")));
    assert_eq!(r[2].time, Some(ts("2026-01-01T00:00:00Z")));
    // Cut between the two years: the later part is re-dated on append.
    let cut = ROLLOVER.windows(5).position(|w| w == b"\nJan ").unwrap() + 1;
    let p = utc(2025);
    let (mut a, _) = scan_slice(
        &ROLLOVER[..cut],
        0,
        &p,
        &opts(false),
        &JournalSummary::default,
    );
    let (b, _) = scan_slice(
        &ROLLOVER[cut..],
        0,
        &p,
        &opts(false),
        &JournalSummary::default,
    );
    assert_eq!(b.range.first, Some(ts("2025-01-01T00:00:00Z")));
    a.append(b, 2);
    assert_eq!(a, summarize(ROLLOVER, &p).0);
    assert_eq!(a.range.last, Some(ts("2026-01-01T00:01:00Z")));
}

/// Hand-written export: a binary MESSAGE whose length (10) is itself a
/// `\n` byte and whose data holds `\n`; a binary MESSAGE holding a blank
/// line, a `X=y` line and a 0xff byte; a systemd `UNIT=` entry.
#[test]
fn binary_export() {
    for p in [utc(1970), utc(1970).with_form(JournalForm::Export)] {
        let (s, t) = summarize(BINARY, &p);
        assert_eq!((t.lines, t.parsed, t.skipped()), (30, 30, 0));
        assert_eq!((s.records, s.fpm_lines, s.other_lines), (3, 2, 1));
        assert_eq!(levels(&s), [("WARNING".into(), 1)]);
        assert_eq!(s.fpm_unleveled, 1);
        assert_eq!(s.units.stopping, 1);
        assert_eq!(s.range.first, Some(ts("2025-12-31T23:59:59Z")));
        assert_eq!(s.range.last, Some(ts("2026-01-01T00:00:01Z")));
        let r = rows(BINARY, &p);
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].line, r[1].line, r[2].line), (1, 13, 24));
        assert_eq!(r[0].message, b"line1\nline");
        assert_eq!(
            r[1].message,
            b"[WARNING] [pool www] child 7 exited on signal 11 (SIGSEGV)\n\nX=y\n\xff"
        );
        assert_eq!(
            (r[1].pid, r[1].time),
            (Some(20811), Some(ts("2026-01-01T00:00:00Z")))
        );
    }
}

// ---------------------------------------------------------------------
// Property tests.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A short-format journal from 2025-12-01 with steps of 2..=8 days (so at
/// least 400 days: two New Years), and the true instants in UTC.
fn journal(steps: &[(u8, u32, u8)]) -> (Vec<u8>, Vec<i64>) {
    let mut out = Vec::new();
    let mut truth = Vec::new();
    let mut day = baton_logparse::time::days_from_civil(2025, 12, 1);
    for &(step, secs, kind) in steps {
        day += step as i64;
        let secs = secs % 86_400;
        let (y, m, d) = civil(day);
        let line = match kind % 5 {
            0 => {
                "php-fpm8.2[3399]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it"
            }
            1 => {
                "kernel: php-fpm8.2[6091]: segfault at 0 ip 0 sp 0 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000]"
            }
            2 => "systemd[1]: Stopping php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager...",
            3 => "systemd[1]: Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.",
            _ => "nginx[3523]: 2026/11/24 11:19:09 [notice] 3523#3523: x\n    continued",
        };
        out.extend_from_slice(
            format!(
                "{} {:2} {:02}:{:02}:{:02} vm {line}\n",
                MONTHS[m as usize - 1],
                d,
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
            .as_bytes(),
        );
        let _ = y;
        truth.push(day * 86_400 + secs as i64);
    }
    (out, truth)
}

fn civil(days: i64) -> (i64, u32, u32) {
    // Walk from 1970 by years then months (test oracle, not the parser's).
    let mut y = 1970i64;
    let mut d = days;
    loop {
        let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        };
        if d < len {
            break;
        }
        d -= len;
        y += 1;
    }
    let mut m = 1u32;
    loop {
        let len = baton_logparse::time::days_in_month(y, m) as i64;
        if d < len {
            return (y, m, d as u32 + 1);
        }
        d -= len;
        m += 1;
    }
}

fn zone_of(i: u8) -> Zone {
    match i % 4 {
        0 => Zone::UTC,
        1 => Zone::Fixed(5 * 3600 + 1800),
        2 => "Europe/Berlin".parse().unwrap(),
        _ => "America/New_York".parse().unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn chunked_equals_sequential_across_two_new_years(
        steps in proptest::collection::vec((2u8..=8, 0u32..86_400, 0u8..5), 60..120),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        z in 0u8..4,
    ) {
        let (buf, truth) = journal(&steps);
        let zone = zone_of(z);
        let p = JournalParser::new(zone, 2025);
        let seq_opts = ScanOptions { parallel: false, ..ScanOptions::default() };
        let (seq, seq_t) = scan_slice(&buf, 0, &p, &seq_opts, &JournalSummary::default);
        // Line-boundary cuts at random record starts.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(buf.windows(2).enumerate().filter(|(_, w)| w[0] == b'\n' && w[1] != b' ').map(|(i, _)| i + 1))
            .collect();
        let mut at: Vec<usize> = cuts.iter().map(|i| starts[i.index(starts.len())]).collect();
        at.push(0);
        at.push(buf.len());
        at.sort_unstable();
        at.dedup();
        let mut merged: Option<(JournalSummary, Tally)> = None;
        for w in at.windows(2) {
            let (s, t) = scan_slice(&buf[w[0]..w[1]], 0, &p, &seq_opts, &JournalSummary::default);
            match &mut merged {
                None => merged = Some((s, t)),
                Some((m, mt)) => {
                    m.append(s, mt.lines);
                    mt.append(t);
                }
            }
        }
        let (chunked, chunked_t) = merged.unwrap();
        prop_assert_eq!(&chunked, &seq);
        prop_assert_eq!(chunked_t.parsed, seq_t.parsed);
        // The driver's own parallel chunks agree too.
        let (par, _) = scan_slice(&buf, 0, &p, &opts(true), &JournalSummary::default);
        prop_assert_eq!(&par, &seq);
        // And the dates are the true ones: the local wall clock in the zone.
        let first = seq.range.first.unwrap();
        let last = seq.range.last.unwrap();
        prop_assert_eq!(first.unix_secs() + first.offset_s as i64, truth[0]);
        prop_assert_eq!(last.unix_secs() + last.offset_s as i64, *truth.last().unwrap());
        prop_assert_eq!(seq_t.lines, seq_t.parsed);
    }

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..600), f in 0usize..8) {
        let forms = [
            None,
            Some(JournalForm::Short),
            Some(JournalForm::ShortIso),
            Some(JournalForm::Json),
            Some(JournalForm::Export),
            Some(JournalForm::Rfc5424),
            Some(JournalForm::ShortPrecise),
            Some(JournalForm::Marker),
        ];
        let mut p = utc(2026);
        if let Some(form) = forms[f] {
            p = p.with_form(form);
        }
        let (_, t) = scan_slice(&buf, 0, &p, &opts(false), &JournalSummary::default);
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
        let _ = p.clone().parse(&buf);
        let _ = p.continues(&buf, &buf);
        let _ = baton_logparse::journal::looks_like(&buf);
    }

    #[test]
    fn mangled_journal_lines_never_panic(
        i in 0usize..5, cut in 0usize..400, byte in any::<u8>(), pos in 0usize..400,
    ) {
        let srcs: [&[u8]; 5] = [B_SHORT, B_JSON, B_EXPORT, LNAV_SYSLOG, BINARY];
        let src = srcs[i];
        let mut v = src[..src.len().min(2000)].to_vec();
        if !v.is_empty() {
            let k = pos % v.len();
            v[k] = byte;
            v.truncate(v.len() - cut % v.len());
        }
        let (_, t) = scan_slice(&v, 0, &utc(2026), &opts(false), &JournalSummary::default);
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
    }
}

/// The kernel's OOM report carried by the journal gives the memory its
/// memory cgroup was limited to, as the kernel log does.
#[test]
fn an_oom_report_in_the_journal_gives_the_memory() {
    let buf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kernel/lab/phaseA/journal-kernel.short-iso-precise.txt"
    ))
    .unwrap();
    let (s, _) = summarize(&buf, &JournalParser::new(Zone::UTC, 2026));
    assert!(s.kernel.oom_kills > 0);
    assert_eq!(s.kernel.memory_bytes, Some(1 << 30));
    assert!(s.kernel.memory_is_cgroup);
}
