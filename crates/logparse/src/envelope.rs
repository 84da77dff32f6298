//! Container envelopes: framing around the log lines a container wrote,
//! taken off before detection (framing apart from format).
//!
//! | envelope | one line of it |
//! | --- | --- |
//! | [`Envelope::DockerJson`], Docker's `json-file` driver | `{"log":"2017/05/10 06:50:00 [error] ...\n","stream":"stderr","time":"2017-05-10T06:50:00.434167704Z"}` |
//! | [`Envelope::Timestamped`], `docker logs -t`, `kubectl logs --timestamps` | `2017-05-10T06:50:00.434167704Z 2017/05/10 06:50:00 [error] ...` |
//! | [`Envelope::Cri`], the CRI log format (containerd, CRI-O: `/var/log/pods`) | `2023-11-06T21:09:49.65381919Z stderr F [06-Nov-2023 21:09:49] WARNING: ...` |
//! | [`Envelope::Compose`], `docker compose logs` (with `-t` too) | `nginx_1  \| 2020/06/04 10:00:00 [error] ...` |
//!
//! [`Unwrap`] turns an enveloped stream into the stream the container
//! wrote: each envelope line gives its message, partial lines (a
//! `json-file` `log` without its final `\n`, a CRI `P` line) are rejoined
//! with the rest of their stream's line, and a line that is not in the
//! envelope passes through as it is (the format's parser then counts it
//! skipped, with its reason). Detection and the format parsers then read
//! the container's own lines: the inner line's own time is the record's
//! time, and a `line` of an enveloped input is a line the container wrote
//! (its partials rejoined; [`EnvelopeCounts`] says how many there were).
//!
//! A regular file's envelope comes off inside the parallel scan instead
//! ([`crate::scan::scan_file_unwrapped`]): each segment's worker unwraps
//! its own lines with an [`Unwrapper`], with the results of [`Unwrap`].
//!
//! The envelope's time is an instant in UTC: set beside the offset-less
//! time of the line inside it (nginx's error log, php-fpm's log) it tells
//! that line's zone ([`zone_hint`]).
//!
//! Memory: one input buffer and one output buffer per stream, reused;
//! a JSON `log` value is unescaped into the output buffer directly.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr;

use crate::bytes::Byte;
use crate::frame::{Lines, trim_cr};
use crate::journal::json_unescape;
use crate::json::{Members, Value};
use crate::time::{Timestamp, parse_iso8601, parse_naive_slash};

/// The envelopes baton takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// Docker's `json-file` log driver (`/var/lib/docker/containers/ID/ID-json.log`).
    DockerJson,
    /// An RFC 3339 prefix: `docker logs -t`, `kubectl logs --timestamps`.
    Timestamped,
    /// The CRI log format: `TIME STREAM P|F MESSAGE`.
    Cri,
    /// `docker compose logs` / `docker-compose logs`: `name  | MESSAGE`,
    /// with an RFC 3339 time after the bar under `-t`.
    Compose,
}

impl Envelope {
    /// The name shown in `baton stats` (`docker-json`, `timestamps`, `cri`,
    /// `compose`).
    pub fn as_str(self) -> &'static str {
        match self {
            Envelope::DockerJson => "docker-json",
            Envelope::Timestamped => "timestamps",
            Envelope::Cri => "cri",
            Envelope::Compose => "compose",
        }
    }

    /// Every envelope, in the order [`sniff`] tries them (the most
    /// specific first: a CRI line is also a timestamped line).
    pub const ALL: [Envelope; 4] = [
        Envelope::DockerJson,
        Envelope::Cri,
        Envelope::Compose,
        Envelope::Timestamped,
    ];
}

/// Which of a container's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (nginx's access log in the official image).
    Stdout,
    /// Standard error (nginx's error log, php-fpm's log).
    Stderr,
    /// Not said by the envelope.
    Unknown,
}

impl Stream {
    fn of(b: &[u8]) -> Option<Stream> {
        match b {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
            Stream::Unknown => 2,
        }
    }
}

/// The message of an envelope line, as written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// The bytes themselves.
    Raw(&'a [u8]),
    /// The inside of a JSON string, escapes undecoded.
    Escaped(&'a [u8]),
}

/// One envelope line taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wrapped<'a> {
    /// The envelope's time (when the runtime read the line).
    pub time: Option<Timestamp>,
    /// The stream.
    pub stream: Stream,
    /// Whether the line goes on in the next line of its stream (a CRI `P`
    /// line; a `json-file` `log` without its final `\n`).
    pub partial: bool,
    /// The compose service (`nginx_1`, `wordpress-1`), empty otherwise.
    pub name: &'a [u8],
    /// The message, without the line end the envelope carried.
    pub message: Message<'a>,
}

/// An RFC 3339 time followed by one space at the start of `line`
/// (`2017-05-10T06:50:00.434167704Z `, `2016-10-06T00:17:09.669794202+00:00 `),
/// with the rest of the line (the time as written: [`prefix`] reads it). The offset must be `Z` or `±HH:MM`, as
/// Docker, Kubernetes and the CRI runtimes write it.
fn rfc3339_token(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.len() < 21 || line[10] != b'T' || line[4] != b'-' {
        return None;
    }
    let sp = memchr(b' ', &line[..line.len().min(40)])?;
    let token = &line[..sp];
    let tail = token.last()?;
    let zone_ok = *tail == b'Z'
        || (token.len() > 6
            && token[token.len() - 3] == b':'
            && matches!(token[token.len() - 6], b'+' | b'-'));
    let digits = |r: std::ops::Range<usize>| token[r].iter().all(u8::is_ascii_digit);
    if !zone_ok
        || token.len() < 20
        || !(digits(0..4) && digits(5..7) && digits(8..10) && token[7] == b'-')
        || !(digits(11..13) && token[13] == b':' && digits(14..16) && token[16] == b':')
    {
        return None;
    }
    Some((token, &line[sp + 1..]))
}

/// Skips ANSI colour sequences (`ESC [ ... m`) at the start of `b`.
fn skip_ansi(mut b: &[u8]) -> &[u8] {
    while let [0x1b, b'[', rest @ ..] = b {
        match rest.iter().position(|c| c.is_ascii_alphabetic()) {
            Some(i) => b = &rest[i + 1..],
            None => return b,
        }
    }
    b
}

/// Takes one line apart as `envelope`; `None` when it is not such a line.
pub fn unwrap_line(envelope: Envelope, line: &[u8]) -> Option<Wrapped<'_>> {
    unwrap_timed(envelope, line, true)
}

/// An RFC 3339 prefix, its time read only when `timed`.
fn prefix(line: &[u8], timed: bool) -> Option<(Option<Timestamp>, &[u8])> {
    let (token, rest) = rfc3339_token(line)?;
    if !timed {
        return Some((None, rest));
    }
    Some((Some(parse_iso8601(token)?), rest))
}

/// [`unwrap_line`], reading the envelope's time only when `timed` (the
/// reader does not: only the sample's times tell the zone).
fn unwrap_timed(envelope: Envelope, line: &[u8], timed: bool) -> Option<Wrapped<'_>> {
    match envelope {
        Envelope::DockerJson => docker_json(line, timed),
        Envelope::Timestamped => {
            let (time, rest) = prefix(line, timed)?;
            Some(Wrapped {
                time,
                stream: Stream::Unknown,
                partial: false,
                name: b"",
                message: Message::Raw(rest),
            })
        }
        Envelope::Cri => {
            let (time, rest) = prefix(line, timed)?;
            let sp = memchr(b' ', rest)?;
            let stream = Stream::of(&rest[..sp])?;
            let rest = &rest[sp + 1..];
            let partial = match rest.first()? {
                b'P' => true,
                b'F' => false,
                _ => return None,
            };
            // The tag may carry more `:`-separated fields (`F:x`) in later
            // versions of the format; the message follows one space.
            let sp = memchr(b' ', rest);
            let (tag, message) = match sp {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            if tag.len() > 1 && tag[1] != b':' {
                return None;
            }
            Some(Wrapped {
                time,
                stream,
                partial,
                name: b"",
                message: Message::Raw(message),
            })
        }
        Envelope::Compose => {
            let b = skip_ansi(line);
            let name_len = b
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')))?;
            if name_len == 0 {
                return None;
            }
            let name = &b[..name_len];
            let mut rest = skip_ansi(&b[name_len..]);
            let pad = rest.iter().take_while(|c| **c == b' ').count();
            if pad == 0 {
                return None;
            }
            rest = &rest[pad..];
            rest = rest.strip_prefix(b"|")?;
            rest = skip_ansi(rest);
            rest = match rest {
                [] => rest,
                // Compose v2 ends the colour after the space.
                [b' ', r @ ..] => skip_ansi(r),
                _ => return None,
            };
            let (time, message) = match prefix(rest, timed) {
                Some((t, m)) => (t, m),
                None => (None, rest),
            };
            Some(Wrapped {
                time,
                stream: Stream::Unknown,
                partial: false,
                name,
                message: Message::Raw(message),
            })
        }
    }
}

/// A `json-file` line: `log`, `stream` and `time` members (`attrs` and
/// others are let be).
fn docker_json(line: &[u8], timed: bool) -> Option<Wrapped<'_>> {
    let mut m = Members::new(line).ok()?;
    let (mut log, mut stream, mut time) = (None, Stream::Unknown, None);
    while let Some((key, value)) = m.next_member().ok()? {
        match (key, value) {
            (b"log", Value::Str(s)) => log = Some(s),
            (b"stream", Value::Str(s)) => stream = Stream::of(s).unwrap_or(Stream::Unknown),
            (b"time", Value::Str(s)) if timed => time = parse_iso8601(s),
            _ => {}
        }
    }
    let log = log?;
    let (partial, log) = match log.strip_suffix(b"\\n") {
        // `\\n` is an escaped backslash and an `n`, not a line end.
        Some(l) if !ends_in_escape(l) => (false, l),
        _ => (true, log),
    };
    let log = match log.strip_suffix(b"\\r") {
        Some(l) if !partial && !ends_in_escape(l) => l,
        _ => log,
    };
    Some(Wrapped {
        time,
        stream,
        partial,
        name: b"",
        message: Message::Escaped(log),
    })
}

/// An escape [`unescape_string`] decoded: where it stands in the string,
/// what it was (`n` for `\n`, `r` for `\r`, 0 for any other), and how
/// long the output was before it.
#[derive(Debug, Clone, Copy)]
struct Escape {
    start: usize,
    end: usize,
    kind: u8,
    out_before: usize,
}

/// The index of the first quote, backslash or line end in `c` (16 when
/// there is none): one SSE2 compare per needle.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn first_special(c: &[u8; 16]) -> usize {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };
    let x = u128::from_le_bytes(*c);
    // SAFETY: these intrinsics only require SSE2, which this code is
    // compiled for (`target_feature = "sse2"`, part of every x86-64 CPU);
    // they take and give values, no pointers.
    let m = unsafe {
        let v = _mm_set_epi64x((x >> 64) as i64, x as i64);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let escape = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let newline = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, escape), newline))
    };
    // Bit 16 stops the count at 16 when no byte is one of them.
    (m as u32 | 1 << 16).trailing_zeros() as usize
}

/// The index of the first quote, backslash or line end in `c` (16 when
/// there is none), a word at a time.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn first_special(c: &[u8; 16]) -> usize {
    first_special_words(c)
}

/// [`first_special`] without SIMD: two words of eight bytes.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(test)),
    allow(dead_code)
)]
#[inline(always)]
fn first_special_words(c: &[u8; 16]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `x` that is a needle, and no other bit.
    // Exact: for `t = x ^ needle`, `(t & 0x7f) + 0x7f` sets a byte's high
    // bit (and never carries out of the byte) exactly when its low seven
    // bits are not all zero.
    let specials = |x: u64| {
        let nonzero = |t: u64| (t & LOW7).wrapping_add(LOW7) | t;
        let quote = nonzero(x ^ (ONES * b'"' as u64));
        let escape = nonzero(x ^ (ONES * b'\\' as u64));
        let newline = nonzero(x ^ (ONES * b'\n' as u64));
        !(quote & escape & newline) & !LOW7
    };
    let x = u128::from_le_bytes(*c);
    let (lo, hi) = (specials(x as u64), specials((x >> 64) as u64));
    if lo != 0 {
        lo.trailing_zeros() as usize / 8
    } else {
        (8 + hi.trailing_zeros() / 8).min(16) as usize
    }
}

/// Copies `s[r..]` onto `out` up to the first quote, backslash or line
/// end, and says where that is (`s.len()` when there is none): 16 bytes
/// a time, with no search restarted per call.
#[inline(always)]
fn copy_plain(s: &[u8], mut r: usize, out: &mut Vec<u8>) -> usize {
    while let Some(c) = s.get(r..).and_then(<[u8]>::first_chunk::<16>) {
        let k = first_special(c);
        out.extend_from_slice(c);
        if k < 16 {
            out.truncate(out.len() - 16 + k);
            return r + k;
        }
        r += 16;
    }
    while let Some(&c) = s.get(r) {
        if matches!(c, b'"' | b'\\' | b'\n') {
            return r;
        }
        out.push(c);
        r += 1;
    }
    r
}

/// The index of the first quote, backslash or line end in `s`.
#[inline(always)]
fn find_special(s: &[u8]) -> Option<usize> {
    let mut r = 0;
    while let Some(c) = s.get(r..).and_then(<[u8]>::first_chunk::<16>) {
        let k = first_special(c);
        if k < 16 {
            return Some(r + k);
        }
        r += 16;
    }
    let k = s[r..]
        .iter()
        .position(|c| matches!(c, b'"' | b'\\' | b'\n'))?;
    Some(r + k)
}

/// Decodes the inside of a JSON string that starts at `s[0]` onto `out`,
/// in the same pass that finds its closing quote (as
/// [`json_unescape`] decodes it, and the member reader finds its end).
/// Returns the quote's index and the last two escapes, or `None` when the
/// string does not end in `s` or a line end comes first (`s` may run on
/// past its line: the lines after it are not read).
#[inline]
fn unescape_string(s: &[u8], out: &mut Vec<u8>) -> Option<(usize, [Option<Escape>; 2])> {
    let mut last: [Option<Escape>; 2] = [None, None];
    let mut i = 0;
    loop {
        i = copy_plain(s, i, out);
        match s.get(i) {
            Some(b'"') => return Some((i, last)),
            Some(b'\\') => {}
            _ => return None,
        }
        let out_before = out.len();
        // The escapes Docker writes most, decoded here; the others as
        // `json_unescape` decodes them. A `\` that ends the line ends no
        // string.
        let next = s.get(i + 1).copied();
        // An escaped quote first: the one access lines hold most.
        if next == Some(b'"') {
            out.push(b'"');
            last = [
                last[1],
                Some(Escape {
                    start: i,
                    end: i + 2,
                    kind: 0,
                    out_before,
                }),
            ];
            i += 2;
            continue;
        }
        let (used, kind) = match next {
            None | Some(b'\n') => return None,
            Some(c @ (b'\\' | b'/')) => {
                out.push(c);
                (2, 0)
            }
            Some(b'n') => {
                out.push(b'\n');
                (2, b'n')
            }
            Some(b'r') => {
                out.push(b'\r');
                (2, b'r')
            }
            Some(b't') => {
                out.push(b'\t');
                (2, 0)
            }
            Some(_) => (crate::journal::unescape_one(s, i, out), 0),
        };
        last = [
            last[1],
            Some(Escape {
                start: i,
                end: i + used,
                kind,
                out_before,
            }),
        ];
        i += used;
    }
}

/// A `json-file` line as Docker writes it,
/// `{"log":"...","stream":"stdout","time":"..."}`, at the start of `line`,
/// its message decoded onto `out` in one pass: the stream, whether the
/// message is partial, and how many bytes of `line` the envelope line
/// took (`end` is given the bytes after its `"}` and says how many of them
/// are the line's too, or `None` when they do not end it). Exactly what
/// [`docker_json`] and [`json_unescape`] give for such a line (its final
/// `\n`, and a `\r` before it, are not part of the message); `None`, with
/// `out` as it was, for any other shape, which they then read.
#[inline]
fn docker_json_fast(
    line: &[u8],
    out: &mut Vec<u8>,
    end: impl Fn(&[u8]) -> Option<usize>,
) -> Option<(Stream, bool, usize)> {
    let rest = line.strip_prefix(br#"{"log":""#)?;
    let o = out.len();
    let read = unescape_string(rest, out).and_then(|(q, last)| {
        let t = rest[q + 1..].strip_prefix(br#","stream":""#)?;
        let (stream, t) = if let Some(t) = t.strip_prefix(br#"stdout""#) {
            (Stream::Stdout, t)
        } else {
            (Stream::Stderr, t.strip_prefix(br#"stderr""#)?)
        };
        let t = t.strip_prefix(br#","time":""#)?;
        let t = t[find_special(t)?..].strip_prefix(br#""}"#)?;
        let taken = line.len() - t.len() + end(t)?;
        Some((q, last, stream, taken))
    });
    let Some((q, [before, last], stream, taken)) = read else {
        out.truncate(o);
        return None;
    };
    match last {
        Some(n) if n.kind == b'n' && n.end == q => {
            out.truncate(n.out_before);
            if let Some(r) = before
                && r.kind == b'r'
                && r.end == n.start
            {
                out.truncate(r.out_before);
            }
            Some((stream, false, taken))
        }
        _ => Some((stream, true, taken)),
    }
}

/// What may follow a `json-file` line's `"}` on its own line: blanks.
fn blank_to_end(t: &[u8]) -> Option<usize> {
    t.iter()
        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .then_some(t.len())
}

/// The line end right after a `json-file` line's `"}` (`\n`, `\r\n`):
/// its length.
fn line_end(t: &[u8]) -> Option<usize> {
    match t {
        [b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

/// Whether `s` ends inside an escape: an odd run of backslashes.
fn ends_in_escape(s: &[u8]) -> bool {
    s.iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1
}

/// How many non-empty lines [`sniff`] judges.
const SNIFF_LINES: usize = 200;

/// The envelope of a sample, when at least half of its first non-empty
/// lines are in it (and more than any other envelope holds).
pub fn sniff(sample: &[u8]) -> Option<Envelope> {
    let lines: Vec<&[u8]> = Lines::new(sample)
        .map(|(_, l)| l)
        .filter(|l| !l.trim_ascii().is_empty())
        .take(SNIFF_LINES)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut best: Option<(Envelope, usize)> = None;
    for env in Envelope::ALL {
        let n = lines
            .iter()
            .filter(|l| unwrap_line(env, l).is_some())
            .count();
        if n * 2 >= lines.len() && n > 0 && best.is_none_or(|(_, b)| n > b) {
            best = Some((env, n));
        }
    }
    best.map(|(e, _)| e)
}

/// What unwrapping counted, shared with the reader that does it.
#[derive(Debug, Default)]
pub struct EnvelopeCounts {
    /// Physical lines of the enveloped input.
    pub physical: AtomicU64,
    /// Partial pieces rejoined into the line after them.
    pub partials: AtomicU64,
    /// Lines not in the envelope, passed through as they were.
    pub unwrapped: AtomicU64,
}

/// Which lines of a `docker compose logs` stream one input keeps: one
/// service's (the filters [`services`] gives), so that each container of
/// a stack is read as the log it is (nginx's beside php-fpm's), not as one
/// mixed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFilter {
    /// The service kept (`shop-nginx-1`, `nginx_1`).
    pub name: Vec<u8>,
    /// Also keep the lines no other filter keeps: lines outside the
    /// envelope and services not in `known` (first seen after the sample).
    pub strays: bool,
    /// Every service some filter keeps.
    pub known: std::sync::Arc<[Vec<u8>]>,
}

impl ServiceFilter {
    /// Whether a line of `service` (`None`: not in the envelope) is kept.
    pub fn keeps(&self, service: Option<&[u8]>) -> bool {
        match service {
            Some(n) if n == self.name.as_slice() => true,
            Some(n) => self.strays && !self.known.iter().any(|k| k.as_slice() == n),
            None => self.strays,
        }
    }
}

/// The compose services of an enveloped sample, in the order they first
/// appear; one filter per service, the first keeping the strays.
pub fn services(sample: &[u8]) -> Vec<ServiceFilter> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    for (_, l) in Lines::new(sample) {
        if let Some(w) = unwrap_line(Envelope::Compose, l)
            && !names.iter().any(|n| n.as_slice() == w.name)
        {
            names.push(w.name.to_vec());
        }
    }
    let known: std::sync::Arc<[Vec<u8>]> = names.clone().into();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| ServiceFilter {
            name,
            strays: i == 0,
            known: known.clone(),
        })
        .collect()
}

/// A snapshot of [`EnvelopeCounts`], for `baton stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeSummary {
    /// The envelope.
    pub envelope: Envelope,
    /// Physical lines of the enveloped input.
    pub physical_lines: u64,
    /// Partial pieces rejoined.
    pub partials: u64,
    /// Lines that were not in the envelope.
    pub not_enveloped: u64,
}

impl EnvelopeCounts {
    /// A snapshot.
    pub fn summary(&self, envelope: Envelope) -> EnvelopeSummary {
        EnvelopeSummary {
            envelope,
            physical_lines: self.physical.load(Ordering::Relaxed),
            partials: self.partials.load(Ordering::Relaxed),
            not_enveloped: self.unwrapped.load(Ordering::Relaxed),
        }
    }
}

/// Longest line or rejoined partial held in memory; past it, the bytes go
/// through as they are (the scan driver then skips them as `too_long`).
pub(crate) const MAX_LINE: usize = 4 << 20;

/// Takes one line apart and appends the container's line(s) to `out`:
/// what [`Unwrap`] does per line, with the partials of each stream kept in
/// `pending`.
#[derive(Debug, Clone)]
pub struct Unwrapper {
    pending: [Vec<u8>; 3],
    scratch: Vec<u8>,
    only: Option<ServiceFilter>,
    /// The ends of lines, and of JSON strings.
    newline: Byte,
}

impl Default for Unwrapper {
    fn default() -> Unwrapper {
        Unwrapper {
            pending: Default::default(),
            scratch: Vec::new(),
            only: None,
            newline: Byte::new(b'\n'),
        }
    }
}

/// What [`Unwrapper::line`] did with one physical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unwrapped {
    /// An envelope line: its message went out (or waits, when partial).
    Inside {
        /// A partial piece, rejoined with the rest of its line.
        partial: bool,
    },
    /// Not in the envelope: the line went out as it was.
    Outside,
    /// Another service's line, left to that service's input.
    Other,
}

impl Unwrapper {
    /// An unwrapper keeping only the lines `only` keeps.
    pub fn for_service(only: Option<ServiceFilter>) -> Unwrapper {
        Unwrapper {
            only,
            ..Unwrapper::default()
        }
    }

    /// Unwraps one physical line (without its line end) into `out`, each
    /// container line ending in `\n`.
    pub fn line(&mut self, envelope: Envelope, line: &[u8], out: &mut Vec<u8>) -> Unwrapped {
        if envelope == Envelope::DockerJson && self.only.is_none() {
            let o = out.len();
            if let Some((stream, partial, _)) = docker_json_fast(trim_cr(line), out, blank_to_end) {
                return self.place(stream, partial, o, out);
            }
        }
        let Some(w) = unwrap_timed(envelope, trim_cr(line), false) else {
            if self.only.as_ref().is_some_and(|f| !f.keeps(None)) {
                return Unwrapped::Other;
            }
            out.extend_from_slice(line);
            out.push(b'\n');
            return Unwrapped::Outside;
        };
        if self.only.as_ref().is_some_and(|f| !f.keeps(Some(w.name))) {
            return Unwrapped::Other;
        }
        let pending = &mut self.pending[w.stream.index()];
        let msg: &[u8] = match w.message {
            Message::Raw(m) => m,
            Message::Escaped(m) => {
                self.scratch.clear();
                json_unescape(m, &mut self.scratch);
                &self.scratch
            }
        };
        if w.partial && pending.len() + msg.len() < MAX_LINE {
            pending.extend_from_slice(msg);
            return Unwrapped::Inside { partial: true };
        }
        out.extend_from_slice(pending);
        pending.clear();
        out.extend_from_slice(msg);
        out.push(b'\n');
        Unwrapped::Inside { partial: w.partial }
    }

    /// Places a message decoded onto `out[o..]`: kept back with the
    /// pieces before it when partial, else given out after them.
    #[inline]
    fn place(&mut self, stream: Stream, partial: bool, o: usize, out: &mut Vec<u8>) -> Unwrapped {
        let pending = &mut self.pending[stream.index()];
        if partial && pending.len() + (out.len() - o) < MAX_LINE {
            pending.extend_from_slice(&out[o..]);
            out.truncate(o);
            return Unwrapped::Inside { partial: true };
        }
        if !pending.is_empty() {
            self.scratch.clear();
            self.scratch.extend_from_slice(&out[o..]);
            out.truncate(o);
            out.extend_from_slice(pending);
            pending.clear();
            out.extend_from_slice(&self.scratch);
        }
        out.push(b'\n');
        Unwrapped::Inside { partial }
    }

    /// Unwraps the physical lines of `buf` into `out` as [`Unwrap`] does:
    /// each line ending in `\n`, and at the end of the input (`eof`) an
    /// unterminated last line too, then the partials still waiting.
    pub(crate) fn lines(
        &mut self,
        envelope: Envelope,
        buf: &[u8],
        eof: bool,
        out: &mut Vec<u8>,
    ) -> LineCounts {
        let mut c = LineCounts::default();
        let mut at = 0;
        let newline = self.newline;
        // Docker's own lines are taken whole, their ends found as their
        // messages are decoded; any other line as `line` takes it.
        let docker = envelope == Envelope::DockerJson && self.only.is_none();
        loop {
            if docker {
                let o = out.len();
                if let Some((stream, partial, n)) = docker_json_fast(&buf[at..], out, line_end) {
                    let u = self.place(stream, partial, o, out);
                    count(u, &mut c.physical, &mut c.partials, &mut c.unwrapped);
                    at += n;
                    continue;
                }
            }
            let Some(i) = newline.find(&buf[at..]) else {
                break;
            };
            let u = self.line(envelope, &buf[at..at + i], out);
            count(u, &mut c.physical, &mut c.partials, &mut c.unwrapped);
            at += i + 1;
        }
        if eof {
            if at < buf.len() {
                let u = self.line(envelope, &buf[at..], out);
                count(u, &mut c.physical, &mut c.partials, &mut c.unwrapped);
            }
            self.finish(out);
        }
        c
    }

    /// Whether no partial is waiting for the rest of its line.
    pub(crate) fn is_idle(&self) -> bool {
        self.pending.iter().all(Vec::is_empty)
    }

    /// Ends the input: partials still waiting are lines of their own.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        for p in &mut self.pending {
            if !p.is_empty() {
                out.extend_from_slice(p);
                out.push(b'\n');
                p.clear();
            }
        }
    }
}

/// What [`Unwrapper::lines`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LineCounts {
    /// Physical lines (of this input: not another service's).
    pub physical: u64,
    /// Partial pieces.
    pub partials: u64,
    /// Lines outside the envelope.
    pub unwrapped: u64,
}

impl LineCounts {
    /// Adds these counts to `counts`.
    pub(crate) fn add_to(self, counts: &EnvelopeCounts) {
        counts.physical.fetch_add(self.physical, Ordering::Relaxed);
        counts.partials.fetch_add(self.partials, Ordering::Relaxed);
        counts
            .unwrapped
            .fetch_add(self.unwrapped, Ordering::Relaxed);
    }
}

/// A line of an enveloped input, as [`segment_start`] needs to know the
/// line before a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// An envelope line that ends its stream's line.
    Ends,
    /// A partial piece.
    Partial,
    /// A line outside the envelope.
    Outside,
}

/// What kind of line `line` (without its `\n`) is.
pub(crate) fn line_kind(envelope: Envelope, line: &[u8]) -> LineKind {
    match unwrap_timed(envelope, trim_cr(line), false) {
        Some(w) if w.partial => LineKind::Partial,
        Some(_) => LineKind::Ends,
        None => LineKind::Outside,
    }
}

/// Whether `envelope` has partial lines (a `json-file` `log` without its
/// final `\n`, a CRI `P` line).
pub(crate) fn has_partials(envelope: Envelope) -> bool {
    matches!(envelope, Envelope::DockerJson | Envelope::Cri)
}

/// Whether a segment of an enveloped input that starts at the line `rest`
/// begins with (`rest` runs on to the end of the bytes at hand), unwrapped
/// by an [`Unwrapper`] of its own, gives out a line from the lines at
/// hand: that first line goes into `first`, with its `\n`.
///
/// Whether partials wait at the cut is not known here: the scan cuts only
/// after a line that is no partial piece ([`line_kind`]), and finds out
/// about the other streams' partials when it appends the segments in
/// order (and then unwraps the segment before and this one again, as
/// one).
pub(crate) fn segment_start(
    envelope: Envelope,
    only: Option<&ServiceFilter>,
    rest: &[u8],
    first: &mut Vec<u8>,
) -> bool {
    first.clear();
    let mut u = Unwrapper::for_service(only.cloned());
    let mut at = 0;
    while let Some(nl) = memchr(b'\n', &rest[at..]) {
        u.line(envelope, &rest[at..at + nl], first);
        if !first.is_empty() {
            return true;
        }
        if !has_partials(envelope) {
            // The line was another service's.
            return false;
        }
        at += nl + 1;
    }
    false
}

/// The container's lines of an enveloped sample (for detection).
pub fn unwrap_sample(envelope: Envelope, sample: &[u8]) -> Vec<u8> {
    unwrap_sample_for(envelope, sample, None)
}

/// The lines of an enveloped sample that `only` keeps (all: `None`).
pub fn unwrap_sample_for(
    envelope: Envelope,
    sample: &[u8],
    only: Option<&ServiceFilter>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(sample.len());
    let mut u = Unwrapper::for_service(only.cloned());
    // Lines as the reader cuts them: a `\r` stays on a line that passes
    // through.
    let body = sample.strip_suffix(b"\n").unwrap_or(sample);
    if !sample.is_empty() {
        for l in body.split(|&b| b == b'\n') {
            u.line(envelope, l, &mut out);
        }
    }
    u.finish(&mut out);
    out
}

/// A reader of the container's lines from an enveloped stream.
pub struct Unwrap<R> {
    inner: R,
    envelope: Envelope,
    unwrapper: Unwrapper,
    /// Bytes read and not yet unwrapped: `input[start..]`.
    input: Vec<u8>,
    start: usize,
    /// Unwrapped bytes not yet handed out: `output[pos..]`.
    output: Vec<u8>,
    pos: usize,
    /// Inside a line longer than [`MAX_LINE`]: pass bytes through to its end.
    passing: bool,
    eof: bool,
    counts: Arc<EnvelopeCounts>,
}

impl<R: Read> Unwrap<R> {
    /// Unwraps `inner`, counting into `counts`.
    pub fn new(inner: R, envelope: Envelope, counts: Arc<EnvelopeCounts>) -> Unwrap<R> {
        Unwrap::for_service(inner, envelope, counts, None)
    }

    /// Unwraps the lines of `inner` that `only` keeps (all: `None`),
    /// counting into `counts` (the lines left to other services are not
    /// counted).
    pub fn for_service(
        inner: R,
        envelope: Envelope,
        counts: Arc<EnvelopeCounts>,
        only: Option<ServiceFilter>,
    ) -> Unwrap<R> {
        Unwrap {
            inner,
            envelope,
            unwrapper: Unwrapper::for_service(only),
            input: Vec::with_capacity(256 << 10),
            start: 0,
            output: Vec::with_capacity(256 << 10),
            pos: 0,
            passing: false,
            eof: false,
            counts,
        }
    }

    /// Unwraps `inner`, which starts where an earlier reader left
    /// `unwrapper` (with the partials it kept, and its service filter).
    pub(crate) fn resume(
        inner: R,
        envelope: Envelope,
        counts: Arc<EnvelopeCounts>,
        unwrapper: Unwrapper,
    ) -> Unwrap<R> {
        Unwrap {
            unwrapper,
            ..Unwrap::for_service(inner, envelope, counts, None)
        }
    }

    /// Unwraps the complete lines of the input buffer into the output
    /// buffer (everything, at the end of the input).
    fn fill(&mut self) -> io::Result<()> {
        self.output.clear();
        self.pos = 0;
        while self.output.is_empty() {
            let rest = &self.input[self.start..];
            if self.passing {
                // A line too long to unwrap is a stray: one service keeps it.
                let mine = self.unwrapper.only.as_ref().is_none_or(|f| f.strays);
                match memchr(b'\n', rest) {
                    Some(i) => {
                        if mine {
                            self.output.extend_from_slice(&rest[..=i]);
                            self.counts.physical.fetch_add(1, Ordering::Relaxed);
                            self.counts.unwrapped.fetch_add(1, Ordering::Relaxed);
                        }
                        self.start += i + 1;
                        self.passing = false;
                    }
                    None => {
                        if mine {
                            self.output.extend_from_slice(rest);
                        }
                        self.start = self.input.len();
                    }
                }
            } else {
                let (mut lines, mut partials, mut raw) = (0, 0, 0);
                let mut at = 0;
                while let Some(i) = memchr(b'\n', &rest[at..]) {
                    let u = self
                        .unwrapper
                        .line(self.envelope, &rest[at..at + i], &mut self.output);
                    count(u, &mut lines, &mut partials, &mut raw);
                    at += i + 1;
                    if self.output.len() >= 128 << 10 {
                        break;
                    }
                }
                if self.eof && at < rest.len() {
                    let u = self
                        .unwrapper
                        .line(self.envelope, &rest[at..], &mut self.output);
                    // Every unwrapped line ends in `\n` (a partial still
                    // waiting may follow an unterminated last line).
                    count(u, &mut lines, &mut partials, &mut raw);
                    at = rest.len();
                } else if at == 0 && rest.len() > MAX_LINE {
                    // A line too long to hold: its bytes go through.
                    self.passing = true;
                    continue;
                }
                self.start += at;
                self.counts.physical.fetch_add(lines, Ordering::Relaxed);
                self.counts.partials.fetch_add(partials, Ordering::Relaxed);
                self.counts.unwrapped.fetch_add(raw, Ordering::Relaxed);
            }
            if !self.output.is_empty() {
                break;
            }
            if self.eof {
                self.unwrapper.finish(&mut self.output);
                break;
            }
            // More input: keep the incomplete line, read the next block.
            self.input.drain(..self.start);
            self.start = 0;
            let have = self.input.len();
            self.input.resize(have + (256 << 10), 0);
            let n = loop {
                match self.inner.read(&mut self.input[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.input.truncate(have);
                        return Err(e);
                    }
                }
            };
            self.input.truncate(have + n);
            self.eof = n == 0;
        }
        Ok(())
    }
}

/// Counts one physical line by what was done with it: another service's
/// line is not this input's.
fn count(u: Unwrapped, lines: &mut u64, partials: &mut u64, raw: &mut u64) {
    match u {
        Unwrapped::Inside { partial } => {
            *lines += 1;
            *partials += partial as u64;
        }
        Unwrapped::Outside => {
            *lines += 1;
            *raw += 1;
        }
        Unwrapped::Other => {}
    }
}

impl<R: Read> Read for Unwrap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.output.len() {
            self.fill()?;
        }
        let n = buf.len().min(self.output.len() - self.pos);
        buf[..n].copy_from_slice(&self.output[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The UTC offset of the offset-less times inside an enveloped sample: the
/// envelope's UTC time beside the inner line's local time (nginx's error
/// log `2026/11/24 11:17:00`, php-fpm's `[24-Nov-2026 11:17:00]`), rounded
/// to the quarter hour. `None` when no line has both, or when they
/// disagree.
pub fn zone_hint(envelope: Envelope, sample: &[u8]) -> Option<i32> {
    let mut found: Option<i32> = None;
    for (_, l) in Lines::new(sample).take(SNIFF_LINES) {
        let Some(w) = unwrap_line(envelope, l) else {
            continue;
        };
        let (Some(t), Message::Raw(m) | Message::Escaped(m)) = (w.time, w.message) else {
            continue;
        };
        let Some(local) = naive_time(m) else { continue };
        let diff = local - t.unix_secs();
        let q = (diff as f64 / 900.0).round() as i64 * 900;
        // The runtime stamps the line as it reads it: within a few seconds.
        if (diff - q).abs() > 5 || q.abs() > 14 * 3600 {
            continue;
        }
        match found {
            None => found = Some(q as i32),
            Some(f) if f == q as i32 => {}
            Some(_) => return None,
        }
    }
    found
}

/// The offset-less time a line starts with, as seconds "as if UTC".
fn naive_time(m: &[u8]) -> Option<i64> {
    if let Some(t) = m.get(..19).and_then(parse_naive_slash) {
        return Some(t);
    }
    // php-fpm: `[24-Nov-2026 11:17:00]` (perhaps with a fraction).
    let b = m.strip_prefix(b"[")?;
    if b.len() < 20 || b[2] != b'-' || b[6] != b'-' || b[11] != b' ' {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let (a, c) = (b[i], b[i + 1]);
        (a.is_ascii_digit() && c.is_ascii_digit()).then(|| ((a - b'0') * 10 + (c - b'0')) as u32)
    };
    let month = crate::time::month_from_abbrev(&b[3..6])?;
    let year = d(7)? * 100 + d(9)?;
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    crate::time::civil_to_secs(year as i64, month, d(0)?, d(12)?, d(15)?, d(18)?)
}

#[cfg(test)]
mod tests;
