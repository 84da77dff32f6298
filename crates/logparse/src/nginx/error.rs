//! The nginx error log.
//!
//! STUB: the parser is being written; the record types below are the interface.

use crate::error::SkipReason;
use crate::frame::RecordParser;
use crate::time::{LocalResolver, Timestamp, Zone};

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
    /// `while sending to client` / `while reading upstream` after headers
    SendingToClient,
    /// Any other `while ...` phase.
    Other,
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

/// A PHP message carried in `FastCGI sent in stderr: "PHP message: ..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhpMessage<'a> {
    /// `Fatal error`, `Warning`, `Notice`, `Parse error`, ... (without `PHP `).
    pub level: &'a [u8],
    /// The message text (first PHP message of the entry).
    pub text: &'a [u8],
    /// The PHP file named by ` in /path/file.php on line N` / `:N`, if any.
    pub file: Option<&'a [u8]>,
    /// Its line number.
    pub line: Option<u32>,
}

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
    /// The message, before the `, client: ` context.
    pub message: &'a [u8],
    /// `errno` from `(111: Connection refused)`.
    pub errno: Option<u16>,
    /// The phase after `while`.
    pub phase: Option<Phase>,
    /// Upstream classification.
    pub upstream_class: UpstreamClass,
    /// `client:` context.
    pub client: Option<&'a [u8]>,
    /// `server:` context.
    pub server: Option<&'a [u8]>,
    /// `request:` context, without its quotes.
    pub request: Option<&'a [u8]>,
    /// `upstream:` context, without its quotes.
    pub upstream: Option<&'a [u8]>,
    /// `host:` context, without its quotes.
    pub host: Option<&'a [u8]>,
    /// `referrer:` context, without its quotes.
    pub referrer: Option<&'a [u8]>,
    /// The first PHP message of a FastCGI stderr entry.
    pub php: Option<PhpMessage<'a>>,
}

/// Parses nginx error-log entries, resolving their offset-less times in a zone.
#[derive(Debug, Clone)]
pub struct ErrorParser {
    resolver: LocalResolver,
}

impl ErrorParser {
    /// A parser resolving times in `zone`.
    pub fn new(zone: Zone) -> ErrorParser {
        ErrorParser {
            resolver: LocalResolver::new(zone),
        }
    }
}

impl RecordParser for ErrorParser {
    type Record<'a> = ErrorRecord<'a>;
    const MULTILINE: bool = true;

    fn parse<'a>(&mut self, _record: &'a [u8]) -> Result<ErrorRecord<'a>, SkipReason> {
        let _ = &mut self.resolver;
        Err(SkipReason::Unrecognized)
    }
}

/// Whether a line begins an error-log entry (`YYYY/MM/DD HH:MM:SS [level] `).
pub fn is_entry_start(line: &[u8]) -> bool {
    line.len() > 21
        && line[4] == b'/'
        && line[7] == b'/'
        && line[10] == b' '
        && line[13] == b':'
        && line[16] == b':'
        && line[19] == b' '
        && line[20] == b'['
}
