//! Stage 4, decide: the contract's rules in order, the first that holds
//! decides and the others seen contribute; and the differential, what the
//! evidence rules out and why.
//!
//! The latency rule reads what the workers were doing, not how nginx gave
//! up on them: slow traces concentrated on one blocking call kind, at
//! several times that call's background rate (beyond what a rise in
//! traffic explains), make the episode `latency` even when the pool
//! saturated; saturation is then a contributing cause.

use std::collections::{BTreeMap, BTreeSet};

use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, EventKind};

use crate::attribute::{Bounds, Gathered};
use crate::index::{Index, S, us};
use crate::input::Coverage;
use crate::measure::Flood;
use crate::model::{Cause, Culprit, RequestRate, RuledOut, Verdict};
use crate::names::{latency_cause, plural};

/// Slow traces outside every episode: the slowlog's background, by call
/// kind.
#[derive(Debug, Default)]
pub(crate) struct TraceBackground {
    pub by_call: BTreeMap<&'static str, u64>,
    /// Seconds of slowlog coverage outside episodes.
    pub seconds: f64,
    /// MySQL slow-query seconds (`Query_time`) logged outside episodes.
    pub query_seconds: f64,
    /// Seconds of slow query log coverage outside episodes.
    pub query_span: f64,
}

impl TraceBackground {
    pub fn new(idx: &Index, bounds: &[Bounds]) -> TraceBackground {
        let ev = idx.ev;
        let mut t = TraceBackground::default();
        let queries = idx.kind(EventKind::MysqlSlowQuery);
        if let (Some(&a), Some(&z)) = (queries.first(), queries.last()) {
            let (a, z) = (us(&ev[a]), us(&ev[z]));
            let inside: i64 = bounds
                .iter()
                .map(|b| (b.to.min(z) - b.from.max(a)).max(0))
                .sum();
            t.query_span = ((z - a - inside) / S) as f64;
            t.query_seconds = queries
                .iter()
                .filter(|&&i| {
                    let ti = us(&ev[i]);
                    !bounds.iter().any(|b| ti >= b.from && ti <= b.to)
                })
                .filter_map(|&i| ev[i].seconds.filter(|s| s.is_finite()))
                .sum();
        }
        let traces = idx.kind(EventKind::SlowlogTrace);
        let (Some(&a), Some(&z)) = (traces.first(), traces.last()) else {
            return t;
        };
        let (a, z) = (us(&ev[a]), us(&ev[z]));
        let inside: i64 = bounds
            .iter()
            .map(|b| (b.to.min(z) - b.from.max(a)).max(0))
            .sum();
        t.seconds = ((z - a - inside) / S) as f64;
        for &i in traces {
            let ti = us(&ev[i]);
            if bounds.iter().any(|b| ti >= b.from && ti <= b.to) {
                continue;
            }
            if let Some(c) = ev[i].call {
                *t.by_call.entry(c.as_str()).or_default() += 1;
            }
        }
        t
    }
}

/// Everything the rules read about one episode.
pub(crate) struct Facts<'a> {
    pub g: &'a Gathered,
    pub ev: &'a [Event],
    pub culprits: &'a [Culprit],
    pub flood: Option<&'a Flood>,
    pub errors: usize,
    pub status_504: u64,
    pub cov: Coverage,
    pub bounds: Bounds,
    pub rate: &'a RequestRate,
    pub trace_bg: &'a TraceBackground,
}

/// The verdict and what it rests on.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub cause: Cause,
    pub contributing: Vec<Cause>,
    pub confidence: f64,
    /// The latency finding, when the slowlog made one.
    pub latency: Option<Latency>,
    /// The slow queries that ran during the episode, when MySQL's slow
    /// log was read.
    pub queries: Option<QueryStall>,
}

/// The MySQL slow queries running during an episode: the fingerprint with
/// the most total time, against all of them.
#[derive(Debug, Clone)]
pub(crate) struct QueryStall {
    pub fingerprint: String,
    pub table: Option<String>,
    /// Its queries (event indices, logged order).
    pub events: Vec<usize>,
    pub total: f64,
    pub max: f64,
    pub lock: f64,
    pub rows_examined: u64,
    /// Every slow query in the window, and their total time.
    pub all: usize,
    pub all_total: f64,
    /// Its queries' time against the slow log's background rate.
    pub ratio: Option<f64>,
    /// The first of them started before the first gateway error.
    pub precedes: bool,
    /// Whether they make the episode `database`.
    pub decides: bool,
}

/// Slow traces concentrated on one call kind.
#[derive(Debug, Clone)]
pub(crate) struct Latency {
    pub cause: Cause,
    pub traces: u64,
    pub all_traces: u64,
    /// How many times the call's background rate.
    pub ratio: Option<f64>,
    pub traffic_ratio: f64,
    /// Found in MySQL's slow log rather than in slowlog traces.
    pub queries: bool,
}

/// How a pool's workers died.
#[derive(Debug, Default, Clone)]
pub(crate) struct Deaths {
    /// Kernel OOM kills of php-fpm (and SIGKILLs when no kernel log says).
    pub oom: usize,
    /// SIGSEGV/SIGBUS/SIGABRT exits and kernel segfault lines, by pid.
    pub segv: usize,
    /// SIGKILLs with no OOM line though the kernel log was read.
    pub outside: usize,
    /// Requests killed at `request_terminate_timeout`.
    pub terminated: usize,
}

impl Deaths {
    pub fn of(g: &Gathered, ev: &[Event], cov: Coverage) -> Deaths {
        let pids = |v: &[usize]| -> BTreeSet<Option<u32>> {
            v.iter().map(|&i| ev[i].pid).collect::<BTreeSet<_>>()
        };
        let mut segv = pids(&g.crash_exits);
        segv.extend(pids(&g.segv_kernel));
        let outside = g.outside_kills(ev).len();
        let mut oom = pids(&g.oom_php);
        oom.extend(pids(&g.oom_kill_exits(ev)));
        let (oom, outside) = if cov.kernel {
            (oom.len(), outside)
        } else {
            (oom.len() + outside, 0)
        };
        Deaths {
            oom,
            segv: segv.len(),
            outside,
            terminated: g
                .exits
                .iter()
                .filter(|&&i| ev[i].pid.is_some_and(|p| g.timeout_pids.contains(&p)))
                .count(),
        }
    }
}

/// Applies the contract's rules in order.
pub(crate) fn decide(f: &Facts) -> Decision {
    let g = f.g;
    let total_up: u64 = g.up_kinds.values().sum();
    let share = |n: u64| {
        if total_up == 0 {
            0.0
        } else {
            n as f64 / total_up as f64
        }
    };
    let broken = g.up(UpstreamKind::ResetByPeer) + g.up(UpstreamKind::PrematureClose);
    let mut seen: Vec<(Cause, f64)> = Vec::new();

    // 1. Crash: workers died behind resets / premature closes.
    let d = Deaths::of(g, f.ev, f.cov);
    let behind = broken > 0 || !f.cov.error;
    if behind && (d.oom > 0 || d.segv > 0) {
        let c = if d.segv > d.oom {
            Cause::Segfault
        } else {
            Cause::OomKill
        };
        seen.push((c, 0.6 + 0.35 * share(broken).max(0.5)));
        if d.segv > 0 && d.oom > 0 {
            let other = if c == Cause::Segfault {
                Cause::OomKill
            } else {
                Cause::Segfault
            };
            seen.push((other, 0.5));
        }
    }
    if broken > 0 && !g.fatal.is_empty() {
        seen.push((Cause::FatalError, 0.6 + 0.3 * share(broken)));
    }

    // 2. Connectivity.
    let eacces = g.up(UpstreamKind::ConnectEacces);
    let refused = g.up(UpstreamKind::ConnectRefused) + g.up(UpstreamKind::ConnectEnoent);
    let no_live = g.up(UpstreamKind::NoLiveUpstreams);
    let big = g.up(UpstreamKind::TooBigHeader);
    // A stop, a start that was no reload, or a reload before the last
    // error: php-fpm was restarting while nginx was refused.
    let restarting = !g.master_stop.is_empty()
        || g.restarts > 0
        || g.reloads.iter().any(|&i| us(&f.ev[i]) <= f.bounds.end);
    let mut conn = [
        (eacces, Cause::SocketPermission),
        (
            refused,
            if restarting {
                Cause::FpmRestart
            } else {
                Cause::FpmDown
            },
        ),
        (no_live, Cause::NoLiveUpstreams),
        (big, Cause::BufferConfig),
    ];
    conn.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut minor_conn = Vec::new();
    for (n, c) in conn {
        if n == 0 {
            continue;
        }
        // A restart explains its own seconds of refused connects: it
        // decides only when those are most of the episode's failures.
        let needed = if c == Cause::FpmRestart { 0.5 } else { 0.2 };
        if share(n) >= needed {
            let conf = if c == Cause::FpmDown && !f.cov.fpm {
                0.6
            } else {
                0.6 + 0.35 * share(n)
            };
            seen.push((c, conf));
        } else {
            // A phase of the episode (a restart at its start or its fix):
            // it contributes, it does not decide.
            minor_conn.push(c);
        }
    }

    // 3. Latency: slow traces concentrated on one call kind, well above
    // that call's background; or slow queries stalling the database.
    let queries = query_stall(f);
    let latency = latency(f, queries.as_ref());
    if let Some(l) = &latency {
        let conc = l.traces as f64 / l.all_traces.max(1) as f64;
        seen.push((l.cause, 0.6 + 0.35 * conc));
    }

    // 4. Capacity.
    let eagain = g.up(UpstreamKind::ConnectEagain);
    let timed_out = g.up(UpstreamKind::TimedOut) + g.up(UpstreamKind::ConnectTimedOut);
    let spread = distinct_paths(g, f.ev, UpstreamKind::TimedOut) >= 3
        || (total_up == 0 && f.status_504 >= 3);
    let saturated = !g.max_children.is_empty() || eagain > 0 || (timed_out > 0 && spread);
    if saturated {
        let sat = share(eagain + timed_out).max(if g.max_children.is_empty() { 0.0 } else { 0.5 });
        if let Some(fl) = f.flood {
            seen.push((Cause::RequestFlood, 0.6 + 0.3 * fl.share.min(1.0)));
        }
        if !g.max_children.is_empty() {
            seen.push((Cause::MaxChildren, 0.6 + 0.35 * sat));
        } else if eagain > 0 {
            seen.push((Cause::BacklogFull, 0.6 + 0.3 * sat));
        } else {
            seen.push((Cause::MaxChildren, 0.5 + 0.2 * sat));
        }
    }

    // 5. Edge only.
    if !g.edge.is_empty() && g.origin.is_empty() {
        seen.push((Cause::EdgeOnly, 0.8));
    }

    seen.extend(minor_conn.into_iter().map(|c| (c, 0.5)));
    let Some(&(cause, confidence)) = seen.first() else {
        return Decision {
            cause: Cause::Unknown,
            contributing: Vec::new(),
            confidence: 0.3,
            latency,
            queries,
        };
    };
    let mut contributing: Vec<Cause> = Vec::new();
    for (c, _) in &seen[1..] {
        if *c != cause && !contributing.contains(c) {
            contributing.push(*c);
        }
    }
    // A flood is a kind of saturation: name only the flood.
    if cause == Cause::RequestFlood {
        contributing.retain(|c| !matches!(c, Cause::MaxChildren | Cause::BacklogFull));
    }
    // Slow code does not refuse connections: beside a connectivity
    // failure it bears only when the slowlog shows it well above its
    // background. With no background to compare (an excerpt), a few traces
    // in one plugin are not shown to be anything but routine.
    let latency = match latency {
        Some(l) if cause.verdict() == Verdict::Connectivity && l.ratio.is_none() && !l.queries => {
            contributing.retain(|c| *c != l.cause);
            None
        }
        l => l,
    };
    let thin = if f.errors < 5 { 0.1 } else { 0.0 };
    Decision {
        cause,
        contributing,
        confidence: ((confidence - thin).clamp(0.1, 0.95) * 100.0).round() / 100.0,
        latency,
        queries,
    }
}

fn distinct_paths(g: &Gathered, ev: &[Event], k: UpstreamKind) -> usize {
    g.upstream
        .iter()
        .filter(|&&i| ev[i].upstream_kind == Some(k))
        .filter_map(|&i| ev[i].path.as_deref())
        .collect::<BTreeSet<_>>()
        .len()
}

/// The slowlog's finding ([`latency_traces`]); else slow queries in
/// MySQL's slow log that decide ([`QueryStall::decides`]), which also
/// outweigh `executing too slow` lines on one script.
fn latency(f: &Facts, q: Option<&QueryStall>) -> Option<Latency> {
    let t = latency_traces(f);
    if let Some(l) = &t
        && !(l.cause == Cause::SlowScript && f.g.traces.is_empty())
    {
        return t;
    }
    match q.filter(|q| q.decides) {
        Some(q) => Some(Latency {
            cause: Cause::Database,
            traces: q.events.len() as u64,
            all_traces: q.all as u64,
            ratio: q.ratio,
            traffic_ratio: traffic_ratio(f),
            queries: true,
        }),
        None => t,
    }
}

fn traffic_ratio(f: &Facts) -> f64 {
    if f.rate.background_rps > 0.0 {
        f.rate.incident_rps / f.rate.background_rps
    } else {
        1.0
    }
}

/// Slow queries running during the episode (a query ran over `[logged
/// time - Query_time, logged time]`), by fingerprint. They decide
/// (`database`) when their time in the window is well above the slow log's
/// background rate (without a background: at least 5 s in all), the top
/// fingerprint has a query of a second or more, and either its first query
/// started before the first gateway error or its total time dominates
/// (the slow queries' time is mostly its, and at least half the window's
/// duration).
fn query_stall(f: &Facts) -> Option<QueryStall> {
    let g = f.g;
    if g.queries.is_empty() {
        return None;
    }
    let secs = |i: usize| {
        f.ev[i]
            .seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(0.0)
    };
    let mut by: Vec<(u64, Vec<usize>, f64)> = Vec::new();
    for &i in &g.queries {
        let d = f.ev[i].detail().query.as_ref().map_or(0, |q| q.digest);
        match by.iter_mut().find(|x| x.0 == d) {
            Some(x) => {
                x.1.push(i);
                x.2 += secs(i);
            }
            None => by.push((d, vec![i], secs(i))),
        }
    }
    by.sort_by(|a, b| b.2.total_cmp(&a.2));
    let (_, events, total) = by.swap_remove(0);
    let all_total: f64 = g.queries.iter().map(|&i| secs(i)).sum();
    let first = &f.ev[events[0]];
    let qf = first.detail().query.as_ref();
    let max = events.iter().map(|&i| secs(i)).fold(0.0, f64::max);
    let first_start = events
        .iter()
        .filter_map(|&i| f.ev[i].start())
        .map(|t| t.unix_us)
        .min()
        .unwrap_or(i64::MAX);
    let dur = ((f.bounds.to - f.bounds.from) / S).max(60) as f64;
    let bg = f.trace_bg;
    let ratio = (bg.query_span >= 1800.0)
        .then(|| (all_total / dur) / (bg.query_seconds.max(0.5) / bg.query_span));
    let above = match ratio {
        Some(r) => r >= 5.0 && r >= 3.0 * traffic_ratio(f).max(1.0),
        None => all_total >= 5.0,
    };
    let precedes = first_start < f.bounds.start;
    let dominates = total * 2.0 >= all_total && total >= dur * 0.5;
    // A query explains a timed-out request's wait only if it ran for a good
    // part of it: one 10 s query does not account for a 60 s wait (the
    // median `$request_time` of the 504s, where the access log has it).
    let mut waits: Vec<f64> = g
        .origin
        .iter()
        .filter(|&&m| crate::names::status_of(&f.ev[m]) == Some(504))
        .filter_map(|&m| f.ev[m].seconds)
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    waits.sort_by(f64::total_cmp);
    let covers = waits
        .get(waits.len() / 2)
        .is_none_or(|&w| max * 2.0 >= w || dominates);
    Some(QueryStall {
        fingerprint: qf.map_or_else(String::new, |q| q.fingerprint.to_string()),
        table: qf
            .and_then(|q| q.table.as_deref())
            .map(|t| String::from_utf8_lossy(t).into_owned()),
        total,
        max,
        lock: events
            .iter()
            .filter_map(|&i| f.ev[i].detail().query.as_ref())
            .map(|q| q.lock_seconds)
            .filter(|s| s.is_finite())
            .sum(),
        rows_examined: events
            .iter()
            .filter_map(|&i| f.ev[i].detail().query.as_ref())
            .map(|q| q.rows_examined)
            .fold(0u64, u64::saturating_add),
        all: g.queries.len(),
        all_total,
        ratio,
        precedes,
        decides: above && max >= 1.0 && (precedes || dominates) && covers,
        events,
    })
}

/// Slow traces concentrated on one call kind at several times its
/// background rate; or, with no slowlog, `executing too slow` lines all on
/// one script.
fn latency_traces(f: &Facts) -> Option<Latency> {
    let g = f.g;
    let all: u64 = f.culprits.iter().map(|c| c.traces).sum();
    let traffic_ratio = if f.rate.background_rps > 0.0 {
        f.rate.incident_rps / f.rate.background_rps
    } else {
        1.0
    };
    if all >= 2 {
        let mut by_cause: Vec<(Cause, &str, u64)> = Vec::new();
        for c in f.culprits {
            let Some(call) = &c.call else { continue };
            let cause = latency_cause(call);
            match by_cause.iter_mut().find(|(k, _, _)| *k == cause) {
                Some(x) => x.2 += c.traces,
                None => by_cause.push((cause, call, c.traces)),
            }
        }
        by_cause.sort_by_key(|c| std::cmp::Reverse(c.2));
        let &(cause, call, n) = by_cause.first()?;
        if n * 2 < all || n < 3 {
            return None;
        }
        // The call's background rate, against the episode's.
        let bg = f.trace_bg;
        let calls_bg: u64 = bg
            .by_call
            .iter()
            .filter(|(c, _)| latency_cause(c) == cause)
            .map(|(_, n)| *n)
            .sum();
        let _ = call;
        let dur = ((f.bounds.to - f.bounds.from) / S).max(60) as f64;
        let ratio = (bg.seconds >= 1800.0).then(|| {
            let bg_rate = calls_bg.max(1) as f64 / bg.seconds;
            (n as f64 / dur) / bg_rate
        });
        // When the pool saturated: its first max_children line or errno 11.
        let saturated_at = g
            .max_children
            .iter()
            .chain(
                g.upstream
                    .iter()
                    .filter(|&&i| f.ev[i].upstream_kind == Some(UpstreamKind::ConnectEagain)),
            )
            .map(|&i| us(&f.ev[i]))
            .min();
        let above = match ratio {
            // Well above its background, beyond what more traffic explains.
            Some(r) => r >= 5.0 && r >= 3.0 * traffic_ratio.max(1.0),
            // No background to compare with (an excerpt): concentration
            // decides, unless the pool saturated before the slowness showed.
            // Then nothing tells whether the code got slower or more of it
            // ran, and the pool's limit is the first proven broken thing.
            None => match saturated_at {
                None => true,
                Some(t) => {
                    let before = g
                        .traces
                        .iter()
                        .filter(|&&i| {
                            us(&f.ev[i]) < t
                                && f.ev[i]
                                    .call
                                    .is_some_and(|c| latency_cause(c.as_str()) == cause)
                        })
                        .count() as u64;
                    before >= 3 || before * 2 >= n
                }
            },
        };
        return above.then_some(Latency {
            cause,
            traces: n,
            all_traces: all,
            ratio,
            traffic_ratio,
            queries: false,
        });
    }
    if g.slow.len() >= 3 && g.traces.is_empty() {
        let scripts: BTreeSet<&[u8]> = g
            .slow
            .iter()
            .filter_map(|&i| f.ev[i].detail().object.as_deref())
            .collect();
        if scripts.len() == 1 {
            return Some(Latency {
                cause: Cause::SlowScript,
                traces: g.slow.len() as u64,
                all_traces: g.slow.len() as u64,
                ratio: None,
                traffic_ratio,
                queries: false,
            });
        }
    }
    None
}

/// The causes the evidence excludes, each with its sentence.
pub(crate) fn ruled_out(f: &Facts, d: &Decision, fmt: &dyn Fn(i64) -> String) -> Vec<RuledOut> {
    let g = f.g;
    let v = d.cause.verdict();
    let mut out = Vec::new();
    let whole = |t: i64| t.div_euclid(S) * S;
    let when = format!(
        "between {} and {}",
        fmt(whole(f.bounds.from.max(f.bounds.start - 600 * S))),
        fmt(whole(f.bounds.to))
    );
    let deaths = Deaths::of(g, f.ev, f.cov);
    let broken = g.up(UpstreamKind::ResetByPeer) + g.up(UpstreamKind::PrematureClose);
    if v != Verdict::Crash && !d.contributing.iter().any(|c| c.verdict() == Verdict::Crash) {
        let why = if (f.cov.fpm || f.cov.kernel) && deaths.oom + deaths.segv == 0 {
            let mut s = "no php-fpm child exited on a signal".to_string();
            if !f.cov.fpm {
                s = "the kernel logged no OOM kill or segfault of php-fpm".into();
            } else if f.cov.kernel {
                s.push_str(" and the kernel logged no OOM kill or segfault of php-fpm");
            }
            Some(format!("{s} {when}"))
        } else if f.cov.error && broken == 0 && deaths.oom + deaths.segv > 0 {
            Some(format!(
                "{} died but nginx logged no reset or premature close: no request was cut short by it",
                plural(deaths.oom + deaths.segv, "worker", "workers")
            ))
        } else {
            None
        };
        if let Some(why) = why {
            let cause = if g.kill_exits.is_empty() {
                Cause::Segfault
            } else {
                Cause::OomKill
            };
            out.push(RuledOut {
                verdict: Verdict::Crash,
                cause,
                why,
            });
        }
    }
    if v != Verdict::Connectivity && f.cov.error {
        let total: u64 = g.up_kinds.values().sum();
        let conn = g.up(UpstreamKind::ConnectRefused)
            + g.up(UpstreamKind::ConnectEnoent)
            + g.up(UpstreamKind::ConnectEacces)
            + g.up(UpstreamKind::NoLiveUpstreams);
        let why = if conn == 0 && total > 0 {
            Some(format!(
                "nginx reached php-fpm: none of its {} was a refused, missing-socket or permission-denied connect",
                plural(total as usize, "upstream error", "upstream errors")
            ))
        } else if conn > 0 && (conn as f64) < 0.2 * total as f64 {
            Some(format!(
                "only {conn} of {total} upstream errors were failed connects (a restart inside the episode), the rest came from a php-fpm that was listening"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            out.push(RuledOut {
                verdict: Verdict::Connectivity,
                cause: Cause::FpmDown,
                why,
            });
        }
    }
    let eagain = g.up(UpstreamKind::ConnectEagain);
    if v != Verdict::Capacity
        && !d
            .contributing
            .iter()
            .any(|c| c.verdict() == Verdict::Capacity)
        && f.cov.fpm
        && g.max_children.is_empty()
        && eagain == 0
    {
        let traffic = if f.rate.background_rps > 0.0 {
            format!(
                " and traffic stayed at {:.1}x the background",
                f.rate.incident_rps / f.rate.background_rps
            )
        } else {
            String::new()
        };
        out.push(RuledOut {
            verdict: Verdict::Capacity,
            cause: Cause::MaxChildren,
            why: format!(
                "the pool never reached pm.max_children and nginx logged no errno 11 (backlog full){traffic}"
            ),
        });
    }
    if v != Verdict::Latency && d.latency.is_none() && f.cov.slowlog {
        let all: u64 = f.culprits.iter().map(|c| c.traces).sum();
        let why = if g.traces.is_empty() {
            format!("the slowlog holds no trace {when}")
        } else if all > 0 {
            let calls: BTreeSet<&str> = f
                .culprits
                .iter()
                .filter_map(|c| c.call.as_deref())
                .collect();
            let why = if all < 3 {
                "too few to show a blocking call holding the workers".to_string()
            } else if calls.len() > 1 {
                format!(
                    "spread over {}, none holding most of them",
                    plural(calls.len(), "call kind", "call kinds")
                )
            } else if f.trace_bg.seconds >= 1800.0 {
                "no more often than that call's background rate (allowing for the traffic)"
                    .to_string()
            } else {
                "with no background to compare and the pool saturated before they piled up: more requests, not slower code, as far as the logs tell".to_string()
            };
            format!(
                "{} {when}, {why}",
                plural(g.traces.len(), "slowlog trace", "slowlog traces"),
            )
        } else {
            format!(
                "{} {when}, none of them attributed to a blocking call",
                plural(g.traces.len(), "slowlog trace", "slowlog traces")
            )
        };
        out.push(RuledOut {
            verdict: Verdict::Latency,
            cause: Cause::SlowScript,
            why,
        });
    }
    if v != Verdict::Edge && f.cov.edge && !g.origin.is_empty() {
        out.push(RuledOut {
            verdict: Verdict::Edge,
            cause: Cause::EdgeOnly,
            why: format!(
                "the origin's own logs show {} failing",
                plural(g.origin.len(), "request", "requests")
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Verdict;
    use crate::testkit::full;
    use crate::testkit::{child_exit, fpm, master, numbered, us_at};
    use UpstreamKind::*;
    use baton_logparse::event::MasterStep;

    /// Two minutes of failures, from T0 to T0 + 120 s.
    fn two_minutes() -> Bounds {
        Bounds {
            start: us_at(0),
            end: us_at(115),
            from: us_at(0),
            to: us_at(120),
            recovery: us_at(175),
        }
    }

    fn kinds(v: &[(UpstreamKind, u64)]) -> BTreeMap<UpstreamKind, u64> {
        v.iter().copied().collect()
    }

    fn culprit(name: &str, call: &str, traces: u64) -> Culprit {
        Culprit {
            kind: "plugin".into(),
            name: name.into(),
            call: Some(call.into()),
            traces,
            frame: format!("curl_exec() wp-content/plugins/{name}/api.php:88"),
        }
    }

    /// A slowlog read for two hours outside the episode, with `n`
    /// external-call traces in that time.
    fn slowlog_background(n: u64) -> TraceBackground {
        TraceBackground {
            by_call: [("external_call", n)].into_iter().collect(),
            seconds: 7200.0,
            ..TraceBackground::default()
        }
    }

    fn run(
        g: &Gathered,
        ev: &[Event],
        culprits: &[Culprit],
        rate: &RequestRate,
        bg: &TraceBackground,
    ) -> Decision {
        let errors = g.up_kinds.values().sum::<u64>() as usize;
        decide(&Facts {
            g,
            ev,
            culprits,
            flood: None,
            errors,
            status_504: g.up(TimedOut),
            cov: full(),
            bounds: two_minutes(),
            rate,
            trace_bg: bg,
        })
    }

    /// A pool at pm.max_children, nginx logging errno 11 and timeouts.
    fn saturated_pool() -> (Vec<Event>, Gathered) {
        let ev = numbered(vec![fpm(-2, EventKind::FpmMaxChildren)]);
        let g = Gathered {
            max_children: vec![0],
            up_kinds: kinds(&[(ConnectEagain, 30), (TimedOut, 10)]),
            ..Gathered::default()
        };
        (ev, g)
    }

    #[test]
    fn a_full_pool_with_the_slowlog_at_its_background_is_capacity() {
        let (ev, g) = saturated_pool();
        // 4 outbound-call traces in 2 minutes, as often as in the two
        // hours around (240 in 7200 s): nothing got slower.
        let cul = [culprit("shipping-rates", "external_call", 4)];
        let d = run(
            &g,
            &ev,
            &cul,
            &RequestRate::default(),
            &slowlog_background(240),
        );
        assert_eq!(d.cause, Cause::MaxChildren);
        assert_eq!(d.cause.verdict(), Verdict::Capacity);
        assert!(d.latency.is_none());
        assert!(d.contributing.is_empty());
        // Every upstream error was a full pool's (errno 11 or a timeout).
        assert_eq!(d.confidence, 0.95);
    }

    #[test]
    fn traces_piled_up_in_one_plugin_make_latency_unless_traffic_explains_them() {
        let (ev, g) = saturated_pool();
        // 20 of 22 traces in one plugin's outbound call, in 2 minutes,
        // against 12 such traces in two hours: 100 times its background.
        let cul = [
            culprit("shipping-rates", "external_call", 20),
            culprit("related-posts", "database", 2),
        ];
        let bg = slowlog_background(12);
        let d = run(&g, &ev, &cul, &RequestRate::default(), &bg);
        assert_eq!(d.cause, Cause::ExternalCall);
        assert_eq!(d.cause.verdict(), Verdict::Latency);
        // The full pool is the consequence.
        assert_eq!(d.contributing, vec![Cause::MaxChildren]);
        let l = d.latency.expect("a latency finding");
        assert_eq!((l.traces, l.all_traces), (20, 22));
        assert!((l.ratio.unwrap() - 100.0).abs() < 1e-6);

        // The same traces while traffic ran at 40 times its background:
        // more requests, not slower code, and the pool's limit decides.
        let flooded = RequestRate {
            incident_rps: 40.0,
            background_rps: 1.0,
        };
        let d = run(&g, &ev, &cul, &flooded, &bg);
        assert_eq!(d.cause, Cause::MaxChildren);
        assert!(d.latency.is_none());
    }

    #[test]
    fn refused_connects_while_the_master_restarts_are_fpm_restart() {
        let ev = numbered(vec![
            master(2, MasterStep::Stop),
            master(20, MasterStep::Start),
        ]);
        let refused = Gathered {
            up_kinds: kinds(&[(ConnectRefused, 12)]),
            master_stop: vec![0],
            master_start: vec![1],
            restarts: 1,
            ..Gathered::default()
        };
        let bg = TraceBackground::default();
        let rate = RequestRate::default();
        let d = run(&refused, &ev, &[], &rate, &bg);
        assert_eq!(d.cause, Cause::FpmRestart);
        assert_eq!(d.cause.verdict(), Verdict::Connectivity);

        // The same refusals with no master line in the php-fpm log: down.
        let down = Gathered {
            up_kinds: kinds(&[(ConnectRefused, 12)]),
            ..Gathered::default()
        };
        assert_eq!(run(&down, &ev, &[], &rate, &bg).cause, Cause::FpmDown);

        // A restart's 3 refused connects in a saturation of 37 errno 11s
        // is a phase of it: it contributes, it does not decide.
        let minor = Gathered {
            up_kinds: kinds(&[(ConnectRefused, 3), (ConnectEagain, 37)]),
            master_stop: vec![0],
            master_start: vec![1],
            restarts: 1,
            ..Gathered::default()
        };
        let d = run(&minor, &ev, &[], &rate, &bg);
        assert_eq!(d.cause, Cause::BacklogFull);
        assert_eq!(d.contributing, vec![Cause::FpmRestart]);
    }

    #[test]
    fn a_worker_segfault_behind_premature_closes_outranks_a_full_pool() {
        let ev = numbered(vec![
            fpm(-2, EventKind::FpmMaxChildren),
            child_exit(30, 4243, "SIGSEGV"),
        ]);
        let g = Gathered {
            max_children: vec![0],
            exits: vec![1],
            crash_exits: vec![1],
            up_kinds: kinds(&[(PrematureClose, 3), (ConnectEagain, 20)]),
            ..Gathered::default()
        };
        let d = run(
            &g,
            &ev,
            &[],
            &RequestRate::default(),
            &TraceBackground::default(),
        );
        assert_eq!(d.cause, Cause::Segfault);
        assert_eq!(d.cause.verdict(), Verdict::Crash);
        assert_eq!(d.contributing, vec![Cause::MaxChildren]);

        // The worker died but no request was cut short by it: no crash.
        let quiet = Gathered {
            up_kinds: kinds(&[(ConnectEagain, 20)]),
            ..g
        };
        let d = run(
            &quiet,
            &ev,
            &[],
            &RequestRate::default(),
            &TraceBackground::default(),
        );
        assert_eq!(d.cause, Cause::MaxChildren);
        assert!(!d.contributing.contains(&Cause::Segfault));
    }
}
