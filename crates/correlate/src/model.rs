//! The report's stable types: verdicts, causes, incidents. Field names and
//! order are the `baton.report.v1` document's (`CONTRACT.md`).

use std::collections::BTreeMap;

use baton_logparse::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Which kind of failure an incident was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// nginx could not reach php-fpm (or the upstream group).
    Connectivity,
    /// The pool was saturated.
    Capacity,
    /// Requests were slow in PHP, the database or an external API.
    Latency,
    /// Workers died mid-request.
    Crash,
    /// The edge failed while the origin was fine.
    Edge,
    /// The evidence is too thin.
    Unknown,
}

impl Verdict {
    /// Every verdict, in the contract's order.
    pub const ALL: [Verdict; 6] = [
        Verdict::Connectivity,
        Verdict::Capacity,
        Verdict::Latency,
        Verdict::Crash,
        Verdict::Edge,
        Verdict::Unknown,
    ];

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Connectivity => "connectivity",
            Verdict::Capacity => "capacity",
            Verdict::Latency => "latency",
            Verdict::Crash => "crash",
            Verdict::Edge => "edge",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict of a contract name.
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

/// Why an incident happened: the contract's closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Refused / socket missing while the FPM master stops and starts.
    FpmRestart,
    /// Refused / socket missing with no restart in sight.
    FpmDown,
    /// `(13: Permission denied)` on the socket.
    SocketPermission,
    /// Every server of the upstream group marked down.
    NoLiveUpstreams,
    /// `upstream sent too big header`.
    BufferConfig,
    /// Pool saturated with no dominant slow culprit.
    MaxChildren,
    /// Backlog full and no `max_children` line (a static pool).
    BacklogFull,
    /// Saturation driven by one path or admin-ajax action.
    RequestFlood,
    /// Slow traces blocking in an outbound call.
    ExternalCall,
    /// Slow traces blocking in a database call.
    Database,
    /// Slow traces blocking in PHP itself.
    SlowScript,
    /// Children dying on SIGSEGV/SIGBUS/SIGABRT.
    Segfault,
    /// Kernel OOM kills of FPM workers.
    OomKill,
    /// PHP fatal errors cutting responses short.
    FatalError,
    /// Edge gateway errors while the origin was fine.
    EdgeOnly,
    /// Evidence too thin.
    Unknown,
}

impl Cause {
    /// Every cause, in the contract's order.
    pub const ALL: [Cause; 16] = [
        Cause::FpmRestart,
        Cause::FpmDown,
        Cause::SocketPermission,
        Cause::NoLiveUpstreams,
        Cause::BufferConfig,
        Cause::MaxChildren,
        Cause::BacklogFull,
        Cause::RequestFlood,
        Cause::ExternalCall,
        Cause::Database,
        Cause::SlowScript,
        Cause::Segfault,
        Cause::OomKill,
        Cause::FatalError,
        Cause::EdgeOnly,
        Cause::Unknown,
    ];

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::FpmRestart => "fpm_restart",
            Cause::FpmDown => "fpm_down",
            Cause::SocketPermission => "socket_permission",
            Cause::NoLiveUpstreams => "no_live_upstreams",
            Cause::BufferConfig => "buffer_config",
            Cause::MaxChildren => "max_children",
            Cause::BacklogFull => "backlog_full",
            Cause::RequestFlood => "request_flood",
            Cause::ExternalCall => "external_call",
            Cause::Database => "database",
            Cause::SlowScript => "slow_script",
            Cause::Segfault => "segfault",
            Cause::OomKill => "oom_kill",
            Cause::FatalError => "fatal_error",
            Cause::EdgeOnly => "edge_only",
            Cause::Unknown => "unknown",
        }
    }

    /// The cause of a contract name.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The verdict this cause stands for.
    pub fn verdict(self) -> Verdict {
        match self {
            Cause::FpmRestart
            | Cause::FpmDown
            | Cause::SocketPermission
            | Cause::NoLiveUpstreams
            | Cause::BufferConfig => Verdict::Connectivity,
            Cause::MaxChildren | Cause::BacklogFull | Cause::RequestFlood => Verdict::Capacity,
            Cause::ExternalCall | Cause::Database | Cause::SlowScript => Verdict::Latency,
            Cause::Segfault | Cause::OomKill | Cause::FatalError => Verdict::Crash,
            Cause::EdgeOnly => Verdict::Edge,
            Cause::Unknown => Verdict::Unknown,
        }
    }

    /// The failed handoff.
    pub fn handoff(self) -> &'static str {
        match self {
            Cause::NoLiveUpstreams => "nginx -> upstream",
            Cause::ExternalCall => "php-fpm -> external API",
            Cause::Database => "php-fpm -> mysql",
            Cause::SlowScript => "php-fpm",
            Cause::Segfault | Cause::OomKill | Cause::FatalError => "php-fpm worker",
            Cause::EdgeOnly => "edge -> origin",
            Cause::Unknown => "unknown",
            _ => "nginx -> php-fpm",
        }
    }
}

/// The time window a report covers (RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The earliest instant read.
    pub start: Option<Timestamp>,
    /// The latest instant read.
    pub end: Option<Timestamp>,
}

/// How access-log gateway errors matched error-log upstream errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joins {
    /// Gateway errors (502/504) in the access logs.
    pub gateway_errors: u64,
    /// Of those, matched to an upstream error.
    pub matched_upstream_error: u64,
    /// Of those, with no upstream error found.
    pub unmatched_access: u64,
    /// Upstream errors matched to no access-log gateway error.
    pub unmatched_error_log: u64,
}

impl Joins {
    /// Adds another run's counts (another node, another window).
    pub fn add(&mut self, o: &Joins) {
        self.gateway_errors += o.gateway_errors;
        self.matched_upstream_error += o.matched_upstream_error;
        self.unmatched_access += o.unmatched_access;
        self.unmatched_error_log += o.unmatched_error_log;
    }
}

/// Totals over the whole window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests in the access logs.
    pub requests: u64,
    /// Gateway errors (502/504, or upstream errors where no access log
    /// covers the time).
    pub gateway_errors: u64,
    /// Requests answered 502.
    pub status_502: u64,
    /// Requests answered 504.
    pub status_504: u64,
    /// Edge gateway errors (Cloudflare).
    pub edge_gateway_errors: u64,
}

impl Totals {
    /// Adds another run's totals (another node, another window).
    pub fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.gateway_errors += o.gateway_errors;
        self.status_502 += o.status_502;
        self.status_504 += o.status_504;
        self.edge_gateway_errors += o.edge_gateway_errors;
    }
}

/// Request rates during an incident and outside incidents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestRate {
    /// Requests per second between the incident's start and end.
    pub incident_rps: f64,
    /// Requests per second outside incidents.
    pub background_rps: f64,
}

/// A path with its gateway errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopPath {
    /// The path without its query string.
    pub path: String,
    /// Gateway errors on it.
    pub count: u64,
    /// The admin-ajax `action`, for `admin-ajax.php`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// FPM and kernel evidence counted in an incident's window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FpmEvidence {
    /// `server reached pm.max_children setting`.
    pub max_children_reached: u64,
    /// Children that exited on a signal, by signal name.
    pub child_signals: BTreeMap<String, u64>,
    /// `executing too slow` lines.
    pub slow_requests: u64,
    /// `execution timed out` lines.
    pub execution_timeouts: u64,
    /// FPM master starts that were no reload.
    pub restarts: u64,
    /// Kernel OOM kills of FPM workers.
    pub oom_kills: u64,
}

/// Code that slow traces blocked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Culprit {
    /// Where the code lives: `plugin`, `mu_plugin`, `theme`, `core`, `other`.
    pub kind: String,
    /// The plugin or theme slug, or the file.
    pub name: String,
    /// What it was doing: `external_call`, `database`, `sleep`, `file_io`,
    /// `cpu`; absent for code named by PHP fatal errors rather than slow
    /// traces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// Traces blocking there (for fatal errors: the errors naming it).
    pub traces: u64,
    /// The deepest frame of the culprit's code, as printed.
    pub frame: String,
}

/// A log line cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// The input's path.
    pub file: String,
    /// Its line number (1-based).
    pub line: u64,
    /// When, in the report's zone; `None` for a line without a time
    /// (kernel lines as plain `dmesg` prints them), written as `""`.
    #[serde(serialize_with = "time_or_empty", deserialize_with = "empty_or_time")]
    pub time: Option<Timestamp>,
    /// The line, escaped and cut at 300 bytes.
    pub text: String,
}

/// An incident's `handoff` read back: one of the causes' handoffs.
fn handoff_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    crate::statics::one_of(d, "handoff", Cause::ALL.iter().map(|c| c.handoff()))
}

fn empty_or_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Ok(None);
    }
    baton_logparse::time::parse_iso8601(s.as_bytes())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
}

fn time_or_empty<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serde::Serialize::serialize(t, s),
        None => s.serialize_str(""),
    }
}

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// 1-based, in start order.
    pub id: u32,
    /// The node (machine) whose logs show it; set only when a run read
    /// several nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The first gateway error's time, in the report's zone.
    pub start: Timestamp,
    /// The last gateway error's time, in the report's zone.
    pub end: Timestamp,
    /// Gateway errors in the incident.
    pub gateway_errors: u64,
    /// Of those, 502s (edge 502s included for edge incidents).
    pub status_502: u64,
    /// Of those, 504s.
    pub status_504: u64,
    /// Requests the clients gave up on (499) in the same time.
    pub status_499: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// The cause.
    pub cause: Cause,
    /// Other causes the evidence also shows.
    pub contributing_causes: Vec<Cause>,
    /// How sure the verdict is, 0..1.
    pub confidence: f64,
    /// The failed handoff.
    #[serde(deserialize_with = "handoff_of")]
    pub handoff: crate::statics::Name,
    /// Request rates.
    pub request_rate: RequestRate,
    /// Hosts the gateway errors were for.
    pub hosts: Vec<String>,
    /// FPM pools involved.
    pub pools: Vec<String>,
    /// Upstreams nginx tried.
    pub upstreams: Vec<String>,
    /// Paths with the most gateway errors.
    pub top_paths: Vec<TopPath>,
    /// Upstream errors by kind.
    pub upstream_errors: BTreeMap<String, u64>,
    /// FPM and kernel evidence.
    pub fpm: FpmEvidence,
    /// Code the slow traces blocked in.
    pub culprits: Vec<Culprit>,
    /// Sentences, each with its counts and times.
    pub evidence: Vec<String>,
    /// Log lines behind the evidence.
    pub evidence_refs: Vec<EvidenceRef>,
    /// What to check or change next.
    pub next_steps: Vec<String>,
    /// Its failure modes in time order (one when the mode never changed).
    pub phases: Vec<Phase>,
    /// Causes its evidence excludes, each with the sentence that excludes
    /// it.
    pub ruled_out: Vec<RuledOut>,
    /// Rare events in the minutes before its first gateway error, nearest
    /// first: candidates for what changed.
    pub changes: Vec<Change>,
}

/// How a worker died, as an incident's headline names it
/// ([`Incident::deaths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Death {
    /// Killed by the kernel's OOM killer; `cgroup` when at a cgroup's
    /// memory limit (a service's `MemoryMax`) rather than the box's RAM.
    OomKill {
        /// The kill enforced a cgroup's limit.
        cgroup: bool,
    },
    /// Exited on a crash signal (`SIGSEGV`, `SIGBUS`, `SIGABRT`, ...).
    Crash(String),
    /// SIGKILLed with no OOM line though the kernel log was read: killed
    /// from outside (a person, a watchdog, a deploy script).
    KilledFromOutside,
    /// SIGKILLed with no kernel log to tell whether it was an OOM kill.
    Sigkill,
    /// Cut at `request_terminate_timeout` (a SIGTERM, or a SIGKILL, after
    /// `execution timed out`).
    TerminateTimeout,
}

impl Death {
    /// How the headline says it: `OOM-killed (cgroup)`, `SIGSEGV`,
    /// `SIGKILL from outside`, `request_terminate_timeout`.
    pub fn words(&self) -> String {
        match self {
            Death::OomKill { cgroup: true } => "OOM-killed (cgroup)".into(),
            Death::OomKill { cgroup: false } => "OOM-killed".into(),
            Death::Crash(signal) => signal.clone(),
            Death::KilledFromOutside => "SIGKILL from outside".into(),
            Death::Sigkill => "SIGKILL (no kernel log)".into(),
            Death::TerminateTimeout => "request_terminate_timeout".into(),
        }
    }
}

/// The evidence sentence's words for an OOM kill at a cgroup's limit;
/// [`Incident::deaths`] reads them back.
pub(crate) const AT_CGROUP_LIMIT: &str = "at the memory limit of cgroup ";
/// The evidence sentence's words for a SIGKILL no kernel log can explain.
pub(crate) const NO_KERNEL_LOG: &str = "no kernel log to tell an OOM kill";

/// The signals a worker crashes on.
const CRASH_SIGNALS: [&str; 5] = ["SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE"];

impl Incident {
    /// How its workers died, each way with its count, in the order OOM
    /// kills, crash signals, kills from outside, terminate timeouts.
    ///
    /// Counted from [`Incident::fpm`] alone (and its evidence sentences
    /// for the cgroup and a missing kernel log), so a report read back
    /// from JSON tells the same: a SIGTERM after an execution timeout is
    /// a terminate timeout (so is a SIGKILL after one left over), and a
    /// SIGKILL that no kernel OOM kill explains was sent from outside.
    pub fn deaths(&self) -> Vec<(u64, Death)> {
        let f = &self.fpm;
        let sig = |s: &str| f.child_signals.get(s).copied().unwrap_or(0);
        let by_term = f.execution_timeouts.min(sig("SIGTERM"));
        let by_kill = (f.execution_timeouts - by_term).min(sig("SIGKILL"));
        let kills = sig("SIGKILL") - by_kill;
        let said = |w: &str| self.evidence.iter().any(|e| e.contains(w));
        let mut v = Vec::new();
        if f.oom_kills > 0 {
            let cgroup = said(AT_CGROUP_LIMIT);
            v.push((f.oom_kills, Death::OomKill { cgroup }));
        }
        for s in CRASH_SIGNALS {
            v.push((sig(s), Death::Crash(s.to_owned())));
        }
        if f.oom_kills == 0 && said(NO_KERNEL_LOG) {
            v.push((kills, Death::Sigkill));
        } else {
            v.push((kills.saturating_sub(f.oom_kills), Death::KilledFromOutside));
        }
        v.push((by_term + by_kill, Death::TerminateTimeout));
        v.retain(|(n, _)| *n > 0);
        v
    }

    /// `4 workers died: 1 OOM-killed (cgroup), 1 SIGSEGV, ...` when its
    /// workers died more than one way; `None` otherwise.
    pub fn deaths_words(&self) -> Option<String> {
        let d = self.deaths();
        if d.len() < 2 {
            return None;
        }
        let n: u64 = d.iter().map(|x| x.0).sum();
        let each: Vec<String> = d
            .iter()
            .map(|(c, k)| format!("{c} {}", k.words()))
            .collect();
        Some(format!("{n} workers died: {}", each.join(", ")))
    }
}

/// How gateway errors failed during one phase of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseClass {
    /// The pool turned connections away or queued them until nginx gave
    /// up: errno 11, mixed with timeouts.
    Saturation,
    /// nginx waited for answers that came too late (`upstream timed out`).
    Timeout,
    /// `(111: Connection refused)` (and the socket vanishing with it).
    Refused,
    /// `(2: No such file or directory)` on the socket.
    MissingSocket,
    /// `(13: Permission denied)` on the socket.
    Permission,
    /// Resets and premature closes: the worker went away mid-request.
    BrokenConnection,
    /// Edge gateway errors.
    Edge,
    /// Anything else.
    Other,
}

impl PhaseClass {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseClass::Saturation => "saturation",
            PhaseClass::Timeout => "timeout",
            PhaseClass::Refused => "refused",
            PhaseClass::MissingSocket => "missing_socket",
            PhaseClass::Permission => "permission",
            PhaseClass::BrokenConnection => "broken_connection",
            PhaseClass::Edge => "edge",
            PhaseClass::Other => "other",
        }
    }
}

/// One failure mode of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Its first gateway error's time, in the report's zone.
    pub start: Timestamp,
    /// Its last gateway error's time, in the report's zone.
    pub end: Timestamp,
    /// How they failed.
    pub class: PhaseClass,
    /// Gateway errors in the phase.
    pub gateway_errors: u64,
    /// Their upstream errors by kind.
    pub upstream_errors: BTreeMap<String, u64>,
}

/// A cause the evidence excludes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuledOut {
    /// The verdict excluded.
    pub verdict: Verdict,
    /// The cause excluded (the verdict's most likely one).
    pub cause: Cause,
    /// The sentence that excludes it, with counts and times.
    pub why: String,
}

/// A rare event shortly before an incident: a candidate for what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When, in the report's zone.
    pub time: Timestamp,
    /// The input's path.
    pub file: String,
    /// Its line number (1-based).
    pub line: u64,
    /// The line, escaped and cut at 300 bytes.
    pub text: String,
    /// How long before the incident's first gateway error it was logged.
    pub seconds_before_first_error: i64,
}

/// A path with its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathCount {
    /// The path without its query string.
    pub path: String,
    /// Gateway errors on it.
    pub count: u64,
}

/// Recurring background failures of one cause (or one crash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The node (machine) whose logs show them; set only when a run read
    /// several nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// What caused them.
    pub cause: Cause,
    /// The cause's verdict.
    pub verdict: Verdict,
    /// Gateway errors of this cause outside incidents.
    pub count: u64,
    /// The first one's time, in the report's zone.
    pub first: Timestamp,
    /// The last one's time, in the report's zone.
    pub last: Timestamp,
    /// Paths, most errors first.
    pub paths: Vec<PathCount>,
    /// Worker pids behind them (crashes).
    pub pids: Vec<u32>,
    /// Sentences, each with its counts and times.
    pub evidence: Vec<String>,
    /// Log lines behind the evidence.
    pub evidence_refs: Vec<EvidenceRef>,
    /// What to check or change next.
    pub next_steps: Vec<String>,
}

/// Gateway errors in no incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// Their number.
    pub gateway_errors: u64,
    /// Recurring background failures by cause, most first.
    pub findings: Vec<Finding>,
}

/// Gateway errors in one minute (only minutes with any are listed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineMinute {
    /// The minute's start, unix seconds.
    pub t: i64,
    /// The minute's start, in the report's zone.
    pub minute: Timestamp,
    /// Origin 502s (and upstream errors standing for them).
    pub status_502: u64,
    /// Origin 504s.
    pub status_504: u64,
    /// Edge-only gateway errors.
    pub edge: u64,
    /// Requests in the access logs that minute.
    pub requests: u64,
}

impl TimelineMinute {
    /// Adds `m`, the same minute of another run, into the minutes by start.
    pub fn merge_into(minutes: &mut BTreeMap<i64, TimelineMinute>, m: &TimelineMinute) {
        let e = minutes.entry(m.t).or_insert_with(|| TimelineMinute {
            t: m.t,
            minute: m.minute,
            ..TimelineMinute::default()
        });
        e.status_502 += m.status_502;
        e.status_504 += m.status_504;
        e.edge += m.edge;
        e.requests += m.requests;
    }
}

/// FPM and kernel events per minute, for timelines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The minute's start, unix seconds.
    pub t: i64,
    /// The minute's start, in the report's zone.
    pub minute: Timestamp,
    /// `max_children`, `restart`, `reload`, `child_signal`, `oom_kill`,
    /// `segfault`, `slow_request`, `execution_timeout`, `slow_query` (the
    /// MySQL slow log), `php_fatal` (PHP fatal errors, from PHP's log or
    /// passed on by nginx).
    #[serde(deserialize_with = "crate::statics::mark_kind")]
    pub kind: crate::statics::Name,
    /// How many that minute.
    pub count: u64,
}

/// What the incidents of a fleet incident's nodes have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shared {
    /// The database their slow traces waited on.
    Database,
    /// The external API their slow traces waited on.
    ExternalApi,
    /// A deploy restarting php-fpm node after node.
    Deploy,
    /// The edge (Cloudflare) in front of them all.
    Edge,
    /// The same cause, no dependency named.
    Other,
}

impl Shared {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Shared::Database => "database",
            Shared::ExternalApi => "external_api",
            Shared::Deploy => "deploy",
            Shared::Edge => "edge",
            Shared::Other => "other",
        }
    }
}

/// Incidents of two or more nodes that overlap in time and share a cause
/// or a dependency: one failure seen from several machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetIncident {
    /// 1-based, in start order.
    pub id: u32,
    /// The first node incident's start.
    pub start: Timestamp,
    /// The last node incident's end.
    pub end: Timestamp,
    /// The nodes, in the order they failed.
    pub nodes: Vec<String>,
    /// The node that failed first.
    pub first_node: String,
    /// The node incidents' ids.
    pub incident_ids: Vec<u32>,
    /// The verdict they share.
    pub verdict: Verdict,
    /// The cause they share.
    pub cause: Cause,
    /// What they share.
    pub shared: Shared,
    /// Sentences, each with its counts and times.
    pub evidence: Vec<String>,
    /// What to check or change next, for the shared part.
    pub next_steps: Vec<String>,
}

/// Everything the correlator concludes; the CLI adds the schema, the zone
/// and the files to make the `baton.report.v1` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The window covered.
    pub window: Window,
    /// Problems with the inputs' alignment or coverage.
    pub warnings: Vec<String>,
    /// Join counts.
    pub joins: Joins,
    /// Totals.
    pub totals: Totals,
    /// Incidents of several nodes that overlap in time and share a cause
    /// or a dependency (empty for one node).
    pub fleet_incidents: Vec<FleetIncident>,
    /// The incidents, by start.
    pub incidents: Vec<Incident>,
    /// Gateway errors in no incident.
    pub background: Background,
    /// Gateway errors per minute (an addition to the contract's document).
    pub timeline: Vec<TimelineMinute>,
    /// FPM and kernel events per minute (an addition).
    pub marks: Vec<Mark>,
    /// Mistakes in the nginx and php-fpm configurations read.
    pub config_findings: Vec<crate::config_checks::ConfigFinding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_contract_table() {
        for c in Cause::ALL {
            assert_eq!(Cause::from_name(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_name(v.as_str()), Some(v));
        }
        assert_eq!(Cause::Database.handoff(), "php-fpm -> mysql");
        assert_eq!(Cause::OomKill.verdict(), Verdict::Crash);
        assert_eq!(Cause::EdgeOnly.handoff(), "edge -> origin");
        assert_eq!(Cause::BacklogFull.verdict(), Verdict::Capacity);
    }

    #[test]
    fn evidence_times_round_trip_and_an_untimed_line_is_an_empty_string() {
        let timed = EvidenceRef {
            file: "error.log".into(),
            line: 3,
            time: baton_logparse::time::parse_iso8601(b"2026-10-25T02:30:00+01:00"),
            text: "x".into(),
        };
        let untimed = EvidenceRef {
            time: None,
            ..timed.clone()
        };
        for (r, json_time) in [
            (&timed, "\"2026-10-25T02:30:00+01:00\""),
            (&untimed, "\"\""),
        ] {
            let json = serde_json::to_string(r).unwrap();
            assert!(json.contains(&format!("\"time\":{json_time}")), "{json}");
            let back: EvidenceRef = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, r);
        }
    }
}
