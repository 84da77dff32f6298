//! The php-fpm master's messages as typed events: [`classify`] reads the
//! text after the time and level, whatever carried it (the php-fpm log
//! file, the journal, syslog).

use memchr::{memchr, memmem};

use crate::nginx::error::PhpMessage;

/// A php-fpm log level (FPM's `log_level`: `debug`, `notice`, `warning`,
/// `error`, `alert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FpmLevel {
    /// `DEBUG`
    Debug,
    /// `NOTICE`
    Notice,
    /// `WARNING`
    Warning,
    /// `ERROR`
    Error,
    /// `ALERT`
    Alert,
}

impl FpmLevel {
    /// The name FPM writes (`WARNING`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FpmLevel::Debug => "DEBUG",
            FpmLevel::Notice => "NOTICE",
            FpmLevel::Warning => "WARNING",
            FpmLevel::Error => "ERROR",
            FpmLevel::Alert => "ALERT",
        }
    }

    /// Reads a level name as FPM writes it (`b"WARNING"`), upper case only.
    pub fn from_bytes(b: &[u8]) -> Option<FpmLevel> {
        Some(match b {
            b"DEBUG" => FpmLevel::Debug,
            b"NOTICE" => FpmLevel::Notice,
            b"WARNING" => FpmLevel::Warning,
            b"ERROR" => FpmLevel::Error,
            b"ALERT" => FpmLevel::Alert,
            _ => return None,
        })
    }
}

/// Where a message was logged from, as `log_level = debug` prefixes every
/// message: `pid 7260, fpm_children_bury(), line 289: `, or as php-fpm 5.x
/// prefixes its warnings: `fpm_children_bury(), line 252: `.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugOrigin<'a> {
    /// The process that logged (the master, or the launching process);
    /// `None` in php-fpm 5.x's layout, which does not name it.
    pub pid: Option<u32>,
    /// The C function, without `()`.
    pub function: &'a [u8],
    /// The source line.
    pub line: u32,
}

/// Splits the `pid N, function(), line N: ` prefix that FPM writes before
/// every message at `log_level = debug` (or php-fpm 5.x's `function(),
/// line N: `) off `message`. Without it the message is returned whole.
///
/// ```
/// use baton_logparse::fpm::split_debug_prefix;
/// let (o, m) = split_debug_prefix(b"pid 7260, fpm_init(), line 83: fpm is running, pid 7260");
/// let o = o.unwrap();
/// assert_eq!((o.pid, o.function, o.line), (Some(7260), &b"fpm_init"[..], 83));
/// assert_eq!(m, b"fpm is running, pid 7260");
/// let (o, m) = split_debug_prefix(b"fpm_children_bury(), line 252: [pool www] child 1 exited");
/// assert_eq!(o.map(|o| (o.pid, o.line)), Some((None, 252)));
/// assert_eq!(m, b"[pool www] child 1 exited");
/// ```
pub fn split_debug_prefix(message: &[u8]) -> (Option<DebugOrigin<'_>>, &[u8]) {
    fn read(m: &[u8]) -> Option<(DebugOrigin<'_>, &[u8])> {
        let (pid, r) = match m.strip_prefix(b"pid ") {
            Some(r) => {
                let (pid, r) = digits_u32(r)?;
                (Some(pid), r.strip_prefix(b", ")?)
            }
            None => (None, m),
        };
        let close = memmem::find(r, b"(), line ")?;
        let function = &r[..close];
        if function.is_empty() || function.iter().any(|&c| c == b' ' || c == b',') {
            return None;
        }
        let (line, r) = digits_u32(&r[close + 9..])?;
        let r = match r {
            [b':', b' ', rest @ ..] => rest,
            [b':'] => &[][..],
            _ => return None,
        };
        Some((
            DebugOrigin {
                pid,
                function,
                line,
            },
            r,
        ))
    }
    match read(message) {
        Some((o, m)) => (Some(o), m),
        None => (None, message),
    }
}

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus<'a> {
    /// `exited with code N`: a normal exit (code 0 is routine recycling,
    /// `pm.max_requests` or an idle timeout).
    Code(i32),
    /// `exited on signal N (NAME)`, perhaps `(NAME - core dumped)`.
    Signal {
        /// The signal number.
        number: u32,
        /// The name FPM printed (`SIGSEGV`); empty when FPM knew none.
        name: &'a [u8],
        /// ` - core dumped` was printed.
        core_dumped: bool,
    },
}

/// `[pool www] child 31660 exited on signal 11 (SIGSEGV) after 48.610558 seconds from start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildExit<'a> {
    /// The pool, when named.
    pub pool: Option<&'a [u8]>,
    /// The child's pid.
    pub pid: u32,
    /// Exit code or signal.
    pub status: ExitStatus<'a>,
    /// How long the child lived, in microseconds (`after X seconds from start`).
    pub uptime_us: Option<u64>,
}

impl ChildExit<'_> {
    /// Whether the child died on a signal (not a routine exit).
    pub fn is_signal(&self) -> bool {
        matches!(self.status, ExitStatus::Signal { .. })
    }
}

/// A request FPM reported as slow or timed out:
/// `child 31545, script '/var/www/shop/public/slow.php' (request: "GET /slow.php?s=3") executing too slow (1.070142 sec), logging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowRequest<'a> {
    /// The pool, when named.
    pub pool: Option<&'a [u8]>,
    /// The worker's pid.
    pub pid: u32,
    /// `script '...'`: the script filename.
    pub script: &'a [u8],
    /// The request method (`GET`).
    pub method: &'a [u8],
    /// The request URI with its query string (`/slow.php?s=3`).
    pub uri: &'a [u8],
    /// How long the request had run, in microseconds (`(1.070142 sec)`).
    pub elapsed_us: u64,
}

/// A message of the FPM master's own life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Master<'a> {
    /// `fpm is running, pid N`: a master started (cold start, restart, or
    /// the new master of a reload).
    Running {
        /// The master's pid.
        pid: u32,
    },
    /// `ready to handle connections`.
    Ready,
    /// `Terminating ...` (SIGTERM or SIGINT: fast shutdown).
    Terminating,
    /// `Finishing ...` (SIGQUIT: graceful shutdown).
    Finishing,
    /// `exiting, bye-bye!`: the master exits.
    Exiting,
    /// `Reloading in progress ...` (SIGUSR2).
    ReloadingInProgress,
    /// `reloading: execvp("php-fpm8.2", {"php-fpm8.2", ...})`: the master
    /// replaces itself.
    Reloading {
        /// What follows `execvp(`, without the final `)`.
        command: &'a [u8],
    },
}

/// A failure that keeps FPM from starting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupFailure<'a> {
    /// `unable to bind listening socket for address '127.0.0.1:9000': Address already in use (98)`.
    Bind {
        /// The pool, when named.
        pool: Option<&'a [u8]>,
        /// The address between the quotes.
        address: &'a [u8],
        /// What follows `': ` (the system error), perhaps empty.
        reason: &'a [u8],
    },
    /// `FPM initialization failed`.
    InitFailed,
}

/// Which stream a worker wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputStream {
    /// `said into stderr`
    Stderr,
    /// `said into stdout`
    Stdout,
}

/// What a worker wrote (`catch_workers_output = yes`):
/// `[pool www] child 31545 said into stderr: "NOTICE: PHP message: PHP Warning:  ..."`,
/// or, with `decorate_workers_output = no`, the bare text on its own line.
///
/// FPM wraps output longer than its `log_limit` (1024 bytes by default)
/// into several entries; the log parser joins them into one record (see
/// [`WorkerOutput::pieces`]). [`classify`] only ever sees one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerOutput<'a> {
    /// The pool (`None` for undecorated output).
    pub pool: Option<&'a [u8]>,
    /// The worker's pid (`None` for undecorated output).
    pub pid: Option<u32>,
    /// The stream (`None` for undecorated output).
    pub stream: Option<OutputStream>,
    /// The first line's text: the quoted payload without its quotes, or
    /// the whole undecorated line.
    pub text: &'a [u8],
    /// The record's further physical lines, raw, without the line end
    /// before them (empty for a one-line record).
    pub continued: &'a [u8],
    /// Whether the text came with FPM's decoration (time, pool, pid, quotes).
    pub decorated: bool,
    /// Physical lines of the record.
    pub lines: u32,
    /// The output was cut: FPM appended `...` (output over its limit), or
    /// the closing quote is missing.
    pub truncated: bool,
    /// The PHP message the output carries (`NOTICE: PHP message: PHP Fatal
    /// error:  ... in /path/file.php:3`), if any; for output wrapped over
    /// several lines the file and line come from the last piece.
    pub php: Option<PhpMessage<'a>>,
}

impl<'a> WorkerOutput<'a> {
    /// The text of every physical line: [`WorkerOutput::text`], then each
    /// continued line's payload (without the decoration and quotes of a
    /// decorated line).
    pub fn pieces(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let decorated = self.decorated;
        let rest = (!self.continued.is_empty()).then_some(self.continued);
        std::iter::once(self.text).chain(
            rest.into_iter()
                .flat_map(|r| r.split(|&c| c == b'\n'))
                .map(move |l| {
                    let l = crate::frame::trim_cr(l);
                    if decorated {
                        decorated_payload(l).map_or(l, |(_, _, p, _)| p)
                    } else {
                        l
                    }
                }),
        )
    }

    /// Whether the PHP message is fatal (`Fatal error`, `Allowed memory
    /// size ... exhausted`, `Maximum execution time ... exceeded`; see
    /// [`crate::php::is_fatal`]).
    pub fn is_fatal(&self) -> bool {
        self.php.is_some_and(|p| p.is_fatal())
    }

    /// The level of the PHP message, if the output carries one.
    pub fn php_level(&self) -> Option<crate::php::PhpLevel> {
        self.php.map(|p| p.php_level())
    }

    /// Whether the PHP message is `Allowed memory size of N bytes exhausted`.
    pub fn is_memory_exhausted(&self) -> bool {
        self.php
            .is_some_and(|p| p.text.starts_with(b"Allowed memory size of"))
    }
}

/// One php-fpm message, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpmEvent<'a> {
    /// `[pool www] server reached pm.max_children setting (20), consider
    /// raising it` (or `max_children setting (2)` for an ondemand pool).
    MaxChildrenReached {
        /// The pool.
        pool: Option<&'a [u8]>,
        /// `pm.max_children`.
        limit: u32,
    },
    /// `[pool busy] seems busy (you may need to increase pm.start_servers,
    /// or pm.min/max_spare_servers), spawning 8 children, there are 0
    /// idle, and 4 total children`.
    SeemsBusy {
        /// The pool.
        pool: Option<&'a [u8]>,
        /// Children being spawned.
        spawning: u32,
        /// Idle children.
        idle: u32,
        /// Total children.
        total: u32,
    },
    /// `[pool www] child 32543 started`.
    ChildStarted {
        /// The pool.
        pool: Option<&'a [u8]>,
        /// The child's pid.
        pid: u32,
    },
    /// `[pool www] child N exited with code C` / `exited on signal S (NAME)`.
    ChildExited(ChildExit<'a>),
    /// `... executing too slow (X sec), logging`.
    SlowRequest(SlowRequest<'a>),
    /// `... execution timed out (X sec), terminating` (`request_terminate_timeout`).
    ExecutionTimeout(SlowRequest<'a>),
    /// The master's life: start, ready, stop, reload.
    Master(Master<'a>),
    /// FPM could not start.
    StartupFailure(StartupFailure<'a>),
    /// A worker's output.
    WorkerOutput(WorkerOutput<'a>),
    /// Anything else, kept with its level.
    Other {
        /// The level.
        level: FpmLevel,
        /// The pool, when the message starts with `[pool NAME] `.
        pool: Option<&'a [u8]>,
        /// The message after the pool.
        text: &'a [u8],
    },
}

/// Classifies one php-fpm message: the text after the time and level
/// (`WARNING: ` in the log file, `[WARNING] ` in the journal), with or
/// without a `[pool NAME] ` prefix and with or without the debug
/// `pid N, function(), line N: ` prefix (which is dropped; see
/// [`split_debug_prefix`]). Every message gets an event: what is not
/// recognized is [`FpmEvent::Other`].
///
/// ```
/// use baton_logparse::fpm::{FpmEvent, FpmLevel, classify};
/// let ev = classify(
///     FpmLevel::Warning,
///     b"[pool www] server reached pm.max_children setting (20), consider raising it",
/// );
/// assert_eq!(ev, FpmEvent::MaxChildrenReached { pool: Some(b"www"), limit: 20 });
/// ```
pub fn classify(level: FpmLevel, message: &[u8]) -> FpmEvent<'_> {
    let (_, msg) = split_debug_prefix(message);
    let (pool, body) = split_pool(msg);
    let other = FpmEvent::Other {
        level,
        pool,
        text: body,
    };
    let ev = match body.first() {
        Some(b'c') => child_event(pool, body),
        Some(b's') => server_event(pool, body),
        Some(b'u') => bind_failure(pool, body),
        _ if pool.is_none() => master_event(body),
        _ => None,
    };
    ev.unwrap_or(other)
}

/// `[pool NAME] ` at the start: the name and the rest.
fn split_pool(msg: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if let Some(r) = msg.strip_prefix(b"[pool ")
        && let Some(i) = memchr(b']', r)
    {
        let rest = &r[i + 1..];
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        return (Some(&r[..i]), rest);
    }
    (None, msg)
}

/// `child N ...`
fn child_event<'a>(pool: Option<&'a [u8]>, body: &'a [u8]) -> Option<FpmEvent<'a>> {
    let (pid, rest) = digits_u32(body.strip_prefix(b"child ")?)?;
    if rest == b" started" {
        return Some(FpmEvent::ChildStarted { pool, pid });
    }
    if let Some(r) = rest.strip_prefix(b" exited ") {
        return child_exit(pool, pid, r).map(FpmEvent::ChildExited);
    }
    if let Some(r) = rest.strip_prefix(b", script '") {
        return slow_request(pool, pid, r);
    }
    if let Some(r) = rest.strip_prefix(b" said into std") {
        let (stream, r) = if let Some(r) = r.strip_prefix(b"err: \"") {
            (OutputStream::Stderr, r)
        } else {
            (OutputStream::Stdout, r.strip_prefix(b"out: \"")?)
        };
        let (text, closed) = match r.strip_suffix(b"\"") {
            Some(t) => (t, true),
            None => (r, false),
        };
        return Some(FpmEvent::WorkerOutput(WorkerOutput {
            pool,
            pid: Some(pid),
            stream: Some(stream),
            text,
            continued: &[],
            decorated: true,
            lines: 1,
            truncated: !closed || text.ends_with(b"..."),
            php: php_message(text),
        }));
    }
    None
}

/// After `child N exited `: `on signal 11 (SIGSEGV) after 1.5 seconds from
/// start` or `with code 0 after ...`.
fn child_exit<'a>(pool: Option<&'a [u8]>, pid: u32, r: &'a [u8]) -> Option<ChildExit<'a>> {
    let (status, rest) = if let Some(r) = r.strip_prefix(b"on signal ") {
        let (number, r) = digits_u32(r)?;
        let r = r.strip_prefix(b" (")?;
        let close = memchr(b')', r)?;
        let inner = &r[..close];
        let (name, core_dumped) = match inner.strip_suffix(b" - core dumped") {
            Some(n) => (n, true),
            None => (inner, false),
        };
        (
            ExitStatus::Signal {
                number,
                name,
                core_dumped,
            },
            &r[close + 1..],
        )
    } else {
        let r = r.strip_prefix(b"with code ")?;
        let (neg, r) = match r.strip_prefix(b"-") {
            Some(r) => (true, r),
            None => (false, r),
        };
        let (code, r) = digits_u32(r)?;
        let code = i32::try_from(code).ok()?;
        (ExitStatus::Code(if neg { -code } else { code }), r)
    };
    let uptime_us = rest
        .strip_prefix(b" after ")
        .and_then(seconds_us)
        .and_then(|(us, r)| r.starts_with(b" seconds").then_some(us));
    Some(ChildExit {
        pool,
        pid,
        status,
        uptime_us,
    })
}

/// After `child N, script '`: `PATH' (request: "GET /x") executing too slow
/// (1.07 sec), logging` or `... execution timed out (60.1 sec), terminating`.
fn slow_request<'a>(pool: Option<&'a [u8]>, pid: u32, r: &'a [u8]) -> Option<FpmEvent<'a>> {
    const REQUEST: &[u8] = b"' (request: \"";
    let q = memmem::find(r, REQUEST)?;
    let script = &r[..q];
    let after = &r[q + REQUEST.len()..];
    // The request ends at the last `") execut`: the URI may hold quotes.
    let close = memmem::rfind(after, b"\") execut")?;
    let request = &after[..close];
    let tail = &after[close + 3..];
    let (timeout, tail) = if let Some(t) = tail.strip_prefix(b"executing too slow (") {
        (false, t)
    } else {
        (true, tail.strip_prefix(b"execution timed out (")?)
    };
    let (elapsed_us, _) = seconds_us(tail)?;
    let (method, uri) = match memchr(b' ', request) {
        Some(i) => (&request[..i], &request[i + 1..]),
        None => (request, &b""[..]),
    };
    let s = SlowRequest {
        pool,
        pid,
        script,
        method,
        uri,
        elapsed_us,
    };
    Some(if timeout {
        FpmEvent::ExecutionTimeout(s)
    } else {
        FpmEvent::SlowRequest(s)
    })
}

/// `server reached ...` and `seems busy ...`.
fn server_event<'a>(pool: Option<&'a [u8]>, body: &'a [u8]) -> Option<FpmEvent<'a>> {
    if let Some(r) = body.strip_prefix(b"server reached ") {
        let r = r.strip_prefix(b"pm.").unwrap_or(r);
        let r = r.strip_prefix(b"max_children setting (")?;
        let (limit, r) = digits_u32(r)?;
        r.starts_with(b")").then_some(())?;
        return Some(FpmEvent::MaxChildrenReached { pool, limit });
    }
    let r = body.strip_prefix(b"seems busy")?;
    let at = memmem::find(r, b"spawning ")?;
    let (spawning, r) = digits_u32(&r[at + 9..])?;
    let r = r.strip_prefix(b" children, there are ")?;
    let (idle, r) = digits_u32(r)?;
    let r = r.strip_prefix(b" idle, and ")?;
    let (total, r) = digits_u32(r)?;
    r.starts_with(b" total children").then_some(())?;
    Some(FpmEvent::SeemsBusy {
        pool,
        spawning,
        idle,
        total,
    })
}

/// `unable to bind listening socket for address 'ADDR': REASON`.
fn bind_failure<'a>(pool: Option<&'a [u8]>, body: &'a [u8]) -> Option<FpmEvent<'a>> {
    let r = body.strip_prefix(b"unable to bind listening socket")?;
    let (address, reason) = match r.strip_prefix(b" for address '") {
        Some(r) => match memmem::find(r, b"'") {
            Some(q) => {
                let after = &r[q + 1..];
                (&r[..q], after.strip_prefix(b": ").unwrap_or(after))
            }
            None => (r, &b""[..]),
        },
        None => (&b""[..], r.strip_prefix(b": ").unwrap_or(r)),
    };
    Some(FpmEvent::StartupFailure(StartupFailure::Bind {
        pool,
        address,
        reason,
    }))
}

/// The master's messages (no pool).
fn master_event(body: &[u8]) -> Option<FpmEvent<'_>> {
    let m = match body.first()? {
        b'f' => {
            let (pid, rest) = digits_u32(body.strip_prefix(b"fpm is running, pid ")?)?;
            rest.is_empty().then_some(())?;
            Master::Running { pid }
        }
        b'r' if body == b"ready to handle connections" => Master::Ready,
        b'r' => {
            let c = body.strip_prefix(b"reloading: execvp(")?;
            Master::Reloading {
                command: c.strip_suffix(b")").unwrap_or(c),
            }
        }
        b'T' if body.starts_with(b"Terminating") => Master::Terminating,
        b'F' if body.starts_with(b"Finishing") => Master::Finishing,
        b'F' if body == b"FPM initialization failed" => {
            return Some(FpmEvent::StartupFailure(StartupFailure::InitFailed));
        }
        b'e' if body == b"exiting, bye-bye!" => Master::Exiting,
        b'R' if body.starts_with(b"Reloading in progress") => Master::ReloadingInProgress,
        _ => return None,
    };
    Some(FpmEvent::Master(m))
}

/// `1.070142` (then anything): microseconds and the rest. Digits after
/// the sixth decimal are ignored.
fn seconds_us(s: &[u8]) -> Option<(u64, &[u8])> {
    let (int, mut r) = digits_u64(s)?;
    let mut us = int.checked_mul(1_000_000)?;
    if let Some(f) = r.strip_prefix(b".") {
        let n = f.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut frac = 0u64;
        for (i, &c) in f[..n].iter().enumerate() {
            if i < 6 {
                frac = frac * 10 + (c - b'0') as u64;
            }
        }
        for _ in n..6 {
            frac *= 10;
        }
        us = us.checked_add(frac)?;
        r = &f[n..];
    }
    Some((us, r))
}

/// Decimal digits at the start of `s` (at most 19) and the rest.
pub(crate) fn digits_u64(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take(20).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let v = s[..n].iter().fold(0u64, |v, &c| v * 10 + (c - b'0') as u64);
    Some((v, &s[n..]))
}

/// Like [`digits_u64`], for a `u32`.
pub(crate) fn digits_u32(s: &[u8]) -> Option<(u32, &[u8])> {
    let (v, r) = digits_u64(s)?;
    Some((u32::try_from(v).ok()?, r))
}

/// The parts of a decorated worker-output message (the text after `LEVEL: `
/// and any debug prefix): the key that identifies the writer (`[pool www]
/// child 1 said into stderr: "`), the pid, the payload, and whether the
/// closing quote is there.
pub(crate) fn decorated_payload(line: &[u8]) -> Option<(&[u8], u32, &[u8], bool)> {
    const SAID: &[u8] = b" said into std";
    let at = memmem::find(line, b"] child ")?;
    let start = memmem::find(&line[..at], b"[pool ")?;
    let (pid, r) = digits_u32(&line[at + 8..])?;
    let r = r.strip_prefix(SAID)?;
    let r = r
        .strip_prefix(b"err: \"")
        .or_else(|| r.strip_prefix(b"out: \""))?;
    let key_end = line.len() - r.len();
    let (payload, closed) = match r.strip_suffix(b"\"") {
        Some(p) => (p, true),
        None => (r, false),
    };
    Some((&line[start..key_end], pid, payload, closed))
}

/// The PHP message in a worker's output: `[LEVEL: ]PHP message: PHP Level:
/// text in /file.php on line N` (or `:N`), or `PHP Level:  text ...`.
pub(crate) fn php_message(text: &[u8]) -> Option<PhpMessage<'_>> {
    let mut m = text;
    for p in [
        &b"NOTICE: "[..],
        b"WARNING: ",
        b"ERROR: ",
        b"ALERT: ",
        b"DEBUG: ",
    ] {
        if let Some(r) = m.strip_prefix(p) {
            m = r;
            break;
        }
    }
    let (tagged, m) = match m.strip_prefix(b"PHP message: ") {
        Some(r) => (true, r),
        None => (false, m),
    };
    let (level, text) = match php_level(m) {
        Some((l, t)) => (l, t),
        None if tagged => (&b""[..], m),
        None => return None,
    };
    let (text, file, line) = php_location(text);
    Some(PhpMessage {
        level,
        text,
        file,
        line,
    })
}

/// `PHP Fatal error:  text`: the level and the text.
fn php_level(m: &[u8]) -> Option<(&[u8], &[u8])> {
    let after = m.strip_prefix(b"PHP ")?;
    let i = memmem::find(&after[..after.len().min(40)], b": ")?;
    let level = &after[..i];
    if level.is_empty() || !level.iter().all(|c| c.is_ascii_alphabetic() || *c == b' ') {
        return None;
    }
    let mut t = &after[i + 2..];
    while let [b' ', r @ ..] = t {
        t = r;
    }
    Some((level, t))
}

/// Splits `text in /path/file.php on line N` or `text in /path/file.php:N`
/// at the end of `text`.
pub(crate) fn php_location(text: &[u8]) -> (&[u8], Option<&[u8]>, Option<u32>) {
    if let Some(j) = memmem::rfind(text, b" on line ")
        && let Some((n, [])) = digits_u32(&text[j + 9..])
        && let Some(i) = memmem::rfind(&text[..j], b" in ")
        && i + 4 < j
    {
        return (&text[..i], Some(&text[i + 4..j]), Some(n));
    }
    if let Some(j) = memchr::memrchr(b':', text)
        && let Some((n, [])) = digits_u32(&text[j + 1..])
        && let Some(i) = memmem::rfind(&text[..j], b" in ")
        && i + 4 < j
    {
        return (&text[..i], Some(&text[i + 4..j]), Some(n));
    }
    (text, None, None)
}

/// The usual name of a Linux signal number (`11` → `SIGSEGV`).
pub fn signal_name(number: u32) -> Option<&'static str> {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match NAMES.get(number as usize) {
        Some(n) if !n.is_empty() => Some(n),
        _ => None,
    }
}
