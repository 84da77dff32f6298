//! The parallel scan of an enveloped input that can be read at any offset
//! (a regular file, a buffer): the envelope comes off inside each
//! segment's worker, not on one reader thread.
//!
//! The input is cut into segments of about `chunk_size` bytes before
//! envelope lines where a segment unwrapped on its own gives out the same
//! first line as the whole input would ([`segment_start`]), and, for
//! multi-line formats, where that line starts a record (or, past
//! `max_record` bytes, anywhere such a cut is allowed). Each worker reads
//! its segment, unwraps it with an [`Unwrapper`] of its own that assumes
//! no partial waits before it, and parses the container lines it gave out
//! with offsets from 0. The segments are then appended in input order:
//! line numbers and byte offsets are shifted by the lines and bytes given
//! out before, the envelope counts are added, and the partials left
//! waiting at the end of each segment are checked. When some did wait, the
//! next segment is unwrapped and parsed again after them, on the appending
//! thread, so the results are those of [`Unwrap`] read as a stream
//! whatever the segments.
//!
//! A segment longer than [`MAX_LINE`] (a huge line, or a stretch with no
//! place to cut) ends the parallel scan: the rest of the input is read as a
//! stream through [`Unwrap`], resumed where the segments left it.

use std::cell::RefCell;
use std::io::{self, Read};
use std::sync::Arc;

use rayon::prelude::*;

use super::{ScanOptions, Scanned, Sink, Tally, scan_chunk_at, scan_stream};
use crate::envelope::{
    Envelope, EnvelopeCounts, LineCounts, LineKind, MAX_LINE, ServiceFilter, Unwrap, Unwrapper,
    has_partials, line_kind, segment_start,
};
use crate::error::Error;
use crate::frame::{RecordParser, trim_cr};

/// Bytes read at a time when looking for a place to cut.
const PROBE: usize = 16 << 10;

/// An input of known length read by positioned reads.
trait Positioned: Sync {
    /// The input's length, taken once.
    fn size(&self) -> u64;
    /// Fills as much of `buf` as the input holds at `offset` (short at
    /// its end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The input from `offset` on, as a stream.
    fn stream_from(&self, offset: u64) -> Box<dyn Read + Send + '_>;
}

impl Positioned for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let from = (offset as usize).min(self.len());
        let n = buf.len().min(self.len() - from);
        buf[..n].copy_from_slice(&self[from..from + n]);
        Ok(n)
    }

    fn stream_from(&self, offset: u64) -> Box<dyn Read + Send + '_> {
        Box::new(&self[(offset as usize).min(self.len())..])
    }
}

/// A regular file and its length when the scan started (bytes appended
/// later are not read).
#[cfg(unix)]
struct FileAt<'f> {
    file: &'f std::fs::File,
    len: u64,
}

#[cfg(unix)]
impl Positioned for FileAt<'_> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let want = (self.len.saturating_sub(offset)).min(buf.len() as u64) as usize;
        super::read_at(self.file, &mut buf[..want], offset)
    }

    fn stream_from(&self, offset: u64) -> Box<dyn Read + Send + '_> {
        Box::new(super::RangeReader {
            file: self.file,
            pos: offset,
            end: self.len,
        })
    }
}

/// What is taken off and kept: the envelope, the service kept (for
/// `docker compose logs`), and where its counts go.
struct Envelope_<'a> {
    envelope: Envelope,
    only: Option<&'a ServiceFilter>,
    counts: &'a Arc<EnvelopeCounts>,
}

/// Scans a regular file in a container envelope: [`super::scan_file`]
/// with the envelope taken off inside each parallel segment, with the
/// results of [`Unwrap`] read as a stream by [`super::scan_reader`]
/// (line numbers and offsets of the container's lines, skip reasons, the
/// envelope's counts in `counts`). `only` keeps one service's lines of a
/// `docker compose logs` file.
pub fn scan_file_unwrapped<P, S, F>(
    file: &std::fs::File,
    envelope: Envelope,
    only: Option<&ServiceFilter>,
    counts: &Arc<EnvelopeCounts>,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let env = Envelope_ {
        envelope,
        only,
        counts,
    };
    #[cfg(unix)]
    if let Ok(m) = file.metadata()
        && m.is_file()
    {
        let at = FileAt { file, len: m.len() };
        return scan_positioned(&at, &env, parser, opts, new_sink);
    }
    let r = Unwrap::for_service(file, envelope, counts.clone(), only.cloned());
    super::scan_reader(r, parser, opts, new_sink)
}

/// [`scan_file_unwrapped`] over an enveloped input held in memory.
pub fn scan_slice_unwrapped<P, S, F>(
    buf: &[u8],
    envelope: Envelope,
    only: Option<&ServiceFilter>,
    counts: &Arc<EnvelopeCounts>,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let env = Envelope_ {
        envelope,
        only,
        counts,
    };
    scan_positioned(buf, &env, parser, opts, new_sink)
}

/// One segment unwrapped and parsed, its offsets from 0.
struct Part<S> {
    sink: S,
    tally: Tally,
    counts: LineCounts,
    /// Bytes given out.
    len: u64,
    /// The unwrapper, when partials still wait at the segment's end.
    waiting: Option<Unwrapper>,
    /// Whether the lines given out start with a byte order mark.
    bom: bool,
    error: Option<Error>,
}

/// What a worker did with segment `k`.
enum Segment<S> {
    /// No segment starts there (the one before reads on).
    Empty,
    /// `[a, b)`, unwrapped assuming no partial waits at `a` (once read).
    Done {
        a: u64,
        b: u64,
        part: Option<Box<Part<S>>>,
    },
    /// `[a, ..)` is longer than [`MAX_LINE`]: read from `a` as a stream.
    Long { a: u64 },
    /// Finding the segment failed.
    Failed(Error),
}

/// A segment unwrapped and parsed, not yet appended.
struct Held<S> {
    /// Where it starts.
    a: u64,
    /// The unwrapper it started with.
    entry: Unwrapper,
    /// Whether it starts the container's lines.
    first: bool,
    part: Part<S>,
}

/// What the segments appended so far hold.
struct Appended<S> {
    sink: S,
    tally: Tally,
    error: Option<Error>,
    /// The bytes they gave out.
    given: u64,
}

impl<S> Appended<S> {
    /// Appends the part after the others: its offsets and line numbers
    /// moved after theirs.
    fn append<P: RecordParser>(&mut self, mut part: Part<S>, counts: &EnvelopeCounts)
    where
        S: Sink<P>,
    {
        part.sink.shift_offsets(self.given);
        for s in &mut part.tally.samples {
            s.offset += self.given;
        }
        let lines_before = self.tally.lines;
        self.sink.append(part.sink, lines_before);
        self.tally.append(part.tally);
        part.counts.add_to(counts);
        self.given += part.len;
        if let Some(e) = part.error
            && self.error.is_none()
        {
            self.error = Some(e.at_line(lines_before + 1));
        }
    }
}

thread_local! {
    /// A worker's buffers: the segment as read, and the lines it gives out.
    static BUFS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Reads `[a, b)`, unwraps it after `unwrapper` and parses what it gives
/// out (offsets from 0; `first`: at the start of the container's lines).
#[allow(clippy::too_many_arguments)]
fn unwrap_segment<P, S, F>(
    src: &(impl Positioned + ?Sized),
    env: &Envelope_<'_>,
    (a, b): (u64, u64),
    first: bool,
    unwrapper: &mut Unwrapper,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
    (raw, out): &mut (Vec<u8>, Vec<u8>),
) -> Part<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let mut sink = new_sink();
    raw.resize((b - a) as usize, 0);
    let n = match src.read_at(raw, a) {
        Ok(n) => n,
        Err(e) => {
            return Part {
                sink,
                tally: Tally::default(),
                counts: LineCounts::default(),
                len: 0,
                waiting: None,
                bom: false,
                error: Some(Error::io(e, a)),
            };
        }
    };
    out.clear();
    let eof = b == src.size() && n == raw.len();
    let counts = unwrapper.lines(env.envelope, &raw[..n], eof, out);
    let tally = scan_chunk_at(out, 0, first, &mut parser.clone(), opts, &mut sink);
    let error = (n < raw.len()).then(|| {
        Error::io(
            io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being read"),
            a + n as u64,
        )
    });
    Part {
        sink,
        tally,
        counts,
        len: out.len() as u64,
        waiting: None,
        bom: out.starts_with(super::BOM),
        error,
    }
}

/// Scans the input from `from` on as a stream through [`Unwrap`], which
/// starts with `state`, after what `out` holds.
#[allow(clippy::too_many_arguments)]
fn stream_rest<P, S, F>(
    out: &mut Appended<S>,
    src: &(impl Positioned + ?Sized),
    env: &Envelope_<'_>,
    from: u64,
    state: Unwrapper,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    if out.error.is_some() {
        return;
    }
    let r = Unwrap::resume(
        src.stream_from(from),
        env.envelope,
        env.counts.clone(),
        state,
    );
    let s = scan_stream(r, out.given, parser, opts, new_sink);
    let lines_before = out.tally.lines;
    out.sink.append(s.sink, lines_before);
    out.tally.append(s.tally);
    out.error = s.error.map(|e| {
        let line = lines_before + e.line().unwrap_or(1);
        e.at_line(line)
    });
}

/// The bytes of the input from a place on, read a window at a time.
struct Window {
    buf: Vec<u8>,
    start: u64,
    len: usize,
}

impl Window {
    /// The bytes from `s` to the end of the window, holding at least one
    /// whole line when the line at `s` is shorter than [`PROBE`] (or ends
    /// the input).
    fn from(&mut self, src: &(impl Positioned + ?Sized), s: u64) -> io::Result<&[u8]> {
        let end = self.start + self.len as u64;
        let held = s >= self.start
            && s < end
            && (end == src.size()
                || memchr::memchr(b'\n', &self.buf[(s - self.start) as usize..self.len]).is_some());
        if !held {
            self.buf.resize(PROBE, 0);
            self.len = src.read_at(&mut self.buf, s)?;
            self.start = s;
        }
        Ok(&self.buf[(s - self.start) as usize..self.len])
    }
}

/// Where the segment that starts at or after `from` begins: the first
/// line start there where [`segment_start`] allows a cut and, for
/// multi-line formats, the first line given out starts a record (past
/// `limit` bytes, the first place a cut is allowed). `None` when there is
/// none within `limit` bytes and a probe: the segment before reads on. At
/// the end of the input, its length. The same function decides where one
/// segment ends and the next begins.
fn boundary<P: RecordParser>(
    src: &(impl Positioned + ?Sized),
    env: &Envelope_<'_>,
    from: u64,
    parser: &P,
    limit: usize,
    win: &mut Window,
    first: &mut Vec<u8>,
) -> io::Result<Option<u64>> {
    let len = src.size();
    if from == 0 || from >= len {
        return Ok(Some(from.min(len)));
    }
    let budget = from + (limit + PROBE) as u64;
    // The line holding `from - 1` ends first.
    let Some(mut s) = next_line(src, from - 1, budget, win)? else {
        return Ok(None);
    };
    let mut allowed = None;
    // The line before `s`, when it was seen whole (its kind is asked only
    // of a line that could start the segment).
    let mut prev = Vec::new();
    let mut prev_seen = false;
    loop {
        if s >= len {
            return Ok(Some(len));
        }
        if s - from > limit as u64 && allowed.is_some() {
            return Ok(allowed);
        }
        if s > budget {
            return Ok(allowed);
        }
        let rest = win.from(src, s)?;
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            // The last line, unterminated (the segment before takes it),
            // or a line longer than a probe.
            match next_line(src, s, budget, win)? {
                Some(next) => {
                    s = next;
                    prev_seen = false;
                    continue;
                }
                None => return Ok(allowed),
            }
        };
        if segment_start(env.envelope, env.only, rest, first) {
            let starts =
                !P::MULTILINE || parser.is_record_start(trim_cr(&first[..first.len() - 1]));
            if (starts || allowed.is_none())
                && (!has_partials(env.envelope)
                    || prev_seen && line_kind(env.envelope, &prev) != LineKind::Partial)
            {
                if starts {
                    return Ok(Some(s));
                }
                allowed = Some(s);
            }
        }
        prev.clear();
        prev.extend_from_slice(&rest[..nl]);
        prev_seen = true;
        s += nl as u64 + 1;
    }
}

/// The start of the line after the one holding `at` (the input's length
/// when there is none); `None` when it lies past `budget`.
fn next_line(
    src: &(impl Positioned + ?Sized),
    mut at: u64,
    budget: u64,
    win: &mut Window,
) -> io::Result<Option<u64>> {
    loop {
        if at >= src.size() {
            return Ok(Some(src.size()));
        }
        if at > budget {
            return Ok(None);
        }
        let rest = win.from(src, at)?;
        match memchr::memchr(b'\n', rest) {
            Some(i) => return Ok(Some(at + i as u64 + 1)),
            None if rest.is_empty() => return Ok(Some(src.size())),
            None => at += rest.len() as u64,
        }
    }
}

fn scan_positioned<P, S, F>(
    src: &(impl Positioned + ?Sized),
    env: &Envelope_<'_>,
    parser: &P,
    opts: &ScanOptions,
    new_sink: &F,
) -> Scanned<S>
where
    P: RecordParser,
    S: Sink<P>,
    F: Fn() -> S + Sync,
{
    let len = src.size();
    // Raw bytes per segment: twice a chunk, so that the lines it gives out
    // (a json-file line holds its message and about 80 bytes more) are
    // about a chunk, and the places to cut are probed half as often.
    let segment = 2 * opts.chunk_size.max(4096) as u64;
    let limit = opts.max_record();
    let nseg = len.div_ceil(segment).max(1);
    let batch = (rayon::current_num_threads() as u64 * 8).max(1);
    let fresh = || Unwrapper::for_service(env.only.cloned());

    // Where segment `k` starts (`None`: none starts there), or why that
    // could not be read.
    let bound = |k: u64| -> Result<Option<u64>, Error> {
        let mut win = Window {
            buf: Vec::new(),
            start: 0,
            len: 0,
        };
        let at = (k * segment).min(len);
        boundary(src, env, at, parser, limit, &mut win, &mut Vec::new())
            .map_err(|e| Error::io(e, at))
    };
    // A failed start, reported once: by the first segment that meets it
    // (the scan stops there).
    let take =
        |e: &mut Error| std::mem::replace(e, Error::io(io::Error::other("reported before"), 0));
    // What segment `k` is, given the starts of segments `k..`.
    let plan = |starts: &mut [Result<Option<u64>, Error>]| -> Segment<S> {
        let (head, tail) = starts.split_first_mut().expect("a start per segment");
        let a = match head {
            Ok(Some(a)) => *a,
            Ok(None) => return Segment::Empty,
            Err(e) => return Segment::Failed(take(e)),
        };
        let b = match tail.iter_mut().find(|b| !matches!(b, Ok(None))) {
            Some(Ok(Some(b))) => (*b).max(a),
            Some(Err(e)) => return Segment::Failed(take(e)),
            _ => unreachable!("the last start is known"),
        };
        if b - a > MAX_LINE as u64 {
            return Segment::Long { a };
        }
        Segment::Done { a, b, part: None }
    };
    let run_segment = |seg: Segment<S>| -> Segment<S> {
        let Segment::Done { a, b, part: None } = seg else {
            return seg;
        };
        let mut u = fresh();
        let mut part = BUFS.with(|cell| {
            let bufs = &mut *cell.borrow_mut();
            unwrap_segment(
                src,
                env,
                (a, b),
                a == 0,
                &mut u,
                parser,
                opts,
                new_sink,
                bufs,
            )
        });
        opts.consumed(b - a);
        if !u.is_idle() {
            part.waiting = Some(u);
        }
        Segment::Done {
            a,
            b,
            part: Some(Box::new(part)),
        }
    };

    let mut out = Appended {
        sink: new_sink(),
        tally: Tally::default(),
        error: None,
        given: 0,
    };
    // The last segment unwrapped, appended once the next one shows that
    // no partial waited between them.
    let mut held: Option<Held<S>> = None;
    let mut k0 = 0;
    'batches: while k0 < nseg {
        let k1 = (k0 + batch).min(nseg);
        // Each start is found once, then each segment is read.
        let mut starts: Vec<Result<Option<u64>, Error>> = if opts.parallel {
            (k0..=k1).into_par_iter().map(bound).collect()
        } else {
            (k0..=k1).map(bound).collect()
        };
        let mut j = k1;
        while matches!(starts.last(), Some(Ok(None))) {
            j += 1;
            starts.push(bound(j));
        }
        let plans: Vec<Segment<S>> = (k0..k1)
            .map(|k| plan(&mut starts[(k - k0) as usize..]))
            .collect();
        let parts: Vec<Segment<S>> = if opts.parallel {
            plans.into_par_iter().map(run_segment).collect()
        } else {
            plans.into_iter().map(run_segment).collect()
        };
        for seg in parts {
            match seg {
                Segment::Empty => {}
                Segment::Failed(e) => {
                    if let Some(h) = held.take() {
                        out.append(h.part, env.counts);
                    }
                    if out.error.is_none() {
                        out.error = Some(e.at_line(out.tally.lines + 1));
                    }
                    break 'batches;
                }
                Segment::Long { a } => {
                    // The rest goes through the stream reader, from the
                    // held segment when partials wait after it.
                    let (from, state) = match held.take() {
                        Some(h) if h.part.waiting.is_some() => (h.a, h.entry),
                        Some(h) => {
                            out.append(h.part, env.counts);
                            (a, fresh())
                        }
                        None => (a, fresh()),
                    };
                    stream_rest(&mut out, src, env, from, state, parser, opts, new_sink);
                    break 'batches;
                }
                Segment::Done { a, b, part } => {
                    let part = *part.expect("every segment is read");
                    let next = match held.take() {
                        Some(h) if h.part.waiting.is_some() && b - h.a > MAX_LINE as u64 => {
                            // Partials wait at every cut for too long: the
                            // rest goes through the stream reader.
                            stream_rest(&mut out, src, env, h.a, h.entry, parser, opts, new_sink);
                            break 'batches;
                        }
                        Some(h) if h.part.waiting.is_some() => {
                            // Partials wait between the held segment and
                            // this one: unwrap both again, as one.
                            let mut u = h.entry.clone();
                            let mut bufs = (Vec::new(), Vec::new());
                            let mut p = unwrap_segment(
                                src,
                                env,
                                (h.a, b),
                                h.first,
                                &mut u,
                                parser,
                                opts,
                                new_sink,
                                &mut bufs,
                            );
                            if !u.is_idle() {
                                p.waiting = Some(u);
                            }
                            Held {
                                a: h.a,
                                entry: h.entry,
                                first: h.first,
                                part: p,
                            }
                        }
                        held_before => {
                            if let Some(h) = held_before {
                                out.append(h.part, env.counts);
                            }
                            let first = out.given == 0;
                            let part = if part.bom && first != (a == 0) {
                                // Its first line starts the container's
                                // lines after all (those before were other
                                // services'): its byte order mark goes.
                                let mut u = fresh();
                                let mut bufs = (Vec::new(), Vec::new());
                                let mut p = unwrap_segment(
                                    src,
                                    env,
                                    (a, b),
                                    first,
                                    &mut u,
                                    parser,
                                    opts,
                                    new_sink,
                                    &mut bufs,
                                );
                                if !u.is_idle() {
                                    p.waiting = Some(u);
                                }
                                p
                            } else {
                                part
                            };
                            Held {
                                a,
                                entry: fresh(),
                                first,
                                part,
                            }
                        }
                    };
                    if next.part.error.is_some() {
                        out.append(next.part, env.counts);
                        break 'batches;
                    }
                    held = Some(next);
                }
            }
        }
        k0 = k1;
    }
    if let Some(h) = held.take() {
        out.append(h.part, env.counts);
    }
    Scanned {
        sink: out.sink,
        tally: out.tally,
        error: out.error,
    }
}
