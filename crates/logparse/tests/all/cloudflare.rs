//! The Cloudflare Logpush parser against lnav's sample and a hand-written
//! file (`testdata/cloudflare/`, see its `PROVENANCE.md`), with
//! expectations written by hand from reading the files; and property tests
//! (random bytes, parallel chunks).

use baton_logparse::cloudflare::{CloudflareParser, EdgeRecord, EdgeSummary, looks_like};
use baton_logparse::frame::count_lines;
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_slice};
use baton_logparse::{Loc, RecordParser, SkipReason};
use proptest::prelude::*;

const LNAV: &[u8] = include_bytes!("../../../../testdata/cloudflare/lnav/logfile_cloudflare.1");
const HAND: &[u8] =
    include_bytes!("../../../../testdata/cloudflare/handwritten/http_requests.jsonl");

/// One record as the tests spell it out: (line, ray, edge, origin, origin
/// µs, method, path, unix µs).
type Row = (
    u64,
    String,
    Option<u16>,
    Option<u16>,
    Option<u64>,
    String,
    String,
    Option<i64>,
);

#[derive(Debug, Default, PartialEq, Eq)]
struct Both {
    summary: EdgeSummary,
    rows: Vec<Row>,
}

fn s(b: Option<&[u8]>) -> String {
    String::from_utf8_lossy(b.unwrap_or(b"-")).into_owned()
}

impl Sink<CloudflareParser> for Both {
    fn record(&mut self, r: EdgeRecord<'_>, loc: Loc) {
        self.rows.push((
            loc.line,
            s(r.ray_id),
            r.edge_status,
            r.origin_status,
            r.origin_us,
            s(r.method),
            s(r.request_path()),
            r.time.map(|t| t.unix_us),
        ));
        self.summary.record(r, loc);
    }
    fn append(&mut self, later: Both, shift: u64) {
        self.summary.append(later.summary, shift);
        self.rows.extend(later.rows.into_iter().map(|mut r| {
            r.0 += shift;
            r
        }));
    }
}

fn scan(buf: &[u8]) -> (Both, Tally) {
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let (b, t) = scan_slice(buf, 0, &CloudflareParser::new(), &opts, &Both::default);
    assert_eq!(t.lines, count_lines(buf));
    assert_eq!(t.lines, t.parsed + t.skipped());
    (b, t)
}

fn map(m: &std::collections::BTreeMap<u16, u64>) -> Vec<(u16, u64)> {
    m.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn lnav_sample() {
    let (b, t) = scan(LNAV);
    assert_eq!((t.lines, t.parsed, t.skipped()), (15, 15, 0));
    let sm = &b.summary;
    assert_eq!(sm.requests, 15);
    // Read by hand: nine 200s, two 403s, one each of 401, 404, 502, 204.
    assert_eq!(
        map(&sm.status),
        [(200, 9), (204, 1), (401, 1), (403, 2), (404, 1), (502, 1)]
    );
    assert_eq!(map(&sm.origin_status), [(502, 1)]);
    assert_eq!(
        (sm.gateway_errors, sm.gateway_errors_without_origin),
        (1, 0)
    );
    assert_eq!(sm.untimed, 0);
    assert_eq!(sm.range.first.unwrap().unix_us, 1_712_790_000_100_000);
    assert_eq!(sm.range.last.unwrap().unix_us, 1_712_790_044_995_000);
    assert_eq!(
        sm.range.first.unwrap().to_rfc3339(),
        "2024-04-10T23:00:00.100+00:00"
    );
    // The one gateway error: line 9.
    assert_eq!(
        b.rows[8],
        (
            9,
            "87a1b2c3d4e5f009".into(),
            Some(502),
            Some(502),
            None,
            "POST".into(),
            "/v1/data/ingest".into(),
            Some(1_712_790_015_600_000)
        )
    );
    for l in LNAV.trim_ascii_end().split(|&c| c == b'\n') {
        assert!(looks_like(l));
    }
}

#[test]
fn handwritten() {
    let (b, t) = scan(HAND);
    assert_eq!((t.lines, t.parsed, t.skipped()), (10, 7, 3));
    assert_eq!(t.skipped_for(SkipReason::Empty), 1);
    assert_eq!(t.skipped_for(SkipReason::Unrecognized), 1);
    assert_eq!(t.skipped_for(SkipReason::Truncated), 1);
    let rows: Vec<Row> = vec![
        (
            1,
            "8e6b1c2d3e4f5a01".into(),
            Some(200),
            Some(200),
            Some(85_000),
            "GET".into(),
            "/".into(),
            Some(1_795_519_081_000_000),
        ),
        (
            2,
            "8e6b1c2d3e4f5a02".into(),
            Some(520),
            None,
            Some(0),
            "GET".into(),
            "/shop/".into(),
            Some(1_795_519_083_000_000),
        ),
        (
            3,
            "8e6b1c2d3e4f5a03".into(),
            Some(522),
            None,
            None,
            "POST".into(),
            "/wp-admin/admin-ajax.php".into(),
            Some(1_795_519_084_500_000),
        ),
        (
            4,
            "8e6b1c2d3e4f5a04".into(),
            Some(526),
            None,
            None,
            "GET".into(),
            "/checkout/".into(),
            Some(1_795_519_085_000_000),
        ),
        (
            5,
            "8e6b1c2d3e4f5a05".into(),
            Some(504),
            Some(504),
            Some(100_000_000),
            "GET".into(),
            "/slow.php".into(),
            Some(1_795_519_086_000_000),
        ),
        (
            6,
            "8e6b1c2d3e4f5a06".into(),
            Some(502),
            Some(502),
            Some(12_500),
            "GET".into(),
            "/hog.php".into(),
            Some(1_795_519_082_000_000),
        ),
        (
            7,
            "8e6b1c2d3e4f5a07".into(),
            Some(304),
            Some(304),
            None,
            "GET".into(),
            "/style.css".into(),
            Some(1_795_519_087_000_000),
        ),
    ];
    assert_eq!(b.rows, rows);
    let sm = &b.summary;
    assert_eq!(sm.requests, 7);
    assert_eq!(
        map(&sm.status),
        [
            (200, 1),
            (304, 1),
            (502, 1),
            (504, 1),
            (520, 1),
            (522, 1),
            (526, 1)
        ]
    );
    assert_eq!(
        map(&sm.origin_status),
        [(200, 1), (304, 1), (502, 1), (504, 1)]
    );
    assert_eq!(
        (sm.gateway_errors, sm.gateway_errors_without_origin),
        (5, 3)
    );
    assert_eq!(
        sm.range.first.unwrap().to_rfc3339(),
        "2026-11-24T11:18:01+00:00"
    );
    assert_eq!(
        sm.range.last.unwrap().to_rfc3339(),
        "2026-11-24T11:18:07+00:00"
    );
    // Line 2 carries its own +01:00 offset.
    let l2 = HAND.split(|&c| c == b'\n').nth(1).unwrap();
    let r = CloudflareParser::new().parse(l2).unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T12:18:03+01:00");
    assert_eq!(r.uri, Some(&b"/shop/?page=2"[..]));
    assert_eq!(r.origin_ip, Some(&b"203.0.113.10"[..]));
    // Detection: the seven records yes, the rest no.
    let det: Vec<bool> = HAND.split(|&c| c == b'\n').map(looks_like).collect();
    assert_eq!(
        det,
        [
            true, true, true, true, true, true, true, false, false, false, false
        ]
    );
}

fn pool() -> Vec<&'static [u8]> {
    let mut v: Vec<&'static [u8]> = Vec::new();
    v.extend(LNAV.trim_ascii_end().split(|&c| c == b'\n'));
    v.extend(HAND.trim_ascii_end().split(|&c| c == b'\n'));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = CloudflareParser::new().parse(&bytes);
        let _ = looks_like(&bytes);
        let (_, t) = scan(&bytes);
        prop_assert_eq!(t.lines, t.parsed + t.skipped());
    }

    #[test]
    fn random_json_never_panics(s in "\\{(\"[A-Za-z]{0,12}\": ?(\"[^\"]{0,8}\"|-?[0-9.eE]{0,20}|\\[|\\{|null|true)[,}]? ?){0,6}") {
        let _ = CloudflareParser::new().parse(s.as_bytes());
        let _ = looks_like(s.as_bytes());
    }

    #[test]
    fn parallel_chunks_equal_sequential(picks in proptest::collection::vec(0usize..1000, 20..300)) {
        let pool = pool();
        let mut buf = Vec::new();
        for i in picks {
            buf.extend_from_slice(pool[i % pool.len()]);
            buf.push(b'\n');
        }
        let (a, ta) = scan(&buf);
        let par = ScanOptions { chunk_size: 1, parallel: true, ..ScanOptions::default() };
        let (b, tb) = scan_slice(&buf, 0, &CloudflareParser::new(), &par, &Both::default);
        prop_assert_eq!(&ta, &tb);
        prop_assert_eq!(&a, &b);
    }
}
