//! # Overview
//!
//! `baton-correlate` lines up the events `baton-logparse` reads and turns
//! gateway errors into incidents with verdicts, evidence and next steps.
//!
//! [`analyze`] is the whole pipeline, one stage a module, each handing its
//! values forward and none reaching back:
//!
//! 1. `join`: which requests were gateway errors, and the
//!    error-log line of each.
//! 2. `segment`: failure episodes cut from the background, and their
//!    phases.
//! 3. `attribute`: each episode's FPM, slowlog, kernel and PHP evidence,
//!    every line given to one episode.
//! 4. `decide`: the contract's rules, the cause, and what was ruled out.
//! 5. `advise`: evidence sentences and next steps.
//! 6. `findings`: recurring background failures by cause.

#![deny(missing_docs)]

mod advise;
mod attribute;
mod changes;
pub mod clocks;
pub mod config_checks;
mod decide;
mod findings;
pub mod fleet;
mod incident;
mod index;
mod input;
mod join;
mod measure;
pub mod model;
mod names;
mod segment;
pub mod statics;
#[cfg(test)]
mod testkit;
mod timeline;

use rayon::prelude::*;
use std::collections::BTreeSet;

use baton_logparse::summary::TimeRange;

pub use crate::config_checks::{ConfigFinding, Severity};
pub use crate::input::{Coverage, Input, Options};
pub use crate::model::{Analysis, Cause, Death, FleetIncident, Incident, Shared, Verdict};

use crate::index::{Index, S};
use crate::model::{Background, Totals, Window};
use crate::names::status_of;

/// Runs the correlator: join, segment, attribute, decide, advise,
/// background findings.
pub fn analyze(input: &Input, opts: &Options) -> Analysis {
    let idx = Index::new(&input.events, opts.zone);
    let ev = idx.ev;

    // 1. Join.
    let joined = join::join(&idx, input, opts.zone);

    // 2. Segment.
    let span_s = match (input.window.first, input.window.last) {
        (Some(a), Some(b)) => ((b.unix_us - a.unix_us) / S) as f64,
        _ => 0.0,
    };
    let upstream_of = |g: usize| {
        joined
            .upstream_of(ev, g)
            .and_then(|u| ev[u].upstream.as_deref())
            .or(ev[g].upstream.as_deref())
            .map(names::trim_upstream)
    };
    let segments = segment::segment(&idx, &joined.gateway, &joined.class, &upstream_of, span_s);

    // 3. Attribute.
    let bounds = attribute::bounds(&idx, &segments.episodes, opts.window_s);
    let (gathered, claimed) = attribute::gather(&idx, &joined, &segments.episodes, &bounds);

    // 4-5. Decide and advise, episode by episode.
    let incident_minutes: BTreeSet<i64> = bounds
        .iter()
        .flat_map(|b| (b.start / S).div_euclid(60)..=(b.end / S).div_euclid(60))
        .collect();
    let trace_bg = decide::TraceBackground::new(&idx, &bounds);
    let cx = incident::Context {
        idx: &idx,
        input,
        opts,
        joined: &joined,
        background: measure::Background {
            traffic: &input.traffic,
            incident_minutes: &incident_minutes,
        },
        trace_bg: &trace_bg,
    };
    // Each episode is judged on its own: in parallel, in order.
    let incidents: Vec<Incident> = segments
        .episodes
        .par_iter()
        .zip(&bounds)
        .zip(&gathered)
        .enumerate()
        .map(|(n, ((ep, b), g))| {
            let prev = n.checked_sub(1).map(|p| bounds[p].to);
            incident::incident(&cx, n as u32 + 1, ep, *b, prev, g)
        })
        .collect();

    // 6. Background findings.
    let findings = findings::findings(
        &idx,
        &joined,
        &segments.background,
        &claimed,
        opts.window_s,
        input.coverage,
        &trace_bg,
        &input.files,
        &incidents,
    );

    let origin: Vec<usize> = joined
        .gateway
        .iter()
        .copied()
        .filter(|&i| ev[i].kind != Some(baton_logparse::EventKind::EdgeRequest))
        .collect();
    let status = |s: u16| {
        origin
            .iter()
            .filter(|&&i| status_of(&ev[i]) == Some(s))
            .count() as u64
    };
    let window = Window {
        start: input.window.first.map(|t| opts.zone.local(t)),
        end: input.window.last.map(|t| opts.zone.local(t)),
    };
    let mut warnings = joined.warnings.clone();
    if joined.gateway.is_empty() && input.window.first.is_some() {
        let mut w = format!(
            "no gateway errors in the origin logs between {} and {}",
            window.start.map_or("?".to_string(), |t| t.to_string()),
            window.end.map_or("?".to_string(), |t| t.to_string())
        );
        if !input.coverage.edge {
            w.push_str(
                ": if users saw 502/504s then, the edge's own logs (Cloudflare Logpush) would settle whether the edge failed",
            );
        }
        warnings.push(w);
    }
    let matched = joined.ge_match.len() as u64;
    Analysis {
        window,
        warnings,
        joins: model::Joins {
            gateway_errors: joined.access_ge.len() as u64,
            matched_upstream_error: matched,
            unmatched_access: joined.access_ge.len() as u64 - matched,
            unmatched_error_log: (joined.upstream.len() - joined.matched_up.len()) as u64,
        },
        totals: Totals {
            requests: input.requests,
            gateway_errors: origin.len() as u64,
            status_502: status(502),
            status_504: status(504),
            edge_gateway_errors: joined.edge_ge.len() as u64,
        },
        background: Background {
            gateway_errors: segments.background.len() as u64,
            findings,
        },
        timeline: timeline::timeline(&idx, &joined.gateway, &input.traffic),
        marks: timeline::marks(&idx),
        fleet_incidents: Vec::new(),
        incidents,
        config_findings: config_checks::check(&input.config, input.coverage.edge),
    }
}

/// The window covered by a set of inputs: from the earliest to the latest
/// instant of any of them.
pub fn window<'a>(ranges: impl IntoIterator<Item = &'a TimeRange>) -> TimeRange {
    let mut w = TimeRange::default();
    for r in ranges {
        w.merge(*r);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_logparse::Timestamp;

    #[test]
    fn window_spans_all_inputs() {
        let mut a = TimeRange::default();
        a.add(Timestamp::from_unix(100, 0));
        a.add(Timestamp::from_unix(50, 0));
        let mut b = TimeRange::default();
        b.add(Timestamp::from_unix(200, 3600));
        let w = window([&a, &b]);
        assert_eq!(w.first.unwrap().unix_secs(), 50);
        assert_eq!(w.last.unwrap().unix_secs(), 200);
        assert_eq!(w.last.unwrap().offset_s, 3600);
    }
}
