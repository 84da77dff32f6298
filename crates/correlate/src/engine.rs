//! The correlator: joins, clustering, evidence and verdicts.
//!
//! Everything here works on the events of interest (gateway errors,
//! upstream errors, FPM, slowlog, kernel and edge events) and the
//! per-minute [`Traffic`]; nothing grows with the number of requests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use baton_logparse::event::{MasterStep, Traffic};
use baton_logparse::fpm::slowlog::CallKind;
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::summary::TimeRange;
use baton_logparse::{Event, EventKind, Timestamp, Zone};

use crate::advice;
use crate::model::{
    Analysis, Background, Cause, Culprit, EvidenceRef, FpmEvidence, Incident, Joins, Mark,
    RequestRate, TimelineMinute, TopPath, Totals, Window,
};

/// Which logs were given: what the report can and cannot see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// An nginx access log.
    pub access: bool,
    /// An nginx error log.
    pub error: bool,
    /// The php-fpm log (file or journal).
    pub fpm: bool,
    /// A slowlog.
    pub slowlog: bool,
    /// A kernel log.
    pub kernel: bool,
    /// Cloudflare Logpush lines.
    pub edge: bool,
}

/// What the correlator reads.
#[derive(Debug, Default)]
pub struct Input {
    /// Every event, from every input (`file` indexes `files`).
    pub events: Vec<Event>,
    /// The inputs' paths, as shown.
    pub files: Vec<String>,
    /// Request volume over every access log.
    pub traffic: Traffic,
    /// The time each access log covers: outside it, upstream errors stand
    /// for gateway errors.
    pub access_ranges: Vec<TimeRange>,
    /// The window of everything read.
    pub window: TimeRange,
    /// Requests in the access logs.
    pub requests: u64,
    /// Which logs were given.
    pub coverage: Coverage,
}

/// How the correlator runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The zone times are shown in.
    pub zone: Zone,
    /// How far before a gateway error's request start causes are looked
    /// for, in seconds.
    pub window_s: u32,
    /// Evidence lines kept per incident.
    pub max_refs: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            zone: Zone::UTC,
            window_s: 60,
            max_refs: 12,
        }
    }
}

/// Gateway errors further apart than this start a new cluster.
const GAP_S: i64 = 90;
/// The fewest gateway errors an incident has.
const MIN_ERRORS: usize = 3;
/// Slack around an incident for lines logged just after its errors.
const SLACK_S: i64 = 5;
/// How far apart an access-log line and its error-log line may be logged.
const JOIN_S: i64 = 2;

const S: i64 = 1_000_000;

fn us(e: &Event) -> i64 {
    e.time.map_or(0, |t| t.unix_us)
}

/// Runs the correlator.
pub fn analyze(input: &Input, opts: &Options) -> Analysis {
    let ev = &input.events;
    let mut by_kind: HashMap<EventKind, Vec<usize>> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if let (Some(k), Some(_)) = (e.kind, e.time) {
            by_kind.entry(k).or_default().push(i);
        }
    }
    // Kernel lines without a clock (raw dmesg) join by pid only.
    let untimed_kernel: Vec<usize> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.time.is_none()
                && matches!(
                    e.kind,
                    Some(EventKind::KernelOomKill | EventKind::KernelSegfault)
                )
        })
        .map(|(i, _)| i)
        .collect();
    for v in by_kind.values_mut() {
        v.sort_by_key(|&i| (us(&ev[i]), ev[i].file, ev[i].line));
    }
    let get = |k: EventKind| by_kind.get(&k).map(Vec::as_slice).unwrap_or(&[]);

    // Gateway errors: 502/504 in the access logs; upstream errors where no
    // access log covers the time.
    let access_ge: Vec<usize> = get(EventKind::Request)
        .iter()
        .copied()
        .filter(|&i| ev[i].is_gateway_error())
        .collect();
    let upstream: Vec<usize> = get(EventKind::UpstreamError).to_vec();
    let covered = |t: i64| {
        input.access_ranges.iter().any(|r| match (r.first, r.last) {
            (Some(f), Some(l)) => t >= f.unix_us - SLACK_S * S && t <= l.unix_us + SLACK_S * S,
            _ => false,
        })
    };
    let (matched_up, ge_match) = join(ev, &access_ge, &upstream);
    let ge_of: HashMap<usize, usize> = access_ge
        .iter()
        .zip(&ge_match)
        .filter_map(|(&g, m)| m.map(|u| (g, u)))
        .collect();
    let mut warnings = Vec::new();
    if let Some(w) = zone_mismatch(ev, &access_ge, &upstream, matched_up.len(), opts.zone) {
        warnings.push(w);
    }
    let mut gateway: Vec<usize> = access_ge.clone();
    let mut standalone = 0u64;
    for &u in &upstream {
        if !matched_up.contains(&u) && !covered(us(&ev[u])) {
            gateway.push(u);
            standalone += 1;
        }
    }
    // Edge gateway errors whose origin failed nowhere in our logs.
    let edge_ge: Vec<usize> = get(EventKind::EdgeRequest)
        .iter()
        .copied()
        .filter(|&i| {
            ev[i]
                .status
                .is_some_and(baton_logparse::cloudflare::is_gateway_status)
        })
        .collect();
    let origin_failed: BTreeSet<&[u8]> = access_ge
        .iter()
        .filter_map(|&i| ev[i].ray_id.as_deref())
        .collect();
    let edge_only: Vec<usize> = edge_ge
        .iter()
        .copied()
        .filter(|&i| {
            let e = &ev[i];
            let origin_ok = e.origin_status.is_none_or(|s| s < 500);
            let failed_here = e
                .ray_id
                .as_deref()
                .is_some_and(|r| origin_failed.contains(r))
                || near_origin_failure(ev, &access_ge, e);
            origin_ok && !failed_here
        })
        .collect();
    gateway.extend(edge_only.iter().copied());
    gateway.sort_by_key(|&i| (us(&ev[i]), ev[i].file, ev[i].line));

    // Clusters: groups well above the background rate are incidents;
    // smaller ones only when workers crashed behind them.
    let mut class: HashMap<usize, Class> = HashMap::new();
    for (&g, m) in access_ge.iter().zip(&ge_match) {
        if let Some(c) = m.and_then(|u| ev[u].upstream_kind).map(class_of) {
            class.insert(g, c);
        }
    }
    for &g in &gateway {
        if let Some(k) = ev[g].upstream_kind {
            class.insert(g, class_of(k));
        } else if ev[g].kind == Some(EventKind::EdgeRequest) {
            class.insert(g, Class::Edge);
        }
    }
    let groups = cluster(ev, &gateway, &class, input);
    let incident_minutes: BTreeSet<i64> = groups
        .iter()
        .filter(|(_, qualified)| *qualified)
        .flat_map(|(c, _)| {
            let (a, b) = (us(&ev[c[0]]) / S, us(&ev[*c.last().unwrap_or(&c[0])]) / S);
            (a.div_euclid(60)..=b.div_euclid(60)).collect::<Vec<_>>()
        })
        .collect();
    let ctx = Ctx {
        ev,
        input,
        opts,
        by_kind: &by_kind,
        untimed_kernel: &untimed_kernel,
        ge_match: &ge_of,
        upstream_set: upstream.iter().copied().collect(),
        matched_up: &matched_up,
        incident_minutes: &incident_minutes,
    };
    let mut incidents: Vec<Incident> = Vec::new();
    let mut in_incident = 0usize;
    for (members, qualified) in &groups {
        let inc = ctx.incident(incidents.len() as u32 + 1, members);
        if *qualified || matches!(inc.cause, Cause::Segfault | Cause::OomKill) {
            in_incident += members.len();
            incidents.push(inc);
        }
    }

    let status = |s: u16| {
        access_ge
            .iter()
            .filter(|&&i| ev[i].status == Some(s))
            .count() as u64
    };
    let window = Window {
        start: input.window.first.map(|t| opts.zone.rfc3339(t)),
        end: input.window.last.map(|t| opts.zone.rfc3339(t)),
    };
    if gateway.is_empty() && input.window.first.is_some() {
        let mut w = format!(
            "no gateway errors in the origin logs between {} and {}",
            window.start.as_deref().unwrap_or("?"),
            window.end.as_deref().unwrap_or("?")
        );
        if !input.coverage.edge {
            w.push_str(
                ": if users saw 502/504s then, the edge's own logs (Cloudflare Logpush) would settle whether the edge failed",
            );
        }
        warnings.push(w);
    }
    Analysis {
        window,
        warnings,
        joins: Joins {
            gateway_errors: access_ge.len() as u64,
            matched_upstream_error: ge_match.iter().filter(|m| m.is_some()).count() as u64,
            unmatched_access: ge_match.iter().filter(|m| m.is_none()).count() as u64,
            unmatched_error_log: (upstream.len() - matched_up.len()) as u64,
        },
        totals: Totals {
            requests: input.requests,
            gateway_errors: access_ge.len() as u64 + standalone,
            status_502: status(502),
            status_504: status(504),
            edge_gateway_errors: edge_ge.len() as u64,
        },
        incidents,
        background: Background {
            gateway_errors: (gateway.len() - in_incident) as u64,
            findings: Vec::new(),
        },
        timeline: timeline(ev, &gateway, &input.traffic, opts.zone),
        marks: marks(ev, &by_kind, opts.zone),
    }
}

fn minute_of(e: &Event) -> i64 {
    (us(e) / S).div_euclid(60) * 60
}

fn minute_str(zone: Zone, t: i64) -> String {
    zone.rfc3339(Timestamp::from_unix(t, 0))
}

/// Gateway errors per minute.
fn timeline(ev: &[Event], gateway: &[usize], traffic: &Traffic, zone: Zone) -> Vec<TimelineMinute> {
    let mut m: BTreeMap<i64, TimelineMinute> = BTreeMap::new();
    for &g in gateway {
        let t = minute_of(&ev[g]);
        let row = m.entry(t).or_insert_with(|| TimelineMinute {
            t,
            minute: minute_str(zone, t),
            requests: traffic.minutes.get(&(t / 60)).map_or(0, |x| x.requests),
            ..TimelineMinute::default()
        });
        match (ev[g].kind, status_of(&ev[g])) {
            (Some(EventKind::EdgeRequest), _) => row.edge += 1,
            (_, Some(504)) => row.status_504 += 1,
            _ => row.status_502 += 1,
        }
    }
    m.into_values().collect()
}

/// FPM and kernel events per minute.
fn marks(ev: &[Event], by_kind: &HashMap<EventKind, Vec<usize>>, zone: Zone) -> Vec<Mark> {
    let mut m: BTreeMap<(i64, &'static str), u64> = BTreeMap::new();
    for (k, list) in by_kind {
        for &i in list {
            let e = &ev[i];
            let kind = match k {
                EventKind::FpmMaxChildren => "max_children",
                EventKind::FpmRestart if e.step == Some(MasterStep::Start) => "restart",
                EventKind::FpmReload if e.step == Some(MasterStep::Reload) => "reload",
                EventKind::FpmChildExit if e.signal.is_some() => "child_signal",
                EventKind::FpmSlowRequest => "slow_request",
                EventKind::FpmExecutionTimeout => "execution_timeout",
                EventKind::KernelOomKill => "oom_kill",
                EventKind::KernelSegfault => "segfault",
                _ => continue,
            };
            *m.entry((minute_of(e), kind)).or_default() += 1;
        }
    }
    m.into_iter()
        .map(|((t, kind), count)| Mark {
            t,
            minute: minute_str(zone, t),
            kind,
            count,
        })
        .collect()
}

/// An edge gateway error the origin also failed: an access-log gateway
/// error on the same path within the join slack.
fn near_origin_failure(ev: &[Event], access_ge: &[usize], e: &Event) -> bool {
    let t = us(e);
    let lo = access_ge.partition_point(|&i| us(&ev[i]) < t - JOIN_S * S);
    access_ge[lo..]
        .iter()
        .take_while(|&&i| us(&ev[i]) <= t + 70 * S)
        .any(|&i| ev[i].path == e.path)
}

/// Matches access-log gateway errors to error-log upstream errors: by
/// connection number when both have it, else by client and path within
/// [`JOIN_S`]. Returns the matched upstream errors and, per access gateway
/// error, its match.
fn join(
    ev: &[Event],
    access_ge: &[usize],
    upstream: &[usize],
) -> (BTreeSet<usize>, Vec<Option<usize>>) {
    let mut used = BTreeSet::new();
    let mut by_conn: HashMap<u64, Vec<usize>> = HashMap::new();
    for &u in upstream {
        if let Some(c) = ev[u].connection {
            by_conn.entry(c).or_default().push(u);
        }
    }
    let mut out = Vec::with_capacity(access_ge.len());
    for &g in access_ge {
        let e = &ev[g];
        let t = us(e);
        let span = e.seconds.map_or(0, |s| (s * 1e6) as i64);
        let mut found = None;
        if let Some(c) = e.connection
            && let Some(list) = by_conn.get(&c)
        {
            found = list.iter().copied().find(|&u| {
                let tu = us(&ev[u]);
                !used.contains(&u)
                    && tu >= t.saturating_sub(span).saturating_sub(JOIN_S * S)
                    && tu <= t + JOIN_S * S
            });
        }
        if found.is_none() {
            found = find_near(ev, upstream, e, t, 0, &used);
        }
        if let Some(u) = found {
            used.insert(u);
        }
        out.push(found);
    }
    (used, out)
}

/// The first unused upstream error within [`JOIN_S`] of `t + shift` with
/// the same client and path (where both sides have them).
fn find_near(
    ev: &[Event],
    upstream: &[usize],
    e: &Event,
    t: i64,
    shift: i64,
    used: &BTreeSet<usize>,
) -> Option<usize> {
    let lo = upstream.partition_point(|&u| us(&ev[u]) + shift < t - JOIN_S * S);
    upstream[lo..]
        .iter()
        .copied()
        .take_while(|&u| us(&ev[u]) + shift <= t + JOIN_S * S)
        .find(|&u| {
            let x = &ev[u];
            !used.contains(&u) && same(&x.path, &e.path) && same(&x.client, &e.client)
        })
}

fn same(a: &Option<Box<[u8]>>, b: &Option<Box<[u8]>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// When few gateway errors match, tries whole and half-hour shifts of the
/// error log: a clear winner means the offset-less logs were read in the
/// wrong zone.
fn zone_mismatch(
    ev: &[Event],
    access_ge: &[usize],
    upstream: &[usize],
    matched: usize,
    zone: Zone,
) -> Option<String> {
    let n = access_ge.len().min(upstream.len());
    if n < 5 || matched * 2 >= n {
        return None;
    }
    let sample: Vec<usize> = access_ge
        .iter()
        .copied()
        .step_by((access_ge.len() / 200).max(1))
        .collect();
    let score = |shift: i64| {
        let used = BTreeSet::new();
        sample
            .iter()
            .filter(|&&g| find_near(ev, upstream, &ev[g], us(&ev[g]), shift, &used).is_some())
            .count()
    };
    let base = score(0);
    let (best, best_n) = (-28..=28i64)
        .filter(|h| *h != 0)
        .map(|h| (h * 1800, score(h * 1800 * S)))
        .max_by_key(|(h, n)| (*n, -h.abs()))?;
    if best_n * 2 < sample.len() || best_n < 2 * base.max(1) {
        return None;
    }
    let t = upstream.first().and_then(|&u| ev[u].time)?;
    let suggested = zone.offset_at(t.unix_secs()) as i64 - best;
    let hours = best as f64 / 3600.0;
    Some(format!(
        "error-log times line up with the access log only shifted by {hours:+} h ({best_n} of {} sampled gateway errors match then, {base} as read): the offset-less logs were probably written in another zone; try --tz {}",
        sample.len(),
        fmt_offset(suggested as i32)
    ))
}

/// `+01:00`.
pub fn fmt_offset(o: i32) -> String {
    let sign = if o < 0 { '-' } else { '+' };
    let a = o.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// What kind of failure a gateway error shows, for telling apart
/// failures that follow each other closely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Saturation,
    Broken,
    Down,
    Permission,
    Other,
    Edge,
}

fn class_of(k: UpstreamKind) -> Class {
    match k {
        UpstreamKind::ConnectEagain | UpstreamKind::TimedOut | UpstreamKind::ConnectTimedOut => {
            Class::Saturation
        }
        UpstreamKind::PrematureClose | UpstreamKind::ResetByPeer => Class::Broken,
        UpstreamKind::ConnectRefused
        | UpstreamKind::ConnectEnoent
        | UpstreamKind::NoLiveUpstreams => Class::Down,
        UpstreamKind::ConnectEacces => Class::Permission,
        _ => Class::Other,
    }
}

/// A change of failure class after a pause this long starts a new group.
const CLASS_GAP_S: i64 = 1;

/// Groups gateway errors by time: a gap over [`GAP_S`] splits, and so does
/// a lasting change of failure class after a pause of [`CLASS_GAP_S`]. A
/// group qualifies as an incident when it has at least [`MIN_ERRORS`]
/// errors at a rate well above the background's (the isolated errors').
fn cluster(
    ev: &[Event],
    gateway: &[usize],
    class: &HashMap<usize, Class>,
    input: &Input,
) -> Vec<(Vec<usize>, bool)> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Option<Class> = None;
    for (n, &g) in gateway.iter().enumerate() {
        let gap = groups
            .last()
            .and_then(|l| l.last())
            .map(|&p| us(&ev[g]) - us(&ev[p]));
        let c = class.get(&g).copied();
        // The class holds for the next errors too (not a stray one).
        let lasting = || {
            gateway[n + 1..]
                .iter()
                .filter_map(|i| class.get(i))
                .take(2)
                .all(|x| Some(*x) == c)
        };
        let split = match gap {
            None => true,
            Some(gap) if gap > GAP_S * S => true,
            Some(gap) => {
                gap >= CLASS_GAP_S * S
                    && c.is_some()
                    && current.is_some()
                    && c != current
                    && lasting()
            }
        };
        if split {
            groups.push(vec![g]);
            current = c;
        } else if let Some(last) = groups.last_mut() {
            last.push(g);
            current = current.or(c);
        }
    }
    let span_s = match (input.window.first, input.window.last) {
        (Some(a), Some(b)) => ((b.unix_us - a.unix_us) / S).max(3600),
        _ => 3600,
    } as f64;
    let isolated: usize = groups
        .iter()
        .filter(|g| g.len() < MIN_ERRORS)
        .map(Vec::len)
        .sum();
    let background_rate = (isolated.max(1) as f64) / span_s;
    groups
        .into_iter()
        .map(|g| {
            let dur = ((us(&ev[*g.last().unwrap_or(&g[0])]) - us(&ev[g[0]])) / S).max(60) as f64;
            let qualified = g.len() >= MIN_ERRORS && g.len() as f64 / dur >= 10.0 * background_rate;
            (g, qualified)
        })
        .collect()
}

struct Ctx<'a> {
    ev: &'a [Event],
    input: &'a Input,
    opts: &'a Options,
    by_kind: &'a HashMap<EventKind, Vec<usize>>,
    untimed_kernel: &'a [usize],
    /// Access-log gateway error → its upstream error.
    ge_match: &'a HashMap<usize, usize>,
    upstream_set: BTreeSet<usize>,
    matched_up: &'a BTreeSet<usize>,
    incident_minutes: &'a BTreeSet<i64>,
}

/// What an incident's window holds, gathered before the verdict.
#[derive(Default)]
pub(crate) struct Gathered {
    pub upstream: Vec<usize>,
    pub up_kinds: BTreeMap<UpstreamKind, u64>,
    pub max_children: Vec<usize>,
    pub seems_busy: Vec<usize>,
    pub exits: Vec<usize>,
    pub crash_exits: Vec<usize>,
    pub kill_exits: Vec<usize>,
    pub timeout_pids: BTreeSet<u32>,
    pub slow: Vec<usize>,
    pub timeouts: Vec<usize>,
    pub traces: Vec<usize>,
    pub oom_php: Vec<usize>,
    pub oom_other: Vec<usize>,
    pub segv_kernel: Vec<usize>,
    pub master_stop: Vec<usize>,
    pub master_start: Vec<usize>,
    pub reloads: Vec<usize>,
    pub restarts: u64,
    pub fatal: Vec<usize>,
    pub status_499: u64,
    pub edge: Vec<usize>,
    pub origin: Vec<usize>,
}

impl Ctx<'_> {
    fn kind(&self, k: EventKind) -> &[usize] {
        self.by_kind.get(&k).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The events of kind `k` logged in `[from, to]` (microseconds).
    fn between(&self, k: EventKind, from: i64, to: i64) -> &[usize] {
        let v = self.kind(k);
        let lo = v.partition_point(|&i| us(&self.ev[i]) < from);
        let hi = v.partition_point(|&i| us(&self.ev[i]) <= to);
        &v[lo..hi]
    }

    fn fmt_time(&self, t: Option<Timestamp>) -> String {
        t.map(|t| self.opts.zone.rfc3339(t)).unwrap_or_default()
    }

    fn incident(&self, id: u32, members: &[usize]) -> Incident {
        let ev = self.ev;
        let first = &ev[members[0]];
        let last = &ev[*members.last().unwrap_or(&members[0])];
        let (start, end) = (us(first), us(last));
        let earliest_start = members
            .iter()
            .filter_map(|&i| ev[i].start())
            .map(|t| t.unix_us)
            .min()
            .unwrap_or(start);
        let w = self.opts.window_s as i64 * S;
        let from = earliest_start - w;
        let to = end + SLACK_S * S;
        let mut g = Gathered::default();

        // Upstream errors: the ones matched to members, and the unmatched
        // ones logged during the incident.
        let mut ups = BTreeSet::new();
        for &m in members {
            if self.upstream_set.contains(&m) {
                ups.insert(m);
            }
            if let Some(u) = self.ge_match.get(&m) {
                ups.insert(*u);
            }
        }
        for &u in self.between(EventKind::UpstreamError, start - S, end + S) {
            if !self.matched_up.contains(&u) {
                ups.insert(u);
            }
        }
        g.upstream = ups.into_iter().collect();
        g.upstream.sort_by_key(|&i| us(&ev[i]));
        for &u in &g.upstream {
            if let Some(k) = ev[u].upstream_kind {
                *g.up_kinds.entry(k).or_default() += 1;
            }
            if ev[u].fatal {
                g.fatal.push(u);
            }
        }

        // FPM events.
        g.max_children = self.between(EventKind::FpmMaxChildren, from, to).to_vec();
        g.seems_busy = self.between(EventKind::FpmSeemsBusy, from, to).to_vec();
        g.slow = self.between(EventKind::FpmSlowRequest, from, to).to_vec();
        g.timeouts = self
            .between(EventKind::FpmExecutionTimeout, from, to)
            .to_vec();
        g.timeout_pids = g.timeouts.iter().filter_map(|&i| ev[i].pid).collect();
        g.exits = self.between(EventKind::FpmChildExit, from, to).to_vec();
        for &x in &g.exits {
            let e = &ev[x];
            match e.signal.as_deref() {
                Some("SIGSEGV" | "SIGBUS" | "SIGABRT" | "SIGILL" | "SIGFPE") => {
                    g.crash_exits.push(x)
                }
                Some("SIGKILL") => g.kill_exits.push(x),
                _ => {}
            }
        }
        g.fatal.extend(
            self.between(EventKind::FpmOther, from, to)
                .iter()
                .copied()
                .filter(|&i| ev[i].fatal),
        );
        g.traces = self.between(EventKind::SlowlogTrace, from, to).to_vec();

        // Kernel: in the window, or anywhere near it when the pid is a
        // child that died (dmesg -T clocks drift).
        let exit_pids: BTreeSet<u32> = g.exits.iter().filter_map(|&i| ev[i].pid).collect();
        let near = |k: EventKind| -> Vec<usize> {
            let by_pid = |i: &usize| ev[*i].pid.is_some_and(|p| exit_pids.contains(&p));
            let mut v: Vec<usize> = self
                .between(k, from - 600 * S, to + 600 * S)
                .iter()
                .copied()
                .filter(|i| {
                    let t = us(&ev[*i]);
                    (t >= from && t <= to) || by_pid(i)
                })
                .collect();
            v.extend(
                self.untimed_kernel
                    .iter()
                    .copied()
                    .filter(|i| ev[*i].kind == Some(k) && by_pid(i)),
            );
            v
        };
        for i in near(EventKind::KernelOomKill) {
            if is_php(&ev[i]) {
                g.oom_php.push(i);
            } else {
                g.oom_other.push(i);
            }
        }
        g.segv_kernel = near(EventKind::KernelSegfault)
            .into_iter()
            .filter(|&i| is_php(&ev[i]))
            .collect();

        // The master's life: stops before the last error, starts (the
        // recovery) up to a window after it.
        let (mfrom, mto) = (earliest_start - w, end + w);
        for k in [EventKind::FpmRestart, EventKind::FpmReload] {
            for &i in self.between(k, mfrom, mto) {
                match ev[i].step {
                    Some(MasterStep::Stop) if us(&ev[i]) <= end => g.master_stop.push(i),
                    Some(MasterStep::Start) => g.master_start.push(i),
                    Some(MasterStep::Reload) => g.reloads.push(i),
                    _ => {}
                }
            }
        }
        g.restarts = g
            .master_start
            .iter()
            .filter(|&&s| {
                let t = us(&ev[s]);
                !g.reloads
                    .iter()
                    .any(|&r| us(&ev[r]) <= t && t - us(&ev[r]) <= 10 * S)
            })
            .count() as u64;

        g.status_499 = self
            .between(EventKind::Request, start, end)
            .iter()
            .filter(|&&i| ev[i].status == Some(499))
            .count() as u64;
        for &m in members {
            if ev[m].kind == Some(EventKind::EdgeRequest) {
                g.edge.push(m);
            } else {
                g.origin.push(m);
            }
        }

        // Counts.
        let count_status = |s: u16| {
            members
                .iter()
                .filter(|&&i| status_of(&ev[i]) == Some(s))
                .count() as u64
        };
        let mut top: BTreeMap<(Vec<u8>, Vec<u8>), u64> = BTreeMap::new();
        for &m in members {
            if let Some(p) = &ev[m].path {
                let a = ev[m].action.as_deref().unwrap_or(b"").to_vec();
                *top.entry((p.to_vec(), a)).or_default() += 1;
            }
        }
        let mut top: Vec<_> = top.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top_paths: Vec<TopPath> = top
            .iter()
            .take(5)
            .map(|((p, a), n)| TopPath {
                path: lossy(p),
                count: *n,
                action: (!a.is_empty()).then(|| lossy(a)),
            })
            .collect();
        let mut culprits = culprits(ev, &g.traces);
        if culprits.is_empty() {
            culprits = fatal_culprits(ev, &g.fatal);
        }
        let rate = self.request_rate(start, end);
        let flood = self.flood(start, end);

        let decision = advice::decide(
            &g,
            ev,
            &culprits,
            flood.as_ref(),
            members.len(),
            count_status(504),
            self.input.coverage,
        );
        let mut incident = Incident {
            id,
            start: self.fmt_time(first.time),
            end: self.fmt_time(last.time),
            gateway_errors: members.len() as u64,
            status_502: count_status(502),
            status_504: count_status(504),
            status_499: g.status_499,
            verdict: decision.cause.verdict(),
            cause: decision.cause,
            contributing_causes: decision.contributing.clone(),
            confidence: decision.confidence,
            handoff: decision.cause.handoff(),
            request_rate: rate,
            hosts: distinct(members.iter().filter_map(|&i| ev[i].host.as_deref())),
            pools: distinct(
                g.max_children
                    .iter()
                    .chain(&g.exits)
                    .chain(&g.traces)
                    .chain(&g.slow)
                    .filter_map(|&i| ev[i].pool.as_deref()),
            ),
            upstreams: distinct(
                g.upstream
                    .iter()
                    .filter_map(|&i| ev[i].upstream.as_deref())
                    .map(trim_upstream),
            ),
            top_paths,
            upstream_errors: g
                .up_kinds
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), *n))
                .collect(),
            fpm: FpmEvidence {
                max_children_reached: g.max_children.len() as u64,
                child_signals: {
                    let mut m = BTreeMap::new();
                    for &x in &g.exits {
                        if let Some(s) = &ev[x].signal {
                            *m.entry(s.to_string()).or_default() += 1;
                        }
                    }
                    m
                },
                slow_requests: g.slow.len() as u64,
                execution_timeouts: g.timeouts.len() as u64,
                restarts: g.restarts,
                oom_kills: g.oom_php.len() as u64,
            },
            culprits,
            evidence: Vec::new(),
            evidence_refs: Vec::new(),
            next_steps: Vec::new(),
            phases: Vec::new(),
            ruled_out: Vec::new(),
            changes: Vec::new(),
        };
        let refs = advice::write(
            &mut incident,
            &g,
            ev,
            &decision,
            flood.as_ref(),
            &|t| self.fmt_time(t),
            self.input.coverage,
        );
        incident.evidence_refs = refs
            .into_iter()
            .filter(|&i| ev[i].time.is_some())
            .take(self.opts.max_refs)
            .map(|i| EvidenceRef {
                file: self
                    .input
                    .files
                    .get(ev[i].file as usize)
                    .cloned()
                    .unwrap_or_default(),
                line: ev[i].line,
                time: self.fmt_time(ev[i].time),
                text: escape(&ev[i].text),
            })
            .collect();
        incident
    }

    /// Requests per second during `[start, end]` and outside incidents.
    fn request_rate(&self, start: i64, end: i64) -> RequestRate {
        let t = &self.input.traffic;
        let (a, b) = ((start / S).div_euclid(60), (end / S).div_euclid(60));
        let minutes = (b - a + 1) as f64;
        let n: u64 = t.minutes.range(a..=b).map(|(_, m)| m.requests).sum();
        let (bg_n, bg_m) = t
            .minutes
            .iter()
            .filter(|(k, _)| !self.incident_minutes.contains(k))
            .fold((0u64, 0u64), |(n, c), (_, m)| (n + m.requests, c + 1));
        let round = |x: f64| (x * 100.0).round() / 100.0;
        RequestRate {
            incident_rps: round(n as f64 / (minutes * 60.0)),
            background_rps: if bg_m == 0 {
                0.0
            } else {
                round(bg_n as f64 / (bg_m as f64 * 60.0))
            },
        }
    }

    /// A path or admin-ajax action whose rate rose far above its
    /// background rate and carried the rise.
    fn flood(&self, start: i64, end: i64) -> Option<Flood> {
        let t = &self.input.traffic;
        if t.minutes.is_empty() {
            return None;
        }
        let (a, b) = ((start / S).div_euclid(60), (end / S).div_euclid(60));
        let inc_minutes = (b - a + 1) as f64;
        let mut inc: BTreeMap<(&[u8], &[u8]), u64> = BTreeMap::new();
        let mut inc_dynamic = 0u64;
        for (_, m) in t.minutes.range(a..=b) {
            inc_dynamic += m.requests - m.static_requests;
            for p in &m.top {
                *inc.entry((&p.path, &p.action)).or_default() += p.count;
            }
        }
        let (key, n) = inc
            .iter()
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))?;
        // The busiest path's count outside incidents.
        let mut bg_n = 0u64;
        let mut bg_minutes = 0u64;
        let mut bg_dynamic = 0u64;
        for (k, m) in &t.minutes {
            if self.incident_minutes.contains(k) {
                continue;
            }
            bg_minutes += 1;
            bg_dynamic += m.requests - m.static_requests;
            bg_n += m
                .top
                .iter()
                .filter(|p| p.path == key.0 && p.action == key.1)
                .map(|p| p.count)
                .sum::<u64>();
        }
        if bg_minutes == 0 || inc_dynamic == 0 {
            return None;
        }
        let bg_minutes = bg_minutes as f64;
        let rise = inc_dynamic as f64 / inc_minutes - bg_dynamic as f64 / bg_minutes;
        let inc_rate = *n as f64 / inc_minutes;
        let bg_rate = bg_n as f64 / bg_minutes;
        let ratio = inc_rate / bg_rate.max(1.0 / bg_minutes);
        let share = *n as f64 / inc_dynamic as f64;
        let carried = inc_rate - bg_rate;
        // Enough history and volume to speak of a rate at all.
        let enough = bg_minutes >= 10.0 && inc_rate >= 30.0;
        // The path carried most of the rise in traffic, at several times
        // its usual rate.
        (enough && ratio >= 3.0 && share >= 0.1 && rise > 0.0 && carried >= 0.5 * rise).then(|| {
            Flood {
                path: lossy(key.0),
                action: (!key.1.is_empty()).then(|| lossy(key.1)),
                incident_rpm: inc_rate,
                background_rpm: bg_rate,
                share,
            }
        })
    }
}

/// A request flood found in the traffic.
#[derive(Debug, Clone)]
pub(crate) struct Flood {
    pub path: String,
    pub action: Option<String>,
    pub incident_rpm: f64,
    pub background_rpm: f64,
    pub share: f64,
}

fn status_of(e: &Event) -> Option<u16> {
    match e.kind {
        Some(EventKind::UpstreamError) => Some(match e.upstream_kind {
            Some(UpstreamKind::TimedOut | UpstreamKind::ConnectTimedOut) => 504,
            _ => 502,
        }),
        _ => e.status,
    }
}

fn is_php(e: &Event) -> bool {
    e.process.as_deref().is_some_and(|p| p.starts_with(b"php"))
}

pub(crate) fn trim_upstream(u: &[u8]) -> &[u8] {
    let u = u.strip_prefix(b"fastcgi://").unwrap_or(u);
    let u = u.strip_prefix(b"http://").unwrap_or(u);
    u.strip_suffix(b":").unwrap_or(u)
}

fn distinct<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    let set: BTreeSet<&[u8]> = it.collect();
    set.into_iter().take(10).map(lossy).collect()
}

/// Log bytes as a string for names (paths, slugs): invalid UTF-8 shown as
/// `\xHH`.
pub fn lossy(b: &[u8]) -> String {
    escape(b)
}

/// Escapes raw log bytes: control characters, backslashes and invalid
/// UTF-8 become `\n`, `\\`, `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        let _ = write!(out, "\\x{byte:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Slow traces grouped by where they blocked, most first.
fn culprits(ev: &[Event], traces: &[usize]) -> Vec<Culprit> {
    let mut groups: BTreeMap<(String, String, &'static str), (u64, String)> = BTreeMap::new();
    for &t in traces {
        let e = &ev[t];
        let (Some(code), Some(name), Some(call)) = (e.code, &e.plugin, e.call) else {
            continue;
        };
        let g = groups
            .entry((code.as_str().to_owned(), lossy(name), call.as_str()))
            .or_insert((0, e.frame.as_deref().map(lossy).unwrap_or_default()));
        g.0 += 1;
    }
    let mut v: Vec<Culprit> = groups
        .into_iter()
        .map(|((kind, name, call), (traces, frame))| Culprit {
            kind,
            name,
            call: Some(call.to_owned()),
            traces,
            frame,
        })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.traces));
    v.truncate(5);
    v
}

/// PHP fatal errors grouped by the plugin or theme of the file they name
/// (no call kind: a fatal error is no blocking call, so `call` is empty).
fn fatal_culprits(ev: &[Event], fatal: &[usize]) -> Vec<Culprit> {
    use baton_logparse::fpm::slowlog::{attribute, wp_root_of};
    let mut groups: BTreeMap<(&'static str, String), (u64, String)> = BTreeMap::new();
    for &i in fatal {
        let Some(file) = ev[i].object.as_deref() else {
            continue;
        };
        let (kind, name) = attribute(file, wp_root_of(file));
        let frame = match ev[i].number {
            Some(line) => format!("{}:{line}", lossy(file)),
            None => lossy(file),
        };
        groups
            .entry((kind.as_str(), lossy(name)))
            .or_insert((0, frame))
            .0 += 1;
    }
    let mut v: Vec<Culprit> = groups
        .into_iter()
        .map(|((kind, name), (traces, frame))| Culprit {
            kind: kind.to_owned(),
            name,
            call: None,
            traces,
            frame,
        })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.traces));
    v.truncate(5);
    v
}

/// The latency cause of a call kind.
pub(crate) fn latency_cause(call: &str) -> Cause {
    match call {
        c if c == CallKind::ExternalCall.as_str() => Cause::ExternalCall,
        c if c == CallKind::Database.as_str() => Cause::Database,
        _ => Cause::SlowScript,
    }
}
