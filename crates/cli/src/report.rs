//! `baton report`: read everything with its events, correlate, render.

use std::io::Write as _;

use baton_correlate::clocks::{self, FileClock, Shift};
use baton_correlate::{Analysis, Input, Options};
use baton_logparse::summary::{FileSummary, TimeRange};
use baton_logparse::time::fmt_offset;
use baton_logparse::{Collect, Event, Format, Traffic};

use crate::args::ReportFormat;
use crate::config::{Config, FailOn, ReportConfig};
use crate::exit::Exit;
use crate::output;
use crate::stats::{self, Stats, StatsFile};

pub use crate::document::Report;

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
    /// The nodes read, with their requests and gateway errors.
    pub nodes: Vec<crate::document::NodeDoc>,
}

/// Moves the events out of `stats` and runs the correlator on those that
/// `for_correlator` accepts, as `baton report` and `baton events` both do.
pub fn correlate(
    config: &Config,
    stats: &mut Stats,
    for_correlator: impl Fn(&Event) -> bool,
) -> Correlated {
    let keep = in_bounds(config, stats.zone);
    let input = Input {
        files: stats.files.iter().map(|f| f.path.clone()).collect(),
        requests: stats.access.requests,
        config: stats.config.clone(),
        ..Input::default()
    };
    // Every clock checked: offset-less logs written in another zone are
    // re-read at the offset that lines them up with the timed ones, before
    // anything is cut to --since/--until.
    let files: Vec<FileClock> = (0..stats.files.len())
        .map(|i| file_clock(&stats.files, i))
        .collect();
    let mut events = gather_events(stats.files.iter_mut().map(|f| &mut f.summary.events));
    let shifts = clocks::align(&mut events, &files);
    let clock_warnings = clock_warnings(stats, &shifts);
    for (i, (f, c)) in stats.files.iter_mut().zip(&files).enumerate() {
        let shift = shifts.iter().find(|s| s.file as usize == i);
        f.tz_source = Some(match shift {
            _ if c.format == Format::Unknown => continue,
            Some(s) => {
                reread_ranges(&mut f.summary, s.offset_s);
                format!(
                    "read as {} (shifted {:+} h) to match {}",
                    fmt_offset(s.offset_s),
                    s.shift_s as f64 / 3600.0,
                    s.reference.name()
                )
            }
            None if c.own_offset => "own offsets".to_string(),
            None => stats.zone_source.to_string(),
        });
    }
    // Every node is correlated apart: its joins, backgrounds and
    // incidents are its own.
    let names = crate::nodes::names(&stats.files);
    let node_of: Vec<usize> = stats
        .files
        .iter()
        .map(|f| names.iter().position(|n| *n == f.node).unwrap_or(0))
        .collect();
    let several = names.len() > 1;
    let mut inputs: Vec<Input> = (0..names.len().max(1))
        .map(|k| Input {
            files: input.files.clone(),
            requests: if several {
                stats
                    .files
                    .iter()
                    .zip(&node_of)
                    .filter(|(_, n)| **n == k)
                    .filter_map(|(f, _)| f.summary.access.as_ref().map(|a| a.requests))
                    .sum()
            } else {
                input.requests
            },
            config: if several {
                node_config(stats, &node_of, k)
            } else {
                input.config.clone()
            },
            ..Input::default()
        })
        .collect();
    let node_at = |file: u32| node_of.get(file as usize).copied().unwrap_or(0);
    let outside = |e: &Event| e.time.is_some_and(|t| !keep(t.unix_us));
    // Those outside the bounds dropped and those the correlator does not
    // take set aside.
    events.retain(|e| !outside(e));
    let aside: Vec<Event> = events.extract_if(.., |e| !for_correlator(e)).collect();
    if inputs.len() == 1 {
        // One node: the events stay where they are.
        inputs[0].events = events;
    } else {
        // Node by node, the vector shrunk after each: the events are held
        // once, not once read and once more split.
        for (k, input) in inputs.iter_mut().enumerate() {
            input.events = events.extract_if(.., |e| node_at(e.file) == k).collect();
            events.shrink_to_fit();
        }
        // A file's node is always one of the names: nothing is left.
        debug_assert!(events.is_empty());
    }
    let mut traffics: Vec<Traffic> = inputs.iter().map(|_| Traffic::default()).collect();
    let mut windows: Vec<TimeRange> = inputs.iter().map(|_| TimeRange::default()).collect();
    let mut window = TimeRange::default();
    for (i, f) in stats.files.iter_mut().enumerate() {
        let k = node_of.get(i).copied().unwrap_or(0);
        let input = &mut inputs[k];
        let s = &mut f.summary;
        if let Some(t) = s.traffic.take() {
            traffics[k].merge(&t);
        }
        let range = s.range();
        window.merge(range);
        windows[k].merge(range);
        let c = &mut input.coverage;
        // What a file covers is what it holds: a container's log may hold
        // access and error lines (mixed), a journal nginx's error entries.
        if let Some(a) = &s.access {
            c.access = true;
            input.access_ranges.push(a.range);
        }
        c.error |= s.error.is_some();
        match s.format {
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
    let clamped = |mut w: TimeRange| {
        w.first = clamp(w.first);
        w.last = clamp(w.last);
        w
    };
    let opts = Options {
        zone: stats.zone,
        window_s: config.window_s,
        ..Options::default()
    };
    for ((input, mut traffic), w) in inputs.iter_mut().zip(traffics).zip(windows) {
        if config.since.is_some() || config.until.is_some() {
            traffic
                .minutes
                .retain(|m, _| keep(m * 60 * 1_000_000) || keep((m * 60 + 59) * 1_000_000));
            input.requests = traffic.minutes.values().map(|m| m.requests).sum();
        }
        input.traffic = traffic;
        input.window = clamped(if several { w } else { window });
    }
    let files_of = |k: usize| node_of.iter().filter(|n| **n == k).count();
    let doc = |k: usize, name: &str, a: &Analysis| crate::document::NodeDoc {
        name: name.to_string(),
        files: files_of(k),
        requests: a.totals.requests,
        gateway_errors: a.totals.gateway_errors,
    };
    let mut nodes = Vec::new();
    let mut analysis = if several {
        let w = clamped(window);
        let parts: Vec<crate::nodes::NodeAnalysis> = inputs
            .iter()
            .zip(&names)
            .map(|(input, name)| crate::nodes::NodeAnalysis {
                name: name.clone(),
                analysis: baton_correlate::analyze(input, &opts),
            })
            .collect();
        for (k, p) in parts.iter().enumerate() {
            nodes.push(doc(k, &p.name, &p.analysis));
        }
        crate::nodes::combine(
            parts,
            baton_correlate::model::Window {
                start: w.first.map(|t| opts.zone.local(t)),
                end: w.last.map(|t| opts.zone.local(t)),
            },
        )
    } else {
        let a = baton_correlate::analyze(&inputs[0], &opts);
        let name = names.first().map_or(crate::nodes::LOCAL, |n| n.as_str());
        nodes.push(doc(0, name, &a));
        a
    };
    analysis.warnings.splice(0..0, clock_warnings);
    analysis.warnings.splice(0..0, stats.notes.iter().cloned());
    // A zone assumed rather than read is said aloud.
    if stats.zone_source == "default UTC" {
        let assumed: Vec<&str> = stats
            .files
            .iter()
            .zip(&files)
            // A file with no timestamp read had no time read as UTC.
            .filter(|(f, c)| {
                !c.own_offset && c.format != Format::Unknown && f.summary.range().first.is_some()
            })
            .map(|(f, _)| f.path.as_str())
            .collect();
        if !assumed.is_empty() {
            analysis.warnings.insert(
                0,
                format!(
                    "no input carries a UTC offset and no --tz was given: the times of {} were read as UTC; if the server's clock ran in another zone, give it with --tz (e.g. --tz Europe/Berlin or --tz +01:00)",
                    assumed.join(", ")
                ),
            );
        }
    }
    let events = gather_events(inputs.iter_mut().map(|i| &mut i.events));
    crate::texts::fill(&mut analysis, &events, &input.files);
    Correlated {
        analysis,
        events,
        aside,
        nodes,
    }
}

/// The configuration facts of node `k`'s inputs (the machine's memory
/// taken from the run's).
fn node_config(stats: &Stats, node_of: &[usize], k: usize) -> baton_logparse::config::ConfigFacts {
    use baton_logparse::config::{ConfigFacts, Parsed};
    let (mut nginx, mut fpm) = (Vec::new(), Vec::new());
    for (f, n) in stats.files.iter().zip(node_of) {
        match &f.summary.config {
            Some(Parsed::Nginx(c)) if *n == k => nginx.push(c),
            Some(Parsed::Fpm(c)) if *n == k => fpm.push(c),
            _ => {}
        }
    }
    let mut facts = ConfigFacts::from_parsed(&nginx, &fpm);
    facts.memory_bytes = stats.config.memory_bytes;
    facts.memory_source = stats.config.memory_source.clone();
    facts
}

/// The events of several vectors in one, in their order, never held twice:
/// the first vector is kept and grown (a large allocation grows in place,
/// remapped rather than copied, and its pages are touched only as they are
/// filled), and each other one is moved in a piece at a time from its end,
/// shrinking as it goes. Nothing is moved twice: no rotation at the end.
fn gather_events<'a>(parts: impl Iterator<Item = &'a mut Vec<Event>>) -> Vec<Event> {
    /// Events moved per piece (a megabyte or so).
    const PIECE: usize = 4096;
    let mut parts = parts;
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    let mut events = std::mem::take(first);
    let mut rest: Vec<&mut Vec<Event>> = parts.filter(|p| !p.is_empty()).collect();
    let more: usize = rest.iter().map(|p| p.len()).sum();
    if more == 0 {
        return events;
    }
    events.reserve_exact(more);
    for p in rest.iter_mut() {
        p.reverse();
        while !p.is_empty() {
            let k = p.len().saturating_sub(PIECE);
            events.extend(p.drain(k..).rev());
            p.shrink_to_fit();
        }
    }
    events
}

/// What `clocks::align` needs to know of input `i`: its format, whether
/// its timestamps carry their own offset, and the rotated set it belongs
/// to (the first input of the same directory, base name and format).
fn file_clock(files: &[StatsFile], i: usize) -> FileClock {
    let f = &files[i];
    let s = &f.summary;
    let own_offset = match s.format {
        Format::NginxError | Format::FpmLog | Format::FpmSlowlog => false,
        // `dmesg --time-format iso` and rsyslog's RFC 3339 lines carry an
        // offset; raw `dmesg` is dated from the boot time, not a zone;
        // `dmesg -T` and kern.log's short lines have no offset.
        Format::Kernel => s.events.iter().find(|e| e.time.is_some()).is_some_and(|e| {
            let t = &e.text;
            (t.len() > 10 && t[4] == b'-' && t[10] == b'T')
                || (t.first() == Some(&b'[') && t.get(1).is_some_and(|b| !b.is_ascii_alphabetic()))
        }),
        // Journal lines in `short` forms carry no offset; `short-iso`,
        // JSON, export and RFC 5424 do.
        Format::Journal => s.journal.as_ref().is_none_or(|j| {
            let n = |f: &str| j.by_form.get(f).copied().unwrap_or(0);
            n("short") + n("short-precise")
                <= n("short-iso") + n("short-iso-precise") + n("json") + n("export") + n("rfc5424")
        }),
        _ => true,
    };
    let key = |f: &StatsFile| {
        let p = std::path::Path::new(&f.path);
        (
            p.parent().map(|d| d.to_path_buf()),
            crate::input::rotation_base(p),
            f.summary.format,
            f.container.clone(),
        )
    };
    let me = key(f);
    let group = files.iter().position(|g| key(g) == me).unwrap_or(i) as u32;
    FileClock {
        format: s.format,
        own_offset,
        group,
    }
}

/// Re-reads an input's time ranges at another offset, as its events were.
fn reread_ranges(s: &mut FileSummary, offset_s: i32) {
    let mut ranges: Vec<&mut TimeRange> = Vec::new();
    ranges.extend(s.error.as_mut().map(|x| &mut x.range));
    ranges.extend(s.fpm.as_mut().map(|x| &mut x.range));
    ranges.extend(s.slowlog.as_mut().map(|x| &mut x.range));
    ranges.extend(s.kernel.as_mut().map(|x| &mut x.range));
    if let Some(j) = s.journal.as_mut() {
        ranges.push(&mut j.range);
        ranges.push(&mut j.fpm.range);
        ranges.push(&mut j.kernel.range);
    }
    for r in ranges {
        r.first = r.first.map(|t| clocks::reread(t, offset_s));
        r.last = r.last.map(|t| clocks::reread(t, offset_s));
    }
}

/// One warning per input re-read; one for the set when every offset-less
/// input needed the same offset (the set was read in the wrong zone).
fn clock_warnings(stats: &Stats, shifts: &[Shift]) -> Vec<String> {
    let path = |s: &Shift| {
        stats
            .files
            .get(s.file as usize)
            .map_or("?", |f| f.path.as_str())
    };
    let hours = |s: &Shift| s.shift_s as f64 / 3600.0;
    let counts = |s: &Shift| {
        format!(
            "{} of {} events match then, {} as read",
            s.matched, s.probes, s.as_read
        )
    };
    let mut out = Vec::new();
    let (set, own): (Vec<&Shift>, Vec<&Shift>) = shifts.iter().partition(|s| s.whole_set);
    if let Some(first) = set.first() {
        let evidence: Vec<String> = set
            .iter()
            .filter(|s| !s.with_set)
            .map(|s| format!("{}: {}", path(s), counts(s)))
            .collect();
        let followed: Vec<&str> = set.iter().filter(|s| s.with_set).map(|s| path(s)).collect();
        let mut w = format!(
            "the offset-less logs ({}) line up with {} only shifted by {:+} h: they were written in {}, not {}; read as {}",
            evidence.join("; "),
            first.reference.name(),
            hours(first),
            fmt_offset(first.offset_s),
            stats.zone,
            fmt_offset(first.offset_s),
        );
        if !followed.is_empty() {
            w.push_str(&format!(
                " ({} too, with too few events of its own to tell)",
                followed.join(", ")
            ));
        }
        w.push_str(&format!("; try --tz {}", fmt_offset(first.offset_s)));
        out.push(w);
    }
    for s in own {
        out.push(format!(
            "{}: its times line up with {} only shifted by {:+} h ({}): read as {}; fix the zone of the host or container that wrote it",
            path(s),
            s.reference.name(),
            hours(s),
            counts(s),
            fmt_offset(s.offset_s),
        ));
    }
    out
}

/// Reads the inputs and runs the correlator.
pub fn build(config: &Config) -> Report {
    let mut stats = stats::gather(
        config,
        Collect {
            events: true,
            defer_text: true,
            ..Collect::default()
        },
    );
    let c = correlate(config, &mut stats, |_| true);
    Report {
        stats,
        analysis: c.analysis,
        nodes: c.nodes,
    }
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
    let mut report = build(config);
    let bounded = config.since.is_some() || config.until.is_some();
    let blind = crate::coverage::no_witness(&report.stats, &report.analysis.window, bounded);
    if let Some(w) = &blind
        && r.format != ReportFormat::Text
    {
        report.analysis.warnings.insert(0, w.clone());
    }
    let mut out = output::open(config.output.as_deref())?;
    if let Some(w) = &blind
        && r.format == ReportFormat::Text
    {
        writeln!(out, "baton: {w}")?;
    }
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
    if blind.is_some() {
        exit = exit.worst(Exit::NoWitness);
    }
    if !report.stats.errors.is_empty() {
        exit = exit.worst(Exit::Input);
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::gather_events;
    use baton_logparse::Event;

    #[test]
    fn events_are_gathered_in_their_order_and_the_parts_emptied() {
        let part = |file: u32, n: u64| -> Vec<Event> {
            (0..n)
                .map(|line| Event {
                    file,
                    line,
                    ..Event::default()
                })
                .collect()
        };
        // An empty first part, one larger than a piece, a small one.
        for sizes in [vec![0, 9000, 3], vec![5000, 0, 10_000, 1], vec![7], vec![]] {
            let mut parts: Vec<Vec<Event>> = sizes
                .iter()
                .enumerate()
                .map(|(f, &n)| part(f as u32, n))
                .collect();
            let got = gather_events(parts.iter_mut());
            let want: Vec<(u32, u64)> = sizes
                .iter()
                .enumerate()
                .flat_map(|(f, &n)| (0..n).map(move |l| (f as u32, l)))
                .collect();
            let got: Vec<(u32, u64)> = got.iter().map(|e| (e.file, e.line)).collect();
            assert_eq!(got, want, "{sizes:?}");
            assert!(parts.iter().all(Vec::is_empty));
        }
    }
}
