//! Regular files holding lines longer than the file scan's boundary probe
//! (64 KiB): the segments they span are read once, never probed to the
//! line's end from every segment, and the result is the slice scan's.

use std::time::{Duration, Instant};

use baton_logparse::SkipReason;
use baton_logparse::frame::{Loc, RecordParser};
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_file, scan_slice};
use proptest::prelude::*;

/// Lines starting with `ok` parse, others are skipped.
#[derive(Clone)]
struct Toy;

impl RecordParser for Toy {
    type Record<'a> = &'a [u8];
    fn parse<'a>(&mut self, r: &'a [u8]) -> Result<&'a [u8], SkipReason> {
        if r.starts_with(b"ok") {
            Ok(r)
        } else {
            Err(SkipReason::Unrecognized)
        }
    }
}

/// `#` starts a record, lines starting with a space continue it.
#[derive(Clone)]
struct ToyMulti;

impl RecordParser for ToyMulti {
    type Record<'a> = &'a [u8];
    const MULTILINE: bool = true;
    fn is_record_start(&self, l: &[u8]) -> bool {
        l.first() == Some(&b'#')
    }
    fn continues(&self, _head: &[u8], next: &[u8]) -> bool {
        next.first() == Some(&b' ')
    }
    fn parse<'a>(&mut self, r: &'a [u8]) -> Result<&'a [u8], SkipReason> {
        if r.first() == Some(&b'#') {
            Ok(r)
        } else {
            Err(SkipReason::OrphanContinuation)
        }
    }
}

/// Keeps each record's length and location (absolute after merging).
#[derive(Default, Debug, PartialEq)]
struct Collect(Vec<(usize, Loc)>);

impl<P: RecordParser> Sink<P> for Collect
where
    for<'a> P::Record<'a>: AsRef<[u8]>,
{
    fn record(&mut self, r: P::Record<'_>, loc: Loc) {
        self.0.push((r.as_ref().len(), loc));
    }
    fn append(&mut self, later: Collect, shift: u64) {
        self.0.extend(later.0.into_iter().map(|(n, mut l)| {
            l.line += shift;
            (n, l)
        }));
    }
}

/// Writes `buf` to a fresh temporary file, opened and already unlinked.
fn temp_file(buf: &[u8]) -> std::fs::File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "baton-long-lines-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, buf).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    f
}

/// Pieces of a test file: 0 a short `ok` line, 1 a short other line,
/// 2 a record start, 3 a continuation, 4 a long line of `n` bytes without
/// a newline before its end (starting with `ok`, `#`, a space or `x`).
fn pieces() -> impl Strategy<Value = Vec<(u8, usize)>> {
    proptest::collection::vec(
        prop_oneof![
            6 => (0u8..4, 0usize..40),
            1 => (4u8..5, 60_000usize..300_000),
        ],
        0..24,
    )
}

fn build(pieces: &[(u8, usize)], tail_newline: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    for (i, &(kind, n)) in pieces.iter().enumerate() {
        let head: &[u8] = match (kind, i % 4) {
            (0, _) | (4, 0) => b"ok",
            (1, _) | (4, 1) => b"x",
            (2, _) | (4, 2) => b"#",
            _ => b" ",
        };
        buf.extend_from_slice(head);
        buf.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, n));
        buf.push(b'\n');
    }
    if !tail_newline {
        buf.pop();
    }
    buf
}

fn slice_scan<P>(buf: &[u8], p: &P, max_record: usize) -> (Collect, Tally)
where
    P: RecordParser,
    for<'a> P::Record<'a>: AsRef<[u8]>,
{
    let opts = ScanOptions {
        parallel: false,
        block_size: usize::MAX / 2,
        max_record,
        ..ScanOptions::default()
    };
    scan_slice(buf, 0, p, &opts, &Collect::default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn file_scan_with_long_lines_equals_slice_scan(
        pieces in pieces(),
        tail in any::<bool>(),
        chunk in 4096usize..200_000,
        block in 1usize..5,
    ) {
        let buf = build(&pieces, tail);
        let f = temp_file(&buf);
        let block = block << 19; // 512 KiB to 2 MiB: some long lines exceed a block
        for max_record in [1usize << 20, 100_000] {
            let opts = ScanOptions { chunk_size: chunk, block_size: block, max_record, ..ScanOptions::default() };
            let max = opts.max_record.min(block / 2);

            let s = scan_file(&f, &Toy, &opts, &Collect::default);
            let (sink, t) = slice_scan(&buf, &Toy, max);
            prop_assert!(s.error.is_none());
            prop_assert_eq!(s.tally.lines, s.tally.parsed + s.tally.skipped());
            prop_assert_eq!(&s.tally, &t);
            prop_assert_eq!(s.sink.0, sink.0);

            let s = scan_file(&f, &ToyMulti, &opts, &Collect::default);
            let (sink, t) = slice_scan(&buf, &ToyMulti, max);
            prop_assert!(s.error.is_none());
            prop_assert_eq!(s.tally.lines, s.tally.parsed + s.tally.skipped());
            prop_assert_eq!(s.tally.lines, t.lines);
            prop_assert_eq!(s.tally.bytes, t.bytes);
            // Past `max_record` bytes without a record start, segments are
            // cut at any line start (by design), which a sequential scan
            // does not do: records match only in files shorter than that.
            if buf.len() <= max {
                prop_assert_eq!(s.tally.parsed, t.parsed);
                prop_assert_eq!(s.sink.0, sink.0);
            }
        }
    }
}

/// Regression: every segment inside a line without a newline used to probe
/// forward to the line's end, so a file of `n` bytes without one was read
/// about n² / (2 × segment) bytes (a 400 MB file took 12 s, a 2 GB file
/// minutes). With 4 KiB segments, 16 MiB was 32 GB of reads.
#[test]
fn a_file_without_newlines_is_scanned_in_linear_time() {
    let buf = vec![b'a'; 16 << 20];
    let f = temp_file(&buf);
    let opts = ScanOptions {
        chunk_size: 4096,
        ..ScanOptions::default()
    };
    for _ in 0..2 {
        let t0 = Instant::now();
        let s = scan_file(&f, &Toy, &opts, &Collect::default);
        let took = t0.elapsed();
        assert!(s.error.is_none());
        assert_eq!(s.tally.lines, 1);
        assert_eq!(s.tally.skipped_for(SkipReason::TooLong), 1);
        assert_eq!(s.tally.bytes, buf.len() as u64);
        assert!(took < Duration::from_secs(10), "took {took:?}");
        let s = scan_file(&f, &ToyMulti, &opts, &Collect::default);
        assert_eq!(s.tally.lines, 1);
        assert_eq!(s.tally.skipped_for(SkipReason::TooLong), 1);
    }
}
