//! Hostile input for the parsers other than nginx's (php-fpm log and
//! slowlog, journal forms, kernel, Cloudflare): a valid record between
//! garbage lines is still parsed into the same record at the same line, and
//! `lines = parsed + skipped` holds for any bytes, scanned sequentially or
//! in parallel chunks.

use std::fmt::Debug;
use std::path::Path;

use baton_logparse::cloudflare::CloudflareParser;
use baton_logparse::fpm::FpmLogParser;
use baton_logparse::fpm::slowlog::SlowlogParser;
use baton_logparse::journal::{JournalForm, JournalParser};
use baton_logparse::kernel::KernelParser;
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_slice};
use baton_logparse::{Loc, RecordParser, Zone};
use proptest::prelude::*;

/// Every record: its first line, how many lines, its fields (`Debug`) and raw bytes.
#[derive(Default, Debug)]
struct Keep(Vec<(u64, u32, String, Vec<u8>)>);

impl<P: RecordParser> Sink<P> for Keep
where
    for<'a> P::Record<'a>: Debug,
{
    fn record(&mut self, r: P::Record<'_>, loc: Loc) {
        self.0
            .push((loc.line, loc.lines, format!("{r:?}"), Vec::new()));
    }
    fn record_raw(&mut self, r: P::Record<'_>, loc: Loc, raw: &[u8]) {
        self.0
            .push((loc.line, loc.lines, format!("{r:?}"), raw.to_vec()));
    }
    fn append(&mut self, later: Keep, shift: u64) {
        self.0.extend(later.0.into_iter().map(|mut r| {
            r.0 += shift;
            r
        }));
    }
}

fn sequential() -> ScanOptions {
    ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    }
}

fn scan<P>(buf: &[u8], p: &P, opts: &ScanOptions) -> (Keep, Tally)
where
    P: RecordParser,
    for<'a> P::Record<'a>: Debug,
{
    scan_slice(buf, 0, p, opts, &Keep::default)
}

/// Physical lines: `\n` bytes plus a non-empty unterminated tail.
fn count_lines(buf: &[u8]) -> u64 {
    let n = buf.iter().filter(|&&b| b == b'\n').count() as u64;
    n + u64::from(!buf.is_empty() && buf.last() != Some(&b'\n'))
}

fn check_tally(t: &Tally, buf: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(t.lines, t.parsed + t.skipped());
    prop_assert_eq!(t.lines, count_lines(buf));
    prop_assert_eq!(t.bytes, buf.len() as u64);
    Ok(())
}

fn testdata(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The records of `files` that a fresh parser reads alone into one record
/// spanning all their lines: (raw bytes, fields read alone).
fn valid_records<P>(p: &P, files: &[&str]) -> Vec<(Vec<u8>, String)>
where
    P: RecordParser,
    for<'a> P::Record<'a>: Debug,
{
    let mut out = Vec::new();
    for f in files {
        let (keep, _) = scan(&testdata(f), p, &sequential());
        for (_, lines, _, raw) in keep.0 {
            let first = raw.split(|&b| b == b'\n').next().unwrap_or(&[]);
            if !p.is_record_start(first) || raw.contains(&0) {
                continue;
            }
            let (alone, t) = scan(&raw, p, &sequential());
            // (An export record's closing blank line is not in its raw bytes.)
            if let [(1, n, fields, _)] = &alone.0[..]
                && (*n == lines || *n + 1 == lines && raw.ends_with(b"\n"))
                && t.parsed == u64::from(*n)
            {
                out.push((raw, fields.clone()));
            }
        }
    }
    assert!(out.len() >= 5, "{files:?}: only {} records", out.len());
    out
}

/// A garbage line: random bytes, random text, or a valid record's first
/// line cut short (as a full disk or a rotation leaves it), never holding
/// a line end.
fn garbage_line(cut_from: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = cut_from.len().max(1);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..120),
        "[ -~]{0,100}".prop_map(String::into_bytes),
        (0..n).prop_map(move |k| cut_from[..k.min(cut_from.len())].to_vec()),
        Just(vec![0u8; 64]),
        Just(b"\xef\xbb\xbf\xff\xfe\r".to_vec()),
    ]
    .prop_map(|mut l| {
        l.retain(|&b| b != b'\n');
        l
    })
}

/// A record from `pool` with garbage lines before and after it.
fn embedded(pool: Vec<(Vec<u8>, String)>) -> impl Strategy<Value = (usize, Vec<Vec<u8>>, usize)> {
    (0..pool.len()).prop_flat_map(move |i| {
        let first = pool[i].0.split(|&b| b == b'\n').next().unwrap().to_vec();
        (
            Just(i),
            proptest::collection::vec(garbage_line(first), 0..8),
            0usize..8,
        )
    })
}

/// The record `pool[i]` with `garbage[..before]` before it and the rest
/// after it still parses into the same fields at its line, whatever the
/// chunking; the counts hold.
fn check_embedded<P>(
    p: &P,
    pool: &[(Vec<u8>, String)],
    i: usize,
    garbage: &[Vec<u8>],
    before: usize,
) -> Result<(), TestCaseError>
where
    P: RecordParser,
    for<'a> P::Record<'a>: Debug,
{
    let (raw, fields) = &pool[i];
    let before = before.min(garbage.len());
    if let Some(next) = garbage.get(before) {
        // Garbage the format reads as the record's continuation is not
        // garbage to it.
        prop_assume!(p.is_record_start(next) || !p.continues(raw, next));
    }
    let mut buf = Vec::new();
    for g in &garbage[..before] {
        buf.extend_from_slice(g);
        buf.push(b'\n');
    }
    buf.extend_from_slice(raw);
    for g in &garbage[before..] {
        buf.push(b'\n');
        buf.extend_from_slice(g);
    }
    let line = before as u64 + 1;
    for opts in [
        sequential(),
        ScanOptions {
            chunk_size: 1,
            ..ScanOptions::default()
        },
    ] {
        let (keep, t) = scan(&buf, p, &opts);
        check_tally(&t, &buf)?;
        let found = keep.0.iter().find(|r| r.0 == line);
        prop_assert!(found.is_some(), "no record at line {}: {:?}", line, keep.0);
        let found = found.unwrap();
        prop_assert_eq!(&found.2, fields);
        let trim = |r: &[u8]| r.strip_suffix(b"\n").unwrap_or(r).to_vec();
        prop_assert_eq!(trim(&found.3), trim(raw));
    }
    Ok(())
}

/// Random bytes, or fixture lines with bytes flipped, cut and spliced.
fn hostile_bytes(lines: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = lines.len();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2000),
        proptest::collection::vec(
            (
                0..n,
                proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
                any::<bool>()
            ),
            0..40
        )
        .prop_map(move |picks| {
            let mut buf = Vec::new();
            for (k, flips, cut) in picks {
                let mut l = lines[k].clone();
                for (at, b) in flips {
                    if !l.is_empty() {
                        let j = at.index(l.len());
                        l[j] = b;
                    }
                }
                if cut {
                    l.truncate(l.len() / 2);
                }
                buf.extend_from_slice(&l);
                buf.push(b'\n');
            }
            buf
        }),
    ]
}

fn fixture_lines(files: &[&str]) -> Vec<Vec<u8>> {
    files
        .iter()
        .flat_map(|f| {
            testdata(f)
                .split(|&b| b == b'\n')
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Random bytes: every line accounted for, and parallel chunks count what
/// a sequential scan counts.
fn check_random<P>(p: &P, buf: &[u8], chunk: usize) -> Result<(), TestCaseError>
where
    P: RecordParser,
    for<'a> P::Record<'a>: Debug,
{
    let (seq, st) = scan(buf, p, &sequential());
    check_tally(&st, buf)?;
    let opts = ScanOptions {
        chunk_size: chunk,
        ..ScanOptions::default()
    };
    let (par, pt) = scan(buf, p, &opts);
    check_tally(&pt, buf)?;
    prop_assert_eq!(st.lines, pt.lines);
    // Records split across chunks only at record starts: the same records.
    let lines = |k: &Keep| {
        k.0.iter()
            .map(|r| (r.0, r.1, r.3.clone()))
            .collect::<Vec<_>>()
    };
    prop_assert_eq!(lines(&seq), lines(&par));
    Ok(())
}

const FPM_LOG: &[&str] = &[
    "fpm-log/handwritten/lifecycle.log",
    "fpm-log/lab/phaseA/php-fpm.log",
    "fpm-log/lab/phaseD/php-fpm.log",
];
const SLOWLOG: &[&str] = &[
    "fpm-slowlog/handwritten/wordpress-slow.log",
    "fpm-slowlog/lab/phaseA/www-slow.log",
    "fpm-slowlog/lab/phaseB/ondemand-slow.log",
];
const JOURNAL_SHORT: &[&str] = &[
    "journal/journal.phaseB.short.txt",
    "journal/rollover.short.txt",
    "journal/lnav.syslog-samples.log",
];
const JOURNAL_ISO: &[&str] = &[
    "journal/journal.phaseB.short-iso-precise.txt",
    "journal/phaseC.journal-kernel.short-iso.txt",
    "journal/crowdsec.pfsense-rfc5424-nginx.log",
];
const JOURNAL_JSON: &[&str] = &[
    "journal/journal.phaseB.json.jsonl",
    "journal/phaseA.journal-kernel.jsonl",
];
const JOURNAL_EXPORT: &[&str] = &["journal/journal.phaseB.php-fpm8.2.export"];
const KERNEL: &[&str] = &[
    "kernel/lab/phaseA/dmesg-T.txt",
    "kernel/lab/phaseA/dmesg.txt",
    "kernel/lab/phaseA/journal-kernel.short.txt",
    "kernel/lab/phaseC/journal-kernel.short-iso.txt",
    "kernel/node-problem-detector/oom_kill",
];
const CLOUDFLARE: &[&str] = &[
    "cloudflare/handwritten/http_requests.jsonl",
    "cloudflare/lnav/logfile_cloudflare.1",
];

fn fpm() -> FpmLogParser {
    FpmLogParser::new(Zone::UTC)
}
fn slowlog() -> SlowlogParser {
    SlowlogParser::new(Zone::UTC)
}
fn journal() -> JournalParser {
    JournalParser::new(Zone::UTC, 2026)
}
fn kernel() -> KernelParser {
    KernelParser::new(Zone::UTC).with_year(2026)
}

/// Declares, for one parser, the embedded-record and random-bytes properties.
macro_rules! hostile {
    ($embedded:ident, $random:ident, $parser:expr, $files:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]

            #[test]
            fn $embedded(
                (pool, (i, garbage, before)) in Just(valid_records(&$parser, $files))
                    .prop_flat_map(|pool| (Just(pool.clone()), embedded(pool)))
            ) {
                check_embedded(&$parser, &pool, i, &garbage, before)?;
            }

            #[test]
            fn $random(
                buf in hostile_bytes(fixture_lines($files)),
                chunk in 1usize..400,
            ) {
                check_random(&$parser, &buf, chunk)?;
            }
        }
    };
}

hostile!(
    fpm_log_record_in_garbage,
    fpm_log_random_bytes,
    fpm(),
    FPM_LOG
);
hostile!(
    slowlog_trace_in_garbage,
    slowlog_random_bytes,
    slowlog(),
    SLOWLOG
);
hostile!(
    journal_short_in_garbage,
    journal_short_random_bytes,
    journal(),
    JOURNAL_SHORT
);
hostile!(
    journal_short_form_in_garbage,
    journal_short_form_random_bytes,
    journal().with_form(JournalForm::Short),
    JOURNAL_SHORT
);
hostile!(
    journal_iso_in_garbage,
    journal_iso_random_bytes,
    journal(),
    JOURNAL_ISO
);
hostile!(
    journal_json_in_garbage,
    journal_json_random_bytes,
    journal().with_form(JournalForm::Json),
    JOURNAL_JSON
);
hostile!(
    journal_export_in_garbage,
    journal_export_random_bytes,
    journal().with_form(JournalForm::Export),
    JOURNAL_EXPORT
);
hostile!(
    kernel_line_in_garbage,
    kernel_random_bytes,
    kernel(),
    KERNEL
);
hostile!(
    cloudflare_line_in_garbage,
    cloudflare_random_bytes,
    CloudflareParser::new(),
    CLOUDFLARE
);

/// Regression: a byte order mark before the first line made that line
/// `unrecognized` in every format but the access log (detection already
/// ignored it).
#[test]
fn a_byte_order_mark_does_not_cost_the_first_line() {
    fn first_line_parsed<P>(p: &P, file: &str)
    where
        P: RecordParser,
        for<'a> P::Record<'a>: Debug,
    {
        let plain = testdata(file);
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(&plain);
        let (want, wt) = scan(&plain, p, &sequential());
        assert!(want.0.len() > 1, "{file}");
        for opts in [
            sequential(),
            ScanOptions {
                chunk_size: 1,
                ..ScanOptions::default()
            },
        ] {
            let (got, t) = scan(&bom, p, &opts);
            assert_eq!((t.lines, t.parsed), (wt.lines, wt.parsed), "{file}");
            let fields = |k: &Keep| k.0.iter().map(|r| (r.0, r.2.clone())).collect::<Vec<_>>();
            assert_eq!(fields(&got), fields(&want), "{file}");
        }
    }
    first_line_parsed(&fpm(), FPM_LOG[0]);
    first_line_parsed(&slowlog(), SLOWLOG[0]);
    first_line_parsed(&journal(), JOURNAL_SHORT[0]);
    first_line_parsed(&journal(), JOURNAL_JSON[0]);
    first_line_parsed(&kernel(), KERNEL[0]);
    first_line_parsed(&CloudflareParser::new(), CLOUDFLARE[0]);
    first_line_parsed(
        &baton_logparse::ErrorParser::new(Zone::UTC),
        "sample/error.log",
    );
}
