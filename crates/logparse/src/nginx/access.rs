//! The nginx access log.
//!
//! STUB: the parser is being written; the record type below is the interface.

use crate::error::SkipReason;
use crate::frame::RecordParser;
use crate::time::Timestamp;

/// A list-valued upstream field as nginx writes it: values separated by
/// `, ` (servers tried in turn) and ` : ` (internal redirects to another
/// upstream group), e.g. `0.012, 0.004 : 0.100` or `502, 200`. Every value
/// is kept; `-` stands for a value that does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValueList<'a>(pub &'a [u8]);

impl<'a> ValueList<'a> {
    /// The raw field.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The values in order, across `, ` and ` : ` separators, trimmed.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let raw = self.0;
        raw.split(|&b| b == b',' || b == b':')
            .map(|v| v.trim_ascii())
            .filter(|v| !v.is_empty())
    }

    /// The last value (the one the response came from).
    pub fn last(&self) -> Option<&'a [u8]> {
        self.iter().last()
    }
}

/// One request from the access log. Fields the format does not have, or
/// that nginx logged as `-`, are `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessRecord<'a> {
    /// When nginx logged the request (its completion), from `$time_local`,
    /// `$time_iso8601` or `$msec`.
    pub time: Option<Timestamp>,
    /// `$remote_addr` (may be a list when a proxy wrote X-Forwarded-For there).
    pub remote_addr: Option<&'a [u8]>,
    /// `$remote_user`.
    pub remote_user: Option<&'a [u8]>,
    /// `$request`: the raw request line.
    pub request: Option<&'a [u8]>,
    /// `$request_method`, or the request line's method.
    pub method: Option<&'a [u8]>,
    /// The request path without the query string (`$uri`, or from `$request_uri` / `$request`).
    pub path: Option<&'a [u8]>,
    /// The query string without `?` (`$args`, or from `$request_uri` / `$request`).
    pub query: Option<&'a [u8]>,
    /// `$server_protocol`, or the request line's protocol.
    pub protocol: Option<&'a [u8]>,
    /// `$status`.
    pub status: Option<u16>,
    /// `$body_bytes_sent`.
    pub body_bytes_sent: Option<u64>,
    /// `$bytes_sent`.
    pub bytes_sent: Option<u64>,
    /// `$http_referer`.
    pub referer: Option<&'a [u8]>,
    /// `$http_user_agent`.
    pub user_agent: Option<&'a [u8]>,
    /// `$http_x_forwarded_for`.
    pub x_forwarded_for: Option<&'a [u8]>,
    /// `$http_cf_ray` (Cloudflare Ray ID with its `-COLO` suffix).
    pub cf_ray: Option<&'a [u8]>,
    /// `$host`.
    pub host: Option<&'a [u8]>,
    /// `$server_name`.
    pub server_name: Option<&'a [u8]>,
    /// `$server_port`.
    pub server_port: Option<u16>,
    /// `$request_time` in milliseconds.
    pub request_time_ms: Option<u64>,
    /// `$upstream_addr`.
    pub upstream_addr: Option<ValueList<'a>>,
    /// `$upstream_status`.
    pub upstream_status: Option<ValueList<'a>>,
    /// `$upstream_response_time`.
    pub upstream_response_time: Option<ValueList<'a>>,
    /// `$upstream_connect_time`.
    pub upstream_connect_time: Option<ValueList<'a>>,
    /// `$upstream_header_time`.
    pub upstream_header_time: Option<ValueList<'a>>,
    /// `$request_id`.
    pub request_id: Option<&'a [u8]>,
    /// `$connection`: the same number as the error log's `*N`.
    pub connection: Option<u64>,
    /// `$pid` of the nginx worker.
    pub pid: Option<u32>,
    /// `$scheme`.
    pub scheme: Option<&'a [u8]>,
    /// `$ssl_protocol`.
    pub ssl_protocol: Option<&'a [u8]>,
}

/// Parses access-log lines of one format.
#[derive(Debug, Clone, Default)]
pub struct AccessParser {}

impl RecordParser for AccessParser {
    type Record<'a> = AccessRecord<'a>;

    fn parse<'a>(&mut self, _record: &'a [u8]) -> Result<AccessRecord<'a>, SkipReason> {
        Err(SkipReason::Unrecognized)
    }
}

impl AccessParser {
    /// Recognizes one of the formats the contract lists (combined, main,
    /// a leading `$host`/`$host:$server_port`, trailing `key=value` fields,
    /// JSON lines) from sample lines, returning the parser and how many of
    /// the non-empty sample lines it parses.
    pub fn detect(_sample: &[u8]) -> Option<(AccessParser, usize)> {
        None
    }

    /// Compiles an nginx `log_format` string (as `nginx -T` prints it, the
    /// quoted pieces joined) into a parser.
    pub fn from_log_format(_format: &str) -> Result<AccessParser, crate::error::Error> {
        Err(crate::error::Error::config(
            "log_format: not implemented yet",
        ))
    }

    /// A short name of the recognized variant (`combined`, `main`, `json`,
    /// `custom`, ...), for reports.
    pub fn variant(&self) -> &'static str {
        "combined"
    }
}
