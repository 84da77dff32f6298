//! The kernel log parser against the lab's OOM kill and segfault captures
//! (`testdata/kernel/`, see its `PROVENANCE.md`), cadvisor's and
//! node-problem-detector's OOM lines, with expectations written by hand from
//! reading the files; and property tests (random bytes, parallel chunks).

use baton_logparse::frame::count_lines;
use baton_logparse::kernel::{
    KernelEvent, KernelParser, KernelRecord, KernelSummary, OomDetail, OomKill, Segfault, classify,
};
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_slice};
use baton_logparse::{Loc, RecordParser, SkipReason, Zone};
use proptest::prelude::*;

macro_rules! data {
    ($p:literal) => {
        include_bytes!(concat!("../../../../testdata/kernel/", $p))
    };
}

const A_DMESG: &[u8] = data!("lab/phaseA/dmesg.txt");
const A_DMESG_T: &[u8] = data!("lab/phaseA/dmesg-T.txt");
const A_SHORT: &[u8] = data!("lab/phaseA/journal-kernel.short.txt");
const A_ISO_PRECISE: &[u8] = data!("lab/phaseA/journal-kernel.short-iso-precise.txt");
const C_DMESG: &[u8] = data!("lab/phaseC/dmesg.txt");
const C_SHORT_ISO: &[u8] = data!("lab/phaseC/journal-kernel.short-iso.txt");
const NPD: &[u8] = data!("node-problem-detector/oom_kill");
const CADVISOR: &[u8] = data!("cadvisor/oomparser_test.cases.json");

/// 2026-11-24T08:11:14Z: the lab VM's boot, to the second (11:18:02 in
/// `dmesg -T` is 11208.08 s after boot in raw `dmesg`).
const BOOT: i64 = 1_795_507_874;

/// The lab's memcg OOM kill, as read by hand from lines 87-88 of
/// phaseA `dmesg.txt`.
fn lab_kill() -> OomKill<'static> {
    OomKill {
        pid: 32570,
        process: b"php-fpm8.2",
        total_vm_kb: Some(2256072),
        anon_rss_kb: Some(1039372),
        file_rss_kb: Some(6240),
        shmem_rss_kb: Some(688),
        uid: Some(33),
        cgroup: true,
        constraint: Some(b"CONSTRAINT_MEMCG"),
        oom_memcg: Some(b"/system.slice/php8.2-fpm.service"),
        task_memcg: Some(b"/system.slice/php8.2-fpm.service"),
    }
}

/// The lab's two real segfaults (phaseC), as read by hand.
fn lab_segfault(pid: u32) -> Segfault<'static> {
    Segfault {
        process: b"php-fpm8.2",
        pid,
        addr: 0x7ffdb37d8fde,
        ip: Some(0x55803ad7bbb9),
        sp: Some(0x7ffdb37d8f90),
        error: Some(6),
        object: Some(b"php-fpm8.2"),
    }
}

/// Notable records, as the tests spell them out: (line, lines, time, event).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Kill(u32, Vec<u8>, Option<u64>, Option<Vec<u8>>),
    Invoked(Vec<u8>),
    Segv(u32, Option<Vec<u8>>),
    Detail(Option<u32>),
    Other,
}

fn ev(e: &KernelEvent<'_>) -> Ev {
    match e {
        KernelEvent::OomKill(k) => Ev::Kill(
            k.pid,
            k.process.to_vec(),
            k.anon_rss_kb,
            k.oom_memcg.map(<[u8]>::to_vec),
        ),
        KernelEvent::OomInvoked { process } => Ev::Invoked(process.to_vec()),
        KernelEvent::Segfault(s) => Ev::Segv(s.pid, s.object.map(<[u8]>::to_vec)),
        KernelEvent::OomDetail(d) => Ev::Detail(d.pid),
        _ => Ev::Other,
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Both {
    summary: KernelSummary,
    /// Every record that is not `Other`: (line, lines, rfc3339 time, event).
    rows: Vec<(u64, u32, Option<String>, Ev)>,
    /// Every record: (line, lines).
    all: Vec<(u64, u32)>,
}

impl Sink<KernelParser> for Both {
    fn record(&mut self, r: KernelRecord<'_>, loc: Loc) {
        let e = ev(&r.event);
        if e != Ev::Other {
            self.rows
                .push((loc.line, loc.lines, r.time.map(|t| t.to_rfc3339()), e));
        }
        self.all.push((loc.line, loc.lines));
        self.summary.record(r, loc);
    }
    fn append(&mut self, later: Both, shift: u64) {
        self.summary.append(later.summary, shift);
        self.rows.extend(
            later
                .rows
                .into_iter()
                .map(|(l, n, t, e)| (l + shift, n, t, e)),
        );
        self.all
            .extend(later.all.into_iter().map(|(l, n)| (l + shift, n)));
    }
}

fn sequential() -> ScanOptions {
    ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    }
}

fn scan(buf: &[u8], p: &KernelParser) -> (Both, Tally) {
    let (b, t) = scan_slice(buf, 0, p, &sequential(), &Both::default);
    assert_eq!(t.lines, count_lines(buf));
    assert_eq!(t.lines, t.parsed + t.skipped());
    (b, t)
}

fn kill_ev() -> Ev {
    Ev::Kill(
        32570,
        b"php-fpm8.2".to_vec(),
        Some(1039372),
        Some(b"/system.slice/php8.2-fpm.service".to_vec()),
    )
}

fn counts(s: &KernelSummary) -> [u64; 8] {
    [
        s.records,
        s.oom_kills,
        s.oom_kills_php_fpm,
        s.oom_invocations,
        s.segfaults,
        s.segfaults_php_fpm,
        s.non_kernel,
        s.untimed,
    ]
}

#[test]
fn lab_raw_dmesg_is_untimed() {
    let (b, t) = scan(A_DMESG, &KernelParser::new(Zone::UTC));
    // 88 lines: the `oom-kill:` line 87 and `Killed process` line 88 are one
    // record, so 87 records, none timed.
    assert_eq!((t.lines, t.parsed, t.skipped()), (88, 88, 0));
    assert_eq!(counts(&b.summary), [87, 1, 1, 1, 0, 0, 0, 87]);
    assert_eq!(b.summary.range.first, None);
    assert_eq!(
        b.rows,
        [
            (1, 1, None, Ev::Invoked(b"php-fpm8.2".to_vec())),
            (87, 2, None, kill_ev()),
        ]
    );
    // The full event of the kill.
    let mut p = KernelParser::new(Zone::UTC);
    let start = A_DMESG
        .windows(14)
        .position(|w| w == b"[11208.086683]")
        .unwrap();
    let rec = p.parse(A_DMESG[start..].trim_ascii_end()).unwrap();
    assert_eq!(rec.event, KernelEvent::OomKill(lab_kill()));
    assert_eq!(rec.uptime_us, Some(11_208_086_696));
}

#[test]
fn lab_raw_dmesg_with_boot_time() {
    let p = KernelParser::new(Zone::UTC).with_boot_time(BOOT);
    let (b, _) = scan(A_DMESG, &p);
    assert_eq!(b.summary.untimed, 0);
    assert_eq!(
        b.rows,
        [
            (
                1,
                1,
                Some("2026-11-24T11:18:02.085941+00:00".into()),
                Ev::Invoked(b"php-fpm8.2".to_vec())
            ),
            (
                87,
                2,
                Some("2026-11-24T11:18:02.086696+00:00".into()),
                kill_ev()
            ),
        ]
    );
    let r = b.summary.range;
    assert_eq!(
        r.first.unwrap().to_rfc3339(),
        "2026-11-24T11:18:02.085941+00:00"
    );
    assert_eq!(
        r.last.unwrap().to_rfc3339(),
        "2026-11-24T11:18:02.086696+00:00"
    );
}

#[test]
fn lab_dmesg_t_in_zones() {
    let (b, t) = scan(A_DMESG_T, &KernelParser::new(Zone::UTC));
    assert_eq!((t.lines, t.parsed), (88, 88));
    assert_eq!(counts(&b.summary), [87, 1, 1, 1, 0, 0, 0, 0]);
    let at = Some("2026-11-24T11:18:02+00:00".to_string());
    assert_eq!(
        b.rows,
        [
            (1, 1, at.clone(), Ev::Invoked(b"php-fpm8.2".to_vec())),
            (87, 2, at, kill_ev()),
        ]
    );
    // The same local clock read in New York (EST in November) and at +05:30.
    let ny: Zone = "America/New_York".parse().unwrap();
    let (b, _) = scan(A_DMESG_T, &KernelParser::new(ny));
    assert_eq!(
        b.summary.range.first.unwrap().to_rfc3339(),
        "2026-11-24T11:18:02-05:00"
    );
    assert_eq!(
        b.summary.range.last.unwrap().to_rfc3339_at(0),
        "2026-11-24T16:18:02+00:00"
    );
    let (b, _) = scan(A_DMESG_T, &KernelParser::new("+05:30".parse().unwrap()));
    assert_eq!(
        b.summary.range.first.unwrap().to_rfc3339_at(0),
        "2026-11-24T05:48:02+00:00"
    );
}

#[test]
fn lab_journal_short() {
    let p = KernelParser::new(Zone::UTC).with_year(2026);
    let (b, t) = scan(A_SHORT, &p);
    // 89 lines: one systemd-journald line, then the 88 kernel lines.
    assert_eq!((t.lines, t.parsed), (89, 89));
    assert_eq!(counts(&b.summary), [88, 1, 1, 1, 0, 0, 1, 0]);
    let at = Some("2026-11-24T11:18:02+00:00".to_string());
    assert_eq!(
        b.rows,
        [
            (2, 1, at.clone(), Ev::Invoked(b"php-fpm8.2".to_vec())),
            (88, 2, at, kill_ev()),
        ]
    );
    assert_eq!(
        b.summary.range.first.unwrap().to_rfc3339(),
        "2026-11-24T11:16:50+00:00"
    );
    // Without a year: parsed, untimed.
    let (b, t) = scan(A_SHORT, &KernelParser::new(Zone::UTC));
    assert_eq!(
        (t.parsed, b.summary.untimed, b.summary.oom_kills),
        (89, 88, 1)
    );
}

#[test]
fn lab_journal_short_iso_precise() {
    let (b, t) = scan(A_ISO_PRECISE, &KernelParser::new(Zone::UTC));
    assert_eq!((t.lines, t.parsed), (89, 89));
    assert_eq!(counts(&b.summary), [88, 1, 1, 1, 0, 0, 1, 0]);
    assert_eq!(
        b.rows,
        [
            (
                2,
                1,
                Some("2026-11-24T11:18:02.533281+00:00".into()),
                Ev::Invoked(b"php-fpm8.2".to_vec())
            ),
            (
                88,
                2,
                Some("2026-11-24T11:18:02.534221+00:00".into()),
                kill_ev()
            ),
        ]
    );
    assert_eq!(
        b.summary.range.first.unwrap().to_rfc3339(),
        "2026-11-24T11:16:50.314021+00:00"
    );
}

#[test]
fn lab_real_segfaults() {
    let (b, t) = scan(C_DMESG, &KernelParser::new(Zone::UTC));
    assert_eq!((t.lines, t.parsed), (4, 4));
    assert_eq!(counts(&b.summary), [4, 0, 0, 0, 2, 2, 0, 4]);
    let obj = Some(b"php-fpm8.2".to_vec());
    assert_eq!(
        b.rows,
        [
            (1, 1, None, Ev::Segv(6091, obj.clone())),
            (3, 1, None, Ev::Segv(6199, obj.clone())),
        ]
    );
    let mut p = KernelParser::new(Zone::UTC);
    let first = C_DMESG.split(|&c| c == b'\n').next().unwrap();
    assert_eq!(
        p.parse(first).unwrap().event,
        KernelEvent::Segfault(lab_segfault(6091))
    );
    let (b, t) = scan(C_SHORT_ISO, &KernelParser::new(Zone::UTC));
    assert_eq!((t.lines, t.parsed), (4, 4));
    assert_eq!(counts(&b.summary), [4, 0, 0, 0, 2, 2, 0, 0]);
    assert_eq!(
        b.rows,
        [
            (
                1,
                1,
                Some("2026-11-24T11:20:18+00:00".into()),
                Ev::Segv(6091, obj.clone())
            ),
            (
                3,
                1,
                Some("2026-11-24T11:20:19+00:00".into()),
                Ev::Segv(6199, obj)
            ),
        ]
    );
}

#[test]
fn node_problem_detector_old_wording() {
    let lines: Vec<&[u8]> = NPD.trim_ascii_end().split(|&c| c == b'\n').collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        classify(lines[0]),
        KernelEvent::OomSelect {
            pid: 1012,
            process: b"heapster",
            score: Some(1035)
        }
    );
    assert_eq!(
        classify(lines[1]),
        KernelEvent::OomKill(OomKill {
            pid: 1012,
            process: b"heapster",
            total_vm_kb: Some(327128),
            anon_rss_kb: Some(306328),
            file_rss_kb: Some(11132),
            shmem_rss_kb: Some(12345),
            ..OomKill::default()
        })
    );
    // Bare, as `dmesg -t` prints them: both lines are kernel records,
    // untimed, with their events.
    let mut p = KernelParser::new(Zone::UTC);
    for l in &lines {
        let r = p.parse(l).unwrap();
        assert_eq!((r.time, r.ident), (None, None));
        assert_eq!(r.event, classify(l));
    }
    assert_eq!(
        p.parse(b"Some other bare text"),
        Err(SkipReason::Unrecognized)
    );
    // Counted once.
    let mut s = KernelSummary::default();
    for l in &lines {
        s.add_event(&classify(l), None);
    }
    assert_eq!(counts(&s), [2, 1, 0, 0, 0, 0, 0, 2]);
}

#[test]
fn cadvisor_cases() {
    let doc: serde_json::Value = serde_json::from_slice(CADVISOR).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let mut p = KernelParser::new(Zone::UTC).with_year(2026);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let line = c["line"].as_str().unwrap().as_bytes();
        let want = &c["expected"];
        // Whole syslog lines are kernel records with their time; bare
        // messages (cAdvisor matches them without a prefix) are untimed
        // records when the classifier knows them.
        let event = match p.parse(line) {
            Ok(r) => {
                match r.ident {
                    Some(ident) => assert_eq!(ident, b"kernel", "{name}"),
                    None => {
                        assert!(r.time.is_none(), "{name}");
                        assert_eq!(r.message, line, "{name}");
                    }
                }
                r.event
            }
            Err(_) => classify(line),
        };
        let s = |k: &str| want.get(k).and_then(|v| v.as_str()).map(str::as_bytes);
        let pid = want.get("pid").and_then(|v| v.as_u64()).map(|v| v as u32);
        match event {
            KernelEvent::OomKill(k) => {
                assert_eq!(Some(k.pid), pid, "{name}");
                assert_eq!(Some(k.process), s("process_name"), "{name}");
                assert_eq!(k.anon_rss_kb, Some(1414008), "{name}");
            }
            KernelEvent::OomDetail(OomDetail {
                constraint,
                oom_memcg,
                task_memcg,
                task,
                pid: dpid,
                ..
            }) => {
                assert_eq!(dpid, pid, "{name}");
                assert_eq!(task, s("process_name"), "{name}");
                assert_eq!(task_memcg, s("container_name"), "{name}");
                assert_eq!(oom_memcg, s("victim_container_name"), "{name}");
                assert_eq!(constraint, s("constraint"), "{name}");
            }
            KernelEvent::OomCgroup {
                task_memcg,
                oom_memcg,
            } => {
                assert_eq!(Some(task_memcg), s("container_name"), "{name}");
                assert_eq!(Some(oom_memcg), s("victim_container_name"), "{name}");
            }
            KernelEvent::OomInvoked { process } => {
                assert_eq!(want["is_oom_start"], true, "{name}");
                assert_eq!(process, b"ruby", "{name}");
            }
            e => panic!("{name}: {e:?}"),
        }
    }
}

#[test]
fn skipped_lines_are_counted() {
    let buf =
        b"[1.5] ok\n\ngarbage here\n[Tue Nov 24 11:18:02] x\r\nNov 24 11:18:02 vm kernel: fine";
    let (b, t) = scan(buf, &KernelParser::new(Zone::UTC).with_year(2026));
    assert_eq!((t.lines, t.parsed, t.skipped()), (5, 2, 3));
    assert_eq!(t.skipped_for(SkipReason::Empty), 1);
    assert_eq!(t.skipped_for(SkipReason::Unrecognized), 1);
    assert_eq!(t.skipped_for(SkipReason::BadTimestamp), 1);
    assert_eq!(b.all, [(1, 1), (5, 1)]);
}

/// Found by `cargo fuzz run kernel` (`fuzz/regressions/kernel/`): a
/// `dmesg -T` stamp with a seven-digit year overflowed microseconds since
/// the epoch; it is now a bad timestamp.
#[test]
fn fuzz_dmesg_t_year_overflow() {
    let buf = include_bytes!("../../../../fuzz/regressions/kernel/dmesg-t-year-overflow");
    assert_eq!(&buf[..], b"[1\xff0\n[Tue Nov 2 11:18:02 2026026]02 1");
    for p in [
        KernelParser::new(Zone::UTC),
        KernelParser::new(Zone::Tz(chrono_tz::Europe::Berlin)),
    ] {
        let (b, t) = scan(buf, &p);
        assert_eq!((t.lines, t.parsed, t.skipped()), (2, 0, 2));
        assert_eq!(t.skipped_for(SkipReason::Truncated), 1);
        assert_eq!(t.skipped_for(SkipReason::BadTimestamp), 1);
        assert!(b.all.is_empty());
        assert_eq!(
            p.clone().parse(b"[Tue Nov 2 11:18:02 2026026]02 1").err(),
            Some(SkipReason::BadTimestamp)
        );
    }
}

/// Lines to build random inputs from: every line of the lab files plus a
/// few broken ones.
fn pool() -> Vec<&'static [u8]> {
    let mut v: Vec<&'static [u8]> = Vec::new();
    for f in [
        A_DMESG,
        A_DMESG_T,
        A_SHORT,
        A_ISO_PRECISE,
        C_DMESG,
        C_SHORT_ISO,
        NPD,
    ] {
        v.extend(f.trim_ascii_end().split(|&c| c == b'\n'));
    }
    v.extend([
        &b""[..],
        b"garbage",
        b"[11208.0866",
        b"Killed process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB",
        b"[5.0] oom-kill:constraint=CONSTRAINT_NONE,task=x,pid=1,uid=0",
    ]);
    v
}

fn build(picks: &[usize]) -> Vec<u8> {
    let pool = pool();
    let mut buf = Vec::new();
    for &i in picks {
        buf.extend_from_slice(pool[i % pool.len()]);
        buf.push(b'\n');
    }
    buf
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut p = KernelParser::new(Zone::UTC).with_year(2026).with_boot_time(0);
        let _ = p.parse(&bytes);
        let _ = classify(&bytes);
        let _ = p.continues(&bytes, &bytes);
        let (_, t) = scan(&bytes, &p);
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
    }

    #[test]
    fn random_text_never_panics(
        lines in proptest::collection::vec("(\\[ *[0-9.]{0,8}\\] ?|\\[Tue Nov [0-9 ]{0,3}|Nov [0-9 ]{0,12}|2026-11-2|<[0-9]>)?[a-zA-Z0-9()\\[\\]:,=. -]{0,40}", 0..30),
    ) {
        let buf = lines.join("\n");
        let (_, t) = scan(buf.as_bytes(), &KernelParser::new(Zone::UTC).with_year(2026));
        prop_assert_eq!(t.lines, count_lines(buf.as_bytes()));
    }

    #[test]
    fn parallel_chunks_equal_sequential(picks in proptest::collection::vec(0usize..10_000, 20..400)) {
        let buf = build(&picks);
        let p = KernelParser::new(Zone::UTC).with_year(2026);
        let (a, ta) = scan(&buf, &p);
        let par = ScanOptions { chunk_size: 1, parallel: true, ..ScanOptions::default() };
        let (b, tb) = scan_slice(&buf, 0, &p, &par, &Both::default);
        prop_assert_eq!(&ta, &tb);
        prop_assert_eq!(&a, &b);
        let (c, _) = scan_slice(&buf, 0, &p, &par, &KernelSummary::default);
        prop_assert_eq!(&a.summary, &c);
    }
}
