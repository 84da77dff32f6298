//! Cloudflare Logpush `http_requests`: the edge's own log.
//!
//! # Format accepted
//!
//! One JSON object a line, as Logpush writes it:
//!
//! ```text
//! {"ClientIP":"45.33.32.156","ClientRequestHost":"www.example.com","ClientRequestMethod":"POST","ClientRequestURI":"/v1/data/ingest","EdgeResponseStatus":502,"EdgeStartTimestamp":1712790015600000000,"OriginResponseStatus":502,"RayID":"87a1b2c3d4e5f009"}
//! ```
//!
//! Fields read ([`EdgeRecord`]); every other key is ignored, whatever its
//! value (nested objects and arrays included):
//!
//! | key | field | note |
//! | --- | --- | --- |
//! | `EdgeStartTimestamp` | [`EdgeRecord::time`] | RFC 3339 string (`"2026-11-24T11:18:02Z"`), or an integer (bare or quoted) whose magnitude gives its unit: ≥ 10¹⁷ nanoseconds, ≥ 10¹⁴ microseconds, ≥ 10¹¹ milliseconds, else seconds (Logpush's `unixnano`, `unix` options) |
//! | `EdgeResponseStatus` | [`EdgeRecord::edge_status`] | |
//! | `OriginResponseStatus` | [`EdgeRecord::origin_status`] | `0` (no origin response) reads as absent |
//! | `OriginResponseDurationMs` | [`EdgeRecord::origin_us`] | milliseconds |
//! | `OriginResponseTime` | [`EdgeRecord::origin_us`] | nanoseconds (older field; `OriginResponseDurationMs` wins when both are present) |
//! | `RayID`, `ClientRequestPath`, `ClientRequestURI`, `ClientRequestHost`, `ClientRequestMethod`, `ClientIP`, `EdgeServerIP`, `OriginIP` | borrowed string fields | `""` and `null` read as absent |
//!
//! String values are borrowed as written, escapes undecoded (Logpush writes
//! `\"`, `\\`, `\uXXXX` only where a value needs them).
//!
//! A line is a Cloudflare record when it is a JSON object holding at least
//! one of `RayID`, `EdgeResponseStatus` and `EdgeStartTimestamp`;
//! otherwise it is skipped as `unrecognized`. Malformed JSON is `bad_json`
//! (`truncated` when the line ends inside it), a status that is not a
//! number `bad_field`, and a timestamp that is neither form
//! `bad_timestamp`.
//!
//! # Joining with the origin
//!
//! The origin's `$http_cf_ray` is `RAYID-COLO` (`87a1b2c3d4e5f009-SEA`);
//! [`ray_id_of_cf_ray`] strips the colo so it can be compared with
//! [`EdgeRecord::ray_id`].

use std::collections::BTreeMap;

use crate::error::SkipReason;
use crate::frame::{Loc, RecordParser};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{Timestamp, parse_iso8601};

/// One Logpush `http_requests` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EdgeRecord<'a> {
    /// `EdgeStartTimestamp`: when the edge received the request (UTC).
    pub time: Option<Timestamp>,
    /// `EdgeResponseStatus`: what the edge answered the client.
    pub edge_status: Option<u16>,
    /// `OriginResponseStatus`: what the origin answered the edge (absent
    /// when the origin was not reached or not asked; Logpush writes `0`).
    pub origin_status: Option<u16>,
    /// The origin's response time in microseconds
    /// (`OriginResponseDurationMs`, else `OriginResponseTime`).
    pub origin_us: Option<u64>,
    /// `RayID` (no colo suffix).
    pub ray_id: Option<&'a [u8]>,
    /// `ClientRequestPath`.
    pub path: Option<&'a [u8]>,
    /// `ClientRequestURI` (path and query).
    pub uri: Option<&'a [u8]>,
    /// `ClientRequestHost`.
    pub host: Option<&'a [u8]>,
    /// `ClientRequestMethod`.
    pub method: Option<&'a [u8]>,
    /// `ClientIP`.
    pub client_ip: Option<&'a [u8]>,
    /// `EdgeServerIP`.
    pub edge_server_ip: Option<&'a [u8]>,
    /// `OriginIP`.
    pub origin_ip: Option<&'a [u8]>,
}

impl EdgeRecord<'_> {
    /// An edge gateway error: the edge answered 502, 504, or one of
    /// Cloudflare's own origin errors 520–526.
    pub fn is_gateway_error(&self) -> bool {
        self.edge_status.is_some_and(is_gateway_status)
    }

    /// The request path: `ClientRequestPath`, else `ClientRequestURI` up to
    /// its `?`.
    pub fn request_path(&self) -> Option<&[u8]> {
        self.path.or_else(|| {
            self.uri
                .map(|u| memchr::memchr(b'?', u).map_or(u, |i| &u[..i]))
        })
    }
}

/// Whether an edge status is a gateway error (502, 504, 520–526).
pub fn is_gateway_status(status: u16) -> bool {
    matches!(status, 502 | 504 | 520..=526)
}

/// The Ray ID in an origin's `CF-Ray` header value: `87a1b2c3d4e5f009-SEA`
/// → `87a1b2c3d4e5f009` (a value without a `-` is returned whole).
pub fn ray_id_of_cf_ray(cf_ray: &[u8]) -> &[u8] {
    match memchr::memrchr(b'-', cf_ray) {
        Some(i) => &cf_ray[..i],
        None => cf_ray,
    }
}

/// A JSON value as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    /// A string's content, escapes undecoded.
    Str(&'a [u8]),
    /// A number, `true`, `false` or `null`, as written.
    Bare(&'a [u8]),
    /// A nested object or array, whole.
    Nested,
}

/// Calls `f` with each member of the flat JSON object on `line` (nested
/// values are skipped over, not entered).
fn members<'a>(
    line: &'a [u8],
    mut f: impl FnMut(&'a [u8], Value<'a>) -> Result<(), SkipReason>,
) -> Result<(), SkipReason> {
    let mut m = crate::json::Members::new(line)?;
    while let Some((key, v)) = m.next_member()? {
        let v = match v {
            crate::json::Value::Str(s) => Value::Str(s),
            crate::json::Value::Bare(b) => Value::Bare(b),
            crate::json::Value::Object(_) | crate::json::Value::Array(_) => Value::Nested,
        };
        f(key, v)?;
    }
    Ok(())
}

/// Digits only, as a u64 (at most 19 digits).
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |a, &c| a * 10 + (c - b'0') as u64))
}

/// A number written bare or quoted; `null` and `""` are absent.
fn num_of(v: Value<'_>) -> Result<Option<&[u8]>, SkipReason> {
    match v {
        Value::Bare(b"null") | Value::Str(b"") => Ok(None),
        Value::Bare(b) | Value::Str(b) => Ok(Some(b)),
        Value::Nested => Err(SkipReason::BadField),
    }
}

/// A status code (`0` is absent).
fn status_of(v: Value<'_>) -> Result<Option<u16>, SkipReason> {
    match num_of(v)? {
        None => Ok(None),
        Some(b) => {
            let n = digits(b).ok_or(SkipReason::BadField)?;
            let s = u16::try_from(n).map_err(|_| SkipReason::BadField)?;
            Ok((s != 0).then_some(s))
        }
    }
}

/// A duration in microseconds: an integer (exact) or a decimal number of
/// units, where one unit is `num / den` microseconds.
fn duration_us(v: Value<'_>, num: u64, den: u64) -> Result<Option<u64>, SkipReason> {
    let Some(b) = num_of(v)? else {
        return Ok(None);
    };
    if let Some(n) = digits(b) {
        return Ok(Some(n.saturating_mul(num) / den));
    }
    let s = std::str::from_utf8(b).map_err(|_| SkipReason::BadField)?;
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some((x * num as f64 / den as f64) as u64)),
        _ => Err(SkipReason::BadField),
    }
}

/// `EdgeStartTimestamp` in any of its forms.
fn time_of(v: Value<'_>) -> Result<Option<Timestamp>, SkipReason> {
    let Some(b) = num_of(v).map_err(|_| SkipReason::BadTimestamp)? else {
        return Ok(None);
    };
    if let Some(n) = digits(b) {
        let n = i64::try_from(n).map_err(|_| SkipReason::BadTimestamp)?;
        let unix_us = if n >= 100_000_000_000_000_000 {
            n / 1_000
        } else if n >= 100_000_000_000_000 {
            n
        } else if n >= 100_000_000_000 {
            n * 1_000
        } else {
            n * 1_000_000
        };
        return Ok(Some(Timestamp {
            unix_us,
            offset_s: 0,
        }));
    }
    parse_iso8601(b).map(Some).ok_or(SkipReason::BadTimestamp)
}

/// A borrowed string field (`""`, `null` absent; a bare number is kept as written).
fn str_of(v: Value<'_>) -> Option<&[u8]> {
    match v {
        Value::Str(b"") | Value::Bare(b"null") | Value::Nested => None,
        Value::Str(s) | Value::Bare(s) => Some(s),
    }
}

/// Parses one Logpush line into an [`EdgeRecord`] (see the module
/// documentation for what is accepted).
///
/// ```
/// use baton_logparse::cloudflare::parse_line;
/// let r = parse_line(br#"{"RayID":"87a1b2c3d4e5f009","EdgeResponseStatus":522,"EdgeStartTimestamp":"2026-11-24T11:18:02Z"}"#).unwrap();
/// assert_eq!((r.edge_status, r.ray_id), (Some(522), Some(&b"87a1b2c3d4e5f009"[..])));
/// assert!(r.is_gateway_error());
/// ```
pub fn parse_line(line: &[u8]) -> Result<EdgeRecord<'_>, SkipReason> {
    let mut r = EdgeRecord::default();
    let mut known = false;
    let mut duration_ms = None;
    let mut response_time_ns = None;
    members(line, |key, v| {
        match key {
            b"EdgeStartTimestamp" => {
                known = true;
                r.time = time_of(v)?;
            }
            b"EdgeResponseStatus" => {
                known = true;
                r.edge_status = status_of(v)?;
            }
            b"RayID" => {
                known = true;
                r.ray_id = str_of(v);
            }
            b"OriginResponseStatus" => r.origin_status = status_of(v)?,
            b"OriginResponseDurationMs" => duration_ms = duration_us(v, 1_000, 1)?,
            b"OriginResponseTime" => response_time_ns = duration_us(v, 1, 1_000)?,
            b"ClientRequestPath" => r.path = str_of(v),
            b"ClientRequestURI" => r.uri = str_of(v),
            b"ClientRequestHost" => r.host = str_of(v),
            b"ClientRequestMethod" => r.method = str_of(v),
            b"ClientIP" => r.client_ip = str_of(v),
            b"EdgeServerIP" => r.edge_server_ip = str_of(v),
            b"OriginIP" => r.origin_ip = str_of(v),
            _ => {}
        }
        Ok(())
    })?;
    if !known {
        return Err(SkipReason::Unrecognized);
    }
    r.origin_us = duration_ms.or(response_time_ns);
    Ok(r)
}

/// Whether `line` looks like a Logpush `http_requests` line: a JSON object
/// (well formed up to its end) with `RayID` and `EdgeResponseStatus` or
/// `EdgeStartTimestamp`. For format detection.
pub fn looks_like(line: &[u8]) -> bool {
    let (mut ray, mut edge) = (false, false);
    let ok = members(line, |key, _| {
        match key {
            b"RayID" => ray = true,
            b"EdgeResponseStatus" | b"EdgeStartTimestamp" => edge = true,
            _ => {}
        }
        Ok(())
    });
    ok.is_ok() && ray && edge
}

/// Reads Logpush `http_requests` JSON lines ([`parse_line`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudflareParser;

impl CloudflareParser {
    /// A parser (it has no settings: every time in the log is UTC).
    pub fn new() -> CloudflareParser {
        CloudflareParser
    }
}

impl RecordParser for CloudflareParser {
    type Record<'a> = EdgeRecord<'a>;

    fn parse<'a>(&mut self, record: &'a [u8]) -> Result<EdgeRecord<'a>, SkipReason> {
        parse_line(record)
    }
}

/// Counts of a Cloudflare log (the `edge` section of `baton stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeSummary {
    /// Requests (parsed lines).
    pub requests: u64,
    /// Requests by edge status (lines without one are not in it).
    pub status: BTreeMap<u16, u64>,
    /// Requests by origin status (lines without one are not in it).
    pub origin_status: BTreeMap<u16, u64>,
    /// Edge gateway errors (502, 504, 520–526).
    pub gateway_errors: u64,
    /// Edge gateway errors with no origin status: answered by the edge
    /// without an origin response.
    pub gateway_errors_without_origin: u64,
    /// Requests without a time.
    pub untimed: u64,
    /// Times seen.
    pub range: TimeRange,
}

impl EdgeSummary {
    /// Counts one record.
    pub fn add(&mut self, r: &EdgeRecord<'_>) {
        self.requests += 1;
        if let Some(s) = r.edge_status {
            *self.status.entry(s).or_default() += 1;
        }
        if let Some(s) = r.origin_status {
            *self.origin_status.entry(s).or_default() += 1;
        }
        if r.is_gateway_error() {
            self.gateway_errors += 1;
            self.gateway_errors_without_origin += r.origin_status.is_none() as u64;
        }
        match r.time {
            Some(t) => self.range.add(t),
            None => self.untimed += 1,
        }
    }

    /// Adds another summary's counts.
    pub fn merge(&mut self, other: &EdgeSummary) {
        self.requests += other.requests;
        for (s, n) in &other.status {
            *self.status.entry(*s).or_default() += n;
        }
        for (s, n) in &other.origin_status {
            *self.origin_status.entry(*s).or_default() += n;
        }
        self.gateway_errors += other.gateway_errors;
        self.gateway_errors_without_origin += other.gateway_errors_without_origin;
        self.untimed += other.untimed;
        self.range.merge(other.range);
    }
}

impl Sink<CloudflareParser> for EdgeSummary {
    fn record(&mut self, r: EdgeRecord<'_>, _loc: Loc) {
        self.add(&r);
    }

    fn append(&mut self, later: EdgeSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

#[cfg(test)]
mod tests;
