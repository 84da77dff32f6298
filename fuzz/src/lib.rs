//! Shared checks for the fuzz targets: every parser sees the input line by
//! line, as one (multi-line) record, and through `scan_slice` sequentially
//! and in tiny parallel chunks, with the line accounting asserted.

use std::hint::black_box;

use baton_logparse::frame::{Lines, RecordParser, count_lines};
use baton_logparse::scan::{ScanOptions, Tally, scan_slice};

/// Tiny chunks so that a fuzz input of a few KiB is cut into several.
pub fn opts(parallel: bool) -> ScanOptions {
    ScanOptions {
        chunk_size: 64,
        parallel,
        ..ScanOptions::default()
    }
}

/// Scans `data` with `parser` and asserts `lines == parsed + skipped`.
pub fn scan<P: RecordParser>(data: &[u8], parser: &P, parallel: bool) -> Tally {
    let ((), t) = scan_slice(data, 0, parser, &opts(parallel), &|| ());
    assert_eq!(t.lines, t.parsed + t.skipped(), "accounting: {t:?}");
    assert_eq!(t.lines, count_lines(data), "line count: {t:?}");
    assert_eq!(t.bytes, data.len() as u64);
    t
}

/// Scans sequentially and in parallel and asserts both agree.
pub fn scan_both<P: RecordParser>(data: &[u8], parser: &P) -> Tally {
    let seq = scan(data, parser, false);
    let par = scan(data, parser, true);
    assert_eq!(seq, par, "parallel and sequential scans differ");
    seq
}

/// Parses every line alone, then the whole input as one record, with
/// `look` touching the lazily decoded parts of each record.
pub fn parse_each<P: RecordParser>(data: &[u8], parser: &P, mut look: impl FnMut(&P::Record<'_>)) {
    let mut p = parser.clone();
    for (_, line) in Lines::new(data) {
        let _ = black_box(p.is_record_start(line));
        if let Ok(r) = p.parse(line) {
            look(&r);
        }
    }
    let mut p = parser.clone();
    if let Ok(r) = p.parse(data) {
        look(&r);
    }
}

/// The whole battery for one parser.
pub fn check<P: RecordParser>(data: &[u8], parser: &P, look: impl FnMut(&P::Record<'_>)) {
    parse_each(data, parser, look);
    scan_both(data, parser);
}
