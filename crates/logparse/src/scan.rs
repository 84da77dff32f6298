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
use std::sync::mpsc;

use rayon::prelude::*;

use crate::error::{Error, SkipReason};
use crate::frame::{Loc, RecordParser, last_boundary, next_boundary, trim_cr};

/// How many skipped lines of each reason keep their text as samples.
pub const SAMPLES_PER_REASON: usize = 3;
/// How many bytes of a skipped line a sample keeps.
pub const SAMPLE_BYTES: usize = 200;

/// Receives parsed records of one chunk, and merges with the sink of the
/// chunk after it.
pub trait Sink<P: RecordParser>: Send + Sized {
    /// One parsed record at `loc` (line numbers relative to the chunk until
    /// merged; see [`Sink::append`]).
    fn record(&mut self, record: P::Record<'_>, loc: Loc);

    /// Appends the sink of the chunk that follows this one in input order.
    /// Line numbers kept by `later` are relative to its chunk: add
    /// `line_shift` to them.
    fn append(&mut self, later: Self, line_shift: u64);
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
#[derive(Debug, Clone, Copy)]
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
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            block_size: 8 << 20,
            chunk_size: 1 << 20,
            max_record: 1 << 20,
            parallel: true,
        }
    }
}

impl ScanOptions {
    fn max_record(&self) -> usize {
        self.max_record.min(self.block_size / 2).max(1)
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
    let max_record = opts.max_record();
    let mut t = Tally {
        bytes: buf.len() as u64,
        ..Tally::default()
    };
    let mut pos = 0usize;
    while pos < buf.len() {
        // One record: its first line, then continuation lines.
        let start = pos;
        let mut end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let mut nlines = 1u32;
        let mut next = (end + 1).min(buf.len());
        if P::MULTILINE {
            while next < buf.len() {
                let nend = memchr::memchr(b'\n', &buf[next..]).map_or(buf.len(), |i| next + i);
                let nline = trim_cr(&buf[next..nend]);
                if nend - start > max_record
                    || parser.is_record_start(nline)
                    || !parser.continues(trim_cr(&buf[start..end]), nline)
                {
                    break;
                }
                end = nend;
                nlines += 1;
                next = (nend + 1).min(buf.len());
            }
        }
        pos = end + 1;
        let rec = trim_cr(&buf[start..end]);
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
                    sink.record(r, loc);
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
    parser: &P,
    opts: &ScanOptions,
    tx: mpsc::SyncSender<Block>,
    free: mpsc::Receiver<Vec<u8>>,
) {
    let size = opts.block_size.max(64);
    let mut offset = 0u64; // offset of buf[0]
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
    let mut sink = new_sink();
    let mut tally = Tally::default();
    let mut error = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Block>(1);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        scope.spawn(move || produce(reader, parser, opts, tx, free_rx));
        for block in rx {
            match block {
                Block::Data { buf, len, offset } => {
                    let (s, t) = scan_slice(&buf[..len], offset, parser, opts, new_sink);
                    sink.append(s, tally.lines);
                    tally.append(t);
                    let _ = free_tx.send(buf);
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
                }
                Block::Failed { err, offset } => {
                    error = Some(Error::io(err, offset).at_line(tally.lines + 1));
                }
            }
        }
    });
    Scanned { sink, tally, error }
}
