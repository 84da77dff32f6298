//! The scan driver against oracles: whatever the chunk size, block size and
//! thread count, the records, line numbers, offsets and counts are those of
//! a naive sequential split.

use std::io::Read;

use baton_logparse::SkipReason;
use baton_logparse::frame::{Loc, RecordParser};
use baton_logparse::scan::{ScanOptions, Sink, Tally, scan_file, scan_reader, scan_slice};
use proptest::prelude::*;

/// A toy single-line format: lines starting with `ok` parse, others skip.
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

/// A toy multi-line format: `#` starts a record, indented lines continue it.
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

/// Collects (record, loc) with absolute line numbers after merging.
#[derive(Default, Debug, PartialEq)]
struct Collect(Vec<(Vec<u8>, Loc)>);

impl<P: RecordParser> Sink<P> for Collect
where
    for<'a> P::Record<'a>: AsRef<[u8]>,
{
    fn record(&mut self, r: P::Record<'_>, loc: Loc) {
        self.0.push((r.as_ref().to_vec(), loc));
    }
    fn append(&mut self, later: Collect, shift: u64) {
        self.0.extend(later.0.into_iter().map(|(r, mut l)| {
            l.line += shift;
            (r, l)
        }));
    }
}

/// The naive oracle for `Toy`: split on `\n`, trim `\r`.
fn oracle(buf: &[u8]) -> (Vec<(Vec<u8>, Loc)>, u64, u64) {
    let mut recs = Vec::new();
    let mut parsed = 0;
    let mut lines = 0;
    let mut off = 0u64;
    let mut parts: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    if buf.last() == Some(&b'\n') || buf.is_empty() {
        parts.pop();
    }
    for (i, raw) in parts.iter().enumerate() {
        lines += 1;
        let l = raw.strip_suffix(b"\r").unwrap_or(raw);
        if l.starts_with(b"ok") && l.len() <= 1 << 20 {
            parsed += 1;
            let loc = Loc {
                offset: off,
                line: i as u64 + 1,
                lines: 1,
            };
            recs.push((l.to_vec(), loc));
        }
        off += raw.len() as u64 + 1;
    }
    (recs, lines, parsed)
}

fn check_invariant(t: &Tally) {
    assert_eq!(t.lines, t.parsed + t.skipped(), "{t:?}");
}

fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "ok[a-z ]{0,30}".prop_map(|s| s.into_bytes()),
        "[a-z ]{0,30}".prop_map(|s| s.into_bytes()),
        Just(b"".to_vec()),
        Just(b"ok\r".to_vec()),
        Just(b"ok\0binary".to_vec()),
        proptest::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..40
        ),
    ]
}

fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(line_strategy(), 0..200),
        any::<bool>(),
    )
        .prop_map(|(lines, term)| {
            let mut v = lines.join(&b'\n');
            if term && !v.is_empty() {
                v.push(b'\n');
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn slice_scan_equals_oracle(buf in input_strategy(), chunk in 1usize..600) {
        let opts = ScanOptions { chunk_size: chunk, ..ScanOptions::default() };
        let (sink, t): (Collect, Tally) = scan_slice(&buf, 0, &Toy, &opts, &Collect::default);
        let (recs, lines, parsed) = oracle(&buf);
        check_invariant(&t);
        prop_assert_eq!(t.lines, lines);
        prop_assert_eq!(t.parsed, parsed);
        prop_assert_eq!(sink.0, recs);
    }

    #[test]
    fn streaming_equals_slice(buf in input_strategy(), block in 64usize..400, chunk in 1usize..300) {
        let opts = ScanOptions { chunk_size: chunk, block_size: block, max_record: block / 2, parallel: true, ..ScanOptions::default() };
        let s = scan_reader(&buf[..], &Toy, &opts, &Collect::default);
        let (sink, t): (Collect, Tally) = scan_slice(&buf, 0, &Toy, &ScanOptions { max_record: block / 2, ..ScanOptions::default() }, &Collect::default);
        check_invariant(&s.tally);
        prop_assert!(s.error.is_none());
        prop_assert_eq!(s.tally.lines, t.lines);
        prop_assert_eq!(s.tally.parsed, t.parsed);
        prop_assert_eq!(s.tally.bytes, buf.len() as u64);
        prop_assert_eq!(s.sink.0, sink.0);
    }

    #[test]
    fn multiline_chunked_equals_sequential(
        recs in proptest::collection::vec((0u8..3, "[a-z]{0,10}", 0usize..4), 0..80),
        chunk in 1usize..200,
        block in 128usize..400,
    ) {
        let mut buf = Vec::new();
        for (kind, word, cont) in &recs {
            match kind {
                0 => buf.extend_from_slice(format!("#{word}\n").as_bytes()),
                1 => buf.extend_from_slice(format!(" orphan{word}\n").as_bytes()),
                _ => buf.extend_from_slice(format!("x{word}\n").as_bytes()),
            }
            for i in 0..*cont {
                buf.extend_from_slice(format!(" c{i}\n").as_bytes());
            }
        }
        let seq_opts = ScanOptions { parallel: false, max_record: block / 2, ..ScanOptions::default() };
        let (seq, st): (Collect, Tally) = scan_slice(&buf, 0, &ToyMulti, &seq_opts, &Collect::default);
        let par_opts = ScanOptions { chunk_size: chunk, max_record: block / 2, ..ScanOptions::default() };
        let (par, pt): (Collect, Tally) = scan_slice(&buf, 0, &ToyMulti, &par_opts, &Collect::default);
        check_invariant(&st);
        prop_assert_eq!(&st, &pt);
        prop_assert_eq!(&seq, &par);
        let s = scan_reader(&buf[..], &ToyMulti, &ScanOptions { block_size: block, chunk_size: chunk, max_record: block / 2, parallel: true, ..ScanOptions::default() }, &Collect::default);
        prop_assert_eq!(s.tally.lines, st.lines);
        prop_assert_eq!(s.tally.parsed, st.parsed);
        prop_assert_eq!(s.sink.0, seq.0);
    }
}

/// Writes `buf` to a fresh temporary file.
fn temp_file(buf: &[u8]) -> std::fs::File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "baton-scan-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, buf).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn file_scan_equals_slice_scan(buf in input_strategy(), chunk in 1usize..300) {
        let opts = ScanOptions { chunk_size: chunk, block_size: 256, max_record: 128, parallel: true, ..ScanOptions::default() };
        let s = scan_file(&temp_file(&buf), &Toy, &opts, &Collect::default);
        let (sink, t): (Collect, Tally) = scan_slice(&buf, 0, &Toy, &ScanOptions { max_record: 128, ..ScanOptions::default() }, &Collect::default);
        prop_assert!(s.error.is_none());
        prop_assert_eq!(&s.tally, &t);
        prop_assert_eq!(s.sink.0, sink.0);
    }

    #[test]
    fn file_scan_multiline_equals_sequential(
        recs in proptest::collection::vec((0u8..3, "[a-z]{0,10}", 0usize..4), 0..80),
        chunk in 1usize..200,
    ) {
        let mut buf = Vec::new();
        for (kind, word, cont) in &recs {
            match kind {
                0 => buf.extend_from_slice(format!("#{word}\n").as_bytes()),
                1 => buf.extend_from_slice(format!(" orphan{word}\n").as_bytes()),
                _ => buf.extend_from_slice(format!("x{word}\n").as_bytes()),
            }
            for i in 0..*cont {
                buf.extend_from_slice(format!(" c{i}\n").as_bytes());
            }
        }
        let seq = ScanOptions { parallel: false, ..ScanOptions::default() };
        let (sink, t): (Collect, Tally) = scan_slice(&buf, 0, &ToyMulti, &seq, &Collect::default);
        let opts = ScanOptions { chunk_size: chunk, ..ScanOptions::default() };
        let s = scan_file(&temp_file(&buf), &ToyMulti, &opts, &Collect::default);
        prop_assert_eq!(&s.tally, &t);
        prop_assert_eq!(s.sink.0, sink.0);
    }
}

#[test]
fn file_scan_streams_a_huge_line_with_bounded_buffers() {
    let mut buf = b"ok first\n".to_vec();
    buf.extend(std::iter::repeat_n(b'x', 3 << 20));
    buf.extend_from_slice(b"\nok after\nok end");
    let opts = ScanOptions {
        block_size: 64 << 10,
        chunk_size: 16 << 10,
        max_record: 32 << 10,
        parallel: true,
        ..ScanOptions::default()
    };
    let s = scan_file(&temp_file(&buf), &Toy, &opts, &Collect::default);
    assert!(s.error.is_none());
    assert_eq!(
        (
            s.tally.lines,
            s.tally.parsed,
            s.tally.skipped_for(SkipReason::TooLong)
        ),
        (4, 3, 1)
    );
    assert_eq!(s.tally.bytes, buf.len() as u64);
    assert_eq!(s.tally.samples[0].offset, 9);
    let locs: Vec<(u64, u64)> = s.sink.0.iter().map(|(_, l)| (l.line, l.offset)).collect();
    assert_eq!(
        locs,
        [(1, 0), (3, 9 + (3 << 20) + 1), (4, 9 + (3 << 20) + 10)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Any number of threads gives the same records and counts.
    #[test]
    fn thread_count_does_not_change_results(buf in input_strategy(), chunk in 1usize..200, threads in 1usize..9) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let opts = ScanOptions { chunk_size: chunk, ..ScanOptions::default() };
        let (sink, t): (Collect, Tally) = pool.install(|| scan_slice(&buf, 0, &Toy, &opts, &Collect::default));
        let seq = ScanOptions { parallel: false, ..ScanOptions::default() };
        let (want, wt): (Collect, Tally) = scan_slice(&buf, 0, &Toy, &seq, &Collect::default);
        prop_assert_eq!(&t, &wt);
        prop_assert_eq!(sink.0, want.0);
        let f = temp_file(&buf);
        let s = pool.install(|| scan_file(&f, &Toy, &opts, &Collect::default));
        prop_assert_eq!(&s.tally, &wt);
    }
}

#[test]
fn multiline_record_counts_every_physical_line() {
    let buf = b"#a\n c1\n c2\n orphan\n#b\n";
    // " orphan" continues #a too in this toy format; a stray line before any
    // record is an orphan.
    let (sink, t): (Collect, Tally) = scan_slice(
        b" stray\n#a\n c1\n",
        0,
        &ToyMulti,
        &ScanOptions::default(),
        &Collect::default,
    );
    assert_eq!(
        (
            t.lines,
            t.parsed,
            t.skipped_for(SkipReason::OrphanContinuation)
        ),
        (3, 2, 1)
    );
    assert_eq!(
        sink.0[0].1,
        Loc {
            offset: 7,
            line: 2,
            lines: 2
        }
    );
    let (sink, t): (Collect, Tally) = scan_slice(
        buf,
        0,
        &ToyMulti,
        &ScanOptions::default(),
        &Collect::default,
    );
    assert_eq!((t.lines, t.parsed), (5, 5));
    assert_eq!(sink.0[0].0, b"#a\n c1\n c2\n orphan");
    assert_eq!(
        sink.0[1].1,
        Loc {
            offset: 19,
            line: 5,
            lines: 1
        }
    );
}

#[test]
fn skip_reasons_and_samples() {
    let buf = b"ok 1\n\nbad one\n\tbad two\r\n\0x\nbad three\nbad four\nok\0end";
    let (_, t): (Collect, Tally) =
        scan_slice(buf, 0, &Toy, &ScanOptions::default(), &Collect::default);
    assert_eq!(t.lines, 8);
    assert_eq!(t.parsed, 2);
    assert_eq!(t.skipped_for(SkipReason::Empty), 1);
    assert_eq!(t.skipped_for(SkipReason::Binary), 1);
    assert_eq!(t.skipped_for(SkipReason::Unrecognized), 4);
    let unrec: Vec<(u64, &[u8])> = t
        .samples
        .iter()
        .filter(|s| s.reason == SkipReason::Unrecognized)
        .map(|s| (s.line, &s.text[..]))
        .collect();
    assert_eq!(
        unrec,
        [(3, &b"bad one"[..]), (4, b"\tbad two"), (6, b"bad three")]
    );
}

/// A reader that yields a line far longer than a block without ever
/// holding it: memory stays bounded by the block size.
struct HugeLine {
    before: &'static [u8],
    huge: u64,
    after: &'static [u8],
    pos: u64,
}

impl Read for HugeLine {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let total = self.before.len() as u64 + self.huge + self.after.len() as u64;
        let mut n = 0;
        while n < out.len() && self.pos < total {
            let p = self.pos;
            out[n] = if p < self.before.len() as u64 {
                self.before[p as usize]
            } else if p < self.before.len() as u64 + self.huge {
                b'x'
            } else {
                self.after[(p - self.before.len() as u64 - self.huge) as usize]
            };
            n += 1;
            self.pos += 1;
        }
        Ok(n)
    }
}

#[test]
fn line_longer_than_block_is_skipped_with_reason() {
    let r = HugeLine {
        before: b"ok first\n",
        huge: 5 << 20,
        after: b"\nok after\nok end",
        pos: 0,
    };
    let opts = ScanOptions {
        block_size: 64 << 10,
        chunk_size: 16 << 10,
        max_record: 32 << 10,
        parallel: true,
        ..ScanOptions::default()
    };
    let s = scan_reader(r, &Toy, &opts, &Collect::default);
    assert!(s.error.is_none());
    assert_eq!(s.tally.lines, 4);
    assert_eq!(s.tally.parsed, 3);
    assert_eq!(s.tally.skipped_for(SkipReason::TooLong), 1);
    assert_eq!(s.tally.bytes, 9 + (5 << 20) + 16);
    let sample = &s.tally.samples[0];
    assert_eq!((sample.line, sample.offset, sample.text.len()), (2, 9, 200));
    let lines: Vec<u64> = s.sink.0.iter().map(|(_, l)| l.line).collect();
    assert_eq!(lines, [1, 3, 4]);
    assert_eq!(s.sink.0[1].1.offset, 9 + (5 << 20) + 1);
}

/// A reader that fails after some bytes, as a truncated archive does.
struct FailAfter(&'static [u8], usize);

impl Read for FailAfter {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.1 >= self.0.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "stream truncated",
            ));
        }
        let n = out.len().min(self.0.len() - self.1).min(7);
        out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

#[test]
fn read_error_keeps_lines_before_the_damage() {
    let s = scan_reader(
        FailAfter(b"ok 1\nok 2\nok 3 cut", 0),
        &Toy,
        &ScanOptions::default(),
        &Collect::default,
    );
    let e = s.error.expect("error reported");
    assert_eq!(e.kind(), baton_logparse::ErrorKind::Corrupt);
    assert_eq!(e.offset(), Some(18));
    assert_eq!(s.tally.lines, 3);
    assert_eq!(s.tally.parsed, 3);
    assert_eq!(s.sink.0.len(), 3);
}
