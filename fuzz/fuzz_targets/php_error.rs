#![no_main]
//! PHP error logs / WordPress debug.log (multi-line entries with stack
//! traces), the culprit of each entry and the event it makes.

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::event::from_php_error;
use baton_logparse::php_error::{PhpErrorParser, PhpErrorSummary, file_and_line, is_entry_start};
use baton_logparse::scan::{ScanOptions, scan_slice};
use baton_logparse::{Lines, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        check(data, &PhpErrorParser::new(zone), |r| {
            black_box((r.is_fatal(), r.level, r.file, r.line, r.culprit));
            if let Some(db) = r.wp_db {
                black_box((db.error, db.query, db.caller));
            }
            black_box(from_php_error(r, 1, data));
        });
    }
    for (_, line) in Lines::new(data) {
        black_box(is_entry_start(line));
        black_box(file_and_line(line));
    }
    // The summary: its fatal counts by culprit never exceed the entries.
    let p = PhpErrorParser::new(Zone::UTC);
    let (s, _t): (PhpErrorSummary, _) =
        scan_slice(data, 0, &p, &ScanOptions::default(), &PhpErrorSummary::default);
    assert!(s.fatal_by_culprit.values().sum::<u64>() <= s.entries);
});
