//! The built-in text formats: `combined` and `main`, with an optional
//! leading `$host`/`$host:$server_port` and optional trailing `key=value`
//! fields.
//!
//! ```text
//! [$host[:$server_port] ]$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"[ "$http_x_forwarded_for"][ key=value ...]
//! ```
//!
//! Leniencies, all seen in real logs: the ident `-` may be missing
//! (`1.2.3.4 - [time] ...`); `$remote_addr` may be a list
//! (`10.0.0.2, 10.0.0.1 - - [...]`), `unix:` or IPv6; `combined` lines may
//! stop after `$body_bytes_sent` (the common log format); unquoted tokens
//! between the byte count and the referer are skipped; anything after the
//! last expected field is ignored.

use memchr::memchr;

use crate::bytes::Byte;

use crate::error::SkipReason;
use crate::time::TimeLocalCache;

use super::AccessRecord;
use super::field::{
    Builder, Var, find_byte, parse_status, parse_u64, present, rfind_byte, split_request,
};

/// Which members of the family a parser expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Builtin {
    /// A leading `$host` or `$host:$server_port` field.
    pub host: bool,
    /// `main`: a `"$http_x_forwarded_for"` field after the user agent.
    pub xff: bool,
    /// At least one `key=value` field after the last quoted field.
    pub kv: bool,
}

/// The byte finders of the built-in parsers, resolved once per parser
/// (see [`Byte`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finders {
    bracket: Byte,
    quote: Byte,
}

impl Default for Finders {
    fn default() -> Finders {
        Finders {
            bracket: Byte::new(b'['),
            quote: Byte::new(b'"'),
        }
    }
}

impl Builtin {
    /// Every member, most specific first (detection breaks ties in this order).
    pub(crate) const ALL: [(Builtin, &'static str); 8] = [
        (Builtin::new(true, true, true), "vhost_main_kv"),
        (Builtin::new(true, false, true), "vhost_combined_kv"),
        (Builtin::new(false, true, true), "main_kv"),
        (Builtin::new(false, false, true), "combined_kv"),
        (Builtin::new(true, true, false), "vhost_main"),
        (Builtin::new(true, false, false), "vhost_combined"),
        (Builtin::new(false, true, false), "main"),
        (Builtin::new(false, false, false), "combined"),
    ];

    pub(crate) const COMBINED: Builtin = Builtin::new(false, false, false);

    const fn new(host: bool, xff: bool, kv: bool) -> Builtin {
        Builtin { host, xff, kv }
    }

    /// The variant's name.
    pub(crate) fn name(self) -> &'static str {
        Builtin::ALL
            .iter()
            .find(|(b, _)| *b == self)
            .map_or("combined", |(_, n)| n)
    }

    /// Parses one line.
    ///
    /// Fields are collected in locals and the record is built once at the
    /// end, so it is written straight into its destination (no
    /// default-then-overwrite, no move of a half-built record).
    #[inline(always)]
    pub(crate) fn parse<'a>(
        self,
        line: &'a [u8],
        cache: &mut TimeLocalCache,
        find: &Finders,
    ) -> Result<AccessRecord<'a>, SkipReason> {
        // `[` of the time: preceded by a space, a `/` three bytes in (an
        // IPv6 host such as `[::1]:8080` has none there).
        let mut from = 0;
        let lb = loop {
            let Some(i) = find.bracket.find(&line[from..]) else {
                return Err(SkipReason::Unrecognized);
            };
            let p = from + i;
            if p > 0 && line[p - 1] == b' ' && line.get(p + 3) == Some(&b'/') {
                break p;
            }
            from = p + 1;
        };
        let pre = self.prefix(&line[..lb - 1])?;
        // [$time_local]: 26 bytes.
        let Some(&close) = line.get(lb + 27) else {
            return Err(SkipReason::Truncated);
        };
        if close != b']' {
            return Err(SkipReason::BadTimestamp);
        }
        let time = cache
            .parse(&line[lb + 1..lb + 27])
            .ok_or(SkipReason::BadTimestamp)?;
        let mut i = lb + 28;
        // "$request"
        match line.get(i..i + 2) {
            Some(b" \"") => {}
            Some(_) => return Err(SkipReason::Unrecognized),
            None => return Err(SkipReason::Truncated),
        }
        i += 2;
        let rq = i;
        let rq_end = loop {
            let Some(q) = find.quote.find(&line[i..]) else {
                return Err(SkipReason::Truncated);
            };
            let q = i + q;
            match line.get(q + 1) {
                None => return Err(SkipReason::Truncated),
                Some(b' ') if line.get(q + 2).is_some_and(u8::is_ascii_digit) => break q,
                _ => i = q + 1,
            }
        };
        let request = present(&line[rq..rq_end]);
        let req = request.map(split_request).unwrap_or_default();
        // $status
        i = rq_end + 2;
        let Some(st) = line.get(i..i + 3) else {
            return Err(SkipReason::Truncated);
        };
        let status = parse_status(st).ok_or(SkipReason::BadField)?;
        i += 3;
        match line.get(i) {
            Some(b' ') => i += 1,
            Some(_) => return Err(SkipReason::BadField),
            None => return Err(SkipReason::Truncated),
        }
        // $body_bytes_sent
        let start = i;
        let mut n = 0u64;
        while let Some(&c) = line.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        let digits = i - start;
        let mut body_bytes_sent = None;
        if digits == 0 && line.get(i) == Some(&b'-') {
            i += 1;
        } else if digits == 0 && i == line.len() {
            return Err(SkipReason::Truncated);
        } else if digits == 0 || digits > 19 {
            return Err(SkipReason::BadField);
        } else {
            body_bytes_sent = Some(n);
        }
        let end = i;
        if end < line.len() && line[end] != b' ' {
            return Err(SkipReason::BadField);
        }
        let (referer, user_agent, x_forwarded_for, i) = 'tail: {
            if end == line.len() {
                // The common log format stops here.
                if self.xff || self.kv || self.host {
                    return Err(SkipReason::Truncated);
                }
                break 'tail (None, None, None, end);
            }
            let mut i = end + 1;
            // Unquoted tokens before the referer (a `$request_time`, say) are skipped.
            while line.get(i).is_some_and(|&c| c != b'"') {
                match memchr(b' ', &line[i..]) {
                    Some(j) => i += j + 1,
                    None => return Err(SkipReason::Truncated),
                }
            }
            // "$http_referer" "$http_user_agent"
            let (referer, next) = quoted(line, i, &find.quote)?;
            i = next;
            match line.get(i) {
                Some(b' ') => i += 1,
                Some(_) => return Err(SkipReason::Unrecognized),
                None => return Err(SkipReason::Truncated),
            }
            let (ua, next) = quoted(line, i, &find.quote)?;
            i = next;
            let mut xff = None;
            if self.xff {
                // "$http_x_forwarded_for", or a bare `-`.
                match line.get(i) {
                    Some(b' ') => i += 1,
                    Some(_) => return Err(SkipReason::Unrecognized),
                    None => return Err(SkipReason::Truncated),
                }
                let (v, next) = if line.get(i) == Some(&b'"') {
                    quoted(line, i, &find.quote)?
                } else {
                    // Only a bare `-`: other bare tokens are someone else's fields.
                    let end = memchr(b' ', &line[i..]).map_or(line.len(), |j| i + j);
                    let tok = &line[i..end];
                    if tok != b"-" {
                        return Err(SkipReason::Unrecognized);
                    }
                    (tok, end)
                };
                xff = present(v);
                i = next;
            }
            (present(referer), present(ua), xff, i)
        };
        // Built in one expression where it is returned, so the record is
        // written in place rather than assembled and then moved.
        macro_rules! record {
            () => {
                AccessRecord {
                    time: Some(time),
                    remote_addr: pre.remote_addr,
                    remote_user: pre.remote_user,
                    request,
                    method: req.method,
                    path: req.path,
                    query: req.query,
                    protocol: req.protocol,
                    status: Some(status),
                    body_bytes_sent,
                    referer,
                    user_agent,
                    x_forwarded_for,
                    host: pre.host,
                    server_port: pre.server_port,
                    ..AccessRecord::default()
                }
            };
        }
        if !self.kv {
            return Ok(record!());
        }
        let mut rec = record!();
        if key_values(&line[i..], &mut rec, cache, &find.quote)? == 0 {
            return Err(if i == line.len() {
                SkipReason::Truncated
            } else {
                SkipReason::Unrecognized
            });
        }
        Ok(rec)
    }

    /// `[$host[:$server_port] ]$remote_addr[ -] $remote_user`: items are
    /// separated by spaces, except a space after a comma (address lists).
    #[inline]
    fn prefix(self, p: &[u8]) -> Result<Prefix<'_>, SkipReason> {
        // The usual `$remote_addr - -`: what the general path below gives
        // when the byte before ` - -` is neither a space nor a comma.
        if !self.host
            && let [addr @ .., last, b' ', b'-', b' ', b'-'] = p
            && !matches!(last, b' ' | b',')
        {
            return Ok(Prefix {
                remote_addr: present(&p[..addr.len() + 1]),
                remote_user: None,
                host: None,
                server_port: None,
            });
        }
        let (head, user) = split_last_item(p).ok_or(SkipReason::Unrecognized)?;
        let remote_user = present(user);
        let (addr, host, server_port) = if self.host {
            let head = match split_last_item(head) {
                Some((h, ident)) if ident == b"-" => h,
                _ => head, // no ident
            };
            let (host, addr) = split_first_item(head).ok_or(SkipReason::Unrecognized)?;
            if host.is_empty() || host.iter().any(|&c| c == b',' || c == b'"') {
                return Err(SkipReason::Unrecognized);
            }
            let (host, port) = split_host_port(host);
            (addr, Some(host), port)
        } else {
            let addr = match split_last_item(head) {
                Some((h, _ident)) => h,
                None => head, // no ident
            };
            (addr, None, None)
        };
        if addr.is_empty() {
            return Err(SkipReason::Unrecognized);
        }
        Ok(Prefix {
            remote_addr: present(addr),
            remote_user,
            host,
            server_port,
        })
    }
}

/// The fields before the time.
#[derive(Clone, Copy)]
struct Prefix<'a> {
    remote_addr: Option<&'a [u8]>,
    remote_user: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    server_port: Option<u16>,
}

/// A `"..."` field starting at `line[i]`: its content and the index after
/// the closing quote. A closing quote is one followed by a space or the
/// end of the line (nginx escapes `"` as `\x22`, but older writers did not).
#[inline(always)]
fn quoted<'a>(line: &'a [u8], i: usize, quote: &Byte) -> Result<(&'a [u8], usize), SkipReason> {
    match line.get(i) {
        Some(b'"') => {}
        Some(_) => return Err(SkipReason::Unrecognized),
        None => return Err(SkipReason::Truncated),
    }
    let start = i + 1;
    // Short values (`-`, a short agent) close within a few bytes: look there
    // before a vector search.
    let near = line.len().min(start + 8);
    for (k, &c) in line[start..near].iter().enumerate() {
        if c == b'"' {
            let q = start + k;
            match line.get(q + 1) {
                None | Some(b' ') => return Ok((&line[start..q], q + 1)),
                _ => {}
            }
        }
    }
    let mut j = near;
    loop {
        let Some(q) = quote.find(&line[j..]) else {
            return Err(SkipReason::Truncated);
        };
        let q = j + q;
        match line.get(q + 1) {
            None | Some(b' ') => return Ok((&line[start..q], q + 1)),
            _ => j = q + 1,
        }
    }
}

/// ` key=value key="value"...` after the last quoted field. Returns how
/// many pairs were read; reading stops at the first token that is not a
/// pair.
fn key_values<'a>(
    mut s: &'a [u8],
    rec: &mut AccessRecord<'a>,
    cache: &mut TimeLocalCache,
    quote: &Byte,
) -> Result<usize, SkipReason> {
    let mut b = Builder::new(rec);
    let mut n = 0;
    while let Some(rest) = s.strip_prefix(b" ") {
        let Some(eq) = memchr(b'=', rest) else {
            break;
        };
        let key = &rest[..eq];
        if key.is_empty()
            || !key
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            break;
        }
        let (value, next) = if rest.get(eq + 1) == Some(&b'"') {
            let (v, next) = quoted(rest, eq + 1, quote)?;
            (v, next)
        } else {
            let from = eq + 1;
            let end = memchr(b' ', &rest[from..]).map_or(rest.len(), |j| from + j);
            (&rest[from..end], end)
        };
        match Var::from_key(key) {
            Some(var) => b.set(var, value, cache)?,
            None => b.rec.extras.push(key, value),
        }
        n += 1;
        s = &rest[next..];
    }
    b.finish();
    Ok(n)
}

/// Splits off the last item: `(before, last)`.
#[inline]
fn split_last_item(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim_spaces_end(s);
    let mut end = s.len();
    loop {
        let i = rfind_byte(b' ', &s[..end])?;
        if i > 0 && s[i - 1] == b',' {
            end = i;
            continue;
        }
        return Some((trim_spaces_end(&s[..i]), &s[i + 1..]));
    }
}

#[inline]
fn trim_spaces_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// Splits off the first item: `(first, after)`.
#[inline]
fn split_first_item(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut from = 0;
    loop {
        let i = from + find_byte(b' ', &s[from..])?;
        if i > 0 && s[i - 1] == b',' {
            from = i + 1;
            continue;
        }
        return Some((&s[..i], &s[i + 1..]));
    }
}

/// `example.com:80` → (`example.com`, 80); `[::1]:8443` → (`[::1]`, 8443).
fn split_host_port(h: &[u8]) -> (&[u8], Option<u16>) {
    if let Some(c) = memchr::memrchr(b':', h) {
        let (host, port) = (&h[..c], &h[c + 1..]);
        let simple = memchr(b':', host).is_none() || host.ends_with(b"]");
        if simple
            && !port.is_empty()
            && port.len() <= 5
            && let Some(p) = parse_u64(port).filter(|&p| p <= u16::MAX as u64)
        {
            return (host, Some(p as u16));
        }
    }
    (h, None)
}
