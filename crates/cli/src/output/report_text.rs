//! `baton report` for a terminal: a headline per incident, a per-minute
//! sparkline, the evidence and the next steps, ready to paste into a
//! post-mortem. Colors only on a terminal.

use std::io::{self, Write};

use baton_correlate::Verdict;
use baton_correlate::model::{
    Analysis, EvidenceRef, Finding, Incident, Phase, PhaseClass, TimelineMinute,
};
use baton_logparse::time::Timestamp;

use super::words::{self, count, noun, share, statuses, thousands};
use crate::document::Report;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Crash => "1;31",
            Verdict::Connectivity => "1;35",
            Verdict::Capacity => "1;33",
            Verdict::Latency => "1;36",
            Verdict::Edge => "1;34",
            Verdict::Unknown => "1",
        };
        self.wrap(code, &v.as_str().to_uppercase())
    }
}

/// Seconds between two RFC 3339 times, as `3m42s`.
fn duration(a: Timestamp, b: Timestamp) -> String {
    words::duration(b.unix_secs() - a.unix_secs())
}

/// How many evidence lines an incident or finding shows before saying how
/// many more there are.
pub const LINES_SHOWN: usize = 8;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Gateway errors per minute from two minutes before the incident to two
/// after, one character a minute.
pub fn sparkline(timeline: &[TimelineMinute], inc: &Incident) -> (String, u64) {
    let (a, b) = (inc.start.unix_secs(), inc.end.unix_secs());
    let (from, to) = (a.div_euclid(60) * 60 - 120, b.div_euclid(60) * 60 + 120);
    let minutes = ((to - from) / 60 + 1).min(120);
    let counts: Vec<u64> = (0..minutes)
        .map(|i| {
            let t = from + i * 60;
            timeline
                .iter()
                .find(|m| m.t == t)
                .map_or(0, |m| m.status_502 + m.status_504 + m.edge)
        })
        .collect();
    let max = counts.iter().copied().max().unwrap_or(0);
    let line = counts
        .iter()
        .map(|&c| match c {
            0 => ' ',
            c => BARS[((c * 7).div_ceil(max.max(1)) as usize).min(7)],
        })
        .collect();
    (line, max)
}

/// A phase class in words: `refused`, `missing socket`.
pub fn phase_name(c: PhaseClass) -> String {
    c.as_str().replace('_', " ")
}

/// An incident's failure modes in one line: `refused 7 → permission 7,589
/// → refused 3`.
pub fn phases_line(phases: &[Phase]) -> String {
    let parts: Vec<String> = phases
        .iter()
        .map(|ph| format!("{} {}", phase_name(ph.class), thousands(ph.gateway_errors)))
        .collect();
    parts.join(" → ")
}

/// `gateway errors (502 x 7, 504 x 1)` after a count, zero parts left out.
fn gateway_errors(n: u64, s502: u64, s504: u64) -> String {
    let mix = statuses(s502, s504, "x");
    let head = count(n, "gateway error", "gateway errors");
    if mix.is_empty() {
        head
    } else {
        format!("{head} ({mix})")
    }
}

/// Evidence lines in the correlator's order (the lines the verdict rests
/// on first), at most [`LINES_SHOWN`], then how many more there are.
fn lines(out: &mut dyn Write, p: &Paint, refs: &[EvidenceRef], indent: &str) -> io::Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    writeln!(out, "{indent}lines:")?;
    for r in refs.iter().take(LINES_SHOWN) {
        let text: String = r.text.chars().take(160).collect();
        writeln!(
            out,
            "{indent}  {}",
            p.dim(&format!("{}:{}  {text}", r.file, r.line))
        )?;
    }
    if refs.len() > LINES_SHOWN {
        writeln!(
            out,
            "{indent}  and {} more (see --format json or html)",
            thousands((refs.len() - LINES_SHOWN) as u64)
        )?;
    }
    Ok(())
}

fn incident(out: &mut dyn Write, p: &Paint, a: &Analysis, i: &Incident) -> io::Result<()> {
    let what = i
        .culprits
        .first()
        .filter(|_| i.verdict == Verdict::Latency)
        .map(|c| format!(" in {} {}", c.kind.replace('_', "-"), c.name))
        .unwrap_or_default();
    let node = i
        .node
        .as_deref()
        .map(|n| format!("{} ", p.bold(&format!("[{n}]"))))
        .unwrap_or_default();
    // Workers that died several ways: each way with its count.
    let deaths = i
        .deaths_words()
        .map(|d| format!(" — {d}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {node}{} {}{what}  {}{deaths}",
        p.bold(&format!("#{}", i.id)),
        p.verdict(i.verdict),
        p.bold(i.cause.as_str()),
        p.dim(&format!("confidence {:.2}, {}", i.confidence, i.handoff))
    )?;
    let other = i.gateway_errors.saturating_sub(i.status_502 + i.status_504);
    writeln!(
        out,
        "   {}  {}{}{}",
        span(i.start, i.end),
        gateway_errors(i.gateway_errors, i.status_502, i.status_504),
        if other > 0 && other < i.gateway_errors {
            format!(", edge x {}", thousands(other))
        } else {
            String::new()
        },
        if i.status_499 > 0 {
            format!(", 499 x {}", thousands(i.status_499))
        } else {
            String::new()
        }
    )?;
    if i.phases.len() > 1 {
        writeln!(out, "   phases: {}", phases_line(&i.phases))?;
    }
    if !i.contributing_causes.is_empty() {
        let c: Vec<&str> = i.contributing_causes.iter().map(|c| c.as_str()).collect();
        writeln!(out, "   contributing: {}", c.join(", "))?;
    }
    if !i.top_paths.is_empty() {
        let paths: Vec<String> = i
            .top_paths
            .iter()
            .map(|t| {
                let n = format!(
                    "{} ({})",
                    thousands(t.count),
                    share(t.count, i.gateway_errors)
                );
                match &t.action {
                    Some(a) => format!("{} (action={a}) {n}", t.path),
                    None => format!("{} {n}", t.path),
                }
            })
            .collect();
        writeln!(out, "   top paths: {}", paths.join(", "))?;
    }
    if !i.upstream_errors.is_empty() {
        let k: Vec<String> = i
            .upstream_errors
            .iter()
            .map(|(k, n)| format!("{k} {}", thousands(*n)))
            .collect();
        writeln!(out, "   upstream errors: {}", k.join(", "))?;
    }
    for c in i.culprits.iter().take(3) {
        let what = match &c.call {
            Some(call) => format!("{call}, {}", count(c.traces, "trace", "traces")),
            None => count(c.traces, "fatal error", "fatal errors"),
        };
        writeln!(
            out,
            "   culprit: {} {} ({what})  {}",
            c.kind.replace('_', "-"),
            c.name,
            p.dim(&c.frame)
        )?;
    }
    if i.culprits.len() > 3 {
        writeln!(
            out,
            "   and {} more (see --format json or html)",
            count((i.culprits.len() - 3) as u64, "culprit", "culprits")
        )?;
    }
    let (line, max) = sparkline(&a.timeline, i);
    if max > 0 {
        writeln!(
            out,
            "   per minute: |{line}|  {}",
            p.dim(&format!(
                "peak {}/min, from 2 min before to 2 min after",
                thousands(max)
            ))
        )?;
    }
    if !i.changes.is_empty() {
        writeln!(out, "   what changed before:")?;
        for c in &i.changes {
            let text: String = c.text.chars().take(160).collect();
            writeln!(
                out,
                "     - {} ({})  {}:{}  {text}",
                c.time,
                words::before_first_error(c.seconds_before_first_error),
                c.file,
                c.line
            )?;
        }
    }
    writeln!(out, "   evidence:")?;
    for e in &i.evidence {
        writeln!(out, "     - {e}")?;
    }
    if !i.ruled_out.is_empty() {
        writeln!(out, "   ruled out:")?;
        for r in &i.ruled_out {
            writeln!(
                out,
                "     - {}/{}: {}",
                r.verdict.as_str(),
                r.cause.as_str(),
                r.why
            )?;
        }
    }
    writeln!(out, "   next steps:")?;
    for (n, s) in i.next_steps.iter().enumerate() {
        writeln!(out, "     {}. {s}", n + 1)?;
    }
    lines(out, p, &i.evidence_refs, "   ")?;
    writeln!(out)
}

/// One background finding: recurring failures outside any incident.
/// A fleet incident: one failure seen from several nodes.
fn fleet_incident(
    out: &mut dyn Write,
    p: &Paint,
    f: &baton_correlate::FleetIncident,
) -> io::Result<()> {
    writeln!(
        out,
        "{} {} {}  {}",
        p.bold(&format!("fleet #{}", f.id)),
        p.verdict(f.verdict),
        p.bold(f.cause.as_str()),
        p.dim(&format!(
            "shared: {}; nodes {} ({} first); incidents {}",
            f.shared.as_str(),
            f.nodes.join(", "),
            f.first_node,
            f.incident_ids
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    )?;
    writeln!(out, "   {}", span(f.start, f.end))?;
    for e in &f.evidence {
        writeln!(out, "   - {e}")?;
    }
    for s in &f.next_steps {
        writeln!(out, "   next: {s}")?;
    }
    writeln!(out)
}

/// `A .. B (duration)`, or `at A` when both are the same second.
fn span(a: Timestamp, b: Timestamp) -> String {
    let (at, bt) = (a.to_string(), b.to_string());
    if at == bt {
        format!("at {at}")
    } else {
        format!("{at} .. {bt} ({})", duration(a, b))
    }
}

fn finding(out: &mut dyn Write, p: &Paint, n: usize, f: &Finding) -> io::Result<()> {
    writeln!(
        out,
        "{} {} {}  {}",
        p.bold(&format!("background {}", n + 1)),
        p.verdict(f.verdict),
        p.bold(f.cause.as_str()),
        p.dim("not an incident: lone failures outside any rise above the background")
    )?;
    let when = span(f.first, f.last);
    writeln!(
        out,
        "   {}  {when}",
        count(f.count, "gateway error", "gateway errors")
    )?;
    if !f.paths.is_empty() {
        let paths: Vec<String> = f
            .paths
            .iter()
            .map(|t| format!("{} {}", t.path, thousands(t.count)))
            .collect();
        writeln!(out, "   paths: {}", paths.join(", "))?;
    }
    if !f.pids.is_empty() {
        let pids: Vec<String> = f.pids.iter().map(u32::to_string).collect();
        writeln!(
            out,
            "   {}: {}",
            noun(f.pids.len() as u64, "worker pid", "worker pids"),
            pids.join(", ")
        )?;
    }
    if !f.evidence.is_empty() {
        writeln!(out, "   evidence:")?;
        for e in &f.evidence {
            writeln!(out, "     - {e}")?;
        }
    }
    if !f.next_steps.is_empty() {
        writeln!(out, "   next steps:")?;
        for (k, s) in f.next_steps.iter().enumerate() {
            writeln!(out, "     {}. {s}", k + 1)?;
        }
    }
    lines(out, p, &f.evidence_refs, "   ")?;
    writeln!(out)
}

/// The configuration's mistakes, first: they hold whatever the logs show.
fn config_findings(
    out: &mut dyn Write,
    p: &Paint,
    findings: &[baton_correlate::ConfigFinding],
) -> io::Result<()> {
    use baton_correlate::Severity;
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        p.bold(&format!(
            "configuration: {}",
            count(findings.len() as u64, "finding", "findings")
        ))
    )?;
    for f in findings {
        let severity = match f.severity {
            Severity::Error => p.wrap("1;31", "error"),
            Severity::Warning => p.wrap("1;33", "warning"),
            Severity::Info => p.dim("info"),
        };
        writeln!(out, "  {severity} {}  {}", p.bold(f.check), f.text)?;
        if !f.refs.is_empty() {
            let at: Vec<String> = f
                .refs
                .iter()
                .map(|r| format!("{}:{}", r.file, r.line))
                .collect();
            writeln!(out, "    {}", p.dim(&at.join(", ")))?;
        }
    }
    writeln!(out)
}

/// Renders the report.
pub fn report(out: &mut dyn Write, r: &Report, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    let a = &r.analysis;
    let t = &a.totals;
    let requests = if t.requests > 0 {
        format!(" in {}", count(t.requests, "request", "requests"))
    } else {
        String::new()
    };
    let witness = match crate::coverage::counted_from(&r.stats, a) {
        Some(w) if t.requests > 0 => format!(", {w}"),
        Some(w) => format!(" {w}"),
        None => String::new(),
    };
    writeln!(
        out,
        "{}",
        p.bold(&format!(
            "baton report: {}, {}{requests}{witness}",
            count(a.incidents.len() as u64, "incident", "incidents"),
            gateway_errors(t.gateway_errors, t.status_502, t.status_504),
        ))
    )?;
    match (a.window.start, a.window.end) {
        // No time was read, so none was read in an assumed zone.
        (None, None) => writeln!(out, "window: no timestamp was read")?,
        (start, end) => writeln!(
            out,
            "window {} .. {}; zone for timestamps without one: {}",
            start.map_or("-".to_string(), |t| t.to_string()),
            end.map_or("-".to_string(), |t| t.to_string()),
            words::zone(&r.stats.zone.to_string(), r.stats.zone_source)
        )?,
    }
    let j = &a.joins;
    if j.gateway_errors > 0 {
        writeln!(
            out,
            "joins: {} of {} matched an error-log upstream error; {} had no access line",
            thousands(j.matched_upstream_error),
            count(
                j.gateway_errors,
                "access-log gateway error",
                "access-log gateway errors"
            ),
            count(j.unmatched_error_log, "upstream error", "upstream errors"),
        )?;
    }
    if t.edge_gateway_errors > 0 {
        writeln!(
            out,
            "edge: {}",
            count(
                t.edge_gateway_errors,
                "Cloudflare gateway error",
                "Cloudflare gateway errors"
            )
        )?;
    }
    for w in &a.warnings {
        writeln!(out, "{} {w}", p.wrap("1;33", "warning:"))?;
    }
    let skipped: u64 = r
        .stats
        .files
        .iter()
        .map(|f| f.summary.tally.skipped())
        .sum();
    let lines: u64 = r.stats.files.iter().map(|f| f.summary.tally.lines).sum();
    writeln!(
        out,
        "read {}, {}, {} skipped (see `baton stats`)",
        count(r.stats.files.len() as u64, "file", "files"),
        count(lines, "line", "lines"),
        thousands(skipped)
    )?;
    writeln!(out)?;
    config_findings(out, &p, &a.config_findings)?;
    for f in &a.fleet_incidents {
        fleet_incident(out, &p, f)?;
    }
    for i in &a.incidents {
        incident(out, &p, a, i)?;
    }
    if a.incidents.is_empty() {
        let seen = crate::coverage::witnesses(&r.stats, &a.window);
        if seen.is_empty() {
            writeln!(
                out,
                "no incident can be told: no log read can show a gateway error over this window"
            )?;
        } else {
            writeln!(
                out,
                "no incident in {}: no gateway error outside the background",
                crate::coverage::describe(&seen)
            )?;
        }
    }
    let b = &a.background;
    if !b.findings.is_empty() {
        writeln!(
            out,
            "{}",
            p.bold(&format!(
                "background findings: {} outside any incident",
                count(
                    b.findings.len() as u64,
                    "recurring failure",
                    "recurring failures"
                )
            ))
        )?;
        writeln!(out)?;
        for (n, f) in b.findings.iter().enumerate() {
            finding(out, &p, n, f)?;
        }
    }
    // With no gateway error at all, the background has nothing to say.
    if t.gateway_errors + t.edge_gateway_errors == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "background: {} in no incident",
        count(b.gateway_errors, "gateway error", "gateway errors")
    )
}

#[cfg(test)]
mod tests {
    use baton_correlate::model::{Cause, Culprit};
    use baton_logparse::Zone;

    use super::*;
    use crate::output::testing::{self, incident, line};

    fn render(a: baton_correlate::model::Analysis, source: &'static str) -> String {
        let r = testing::report(a, Zone::UTC, source);
        let mut out = Vec::new();
        report(&mut out, &r, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn durations() {
        let ts = |s: &str| baton_logparse::time::parse_iso8601(s.as_bytes()).unwrap();
        assert_eq!(
            duration(
                ts("2026-11-24T08:11:29+00:00"),
                ts("2026-11-24T08:15:11+00:00")
            ),
            "3m42s"
        );
        assert_eq!(
            duration(
                ts("2026-11-24T08:00:00+00:00"),
                ts("2026-11-24T09:30:00+01:00")
            ),
            "30m00s"
        );
    }

    #[test]
    fn phases_ruled_out_and_what_changed() {
        let text = render(testing::deploy(), "access-log offsets");
        assert!(
            text.contains("\n   phases: refused 7 → permission 7,589 → refused 3\n"),
            "{text}"
        );
        assert!(text.contains(
            "\n   ruled out:\n     - capacity/max_children: the pool never reached `pm.max_children` and traffic stayed at 1.1x the background\n     - crash/segfault: no child exited on a signal in the window\n"
        ));
        assert!(text.contains(
            "\n   what changed before:\n     - 2026-11-24T10:09:36+00:00 (24s before the first error)  php-fpm.log:41  NOTICE: Reloading in progress ...\n"
        ));
        assert!(text.contains("   2026-11-24T10:10:00+00:00 .. 2026-11-24T10:25:00+00:00 (15m00s)  7,599 gateway errors (502 x 7,599)\n"));
        assert!(text.contains("top paths: / 5,000 (66%)"));
    }

    #[test]
    fn one_phase_gives_no_phases_line() {
        let mut a = testing::deploy();
        a.incidents[0].phases.truncate(1);
        assert!(!render(a, "--tz").contains("phases:"));
    }

    #[test]
    fn evidence_lines_keep_their_order_and_say_how_many_more() {
        let text = render(testing::deploy(), "--tz");
        // The first eight of eleven, in the correlator's order, then the rest
        // counted.
        let shown: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("     error.log:"))
            .collect();
        assert_eq!(shown.len(), LINES_SHOWN);
        assert!(
            shown[0].starts_with("     error.log:100  connect() failed (13: Permission denied) #0")
        );
        assert!(shown[7].starts_with("     error.log:107  "));
        assert!(
            text.contains("\n     and 3 more (see --format json or html)\n"),
            "{text}"
        );
        // No "more" line when everything is shown.
        let mut a = testing::deploy();
        a.incidents[0].evidence_refs.truncate(LINES_SHOWN);
        assert!(!render(a, "--tz").contains("more (see --format json or html)"));
    }

    #[test]
    fn plurals_and_no_zero_parts() {
        let mut i = incident(1, Cause::SlowScript, 0, 20, 1);
        i.culprits = vec![Culprit {
            kind: "plugin".into(),
            name: "report-builder".into(),
            call: Some("sleep".into()),
            traces: 1,
            frame: "usleep() report-builder.php:3".into(),
        }];
        i.top_paths = vec![baton_correlate::model::TopPath {
            path: "/slow.php".into(),
            count: 1,
            action: None,
        }];
        let mut e = incident(2, Cause::FpmDown, 600, 600, 6);
        e.status_502 = 0;
        e.status_504 = 6;
        let a = baton_correlate::model::Analysis {
            totals: baton_correlate::model::Totals {
                requests: 1,
                gateway_errors: 7,
                status_502: 1,
                status_504: 6,
                edge_gateway_errors: 0,
            },
            incidents: vec![i, e],
            background: baton_correlate::model::Background {
                gateway_errors: 1,
                findings: Vec::new(),
            },
            ..Default::default()
        };
        let text = render(a, "--tz");
        assert!(text.starts_with(
            "baton report: 2 incidents, 7 gateway errors (502 x 1, 504 x 6) in 1 request\n"
        ));
        assert!(
            text.contains("(20s)  1 gateway error (502 x 1)\n"),
            "{text}"
        );
        // An incident within one second is said to be at it.
        assert!(
            text.lines()
                .any(|l| l.starts_with("   at ") && l.ends_with("  6 gateway errors (504 x 6)")),
            "{text}"
        );
        assert!(!text.contains("(0s)"), "{text}");
        assert!(!text.contains("x 0"), "{text}");
        assert!(text.contains("(sleep, 1 trace)"));
        assert!(text.contains("top paths: /slow.php 1 (1 of 1)"));
        assert!(text.contains("read 0 files, 0 lines, 0 skipped"));
        assert!(text.ends_with("background: 1 gateway error in no incident\n"));
    }

    #[test]
    fn an_assumed_zone_is_said_to_be_assumed() {
        let text = render(testing::deploy(), "default UTC");
        assert!(
            text.contains("zone for timestamps without one: UTC, assumed: no input carried a UTC offset and no --tz was given"),
            "{text}"
        );
        let text = render(testing::deploy(), "access-log offsets");
        assert!(text.contains("zone for timestamps without one: UTC (access-log offsets)\n"));
    }

    #[test]
    fn background_findings_come_after_the_incidents() {
        let text = render(testing::deploy(), "--tz");
        let inc = text.find("#1 CONNECTIVITY socket_permission").unwrap();
        let bg = text
            .find("background findings: 1 recurring failure outside any incident\n")
            .expect("a findings section");
        assert!(inc < bg);
        let f = &text[bg..];
        assert!(f.contains(
            "background 1 CRASH segfault  not an incident: lone failures outside any rise above the background\n"
        ), "{f}");
        assert!(f.contains(
            "   14 gateway errors  2026-11-24T10:01:00+00:00 .. 2026-11-24T10:58:20+00:00 (57m20s)\n"
        ));
        assert!(f.contains("   paths: /shop/ 9\n"));
        assert!(f.contains("   worker pids: 2101, 2177\n"));
        assert!(f.contains("     - php-fpm workers segfaulted 14 times, each costing one 502\n"));
        assert!(f.contains(
            "     1. Treat the segfaults as a reliability incident: enable core dumps.\n"
        ));
        assert!(f.contains(
            "     php-fpm.log:7  WARNING: [pool www] child 2101 exited on signal 11 (SIGSEGV)\n"
        ));
        // A single one is dated once.
        let mut a = testing::deploy();
        let f = &mut a.background.findings[0];
        f.count = 1;
        f.last = f.first;
        f.pids.truncate(1);
        f.evidence_refs = vec![line("kern.log", 3, 60, "segfault at 0")];
        let text = render(a, "--tz");
        assert!(text.contains("   1 gateway error  at 2026-11-24T10:01:00+00:00\n"));
        assert!(text.contains("   worker pid: 2101\n"));
    }
}
