//! The output files and the exact nginx wordings of requests and upstream
//! errors.

use std::fs::File;
use std::io::Write;

use crate::clock::Stamp;
use crate::model::{HOST, SOCK};
use crate::num;

/// One output file: lines are formatted straight into `buf`, which is
/// written out in large blocks. Without a file (size calibration) the bytes
/// are only counted.
pub struct Out {
    file: Option<File>,
    pub buf: Vec<u8>,
    pub bytes: u64,
    pub lines: u64,
}

const BLOCK: usize = 4 << 20;

impl Out {
    pub fn new(file: Option<File>) -> Out {
        Out {
            file,
            buf: Vec::with_capacity(BLOCK + (2 << 20)),
            bytes: 0,
            lines: 0,
        }
    }

    /// Called after each complete line.
    pub fn end_line(&mut self) -> std::io::Result<()> {
        self.lines += 1;
        if self.buf.len() >= BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.bytes += self.buf.len() as u64;
        if let Some(f) = &mut self.file {
            f.write_all(&self.buf)?;
        }
        self.buf.clear();
        Ok(())
    }

    pub fn total(&self) -> u64 {
        self.bytes + self.buf.len() as u64
    }
}

/// What nginx logs for a failed (or PHP-failed) upstream exchange. Most
/// variants are one error-log line of one contract kind; `Failover`,
/// `FatalClose` and `Fatal500` write several lines (see [`UpErr::lines`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpErr {
    Refused,
    Eagain,
    Enoent,
    Eacces,
    TimedOut,
    Reset,
    Premature,
    /// `upstream sent too big header` (502).
    TooBig,
    /// `no live upstreams` on the inventory API group (502).
    NoLive,
    /// Both inventory API servers refuse the connection; each is then
    /// `temporarily disabled` (two errors and two warnings, 502).
    Failover,
    /// A PHP fatal error in FastCGI stderr, then `upstream prematurely
    /// closed connection` (502).
    FatalClose,
    /// A PHP fatal error in FastCGI stderr; PHP still answered 500.
    Fatal500,
}

/// The inventory API group behind `/api/`: its name and its two servers.
pub const API_GROUP: &str = "inventory_api";
pub const API_SERVERS: [&str; 2] = ["10.0.3.21:8080", "10.0.3.22:8080"];

/// The PHP fatal error of the `fatal_error` incident.
pub const FATAL_FILE: &str =
    "/var/www/html/wp-content/plugins/pdf-invoices-pro/vendor/dompdf/src/FrameReflower/Page.php";
pub const FATAL_LINE: u32 = 148;

impl UpErr {
    /// The contract kinds of the error-log lines this writes, in order
    /// (`warn` lines not included: see [`UpErr::warnings`]).
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            UpErr::Refused => &["connect_refused"],
            UpErr::Eagain => &["connect_eagain"],
            UpErr::Enoent => &["connect_enoent"],
            UpErr::Eacces => &["connect_eacces"],
            UpErr::TimedOut => &["timed_out"],
            UpErr::Reset => &["reset_by_peer"],
            UpErr::Premature => &["premature_close"],
            UpErr::TooBig => &["too_big_header"],
            UpErr::NoLive => &["no_live_upstreams"],
            UpErr::Failover => &["connect_refused", "connect_refused"],
            // The `FastCGI sent in stderr` line before them is PHP's
            // stderr passed on, not an upstream error (CONTRACT: PHP
            // message): see [`UpErr::php_fatals`].
            UpErr::FatalClose => &["premature_close"],
            UpErr::Fatal500 => &[],
        }
    }

    /// `FastCGI sent in stderr: "PHP message: PHP Fatal error: ..."` lines
    /// this writes (PHP messages of level `fatal`).
    pub fn php_fatals(self) -> u64 {
        u64::from(matches!(self, UpErr::FatalClose | UpErr::Fatal500))
    }

    /// Error-log lines this writes, of every level.
    pub fn lines(self) -> u64 {
        self.kinds().len() as u64 + self.warnings() + self.php_fatals()
    }

    /// Upstream warnings (`warn` lines) this writes.
    pub fn warnings(self) -> u64 {
        if self == UpErr::Failover { 2 } else { 0 }
    }

    pub fn status(self) -> u16 {
        match self {
            UpErr::TimedOut => 504,
            UpErr::Fatal500 => 500,
            _ => 502,
        }
    }

    /// The body nginx (or PHP) sends with that status.
    pub fn bytes(self) -> u64 {
        match self.status() {
            504 => 167,
            500 => 0,
            _ => 157,
        }
    }

    /// Failed before a connection was made (no upstream connect time).
    pub fn at_connect(self) -> bool {
        matches!(
            self,
            UpErr::Refused
                | UpErr::Eagain
                | UpErr::Enoent
                | UpErr::Eacces
                | UpErr::NoLive
                | UpErr::Failover
        )
    }

    /// Whether it is about the `/api/` proxy rather than PHP-FPM.
    pub fn api(self) -> bool {
        matches!(self, UpErr::NoLive | UpErr::Failover)
    }

    fn level(self) -> &'static str {
        match self {
            UpErr::Enoent | UpErr::Eacces => "crit",
            _ => "error",
        }
    }

    fn message(self) -> &'static str {
        match self {
            UpErr::Refused => "failed (111: Connection refused) while connecting to upstream",
            UpErr::Eagain => {
                "failed (11: Resource temporarily unavailable) while connecting to upstream"
            }
            UpErr::Enoent => "failed (2: No such file or directory) while connecting to upstream",
            UpErr::Eacces => "failed (13: Permission denied) while connecting to upstream",
            UpErr::TimedOut => {
                "upstream timed out (110: Connection timed out) while reading response header from upstream"
            }
            UpErr::Reset => {
                "recv() failed (104: Connection reset by peer) while reading response header from upstream"
            }
            UpErr::Premature | UpErr::FatalClose => {
                "upstream prematurely closed connection while reading response header from upstream"
            }
            UpErr::TooBig => {
                "upstream sent too big header while reading response header from upstream"
            }
            UpErr::NoLive => "no live upstreams while connecting to upstream",
            UpErr::Failover => {
                "connect() failed (111: Connection refused) while connecting to upstream"
            }
            UpErr::Fatal500 => "",
        }
    }
}

/// What nginx got from upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Up {
    /// Served by nginx itself.
    None,
    /// Answered by PHP-FPM.
    Ok,
    Err(UpErr),
}

/// One request as nginx logs it when it completes.
pub struct Req<'a> {
    /// Completion instant, unix ms.
    pub t: i64,
    pub ip: &'a [u8],
    pub ua: &'a str,
    pub referer: &'a str,
    pub method: &'a str,
    pub path: &'a [u8],
    pub proto: &'a str,
    pub status: u16,
    pub bytes: u64,
    pub rt_ms: u64,
    pub up: Up,
    /// Proxied to the inventory API group instead of PHP-FPM.
    pub api: bool,
    /// The Cloudflare Ray ID the request came with (`--cloudflare`).
    pub ray: Option<u64>,
}

/// Access-log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFormat {
    Combined,
    /// `combined` plus `"$http_x_forwarded_for"`.
    Main,
    Timing,
    Json,
}

impl AccessFormat {
    pub fn name(self) -> &'static str {
        match self {
            AccessFormat::Combined => "combined",
            AccessFormat::Main => "main",
            AccessFormat::Timing => "timing",
            AccessFormat::Json => "json",
        }
    }
}

/// Cloudflare data centers; a Ray ID's colo is fixed by its low bits.
pub const COLOS: [&str; 4] = ["FRA", "AMS", "CDG", "LHR"];

/// `$http_cf_ray`: the Ray ID and `-COLO`.
pub fn cf_ray(out: &mut Vec<u8>, ray: u64) {
    num::hex(out, ray, 16);
    out.push(b'-');
    out.extend_from_slice(COLOS[(ray & 3) as usize].as_bytes());
}

/// Appends one access-log line (with its `\n`).
pub fn access_line(
    out: &mut Vec<u8>,
    fmt: AccessFormat,
    stamp: &mut Stamp,
    r: &Req,
    rid: u128,
    conn: u64,
) {
    let (uct, uht, urt): (Option<u64>, Option<u64>, Option<u64>) = match r.up {
        Up::None => (None, None, None),
        Up::Ok | Up::Err(UpErr::Fatal500) => {
            (Some(0), Some(r.rt_ms.saturating_sub(1)), Some(r.rt_ms))
        }
        Up::Err(e) if e.at_connect() => (None, None, Some(0)),
        Up::Err(_) => (Some(0), None, Some(r.rt_ms)),
    };
    let failover = r.up == Up::Err(UpErr::Failover);
    let opt = |o: &mut Vec<u8>, v: Option<u64>| {
        match v {
            Some(ms) => num::secs3(o, ms),
            None => o.push(b'-'),
        }
        if failover {
            o.extend_from_slice(b", ");
            match v {
                Some(ms) => num::secs3(o, ms),
                None => o.push(b'-'),
            }
        }
    };
    let us = |o: &mut Vec<u8>| match r.up {
        Up::None => o.push(b'-'),
        Up::Ok => num::u64(o, r.status as u64),
        Up::Err(UpErr::Failover) => o.extend_from_slice(b"502, 502"),
        Up::Err(e) => num::u64(o, e.status() as u64),
    };
    let ua_addr = |o: &mut Vec<u8>| match r.up {
        Up::None => o.push(b'-'),
        Up::Err(UpErr::Failover) => {
            o.extend_from_slice(API_SERVERS[0].as_bytes());
            o.extend_from_slice(b", ");
            o.extend_from_slice(API_SERVERS[1].as_bytes());
        }
        Up::Err(UpErr::NoLive) => o.extend_from_slice(API_GROUP.as_bytes()),
        _ if r.api => o.extend_from_slice(API_SERVERS[(conn % 2) as usize].as_bytes()),
        _ => o.extend_from_slice(SOCK.as_bytes()),
    };
    if fmt == AccessFormat::Json {
        out.extend_from_slice(b"{\"time_iso8601\":\"");
        out.extend_from_slice(stamp.get(r.t));
        out.extend_from_slice(b"\",\"msec\":");
        num::secs3(out, r.t as u64);
        out.extend_from_slice(b",\"remote_addr\":\"");
        out.extend_from_slice(r.ip);
        out.extend_from_slice(b"\",\"remote_user\":\"\",\"request\":\"");
        out.extend_from_slice(r.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(r.path);
        out.push(b' ');
        out.extend_from_slice(r.proto.as_bytes());
        out.extend_from_slice(b"\",\"status\":");
        num::u64(out, r.status as u64);
        out.extend_from_slice(b",\"body_bytes_sent\":");
        num::u64(out, r.bytes);
        out.extend_from_slice(b",\"request_time\":");
        num::secs3(out, r.rt_ms);
        out.extend_from_slice(b",\"http_referer\":\"");
        if r.referer != "-" {
            out.extend_from_slice(r.referer.as_bytes());
        }
        out.extend_from_slice(b"\",\"http_user_agent\":\"");
        out.extend_from_slice(r.ua.as_bytes());
        out.extend_from_slice(b"\",\"http_x_forwarded_for\":\"");
        if r.ray.is_some() {
            out.extend_from_slice(r.ip);
        }
        out.extend_from_slice(b"\",\"upstream_addr\":\"");
        if r.up != Up::None {
            ua_addr(out);
        }
        out.extend_from_slice(b"\",\"upstream_status\":\"");
        if r.up != Up::None {
            us(out);
        }
        out.extend_from_slice(b"\",\"upstream_response_time\":\"");
        if urt.is_some() {
            opt(out, urt);
        }
        out.extend_from_slice(b"\",\"request_id\":\"");
        num::hex(out, (rid >> 64) as u64, 16);
        num::hex(out, rid as u64, 16);
        if let Some(ray) = r.ray {
            out.extend_from_slice(b"\",\"http_cf_ray\":\"");
            cf_ray(out, ray);
        }
        out.extend_from_slice(b"\",\"connection\":");
        num::u64(out, conn);
        out.extend_from_slice(b"}\n");
        return;
    }
    out.extend_from_slice(r.ip);
    out.extend_from_slice(b" - - [");
    out.extend_from_slice(stamp.get(r.t));
    out.extend_from_slice(b"] \"");
    out.extend_from_slice(r.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(r.path);
    out.push(b' ');
    out.extend_from_slice(r.proto.as_bytes());
    out.extend_from_slice(b"\" ");
    num::u64(out, r.status as u64);
    out.push(b' ');
    num::u64(out, r.bytes);
    out.extend_from_slice(b" \"");
    out.extend_from_slice(r.referer.as_bytes());
    out.extend_from_slice(b"\" \"");
    out.extend_from_slice(r.ua.as_bytes());
    out.push(b'"');
    if fmt == AccessFormat::Main {
        out.extend_from_slice(b" \"");
        match r.ray {
            Some(_) => out.extend_from_slice(r.ip),
            None => out.push(b'-'),
        }
        out.push(b'"');
    }
    if fmt == AccessFormat::Timing {
        out.extend_from_slice(b" rt=");
        num::secs3(out, r.rt_ms);
        out.extend_from_slice(b" uct=\"");
        opt(out, uct);
        out.extend_from_slice(b"\" uht=\"");
        opt(out, uht);
        out.extend_from_slice(b"\" urt=\"");
        opt(out, urt);
        out.extend_from_slice(b"\" ua=\"");
        ua_addr(out);
        out.extend_from_slice(b"\" us=\"");
        us(out);
        out.extend_from_slice(b"\" rid=");
        num::hex(out, (rid >> 64) as u64, 16);
        num::hex(out, rid as u64, 16);
        out.extend_from_slice(b" cn=");
        num::u64(out, conn);
        if let Some(ray) = r.ray {
            out.extend_from_slice(b" cfray=");
            cf_ray(out, ray);
        }
    }
    out.push(b'\n');
}

/// nginx worker pids; a connection is served by one of them.
pub const WORKERS: [u32; 2] = [1187, 1188];

fn error_head(out: &mut Vec<u8>, stamp: &mut Stamp, t: i64, level: &str, conn: u64) {
    out.extend_from_slice(stamp.get(t));
    out.extend_from_slice(b" [");
    out.extend_from_slice(level.as_bytes());
    out.extend_from_slice(b"] ");
    let w = WORKERS[(conn % 2) as usize] as u64;
    num::u64(out, w);
    out.push(b'#');
    num::u64(out, w);
    out.extend_from_slice(b": *");
    num::u64(out, conn);
    out.push(b' ');
}

fn error_tail(out: &mut Vec<u8>, r: &Req, upstream: Option<&[u8]>) {
    out.extend_from_slice(b", client: ");
    out.extend_from_slice(r.ip);
    out.extend_from_slice(b", server: ");
    out.extend_from_slice(HOST.as_bytes());
    out.extend_from_slice(b", request: \"");
    out.extend_from_slice(r.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(r.path);
    out.push(b' ');
    out.extend_from_slice(r.proto.as_bytes());
    out.push(b'"');
    if let Some(u) = upstream {
        out.extend_from_slice(b", upstream: \"");
        out.extend_from_slice(u);
        out.push(b'"');
    }
    out.extend_from_slice(b", host: \"");
    out.extend_from_slice(HOST.as_bytes());
    out.extend_from_slice(b"\"\n");
}

/// `http://HOST/path` for the `/api/` proxy (the query is not shown).
fn api_upstream(u: &mut Vec<u8>, host: &str, r: &Req) {
    u.extend_from_slice(b"http://");
    u.extend_from_slice(host.as_bytes());
    u.extend_from_slice(r.path.split(|&b| b == b'?').next().unwrap_or(b""));
}

/// The error-log lines of a request's upstream error, at the same instant
/// and with the same connection number. `scratch` is reused.
pub fn upstream_error_line(
    out: &mut Vec<u8>,
    stamp: &mut Stamp,
    r: &Req,
    e: UpErr,
    conn: u64,
    scratch: &mut Vec<u8>,
) {
    let up = scratch;
    up.clear();
    match e {
        UpErr::Failover => {
            for server in API_SERVERS {
                up.clear();
                api_upstream(up, server, r);
                error_head(out, stamp, r.t, "error", conn);
                out.extend_from_slice(e.message().as_bytes());
                error_tail(out, r, Some(up));
                error_head(out, stamp, r.t, "warn", conn);
                out.extend_from_slice(
                    b"upstream server temporarily disabled while connecting to upstream",
                );
                error_tail(out, r, Some(up));
            }
            return;
        }
        UpErr::NoLive => {
            api_upstream(up, API_GROUP, r);
            error_head(out, stamp, r.t, "error", conn);
            out.extend_from_slice(e.message().as_bytes());
            error_tail(out, r, Some(up));
            return;
        }
        _ => {}
    }
    up.extend_from_slice(b"fastcgi://");
    up.extend_from_slice(SOCK.as_bytes());
    // nginx prints the socket upstream with a trailing ':' except after a
    // read timeout (as in the lab's logs).
    if e != UpErr::TimedOut {
        up.push(b':');
    }
    if matches!(e, UpErr::FatalClose | UpErr::Fatal500) {
        error_head(out, stamp, r.t, "error", conn);
        out.extend_from_slice(
            b"FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes) in ",
        );
        out.extend_from_slice(FATAL_FILE.as_bytes());
        out.extend_from_slice(b" on line ");
        num::u64(out, FATAL_LINE as u64);
        out.extend_from_slice(b"\" while reading response header from upstream");
        error_tail(out, r, Some(up));
        if e == UpErr::Fatal500 {
            return;
        }
    }
    error_head(out, stamp, r.t, e.level(), conn);
    if e.at_connect() {
        out.extend_from_slice(b"connect() to ");
        out.extend_from_slice(SOCK.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(e.message().as_bytes());
    error_tail(out, r, Some(up));
}

/// `open() "..." failed (2: No such file or directory)` for a missing file.
pub fn open_failed_line(out: &mut Vec<u8>, stamp: &mut Stamp, r: &Req, conn: u64) {
    error_head(out, stamp, r.t, "error", conn);
    out.extend_from_slice(b"open() \"");
    out.extend_from_slice(crate::model::DOCROOT.as_bytes());
    let p = r.path.split(|&b| b == b'?').next().unwrap_or(b"");
    out.extend_from_slice(p);
    out.extend_from_slice(b"\" failed (2: No such file or directory)");
    error_tail(out, r, None);
}

/// The `warn` an upstream response buffered to disk gets (an upstream
/// warning, not an error).
pub fn buffered_warn_line(out: &mut Vec<u8>, stamp: &mut Stamp, r: &Req, conn: u64, n: u64) {
    error_head(out, stamp, r.t, "warn", conn);
    out.extend_from_slice(
        b"an upstream response is buffered to a temporary file /var/cache/nginx/fastcgi_temp/",
    );
    num::u64(out, n % 10);
    out.extend_from_slice(b"/0");
    num::u64(out, n % 10);
    out.extend_from_slice(b"/000000");
    num::u64(out, 1000 + n % 9000);
    out.extend_from_slice(b" while reading upstream");
    let mut up = b"fastcgi://".to_vec();
    up.extend_from_slice(SOCK.as_bytes());
    up.push(b':');
    error_tail(out, r, Some(&up));
}

/// One Cloudflare Logpush `http_requests` record.
pub struct Edge<'a> {
    /// When the edge received the request, unix ms.
    pub start: i64,
    pub ip: &'a [u8],
    pub method: &'a str,
    /// Path and query.
    pub uri: &'a [u8],
    pub status: u16,
    /// What the origin answered; `None` when the origin was never reached.
    pub origin: Option<u16>,
    pub origin_ms: u64,
    pub ray: u64,
}

/// Appends one Logpush JSON line (keys in Logpush's alphabetical order,
/// `EdgeStartTimestamp` in unix nanoseconds, its default).
pub fn cloudflare_line(out: &mut Vec<u8>, e: &Edge) {
    out.extend_from_slice(b"{\"ClientIP\":\"");
    out.extend_from_slice(e.ip);
    out.extend_from_slice(b"\",\"ClientRequestHost\":\"");
    out.extend_from_slice(HOST.as_bytes());
    out.extend_from_slice(b"\",\"ClientRequestMethod\":\"");
    out.extend_from_slice(e.method.as_bytes());
    out.extend_from_slice(b"\",\"ClientRequestPath\":\"");
    out.extend_from_slice(e.uri.split(|&b| b == b'?').next().unwrap_or(b""));
    out.extend_from_slice(b"\",\"ClientRequestURI\":\"");
    out.extend_from_slice(e.uri);
    out.extend_from_slice(b"\",\"EdgeColoCode\":\"");
    out.extend_from_slice(COLOS[(e.ray & 3) as usize].as_bytes());
    out.extend_from_slice(b"\",\"EdgeResponseStatus\":");
    num::u64(out, e.status as u64);
    out.extend_from_slice(b",\"EdgeStartTimestamp\":");
    num::u64(out, e.start as u64);
    out.extend_from_slice(b"000000,\"OriginResponseDurationMs\":");
    num::u64(out, if e.origin.is_some() { e.origin_ms } else { 0 });
    out.extend_from_slice(b",\"OriginResponseStatus\":");
    num::u64(out, e.origin.unwrap_or(0) as u64);
    out.extend_from_slice(b",\"RayID\":\"");
    num::hex(out, e.ray, 16);
    out.extend_from_slice(b"\"}\n");
}
