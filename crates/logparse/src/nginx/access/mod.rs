//! The nginx access log: any `log_format`, recognized or compiled.
//!
//! Three kinds of parser, all zero-copy (an [`AccessRecord`] borrows from
//! the line; numbers are decoded in place; nothing is allocated per line):
//!
//! - the built-in text formats, recognized from content by
//!   [`AccessParser::detect`]: `combined`, `main` (combined plus
//!   `"$http_x_forwarded_for"`), either with a leading `$host` or
//!   `$host:$server_port` (`vhost_*`), either followed by `key=value` fields
//!   (`*_kv`);
//! - JSON lines whose keys are nginx variable names (`json`);
//! - any `log_format`, compiled once by [`AccessParser::from_log_format`]
//!   (`custom`).
//!
//! Everywhere, a value `-` or empty means absent (`None`), and raw values
//! keep nginx's escapes (`\xHH` for `escape=default`; `\"`, `\\`,
//! `\uXXXX` for `escape=json`) undecoded.
//!
//! ```
//! use baton_logparse::{AccessParser, RecordParser};
//! let line = br#"127.0.0.1 - - [24/Nov/2026:11:16:54 +0000] "GET /ok.php?x=1 HTTP/1.1" 502 157 "-" "curl/7.88.1" rt=0.012 us="502""#;
//! let (mut p, n) = AccessParser::detect(line).unwrap();
//! assert_eq!((p.variant(), n), ("combined_kv", 1));
//! let r = p.parse(line).unwrap();
//! assert_eq!(r.status, Some(502));
//! assert_eq!(r.path, Some(&b"/ok.php"[..]));
//! assert_eq!(r.query, Some(&b"x=1"[..]));
//! assert_eq!(r.request_time_ms, Some(12));
//! assert_eq!(r.upstream_status.unwrap().raw(), b"502");
//! ```

use std::fmt;
use std::sync::Arc;

use crate::error::SkipReason;
use crate::frame::{Lines, RecordParser};
use crate::time::{TimeLocalCache, Timestamp};

pub mod combined;
mod field;
pub mod json;
pub mod plan;

use combined::{Builtin, Finders};
use plan::Plan;

/// How many opaque `(name, value)` fields a record keeps.
pub const EXTRAS_CAP: usize = 8;

/// Fields with no typed home in [`AccessRecord`]: unknown `key=value`
/// keys, unknown JSON keys, unknown `$variables` of a `log_format`, in line
/// order. At most [`EXTRAS_CAP`] are kept (the rest are dropped), without
/// allocating.
#[derive(Clone, Copy, Default)]
pub struct Extras<'a> {
    len: usize,
    items: [(&'a [u8], &'a [u8]); EXTRAS_CAP],
}

impl<'a> Extras<'a> {
    /// Adds a field (dropped when full).
    #[inline]
    pub fn push(&mut self, name: &'a [u8], value: &'a [u8]) {
        if self.len < EXTRAS_CAP {
            self.items[self.len] = (name, value);
            self.len += 1;
        }
    }

    /// The fields as `(name, raw value)`, in line order.
    pub fn as_slice(&self) -> &[(&'a [u8], &'a [u8])] {
        &self.items[..self.len]
    }

    /// The raw value of the first field called `name`.
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.as_slice()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// How many fields are kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no field is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl PartialEq for Extras<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Extras<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.as_slice()
                    .iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

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

    /// The values in order, across `, ` and ` : ` separators, trimmed
    /// (a `:` inside a value, as in `127.0.0.1:9000` or
    /// `unix:/run/php.sock`, is not a separator).
    ///
    /// ```
    /// use baton_logparse::ValueList;
    /// let v = ValueList(b"10.0.0.1:9000, unix:/run/a.sock : [::1]:80");
    /// let got: Vec<&[u8]> = v.iter().collect();
    /// assert_eq!(got, [&b"10.0.0.1:9000"[..], b"unix:/run/a.sock", b"[::1]:80"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let raw = self.0;
        let mut pos = 0;
        std::iter::from_fn(move || {
            while pos < raw.len() {
                let start = pos;
                let mut i = pos;
                let end = loop {
                    if i >= raw.len() {
                        pos = raw.len();
                        break raw.len();
                    }
                    if raw[i] == b',' {
                        pos = i + 1;
                        break i;
                    }
                    if raw[i] == b':'
                        && i > 0
                        && raw[i - 1] == b' '
                        && raw.get(i + 1) == Some(&b' ')
                    {
                        pos = i + 1;
                        break i;
                    }
                    i += 1;
                };
                let v = raw[start..end].trim_ascii();
                if !v.is_empty() {
                    return Some(v);
                }
            }
            None
        })
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
    /// Fields with no typed home (see [`Extras`]).
    pub extras: Extras<'a>,
}

#[derive(Debug, Clone)]
enum Kind {
    Builtin(Builtin),
    Json,
    Plan(Arc<Plan>),
}

/// Parses access-log lines of one format: a built-in variant (see the
/// module docs and [`AccessParser::VARIANTS`]), JSON lines, or a compiled
/// `log_format`. Cheap to clone (a compiled plan is shared); each clone has
/// its own `$time_local` cache.
///
/// `combined`, the default, reads
///
/// ```text
/// 127.0.0.1 - - [24/Nov/2026:11:16:54 +0000] "GET /ok.php HTTP/1.1" 200 13 "-" "curl/7.88.1"
/// ```
///
/// A line that does not match gives a [`SkipReason`]: `truncated` when it
/// ends before the format does, `bad_timestamp` or `bad_field` when a
/// typed field does not decode, `bad_json` for a malformed JSON line,
/// `unrecognized` otherwise.
#[derive(Debug, Clone)]
pub struct AccessParser {
    kind: Kind,
    cache: TimeLocalCache,
    find: Finders,
}

impl Default for AccessParser {
    fn default() -> AccessParser {
        AccessParser::with(Kind::Builtin(Builtin::COMBINED))
    }
}

impl RecordParser for AccessParser {
    type Record<'a> = AccessRecord<'a>;

    #[inline]
    fn parse<'a>(&mut self, record: &'a [u8]) -> Result<AccessRecord<'a>, SkipReason> {
        match &self.kind {
            Kind::Builtin(b) => b.parse(record, &mut self.cache, &self.find),
            Kind::Json => json::parse(record, &mut self.cache),
            Kind::Plan(p) => p.parse(record, &mut self.cache),
        }
    }
}

/// How many non-empty lines [`AccessParser::detect`] tries.
pub const DETECT_LINES: usize = 400;

impl AccessParser {
    /// The names of the built-in variants, as [`AccessParser::variant`]
    /// gives them and [`AccessParser::from_variant`] takes them.
    pub const VARIANTS: [&'static str; 9] = [
        "json",
        "vhost_main_kv",
        "vhost_combined_kv",
        "main_kv",
        "combined_kv",
        "vhost_main",
        "vhost_combined",
        "main",
        "combined",
    ];

    fn with(kind: Kind) -> AccessParser {
        AccessParser {
            kind,
            cache: TimeLocalCache::default(),
            find: Finders::default(),
        }
    }

    /// The parser of a built-in variant by name (`combined`, `main`,
    /// `vhost_combined`, `main_kv`, `json`, ...; see [`AccessParser::VARIANTS`]).
    pub fn from_variant(name: &str) -> Option<AccessParser> {
        if name == "json" {
            return Some(AccessParser::with(Kind::Json));
        }
        Builtin::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(b, _)| AccessParser::with(Kind::Builtin(*b)))
    }

    /// Recognizes one of the formats the contract lists (combined, main,
    /// a leading `$host`/`$host:$server_port`, trailing `key=value` fields,
    /// JSON lines) from sample lines: every variant is tried on the first
    /// [`DETECT_LINES`] non-empty lines, and the one parsing the most wins
    /// (ties go to the more specific, in [`AccessParser::VARIANTS`] order).
    /// Returns the parser and how many sample lines it parses; `None` when
    /// no line parses.
    pub fn detect(sample: &[u8]) -> Option<(AccessParser, usize)> {
        let lines: Vec<&[u8]> = Lines::new(sample)
            .map(|(_, l)| l)
            .filter(|l| !l.trim_ascii().is_empty())
            .take(DETECT_LINES)
            .collect();
        let mut best: Option<(AccessParser, usize)> = None;
        for name in AccessParser::VARIANTS {
            let Some(mut p) = AccessParser::from_variant(name) else {
                continue;
            };
            let n = lines.iter().filter(|l| p.parse(l).is_ok()).count();
            if n > best.as_ref().map_or(0, |(_, b)| *b) {
                best = Some((AccessParser::from_variant(name)?, n));
            }
        }
        best
    }

    /// Compiles an nginx `log_format` string into a parser: the whole
    /// directive as `nginx -T` prints it (`log_format name [escape=...]
    /// '...' '...';`), or just the format, quoted pieces or bare. See
    /// [`plan`] for exactly what is accepted and how lines are matched.
    ///
    /// ```
    /// use baton_logparse::{AccessParser, RecordParser};
    /// let mut p = AccessParser::from_log_format(
    ///     "log_format t '$remote_addr [$time_local] $status ua=\"$upstream_addr\" $foo';",
    /// ).unwrap();
    /// let r = p.parse(br#"::1 [24/Nov/2026:11:16:54 +0000] 502 ua="10.0.0.1:9000, 10.0.0.2:9000" bar"#).unwrap();
    /// assert_eq!(r.status, Some(502));
    /// assert_eq!(r.upstream_addr.unwrap().last(), Some(&b"10.0.0.2:9000"[..]));
    /// assert_eq!(r.extras.get(b"foo"), Some(&b"bar"[..]));
    /// ```
    pub fn from_log_format(format: &str) -> Result<AccessParser, crate::error::Error> {
        Ok(AccessParser::with(Kind::Plan(Arc::new(Plan::compile(
            format,
        )?))))
    }

    /// A short name of the recognized variant (`combined`, `main`, `json`,
    /// `vhost_main_kv`, ..., or `custom` for a compiled `log_format`), for
    /// reports.
    pub fn variant(&self) -> &'static str {
        match &self.kind {
            Kind::Builtin(b) => b.name(),
            Kind::Json => "json",
            Kind::Plan(_) => "custom",
        }
    }
}
