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

/// An nginx upstream error, by the contract's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpErr {
    Refused,
    Eagain,
    Enoent,
    Eacces,
    TimedOut,
    Reset,
    Premature,
}

impl UpErr {
    pub const ALL: [UpErr; 7] = [
        UpErr::Refused,
        UpErr::Eagain,
        UpErr::Enoent,
        UpErr::Eacces,
        UpErr::TimedOut,
        UpErr::Reset,
        UpErr::Premature,
    ];

    pub fn kind(self) -> &'static str {
        match self {
            UpErr::Refused => "connect_refused",
            UpErr::Eagain => "connect_eagain",
            UpErr::Enoent => "connect_enoent",
            UpErr::Eacces => "connect_eacces",
            UpErr::TimedOut => "timed_out",
            UpErr::Reset => "reset_by_peer",
            UpErr::Premature => "premature_close",
        }
    }

    pub fn status(self) -> u16 {
        if self == UpErr::TimedOut { 504 } else { 502 }
    }

    /// Failed before a connection was made (no upstream connect time).
    pub fn at_connect(self) -> bool {
        matches!(
            self,
            UpErr::Refused | UpErr::Eagain | UpErr::Enoent | UpErr::Eacces
        )
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
            UpErr::Premature => {
                "upstream prematurely closed connection while reading response header from upstream"
            }
        }
    }

    pub fn index(self) -> usize {
        UpErr::ALL.iter().position(|&e| e == self).unwrap()
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
}

/// Access-log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFormat {
    Combined,
    Timing,
    Json,
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
        Up::Ok => (Some(0), Some(r.rt_ms.saturating_sub(1)), Some(r.rt_ms)),
        Up::Err(e) if e.at_connect() => (None, None, Some(0)),
        Up::Err(_) => (Some(0), None, Some(r.rt_ms)),
    };
    let opt = |o: &mut Vec<u8>, v: Option<u64>| match v {
        Some(ms) => num::secs3(o, ms),
        None => o.push(b'-'),
    };
    let us = |o: &mut Vec<u8>| match r.up {
        Up::None => o.push(b'-'),
        Up::Ok => num::u64(o, r.status as u64),
        Up::Err(e) => num::u64(o, e.status() as u64),
    };
    let ua_addr: &[u8] = if r.up == Up::None {
        b"-"
    } else {
        SOCK.as_bytes()
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
        out.extend_from_slice(b"\",\"http_x_forwarded_for\":\"\",\"upstream_addr\":\"");
        if r.up != Up::None {
            out.extend_from_slice(ua_addr);
        }
        out.extend_from_slice(b"\",\"upstream_status\":\"");
        if r.up != Up::None {
            us(out);
        }
        out.extend_from_slice(b"\",\"upstream_response_time\":\"");
        if let Some(ms) = urt {
            num::secs3(out, ms);
        }
        out.extend_from_slice(b"\",\"request_id\":\"");
        num::hex(out, (rid >> 64) as u64, 16);
        num::hex(out, rid as u64, 16);
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
        out.extend_from_slice(ua_addr);
        out.extend_from_slice(b"\" us=\"");
        us(out);
        out.extend_from_slice(b"\" rid=");
        num::hex(out, (rid >> 64) as u64, 16);
        num::hex(out, rid as u64, 16);
        out.extend_from_slice(b" cn=");
        num::u64(out, conn);
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
        out.extend_from_slice(b", upstream: \"fastcgi://");
        out.extend_from_slice(u);
        out.push(b'"');
    }
    out.extend_from_slice(b", host: \"");
    out.extend_from_slice(HOST.as_bytes());
    out.extend_from_slice(b"\"\n");
}

/// The error-log line of a request's upstream error, at the same instant
/// and with the same connection number.
pub fn upstream_error_line(out: &mut Vec<u8>, stamp: &mut Stamp, r: &Req, e: UpErr, conn: u64) {
    error_head(out, stamp, r.t, e.level(), conn);
    if e.at_connect() {
        out.extend_from_slice(b"connect() to ");
        out.extend_from_slice(SOCK.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(e.message().as_bytes());
    let mut up = SOCK.as_bytes().to_vec();
    // nginx prints the socket upstream with a trailing ':' except after a
    // read timeout (as in the lab's logs).
    if e != UpErr::TimedOut {
        up.push(b':');
    }
    error_tail(out, r, Some(&up));
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
    let mut up = SOCK.as_bytes().to_vec();
    up.push(b':');
    error_tail(out, r, Some(&up));
}
