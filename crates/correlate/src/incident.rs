//! An episode written out as an incident: counts, phases, the decision,
//! the differential, the evidence (decisive lines first) and what changed.

use std::collections::BTreeMap;

use baton_logparse::EventKind;
use baton_logparse::nginx::error::UpstreamKind;

use crate::advise;
use crate::attribute::{Bounds, Gathered};
use crate::changes::changes;
use crate::decide::{Facts, TraceBackground, decide, ruled_out};
use crate::findings::evidence_ref;
use crate::index::{Index, S, us};
use crate::input::{Input, Options};
use crate::join::Joined;
use crate::measure::{Background, culprits, distinct, fatal_culprits, top_paths};
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
    let fatal = fatal_culprits(ev, &g.fatal);
    let mut culprits_ = culprits(ev, &g.traces);
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
    let mut refs = advise::write(
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
    // The first gateway error (what users saw), then the lines the verdict
    // rests on, then the rest.
    let first = refs.first().copied();
    refs.sort_by_key(|&i| {
        if Some(i) == first {
            0
        } else {
            1 + decisive_rank(decision.cause, &ev[i])
        }
    });
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
