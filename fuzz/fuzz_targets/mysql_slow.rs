#![no_main]
//! MySQL / MariaDB slow query logs (multi-line records), fingerprints,
//! tables, the summary and the event each query makes.

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::event::from_mysql_slow;
use baton_logparse::mysql_slow::{
    MysqlSlowParser, MysqlSlowSummary, SlowEntry, digest, fingerprint, fingerprint_string,
    table_of,
};
use baton_logparse::scan::{ScanOptions, scan_slice};
use baton_logparse::{Lines, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        check(data, &MysqlSlowParser::new(zone), |r| {
            if let SlowEntry::Query(q) = r {
                black_box((q.table(), q.db, q.user));
                let e = from_mysql_slow(q, 1);
                assert_eq!(e.query.as_ref().map(|f| f.digest), Some(q.digest));
                black_box(e.start());
            }
        });
    }
    // Fingerprints of arbitrary text: the digest hashes what `fingerprint`
    // writes, and the text never grows past twice the statement.
    let mut n = 0usize;
    fingerprint(data, &mut |_| n += 1);
    assert!(n <= data.len() * 2 + 8, "{n} bytes from {}", data.len());
    assert_eq!(digest(data), digest(data));
    black_box(fingerprint_string(data));
    black_box(table_of(data));
    for (_, line) in Lines::new(data) {
        black_box(table_of(line));
    }
    let p = MysqlSlowParser::new(Zone::UTC);
    let (s, _t): (MysqlSlowSummary, _) =
        scan_slice(data, 0, &p, &ScanOptions::default(), &MysqlSlowSummary::default);
    let counted: u64 = s.by_digest.values().map(|d| d.count).sum();
    assert_eq!(counted, s.queries);
    black_box(s.top(20));
});
