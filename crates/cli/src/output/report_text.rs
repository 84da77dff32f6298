//! `baton report` for a terminal: a headline per incident, a per-minute
//! sparkline, the evidence and the next steps, ready to paste into a
//! post-mortem. Colors only on a terminal.

use std::io::{self, Write};

use baton_correlate::Verdict;
use baton_correlate::model::{Analysis, Incident, TimelineMinute};

use crate::report::Report;

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

/// `1,234`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds between two RFC 3339 times, as `3m42s`.
fn duration(start: &str, end: &str) -> String {
    let secs = match (
        baton_logparse::time::parse_iso8601(start.as_bytes()),
        baton_logparse::time::parse_iso8601(end.as_bytes()),
    ) {
        (Some(a), Some(b)) => (b.unix_secs() - a.unix_secs()).max(0),
        _ => return String::new(),
    };
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Gateway errors per minute from two minutes before the incident to two
/// after, one character a minute.
pub fn sparkline(timeline: &[TimelineMinute], inc: &Incident) -> (String, u64) {
    let parse = |s: &str| baton_logparse::time::parse_iso8601(s.as_bytes()).map(|t| t.unix_secs());
    let (Some(a), Some(b)) = (parse(&inc.start), parse(&inc.end)) else {
        return (String::new(), 0);
    };
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

fn incident(out: &mut dyn Write, p: &Paint, a: &Analysis, i: &Incident) -> io::Result<()> {
    let what = i
        .culprits
        .first()
        .filter(|_| i.verdict == Verdict::Latency)
        .map(|c| format!(" in {} {}", c.kind.replace('_', "-"), c.name))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} {}{what}  {}",
        p.bold(&format!("#{}", i.id)),
        p.verdict(i.verdict),
        p.bold(i.cause.as_str()),
        p.dim(&format!("confidence {:.2}, {}", i.confidence, i.handoff))
    )?;
    writeln!(
        out,
        "   {} .. {} ({})  {} gateway errors (502 x {}, 504 x {}){}",
        i.start,
        i.end,
        duration(&i.start, &i.end),
        thousands(i.gateway_errors),
        i.status_502,
        i.status_504,
        if i.status_499 > 0 {
            format!(", {} x 499", i.status_499)
        } else {
            String::new()
        }
    )?;
    if !i.contributing_causes.is_empty() {
        let c: Vec<&str> = i.contributing_causes.iter().map(|c| c.as_str()).collect();
        writeln!(out, "   contributing: {}", c.join(", "))?;
    }
    if !i.top_paths.is_empty() {
        let paths: Vec<String> = i
            .top_paths
            .iter()
            .map(|t| match &t.action {
                Some(a) => format!("{} (action={a}) {}", t.path, t.count),
                None => format!("{} {}", t.path, t.count),
            })
            .collect();
        writeln!(out, "   top paths: {}", paths.join(", "))?;
    }
    if !i.upstream_errors.is_empty() {
        let k: Vec<String> = i
            .upstream_errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        writeln!(out, "   upstream errors: {}", k.join(", "))?;
    }
    for c in i.culprits.iter().take(3) {
        let what = match &c.call {
            Some(call) => format!("{call}, {} traces", c.traces),
            None => format!("{} fatal errors", c.traces),
        };
        writeln!(
            out,
            "   culprit: {} {} ({what})  {}",
            c.kind.replace('_', "-"),
            c.name,
            p.dim(&c.frame)
        )?;
    }
    let (line, max) = sparkline(&a.timeline, i);
    if max > 0 {
        writeln!(
            out,
            "   per minute: |{line}|  {}",
            p.dim(&format!("peak {max}/min, from 2 min before to 2 min after"))
        )?;
    }
    writeln!(out, "   evidence:")?;
    for e in &i.evidence {
        writeln!(out, "     - {e}")?;
    }
    writeln!(out, "   next steps:")?;
    for (n, s) in i.next_steps.iter().enumerate() {
        writeln!(out, "     {}. {s}", n + 1)?;
    }
    if !i.evidence_refs.is_empty() {
        writeln!(out, "   lines:")?;
        for r in i.evidence_refs.iter().take(6) {
            let text: String = r.text.chars().take(160).collect();
            writeln!(
                out,
                "     {}",
                p.dim(&format!("{}:{}  {text}", r.file, r.line))
            )?;
        }
    }
    writeln!(out)
}

/// Renders the report.
pub fn report(out: &mut dyn Write, r: &Report, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    let a = &r.analysis;
    let t = &a.totals;
    writeln!(
        out,
        "{}",
        p.bold(&format!(
            "baton report: {} {}, {} gateway errors (502 x {}, 504 x {}) in {} requests",
            a.incidents.len(),
            if a.incidents.len() == 1 {
                "incident"
            } else {
                "incidents"
            },
            thousands(t.gateway_errors),
            thousands(t.status_502),
            thousands(t.status_504),
            thousands(t.requests)
        ))
    )?;
    writeln!(
        out,
        "window {} .. {}; zone for timestamps without one: {} ({})",
        a.window.start.as_deref().unwrap_or("-"),
        a.window.end.as_deref().unwrap_or("-"),
        r.stats.zone,
        r.stats.zone_source
    )?;
    let j = &a.joins;
    if j.gateway_errors > 0 {
        writeln!(
            out,
            "joins: {} of {} access-log gateway errors matched an error-log upstream error; {} upstream errors had no access line",
            thousands(j.matched_upstream_error),
            thousands(j.gateway_errors),
            thousands(j.unmatched_error_log)
        )?;
    }
    if t.edge_gateway_errors > 0 {
        writeln!(
            out,
            "edge: {} Cloudflare gateway errors",
            thousands(t.edge_gateway_errors)
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
        "read {} files, {} lines, {} skipped (see `baton stats`)",
        r.stats.files.len(),
        thousands(lines),
        thousands(skipped)
    )?;
    writeln!(out)?;
    for i in &a.incidents {
        incident(out, &p, a, i)?;
    }
    if a.incidents.is_empty() {
        writeln!(out, "no incident: gateway errors, if any, were isolated")?;
    }
    writeln!(
        out,
        "background: {} gateway errors in no incident",
        thousands(a.background.gateway_errors)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(
            duration("2026-11-24T08:11:29+00:00", "2026-11-24T08:15:11+00:00"),
            "3m42s"
        );
        assert_eq!(
            duration("2026-11-24T08:00:00+00:00", "2026-11-24T09:30:00+01:00"),
            "30m00s"
        );
    }
}
