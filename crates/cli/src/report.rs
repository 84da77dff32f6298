//! `baton report`: read everything with its events, correlate, render.

use std::io::Write as _;

use baton_correlate::{Analysis, Input, Options};
use baton_logparse::summary::TimeRange;
use baton_logparse::{Collect, Event, Format, Traffic};

use crate::args::ReportFormat;
use crate::config::{Config, FailOn, ReportConfig};
use crate::exit::Exit;
use crate::output;
use crate::stats::{self, Stats};

/// What `baton report` shows: what was read, and what it means.
pub struct Report {
    /// What was read (events moved out).
    pub stats: Stats,
    /// The correlator's conclusions.
    pub analysis: Analysis,
}

/// Keeps the instants inside `--since` / `--until`.
pub fn in_bounds(config: &Config, zone: baton_logparse::Zone) -> impl Fn(i64) -> bool + use<> {
    let since = config.since.map(|b| b.resolve(zone));
    let until = config.until.map(|b| b.resolve(zone));
    move |t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u)
}

/// What the correlator made of what was read.
pub struct Correlated {
    /// Its conclusions.
    pub analysis: Analysis,
    /// The events it read (inside `--since`/`--until`; untimed ones too,
    /// which join by pid only).
    pub events: Vec<Event>,
    /// Events inside the bounds that `for_correlator` kept out of it.
    pub aside: Vec<Event>,
}

/// Moves the events out of `stats` and runs the correlator on those that
/// `for_correlator` accepts, as `baton report` and `baton events` both do.
pub fn correlate(
    config: &Config,
    stats: &mut Stats,
    for_correlator: impl Fn(&Event) -> bool,
) -> Correlated {
    let keep = in_bounds(config, stats.zone);
    let mut input = Input {
        files: stats.files.iter().map(|f| f.path.clone()).collect(),
        requests: stats.access.requests,
        ..Input::default()
    };
    let mut aside = Vec::new();
    let mut traffic = Traffic::default();
    let mut window = TimeRange::default();
    for f in &mut stats.files {
        let s = &mut f.summary;
        for e in std::mem::take(&mut s.events) {
            if e.time.is_some_and(|t| !keep(t.unix_us)) {
                continue;
            }
            if for_correlator(&e) {
                input.events.push(e);
            } else {
                aside.push(e);
            }
        }
        if let Some(t) = s.traffic.take() {
            traffic.merge(&t);
        }
        let range = s.range();
        window.merge(range);
        let c = &mut input.coverage;
        match s.format {
            Format::NginxAccess => {
                c.access = true;
                input.access_ranges.push(range);
            }
            Format::NginxError => c.error = true,
            Format::FpmLog => c.fpm = true,
            Format::FpmSlowlog => c.slowlog = true,
            Format::Kernel => c.kernel = true,
            Format::Cloudflare => c.edge = true,
            Format::Journal => {
                if let Some(j) = &s.journal {
                    c.fpm |= j.fpm_lines > 0;
                    c.kernel |= j.kernel_lines > 0;
                }
            }
            _ => {}
        }
    }
    if config.since.is_some() || config.until.is_some() {
        traffic
            .minutes
            .retain(|m, _| keep(m * 60 * 1_000_000) || keep((m * 60 + 59) * 1_000_000));
        input.requests = traffic.minutes.values().map(|m| m.requests).sum();
    }
    input.traffic = traffic;
    // The window read, cut to --since / --until.
    let since = config.since.map(|b| b.resolve(stats.zone));
    let until = config.until.map(|b| b.resolve(stats.zone));
    let clamp = |t: Option<baton_logparse::Timestamp>| {
        t.map(|t| {
            let us = t
                .unix_us
                .max(since.unwrap_or(i64::MIN))
                .min(until.unwrap_or(i64::MAX));
            baton_logparse::Timestamp { unix_us: us, ..t }
        })
    };
    window.first = clamp(window.first);
    window.last = clamp(window.last);
    input.window = window;
    let opts = Options {
        zone: stats.zone,
        window_s: config.window_s,
        ..Options::default()
    };
    let analysis = baton_correlate::analyze(&input, &opts);
    Correlated {
        analysis,
        events: std::mem::take(&mut input.events),
        aside,
    }
}

/// Reads the inputs and runs the correlator.
pub fn build(config: &Config) -> Report {
    let mut stats = stats::gather(
        config,
        Collect {
            events: true,
            ..Collect::default()
        },
    );
    let analysis = correlate(config, &mut stats, |_| true).analysis;
    Report { stats, analysis }
}

/// Whether an incident matches `--fail-on`.
fn fails(analysis: &Analysis, on: FailOn) -> bool {
    analysis.incidents.iter().any(|i| match on {
        FailOn::Incident => true,
        FailOn::Verdict(v) => i.verdict == v,
    })
}

/// Runs `baton report`.
pub fn run(config: &Config, r: &ReportConfig) -> anyhow::Result<Exit> {
    let report = build(config);
    let mut out = output::open(config.output.as_deref())?;
    match r.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &output::report_json::report(&report))?;
            writeln!(out)?;
        }
        ReportFormat::Text => {
            let color =
                config.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
            output::report_text::report(&mut out, &report, color)?;
        }
        ReportFormat::Html => output::html::report(&mut out, &report)?,
    }
    out.flush()?;
    for e in &report.stats.errors {
        eprintln!("baton: {}: {}", e.path, e.reason);
    }
    let mut exit = Exit::Done;
    if let Some(on) = r.fail_on
        && fails(&report.analysis, on)
    {
        exit = exit.worst(Exit::Incident);
    }
    if !report.stats.errors.is_empty() {
        exit = exit.worst(Exit::Input);
    }
    Ok(exit)
}
