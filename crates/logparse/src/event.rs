//! Normalized events: the records worth keeping as evidence, owned, one
//! shape for every format (`baton.events.v1`, and what the correlator
//! reads).
//!
//! Only records of interest become events: gateway errors and other 5xx
//! and 499 requests (every request with [`Collect::all_requests`]),
//! upstream errors and warnings, FPM events, PHP fatal and parse errors
//! (every PHP message with [`Collect::all_php`]), slowlog traces, kernel
//! OOM kills and segfaults, edge requests. Memory grows with them, not
//! with the number of lines. Request volume is kept as [`Traffic`]: per-minute
//! counts with bounded top-k paths.

use std::collections::BTreeMap;

use crate::cloudflare::EdgeRecord;
use crate::fpm::slowlog::{CallKind, CodeKind, SlowlogRecord};
use crate::fpm::slowlog::{attribute, wp_root_of};
use crate::fpm::{ExitStatus, FpmEvent, Master, signal_name};
use crate::journal::{JournalEvent, JournalRecord, UnitAction};
use crate::kernel::KernelEvent;
use crate::mysql_slow::{SlowQuery, fingerprint_string};
use crate::nginx::access::AccessRecord;
use crate::nginx::error::{ErrorRecord, PhpMessage, UpstreamClass, UpstreamKind};
use crate::php::PhpLevel;
use crate::php_error::PhpErrorRecord;
use crate::time::Timestamp;

/// Raw log bytes (not necessarily UTF-8; escape them to show them).
pub use crate::text::Text;
use crate::text::mix_words;

/// How long an event's `text` (its first line) may be.
pub const TEXT_MAX: usize = 300;

/// What an event is (`kind` in `baton.events.v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// An access-log request.
    Request,
    /// An nginx upstream error.
    UpstreamError,
    /// An nginx upstream warning.
    UpstreamWarning,
    /// `server reached pm.max_children setting`.
    FpmMaxChildren,
    /// `seems busy`.
    FpmSeemsBusy,
    /// A child exited (on a signal, or with a non-zero code).
    FpmChildExit,
    /// `executing too slow`.
    FpmSlowRequest,
    /// `execution timed out`.
    FpmExecutionTimeout,
    /// The FPM master stopped or started (or systemd stopped/started it).
    FpmRestart,
    /// The FPM master reloaded.
    FpmReload,
    /// Other FPM messages at warning or above (startup failures).
    FpmOther,
    /// A slowlog trace.
    SlowlogTrace,
    /// A kernel OOM kill.
    KernelOomKill,
    /// A kernel `segfault at` line.
    KernelSegfault,
    /// A Cloudflare edge request (gateway errors only, unless every
    /// request is asked for).
    EdgeRequest,
    /// A PHP message: an nginx `FastCGI sent in stderr` entry (one event
    /// per entry, at the level of its most severe message), php-fpm
    /// worker output carrying one, or a PHP error-log entry.
    PhpMessage,
    /// A MySQL / MariaDB slow-log query (`seconds` = `Query_time`; logged
    /// when it finished, so it ran over `[time - seconds, time]`).
    MysqlSlowQuery,
}

impl EventKind {
    /// Every kind, in the contract's order.
    pub const ALL: [EventKind; 17] = [
        EventKind::Request,
        EventKind::UpstreamError,
        EventKind::UpstreamWarning,
        EventKind::FpmMaxChildren,
        EventKind::FpmSeemsBusy,
        EventKind::FpmChildExit,
        EventKind::FpmSlowRequest,
        EventKind::FpmExecutionTimeout,
        EventKind::FpmRestart,
        EventKind::FpmReload,
        EventKind::FpmOther,
        EventKind::SlowlogTrace,
        EventKind::KernelOomKill,
        EventKind::KernelSegfault,
        EventKind::EdgeRequest,
        EventKind::PhpMessage,
        EventKind::MysqlSlowQuery,
    ];

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Request => "request",
            EventKind::UpstreamError => "upstream_error",
            EventKind::UpstreamWarning => "upstream_warning",
            EventKind::FpmMaxChildren => "fpm_max_children",
            EventKind::FpmSeemsBusy => "fpm_seems_busy",
            EventKind::FpmChildExit => "fpm_child_exit",
            EventKind::FpmSlowRequest => "fpm_slow_request",
            EventKind::FpmExecutionTimeout => "fpm_execution_timeout",
            EventKind::FpmRestart => "fpm_restart",
            EventKind::FpmReload => "fpm_reload",
            EventKind::FpmOther => "fpm_other",
            EventKind::SlowlogTrace => "slowlog_trace",
            EventKind::KernelOomKill => "kernel_oom_kill",
            EventKind::KernelSegfault => "kernel_segfault",
            EventKind::EdgeRequest => "edge_request",
            EventKind::PhpMessage => "php_message",
            EventKind::MysqlSlowQuery => "mysql_slow_query",
        }
    }
}

/// The FPM master's step, for [`EventKind::FpmRestart`] and
/// [`EventKind::FpmReload`] events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MasterStep {
    /// Stopping (`Terminating`, `Finishing`, `exiting, bye-bye!`, systemd
    /// `Stopping`/`Stopped`/`Failed`).
    Stop,
    /// Starting (`fpm is running`, systemd `Starting`/`Started`).
    Start,
    /// `ready to handle connections`.
    Ready,
    /// Reloading (`Reloading in progress`, `execvp`, systemd `Reloading`).
    Reload,
}

impl MasterStep {
    /// The name used in `fields`.
    pub fn as_str(self) -> &'static str {
        match self {
            MasterStep::Stop => "stop",
            MasterStep::Start => "start",
            MasterStep::Ready => "ready",
            MasterStep::Reload => "reload",
        }
    }
}

/// One normalized event. Text fields keep the log's bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// When it was logged (for requests: when they completed).
    pub time: Option<Timestamp>,
    /// The input it came from (an index the caller assigns).
    pub file: u32,
    /// 1-based line of its first physical line.
    pub line: u64,
    /// What it is.
    pub kind: Option<EventKind>,
    /// HTTP status (requests; for edge requests the edge's).
    pub status: Option<u16>,
    /// Request method.
    pub method: Option<Text>,
    /// Request path without its query string.
    pub path: Option<Text>,
    /// The admin-ajax `action`.
    pub action: Option<Text>,
    /// The client address.
    pub client: Option<Text>,
    /// The virtual host.
    pub host: Option<Text>,
    /// The kind of an upstream error.
    pub upstream_kind: Option<UpstreamKind>,
    /// The upstream nginx tried (`unix:/run/php/php8.2-fpm.sock`, a group
    /// name, an address).
    pub upstream: Option<Text>,
    /// A process id: the FPM child or master, the kernel's victim.
    pub pid: Option<u32>,
    /// The FPM pool.
    pub pool: Option<Text>,
    /// Where the culprit lives (slowlog traces), or a PHP message's file
    /// (with `plugin`: only under `wp-content`).
    pub code: Option<CodeKind>,
    /// What the culprit was doing (slowlog traces).
    pub call: Option<CallKind>,
    /// A duration in seconds: `$request_time`, the elapsed time of a slow
    /// request, a child's uptime.
    pub seconds: Option<f64>,
    /// nginx's connection number (`$connection`, `*N`).
    pub connection: Option<u64>,
    /// The origin's status as the edge saw it (edge requests), or
    /// `$upstream_status` as written (requests).
    pub origin_status: Option<u16>,
    /// The FPM master's step (restart and reload events).
    pub step: Option<MasterStep>,
    /// A PHP fatal error, memory exhaustion or the execution time limit is
    /// in the record (see [`crate::php::is_fatal`]).
    pub fatal: bool,
    /// The level of a PHP message (of its most severe one, for an nginx
    /// entry carrying several).
    pub php_level: Option<PhpLevel>,
    /// The record's first line, cut at [`TEXT_MAX`] bytes; empty when it
    /// was not kept ([`Collect::defer_text`]): read it back at `offset`.
    pub text: Text,
    /// Where the record starts in its input (decoded bytes).
    pub offset: u64,
    /// [`text_hash`] of the record's first line when `text` was not kept,
    /// so that the line read back at `offset` can be checked (0 otherwise).
    pub text_hash: u32,
    /// What only some events carry (FPM, kernel, slowlog, PHP and query
    /// details, request and Ray IDs): boxed, so that the bulk of a bad
    /// day's events (requests and upstream errors) stays small. Read it
    /// through [`Event::detail`].
    pub detail: Option<Box<Detail>>,
}

/// The fields of an [`Event`] that only some kinds carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    /// The signal a child died on (`SIGSEGV`).
    pub signal: Option<Box<str>>,
    /// The culprit's plugin/theme slug or file (slowlog traces); the
    /// plugin, mu-plugin or theme of a PHP message's file.
    pub plugin: Option<Text>,
    /// The culprit's frame as printed (slowlog traces).
    pub frame: Option<Text>,
    /// Cloudflare Ray ID, without the colo suffix.
    pub ray_id: Option<Text>,
    /// `$request_id`.
    pub request_id: Option<Text>,
    /// A process name (kernel OOM victims and segfaulting processes).
    pub process: Option<Text>,
    /// The object a segfault happened in (`libphp.so`), the script of a
    /// slow request, or the cgroup whose limit an OOM kill enforced
    /// (`/system.slice/php8.2-fpm.service`), or the PHP file a PHP message
    /// names.
    pub object: Option<Text>,
    /// A number the message carries: `pm.max_children`, an exit code, the
    /// line of a PHP message's file, an OOM victim's resident kilobytes.
    pub number: Option<i64>,
    /// A slow query's details ([`EventKind::MysqlSlowQuery`]).
    pub query: Option<QueryFields>,
}

/// The detail of an event that has none.
static NO_DETAIL: Detail = Detail {
    signal: None,
    plugin: None,
    frame: None,
    ray_id: None,
    request_id: None,
    process: None,
    object: None,
    number: None,
    query: None,
};

impl Detail {
    /// Boxed, or `None` when it holds nothing.
    pub fn boxed(self) -> Option<Box<Detail>> {
        (self != NO_DETAIL).then(|| Box::new(self))
    }
}

/// What a slow-log query carries besides its time and duration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryFields {
    /// `Lock_time`, seconds.
    pub lock_seconds: f64,
    /// `Rows_examined`.
    pub rows_examined: u64,
    /// `Rows_sent`.
    pub rows_sent: u64,
    /// The database, when the record names it.
    pub db: Option<Text>,
    /// The statement's fingerprint ([`crate::mysql_slow::fingerprint`]).
    pub fingerprint: Box<str>,
    /// Its 64-bit hash ([`crate::mysql_slow::digest`]).
    pub digest: u64,
    /// The first table the statement names.
    pub table: Option<Text>,
}

impl Event {
    /// What only some kinds carry (all `None` when the event has none).
    #[inline]
    pub fn detail(&self) -> &Detail {
        self.detail.as_deref().unwrap_or(&NO_DETAIL)
    }

    /// The detail, to set a field of it.
    pub fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Default::default)
    }

    /// The contract's kind name.
    pub fn kind_str(&self) -> &'static str {
        self.kind.map_or("unknown", EventKind::as_str)
    }

    /// The request's (or slow query's) start: its logged time minus
    /// `$request_time` (`Query_time`) when known.
    pub fn start(&self) -> Option<Timestamp> {
        let t = self.time?;
        Some(
            match self.seconds.filter(|_| {
                matches!(
                    self.kind,
                    Some(EventKind::Request | EventKind::MysqlSlowQuery)
                )
            }) {
                Some(s) if s > 0.0 => Timestamp {
                    unix_us: t.unix_us.saturating_sub((s * 1e6) as i64),
                    offset_s: t.offset_s,
                },
                _ => t,
            },
        )
    }

    /// Whether this is an origin gateway error (a 502 or 504 request).
    pub fn is_gateway_error(&self) -> bool {
        self.kind == Some(EventKind::Request) && matches!(self.status, Some(502 | 504))
    }
}

fn text(b: &[u8]) -> Text {
    b.into()
}

fn first_line(raw: &[u8]) -> Text {
    first_line_of(raw).into()
}

/// A request line's parts: method, path (query stripped) and query.
pub type RequestParts<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a [u8]>);

/// A request line's method, path (query stripped) and query:
/// `GET /a/b?x=1 HTTP/1.1`.
pub fn split_request_line(line: &[u8]) -> RequestParts<'_> {
    let mut parts = line.splitn(3, |b| *b == b' ');
    let method = parts.next().filter(|m| !m.is_empty());
    let uri = parts.next();
    let (path, query) = match uri {
        Some(u) => match memchr::memchr(b'?', u) {
            Some(q) => (Some(&u[..q]), Some(&u[q + 1..])),
            None => (Some(u), None),
        },
        None => (None, None),
    };
    (method, path, query)
}

/// The `action` parameter of a query string.
pub fn query_param<'a>(query: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    query.split(|b| *b == b'&').find_map(|kv| {
        let rest = kv.strip_prefix(name)?;
        rest.strip_prefix(b"=")
    })
}

/// The admin-ajax action of a request, when the path is admin-ajax.php.
pub fn ajax_action<'a>(path: &[u8], query: Option<&'a [u8]>) -> Option<&'a [u8]> {
    // Most paths end in `/`: one byte decides before the comparison.
    if path.last() == Some(&b'p') && path.ends_with(b"admin-ajax.php") {
        query.and_then(|q| query_param(q, b"action"))
    } else {
        None
    }
}

/// Static assets, which php-fpm never serves.
pub fn is_static(path: &[u8]) -> bool {
    // Most dynamic paths end in `/` or `.php`: the last byte decides first.
    match path.last() {
        None | Some(b'/') => return false,
        Some(b'p' | b'P')
            if path.len() >= 4 && path[path.len() - 4..].eq_ignore_ascii_case(b".php") =>
        {
            return false;
        }
        _ => {}
    }
    // Extensions are at most 5 bytes: look for the dot only there (a
    // loop over six bytes, not a call).
    let n = path.len();
    let mut dot = n;
    while dot > n.saturating_sub(6) {
        dot -= 1;
        if path[dot] == b'.' {
            break;
        }
    }
    if path[dot] != b'.' {
        return false;
    }
    // The extension, lowercased into one word (at most 5 bytes).
    let mut ext = 0u64;
    for &b in &path[dot + 1..] {
        ext = ext << 8 | u64::from(b.to_ascii_lowercase());
    }
    const fn word(e: &[u8]) -> u64 {
        let mut w = 0u64;
        let mut i = 0;
        while i < e.len() {
            w = w << 8 | e[i] as u64;
            i += 1;
        }
        w
    }
    const EXT: [u64; 16] = [
        word(b"css"),
        word(b"js"),
        word(b"png"),
        word(b"jpg"),
        word(b"jpeg"),
        word(b"gif"),
        word(b"svg"),
        word(b"webp"),
        word(b"ico"),
        word(b"woff"),
        word(b"woff2"),
        word(b"ttf"),
        word(b"map"),
        word(b"avif"),
        word(b"mp4"),
        word(b"txt"),
    ];
    EXT.contains(&ext)
}

/// The fields of a request that [`from_access`] reads, the others left
/// out: a copy small enough to make only where a request is kept, so that
/// the scan never needs a whole record's address (taking it costs a
/// copy of the record for every line).
#[inline(always)]
pub fn access_fields<'a>(r: &AccessRecord<'a>) -> AccessRecord<'a> {
    AccessRecord {
        time: r.time,
        remote_addr: r.remote_addr,
        request: r.request,
        method: r.method,
        path: r.path,
        query: r.query,
        status: r.status,
        cf_ray: r.cf_ray,
        host: r.host,
        server_name: r.server_name,
        request_time_ms: r.request_time_ms,
        upstream_addr: r.upstream_addr,
        upstream_status: r.upstream_status,
        request_id: r.request_id,
        connection: r.connection,
        ..AccessRecord::default()
    }
}

/// An access-log record as an event.
pub fn from_access(r: &AccessRecord<'_>, line: u64, raw: &[u8]) -> Event {
    from_access_in(r, line, raw, true, &mut text)
}

/// An access-log record as an event, its repeated values (method, path,
/// action, client, host, upstream) made by `make` (an
/// [`crate::text::Interner`]'s shared copies), and its text kept only when
/// `keep_text` says so.
pub(crate) fn from_access_in(
    r: &AccessRecord<'_>,
    line: u64,
    raw: &[u8],
    keep_text: bool,
    make: &mut dyn FnMut(&[u8]) -> Text,
) -> Event {
    let (method, path, query) = match (r.method, r.path, r.request) {
        (m, Some(p), _) => (m, Some(p), r.query),
        (m, None, Some(req)) => {
            let (rm, rp, rq) = split_request_line(req);
            (m.or(rm), rp, rq)
        }
        (m, None, None) => (m, None, None),
    };
    Event {
        time: r.time,
        line,
        kind: Some(EventKind::Request),
        status: r.status,
        method: method.map(&mut *make),
        path: path.map(&mut *make),
        action: path.and_then(|p| ajax_action(p, query)).map(&mut *make),
        client: r.remote_addr.map(&mut *make),
        host: r.host.or(r.server_name).map(&mut *make),
        upstream: r.upstream_addr.map(|u| make(u.raw())),
        seconds: r.request_time_ms.map(|ms| ms as f64 / 1000.0),
        detail: Detail {
            ray_id: r
                .cf_ray
                .map(|c| text(crate::cloudflare::ray_id_of_cf_ray(c))),
            request_id: r.request_id.map(text),
            ..Detail::default()
        }
        .boxed(),
        connection: r.connection,
        origin_status: r
            .upstream_status
            .and_then(|u| u.iter().last())
            .and_then(|s| std::str::from_utf8(s).ok()?.trim().parse().ok()),
        text: if keep_text {
            first_line(raw)
        } else {
            Text::default()
        },
        ..Event::default()
    }
}

/// An error-log entry as an event: an upstream error or warning, or a
/// FastCGI stderr entry ([`EventKind::PhpMessage`]); `None` otherwise.
pub fn from_error(r: &ErrorRecord<'_>, line: u64, raw: &[u8]) -> Option<Event> {
    let (kind, upstream_kind) = match r.upstream_class {
        _ if r.fastcgi_stderr => (EventKind::PhpMessage, None),
        UpstreamClass::Error(k) => (EventKind::UpstreamError, Some(k)),
        UpstreamClass::Warning => (EventKind::UpstreamWarning, None),
        UpstreamClass::None => return None,
    };
    let ctx = r.context();
    let (method, path, query) = ctx.request.map(split_request_line).unwrap_or_default();
    let mut e = Event {
        time: Some(r.time),
        line,
        kind: Some(kind),
        method: method.map(text),
        path: path.map(text),
        action: path.and_then(|p| ajax_action(p, query)).map(text),
        client: ctx.client.map(text),
        host: ctx.host.or(ctx.server).map(text),
        upstream_kind,
        upstream: ctx.upstream.map(text),
        connection: r.connection,
        text: first_line(raw),
        ..Event::default()
    };
    if r.fastcgi_stderr {
        e.php_level = r.php_level();
        set_php(&mut e, r.php.as_ref());
    }
    Some(e)
}

/// A PHP message's facts on its event: whether it is fatal, its file and
/// line, and the plugin or theme the file belongs to.
fn set_php(e: &mut Event, php: Option<&PhpMessage<'_>>) {
    e.fatal = e.php_level == Some(PhpLevel::Fatal);
    let Some(file) = php.and_then(|p| p.file) else {
        return;
    };
    e.detail_mut().object = Some(text(file));
    e.detail_mut().number = php.and_then(|p| p.line).map(i64::from);
    let (code, name) = attribute(file, wp_root_of(file));
    if matches!(
        code,
        CodeKind::Plugin | CodeKind::MuPlugin | CodeKind::Theme
    ) {
        e.code = Some(code);
        e.detail_mut().plugin = Some(text(name));
    }
}

/// A PHP error-log entry as an event ([`EventKind::PhpMessage`]): its
/// level, whether it is fatal, its file (`object`) and line (`number`), the
/// plugin, mu-plugin or theme it is blamed on (`plugin`, `code`); a
/// WordPress database error has `call` = database.
pub fn from_php_error(r: &PhpErrorRecord<'_>, line: u64, raw: &[u8]) -> Event {
    Event {
        time: Some(r.time),
        line,
        kind: Some(EventKind::PhpMessage),
        php_level: Some(r.level),
        fatal: r.is_fatal(),
        detail: Detail {
            object: r.file.map(text),
            number: r.line.map(i64::from),
            plugin: r.culprit.map(|c| text(c.1)),
            ..Detail::default()
        }
        .boxed(),
        code: r.culprit.map(|c| c.0),
        call: r.wp_db.map(|_| CallKind::Database),
        text: first_line(raw),
        ..Event::default()
    }
}

/// A slow-log query as an event ([`EventKind::MysqlSlowQuery`]): logged
/// when it finished (its start plus `Query_time`, which is `seconds`), its
/// statement's first line as the text, the rest in [`Detail::query`]. A
/// query with no time at all (no `SET timestamp`, no `# Time:` before it)
/// has none.
pub fn from_mysql_slow(q: &SlowQuery<'_>, line: u64) -> Event {
    let secs = if q.query_time.is_finite() && q.query_time >= 0.0 {
        q.query_time.min(1e9)
    } else {
        0.0
    };
    let time = q.time.map(|t| Timestamp {
        unix_us: t.unix_us.saturating_add((secs * 1e6) as i64),
        offset_s: t.offset_s,
    });
    Event {
        time,
        line,
        kind: Some(EventKind::MysqlSlowQuery),
        seconds: Some(q.query_time),
        call: Some(CallKind::Database),
        detail: Detail {
            query: Some(QueryFields {
                lock_seconds: q.lock_time,
                rows_examined: q.rows_examined,
                rows_sent: q.rows_sent,
                db: q.db.map(text),
                fingerprint: fingerprint_string(q.statement).into_boxed_str(),
                digest: q.digest,
                table: q.table().map(text),
            }),
            ..Detail::default()
        }
        .boxed(),
        text: first_line(q.statement.trim_ascii_start()),
        ..Event::default()
    }
}

/// An FPM message as an event (from the php-fpm log or a journal);
/// routine messages (child started, exits with code 0, notices) give
/// `None`.
pub fn from_fpm(
    ev: &FpmEvent<'_>,
    time: Option<Timestamp>,
    line: u64,
    raw: &[u8],
) -> Option<Event> {
    let mut e = Event {
        time,
        line,
        text: first_line(raw),
        ..Event::default()
    };
    match ev {
        FpmEvent::MaxChildrenReached { pool, limit } => {
            e.kind = Some(EventKind::FpmMaxChildren);
            e.pool = pool.map(text);
            e.detail_mut().number = Some(*limit as i64);
        }
        FpmEvent::SeemsBusy { pool, total, .. } => {
            e.kind = Some(EventKind::FpmSeemsBusy);
            e.pool = pool.map(text);
            e.detail_mut().number = Some(*total as i64);
        }
        FpmEvent::ChildExited(c) => {
            match c.status {
                ExitStatus::Code(0) => return None,
                ExitStatus::Code(code) => e.detail_mut().number = Some(code as i64),
                ExitStatus::Signal { number, name, .. } => {
                    let valid =
                        name.starts_with(b"SIG") && name.iter().all(u8::is_ascii_alphanumeric);
                    e.detail_mut().signal = Some(match (valid, signal_name(number)) {
                        (true, _) => String::from_utf8_lossy(name).into(),
                        (false, Some(n)) => n.into(),
                        (false, None) => format!("SIG{number}").into(),
                    });
                    e.detail_mut().number = Some(number as i64);
                }
            }
            e.kind = Some(EventKind::FpmChildExit);
            e.pool = c.pool.map(text);
            e.pid = Some(c.pid);
            e.seconds = c.uptime_us.map(|u| u as f64 / 1e6);
        }
        FpmEvent::SlowRequest(s) | FpmEvent::ExecutionTimeout(s) => {
            e.kind = Some(if matches!(ev, FpmEvent::SlowRequest(_)) {
                EventKind::FpmSlowRequest
            } else {
                EventKind::FpmExecutionTimeout
            });
            e.pool = s.pool.map(text);
            e.pid = Some(s.pid);
            e.detail_mut().object = Some(text(s.script));
            e.method = Some(text(s.method));
            let (path, query) = match memchr::memchr(b'?', s.uri) {
                Some(q) => (&s.uri[..q], Some(&s.uri[q + 1..])),
                None => (s.uri, None),
            };
            e.path = Some(text(path));
            e.action = ajax_action(path, query).map(text);
            e.seconds = Some(s.elapsed_us as f64 / 1e6);
        }
        FpmEvent::Master(m) => {
            let (kind, step) = match m {
                Master::Running { pid } => {
                    e.pid = Some(*pid);
                    (EventKind::FpmRestart, MasterStep::Start)
                }
                Master::Ready => (EventKind::FpmRestart, MasterStep::Ready),
                Master::Terminating | Master::Finishing | Master::Exiting => {
                    (EventKind::FpmRestart, MasterStep::Stop)
                }
                Master::ReloadingInProgress | Master::Reloading { .. } => {
                    (EventKind::FpmReload, MasterStep::Reload)
                }
            };
            e.kind = Some(kind);
            e.step = Some(step);
        }
        FpmEvent::StartupFailure(_) => e.kind = Some(EventKind::FpmOther),
        FpmEvent::WorkerOutput(w) => {
            // Output that is no PHP message (a worker's own diagnostics)
            // is routine.
            let php = w.php.as_ref()?;
            e.kind = Some(EventKind::PhpMessage);
            e.pool = w.pool.map(text);
            e.pid = w.pid;
            e.php_level = Some(php.php_level());
            set_php(&mut e, Some(php));
        }
        FpmEvent::ChildStarted { .. } | FpmEvent::Other { .. } => return None,
    }
    Some(e)
}

/// A slowlog trace as an event.
pub fn from_slowlog(r: &SlowlogRecord<'_>, line: u64, raw: &[u8]) -> Event {
    let c = r.culprit.as_ref();
    Event {
        time: Some(r.time),
        line,
        kind: Some(EventKind::SlowlogTrace),
        pid: Some(r.pid),
        pool: Some(text(r.pool)),
        detail: Detail {
            plugin: c.map(|c| text(c.name)),
            frame: c.map(|c| text(c.frame)),
            object: r.script_filename.map(text),
            ..Detail::default()
        }
        .boxed(),
        code: c.map(|c| c.kind),
        call: c.map(|c| c.call),
        text: first_line(raw),
        ..Event::default()
    }
}

/// A kernel message as an event: OOM kills and segfaults only.
pub fn from_kernel(
    ev: &KernelEvent<'_>,
    time: Option<Timestamp>,
    line: u64,
    raw: &[u8],
) -> Option<Event> {
    let mut e = Event {
        time,
        line,
        text: first_line(raw),
        ..Event::default()
    };
    match ev {
        KernelEvent::OomKill(k) => {
            e.kind = Some(EventKind::KernelOomKill);
            e.pid = Some(k.pid);
            e.detail_mut().process = Some(text(k.process));
            e.detail_mut().number = k.anon_rss_kb.map(|kb| kb as i64);
            // A cgroup limit (`oom_memcg=`), when the kill was one.
            let memcg = k.cgroup || k.constraint == Some(b"CONSTRAINT_MEMCG".as_slice());
            e.detail_mut().object =
                memcg.then(|| text(k.oom_memcg.or(k.task_memcg).unwrap_or(b"memory cgroup")));
        }
        KernelEvent::Segfault(s) => {
            e.kind = Some(EventKind::KernelSegfault);
            e.pid = Some(s.pid);
            e.detail_mut().process = Some(text(s.process));
            e.detail_mut().object = s.object.map(text);
        }
        _ => return None,
    }
    Some(e)
}

/// A Cloudflare line as an event.
pub fn from_edge(r: &EdgeRecord<'_>, line: u64, raw: &[u8]) -> Event {
    let path = r.request_path();
    let query = r
        .uri
        .and_then(|u| memchr::memchr(b'?', u).map(|q| &u[q + 1..]));
    Event {
        time: r.time,
        line,
        kind: Some(EventKind::EdgeRequest),
        status: r.edge_status,
        origin_status: r.origin_status.filter(|s| *s != 0),
        method: r.method.map(text),
        path: path.map(text),
        action: path.and_then(|p| ajax_action(p, query)).map(text),
        client: r.client_ip.map(text),
        host: r.host.map(text),
        detail: Detail {
            ray_id: r.ray_id.map(text),
            ..Detail::default()
        }
        .boxed(),
        seconds: r.origin_us.map(|us| us as f64 / 1e6),
        text: first_line(raw),
        ..Event::default()
    }
}

/// A journal record as an event: its FPM or kernel message, or systemd
/// stopping/starting php-fpm.
pub fn from_journal(
    r: &JournalRecord<'_>,
    line: u64,
    raw: &[u8],
    scratch: &mut Vec<u8>,
) -> Option<Event> {
    let mut e = match r.event(scratch) {
        JournalEvent::Fpm(fl) => {
            let level = crate::fpm::FpmLevel::from_bytes(fl.level)?;
            let ev = crate::fpm::classify(level, fl.message);
            from_fpm(&ev, r.time, line, raw)?
        }
        JournalEvent::Kernel(ev) => from_kernel(&ev, r.time, line, raw)?,
        JournalEvent::FpmUnit(a) => {
            let (kind, step) = match a {
                UnitAction::Stopping | UnitAction::Stopped | UnitAction::Failed => {
                    (EventKind::FpmRestart, MasterStep::Stop)
                }
                UnitAction::Starting | UnitAction::Started => {
                    (EventKind::FpmRestart, MasterStep::Start)
                }
                UnitAction::Reloading | UnitAction::Reloaded => {
                    (EventKind::FpmReload, MasterStep::Reload)
                }
            };
            Event {
                time: r.time,
                line,
                kind: Some(kind),
                step: Some(step),
                text: first_line(raw),
                ..Event::default()
            }
        }
        JournalEvent::NginxError(m) => {
            let entry = crate::journal::nginx_entry(r, m).ok()?;
            from_error(&entry, line, raw)?
        }
        JournalEvent::Other => return None,
    };
    if e.host.is_none() && !r.host.is_empty() {
        e.host = Some(text(r.host));
    }
    if e.pid.is_none() && e.kind != Some(EventKind::FpmRestart) {
        e.pid = r.pid;
    }
    Some(e)
}

/// What to collect besides the counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collect {
    /// Collect events at all.
    pub events: bool,
    /// Every request becomes an event (else only 499 and 5xx).
    pub all_requests: bool,
    /// Every edge request becomes an event (else only gateway errors and
    /// origin failures).
    pub all_edge: bool,
    /// Every PHP message becomes an event (else only fatal and parse
    /// errors: the ones that end a request, which the correlator reads;
    /// a site's notices and deprecations can outnumber its requests).
    pub all_php: bool,
    /// Requests' and upstream errors' text (the bulk of a bad day's
    /// events) is not kept when the input is a plain file, which can be
    /// read again at the record's offset: only the lines a report cites
    /// are ([`Event::text_hash`]). Other events keep theirs.
    pub defer_text: bool,
}

impl Collect {
    /// Whether `e` is kept: PHP messages below `parse` only with
    /// [`Collect::all_php`]; every other event.
    #[inline]
    pub fn keeps(&self, e: &Event) -> bool {
        self.all_php
            || e.kind != Some(EventKind::PhpMessage)
            || e.fatal
            || e.php_level.is_some_and(|l| l <= PhpLevel::Parse)
    }
}

/// A 32-bit hash of a record's first line as an event's `text` holds it:
/// what a line read back is checked against. Eight bytes a step (a bad
/// day hashes every failed request's line; a byte at a time cost more
/// than counting the traffic).
pub fn text_hash(text: &[u8]) -> u32 {
    let h = mix_words(text.len() as u64, text, 0x9e37_79b9_7f4a_7c15);
    // 0 is "not deferred".
    ((h ^ h >> 29) as u32).max(1)
}

/// An event's `text` as it is kept: a record's first line, cut at
/// [`TEXT_MAX`] bytes (what a line read back at its offset is cut to).
pub fn first_line_of(raw: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', raw).unwrap_or(raw.len());
    let line = &raw[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    &line[..line.len().min(TEXT_MAX)]
}

/// How many paths each minute of [`Traffic`] keeps.
pub const TOP_K: usize = 16;

/// Requests per minute with the busiest paths of each minute: what rate
/// comparisons need, bounded by the time covered, not by the number of
/// requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Per minute (unix seconds / 60), complete once [`Traffic::finish`]
    /// has run (the readers call it).
    pub minutes: BTreeMap<i64, Minute>,
    /// The minute being counted: requests come in time order, so one
    /// minute at a time is counted exactly, in a hash table larger than
    /// what a minute keeps, and cut to its [`TOP_K`] busiest paths when
    /// the next minute starts.
    open: Option<Box<OpenMinute>>,
}

/// How many distinct paths the open minute counts exactly; more spill to
/// the space-saving count of [`Minute`].
const OPEN_MAX: usize = 256;

/// The minute being counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenMinute {
    minute: i64,
    /// The minute's first microsecond.
    start_us: i64,
    /// Counts and the paths past [`OPEN_MAX`] (space-saving).
    rest: Minute,
    /// Open addressing over `entries`: index + 1, 0 for empty.
    slots: Vec<u32>,
    entries: Vec<OpenEntry>,
    /// The entries' path and action bytes.
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenEntry {
    hash: u64,
    start: u32,
    path_len: u32,
    action_len: u32,
    count: u64,
}

impl OpenMinute {
    fn new(minute: i64) -> OpenMinute {
        OpenMinute {
            minute,
            start_us: minute.saturating_mul(MINUTE_US),
            rest: Minute::default(),
            slots: vec![0; OPEN_MAX * 2],
            entries: Vec::with_capacity(OPEN_MAX),
            bytes: Vec::new(),
        }
    }

    #[inline]
    fn add_path(&mut self, path: &[u8], action: &[u8]) {
        let hash = key_hash(path, action);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                0 => break,
                k => {
                    let e = &mut self.entries[k as usize - 1];
                    if e.hash == hash
                        && e.path_len as usize == path.len()
                        && e.action_len as usize == action.len()
                    {
                        e.count += 1;
                        return;
                    }
                }
            }
            i = (i + 1) & mask;
        }
        if self.entries.len() == OPEN_MAX {
            self.rest.add_path(path, action, 1);
            return;
        }
        self.entries.push(OpenEntry {
            hash,
            start: self.bytes.len() as u32,
            path_len: path.len() as u32,
            action_len: action.len() as u32,
            count: 1,
        });
        self.bytes.extend_from_slice(path);
        self.bytes.extend_from_slice(action);
        self.slots[i] = self.entries.len() as u32;
    }

    /// The minute as kept: the busiest [`TOP_K`] of its exact counts with
    /// the paths past [`OPEN_MAX`] merged in.
    fn to_minute(&self) -> Minute {
        let mut order: Vec<&OpenEntry> = self.entries.iter().collect();
        // Stable: ties keep their first-seen order.
        order.sort_by_key(|e| std::cmp::Reverse(e.count));
        let mut m = Minute {
            requests: self.rest.requests,
            static_requests: self.rest.static_requests,
            server_errors: self.rest.server_errors,
            top: order
                .into_iter()
                .take(TOP_K)
                .map(|e| {
                    let p = e.start as usize;
                    let a = p + e.path_len as usize;
                    let mut c = PathCount::new(
                        &self.bytes[p..a],
                        &self.bytes[a..a + e.action_len as usize],
                        e.count,
                    );
                    c.hash = e.hash;
                    c
                })
                .collect(),
        };
        let rest = Minute {
            top: self.rest.top.clone(),
            ..Minute::default()
        };
        m.merge(&rest);
        m
    }
}

/// One minute of requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    /// Requests.
    pub requests: u64,
    /// Requests for static assets.
    pub static_requests: u64,
    /// Requests answered 5xx.
    pub server_errors: u64,
    /// The busiest dynamic paths (admin-ajax keyed by action), counted with
    /// the space-saving algorithm: exact while a minute has at most
    /// [`TOP_K`] distinct paths, an overestimate by at most `error` else.
    pub top: Vec<PathCount>,
}

/// A path (with its admin-ajax action) and its count in a minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathCount {
    /// The path.
    pub path: Vec<u8>,
    /// The admin-ajax action, or empty.
    pub action: Vec<u8>,
    /// Requests counted.
    pub count: u64,
    /// The most `count` may overstate.
    pub error: u64,
    /// A hash of path and action: compared before the bytes.
    hash: u64,
}

impl PathCount {
    /// A count for a path and action.
    pub fn new(path: &[u8], action: &[u8], count: u64) -> PathCount {
        PathCount {
            path: path.to_vec(),
            action: action.to_vec(),
            count,
            error: 0,
            hash: key_hash(path, action),
        }
    }

    /// Keys are told apart by their 64-bit hash and lengths, not their
    /// bytes: two paths of one minute colliding is a 2^-64 chance, and
    /// comparing bytes for every request cost more than the rest of the
    /// counting together.
    fn is(&self, hash: u64, path: &[u8], action: &[u8]) -> bool {
        self.hash == hash && self.path.len() == path.len() && self.action.len() == action.len()
    }
}

/// A fast, non-cryptographic hash of a path and an action, a word at a
/// time (the counts need no protection from chosen collisions: a collision
/// costs one byte comparison).
pub(crate) fn key_hash(path: &[u8], action: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let h = (path.len() as u64) << 32 | action.len() as u64;
    mix_words(mix_words(h, path, K), action, K)
}

impl Minute {
    fn add_path(&mut self, path: &[u8], action: &[u8], n: u64) {
        let hash = key_hash(path, action);
        if let Some(p) = self.top.iter_mut().find(|p| p.is(hash, path, action)) {
            p.count += n;
            return;
        }
        if self.top.len() < TOP_K {
            self.top.push(PathCount::new(path, action, n));
            return;
        }
        // Space-saving: the smallest entry gives way, its count carried.
        let (i, min) = self
            .top
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.count)
            .map(|(i, p)| (i, p.count))
            .unwrap_or((0, 0));
        let p = &mut self.top[i];
        p.path.clear();
        p.path.extend_from_slice(path);
        p.action.clear();
        p.action.extend_from_slice(action);
        p.count = min + n;
        p.error = min;
        p.hash = hash;
    }

    fn merge(&mut self, other: &Minute) {
        self.requests += other.requests;
        self.static_requests += other.static_requests;
        self.server_errors += other.server_errors;
        for p in &other.top {
            if let Some(q) = self
                .top
                .iter_mut()
                .find(|q| q.is(p.hash, &p.path, &p.action))
            {
                q.count += p.count;
                q.error += p.error;
            } else {
                self.top.push(p.clone());
            }
        }
        if self.top.len() > TOP_K {
            // Stable: ties keep their first-seen order.
            self.top.sort_by_key(|p| std::cmp::Reverse(p.count));
            self.top.truncate(TOP_K);
        }
    }
}

/// A minute in microseconds.
const MINUTE_US: i64 = 60_000_000;

/// What [`Traffic`] reads of a request, besides its time.
struct Parts<'a> {
    status: Option<u16>,
    path: Option<&'a [u8]>,
    query: Option<&'a [u8]>,
    request: Option<&'a [u8]>,
}

impl Traffic {
    /// Counts one request.
    #[inline]
    pub fn add(&mut self, r: &AccessRecord<'_>) {
        self.add_parts(r.time, r.status, r.path, r.query, r.request);
    }

    /// Counts one request from its parts: what [`Traffic::add`] reads of
    /// a record, given apart so that the scan never needs the record's
    /// address (and never copies it). A request of the open minute (almost
    /// every one: logs are in time order) is counted in line; the others
    /// are counted out of line.
    #[inline(always)]
    pub fn add_parts(
        &mut self,
        time: Option<Timestamp>,
        status: Option<u16>,
        path: Option<&[u8]>,
        query: Option<&[u8]>,
        request: Option<&[u8]>,
    ) {
        let Some(t) = time else { return };
        let r = Parts {
            status,
            path,
            query,
            request,
        };
        if let Some(o) = &mut self.open
            && (t.unix_us.wrapping_sub(o.start_us) as u64) < MINUTE_US as u64
        {
            Self::count_open(o, &r);
            return;
        }
        self.add_elsewhere(t, &r);
    }

    /// Counts a request outside the open minute: a late one into its own
    /// minute, a later one into a new open minute.
    #[inline(never)]
    fn add_elsewhere(&mut self, t: Timestamp, r: &Parts<'_>) {
        let minute = t.unix_us.div_euclid(MINUTE_US);
        let open = match &mut self.open {
            Some(o) if o.minute == minute => o,
            Some(o) if o.minute > minute => {
                // A late request (logged out of order): counted straight
                // into its minute.
                let m = self.minutes.entry(minute).or_default();
                if let Some((path, action)) = Self::count(m, r) {
                    m.add_path(path, action, 1);
                }
                return;
            }
            _ => {
                self.finish();
                self.open.insert(Box::new(OpenMinute::new(minute)))
            }
        };
        Self::count_open(open, r);
    }

    /// Counts a request into the open minute.
    #[inline(always)]
    fn count_open(o: &mut OpenMinute, r: &Parts<'_>) {
        if let Some((path, action)) = Self::count(&mut o.rest, r) {
            o.add_path(path, action);
        }
    }

    /// Counts a request into `m`'s requests, 5xx and static assets, and
    /// gives the path and admin-ajax action of a dynamic one, for its
    /// path count.
    #[inline(always)]
    fn count<'a>(m: &mut Minute, r: &Parts<'a>) -> Option<(&'a [u8], &'a [u8])> {
        m.requests += 1;
        if r.status.is_some_and(|s| s >= 500) {
            m.server_errors += 1;
        }
        let (path, query) = Self::path_of(r);
        if is_static(path) {
            m.static_requests += 1;
            return None;
        }
        Some((path, ajax_action(path, query).unwrap_or(b"")))
    }

    /// A request's path and query string.
    #[inline]
    fn path_of<'a>(r: &Parts<'a>) -> (&'a [u8], Option<&'a [u8]>) {
        match (r.path, r.request) {
            (Some(p), _) => (p, r.query),
            (None, Some(req)) => {
                let (_, p, q) = split_request_line(req);
                (p.unwrap_or(b""), q)
            }
            (None, None) => (&b""[..], None),
        }
    }

    /// Closes the open minute into [`Traffic::minutes`]: call it before
    /// reading them (the readers do).
    pub fn finish(&mut self) {
        if let Some(o) = self.open.take() {
            let m = o.to_minute();
            self.minutes.entry(o.minute).or_default().merge(&m);
        }
    }

    /// Adds another part's minutes (a later chunk, or another file).
    pub fn merge(&mut self, other: &Traffic) {
        self.finish();
        for (k, m) in &other.minutes {
            self.minutes.entry(*k).or_default().merge(m);
        }
        if let Some(o) = &other.open {
            self.minutes
                .entry(o.minute)
                .or_default()
                .merge(&o.to_minute());
        }
    }

    /// Requests between two unix seconds (whole minutes they touch).
    pub fn requests_between(&self, from_s: i64, to_s: i64) -> u64 {
        self.minutes
            .range(from_s.div_euclid(60)..=to_s.div_euclid(60))
            .map(|(_, m)| m.requests)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_and_actions() {
        let (m, p, q) =
            split_request_line(b"POST /wp-admin/admin-ajax.php?action=heartbeat&x=1 HTTP/1.1");
        assert_eq!(m, Some(&b"POST"[..]));
        assert_eq!(p, Some(&b"/wp-admin/admin-ajax.php"[..]));
        assert_eq!(ajax_action(p.unwrap(), q), Some(&b"heartbeat"[..]));
        assert_eq!(ajax_action(b"/x.php", Some(b"action=y")), None);
        assert_eq!(query_param(b"a=1&action=&b", b"action"), Some(&b""[..]));
        assert!(is_static(b"/wp-content/themes/x/style.CSS"));
        assert!(!is_static(b"/checkout/"));
        assert!(!is_static(b"/index.php"));
        assert!(!is_static(b"/INDEX.PHP"));
        assert!(is_static(b"/fonts/a.woff2"));
        assert!(is_static(b"/a.js"));
        assert!(is_static(b".js"));
        assert!(!is_static(b"/very.long.name.html"));
        assert!(!is_static(b""));
        assert!(!is_static(b"/p"));
        assert!(is_static(b"/v/clip.MP4"));
        assert!(is_static(b"/i/a.jpeg"));
        assert!(is_static(b"x.map"));
        assert!(!is_static(b"/font.woff22"));
        assert!(!is_static(b"/trailing."));
        assert!(!is_static(b"/ajpeg"));
        assert!(!is_static(b"/a.\x03ss"));
        assert!(!is_static(b"/a.cs"));
        assert!(!is_static(b"/shop.cssx"));
    }

    #[test]
    fn the_open_minute_counts_exactly_and_late_requests_land_in_their_minute() {
        let at = |s: i64| {
            Some(Timestamp {
                unix_us: s * 1_000_000,
                offset_s: 0,
            })
        };
        let mut t = Traffic::default();
        // Minute 0: one hot path among 300 distinct ones (past the exact
        // table's 256), a static asset and a 502.
        for i in 0..1000 {
            t.add_parts(at(i % 60), Some(200), Some(b"/hot"), None, None);
        }
        for i in 0..300 {
            let p = format!("/p{i}");
            t.add_parts(at(5), Some(200), Some(p.as_bytes()), None, None);
        }
        t.add_parts(at(6), Some(200), Some(b"/a.css"), None, None);
        t.add_parts(at(7), Some(502), Some(b"/checkout/"), None, None);
        // Minute 1 opens; then a late request of minute 0.
        t.add_parts(
            at(61),
            Some(200),
            Some(b"/wp-admin/admin-ajax.php"),
            Some(b"action=x"),
            None,
        );
        t.add_parts(at(59), Some(200), Some(b"/hot"), None, None);
        t.add_parts(
            at(62),
            Some(200),
            None,
            None,
            Some(b"GET /shop/?a=1 HTTP/1.1"),
        );
        t.finish();
        let m0 = &t.minutes[&0];
        assert_eq!(m0.requests, 1000 + 300 + 2 + 1);
        assert_eq!((m0.static_requests, m0.server_errors), (1, 1));
        assert_eq!(m0.top.len(), TOP_K);
        assert_eq!((&m0.top[0].path[..], m0.top[0].count), (&b"/hot"[..], 1001));
        let m1 = &t.minutes[&1];
        assert_eq!(m1.requests, 2);
        let keys: Vec<(&[u8], &[u8], u64)> = m1
            .top
            .iter()
            .map(|p| (&p.path[..], &p.action[..], p.count))
            .collect();
        assert_eq!(
            keys,
            [
                (&b"/wp-admin/admin-ajax.php"[..], &b"x"[..], 1),
                (&b"/shop/"[..], &b""[..], 1)
            ]
        );
        // Merging an unfinished part counts its open minute too.
        let mut u = Traffic::default();
        u.add_parts(at(125), Some(200), Some(b"/late"), None, None);
        let mut v = Traffic::default();
        v.merge(&u);
        assert_eq!(v.minutes[&2].requests, 1);
    }

    #[test]
    fn space_saving_is_exact_for_few_paths_and_bounded_for_many() {
        let mut m = Minute::default();
        for i in 0..100u8 {
            m.add_path(&[b'/', b'a' + i % 3], b"", 1);
        }
        assert_eq!(m.top.len(), 3);
        assert_eq!(m.top.iter().map(|p| p.count).sum::<u64>(), 100);
        assert!(m.top.iter().all(|p| p.error == 0));
        let mut m = Minute::default();
        for i in 0..1000u32 {
            // One heavy path among many distinct light ones.
            m.add_path(b"/heavy", b"", 1);
            m.add_path(format!("/p{i}").as_bytes(), b"", 1);
        }
        assert_eq!(m.top.len(), TOP_K);
        let heavy = m.top.iter().find(|p| p.path == b"/heavy").unwrap();
        assert!(heavy.count >= 1000 && heavy.count - heavy.error <= 1000);
    }
}
