//! Text for a terminal.

use std::io::{self, Write};

use baton_logparse::SkipReason;

use crate::document::Stats;

use super::escape_bytes;

fn fmt_time(t: Option<baton_logparse::Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
}

/// Renders `baton stats` for a person.
pub fn stats(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    writeln!(
        out,
        "zone for timestamps without one: {} ({})",
        s.zone, s.zone_source
    )?;
    writeln!(out)?;
    for f in &s.files {
        let t = &f.summary.tally;
        let format = match f.summary.variant {
            Some(v) => format!("{} ({v})", f.summary.format),
            None => f.summary.format.to_string(),
        };
        match &f.container {
            Some(c) => writeln!(out, "{}  {format}  container {c}", f.path)?,
            None => writeln!(out, "{}  {format}", f.path)?,
        }
        writeln!(
            out,
            "  lines {}  parsed {}  skipped {}  bytes {}",
            t.lines,
            t.parsed,
            t.skipped(),
            t.bytes
        )?;
        if let Some(c) = f.compressed_bytes {
            writeln!(out, "  {} compressed bytes {c}", f.compression)?;
        }
        if let Some((y, src)) = f.year {
            writeln!(out, "  year of the first yearless time: {y} ({src})")?;
        }
        if let Some(r) = &f.summary.reason {
            writeln!(out, "  {r}")?;
        }
        let range = f.summary.range();
        if range.first.is_some() {
            writeln!(
                out,
                "  from {} to {}",
                fmt_time(range.first),
                fmt_time(range.last)
            )?;
        }
        let reasons: Vec<String> = SkipReason::ALL
            .iter()
            .filter(|r| t.skipped_for(**r) > 0)
            .map(|r| format!("{r} {}", t.skipped_for(*r)))
            .collect();
        if !reasons.is_empty() {
            writeln!(out, "  skipped: {}", reasons.join(", "))?;
            for smp in &t.samples {
                writeln!(
                    out,
                    "    line {} ({}): {}",
                    smp.line,
                    smp.reason,
                    escape_bytes(&smp.text)
                )?;
            }
        }
        if let Some(e) = &f.summary.read_error {
            writeln!(out, "  cut short: {e}")?;
        }
    }
    writeln!(out)?;
    if s.access_files > 0 {
        let status: Vec<String> = s
            .access
            .status()
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(out, "requests: {}", s.access.requests)?;
        writeln!(out, "  by status: {}", status.join(", "))?;
    }
    let ue = s.error.upstream_errors();
    if !ue.is_empty() || s.error.upstream_warnings > 0 {
        let total: u64 = ue.iter().map(|(_, n)| n).sum();
        let kinds: Vec<String> = ue
            .iter()
            .map(|(k, n)| format!("{} {n}", k.as_str()))
            .collect();
        writeln!(out, "upstream errors: {total}")?;
        if !kinds.is_empty() {
            writeln!(out, "  by kind: {}", kinds.join(", "))?;
        }
        writeln!(out, "upstream warnings: {}", s.error.upstream_warnings)?;
    }
    let php = s.php_messages();
    if php.total() > 0 {
        let levels: Vec<String> = php
            .non_zero()
            .iter()
            .map(|(l, n)| format!("{} {n}", l.as_str()))
            .collect();
        writeln!(out, "PHP messages: {} ({})", php.total(), levels.join(", "))?;
    }
    if let Some(f) = &s.fpm {
        let signals: Vec<String> = f
            .child_signals
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            out,
            "php-fpm: max_children reached {}, seems busy {}, slow requests {}, execution timeouts {}",
            f.max_children_reached, f.seems_busy, f.slow_requests, f.execution_timeouts
        )?;
        writeln!(
            out,
            "  child exits {} (on a signal: {}), restarts {}, reloads {}, startup failures {}, PHP fatal errors {}",
            f.child_exits,
            if signals.is_empty() {
                "none".to_string()
            } else {
                signals.join(", ")
            },
            f.restarts,
            f.reloads,
            f.startup_failures,
            f.php_fatal_errors
        )?;
    }
    if let Some(m) = &s.mysql_slow {
        let top: Vec<String> = m
            .top(3)
            .iter()
            .map(|d| {
                format!(
                    "{} x{} {:.1} s{}",
                    d.fingerprint.chars().take(60).collect::<String>(),
                    d.count,
                    d.total_seconds,
                    d.table
                        .as_deref()
                        .map_or(String::new(), |t| format!(" on {t}"))
                )
            })
            .collect();
        writeln!(
            out,
            "MySQL slow queries: {} ({} fingerprints){}",
            m.queries,
            m.by_digest.len(),
            if top.is_empty() {
                String::new()
            } else {
                format!("; most time: {}", top.join("; "))
            }
        )?;
    }
    if let Some(sl) = &s.slowlog {
        writeln!(out, "slowlog traces: {}", sl.traces)?;
        let top = |m: &std::collections::BTreeMap<Vec<u8>, u64>, what: &str| -> io::Result<()> {
            let mut v: Vec<(&Vec<u8>, &u64)> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            if !v.is_empty() {
                let parts: Vec<String> = v
                    .iter()
                    .map(|(k, n)| format!("{} {n}", escape_bytes(k)))
                    .collect();
                writeln!(out, "  by {what}: {}", parts.join(", "))?;
            }
            Ok(())
        };
        let mut top = top;
        top(&sl.by_plugin, "plugin")?;
        top(&sl.by_mu_plugin, "mu-plugin")?;
        top(&sl.by_theme, "theme")?;
        writeln!(
            out,
            "  core {}, other {}, truncated {}",
            sl.core, sl.other, sl.truncated
        )?;
    }
    Ok(())
}
