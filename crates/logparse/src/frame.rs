//! Framing: bytes into physical lines and lines into records.
//!
//! This layer knows nothing of any format but two questions a format
//! answers ([`RecordParser::is_record_start`] and
//! [`RecordParser::continues`]): where records begin, and whether a line
//! belongs to the record before it (FastCGI stderr continuation lines,
//! slowlog frames). Everything else (finding line ends, `\r\n`, line numbers,
//! byte offsets, chunk boundaries for parallel parsing) lives here.
//!
//! A *line* is what the contract defines: the bytes up to a `\n`, or a
//! non-empty unterminated tail; a `\r` before the `\n` belongs to the line
//! end.

use memchr::{memchr, memrchr};

use crate::error::SkipReason;

/// Where a record stands in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Byte offset of the record's first byte in the (decoded) input.
    pub offset: u64,
    /// 1-based number of the record's first physical line.
    pub line: u64,
    /// How many physical lines the record spans (1 for single-line formats).
    pub lines: u32,
}

/// Turns one record (one or more physical lines, without the final line
/// end) into a typed value borrowing from it.
///
/// A parser is cloned once per parallel chunk, so it may keep caches (the
/// previous timestamp, say) in `&mut self`; clones must be cheap.
pub trait RecordParser: Clone + Send + Sync {
    /// The parsed record, borrowing from the input.
    type Record<'a>;

    /// Whether records may span several physical lines. When false,
    /// [`RecordParser::continues`] is never asked and every line is a record.
    const MULTILINE: bool = false;

    /// Whether `line` can begin a record. Parallel chunks and streaming
    /// blocks are only ever cut before such a line.
    fn is_record_start(&self, _line: &[u8]) -> bool {
        true
    }

    /// Whether `next` (a line that is not a record start) continues the
    /// record `head` read so far. Only asked when `MULTILINE` is true.
    fn continues(&self, _head: &[u8], _next: &[u8]) -> bool {
        false
    }

    /// Parses one record. A multi-line record holds its inner line ends
    /// (`\n`, perhaps `\r\n`); it never holds the final one.
    fn parse<'a>(&mut self, record: &'a [u8]) -> Result<Self::Record<'a>, SkipReason>;
}

/// Strips one trailing `\r`.
#[inline]
pub fn trim_cr(line: &[u8]) -> &[u8] {
    match line.last() {
        Some(b'\r') => &line[..line.len() - 1],
        _ => line,
    }
}

/// The physical lines of a buffer with their byte offsets (relative to the
/// buffer), found with `memchr`. Line ends (`\n`, `\r\n`) are not part of
/// the yielded line.
///
/// ```
/// use baton_logparse::frame::Lines;
/// let v: Vec<(usize, &[u8])> = Lines::new(b"a\r\nbc\n\nd").collect();
/// assert_eq!(v, [(0, &b"a"[..]), (3, b"bc"), (6, b""), (7, b"d")]);
/// ```
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    /// Lines of `buf`.
    pub fn new(buf: &'a [u8]) -> Lines<'a> {
        Lines { buf, pos: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        let start = self.pos;
        if start >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[start..];
        match memchr(b'\n', rest) {
            Some(i) => {
                self.pos = start + i + 1;
                Some((start, trim_cr(&rest[..i])))
            }
            None => {
                self.pos = self.buf.len();
                Some((start, trim_cr(rest)))
            }
        }
    }
}

/// Counts lines as the contract defines them: `\n` bytes plus one for a
/// non-empty unterminated tail.
pub fn count_lines(buf: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', buf).count() as u64;
    match buf.last() {
        Some(b'\n') | None => n,
        Some(_) => n + 1,
    }
}

/// Finds a cut point at or after `from`: the start of a line that is a
/// record start, or `buf.len()`. Searches at most `limit` bytes past `from`
/// for a record start; past that, any line start will do.
pub fn next_boundary<P: RecordParser>(buf: &[u8], from: usize, parser: &P, limit: usize) -> usize {
    if from == 0 {
        return 0;
    }
    if from >= buf.len() {
        return buf.len();
    }
    let mut pos = from;
    let mut first_line_start = None;
    // The line containing `from - 1` must end first.
    while let Some(i) = memchr(b'\n', &buf[pos - 1..]) {
        let start = pos - 1 + i + 1;
        if start >= buf.len() {
            return buf.len();
        }
        first_line_start.get_or_insert(start);
        if !P::MULTILINE || start - from > limit {
            return if P::MULTILINE {
                first_line_start.unwrap()
            } else {
                start
            };
        }
        let end = memchr(b'\n', &buf[start..]).map_or(buf.len(), |j| start + j);
        if parser.is_record_start(trim_cr(&buf[start..end])) {
            return start;
        }
        pos = end + 1;
        if pos > buf.len() {
            return buf.len();
        }
    }
    buf.len()
}

/// The last place in `buf` where a complete prefix can be cut off for
/// parsing while the rest waits for more input: after the last `\n` for
/// single-line formats, before the last record-start line for multi-line
/// ones (looking back at most `limit` bytes, then after the last `\n`).
/// `None` when `buf` holds no `\n` at all.
pub fn last_boundary<P: RecordParser>(buf: &[u8], parser: &P, limit: usize) -> Option<usize> {
    let last_nl = memrchr(b'\n', buf)?;
    if !P::MULTILINE {
        return Some(last_nl + 1);
    }
    // The line after the last newline is incomplete; look at complete lines
    // before it, newest first, for a record start.
    let floor = buf.len().saturating_sub(limit);
    let mut end = last_nl;
    while end > floor {
        let start = memrchr(b'\n', &buf[..end]).map_or(0, |i| i + 1);
        if start > 0 && parser.is_record_start(trim_cr(&buf[start..end])) {
            // Cutting before a record start leaves the record after it
            // (perhaps still growing) for the next block.
            return Some(start);
        }
        if start == 0 {
            break;
        }
        end = start - 1;
    }
    Some(last_nl + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Single;
    impl RecordParser for Single {
        type Record<'a> = &'a [u8];
        fn parse<'a>(&mut self, r: &'a [u8]) -> Result<&'a [u8], SkipReason> {
            Ok(r)
        }
    }

    #[derive(Clone)]
    struct Multi;
    impl RecordParser for Multi {
        type Record<'a> = &'a [u8];
        const MULTILINE: bool = true;
        fn is_record_start(&self, l: &[u8]) -> bool {
            l.first() == Some(&b'#')
        }
        fn continues(&self, _h: &[u8], _n: &[u8]) -> bool {
            true
        }
        fn parse<'a>(&mut self, r: &'a [u8]) -> Result<&'a [u8], SkipReason> {
            Ok(r)
        }
    }

    #[test]
    fn lines_match_naive_split() {
        let cases: [&[u8]; 6] = [b"", b"\n", b"a", b"a\n", b"a\r\n\r\nb\r", b"\n\nx\ny\n"];
        for c in cases {
            let got: Vec<&[u8]> = Lines::new(c).map(|(_, l)| l).collect();
            let mut want: Vec<&[u8]> = c.split(|&b| b == b'\n').map(trim_cr).collect();
            if c.last() == Some(&b'\n') || c.is_empty() {
                want.pop();
            }
            assert_eq!(got, want, "{c:?}");
            assert_eq!(count_lines(c), want.len() as u64, "{c:?}");
        }
    }

    #[test]
    fn boundaries_single_line() {
        let b = b"aaa\nbbb\nccc";
        assert_eq!(next_boundary(b, 0, &Single, 100), 0);
        assert_eq!(next_boundary(b, 1, &Single, 100), 4);
        assert_eq!(next_boundary(b, 4, &Single, 100), 4);
        assert_eq!(next_boundary(b, 5, &Single, 100), 8);
        assert_eq!(next_boundary(b, 9, &Single, 100), 11);
        assert_eq!(last_boundary(b, &Single, 100), Some(8));
        assert_eq!(last_boundary(b"abc", &Single, 100), None);
    }

    #[test]
    fn boundaries_multi_line_only_before_record_starts() {
        let b = b"#a\n cont\n cont\n#b\n cont\n#c";
        assert_eq!(next_boundary(b, 1, &Multi, 100), 15);
        assert_eq!(next_boundary(b, 16, &Multi, 100), 24);
        assert_eq!(last_boundary(b, &Multi, 100), Some(15));
        // With a lookback limit too small, fall back to the last newline.
        assert_eq!(last_boundary(b, &Multi, 2), Some(24));
    }
}
