//! The nginx error log.
//!
//! # Format accepted
//!
//! One entry is a header, an optional connection number, a message and an
//! optional context:
//!
//! ```text
//! YYYY/MM/DD HH:MM:SS [level] pid#tid: *conn message, client: ADDR, server: NAME, request: "...", upstream: "...", host: "...", referrer: "..."
//! 2026/11/24 11:17:00 [error] 31577#31577: *58 connect() to unix:/tmp/lab/php-fpm-www.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /slow.php?s=4&n=11 HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "127.0.0.1:8080"
//! 2021/06/17 19:25:59 [notice] 133309#133309: signal process started
//! ```
//!
//! - The time has no zone: it is resolved in the [`Zone`] given to
//!   [`ErrorParser::new`] (DST applied at each instant, file order decides
//!   in a repeated hour).
//! - `level` is one of `debug info notice warn error crit alert emerg`.
//! - `*conn` is absent on process-level lines (`signal process started`,
//!   `worker process 123 exited on signal 9`, `bind() ... failed`).
//! - The context starts at the first `, client: ` whose value is one token
//!   followed by `, server: ` or the end of the entry (so messages holding
//!   commas, such as `delaying requests, excess: 50.416, by zone "z"`, stay
//!   whole). `client` and `server` are unquoted (`server: ,` is an empty
//!   server); the other values are quoted, and a value ends only at a `"`
//!   followed by the end of the entry or by `, key:`, so values may hold
//!   `, ` and quotes (nginx does not escape them). Unknown keys are skipped.
//! - An entry may span several physical lines: `FastCGI sent in stderr: "`
//!   payloads keep PHP's newlines, and the lines after the first continue
//!   the entry until the line that closes the quote (`" while ...`). See
//!   [`ErrorParser`]'s [`RecordParser::continues`].
//! - Any byte may appear (nginx writes binary request lines raw); nothing is
//!   decoded but numbers.
//!
//! # Upstream classification
//!
//! Per `CONTRACT.md`, an entry is about the upstream when its phase (the
//! text after the last ` while `) contains `upstream` (`connecting to
//! upstream`, `reading response header from upstream`, `sending request to
//! upstream`, `reading upstream`, ...) or when it carries an `upstream:`
//! context. Such an entry is an [`UpstreamClass::Error`] at level `error`
//! or above, an [`UpstreamClass::Warning`] at `warn`, and
//! [`UpstreamClass::None`] below. The kind comes from nginx's own words
//! (see [`UpstreamKind`]).
//!
//! **FastCGI stderr rule.** `FastCGI sent in stderr: "..."` entries are
//! never upstream errors, whatever their level, phase and context: the
//! quoted payload is PHP's stderr passed on
//! ([`ErrorRecord::fastcgi_stderr`], [`UpstreamClass::None`]). The payload
//! is what PHP wrote, not what nginx saw: errno and phase are read from
//! nginx's words after it only, so a PHP message that says "timed out" or
//! "(111: ...)" never shows as one. Each `PHP message: ` part of the
//! payload (parts are joined by `; ` or by new lines) is counted by level
//! in [`ErrorRecord::php_counts`] (a payload without one, such as
//! `Primary script unknown`, counts as one message of level `other`), and
//! the most severe one is kept in [`ErrorRecord::php`].

use memchr::memmem;

use crate::bytes::Byte;
use crate::error::SkipReason;
use crate::frame::RecordParser;
use crate::php::{PhpCounts, PhpLevel};
use crate::time::{LocalResolver, Timestamp, Zone, parse_naive_slash};

#[cfg(test)]
mod tests;

/// An nginx error-log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `notice`
    Notice,
    /// `warn`
    Warn,
    /// `error`
    Error,
    /// `crit`
    Crit,
    /// `alert`
    Alert,
    /// `emerg`
    Emerg,
}

impl Level {
    /// The name nginx writes between the brackets (`error`, `crit`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Crit => "crit",
            Level::Alert => "alert",
            Level::Emerg => "emerg",
        }
    }

    /// Reads a level name as nginx writes it (`b"warn"`).
    pub fn from_bytes(b: &[u8]) -> Option<Level> {
        Some(match b {
            b"debug" => Level::Debug,
            b"info" => Level::Info,
            b"notice" => Level::Notice,
            b"warn" => Level::Warn,
            b"error" => Level::Error,
            b"crit" => Level::Crit,
            b"alert" => Level::Alert,
            b"emerg" => Level::Emerg,
            _ => return None,
        })
    }
}

/// The kind of an upstream error, as `CONTRACT.md` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UpstreamKind {
    /// `connect() ... failed (111: Connection refused)`
    ConnectRefused,
    /// `connect() ... failed (11: Resource temporarily unavailable)`: listen backlog full.
    ConnectEagain,
    /// `connect() ... failed (2: No such file or directory)`: socket missing.
    ConnectEnoent,
    /// `connect() ... failed (13: Permission denied)`.
    ConnectEacces,
    /// `upstream timed out (110: ...) while connecting to upstream`.
    ConnectTimedOut,
    /// `upstream timed out (110: ...)` while reading or sending.
    TimedOut,
    /// `upstream prematurely closed connection`.
    PrematureClose,
    /// `recv()`/`readv()`/`writev()`/`send()` `failed (104: Connection reset by peer)`.
    ResetByPeer,
    /// `no live upstreams while connecting to upstream`.
    NoLiveUpstreams,
    /// `upstream sent too big header`.
    TooBigHeader,
    /// Any other upstream error.
    Other,
}

impl UpstreamKind {
    /// Every kind, in contract order.
    pub const ALL: [UpstreamKind; 11] = [
        UpstreamKind::ConnectRefused,
        UpstreamKind::ConnectEagain,
        UpstreamKind::ConnectEnoent,
        UpstreamKind::ConnectEacces,
        UpstreamKind::ConnectTimedOut,
        UpstreamKind::TimedOut,
        UpstreamKind::PrematureClose,
        UpstreamKind::ResetByPeer,
        UpstreamKind::NoLiveUpstreams,
        UpstreamKind::TooBigHeader,
        UpstreamKind::Other,
    ];

    /// The contract's name (`connect_refused`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::ConnectRefused => "connect_refused",
            UpstreamKind::ConnectEagain => "connect_eagain",
            UpstreamKind::ConnectEnoent => "connect_enoent",
            UpstreamKind::ConnectEacces => "connect_eacces",
            UpstreamKind::ConnectTimedOut => "connect_timed_out",
            UpstreamKind::TimedOut => "timed_out",
            UpstreamKind::PrematureClose => "premature_close",
            UpstreamKind::ResetByPeer => "reset_by_peer",
            UpstreamKind::NoLiveUpstreams => "no_live_upstreams",
            UpstreamKind::TooBigHeader => "too_big_header",
            UpstreamKind::Other => "other",
        }
    }

    /// A dense index in `0..UpstreamKind::ALL.len()`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The phase of the upstream exchange nginx names after `while`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `while connecting to upstream`
    Connecting,
    /// `while sending request to upstream`
    SendingRequest,
    /// `while reading response header from upstream`
    ReadingHeader,
    /// `while reading upstream` (the body)
    ReadingUpstream,
    /// `while sending to client`
    SendingToClient,
    /// Any other `while ...` phase (`SSL handshaking`, `reading client
    /// request line`, ...).
    Other,
}

impl Phase {
    /// Reads the text nginx writes after ` while `.
    pub fn from_action(action: &[u8]) -> Phase {
        match action {
            b"connecting to upstream" => Phase::Connecting,
            b"sending request to upstream" => Phase::SendingRequest,
            b"reading response header from upstream" => Phase::ReadingHeader,
            b"reading upstream" => Phase::ReadingUpstream,
            b"sending to client" => Phase::SendingToClient,
            _ => Phase::Other,
        }
    }
}

/// What an entry says about the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamClass {
    /// Not about an upstream.
    None,
    /// An upstream error (level `error` or above, see the contract).
    Error(UpstreamKind),
    /// An upstream line at `warn` (`upstream server temporarily disabled`, ...).
    Warning,
}

pub use crate::php::PhpMessage;

/// One error-log entry (one or more physical lines).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRecord<'a> {
    /// The entry's time, resolved in the configured zone.
    pub time: Timestamp,
    /// Level.
    pub level: Level,
    /// nginx process id.
    pub pid: u32,
    /// Thread id (`#0` usually).
    pub tid: u64,
    /// The connection number `*N`, the join key with `$connection`.
    pub connection: Option<u64>,
    /// The message, before the `, client: ` context (all of it, inner
    /// newlines included, for a multi-line entry).
    pub message: &'a [u8],
    /// `errno` from `(111: Connection refused)`.
    pub errno: Option<u16>,
    /// The phase after `while`.
    pub phase: Option<Phase>,
    /// Upstream classification.
    pub upstream_class: UpstreamClass,
    /// A `FastCGI sent in stderr: "..."` entry: PHP's stderr passed on,
    /// never an upstream error.
    pub fastcgi_stderr: bool,
    /// The most severe PHP message of a FastCGI stderr entry (the first of
    /// its level).
    pub php: Option<PhpMessage<'a>>,
    /// The PHP messages of a FastCGI stderr entry by level (all zero for
    /// other entries).
    pub php_counts: PhpCounts,
    /// The context after `, client: `, unparsed (see [`ErrorRecord::context`]).
    raw_context: Option<&'a [u8]>,
}

impl<'a> ErrorRecord<'a> {
    /// The level of a FastCGI stderr entry: that of its most severe PHP
    /// message; `None` for other entries.
    pub fn php_level(&self) -> Option<PhpLevel> {
        self.php_counts.most_severe()
    }

    /// The context (`client: ..., server: ..., request: "...", ...`),
    /// parsed on each call: the fields are read only when asked for.
    pub fn context(&self) -> Context<'a> {
        self.raw_context.map(Context::parse).unwrap_or_default()
    }

    /// `client:` context.
    pub fn client(&self) -> Option<&'a [u8]> {
        self.context().client
    }

    /// `server:` context.
    pub fn server(&self) -> Option<&'a [u8]> {
        self.context().server
    }

    /// `request:` context, without its quotes.
    pub fn request(&self) -> Option<&'a [u8]> {
        self.context().request
    }

    /// `upstream:` context, without its quotes.
    pub fn upstream(&self) -> Option<&'a [u8]> {
        self.context().upstream
    }

    /// `host:` context, without its quotes.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.context().host
    }

    /// `referrer:` context, without its quotes.
    pub fn referrer(&self) -> Option<&'a [u8]> {
        self.context().referrer
    }
}

/// The context nginx appends to an entry about a connection:
/// `client: ADDR, server: NAME, request: "...", upstream: "...", host:
/// "...", referrer: "..."` (see the [module docs](self) for how values
/// end). A key that appears twice keeps its last value; unknown keys are
/// skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// `client:`
    pub client: Option<&'a [u8]>,
    /// `server:`
    pub server: Option<&'a [u8]>,
    /// `request:`, without its quotes.
    pub request: Option<&'a [u8]>,
    /// `upstream:`, without its quotes.
    pub upstream: Option<&'a [u8]>,
    /// `host:`, without its quotes.
    pub host: Option<&'a [u8]>,
    /// `referrer:`, without its quotes.
    pub referrer: Option<&'a [u8]>,
}

/// The prefix of a FastCGI stderr message.
const FASTCGI: &[u8] = b"FastCGI sent in stderr: \"";

/// Finds the first `,`, `(` or `w`, with the best routine chosen at
/// construction (see [`Byte`]).
#[derive(Clone, Copy, Debug)]
struct Marks {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::Three>,
}

impl Marks {
    fn new() -> Marks {
        Marks {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::Three::new(b',', b'(', b'w'),
        }
    }

    #[inline(always)]
    fn find(&self, h: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(three) = &self.avx2 {
            return three.find(h);
        }
        memchr::memchr3(b',', b'(', b'w', h)
    }
}

/// The searchers a parser uses, built once.
#[derive(Debug, Clone)]
struct Finders {
    client: memmem::Finder<'static>,
    upstream: memmem::Finder<'static>,
    upstream_key: memmem::Finder<'static>,
    marks: Marks,
    paren: Byte,
    close_while: memmem::Finder<'static>,
    close_client: memmem::Finder<'static>,
    fastcgi: memmem::Finder<'static>,
    php_message: memmem::Finder<'static>,
    colon_space: memmem::Finder<'static>,
    in_rev: memmem::FinderRev<'static>,
    on_line_rev: memmem::FinderRev<'static>,
}

impl Finders {
    fn new() -> Finders {
        Finders {
            client: memmem::Finder::new(b", client: "),
            upstream: memmem::Finder::new(b"upstream"),
            upstream_key: memmem::Finder::new(b", upstream:"),
            marks: Marks::new(),
            paren: Byte::new(b'('),
            close_while: memmem::Finder::new(b"\" while "),
            close_client: memmem::Finder::new(b"\", client: "),
            fastcgi: memmem::Finder::new(FASTCGI),
            php_message: memmem::Finder::new(b"PHP message: "),
            colon_space: memmem::Finder::new(b": "),
            in_rev: memmem::FinderRev::new(b" in "),
            on_line_rev: memmem::FinderRev::new(b" on line "),
        }
    }
}

/// Parses nginx error-log entries (the format is in the [module
/// docs](self)), resolving their offset-less times in a zone.
///
/// ```
/// use baton_logparse::{ErrorParser, Level, RecordParser, UpstreamClass, UpstreamKind, Zone};
/// let mut p = ErrorParser::new(Zone::UTC);
/// let line = b"2026/11/24 11:18:04 [error] 31577#31577: *150 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: \"GET /refused/index.php HTTP/1.1\", upstream: \"fastcgi://127.0.0.1:9999\", host: \"127.0.0.1:8080\"";
/// let r = p.parse(line).unwrap();
/// assert_eq!(r.level, Level::Error);
/// assert_eq!(r.connection, Some(150));
/// assert_eq!(r.upstream_class, UpstreamClass::Error(UpstreamKind::ConnectRefused));
/// assert_eq!(r.upstream(), Some(&b"fastcgi://127.0.0.1:9999"[..]));
/// assert_eq!(r.time.to_rfc3339(), "2026-11-24T11:18:04+00:00");
/// ```
#[derive(Debug, Clone)]
pub struct ErrorParser {
    resolver: LocalResolver,
    finders: Finders,
    /// `YYYY/MM/DD HH:MM` of the previous entry and its local seconds.
    last_minute: [u8; 16],
    last_minute_secs: i64,
}

impl ErrorParser {
    /// A parser resolving times in `zone`.
    pub fn new(zone: Zone) -> ErrorParser {
        ErrorParser {
            resolver: LocalResolver::new(zone),
            finders: Finders::new(),
            last_minute: [0; 16],
            last_minute_secs: 0,
        }
    }

    /// Local seconds (as if UTC) of `YYYY/MM/DD HH:MM:SS`, reusing the
    /// previous entry's date and minute when they match.
    #[inline]
    fn local_secs(&mut self, ts: &[u8]) -> Option<i64> {
        if ts.first_chunk::<16>() == Some(&self.last_minute) && ts[16] == b':' {
            let (a, b) = (ts[17].wrapping_sub(b'0'), ts[18].wrapping_sub(b'0'));
            if a < 6 && b < 10 {
                return Some(self.last_minute_secs + (a * 10 + b) as i64);
            }
        }
        self.local_secs_slow(ts)
    }

    #[cold]
    fn local_secs_slow(&mut self, ts: &[u8]) -> Option<i64> {
        let secs = parse_naive_slash(ts)?;
        let s = (ts[17] - b'0') as i64 * 10 + (ts[18] - b'0') as i64;
        if s < 60 {
            self.last_minute.copy_from_slice(&ts[..16]);
            self.last_minute_secs = secs - s;
        }
        Some(secs)
    }

    /// Whether the stderr quote of `head` is still open (see
    /// [`RecordParser::continues`]).
    fn fastcgi_open(&self, head: &[u8]) -> bool {
        let f = &self.finders;
        let tail = match memchr::memrchr(b'\n', head) {
            // Only ever asked of a head whose earlier lines left the quote open.
            Some(i) => &head[i + 1..],
            None => {
                if !is_entry_start(head) {
                    return false;
                }
                match f.fastcgi.find(head) {
                    Some(i) => &head[i + FASTCGI.len()..],
                    None => return false,
                }
            }
        };
        f.close_while.find(tail).is_none() && f.close_client.find(tail).is_none()
    }
}

impl RecordParser for ErrorParser {
    type Record<'a> = ErrorRecord<'a>;
    const MULTILINE: bool = true;

    /// A line starting with `YYYY/MM/DD HH:MM:SS [level] ` ([`is_entry_start`]).
    fn is_record_start(&self, line: &[u8]) -> bool {
        is_entry_start(line)
    }

    /// `next` continues `head` when `head` is an entry whose
    /// `FastCGI sent in stderr: "` payload is still open: no line of it so
    /// far holds the closing `" while ` (or `", client: `). A line that is
    /// not an entry start after a complete entry is its own record, and
    /// [`ErrorParser::parse`] skips it.
    fn continues(&self, head: &[u8], _next: &[u8]) -> bool {
        self.fastcgi_open(head)
    }

    /// Parses one entry. Skips: a line that is not an entry is
    /// [`SkipReason::OrphanContinuation`] when it looks like the inside of a
    /// PHP message (indented, `#N `, `Stack trace:`, `PHP ...`, `thrown in`),
    /// else [`SkipReason::Unrecognized`]; a header cut short is
    /// [`SkipReason::Truncated`]; an impossible date
    /// [`SkipReason::BadTimestamp`]; an unknown level or a bad `pid#tid`
    /// [`SkipReason::BadField`].
    #[inline]
    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<ErrorRecord<'a>, SkipReason> {
        if rec.len() < 19 || !timestamp_shape(&rec[..19]) {
            return Err(not_an_entry(rec));
        }
        let local = self
            .local_secs(&rec[..19])
            .ok_or(SkipReason::BadTimestamp)?;
        // ` [level] `
        let (level, rest) = match level_fast(rec.get(21..).unwrap_or_default()) {
            Some((level, n)) if rec[19] == b' ' && rec[20] == b'[' => (level, &rec[21 + n..]),
            _ => level_slow(&rec[19..])?,
        };
        // `pid#tid: `
        let (pid, rest) = digits_u64(rest).ok_or_else(|| cut_or(rest, SkipReason::BadField))?;
        let pid = u32::try_from(pid).map_err(|_| SkipReason::BadField)?;
        let rest = match rest.first() {
            Some(b'#') => &rest[1..],
            Some(_) => return Err(SkipReason::BadField),
            None => return Err(SkipReason::Truncated),
        };
        let (tid, rest) = digits_u64(rest).ok_or_else(|| cut_or(rest, SkipReason::BadField))?;
        let rest = match rest {
            [b':', b' ', r @ ..] => r,
            [b':'] => &[][..],
            [] => return Err(SkipReason::Truncated),
            _ => return Err(SkipReason::BadField),
        };
        // `*conn `
        let (connection, body) = match rest {
            [b'*', r @ ..] => match digits_u64(r) {
                Some((n, [b' ', m @ ..])) => (Some(n), m),
                Some((n, [])) => (Some(n), &[][..]),
                _ => (None, rest),
            },
            _ => (None, rest),
        };
        let time = self.resolver.resolve(local);

        let mut r = ErrorRecord {
            time,
            level,
            pid,
            tid,
            connection,
            message: body,
            errno: None,
            phase: None,
            upstream_class: UpstreamClass::None,
            fastcgi_stderr: false,
            php: None,
            php_counts: PhpCounts::default(),
            raw_context: None,
        };
        // Everything read past the header starts at a `,` (the context's
        // `, client: `), a `(` (the errno's `(N: `) or a `w` (` while `).
        // Most messages (`client 127.0.0.1 closed keepalive connection`)
        // hold none of them, and one search says so.
        let mark = self.finders.marks.find(body).unwrap_or(body.len());
        let mut from = mark;
        while let Some(i) = self.finders.client.find(&body[from..]) {
            let at = from + i;
            let ctx = &body[at + 10..];
            if client_end(ctx).is_some() {
                r.message = &body[..at];
                r.raw_context = Some(ctx);
                break;
            }
            from = at + 1;
        }
        self.classify(&mut r, mark);
        Ok(r)
    }
}

impl ErrorParser {
    /// The first `(N: ` in `words`: the errno nginx prints as `(111: Connection refused)`.
    #[inline]
    fn find_errno(&self, words: &[u8]) -> Option<u16> {
        let mut from = 0;
        while let Some(i) = self.finders.paren.find(&words[from..]) {
            let at = from + i;
            if let Some((n, [b':', b' ', ..])) = digits_u64(&words[at + 1..])
                && let Ok(n) = u16::try_from(n)
            {
                return Some(n);
            }
            from = at + 1;
        }
        None
    }

    /// Whether the context `ctx` (after `, client: `) has an `upstream:`
    /// key: [`Context::parse`] says so, asked only when the key's text is
    /// there at all.
    fn has_upstream(&self, ctx: &[u8]) -> bool {
        self.finders.upstream_key.find(ctx).is_some() && Context::parse(ctx).upstream.is_some()
    }

    /// Fills errno, phase, the upstream class and the PHP messages. The
    /// message holds no `(` or `w` before `mark`.
    #[inline]
    fn classify<'a>(&self, r: &mut ErrorRecord<'a>, mark: usize) {
        let msg = r.message;
        if let Some(payload_and_tail) = msg.strip_prefix(FASTCGI) {
            // PHP's stderr: counted as PHP messages, never an upstream
            // error; errno and phase come from nginx's words after it.
            let (payload, tail) = split_payload(&self.finders, payload_and_tail);
            r.fastcgi_stderr = true;
            (r.php, r.php_counts) = php_messages(&self.finders, payload);
            r.errno = self.find_errno(tail);
            r.phase = rfind_while(tail, 0).map(|i| Phase::from_action(&tail[i + 7..]));
            return;
        }
        let (words, mark) = (msg, mark.min(msg.len()));
        if mark == words.len() {
            // No errno, no phase: only the context can make it upstream.
            if r.level >= Level::Warn && r.raw_context.is_some_and(|c| self.has_upstream(c)) {
                r.upstream_class = match r.level {
                    Level::Warn => UpstreamClass::Warning,
                    _ => UpstreamClass::Error(upstream_kind(&self.finders, words, None, None)),
                };
            }
            return;
        }
        r.errno = self.find_errno(&words[mark..]);
        let action = rfind_while(words, mark).map(|i| &words[i + 7..]);
        r.phase = action.map(Phase::from_action);
        if r.level < Level::Warn {
            // Below `warn` nothing is an upstream error or warning.
            return;
        }
        // The named upstream phases hold `upstream`; `sending to client` does not.
        let upstream_phase = match (r.phase, action) {
            (Some(Phase::Other), Some(action)) => self.finders.upstream.find(action).is_some(),
            (Some(Phase::SendingToClient) | None, _) => false,
            _ => true,
        };
        // While sending to client, the request's `upstream:` key alone does
        // not make a failed handoff: a client that went away (`writev()
        // failed (32: Broken pipe)`) or a WAF denying the response (a
        // ModSecurity phase 4 403) is logged with it. nginx's own words say
        // when the upstream failed (`upstream prematurely closed
        // connection while sending to client`).
        let context_counts =
            r.phase != Some(Phase::SendingToClient) || self.finders.upstream.find(words).is_some();
        if !(upstream_phase
            || context_counts && r.raw_context.is_some_and(|c| self.has_upstream(c)))
        {
            return;
        }
        r.upstream_class = match r.level {
            Level::Warn => UpstreamClass::Warning,
            _ => UpstreamClass::Error(upstream_kind(&self.finders, words, r.errno, r.phase)),
        };
    }
}

/// The kind of an upstream error from nginx's words (the FastCGI payload
/// already removed), its errno and phase.
fn upstream_kind(
    f: &Finders,
    words: &[u8],
    errno: Option<u16>,
    phase: Option<Phase>,
) -> UpstreamKind {
    // Each phrase holds `upstream`, which cannot overlap itself: one pass
    // over its occurrences finds all four.
    let (mut live, mut big, mut closed, mut timed) = (false, false, false, false);
    for i in f.upstream.find_iter(words) {
        let after = &words[i + 8..];
        live |= after.first() == Some(&b's') && words[..i].ends_with(b"no live ");
        big |= after.starts_with(b" sent too big header");
        closed |= after.starts_with(b" prematurely closed");
        timed |= after.starts_with(b" timed out");
    }
    if live {
        UpstreamKind::NoLiveUpstreams
    } else if big {
        UpstreamKind::TooBigHeader
    } else if closed {
        UpstreamKind::PrematureClose
    } else if timed {
        if phase == Some(Phase::Connecting) {
            UpstreamKind::ConnectTimedOut
        } else {
            UpstreamKind::TimedOut
        }
    } else if words.starts_with(b"connect() ") {
        match errno {
            Some(111) => UpstreamKind::ConnectRefused,
            Some(11) => UpstreamKind::ConnectEagain,
            Some(2) => UpstreamKind::ConnectEnoent,
            Some(13) => UpstreamKind::ConnectEacces,
            Some(110) => UpstreamKind::ConnectTimedOut,
            _ => UpstreamKind::Other,
        }
    } else if errno == Some(104) {
        UpstreamKind::ResetByPeer
    } else {
        UpstreamKind::Other
    }
}

/// Splits `payload" while ...` (the text after `FastCGI sent in stderr: "`)
/// into the payload and nginx's words after it. The payload ends at the
/// last `" while `, else at a final `"`; an unterminated payload (cut by
/// nginx's line limit, or a log that lost its last line) runs to the end.
fn split_payload<'a>(f: &Finders, s: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    let mut end = None;
    let mut from = 0;
    while let Some(i) = f.close_while.find(&s[from..]) {
        end = Some(from + i);
        from += i + 1;
    }
    match end {
        Some(e) => (&s[..e], &s[e + 1..]),
        None => match s.last() {
            Some(b'"') => (&s[..s.len() - 1], &[][..]),
            _ => (s, &[][..]),
        },
    }
}

/// The PHP messages of a stderr payload: the most severe (the first of its
/// level) and the count by level. Each `PHP message: ` starts a message,
/// which runs to the next one (without the `; ` or line end before it);
/// only its first line is read. A payload without `PHP message: ` is one
/// message: `PHP Level:  text` when it starts so, else a message of level
/// `other` (`Primary script unknown`), kept only as a count.
fn php_messages<'a>(f: &Finders, payload: &'a [u8]) -> (Option<PhpMessage<'a>>, PhpCounts) {
    let mut counts = PhpCounts::default();
    let mut best: Option<(PhpLevel, PhpMessage<'a>)> = None;
    let mut next = f.php_message.find(payload);
    if next.is_none() {
        let m = first_line_of(payload);
        let msg = m.starts_with(b"PHP ").then(|| php_message_of(f, m));
        let level = msg.map_or(PhpLevel::Other, |m| m.php_level());
        counts.add(level);
        return (msg.filter(|m| !m.level.is_empty()), counts);
    }
    while let Some(at) = next {
        let start = at + 13;
        next = f.php_message.find(&payload[start..]).map(|i| start + i);
        let mut m = &payload[start..next.unwrap_or(payload.len())];
        let line = first_line_of(m);
        if line.len() == m.len() {
            m = m.strip_suffix(b"; ").unwrap_or(m);
        } else {
            m = line;
        }
        let msg = php_message_of(f, m);
        let level = msg.php_level();
        counts.add(level);
        if best.is_none_or(|(l, _)| level < l) {
            best = Some((level, msg));
        }
    }
    (best.map(|(_, m)| m), counts)
}

/// `m` up to its first line end (without a `\r`).
fn first_line_of(m: &[u8]) -> &[u8] {
    let m = &m[..memchr::memchr(b'\n', m).unwrap_or(m.len())];
    m.strip_suffix(b"\r").unwrap_or(m)
}

/// One message (the text after `PHP message: `): `PHP Level:  text in
/// /path/file.php on line N`, or text without a level.
fn php_message_of<'a>(f: &Finders, m: &'a [u8]) -> PhpMessage<'a> {
    let (level, text) = match m.strip_prefix(b"PHP ") {
        Some(after) => match f.colon_space.find(after) {
            Some(i)
                if i <= 32
                    && after[..i]
                        .iter()
                        .all(|c| c.is_ascii_alphabetic() || *c == b' ') =>
            {
                (&after[..i], trim_start(&after[i + 2..]))
            }
            _ => (&b""[..], m),
        },
        None => (&b""[..], m),
    };
    let (text, file, line) = php_location(f, text);
    PhpMessage {
        level,
        text,
        file,
        line,
    }
}

/// Splits `text in /path/file.php on line N` or `text in /path/file.php:N`.
fn php_location<'a>(f: &Finders, text: &'a [u8]) -> (&'a [u8], Option<&'a [u8]>, Option<u32>) {
    let Some(i) = f.in_rev.rfind(text) else {
        return (text, None, None);
    };
    let loc = &text[i + 4..];
    if let Some(j) = f.on_line_rev.rfind(loc)
        && let Some((n, [])) = digits_u64(&loc[j + 9..])
    {
        return (&text[..i], Some(&loc[..j]), u32::try_from(n).ok());
    }
    if let Some(j) = memchr::memrchr(b':', loc)
        && j > 0
        && let Some((n, [])) = digits_u64(&loc[j + 1..])
    {
        return (&text[..i], Some(&loc[..j]), u32::try_from(n).ok());
    }
    (text, None, None)
}

fn trim_start(mut b: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = b {
        b = rest;
    }
    b
}

/// The start of the last ` while ` in `words`, whose `w` is at or after `lo`.
#[inline]
fn rfind_while(words: &[u8], lo: usize) -> Option<usize> {
    let mut end = words.len();
    while let Some(i) = memchr::memrchr(b'w', &words[lo..end]).map(|i| lo + i) {
        if i > 0 && words[i - 1] == b' ' && words[i..].starts_with(b"while ") {
            return Some(i - 1);
        }
        end = i;
    }
    None
}

/// The end of the client token at the start of `s` (the text after
/// `, client: `) when `s` has the context's structure: a token holding no
/// space or quote, followed by `, server: ` or the end.
#[inline]
fn client_end(s: &[u8]) -> Option<usize> {
    // The client token: up to the first `, `, holding no space or quote.
    let mut end = s.len();
    for (i, &c) in s.iter().enumerate() {
        match c {
            b' ' | b'"' => return None,
            b',' if s.get(i + 1) == Some(&b' ') => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let rest = &s[end..];
    (end > 0 && (rest.is_empty() || rest.starts_with(b", server: "))).then_some(end)
}

impl<'a> Context<'a> {
    /// Reads the context from `s`, the text after `, client: ` (whose
    /// structure [`client_end`] accepted).
    fn parse(s: &'a [u8]) -> Context<'a> {
        let mut r = Context::default();
        let Some(end) = client_end(s) else {
            return r;
        };
        r.client = Some(&s[..end]);
        let mut rest = &s[end..];
        while let Some(after) = rest.strip_prefix(b", ") {
            let Some(colon) = key_end(after) else {
                break;
            };
            let key = &after[..colon];
            let v = after.get(colon + 2..).unwrap_or_default();
            let (value, next) = match v.first() {
                Some(b'"') => quoted(&v[1..]),
                _ => {
                    let e = next_key(v, 0).unwrap_or(v.len());
                    (&v[..e], &v[e..])
                }
            };
            match key {
                b"server" => r.server = Some(value),
                b"request" => r.request = Some(value),
                b"upstream" => r.upstream = Some(value),
                b"host" => r.host = Some(value),
                b"referrer" => r.referrer = Some(value),
                _ => {}
            }
            rest = next;
        }
        r
    }
}

/// The length of a context key (`server`, `bytes from/to client`) when `s`
/// starts with one followed by `:` and a space or the end.
#[inline]
fn key_end(s: &[u8]) -> Option<usize> {
    let n = s[..s.len().min(24)]
        .iter()
        .position(|&c| !(c.is_ascii_lowercase() || c == b'_' || c == b'/' || c == b' '))?;
    (n > 0 && s[n] == b':' && matches!(s.get(n + 1), Some(b' ') | None)).then_some(n)
}

/// The offset of the first `, key: ` in `s` at or after `from`.
fn next_key(s: &[u8], from: usize) -> Option<usize> {
    for i in memchr::memchr_iter(b',', &s[from..]) {
        let p = from + i;
        if s.get(p + 1) == Some(&b' ') && key_end(&s[p + 2..]).is_some() {
            return Some(p);
        }
    }
    None
}

/// A quoted value (after its opening quote): it ends at a `"` followed by
/// the end or by `, key: `. Returns the value and what follows its quote.
fn quoted(s: &[u8]) -> (&[u8], &[u8]) {
    for i in memchr::memchr_iter(b'"', s) {
        let after = &s[i + 1..];
        if after.is_empty() || (after.starts_with(b", ") && key_end(&after[2..]).is_some()) {
            return (&s[..i], after);
        }
    }
    // Unterminated (the entry was cut): the value runs to the end.
    (s, &[][..])
}

/// Decimal digits at the start of `s` (at most 19) and the rest.
#[inline(always)]
fn digits_u64(s: &[u8]) -> Option<(u64, &[u8])> {
    if let Some(w) = s.first_chunk::<8>() {
        let w = u64::from_le_bytes(*w);
        // A byte is a digit when it is below 0x80, at least 0x30 and
        // below 0x3a; the sums stay within each byte.
        let low = w & 0x7f7f_7f7f_7f7f_7f7f;
        let digit = (low.wrapping_add(0x5050_5050_5050_5050)
            & !low.wrapping_add(0x4646_4646_4646_4646)
            & !w)
            & 0x8080_8080_8080_8080;
        let n = ((!digit & 0x8080_8080_8080_8080).trailing_zeros() / 8) as usize;
        if n == 0 {
            return None;
        }
        if n < 8 {
            // The n digits to the top bytes (zeros before them), then
            // pairs, quads and the whole word combined.
            let v = (w & 0x0f0f_0f0f_0f0f_0f0f) << (8 * (8 - n));
            let v = (v.wrapping_mul(10 << 8 | 1) >> 8) & 0x00ff_00ff_00ff_00ff;
            let v = (v.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_ffff_0000_ffff;
            let v = v.wrapping_mul(10000 << 32 | 1) >> 32;
            return Some((v, &s[n..]));
        }
    }
    digits_u64_loop(s)
}

/// [`digits_u64`] a byte at a time.
#[inline]
fn digits_u64_loop(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    let mut n = 0;
    while n < s.len().min(20) {
        let d = s[n].wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        // 19 digits fit in a u64; a 20th is rejected below.
        v = v.wrapping_mul(10).wrapping_add(d as u64);
        n += 1;
    }
    if n == 0 || n > 19 {
        return None;
    }
    Some((v, &s[n..]))
}

/// `Truncated` when `rest` is empty, else `other`.
fn cut_or(rest: &[u8], other: SkipReason) -> SkipReason {
    if rest.is_empty() {
        SkipReason::Truncated
    } else {
        other
    }
}

/// The shape of a timestamp: `0` where a digit goes.
const SHAPE: &[u8; 19] = b"0000/00/00 00:00:00";

/// For the 8 bytes of [`SHAPE`] at `at`: what to XOR them with (`0`
/// where a digit goes, the separator elsewhere) so a byte that fits
/// becomes 0..=9 under a digit and 0 under a separator, and what to add
/// so that a byte that does not fit (all bytes below 16) reaches 16.
const fn shape_word(at: usize) -> (u64, u64) {
    let (mut xor, mut add) = (0u64, 0u64);
    let mut i = 0;
    while i < 8 {
        let c = SHAPE[at + i];
        xor |= (c as u64) << (8 * i);
        add |= (if c == b'0' { 6u64 } else { 15 }) << (8 * i);
        i += 1;
    }
    (xor, add)
}

/// `YYYY/MM/DD HH:MM:SS` with digits where digits go (values unchecked).
#[inline]
fn timestamp_shape(b: &[u8]) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const W: [(usize, (u64, u64)); 3] =
        [(0, shape_word(0)), (8, shape_word(8)), (11, shape_word(11))];
    let Some(b) = b.first_chunk::<19>() else {
        return false;
    };
    // Three overlapping words cover the 19 bytes; each byte is checked in
    // its lanes without a branch (a byte of 16 or more fails by itself and
    // keeps the additions from carrying across bytes).
    let mut bad = 0u64;
    for (at, (xor, add)) in W {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        let v = u64::from_le_bytes(w) ^ xor;
        bad |= v | v.wrapping_add(add);
    }
    bad & HIGH == 0
}

/// ` [level] ` at the start of `rest` (the text after the timestamp) when
/// [`level_fast`] did not read it: the level and what follows, or why the
/// entry is skipped.
#[cold]
fn level_slow(rest: &[u8]) -> Result<(Level, &[u8]), SkipReason> {
    if rest.len() < 3 {
        return Err(SkipReason::Truncated);
    }
    if rest[0] != b' ' || rest[1] != b'[' {
        return Err(SkipReason::Unrecognized);
    }
    let close = match memchr::memchr(b']', &rest[2..rest.len().min(10)]) {
        Some(i) => i + 2,
        None if rest.len() < 10 => return Err(SkipReason::Truncated),
        None => return Err(SkipReason::BadField),
    };
    let level = Level::from_bytes(&rest[2..close]).ok_or(SkipReason::BadField)?;
    let rest = &rest[close + 1..];
    match rest.first() {
        Some(b' ') => Ok((level, &rest[1..])),
        Some(_) => Err(SkipReason::BadField),
        None => Err(SkipReason::Truncated),
    }
}

/// Why a record that does not start with a timestamp is skipped.
fn not_an_entry(rec: &[u8]) -> SkipReason {
    let n = rec.len().min(19);
    let prefix_of_ts = n >= 4
        && rec[..n].iter().zip(SHAPE).all(|(&c, &s)| {
            if s == b'0' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
    if prefix_of_ts && rec.len() < 19 {
        return SkipReason::Truncated;
    }
    let php_inside = matches!(rec.first(), Some(b' ' | b'\t'))
        || (rec.first() == Some(&b'#') && rec.get(1).is_some_and(|c| c.is_ascii_digit()))
        || rec.starts_with(b"Stack trace:")
        || rec.starts_with(b"PHP ")
        || rec.starts_with(b"thrown in ");
    if php_inside {
        SkipReason::OrphanContinuation
    } else {
        SkipReason::Unrecognized
    }
}

/// Whether a line begins an error-log entry: `YYYY/MM/DD HH:MM:SS [level] `
/// with digits in the date and time and one of the eight level names.
pub fn is_entry_start(line: &[u8]) -> bool {
    if line.len() < 27 || !timestamp_shape(line) || line[19] != b' ' || line[20] != b'[' {
        return false;
    }
    level_fast(&line[21..]).is_some()
}

/// `name` as the low bytes of a word, and the mask of those bytes.
const fn name_word(name: &[u8]) -> (u64, u64) {
    let mut w = 0u64;
    let mut i = 0;
    while i < name.len() {
        w |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    let mask = if name.len() >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * name.len())) - 1
    };
    (w, mask)
}

/// `level] ` at the start of `s` (the text after ` [`): the level and the
/// length of `level] `. Exactly the levels [`Level::from_bytes`] reads.
#[inline]
fn level_fast(s: &[u8]) -> Option<(Level, usize)> {
    const WORDS: [(Level, &[u8], (u64, u64)); 8] = {
        const fn e(level: Level, name: &'static [u8]) -> (Level, &'static [u8], (u64, u64)) {
            (level, name, name_word(name))
        }
        [
            e(Level::Debug, b"debug] "),
            e(Level::Info, b"info] "),
            e(Level::Notice, b"notice] "),
            e(Level::Warn, b"warn] "),
            e(Level::Error, b"error] "),
            e(Level::Crit, b"crit] "),
            e(Level::Alert, b"alert] "),
            e(Level::Emerg, b"emerg] "),
        ]
    };
    let Some(w) = s.first_chunk::<8>() else {
        return level_short(s);
    };
    let (level, name, (word, mask)) = match w[0] {
        b'i' => WORDS[1],
        b'n' => WORDS[2],
        b'w' => WORDS[3],
        b'c' => WORDS[5],
        b'a' => WORDS[6],
        b'd' => WORDS[0],
        b'e' if w[1] == b'r' => WORDS[4],
        b'e' => WORDS[7],
        _ => return None,
    };
    (u64::from_le_bytes(*w) & mask == word).then_some((level, name.len()))
}

/// [`level_fast`] for fewer than 8 bytes.
#[cold]
fn level_short(s: &[u8]) -> Option<(Level, usize)> {
    let (level, name): (Level, &[u8]) = match s.first()? {
        b'i' => (Level::Info, b"info] "),
        b'n' => (Level::Notice, b"notice] "),
        b'w' => (Level::Warn, b"warn] "),
        b'c' => (Level::Crit, b"crit] "),
        b'a' => (Level::Alert, b"alert] "),
        b'd' => (Level::Debug, b"debug] "),
        b'e' => match s.get(1)? {
            b'r' => (Level::Error, b"error] "),
            _ => (Level::Emerg, b"emerg] "),
        },
        _ => return None,
    };
    s.starts_with(name).then_some((level, name.len()))
}
