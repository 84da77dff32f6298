//! Kernel messages: `dmesg`, `dmesg -T`, kern.log / syslog lines and
//! `journalctl -k`, with a classifier for OOM kills and segfaults.
//!
//! # Forms accepted
//!
//! Each line is read on its own, whatever form it has (a file may mix them):
//!
//! | form | example | time |
//! | --- | --- | --- |
//! | raw `dmesg` | `[11208.086696] Memory cgroup out of memory: Killed process ...` | seconds since boot: untimed unless [`KernelParser::with_boot_time`] |
//! | `dmesg -r` | `<6>[11208.086696] ...` | as raw `dmesg` (the priority is dropped) |
//! | `dmesg -T` | `[Tue Nov 24 11:18:02 2026] ...` (`%a %b %e %H:%M:%S %Y`) | local time, resolved in the [`Zone`] of [`KernelParser::new`] |
//! | `dmesg --time-format iso` | `2026-11-24T11:18:02,086696+00:00 ...` | its own offset |
//! | kern.log, syslog, `journalctl -k` (`-o short`, `-o short-precise`) | `Nov 24 11:18:02 vm kernel: ...`, `Nov 24 11:18:02.533281 vm kernel: ...` | local time in the [`Zone`], year from [`KernelParser::with_year`] (untimed without one) |
//! | `journalctl -k -o short-iso`, `-o short-iso-precise` | `2026-11-24T11:20:18+0000 vm kernel: ...` | its own offset |
//! | `dmesg -t`, or a paste with the stamps cut off | `Out of memory: Killed process 32570 (php-fpm8.2) ...` | untimed; kept only when the classifier knows the message (OOM kill, its selection, segfault) |
//!
//! In the syslog forms the identifier must be `kernel` for the message to be
//! classified; other identifiers (a journal that also holds
//! `systemd-journald[24423]: ...`) are parsed, kept with their
//! [`KernelRecord::ident`], and classified as [`KernelEvent::Other`]. A
//! kernel message that starts with its own `[  62279.421192]` uptime stamp
//! (rsyslog with kernel timestamps) has it read into
//! [`KernelRecord::uptime_us`] and removed from the message.
//!
//! The year of a yearless line is a parameter: this parser does not infer
//! it and does not roll it over at New Year (the journal/syslog layer owns
//! that policy).
//!
//! # Events
//!
//! [`classify`] reads the message (the text after the prefix) and returns a
//! [`KernelEvent`]. Every other line of a kernel report (`Call Trace:`,
//! `Mem-Info:`, register dumps, the task table) is a record of kind
//! [`KernelEvent::Other`], so every physical line counts as parsed.
//!
//! # Counting OOM kills once
//!
//! Since Linux 4.19 one OOM kill is reported by two lines, the
//! `oom-kill:constraint=...,task=...,pid=...,uid=...` line and the
//! `Killed process N (name) ...` line after it; older kernels first print
//! `Kill process N (name) score S or sacrifice child`. **Only the
//! `Killed process` line is an [`KernelEvent::OomKill`]**; the others are
//! [`KernelEvent::OomDetail`] and [`KernelEvent::OomSelect`], which carry
//! details and are never counted. [`KernelParser`] joins an `oom-kill:` line
//! and the `Killed process` line right after it into one two-line record
//! whose [`OomKill`] has the constraint and memory cgroups filled in
//! ([`OomKill::add_detail`]); chunks are never cut between the two, so the
//! result does not depend on how the input is split.

use memchr::{memchr, memmem, memrchr};

use crate::error::SkipReason;
use crate::frame::{Loc, RecordParser, trim_cr};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{
    LocalResolver, Timestamp, Zone, civil_to_secs, month_from_abbrev, parse_iso8601,
};
use crate::years::{Yearless, Years, rolls_over, shift_range};

/// An OOM kill: the `Killed process N (name) ...` line.
///
/// ```text
/// Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0
/// Out of memory: Killed process 1234 (mysqld) total-vm:..., anon-rss:...
/// Killed process 19667 (evil-program2) total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB
/// Killed process 2592, UID 48, (httpd) total-vm:...
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OomKill<'a> {
    /// The victim's pid.
    pub pid: u32,
    /// The victim's name (its `comm`; may hold spaces, brackets, quotes).
    pub process: &'a [u8],
    /// `total-vm:` in kB.
    pub total_vm_kb: Option<u64>,
    /// `anon-rss:` in kB.
    pub anon_rss_kb: Option<u64>,
    /// `file-rss:` in kB.
    pub file_rss_kb: Option<u64>,
    /// `shmem-rss:` in kB.
    pub shmem_rss_kb: Option<u64>,
    /// `UID:` (or `UID n,` of older kernels).
    pub uid: Option<u32>,
    /// The line says `Memory cgroup out of memory` (a cgroup limit, not the
    /// whole machine, was hit).
    pub cgroup: bool,
    /// `constraint=` of the `oom-kill:` line (`CONSTRAINT_MEMCG`,
    /// `CONSTRAINT_NONE`, ...), when known.
    pub constraint: Option<&'a [u8]>,
    /// `oom_memcg=`: the cgroup whose limit was hit, when known.
    pub oom_memcg: Option<&'a [u8]>,
    /// `task_memcg=`: the victim's cgroup, when known.
    pub task_memcg: Option<&'a [u8]>,
}

impl<'a> OomKill<'a> {
    /// Fills the constraint and cgroups from the `oom-kill:` line of the
    /// same kill (its pid must match; otherwise nothing changes). Returns
    /// whether it matched.
    pub fn add_detail(&mut self, d: &OomDetail<'a>) -> bool {
        if d.pid != Some(self.pid) {
            return false;
        }
        self.constraint = d.constraint.or(self.constraint);
        self.oom_memcg = d.oom_memcg.or(self.oom_memcg);
        self.task_memcg = d.task_memcg.or(self.task_memcg);
        self.uid = self.uid.or(d.uid);
        true
    }

    /// The victim is a PHP process (its name starts with `php`, as
    /// `php-fpm8.2` and `php-fpm` do).
    pub fn is_php(&self) -> bool {
        self.process.starts_with(b"php")
    }
}

/// The `oom-kill:` line that precedes `Killed process` since Linux 4.19:
///
/// ```text
/// oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/php8.2-fpm.service,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid=32570,uid=33
/// ```
///
/// `task=` runs to the last `,pid=`, so a name holding commas is kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OomDetail<'a> {
    /// `constraint=`.
    pub constraint: Option<&'a [u8]>,
    /// `oom_memcg=` (absent for a global OOM, which says `global_oom`).
    pub oom_memcg: Option<&'a [u8]>,
    /// `task_memcg=`.
    pub task_memcg: Option<&'a [u8]>,
    /// `task=`: the victim's name.
    pub task: Option<&'a [u8]>,
    /// `pid=`.
    pub pid: Option<u32>,
    /// `uid=`.
    pub uid: Option<u32>,
}

/// A `segfault at` line:
///
/// ```text
/// php-fpm8.2[6091]: segfault at 7ffdb37d8fde ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000] likely on CPU 0 (core 0, socket 0)
/// php-fpm[1234]: segfault at 0 ip 00007f0c2a1b2c3d sp 00007ffc1a2b3c40 error 4 in opcache.so[7f0c2a100000+1c0000]
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segfault<'a> {
    /// The faulting process's name (before `[pid]`).
    pub process: &'a [u8],
    /// Its pid.
    pub pid: u32,
    /// The faulting address (`segfault at ADDR`, hex).
    pub addr: u64,
    /// The instruction pointer (`ip`, hex).
    pub ip: Option<u64>,
    /// The stack pointer (`sp`, hex).
    pub sp: Option<u64>,
    /// The page-fault error code (`error N`, printed in hex by the kernel).
    pub error: Option<u32>,
    /// The mapped object the instruction pointer was in (`in X[...]`): the
    /// suspect binary or extension.
    pub object: Option<&'a [u8]>,
}

impl Segfault<'_> {
    /// The faulting process is PHP (its name starts with `php`).
    pub fn is_php(&self) -> bool {
        self.process.starts_with(b"php")
    }
}

/// What one kernel message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelEvent<'a> {
    /// A process was killed by the OOM killer (the `Killed process` line:
    /// the one line counted per kill).
    OomKill(OomKill<'a>),
    /// The `oom-kill:constraint=...` line of a kill (details, not counted).
    OomDetail(OomDetail<'a>),
    /// `Out of memory: Kill process N (name) score S or sacrifice child`,
    /// printed by older kernels before `Killed process` (not counted).
    OomSelect {
        /// The chosen pid.
        pid: u32,
        /// Its name.
        process: &'a [u8],
        /// Its OOM score.
        score: Option<u64>,
    },
    /// `Task in /X killed as a result of limit of /Y` (older kernels'
    /// memory-cgroup line; not counted).
    OomCgroup {
        /// The victim's cgroup (`/X`).
        task_memcg: &'a [u8],
        /// The cgroup whose limit was hit (`/Y`).
        oom_memcg: &'a [u8],
    },
    /// `NAME invoked oom-killer: gfp_mask=...`: the start of an OOM report.
    OomInvoked {
        /// The process whose allocation failed (not necessarily the victim).
        process: &'a [u8],
    },
    /// A `segfault at` line.
    Segfault(Segfault<'a>),
    /// Anything else (report blocks, unrelated messages).
    Other,
}

const KILLED: &[u8] = b"Killed process ";
const KILL: &[u8] = b"Kill process ";
const INVOKED: &[u8] = b" invoked oom-killer:";
const OOM_KILL: &[u8] = b"oom-kill:";
const SEGFAULT: &[u8] = b"]: segfault at ";

/// Whether `head` is the wording before a `Killed process` / `Kill process`
/// on the same line (`Out of memory: `, `Memory cgroup out of memory: `,
/// `Out of memory (oom_kill_allocating_task): `).
fn oom_head(head: &[u8]) -> Option<bool> {
    if head.is_empty() {
        return Some(false);
    }
    if !head.ends_with(b": ") {
        return None;
    }
    if head.starts_with(b"Memory cgroup out of memory") {
        Some(true)
    } else if head.starts_with(b"Out of memory") {
        Some(false)
    } else {
        None
    }
}

/// Classifies one kernel message: the text after the line's prefix
/// (`[11208.086696] `, `[Tue Nov 24 11:18:02 2026] `, `Nov 24 11:18:02 vm
/// kernel: `). A leading uptime stamp (`[62279.421192] `) is skipped. See
/// the module documentation for which lines count as an OOM kill.
///
/// ```
/// use baton_logparse::kernel::{classify, KernelEvent};
/// let m = b"Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB";
/// let KernelEvent::OomKill(k) = classify(m) else { panic!() };
/// assert_eq!((k.pid, k.process, k.anon_rss_kb), (32570, &b"php-fpm8.2"[..], Some(1039372)));
/// ```
pub fn classify(message: &[u8]) -> KernelEvent<'_> {
    let m = strip_uptime(message).1;
    if let Some(i) = memmem::find(m, KILLED)
        && let Some(cgroup) = oom_head(&m[..i])
        && let Some(k) = parse_killed(&m[i + KILLED.len()..], cgroup)
    {
        return KernelEvent::OomKill(k);
    }
    if let Some(rest) = m.strip_prefix(OOM_KILL) {
        return KernelEvent::OomDetail(parse_detail(rest));
    }
    if let Some(i) = memmem::find(m, KILL)
        && oom_head(&m[..i]).is_some()
        && let Some(e) = parse_select(&m[i + KILL.len()..])
    {
        return e;
    }
    if let Some(i) = memmem::find(m, INVOKED)
        && i > 0
    {
        return KernelEvent::OomInvoked { process: &m[..i] };
    }
    if let Some(i) = memmem::find(m, SEGFAULT)
        && let Some(s) = parse_segfault(m, i)
    {
        return KernelEvent::Segfault(s);
    }
    if let Some(rest) = m.strip_prefix(b"Task in ")
        && let Some(j) = memmem::find(rest, b" killed as a result of limit of ")
    {
        return KernelEvent::OomCgroup {
            task_memcg: &rest[..j],
            oom_memcg: &rest[j + 32..],
        };
    }
    KernelEvent::Other
}

/// A run of ASCII digits as a number (at most 19 digits), and the rest.
fn number(b: &[u8]) -> Option<(u64, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let v = b[..n].iter().fold(0u64, |a, &c| a * 10 + (c - b'0') as u64);
    Some((v, &b[n..]))
}

/// A run of hex digits as a number (at most 16 digits), and the rest.
fn hex(b: &[u8]) -> Option<(u64, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if n == 0 || n > 16 {
        return None;
    }
    let v = b[..n].iter().fold(0u64, |a, &c| {
        a * 16 + (c as char).to_digit(16).unwrap_or(0) as u64
    });
    Some((v, &b[n..]))
}

/// `pid` as a u32.
fn pid_of(b: &[u8]) -> Option<(u32, &[u8])> {
    let (v, rest) = number(b)?;
    Some((u32::try_from(v).ok()?, rest))
}

/// The value after `key` (`anon-rss:` ...) up to `kB`.
fn kb_field(b: &[u8], key: &[u8]) -> Option<u64> {
    let i = memmem::find(b, key)?;
    let (v, rest) = number(&b[i + key.len()..])?;
    rest.starts_with(b"kB").then_some(v)
}

/// `(name)` at the start of `b`, the name running to the `)` that is
/// followed by `stop`, else to the last `)`. Returns the name and what
/// follows the `)`.
fn paren_name<'a>(b: &'a [u8], stop: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let b = b.strip_prefix(b"(")?;
    let close = match memmem::find(b, stop) {
        Some(i) => i,
        None => memrchr(b')', b)?,
    };
    Some((&b[..close], &b[close + 1..]))
}

/// After `Killed process `: `N (name) total-vm:...` or `N, UID u, (name) ...`.
fn parse_killed(b: &[u8], cgroup: bool) -> Option<OomKill<'_>> {
    let (pid, mut rest) = pid_of(b)?;
    let mut uid = None;
    if let Some(r) = rest.strip_prefix(b", UID ") {
        let (u, r) = pid_of(r)?;
        uid = Some(u);
        rest = r.strip_prefix(b",")?;
    }
    let (process, after) = paren_name(rest.strip_prefix(b" ")?, b") total-vm:")?;
    Some(OomKill {
        pid,
        process,
        total_vm_kb: kb_field(after, b"total-vm:"),
        anon_rss_kb: kb_field(after, b"anon-rss:"),
        file_rss_kb: kb_field(after, b"file-rss:"),
        shmem_rss_kb: kb_field(after, b"shmem-rss:"),
        uid: uid.or_else(|| {
            let i = memmem::find(after, b"UID:")?;
            pid_of(&after[i + 4..]).map(|(u, _)| u)
        }),
        cgroup,
        constraint: None,
        oom_memcg: None,
        task_memcg: None,
    })
}

/// After `Kill process `: `N (name) score S or sacrifice child`.
fn parse_select(b: &[u8]) -> Option<KernelEvent<'_>> {
    let (pid, rest) = pid_of(b)?;
    let (process, after) = paren_name(rest.strip_prefix(b" ")?, b") score ")?;
    let score = after
        .strip_prefix(b" score ")
        .and_then(number)
        .map(|(s, _)| s);
    Some(KernelEvent::OomSelect {
        pid,
        process,
        score,
    })
}

/// The value of `key=` in an `oom-kill:` line (the key starts the text or
/// follows a comma), up to the next comma.
fn detail_value<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(i) = memmem::find(&b[from..], key) {
        let at = from + i;
        if at == 0 || b[at - 1] == b',' {
            let v = &b[at + key.len()..];
            return Some(memchr(b',', v).map_or(v, |j| &v[..j]));
        }
        from = at + 1;
    }
    None
}

/// After `oom-kill:`.
fn parse_detail(b: &[u8]) -> OomDetail<'_> {
    let mut d = OomDetail {
        constraint: detail_value(b, b"constraint="),
        oom_memcg: detail_value(b, b"oom_memcg="),
        task_memcg: detail_value(b, b"task_memcg="),
        ..OomDetail::default()
    };
    // `task=` runs to the last `,pid=`.
    let pid_at = memmem::rfind(b, b",pid=");
    if let Some(p) = pid_at {
        let tail = &b[p + 5..];
        d.pid = pid_of(tail).map(|(v, _)| v);
        d.uid = detail_value(tail, b"uid=").and_then(|u| pid_of(u).map(|(v, _)| v));
    }
    let head = pid_at.map_or(b, |p| &b[..p]);
    let mut from = 0;
    while let Some(i) = memmem::find(&head[from..], b"task=") {
        let at = from + i;
        if at == 0 || head[at - 1] == b',' {
            let v = &head[at + 5..];
            d.task = Some(if pid_at.is_some() {
                v
            } else {
                memchr(b',', v).map_or(v, |j| &v[..j])
            });
            break;
        }
        from = at + 1;
    }
    d
}

/// `NAME[PID]: segfault at ADDR ip IP sp SP error E in OBJ[...]`, with
/// `SEGFAULT` found at `at` (the `]`).
fn parse_segfault(m: &[u8], at: usize) -> Option<Segfault<'_>> {
    let open = memrchr(b'[', &m[..at])?;
    let (pid, r) = pid_of(&m[open + 1..at])?;
    if !r.is_empty() {
        return None;
    }
    let process = &m[..open];
    let rest = &m[at + SEGFAULT.len()..];
    let (addr, mut rest) = hex(rest)?;
    let mut s = Segfault {
        process,
        pid,
        addr,
        ..Segfault::default()
    };
    // Optional fields, in order: ` ip X`, ` sp X`, ` error E`, ` in OBJ[`.
    if let Some(r) = rest.strip_prefix(b" ip ")
        && let Some((v, r)) = hex(r)
    {
        s.ip = Some(v);
        rest = r;
    }
    if let Some(r) = rest.strip_prefix(b" sp ")
        && let Some((v, r)) = hex(r)
    {
        s.sp = Some(v);
        rest = r;
    }
    if let Some(r) = rest.strip_prefix(b" error ")
        && let Some((v, r)) = hex(r)
    {
        s.error = u32::try_from(v).ok();
        rest = r;
    }
    if let Some(r) = rest.strip_prefix(b" in ") {
        let end = memchr(b'[', r)
            .or_else(|| memchr(b' ', r))
            .unwrap_or(r.len());
        if end > 0 {
            s.object = Some(&r[..end]);
        }
    }
    Some(s)
}

/// Splits a leading `[  62279.421192]` uptime stamp (and one space after
/// it) off a message: the uptime in microseconds and the rest.
fn strip_uptime(m: &[u8]) -> (Option<u64>, &[u8]) {
    if m.first() != Some(&b'[') {
        return (None, m);
    }
    let Some(close) = memchr(b']', m) else {
        return (None, m);
    };
    match parse_uptime(&m[1..close]) {
        Some(us) => {
            let rest = &m[close + 1..];
            (Some(us), rest.strip_prefix(b" ").unwrap_or(rest))
        }
        None => (None, m),
    }
}

/// `  11208.086696` (leading spaces allowed) in microseconds.
fn parse_uptime(b: &[u8]) -> Option<u64> {
    let b = &b[b.iter().take_while(|&&c| c == b' ').count()..];
    let (secs, rest) = number(b)?;
    let frac = rest.strip_prefix(b".")?;
    if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut us = 0u64;
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |c| (c - b'0') as u64);
    }
    secs.checked_mul(1_000_000)?.checked_add(us)
}

/// One kernel line (or an `oom-kill:` line joined with the `Killed
/// process` line after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelRecord<'a> {
    /// The instant, when the form carries one and it can be resolved (see
    /// the module documentation).
    pub time: Option<Timestamp>,
    /// Microseconds since boot (raw `dmesg`, or a stamp inside a syslog
    /// kernel message).
    pub uptime_us: Option<u64>,
    /// The host of a syslog/journal line.
    pub host: Option<&'a [u8]>,
    /// The syslog identifier (`kernel`, or `systemd-journald` without its
    /// `[pid]`); `None` for `dmesg` forms, which are all kernel.
    pub ident: Option<&'a [u8]>,
    /// The message: the text after the prefix (for a joined record, the
    /// `Killed process` line's).
    pub message: &'a [u8],
    /// What the message says ([`KernelEvent::Other`] for non-kernel
    /// identifiers).
    pub event: KernelEvent<'a>,
    /// For yearless forms given a year, what re-dating across chunks needs.
    pub yearless: Option<Yearless>,
}

impl KernelRecord<'_> {
    /// Whether the line came from the kernel (every `dmesg` line; syslog
    /// lines whose identifier is `kernel`).
    pub fn is_kernel(&self) -> bool {
        self.ident.is_none_or(|i| i == b"kernel")
    }
}

/// Reads kernel log lines in every form of the module documentation.
#[derive(Debug, Clone)]
pub struct KernelParser {
    resolver: LocalResolver,
    year: Option<i64>,
    boot_time: Option<i64>,
    /// The month of the last yearless line (for New Year rollovers).
    prev_month: Option<u8>,
    /// New Years seen since the first yearless line of this chunk.
    rollovers: u32,
}

impl KernelParser {
    /// A parser resolving offset-less times (`dmesg -T`, syslog short) in
    /// `zone`. Raw `dmesg` lines are untimed and yearless lines are untimed
    /// until [`KernelParser::with_boot_time`] / [`KernelParser::with_year`].
    pub fn new(zone: Zone) -> KernelParser {
        KernelParser {
            resolver: LocalResolver::new(zone),
            year: None,
            boot_time: None,
            prev_month: None,
            rollovers: 0,
        }
    }

    /// Times raw `dmesg` lines as `boot_time` (seconds since the epoch) plus
    /// their seconds since boot.
    pub fn with_boot_time(mut self, unix_secs: i64) -> KernelParser {
        self.boot_time = Some(unix_secs);
        self
    }

    /// The year of yearless (syslog short) timestamps.
    pub fn with_year(mut self, year: i32) -> KernelParser {
        self.year = Some(year as i64);
        self
    }

    /// The zone offset (seconds east) in effect at `unix_secs`.
    fn offset_at(&self, unix_secs: i64) -> i32 {
        match self.resolver.zone() {
            Zone::Fixed(o) => o,
            Zone::Tz(tz) => {
                use chrono::{Offset, TimeZone};
                chrono::DateTime::from_timestamp(unix_secs, 0)
                    .map(|d| tz.offset_from_utc_datetime(&d.naive_utc()).fix())
                    .map_or(0, |o| o.local_minus_utc())
            }
        }
    }

    /// `[Tue Nov 24 11:18:02 2026]` contents as local seconds.
    fn dmesg_t(inner: &[u8]) -> Option<i64> {
        let mut it = inner.split(|&c| c == b' ').filter(|t| !t.is_empty());
        let _wday = it.next().filter(|w| w.len() == 3)?;
        let month = month_from_abbrev(it.next()?)?;
        let (day, r) = number(it.next()?)?;
        let clock = it.next()?;
        let (year, ry) = number(it.next()?)?;
        if !r.is_empty() || !ry.is_empty() || it.next().is_some() {
            return None;
        }
        let (h, m, s) = clock_of(clock)?.0;
        civil_to_secs(year as i64, month, day as u32, h, m, s)
    }

    /// One physical line.
    fn parse_line<'a>(&mut self, line: &'a [u8]) -> Result<KernelRecord<'a>, SkipReason> {
        let mut line = line;
        // `dmesg -r`: `<6>` before the stamp.
        if line.first() == Some(&b'<')
            && let Some(close) = memchr(b'>', &line[..line.len().min(6)])
            && close > 1
            && line[1..close].iter().all(u8::is_ascii_digit)
        {
            line = &line[close + 1..];
        }
        let mut rec = KernelRecord {
            time: None,
            uptime_us: None,
            host: None,
            ident: None,
            message: b"",
            event: KernelEvent::Other,
            yearless: None,
        };
        match line.first() {
            Some(b'[') => {
                let close = memchr(b']', line).ok_or(SkipReason::Truncated)?;
                let inner = &line[1..close];
                let rest = &line[close + 1..];
                rec.message = rest.strip_prefix(b" ").unwrap_or(rest);
                if let Some(us) = parse_uptime(inner) {
                    rec.uptime_us = Some(us);
                    if let Some(boot) = self.boot_time {
                        let unix_us = boot
                            .saturating_mul(1_000_000)
                            .saturating_add(us.min(i64::MAX as u64) as i64);
                        rec.time = Some(Timestamp {
                            unix_us,
                            offset_s: self.offset_at(unix_us.div_euclid(1_000_000)),
                        });
                    }
                } else if inner.first().is_some_and(u8::is_ascii_alphabetic) {
                    let local = Self::dmesg_t(inner).ok_or(SkipReason::BadTimestamp)?;
                    rec.time = Some(self.resolver.resolve(local));
                } else {
                    return Err(SkipReason::Unrecognized);
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let sp = memchr(b' ', line).ok_or(SkipReason::Truncated)?;
                let stamp = &line[..sp];
                let t = parse_iso8601(stamp).ok_or(SkipReason::BadTimestamp)?;
                rec.time = Some(t);
                let rest = &line[sp + 1..];
                if memchr(b',', stamp).is_some() {
                    // `dmesg --time-format iso`: no host, no identifier.
                    rec.message = rest;
                } else {
                    self.syslog_tail(rest, &mut rec)?;
                }
            }
            Some(c)
                if c.is_ascii_uppercase()
                    && line.get(..3).and_then(month_from_abbrev).is_none() =>
            {
                bare(line, &mut rec)?;
            }
            Some(c) if c.is_ascii_uppercase() => {
                // `Nov 24 11:18:02[.ffffff] host ident: message`.
                let month = line.get(..3).and_then(month_from_abbrev);
                let month = month.ok_or(SkipReason::Unrecognized)?;
                let r = line.get(3..).ok_or(SkipReason::Truncated)?;
                let r = &r[r.iter().take_while(|&&c| c == b' ').count()..];
                let (day, r) = number(r).ok_or(SkipReason::BadTimestamp)?;
                let r = r.strip_prefix(b" ").ok_or(SkipReason::BadTimestamp)?;
                let ((h, m, s), us, r) = clock_of(r).ok_or(SkipReason::BadTimestamp)?;
                if let Some(year) = self.year {
                    // A month far before the last one is the next year
                    // (the journal's rule; a chunk's count is completed
                    // when chunks are appended).
                    let m8 = month as u8;
                    if self.prev_month.is_some_and(|p| rolls_over(p, m8)) {
                        self.rollovers += 1;
                    }
                    self.prev_month = Some(m8);
                    let year = year + self.rollovers as i64;
                    rec.yearless = Some(Yearless {
                        month: m8,
                        rollovers: self.rollovers,
                        zone: self.resolver.zone(),
                    });
                    let local = civil_to_secs(year, month, day as u32, h, m, s)
                        .ok_or(SkipReason::BadTimestamp)?;
                    let mut t = self.resolver.resolve(local);
                    t.unix_us += us as i64;
                    rec.time = Some(t);
                } else if civil_to_secs(2000, month, day as u32, h, m, s).is_none() {
                    return Err(SkipReason::BadTimestamp);
                }
                let r = r.strip_prefix(b" ").ok_or(SkipReason::Truncated)?;
                self.syslog_tail(r, &mut rec)?;
            }
            _ => bare(line, &mut rec)?,
        }
        if rec.is_kernel() {
            if rec.ident.is_some() {
                let (up, m) = strip_uptime(rec.message);
                if up.is_some() {
                    rec.uptime_us = up;
                    rec.message = m;
                }
            }
            rec.event = classify(rec.message);
        }
        Ok(rec)
    }

    /// `host ident: message` or `host ident[pid]: message`.
    fn syslog_tail<'a>(&self, r: &'a [u8], rec: &mut KernelRecord<'a>) -> Result<(), SkipReason> {
        let sp = memchr(b' ', r).ok_or(SkipReason::Truncated)?;
        rec.host = Some(&r[..sp]);
        let r = &r[sp + 1..];
        let colon = memchr(b':', r).ok_or(SkipReason::Truncated)?;
        let tag = &r[..colon];
        if tag.is_empty() || memchr(b' ', tag).is_some() {
            return Err(SkipReason::Unrecognized);
        }
        rec.ident = Some(match memchr(b'[', tag) {
            Some(b) if tag.ends_with(b"]") => &tag[..b],
            _ => tag,
        });
        let m = &r[colon + 1..];
        rec.message = m.strip_prefix(b" ").unwrap_or(m);
        Ok(())
    }
}

/// A kernel message with no stamp at all (`dmesg -t`, or a paste with the
/// stamps cut off): kept, untimed, when it is one the classifier knows (an
/// OOM kill or its selection, a segfault); any other text is no kernel
/// line of ours.
fn bare<'a>(line: &'a [u8], rec: &mut KernelRecord<'a>) -> Result<(), SkipReason> {
    if matches!(classify(line), KernelEvent::Other) {
        return Err(SkipReason::Unrecognized);
    }
    rec.message = line;
    Ok(())
}

/// `HH:MM:SS[.ffffff]` at the start of `b`: the clock, microseconds and the rest.
#[allow(clippy::type_complexity)]
fn clock_of(b: &[u8]) -> Option<((u32, u32, u32), u32, &[u8])> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<u32> {
        let (x, y) = (b[i], b[i + 1]);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as u32)
    };
    let hms = (two(0)?, two(3)?, two(6)?);
    let mut rest = &b[8..];
    let mut us = 0u32;
    if let Some(f) = rest.strip_prefix(b".") {
        let n = f.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        for i in 0..6 {
            us = us * 10 + f.get(i).filter(|_| i < n).map_or(0, |c| (c - b'0') as u32);
        }
        rest = &f[n..];
    }
    Some((hms, us, rest))
}

/// Whether a line is the `Killed process` line of an OOM kill (cheap test,
/// used for framing: such a line may continue an `oom-kill:` line).
fn is_killed_line(line: &[u8]) -> bool {
    memmem::find(line, KILLED).is_some()
}

impl RecordParser for KernelParser {
    type Record<'a> = KernelRecord<'a>;

    /// An `oom-kill:` line and the `Killed process` line right after it
    /// form one record.
    const MULTILINE: bool = true;

    fn is_record_start(&self, line: &[u8]) -> bool {
        !is_killed_line(line)
    }

    fn continues(&self, head: &[u8], next: &[u8]) -> bool {
        memchr(b'\n', head).is_none()
            && memmem::find(head, OOM_KILL).is_some()
            && is_killed_line(next)
    }

    fn parse<'a>(&mut self, record: &'a [u8]) -> Result<KernelRecord<'a>, SkipReason> {
        let Some(nl) = memchr(b'\n', record) else {
            return self.parse_line(record);
        };
        let first = trim_cr(&record[..nl]);
        let second = &record[nl + 1..];
        let detail = self.parse_line(first);
        match self.parse_line(second) {
            Ok(mut rec) => {
                if let (Ok(d), KernelEvent::OomKill(k)) = (&detail, &mut rec.event)
                    && let KernelEvent::OomDetail(d) = d.event
                {
                    k.add_detail(&d);
                }
                Ok(rec)
            }
            Err(e) => detail.map_err(|_| e),
        }
    }
}

/// Counts of a kernel log (the `kernel` section of `baton stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelSummary {
    /// Records seen (an `oom-kill:` + `Killed process` pair is one record).
    pub records: u64,
    /// OOM kills (`Killed process` lines).
    pub oom_kills: u64,
    /// OOM kills whose victim is a PHP process (name starting with `php`).
    pub oom_kills_php_fpm: u64,
    /// OOM reports started (`invoked oom-killer`).
    pub oom_invocations: u64,
    /// `segfault at` lines.
    pub segfaults: u64,
    /// `segfault at` lines of PHP processes.
    pub segfaults_php_fpm: u64,
    /// Records of other syslog identifiers (not the kernel).
    pub non_kernel: u64,
    /// Records without a time (raw `dmesg` without a boot time, yearless
    /// lines without a year).
    pub untimed: u64,
    /// Times seen.
    pub range: TimeRange,
    /// The memory an OOM report says the killed processes had (bytes):
    /// the largest memory cgroup limit (`memory: usage NkB, limit NkB`),
    /// else the machine's RAM (`N pages RAM`, 4 KiB pages).
    pub memory_bytes: Option<u64>,
    /// Whether `memory_bytes` is a cgroup's limit (else the RAM).
    pub memory_is_cgroup: bool,
    /// Records by syslog host (kern.log, `journalctl -k` short forms).
    pub hosts: crate::hosts::Hosts,
    /// New Years of yearless lines, for appending chunks.
    years: Years,
}

impl KernelSummary {
    /// The years by which a later chunk's yearless times move when it is
    /// appended to this one, with their zone; `None` when nothing moves.
    pub fn redating(&self, later: &KernelSummary) -> Option<(u32, Zone)> {
        self.years.redating(&later.years)
    }

    /// Counts one record's event (for callers, such as the journal reader,
    /// that classify kernel messages themselves with [`classify`]).
    pub fn add_event(&mut self, ev: &KernelEvent<'_>, time: Option<Timestamp>) {
        self.records += 1;
        match ev {
            KernelEvent::OomKill(k) => {
                self.oom_kills += 1;
                self.oom_kills_php_fpm += k.is_php() as u64;
            }
            KernelEvent::OomInvoked { .. } => self.oom_invocations += 1,
            KernelEvent::Segfault(s) => {
                self.segfaults += 1;
                self.segfaults_php_fpm += s.is_php() as u64;
            }
            _ => {}
        }
        match time {
            Some(t) => self.range.add(t),
            None => self.untimed += 1,
        }
    }

    /// Notes the memory an OOM report's block states: a memory cgroup's
    /// limit (`memory: usage 1048576kB, limit 1048576kB, failcnt 6297`;
    /// the unlimited value, near 2^63, is no limit) or the RAM
    /// (`1048445 pages RAM`). A cgroup's limit beats the RAM.
    pub fn note_memory(&mut self, message: &[u8]) {
        let found = if let Some(rest) = message.strip_prefix(b"memory: usage ") {
            let Some(i) = memmem::find(rest, b", limit ") else {
                return;
            };
            let digits = &rest[i + 8..];
            let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 15 || !digits[n..].starts_with(b"kB") {
                return;
            }
            let kb: u64 = std::str::from_utf8(&digits[..n])
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            (kb > 0).then_some((kb * 1024, true))
        } else if let Some(head) = message.trim_ascii_end().strip_suffix(b" pages RAM") {
            let head = head.trim_ascii_start();
            if head.is_empty() || head.len() > 15 || !head.iter().all(u8::is_ascii_digit) {
                return;
            }
            let pages: u64 = std::str::from_utf8(head)
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            (pages > 0).then_some((pages * 4096, false))
        } else {
            None
        };
        let Some((bytes, cgroup)) = found else {
            return;
        };
        self.add_memory(bytes, cgroup);
    }

    fn add_memory(&mut self, bytes: u64, cgroup: bool) {
        let better = match (self.memory_bytes, self.memory_is_cgroup, cgroup) {
            (None, _, _) => true,
            (Some(_), false, true) => true,
            (Some(_), true, false) => false,
            (Some(m), _, _) => bytes > m,
        };
        if better {
            self.memory_bytes = Some(bytes);
            self.memory_is_cgroup = cgroup;
        }
    }

    /// Adds another summary's counts.
    pub fn merge(&mut self, other: &KernelSummary) {
        if let Some(m) = other.memory_bytes {
            self.add_memory(m, other.memory_is_cgroup);
        }
        self.records += other.records;
        self.oom_kills += other.oom_kills;
        self.oom_kills_php_fpm += other.oom_kills_php_fpm;
        self.oom_invocations += other.oom_invocations;
        self.segfaults += other.segfaults;
        self.segfaults_php_fpm += other.segfaults_php_fpm;
        self.non_kernel += other.non_kernel;
        self.untimed += other.untimed;
        self.range.merge(other.range);
        self.hosts.merge(&other.hosts);
    }
}

impl Sink<KernelParser> for KernelSummary {
    fn record(&mut self, r: KernelRecord<'_>, _loc: Loc) {
        if !r.is_kernel() {
            self.non_kernel += 1;
        }
        if let Some(h) = r.host {
            self.hosts.add(h, 1);
        }
        self.years.note(r.yearless, r.time.is_some());
        if matches!(r.event, KernelEvent::Other) && r.is_kernel() {
            self.note_memory(r.message);
        }
        self.add_event(&r.event, r.time);
    }

    fn append(&mut self, mut later: KernelSummary, _line_shift: u64) {
        // Re-date the later chunk by the New Years before it.
        if let Some((years, zone)) = self.redating(&later) {
            shift_range(&mut later.range, years, zone);
        }
        self.years.append(&later.years);
        self.merge(&later);
    }
}

#[cfg(test)]
mod tests;
