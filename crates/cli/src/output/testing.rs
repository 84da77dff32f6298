//! Hand-built reports for the renderers' unit tests: an analysis as the
//! correlator would give it, wrapped with empty read statistics.

use baton_correlate::model::{
    Analysis, Background, Cause, Change, EvidenceRef, FpmEvidence, Incident, Phase, PhaseClass,
    RequestRate, RuledOut, TimelineMinute, TopPath, Totals, Verdict, Window,
};
use baton_logparse::Zone;
use baton_logparse::summary::{AccessSummary, ErrorSummary};
use baton_logparse::time::Timestamp;

use crate::document::Report;
use crate::document::Stats;

/// A report of `analysis` read in `zone` (from `zone_source`), no files.
pub fn report(analysis: Analysis, zone: Zone, zone_source: &'static str) -> Report {
    Report {
        stats: Stats {
            zone,
            zone_source,
            files: Vec::new(),
            access_files: 0,
            access: AccessSummary::default(),
            error: ErrorSummary::default(),
            fpm: None,
            slowlog: None,
            kernel: None,
            edge: None,
            journal: None,
            php_error: None,
            mysql_slow: None,
            errors: Vec::new(),
            config: Default::default(),
            notes: Vec::new(),
        },
        analysis,
        nodes: Vec::new(),
    }
}

/// `2026-11-24T10:MM:SS+00:00` of seconds after 10:00.
pub fn at(s: i64) -> Timestamp {
    Timestamp::from_unix(TEN + s, 0)
}

/// Unix seconds of 2026-11-24T10:00:00Z.
pub const TEN: i64 = 1_795_514_400;

/// An evidence line.
pub fn line(file: &str, n: u64, s: i64, text: &str) -> EvidenceRef {
    EvidenceRef {
        file: file.into(),
        line: n,
        time: Some(at(s)),
        text: text.into(),
    }
}

/// An incident of `gateway_errors` 502s from `start` to `end` (seconds
/// after 10:00), everything else empty.
pub fn incident(id: u32, cause: Cause, start: i64, end: i64, gateway_errors: u64) -> Incident {
    Incident {
        id,
        node: None,
        start: at(start),
        end: at(end),
        gateway_errors,
        status_502: gateway_errors,
        status_504: 0,
        status_499: 0,
        verdict: cause.verdict(),
        cause,
        contributing_causes: Vec::new(),
        confidence: 0.9,
        handoff: cause.handoff(),
        request_rate: RequestRate::default(),
        hosts: Vec::new(),
        pools: Vec::new(),
        upstreams: Vec::new(),
        top_paths: Vec::new(),
        upstream_errors: Default::default(),
        fpm: FpmEvidence::default(),
        culprits: Vec::new(),
        evidence: Vec::new(),
        evidence_refs: Vec::new(),
        next_steps: Vec::new(),
        phases: Vec::new(),
        ruled_out: Vec::new(),
        changes: Vec::new(),
    }
}

/// A phase of `n` gateway errors.
pub fn phase(class: PhaseClass, start: i64, end: i64, n: u64) -> Phase {
    Phase {
        start: at(start),
        end: at(end),
        class,
        gateway_errors: n,
        upstream_errors: Default::default(),
    }
}

/// A minute of the timeline (`m` minutes after 10:00).
pub fn minute(m: i64, s502: u64, s504: u64) -> TimelineMinute {
    TimelineMinute {
        t: TEN + m * 60,
        minute: at(m * 60),
        status_502: s502,
        status_504: s504,
        edge: 0,
        requests: 30,
    }
}

/// A deploy that broke the socket's permissions, with a restart at each
/// end: three phases, a ruled-out capacity, a change before it, many
/// evidence lines; and a background finding of lone segfaults.
pub fn deploy() -> Analysis {
    let mut i = incident(1, Cause::SocketPermission, 600, 1500, 7599);
    i.phases = vec![
        phase(PhaseClass::Refused, 600, 606, 7),
        phase(PhaseClass::Permission, 607, 1490, 7589),
        phase(PhaseClass::Refused, 1495, 1500, 3),
    ];
    i.contributing_causes = vec![Cause::FpmRestart];
    i.top_paths = vec![TopPath {
        path: "/".into(),
        count: 5000,
        action: None,
    }];
    i.ruled_out = vec![
        RuledOut {
            verdict: Verdict::Capacity,
            cause: Cause::MaxChildren,
            why:
                "the pool never reached `pm.max_children` and traffic stayed at 1.1x the background"
                    .into(),
        },
        RuledOut {
            verdict: Verdict::Crash,
            cause: Cause::Segfault,
            why: "no child exited on a signal in the window".into(),
        },
    ];
    i.changes = vec![Change {
        time: at(576),
        file: "php-fpm.log".into(),
        line: 41,
        text: "NOTICE: Reloading in progress ...".into(),
        seconds_before_first_error: 24,
    }];
    i.evidence = vec!["7,589 `connect_eacces` between 10:10:07 and 10:24:50".into()];
    i.evidence_refs = (0..11)
        .map(|k| {
            line(
                "error.log",
                100 + k,
                607 + k as i64,
                &format!("connect() failed (13: Permission denied) #{k}"),
            )
        })
        .collect();
    i.next_steps = vec!["Check `listen.owner` and `listen.mode` of the pool.".into()];
    let finding = baton_correlate::model::Finding {
        node: None,
        cause: Cause::Segfault,
        verdict: Verdict::Crash,
        count: 14,
        first: at(60),
        last: at(3500),
        paths: vec![baton_correlate::model::PathCount {
            path: "/shop/".into(),
            count: 9,
        }],
        pids: vec![2101, 2177],
        evidence: vec!["php-fpm workers segfaulted 14 times, each costing one 502".into()],
        evidence_refs: vec![line(
            "php-fpm.log",
            7,
            60,
            "WARNING: [pool www] child 2101 exited on signal 11 (SIGSEGV)",
        )],
        next_steps: vec![
            "Treat the segfaults as a reliability incident: enable core dumps.".into(),
        ],
    };
    Analysis {
        window: Window {
            start: Some(at(0)),
            end: Some(at(3599)),
        },
        totals: Totals {
            requests: 100_000,
            gateway_errors: 7613,
            status_502: 7613,
            status_504: 0,
            edge_gateway_errors: 0,
        },
        incidents: vec![i],
        background: Background {
            gateway_errors: 14,
            findings: vec![finding],
        },
        timeline: (10..=25).map(|m| minute(m, 500, 0)).collect(),
        ..Analysis::default()
    }
}
