//! The scan driver: frames an input into records, parses them in parallel
//! chunks, and accounts for every line.
//!
//! Results are identical whatever the chunk size and thread count: chunks
//! are cut only before record starts, each chunk is parsed by its own clone
//! of the parser into its own [`Sink`], and sinks are merged in input order
//! ([`Sink::append`]) with line numbers shifted as they are merged.
//!
//! Streaming inputs (pipes, decoders, files) are read in fixed-size blocks
//! by a reader thread while the previous block is parsed; the partial last
//! record is carried over to the next block. A line longer than a block is
//! never held in memory: it is counted as one skipped `too_long` line and
//! read past. Memory is about three blocks plus what sinks keep.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;

use crate::bytes::Byte;
use crate::error::{Error, SkipReason};
use crate::frame::{Loc, RecordParser, last_boundary, next_boundary, trim_cr};

mod enveloped;

pub use enveloped::{scan_file_unwrapped, scan_slice_unwrapped};

/// How many skipped lines of each reason keep their text as samples.
pub const SAMPLES_PER_REASON: usize = 3;
/// How many bytes of a skipped line a sample keeps.
pub const SAMPLE_BYTES: usize = 200;
/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Receives parsed records of one chunk, and merges with the sink of the
/// chunk after it.
pub trait Sink<P: RecordParser>: Send + Sized {
    /// One parsed record at `loc` (line numbers relative to the chunk until
    /// merged; see [`Sink::append`]).
    fn record(&mut self, record: P::Record<'_>, loc: Loc);

    /// One parsed record with its raw bytes (every physical line, without
    /// the final line end). The scan drivers call this; sinks that keep
    /// evidence override it, the others get [`Sink::record`].
    #[inline]
    fn record_raw(&mut self, record: P::Record<'_>, loc: Loc, raw: &[u8]) {
        let _ = raw;
        self.record(record, loc);
    }

    /// Appends the sink of the chunk that follows this one in input order.
    /// Line numbers kept by `later` are relative to its chunk: add
    /// `line_shift` to them.
    fn append(&mut self, later: Self, line_shift: u64);

    /// Adds `shift` to the byte offsets ([`Loc::offset`]) this sink keeps:
    /// its chunk was parsed before its place in the input was known (a
    /// segment of an enveloped file, unwrapped and parsed in parallel with
    /// the segments before it; see [`scan_file_unwrapped`]). Sinks that
    /// keep offsets must say so here; the others keep the default, which
    /// does nothing.
    #[inline]
    fn shift_offsets(&mut self, shift: u64) {
        let _ = shift;
    }
}

impl<P: RecordParser> Sink<P> for () {
    fn record(&mut self, _: P::Record<'_>, _: Loc) {}
    fn append(&mut self, _: (), _: u64) {}
}

/// The first bytes of a skipped line, kept so a user can see what was not
/// understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipSample {
    /// Why the line was skipped.
    pub reason: SkipReason,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// Up to [`SAMPLE_BYTES`] bytes of the line, raw.
    pub text: Vec<u8>,
}

/// Line accounting of one input: `lines == parsed + skipped()` always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Physical lines seen.
    pub lines: u64,
    /// Physical lines that belong to parsed records.
    pub parsed: u64,
    /// Physical lines skipped, indexed by [`SkipReason::index`].
    pub skipped_by_reason: [u64; SkipReason::ALL.len()],
    /// Bytes read (decoded).
    pub bytes: u64,
    /// The first [`SAMPLES_PER_REASON`] skipped lines of each reason, in input order.
    pub samples: Vec<SkipSample>,
}

impl Tally {
    /// All skipped lines.
    pub fn skipped(&self) -> u64 {
        self.skipped_by_reason.iter().sum()
    }

    /// Skipped lines of one reason.
    pub fn skipped_for(&self, reason: SkipReason) -> u64 {
        self.skipped_by_reason[reason.index()]
    }

    fn skip(&mut self, reason: SkipReason, lines: u64, loc: Loc, text: &[u8]) {
        self.skipped_by_reason[reason.index()] += lines;
        self.lines += lines;
        let have = self.samples.iter().filter(|s| s.reason == reason).count();
        if have < SAMPLES_PER_REASON {
            self.samples.push(SkipSample {
                reason,
                line: loc.line,
                offset: loc.offset,
                text: text[..text.len().min(SAMPLE_BYTES)].to_vec(),
            });
        }
    }

    /// Appends the tally of the input that follows (shifting its sample line numbers).
    pub fn append(&mut self, later: Tally) {
        let shift = self.lines;
        self.parsed += later.parsed;
        for (a, b) in self
            .skipped_by_reason
            .iter_mut()
            .zip(later.skipped_by_reason)
        {
            *a += b;
        }
        for mut s in later.samples {
            let have = self.samples.iter().filter(|x| x.reason == s.reason).count();
            if have < SAMPLES_PER_REASON {
                s.line += shift;
                self.samples.push(s);
            }
        }
        self.lines += later.lines;
        self.bytes += later.bytes;
    }
}

/// Tuning for the scan driver. The defaults suit multi-GB inputs on a
/// small machine.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Bytes read per block from a stream (default 8 MiB).
    pub block_size: usize,
    /// Target bytes per parallel chunk (default 1 MiB).
    pub chunk_size: usize,
    /// Longest record parsed; longer ones are skipped as `too_long`
    /// (default 1 MiB, at most `block_size / 2`).
    pub max_record: usize,
    /// Parse chunks on the rayon pool (default true).
    pub parallel: bool,
    /// Where to count the input bytes consumed, for a progress display
    /// (default none). It is advanced once per file segment or stream
    /// block (about 1 MiB or 8 MiB), never per line, so that several
    /// inputs scanned at once can share one counter at no measurable
    /// cost. A stream counts the bytes it yields: for a decoder, the
    /// decompressed ones (its [`crate::decode::ByteCount`] counts the
    /// compressed ones).
    pub progress: Option<Arc<AtomicU64>>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            block_size: 8 << 20,
            chunk_size: 1 << 20,
            max_record: 1 << 20,
            parallel: true,
            progress: None,
        }
    }
}

impl ScanOptions {
    fn max_record(&self) -> usize {
        self.max_record.min(self.block_size / 2).max(1)
    }

    /// Counts `n` more bytes consumed on [`ScanOptions::progress`].
    #[inline]
    fn consumed(&self, n: u64) {
        if let Some(p) = &self.progress {
            p.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// Looks like binary data: a NUL byte in the record.
#[inline]
fn is_binary(rec: &[u8]) -> bool {
    memchr::memchr(0, rec).is_some()
}

/// A record the parser did not recognize is reported as `binary` when it
/// holds NUL bytes. Parsers see such records first: nginx writes raw request
/// bytes, NULs included, into otherwise well-formed error-log lines.
#[inline]
fn refine(reason: SkipReason, rec: &[u8]) -> SkipReason {
    if reason == SkipReason::Unrecognized && is_binary(rec) {
        SkipReason::Binary
    } else {
        reason
    }
}

/// Parses one chunk sequentially. Line numbers start at 1 for the chunk.
fn scan_chunk<P, S>(
    buf: &[u8],
    base_offset: u64,
    parser: &mut P,
    opts: &ScanOptions,
    sink: &mut S,
) -> Tally
where
    P: RecordParser,
    S: Sink<P>,
{
    scan_chunk_at(buf, base_offset, base_offset == 0, parser, opts, sink)
}

/// [`scan_chunk`], told whether the chunk starts its input (`first`).
fn scan_chunk_at<P, S>(
    buf: &[u8],
    base_offset: u64,
    first: bool,
    parser: &mut P,
    opts: &ScanOptions,
    sink: &mut S,
) -> Tally
where
    P: RecordParser,
    S: Sink<P>,
{
    let max_record = opts.max_record();
    // A byte order mark before an input's first line (a log saved by a
    // Windows editor) is no part of its record; detection ignores it too.
    let bom = if first && buf.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let mut t = Tally {
        bytes: buf.len() as u64,
        ..Tally::default()
    };
    let newline = Byte::new(b'\n');
    let mut pos = 0usize;
    // The end of the line at `pos` when the previous record's look-ahead
    // found it, so no line end is searched twice.
    let mut known_end = None;
    while pos < buf.len() {
        // One record: its first line, then continuation lines.
        let start = pos;
        let mut end = known_end
            .take()
            .unwrap_or_else(|| newline.find(&buf[pos..]).map_or(buf.len(), |i| pos + i));
        let mut nlines = 1u32;
        let mut next = (end + 1).min(buf.len());
        if P::MULTILINE {
            while next < buf.len() {
                let nend = newline.find(&buf[next..]).map_or(buf.len(), |i| next + i);
                let nline = trim_cr(&buf[next..nend]);
                if nend - start > max_record
                    || parser.is_record_start(nline)
                    || !parser.continues(trim_cr(&buf[start..end]), nline)
                {
                    // `next` is where the next record starts.
                    known_end = Some(nend);
                    break;
                }
                end = nend;
                nlines += 1;
                next = (nend + 1).min(buf.len());
            }
        }
        pos = end + 1;
        let rec = trim_cr(&buf[start.max(bom)..end]);
        let loc = Loc {
            offset: base_offset + start as u64,
            line: t.lines + 1,
            lines: nlines,
        };
        let reason = if rec.len() > max_record {
            Some(SkipReason::TooLong)
        } else if rec.iter().all(|b| b.is_ascii_whitespace()) {
            Some(SkipReason::Empty)
        } else {
            match parser.parse(rec) {
                Ok(r) => {
                    sink.record_raw(r, loc, rec);
                    None
                }
                Err(reason) => Some(refine(reason, rec)),
            }
        };
        match reason {
            None => {
                t.lines += nlines as u64;
                t.parsed += nlines as u64;
            }
            Some(reason) => t.skip(reason, nlines as u64, loc, rec),
        }
    }
    t
}

/// Parses a buffer holding whole records (its last record may be
/// unterminated), in parallel chunks when it is large. `base_offset` is the
/// buffer's offset in its input; line numbers in the result start at 1.
pub fn scan_slice<P, S, F>(
    buf: &[u8],
    base_offset: u64,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> (S, Tally)
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let chunk = opts.chunk_size.max(4096);
    if !opts.parallel || buf.len() <= chunk {
        let mut sink = new_sink();
        let t = scan_chunk(buf, base_offset, &mut parser.clone(), opts, &mut sink);
        return (sink, t);
    }
    let mut bounds = vec![0usize];
    let mut at = 0usize;
    while at < buf.len() {
        let next = next_boundary(buf, at + chunk, parser, opts.max_record());
        bounds.push(next);
        at = next;
    }
    let parts: Vec<(S, Tally)> = bounds
        .par_windows(2)
        .map(|w| {
            let mut sink = new_sink();
            let t = scan_chunk(
                &buf[w[0]..w[1]],
                base_offset + w[0] as u64,
                &mut parser.clone(),
                opts,
                &mut sink,
            );
            (sink, t)
        })
        .collect();
    let mut iter = parts.into_iter();
    let (mut sink, mut tally) = iter
        .next()
        .unwrap_or_else(|| (new_sink(), Tally::default()));
    for (s, t) in iter {
        sink.append(s, tally.lines);
        tally.append(t);
    }
    (sink, tally)
}

/// What the reader thread hands to the parser.
enum Block {
    /// `buf[..len]` holds whole records starting at byte `offset`.
    Data {
        buf: Vec<u8>,
        len: usize,
        offset: u64,
    },
    /// One line longer than a block (`len` bytes with its `\n`), read past
    /// without keeping it.
    Huge {
        offset: u64,
        len: u64,
        sample: Vec<u8>,
    },
    /// The input failed at `offset`; nothing after it was read.
    Failed { err: io::Error, offset: u64 },
}

/// The result of scanning a stream: what was parsed before any error, and
/// the error that stopped the read, if any.
#[derive(Debug)]
pub struct Scanned<S> {
    /// The merged sink.
    pub sink: S,
    /// Line accounting.
    pub tally: Tally,
    /// The error that cut the input short; everything before it was parsed.
    pub error: Option<Error>,
}

/// Fills `buf` as far as the reader goes; returns how many bytes were read
/// and the error that stopped it early, if any (bytes read before an error
/// are kept).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// The reader thread: fills blocks, cuts them at record boundaries and
/// carries the tail over.
fn produce<R: Read, P: RecordParser>(
    mut reader: R,
    base: u64,
    parser: &P,
    opts: &ScanOptions,
    tx: mpsc::SyncSender<Block>,
    free: mpsc::Receiver<Vec<u8>>,
) {
    let size = opts.block_size.max(64);
    let mut offset = base; // offset of buf[0] in the input
    let mut buf = vec![0u8; size];
    let mut len = 0usize; // valid bytes in buf
    loop {
        let (n, failed) = read_full(&mut reader, &mut buf[len..]);
        len += n;
        if let Some(err) = failed {
            // Parse what was read, then report.
            if len > 0 {
                let _ = tx.send(Block::Data { buf, len, offset });
            }
            let _ = tx.send(Block::Failed {
                err,
                offset: offset + len as u64,
            });
            return;
        }
        let eof = len < buf.len();
        if eof {
            if len > 0 {
                let _ = tx.send(Block::Data { buf, len, offset });
            }
            return;
        }
        match last_boundary(&buf[..len], parser, opts.max_record()) {
            Some(cut) if cut > 0 => {
                let mut next = free.try_recv().unwrap_or_else(|_| vec![0u8; size]);
                next.resize(size, 0);
                let tail = len - cut;
                next[..tail].copy_from_slice(&buf[cut..len]);
                if tx
                    .send(Block::Data {
                        buf,
                        len: cut,
                        offset,
                    })
                    .is_err()
                {
                    return;
                }
                offset += cut as u64;
                buf = next;
                len = tail;
            }
            _ => {
                // A line longer than the block: read past its end, keeping
                // only a sample.
                let sample = buf[..SAMPLE_BYTES.min(len)].to_vec();
                let start = offset;
                let mut skipped = len as u64;
                let rest_start = loop {
                    match read_full(&mut reader, &mut buf[..]) {
                        (0, None) => break None,
                        (k, None) => match memchr::memchr(b'\n', &buf[..k]) {
                            Some(i) => {
                                skipped += i as u64 + 1;
                                break Some((i + 1, k));
                            }
                            None => skipped += k as u64,
                        },
                        (k, Some(err)) => {
                            // Bytes before the error still belong to the huge line.
                            skipped += k as u64;
                            let _ = tx.send(Block::Huge {
                                offset: start,
                                len: skipped,
                                sample,
                            });
                            let _ = tx.send(Block::Failed {
                                err,
                                offset: start + skipped,
                            });
                            return;
                        }
                    }
                };
                let huge = Block::Huge {
                    offset: start,
                    len: skipped,
                    sample,
                };
                if tx.send(huge).is_err() {
                    return;
                }
                offset = start + skipped;
                match rest_start {
                    None => return,
                    Some((from, k)) => {
                        buf.copy_within(from..k, 0);
                        len = k - from;
                    }
                }
            }
        }
    }
}

/// Scans a stream with bounded memory: blocks are read on a helper thread
/// while the previous block is parsed (in parallel chunks).
pub fn scan_reader<R, P, S, F>(
    reader: R,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    R: Read + Send,
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    scan_stream(reader, 0, parser, opts, new_sink)
}

/// [`scan_reader`] for a stream whose first byte is at `base` in its input.
fn scan_stream<R, P, S, F>(
    reader: R,
    base: u64,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    R: Read + Send,
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let mut sink = new_sink();
    let mut tally = Tally::default();
    let mut error = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Block>(1);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        scope.spawn(move || produce(reader, base, parser, opts, tx, free_rx));
        for block in rx {
            match block {
                Block::Data { buf, len, offset } => {
                    let (s, t) = scan_slice(&buf[..len], offset, parser, opts, new_sink);
                    sink.append(s, tally.lines);
                    tally.append(t);
                    let _ = free_tx.send(buf);
                    opts.consumed(len as u64);
                }
                Block::Huge {
                    offset,
                    len,
                    sample,
                } => {
                    let mut t = Tally {
                        bytes: len,
                        ..Tally::default()
                    };
                    let loc = Loc {
                        offset,
                        line: 1,
                        lines: 1,
                    };
                    t.skip(SkipReason::TooLong, 1, loc, &sample);
                    tally.append(t);
                    opts.consumed(len);
                }
                Block::Failed { err, offset } => {
                    error = Some(Error::io(err, offset).at_line(tally.lines + 1));
                }
            }
        }
    });
    Scanned { sink, tally, error }
}

/// Bytes probed at a time when looking for a record boundary in a file.
const PROBE: usize = 64 * 1024;
/// Bytes of a line [`RecordParser::is_record_start`] is shown when a file
/// is cut into segments.
const START_PREFIX: usize = 256;

/// Reads as much of `buf` as the file holds at `offset` (short at EOF).
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The first record boundary at or after `from` in a file of `len` bytes:
/// the start of a line that is a record start (any line start for
/// single-line formats, or past `limit` bytes). The same function decides
/// where one segment ends and the next begins, so segments never overlap
/// nor leave a gap.
///
/// `None` when no line starts within one probe of `from`: no segment
/// starts there, and the segment before reaches on to the next boundary.
/// A long line is so probed once per segment it spans, never to its end
/// (a 2 GB file without a newline was read about len² / 2 MiB bytes).
#[cfg(unix)]
fn file_boundary<P: RecordParser>(
    file: &std::fs::File,
    len: u64,
    from: u64,
    parser: &P,
    limit: usize,
    probe: &mut Vec<u8>,
) -> io::Result<Option<u64>> {
    if from == 0 || from >= len {
        return Ok(Some(from.min(len)));
    }
    probe.resize(PROBE.max(START_PREFIX + 1), 0);
    let mut pos = from - 1; // the newline ending the line before may sit here
    let mut first_start = None;
    loop {
        let n = read_at(file, probe, pos)?;
        if n == 0 {
            return Ok(Some(len));
        }
        let Some(i) = memchr::memchr(b'\n', &probe[..n]) else {
            pos += n as u64;
            match first_start {
                None => return Ok(None),
                // Any line start found from here on is past the limit.
                Some(first) if pos - from > limit as u64 => return Ok(Some(first)),
                Some(_) => continue,
            }
        };
        let start = pos + i as u64 + 1;
        if start >= len {
            return Ok(Some(len));
        }
        if !P::MULTILINE {
            return Ok(Some(start));
        }
        let first = *first_start.get_or_insert(start);
        if start - from > limit as u64 {
            return Ok(Some(first));
        }
        // Look at the start of the line beginning at `start`.
        let k = read_at(file, &mut probe[..START_PREFIX], start)?;
        let line = &probe[..k];
        let line = trim_cr(memchr::memchr(b'\n', line).map_or(line, |j| &line[..j]));
        if parser.is_record_start(line) {
            return Ok(Some(start));
        }
        pos = start;
    }
}

/// A reader over `file[pos..end]` by positioned reads.
#[cfg(unix)]
struct RangeReader<'f> {
    file: &'f std::fs::File,
    pos: u64,
    end: u64,
}

#[cfg(unix)]
impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        let n = read_at(self.file, &mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Scans a regular file: it is cut into segments of about
/// `opts.chunk_size` bytes at record boundaries, and each worker reads its
/// own segment with a positioned read into a reused buffer and parses it
/// while the bytes are still in cache. Results are merged in file order,
/// a batch of segments at a time, so memory stays bounded by the workers'
/// buffers and what sinks keep. A segment longer than a block (a huge
/// line) is streamed instead, as [`scan_reader`] does.
///
/// The file's length is taken when the scan starts; bytes appended later
/// are not read.
pub fn scan_file<P, S, F>(
    file: &std::fs::File,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    #[cfg(unix)]
    {
        scan_file_unix(file, parser, opts, new_sink)
    }
    #[cfg(not(unix))]
    {
        scan_reader(file, parser, opts, new_sink)
    }
}

#[cfg(unix)]
fn scan_file_unix<P, S, F>(
    file: &std::fs::File,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    use std::cell::RefCell;

    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    let len = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return scan_reader(file, parser, opts, new_sink),
    };
    let segment = opts.chunk_size.max(4096) as u64;
    let limit = opts.max_record();
    let nseg = len.div_ceil(segment).max(1);
    let batch = (rayon::current_num_threads() as u64 * 8).max(1);
    let mut sink = new_sink();
    let mut tally = Tally::default();
    let mut error: Option<Error> = None;

    let run_segment = |k: u64| -> (S, Tally, Option<Error>) {
        let mut probe = Vec::new();
        let mut boundary = |at: u64| file_boundary(file, len, at, parser, limit, &mut probe);
        let bounds = boundary(k * segment).and_then(|a| {
            let Some(a) = a else {
                // Inside a long line: the segment before reads this one.
                return Ok(None);
            };
            let mut j = k + 1;
            loop {
                if let Some(b) = boundary((j * segment).min(len))? {
                    return Ok(Some((a, b.max(a))));
                }
                j += 1;
            }
        });
        let (a, b) = match bounds {
            Ok(Some(ab)) => ab,
            Ok(None) => return (new_sink(), Tally::default(), None),
            Err(e) => {
                return (
                    new_sink(),
                    Tally::default(),
                    Some(Error::io(e, k * segment)),
                );
            }
        };
        if b - a > opts.block_size as u64 {
            let r = RangeReader {
                file,
                pos: a,
                end: b,
            };
            let s = scan_stream(r, a, parser, opts, new_sink);
            return (s.sink, s.tally, s.error);
        }
        BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            buf.resize((b - a) as usize, 0);
            match read_at(file, &mut buf, a) {
                Ok(n) => {
                    opts.consumed(n as u64);
                    let mut sink = new_sink();
                    let t = scan_chunk(&buf[..n], a, &mut parser.clone(), opts, &mut sink);
                    let err = (n < buf.len()).then(|| {
                        Error::io(
                            io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "file shrank while being read",
                            ),
                            a + n as u64,
                        )
                    });
                    (sink, t, err)
                }
                Err(e) => (new_sink(), Tally::default(), Some(Error::io(e, a))),
            }
        })
    };

    let mut k0 = 0;
    while k0 < nseg && error.is_none() {
        let k1 = (k0 + batch).min(nseg);
        let parts: Vec<(S, Tally, Option<Error>)> = if opts.parallel {
            (k0..k1).into_par_iter().map(run_segment).collect()
        } else {
            (k0..k1).map(run_segment).collect()
        };
        for (s, t, e) in parts {
            if error.is_some() {
                break;
            }
            sink.append(s, tally.lines);
            let lines_before = tally.lines;
            tally.append(t);
            if let Some(e) = e {
                error = Some(e.at_line(lines_before + 1));
            }
        }
        k0 = k1;
    }
    Scanned { sink, tally, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line is a record.
    #[derive(Clone)]
    struct Lines;

    impl RecordParser for Lines {
        type Record<'a> = ();

        fn parse(&mut self, _: &[u8]) -> Result<(), SkipReason> {
            Ok(())
        }
    }

    fn input() -> Vec<u8> {
        let mut buf = Vec::new();
        for i in 0..40_000 {
            buf.extend_from_slice(format!("line {i} of the progress test\n").as_bytes());
        }
        // One line longer than a block, read past.
        buf.extend(std::iter::repeat_n(b'x', 300_000));
        buf.extend_from_slice(b"\nlast line without end");
        buf
    }

    fn opts(counter: &Arc<AtomicU64>) -> ScanOptions {
        ScanOptions {
            block_size: 128 << 10,
            chunk_size: 16 << 10,
            max_record: 64 << 10,
            progress: Some(counter.clone()),
            ..ScanOptions::default()
        }
    }

    #[test]
    fn progress_counts_every_byte_of_a_stream_once() {
        let buf = input();
        let counter = Arc::new(AtomicU64::new(0));
        let s = scan_reader(&buf[..], &Lines, &opts(&counter), &|| ());
        assert_eq!(s.tally.bytes, buf.len() as u64);
        assert_eq!(counter.load(Ordering::Relaxed), buf.len() as u64);
    }

    #[cfg(unix)]
    #[test]
    fn progress_counts_every_byte_of_a_file_once() {
        use std::io::Write;
        let buf = input();
        let path = std::env::temp_dir().join(format!("baton-scan-progress-{}", std::process::id()));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&buf)
            .unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let counter = Arc::new(AtomicU64::new(0));
        let s = scan_file(&file, &Lines, &opts(&counter), &|| ());
        std::fs::remove_file(&path).unwrap();
        assert_eq!(s.tally.bytes, buf.len() as u64);
        assert_eq!(counter.load(Ordering::Relaxed), buf.len() as u64);
    }
}
