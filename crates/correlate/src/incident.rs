//! An episode written out as an incident: counts, phases, the decision,
//! the differential, the evidence (decisive lines first) and what changed.

use std::collections::BTreeMap;

use baton_logparse::EventKind;
use baton_logparse::nginx::error::UpstreamKind;

use crate::advise;
use crate::attribute::{Bounds, Gathered};
use crate::changes::changes;
use crate::decide::{Facts, TraceBackground, decide, ruled_out};
use crate::index::{Index, S, evidence_ref, us};
use crate::input::{Input, Options};
use crate::join::Joined;
use crate::measure::{Background, FatalCount, culprits, distinct, fatal_culprits, top_paths};
use crate::model::{Cause, FpmEvidence, Incident, Phase};
use crate::names::{status_of, trim_upstream};
use crate::segment::{Episode, phases};

/// What every incident is written against.
pub(crate) struct Context<'a> {
    pub idx: &'a Index<'a>,
    pub input: &'a Input,
    pub opts: &'a Options,
    pub joined: &'a Joined,
    pub background: Background<'a>,
    pub trace_bg: &'a TraceBackground,
}

/// Writes one incident.
pub(crate) fn incident(
    cx: &Context,
    id: u32,
    ep: &Episode,
    b: Bounds,
    prev_end: Option<i64>,
    g: &Gathered,
) -> Incident {
    let ev = cx.idx.ev;
    let members = &ep.members;
    let count_status = |s: u16| {
        members
            .iter()
            .filter(|&&i| status_of(&ev[i]) == Some(s))
            .count() as u64
    };
    let fatal = fatal_culprits(ev, &g.fatal, FatalCount::MostOfOneLog);
    // Only the traces of the pools that failed: the slow code of a pool
    // whose socket held explains none of these errors.
    let mut culprits_ = culprits(ev, &g.own_traces(ev));
    if culprits_.is_empty() {
        culprits_ = fatal.clone();
    }
    let (ma, mb) = ((b.start / S).div_euclid(60), (b.end / S).div_euclid(60));
    let rate = cx.background.request_rate(ma, mb);
    let flood = cx.background.flood(ma, mb);
    let facts = Facts {
        g,
        ev,
        culprits: &culprits_,
        flood: flood.as_ref(),
        errors: members.len(),
        status_504: count_status(504),
        cov: cx.input.coverage,
        bounds: b,
        rate: &rate,
        trace_bg: cx.trace_bg,
    };
    let decision = decide(&facts);
    // A fatal error names its code in the message, not in a trace.
    let culprits_ = match fatal {
        f if decision.cause == Cause::FatalError && !f.is_empty() => f,
        // Slow code does not refuse connections: a connectivity
        // incident's culprits bear on it only when latency contributes.
        _ if decision.cause.verdict() == crate::model::Verdict::Connectivity
            && decision.latency.is_none() =>
        {
            Vec::new()
        }
        _ => culprits_.clone(),
    };
    let phases = write_phases(cx, members);
    let ruled = ruled_out(&facts, &decision, &|t| cx.idx.fmt_us(t));

    let mut incident = Incident {
        id,
        node: None,
        start: cx.idx.at_us(us(&ev[members[0]])),
        end: cx
            .idx
            .at_us(us(&ev[*members.last().unwrap_or(&members[0])])),
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
        pools: g
            .pools(ev)
            .into_iter()
            .take(10)
            .map(crate::names::lossy)
            .collect(),
        upstreams: distinct(
            g.upstream
                .iter()
                .filter_map(|&i| ev[i].upstream.as_deref())
                .map(trim_upstream),
        ),
        top_paths: top_paths(ev, members, 5),
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
                    if let Some(s) = &ev[x].detail().signal {
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
        culprits: culprits_,
        evidence: Vec::new(),
        evidence_refs: Vec::new(),
        next_steps: Vec::new(),
        phases,
        ruled_out: ruled,
        changes: changes(
            cx.idx,
            &cx.input.files,
            b.start,
            prev_end.map_or(i64::MIN, |e| e + 1),
        ),
    };
    let (mut refs, decisive) = advise::write(
        &mut incident,
        g,
        ev,
        &decision,
        flood.as_ref(),
        &|t| cx.idx.at(t).map(|t| t.to_string()).unwrap_or_default(),
        cx.input.coverage,
        cx.input.config.nginx.is_some(),
    );
    crate::config_checks::evidence::apply(&mut incident, &cx.input.config, cx.input.coverage.edge);
    // A crash's own deaths, then the first gateway error (what users
    // saw), then the lines the verdict rests on, then the rest.
    let mut rest = refs.split_off(decisive);
    let first = rest.first().copied();
    rest.sort_by_key(|&i| {
        if Some(i) == first {
            0
        } else {
            1 + decisive_rank(decision.cause, &ev[i])
        }
    });
    refs.extend(rest);
    incident.evidence_refs = refs
        .into_iter()
        .filter(|&i| ev[i].time.is_some())
        .take(cx.opts.max_refs)
        .map(|i| evidence_ref(cx.idx, &cx.input.files, &ev[i]))
        .collect();
    incident
}

/// How directly a line proves a cause: 0 proves it, larger ranks less.
fn decisive_rank(cause: Cause, e: &baton_logparse::Event) -> u8 {
    use EventKind as K;
    let k = e.kind;
    let up = e.upstream_kind;
    let hit = match cause {
        Cause::OomKill => {
            k == Some(K::KernelOomKill) || e.detail().signal.as_deref() == Some("SIGKILL")
        }
        Cause::Segfault => {
            k == Some(K::KernelSegfault)
                || matches!(
                    e.detail().signal.as_deref(),
                    Some("SIGSEGV" | "SIGBUS" | "SIGABRT")
                )
        }
        Cause::FatalError => e.fatal,
        Cause::SocketPermission => up == Some(UpstreamKind::ConnectEacces),
        Cause::FpmRestart | Cause::FpmDown => {
            matches!(
                up,
                Some(UpstreamKind::ConnectRefused | UpstreamKind::ConnectEnoent)
            ) || matches!(k, Some(K::FpmRestart | K::FpmReload))
        }
        Cause::NoLiveUpstreams => up == Some(UpstreamKind::NoLiveUpstreams),
        Cause::BufferConfig => up == Some(UpstreamKind::TooBigHeader),
        Cause::MaxChildren | Cause::BacklogFull | Cause::RequestFlood => {
            k == Some(K::FpmMaxChildren) || up == Some(UpstreamKind::ConnectEagain)
        }
        Cause::ExternalCall | Cause::Database | Cause::SlowScript => {
            matches!(k, Some(K::SlowlogTrace | K::FpmSlowRequest))
        }
        Cause::EdgeOnly => k == Some(K::EdgeRequest),
        Cause::Unknown => false,
    };
    if hit {
        0
    } else if k == Some(K::Request) {
        1
    } else {
        2
    }
}

fn write_phases(cx: &Context, members: &[usize]) -> Vec<Phase> {
    let ev = cx.idx.ev;
    phases(members, &cx.joined.class)
        .into_iter()
        .map(|p| {
            let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
            for &m in &p.members {
                if let Some(k) = cx
                    .joined
                    .upstream_of(ev, m)
                    .and_then(|u| ev[u].upstream_kind)
                {
                    *kinds.entry(k.as_str().to_owned()).or_default() += 1;
                }
            }
            Phase {
                start: cx.idx.at_us(us(&ev[p.members[0]])),
                end: cx
                    .idx
                    .at_us(us(&ev[*p.members.last().unwrap_or(&p.members[0])])),
                class: p.class,
                gateway_errors: p.members.len() as u64,
                upstream_errors: kinds,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::{bounds, gather};
    use crate::input::Coverage;
    use crate::join::join;
    use crate::model::{PhaseClass, Verdict};
    use crate::testkit::{T0, index, numbered, request, trace, upstream};
    use baton_logparse::fpm::slowlog::CallKind;
    use baton_logparse::summary::TimeRange;
    use baton_logparse::{Event, Timestamp, Zone};
    use std::collections::BTreeSet;

    /// Writes the incident of `members` as the pipeline would: join,
    /// bounds, gather, then this stage.
    fn write(ev: Vec<Event>, members: &[usize]) -> Incident {
        let mut r = TimeRange::default();
        r.add(Timestamp::from_unix(T0 - 3600, 0));
        r.add(Timestamp::from_unix(T0 + 3600, 0));
        let input = Input {
            events: numbered(ev),
            files: ["access.log", "error.log", "php-fpm.log", "www-slow.log"]
                .map(String::from)
                .to_vec(),
            access_ranges: vec![r],
            window: r,
            coverage: Coverage {
                access: true,
                error: true,
                fpm: true,
                slowlog: true,
                kernel: true,
                edge: false,
            },
            ..Input::default()
        };
        let opts = Options::default();
        let idx = index(&input.events);
        let joined = join(&idx, &input, Zone::UTC);
        let eps = [Episode {
            members: members.to_vec(),
        }];
        let b = bounds(&idx, &eps, opts.window_s);
        let (g, _) = gather(&idx, &joined, &eps, &b);
        let minutes = BTreeSet::new();
        let trace_bg = TraceBackground::default();
        let cx = Context {
            idx: &idx,
            input: &input,
            opts: &opts,
            joined: &joined,
            background: Background {
                traffic: &input.traffic,
                incident_minutes: &minutes,
            },
            trace_bg: &trace_bg,
        };
        incident(&cx, 1, &eps[0], b[0], None, &g[0])
    }

    /// A gateway error and its upstream error; returns the request's index.
    fn fail(ev: &mut Vec<Event>, t: i64, kind: UpstreamKind, path: &str) -> usize {
        let status = if kind == UpstreamKind::TimedOut {
            504
        } else {
            502
        };
        let client = (ev.len() % 250) as u8;
        ev.push(request(t, status, path, client));
        ev.push(upstream(t, kind, path, client));
        ev.len() - 2
    }

    #[test]
    fn phases_follow_the_failure_mode() {
        // Refused while php-fpm restarts, permission denied on the new
        // socket, refused again at the fix.
        let mut ev = Vec::new();
        let mut members = Vec::new();
        for t in 0..5 {
            members.push(fail(&mut ev, t, UpstreamKind::ConnectRefused, "/"));
        }
        for t in 5..25 {
            members.push(fail(&mut ev, t, UpstreamKind::ConnectEacces, "/shop/"));
        }
        for t in 25..29 {
            members.push(fail(&mut ev, t, UpstreamKind::ConnectRefused, "/"));
        }
        let inc = write(ev, &members);
        assert_eq!(inc.gateway_errors, 29);
        let got: Vec<(PhaseClass, u64, i64, i64)> = inc
            .phases
            .iter()
            .map(|p| {
                (
                    p.class,
                    p.gateway_errors,
                    p.start.unix_secs() - T0,
                    p.end.unix_secs() - T0,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (PhaseClass::Refused, 5, 0, 4),
                (PhaseClass::Permission, 20, 5, 24),
                (PhaseClass::Refused, 4, 25, 28),
            ]
        );
        let kinds = |p: &crate::model::Phase| -> Vec<(String, u64)> {
            p.upstream_errors
                .iter()
                .map(|(k, n)| (k.clone(), *n))
                .collect()
        };
        assert_eq!(kinds(&inc.phases[0]), vec![("connect_refused".into(), 5)]);
        assert_eq!(kinds(&inc.phases[1]), vec![("connect_eacces".into(), 20)]);
        assert_eq!(kinds(&inc.phases[2]), vec![("connect_refused".into(), 4)]);
        assert_eq!(inc.cause, Cause::SocketPermission);
    }

    #[test]
    fn top_paths_and_statuses_count_the_incident_s_own_errors() {
        let mut ev = Vec::new();
        let mut members = Vec::new();
        for t in 0..4 {
            members.push(fail(&mut ev, t, UpstreamKind::ConnectEagain, "/checkout/"));
        }
        for t in 4..6 {
            members.push(fail(&mut ev, t, UpstreamKind::TimedOut, "/checkout/"));
        }
        for t in 6..9 {
            members.push(fail(&mut ev, t, UpstreamKind::ConnectEagain, "/cart/"));
        }
        members.push(fail(&mut ev, 9, UpstreamKind::ConnectEagain, "/"));
        // Brute-force 502s on the login page ten minutes later: another
        // story, not this incident's.
        for t in 600..605 {
            fail(&mut ev, t, UpstreamKind::ConnectEagain, "/wp-login.php");
        }
        let inc = write(ev, &members);
        assert_eq!(inc.gateway_errors, 10);
        assert_eq!((inc.status_502, inc.status_504), (8, 2));
        let top: Vec<(&str, u64)> = inc
            .top_paths
            .iter()
            .map(|p| (p.path.as_str(), p.count))
            .collect();
        assert_eq!(top, vec![("/checkout/", 6), ("/cart/", 3), ("/", 1)]);
        assert_eq!(inc.upstream_errors.get("connect_eagain"), Some(&8));
        assert_eq!(inc.upstream_errors.get("timed_out"), Some(&2));
        assert!(
            inc.evidence[0].ends_with("; 6 of 10 on /checkout/"),
            "{}",
            inc.evidence[0]
        );
        assert_eq!((inc.start.unix_secs(), inc.end.unix_secs()), (T0, T0 + 9));
    }

    #[test]
    fn a_refused_incident_lists_no_slow_code() {
        // php-fpm down; the slow traces of the minute before, spread over
        // three plugins and call kinds, refuse nobody.
        let mut ev = Vec::new();
        let mut members = Vec::new();
        for t in 0..6 {
            members.push(fail(&mut ev, t * 2, UpstreamKind::ConnectRefused, "/"));
        }
        ev.push(trace(-20, "shipping-rates", CallKind::ExternalCall));
        ev.push(trace(-15, "related-posts", CallKind::Database));
        ev.push(trace(-10, "image-resizer", CallKind::Cpu));
        let inc = write(ev, &members);
        assert_eq!(inc.cause, Cause::FpmDown);
        assert_eq!(inc.verdict, Verdict::Connectivity);
        assert!(inc.culprits.is_empty(), "{:?}", inc.culprits);
    }
}
