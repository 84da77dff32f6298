//! The nginx variables the access parser knows, and how one raw value
//! becomes typed fields of an [`AccessRecord`].
//!
//! Shared by every variant: the built-in formats, JSON lines and compiled
//! `log_format` plans all end in [`Builder::set`].

use crate::error::SkipReason;
use crate::time::{TimeLocalCache, Timestamp, parse_iso8601, parse_msec};

use super::{AccessRecord, ValueList};

/// An nginx variable with a typed home in [`AccessRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    RemoteAddr,
    RemoteUser,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    RequestMethod,
    RequestUri,
    Uri,
    Args,
    ServerProtocol,
    Status,
    BodyBytesSent,
    BytesSent,
    HttpReferer,
    HttpUserAgent,
    HttpXForwardedFor,
    HttpCfRay,
    Host,
    ServerName,
    ServerPort,
    RequestTime,
    UpstreamAddr,
    UpstreamStatus,
    UpstreamResponseTime,
    UpstreamConnectTime,
    UpstreamHeaderTime,
    RequestId,
    Connection,
    Pid,
    Scheme,
    SslProtocol,
}

impl Var {
    /// The variable of an nginx name without `$` (`remote_addr`, ...).
    pub(crate) fn from_name(name: &[u8]) -> Option<Var> {
        Some(match name {
            b"remote_addr" => Var::RemoteAddr,
            b"remote_user" => Var::RemoteUser,
            b"time_local" => Var::TimeLocal,
            b"time_iso8601" => Var::TimeIso8601,
            b"msec" => Var::Msec,
            b"request" => Var::Request,
            b"request_method" => Var::RequestMethod,
            b"request_uri" => Var::RequestUri,
            b"uri" | b"document_uri" => Var::Uri,
            b"args" | b"query_string" => Var::Args,
            b"server_protocol" => Var::ServerProtocol,
            b"status" => Var::Status,
            b"body_bytes_sent" => Var::BodyBytesSent,
            b"bytes_sent" => Var::BytesSent,
            b"http_referer" => Var::HttpReferer,
            b"http_user_agent" => Var::HttpUserAgent,
            b"http_x_forwarded_for" => Var::HttpXForwardedFor,
            b"http_cf_ray" => Var::HttpCfRay,
            b"host" => Var::Host,
            b"server_name" => Var::ServerName,
            b"server_port" => Var::ServerPort,
            b"request_time" => Var::RequestTime,
            b"upstream_addr" => Var::UpstreamAddr,
            b"upstream_status" => Var::UpstreamStatus,
            b"upstream_response_time" => Var::UpstreamResponseTime,
            b"upstream_connect_time" => Var::UpstreamConnectTime,
            b"upstream_header_time" => Var::UpstreamHeaderTime,
            b"request_id" | b"req_id" => Var::RequestId,
            b"connection" => Var::Connection,
            b"pid" => Var::Pid,
            b"scheme" => Var::Scheme,
            b"ssl_protocol" => Var::SslProtocol,
            _ => return None,
        })
    }

    /// The variable of a `key=value` key: the short keys of common
    /// timing formats (`rt`, `uct`, `uht`, `urt`, `ua`, `us`, `rid`, `cn`,
    /// `conn`, `proto`, `cfray`, ...) or any nginx name.
    pub(crate) fn from_key(key: &[u8]) -> Option<Var> {
        Some(match key {
            b"rt" => Var::RequestTime,
            b"uct" => Var::UpstreamConnectTime,
            b"uht" => Var::UpstreamHeaderTime,
            b"urt" => Var::UpstreamResponseTime,
            b"ua" => Var::UpstreamAddr,
            b"us" => Var::UpstreamStatus,
            b"rid" => Var::RequestId,
            b"cn" | b"conn" => Var::Connection,
            b"proto" => Var::ServerProtocol,
            b"cf_ray" | b"cfray" => Var::HttpCfRay,
            _ => return Var::from_name(key),
        })
    }

    /// Whether nginx writes the value as a `, ` / ` : ` separated list.
    pub(crate) fn is_list(self) -> bool {
        matches!(
            self,
            Var::UpstreamAddr
                | Var::UpstreamStatus
                | Var::UpstreamResponseTime
                | Var::UpstreamConnectTime
                | Var::UpstreamHeaderTime
        )
    }
}

/// The first `needle` in `h`: a plain loop over the first bytes (fields
/// are short), then `memchr`.
#[inline(always)]
pub(crate) fn find_byte(needle: u8, h: &[u8]) -> Option<usize> {
    let head = h.len().min(16);
    for (i, &c) in h[..head].iter().enumerate() {
        if c == needle {
            return Some(i);
        }
    }
    if h.len() > head {
        memchr::memchr(needle, &h[head..]).map(|i| i + head)
    } else {
        None
    }
}

/// The last `needle` in `h`, looping from the end over the last bytes first.
#[inline(always)]
pub(crate) fn rfind_byte(needle: u8, h: &[u8]) -> Option<usize> {
    let tail = h.len().saturating_sub(16);
    for i in (tail..h.len()).rev() {
        if h[i] == needle {
            return Some(i);
        }
    }
    memchr::memrchr(needle, &h[..tail])
}

/// `-` and the empty string both mean "no value".
#[inline]
pub(crate) fn present(v: &[u8]) -> Option<&[u8]> {
    match v {
        b"" | b"-" => None,
        _ => Some(v),
    }
}

/// A decimal integer of at most 19 digits.
#[inline]
pub(crate) fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &c in v {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + d as u64;
    }
    Some(n)
}

/// An HTTP status: exactly three digits.
#[inline]
pub(crate) fn parse_status(v: &[u8]) -> Option<u16> {
    if v.len() != 3 {
        return None;
    }
    let (a, b, c) = (
        v[0].wrapping_sub(b'0'),
        v[1].wrapping_sub(b'0'),
        v[2].wrapping_sub(b'0'),
    );
    if a > 9 || b > 9 || c > 9 {
        return None;
    }
    Some(a as u16 * 100 + b as u16 * 10 + c as u16)
}

/// Seconds with an optional fraction (`0.050`, `12`) as whole
/// milliseconds; digits past the third decimal are dropped.
pub(crate) fn parse_ms(v: &[u8]) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', v) {
        Some(p) => (&v[..p], &v[p + 1..]),
        None => (v, &b""[..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if int.len() > 12 {
        return None;
    }
    let secs = if int.is_empty() { 0 } else { parse_u64(int)? };
    let mut ms = 0u64;
    for (i, &c) in frac.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        if i < 3 {
            ms += d as u64 * [100, 10, 1][i];
        }
    }
    Some(secs * 1000 + ms)
}

/// The parts of a request line (`GET /a?b=1 HTTP/1.1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub method: Option<&'a [u8]>,
    pub path: Option<&'a [u8]>,
    pub query: Option<&'a [u8]>,
    pub protocol: Option<&'a [u8]>,
}

#[inline]
fn is_method(m: &[u8]) -> bool {
    !m.is_empty()
        && m.len() <= 32
        && m.iter()
            .all(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'-')
}

/// Splits a URI into path and query at the first `?`; an absolute URI
/// (`http://host:80/x?y`) loses its scheme and authority.
///
/// Always inlined: returned through memory, the two slices are stored as
/// words and reloaded as vectors, a store-forwarding stall on every line.
#[inline(always)]
pub(crate) fn split_uri(uri: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let mut uri = uri;
    if uri.first() != Some(&b'/')
        && uri.len() > 7
        && (uri[..7].eq_ignore_ascii_case(b"http://") || uri[..8].eq_ignore_ascii_case(b"https://"))
    {
        let skip = if uri[4] == b':' { 7 } else { 8 };
        let rest = &uri[skip..];
        let end = rest
            .iter()
            .position(|&c| c == b'/' || c == b'?' || c == b'#')
            .unwrap_or(rest.len());
        uri = &rest[end..];
        if uri.first() != Some(&b'/') {
            let q = uri.strip_prefix(b"?").and_then(present);
            return (Some(b"/"), q);
        }
    }
    if uri.is_empty() {
        return (None, None);
    }
    match find_byte(b'?', uri) {
        Some(q) => (Some(&uri[..q]), present(&uri[q + 1..])),
        None => (Some(uri), None),
    }
}

/// Splits a request line. The line may lack the protocol (HTTP/0.9,
/// `GET /`); a first token that is not a method (TLS bytes escaped as
/// `\x16\x03...`, `HELP`, garbage) gives no method and no path.
#[inline(always)]
pub(crate) fn split_request(r: &[u8]) -> RequestLine<'_> {
    let Some(sp) = find_byte(b' ', r) else {
        return RequestLine::default();
    };
    let method = &r[..sp];
    if !is_method(method) {
        return RequestLine::default();
    }
    let mut rest = &r[sp + 1..];
    let mut protocol = None;
    let n = rest.len();
    if n > 9 && rest[n - 9] == b' ' && rest[n - 8..n - 3] == *b"HTTP/" {
        // The usual ` HTTP/1.1` tail.
        protocol = Some(&rest[n - 8..]);
        rest = &rest[..n - 9];
    } else if let Some(last) = rfind_byte(b' ', rest) {
        let p = &rest[last + 1..];
        if p.starts_with(b"HTTP/") {
            protocol = Some(p);
            rest = &rest[..last];
        }
    } else if rest.starts_with(b"HTTP/") {
        // `GET HTTP/1.1`: no URI at all.
        return RequestLine {
            method: Some(method),
            path: None,
            query: None,
            protocol: Some(rest),
        };
    }
    let (path, query) = split_uri(rest);
    RequestLine {
        method: Some(method),
        path,
        query,
        protocol,
    }
}

/// Sets the request-line parts of `rec` that no explicit variable
/// (`$request_method`, `$uri`, `$args`, `$server_protocol`) set.
#[inline]
pub(crate) fn set_request<'a>(rec: &mut AccessRecord<'a>, r: &'a [u8]) {
    let Some(r) = present(r) else {
        return;
    };
    rec.request = Some(r);
    let p = split_request(r);
    if rec.method.is_none() {
        rec.method = p.method;
    }
    if rec.path.is_none() {
        rec.path = p.path;
        if rec.query.is_none() {
            rec.query = p.query;
        }
    }
    if rec.protocol.is_none() {
        rec.protocol = p.protocol;
    }
}

/// Fills a record from raw values, one variable at a time.
pub(crate) struct Builder<'r, 'a> {
    pub rec: &'r mut AccessRecord<'a>,
    msec: Option<Timestamp>,
}

impl<'r, 'a> Builder<'r, 'a> {
    #[inline(always)]
    pub(crate) fn new(rec: &'r mut AccessRecord<'a>) -> Builder<'r, 'a> {
        Builder { rec, msec: None }
    }

    /// Stores the raw value `v` of `var`.
    pub(crate) fn set(
        &mut self,
        var: Var,
        v: &'a [u8],
        cache: &mut TimeLocalCache,
    ) -> Result<(), SkipReason> {
        if var == Var::Request {
            set_request(self.rec, v);
            return Ok(());
        }
        let rec = &mut *self.rec;
        let Some(v) = present(v) else {
            return Ok(());
        };
        match var {
            Var::RemoteAddr => rec.remote_addr = Some(v),
            Var::RemoteUser => rec.remote_user = Some(v),
            Var::TimeLocal => {
                rec.time = Some(cache.parse(v).ok_or(SkipReason::BadTimestamp)?);
            }
            Var::TimeIso8601 => {
                rec.time = Some(parse_iso8601(v).ok_or(SkipReason::BadTimestamp)?);
            }
            Var::Msec => self.msec = Some(parse_msec(v).ok_or(SkipReason::BadTimestamp)?),
            Var::Request => {}
            Var::RequestMethod => rec.method = Some(v),
            Var::RequestUri | Var::Uri => {
                let (p, q) = split_uri(v);
                rec.path = p;
                if var == Var::RequestUri || q.is_some() {
                    rec.query = q;
                }
            }
            Var::Args => rec.query = Some(v),
            Var::ServerProtocol => rec.protocol = Some(v),
            Var::Status => rec.status = Some(parse_status(v).ok_or(SkipReason::BadField)?),
            Var::BodyBytesSent => {
                rec.body_bytes_sent = Some(parse_u64(v).ok_or(SkipReason::BadField)?)
            }
            Var::BytesSent => rec.bytes_sent = Some(parse_u64(v).ok_or(SkipReason::BadField)?),
            Var::HttpReferer => rec.referer = Some(v),
            Var::HttpUserAgent => rec.user_agent = Some(v),
            Var::HttpXForwardedFor => rec.x_forwarded_for = Some(v),
            Var::HttpCfRay => rec.cf_ray = Some(v),
            Var::Host => rec.host = Some(v),
            Var::ServerName => rec.server_name = Some(v),
            Var::ServerPort => {
                let p = parse_u64(v).filter(|&p| p <= u16::MAX as u64);
                rec.server_port = Some(p.ok_or(SkipReason::BadField)? as u16);
            }
            Var::RequestTime => {
                rec.request_time_ms = Some(parse_ms(v).ok_or(SkipReason::BadField)?)
            }
            Var::UpstreamAddr => rec.upstream_addr = Some(ValueList(v)),
            Var::UpstreamStatus => rec.upstream_status = Some(ValueList(v)),
            Var::UpstreamResponseTime => rec.upstream_response_time = Some(ValueList(v)),
            Var::UpstreamConnectTime => rec.upstream_connect_time = Some(ValueList(v)),
            Var::UpstreamHeaderTime => rec.upstream_header_time = Some(ValueList(v)),
            Var::RequestId => rec.request_id = Some(v),
            Var::Connection => rec.connection = Some(parse_u64(v).ok_or(SkipReason::BadField)?),
            Var::Pid => {
                let p = parse_u64(v).filter(|&p| p <= u32::MAX as u64);
                rec.pid = Some(p.ok_or(SkipReason::BadField)? as u32);
            }
            Var::Scheme => rec.scheme = Some(v),
            Var::SslProtocol => rec.ssl_protocol = Some(v),
        }
        Ok(())
    }

    /// Completes the record. With both `$msec` and a zoned time, the
    /// instant comes from `$msec` (milliseconds) and the offset from the other.
    #[inline(always)]
    pub(crate) fn finish(self) {
        if let Some(m) = self.msec {
            self.rec.time = Some(match self.rec.time {
                Some(t) => Timestamp {
                    unix_us: m.unix_us,
                    offset_s: t.offset_s,
                },
                None => m,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let r = split_request(b"GET /a/b?x=1&y HTTP/1.1");
        assert_eq!(r.method, Some(&b"GET"[..]));
        assert_eq!(r.path, Some(&b"/a/b"[..]));
        assert_eq!(r.query, Some(&b"x=1&y"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        let r = split_request(b"GET /");
        assert_eq!(
            (r.method, r.path, r.protocol),
            (Some(&b"GET"[..]), Some(&b"/"[..]), None)
        );
        let r = split_request(b"GET /a[ ]b HTTP/1.1");
        assert_eq!(r.path, Some(&b"/a[ ]b"[..]));
        let r = split_request(b"HEAD http://174.138.82.103:80/sql/x/ HTTP/1.1");
        assert_eq!(r.path, Some(&b"/sql/x/"[..]));
        let r = split_request(b"GET http://host HTTP/1.1");
        assert_eq!((r.path, r.query), (Some(&b"/"[..]), None));
        assert_eq!(split_request(b"\\x16\\x03\\x01 x"), RequestLine::default());
        assert_eq!(split_request(b"HELP"), RequestLine::default());
        assert_eq!(split_request(b""), RequestLine::default());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_ms(b"0.050"), Some(50));
        assert_eq!(parse_ms(b"12"), Some(12_000));
        assert_eq!(parse_ms(b"1.5"), Some(1500));
        assert_eq!(parse_ms(b"0.0009"), Some(0));
        assert_eq!(parse_ms(b"."), None);
        assert_eq!(parse_ms(b"1,2"), None);
        assert_eq!(parse_status(b"502"), Some(502));
        assert_eq!(parse_status(b"50"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
    }
}
