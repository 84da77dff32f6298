//! `baton merge`: `baton.report.v1` documents of different nodes, or of
//! one node over consecutive windows, read back into the correlator's own
//! types and combined into the report one run over all their inputs would
//! give, by the same rules as a fleet run (`nodes::combine`): incidents in
//! start order and renumbered, each with its node; fleet incidents
//! recomputed by `baton_correlate::fleet`; findings, totals, joins,
//! timelines and configuration findings combined.
//!
//! What one run would know that the documents do not: an incident cut in
//! two by the boundary between two windows of one node. Two such halves
//! (the same node, cause and verdict, each within [`JOIN_GAP_S`] of the
//! cut and of each other) are joined into one incident: its counts are
//! summed and its lists combined, but its verdict is the first half's,
//! not decided again from the joined evidence.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use baton_correlate::model::{Finding, Incident, Mark, TimelineMinute, Window};
use baton_correlate::{Analysis, ConfigFinding};
use baton_logparse::summary::{FileSummary, TimeRange};
use baton_logparse::time::{Timestamp, parse_iso8601};
use baton_logparse::{Format, SkipReason, Tally, Zone};
use serde::Deserialize;

use crate::args::ReportFormat;
use crate::document::{NodeDoc, Report, Stats, StatsFile};
use crate::exit::Exit;
use crate::output::json::FileDoc;

/// How far apart (seconds) two halves of an incident cut by a window's
/// boundary may be: the segmenter's longest lull inside one episode of
/// one failure mode (5 minutes).
pub const JOIN_GAP_S: i64 = 300;

/// `baton merge` settings.
#[derive(Debug)]
pub struct MergeConfig {
    /// The documents (`-`: standard input).
    pub paths: Vec<PathBuf>,
    /// Output format.
    pub format: ReportFormat,
    /// Where to write (`None`: standard output).
    pub output: Option<PathBuf>,
}

/// A `baton.report.v1` document, read back (its `schema` checked first;
/// its `fleet_incidents` are recomputed, not read).
#[derive(Debug, Deserialize)]
pub struct ReportIn {
    /// The zone used for offset-less times.
    pub tz: String,
    /// Where it came from.
    pub tz_source: String,
    /// The window read.
    pub window: Window,
    /// The inputs read.
    pub files: Vec<FileDoc<'static>>,
    /// Warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Configuration findings.
    #[serde(default)]
    pub config_findings: Vec<ConfigFinding>,
    /// Joins.
    pub joins: baton_correlate::model::Joins,
    /// Totals.
    pub totals: baton_correlate::model::Totals,
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Background.
    pub background: baton_correlate::model::Background,
    /// Gateway errors per minute.
    #[serde(default)]
    pub timeline: Vec<TimelineMinute>,
    /// FPM and kernel events per minute.
    #[serde(default)]
    pub marks: Vec<Mark>,
    /// The nodes read.
    #[serde(default)]
    pub nodes: Vec<NodeDoc>,
}

/// Why a document cannot be merged.
#[derive(Debug)]
pub enum ReadError {
    /// Not a `baton.report.v1` document (exit 2).
    NotAReport(String),
    /// Could not be read (exit 3).
    Io(String),
}

/// Reads one document from its text.
pub fn parse(bytes: &[u8]) -> Result<ReportIn, ReadError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ReadError::NotAReport(format!("not JSON ({e})")))?;
    match v.get("schema").and_then(|s| s.as_str()) {
        Some("baton.report.v1") => {}
        Some(other) => {
            return Err(ReadError::NotAReport(format!(
                "its schema is {other:?}, not \"baton.report.v1\""
            )));
        }
        None => return Err(ReadError::NotAReport("it has no \"schema\"".into())),
    }
    serde_json::from_value(v).map_err(|e| ReadError::NotAReport(e.to_string()))
}

fn read(path: &std::path::Path) -> Result<ReportIn, ReadError> {
    let mut bytes = Vec::new();
    let r = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    r.map_err(|e| ReadError::Io(e.to_string()))?;
    parse(&bytes)
}

/// The merged report, ready to render.
pub struct Merged {
    /// The zone shown.
    pub tz: String,
    /// Where it came from.
    pub tz_source: String,
    /// Incidents, fleet incidents, findings, totals.
    pub analysis: Analysis,
    /// Every document's files, in node order.
    pub files: Vec<FileDoc<'static>>,
    /// The nodes.
    pub nodes: Vec<NodeDoc>,
}

/// The node of a document that read one node (its incidents carry none).
fn doc_node(d: &ReportIn) -> String {
    match d.nodes.as_slice() {
        [one] => one.name.clone(),
        _ => d
            .files
            .first()
            .map_or(crate::nodes::LOCAL.to_string(), |f| f.node.to_string()),
    }
}

/// Unix microseconds of an RFC 3339 time (`i64::MAX` when unreadable).
fn us(t: &Timestamp) -> i64 {
    t.unix_us
}

/// Merges the documents (each with the name it was read from).
pub fn merge(docs: Vec<ReportIn>) -> Merged {
    // Nodes, by name, as a fleet run orders them.
    let mut names: BTreeSet<String> = BTreeSet::new();
    for d in &docs {
        names.insert(doc_node(d));
        names.extend(d.nodes.iter().map(|n| n.name.clone()));
    }
    let names: Vec<String> = names.into_iter().collect();
    let k_of = |n: &str| names.iter().position(|x| x == n).unwrap_or(0);
    let several = names.len() > 1;
    let mut out = Analysis::default();

    // One node's documents in window order: its consecutive windows.
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| {
        let d = &docs[i];
        (
            k_of(&doc_node(d)),
            d.window.start.as_ref().map_or(i64::MIN, us),
            i,
        )
    });

    let mut incidents: Vec<(i64, usize, usize, u32, Incident)> = Vec::new();
    let mut findings: Vec<(usize, Finding)> = Vec::new();
    let mut files: Vec<FileDoc<'static>> = Vec::new();
    let mut nodes: BTreeMap<String, NodeDoc> = BTreeMap::new();
    let mut timeline: BTreeMap<i64, TimelineMinute> = BTreeMap::new();
    let mut marks: BTreeMap<(i64, &'static str), Mark> = BTreeMap::new();
    let (mut lo, mut hi): (Option<Timestamp>, Option<Timestamp>) = (None, None);
    let mut zones: Vec<(String, String)> = Vec::new();
    // Per node: the end of the window read before, and the index (in
    // `incidents`) of its last incident, for joining across the cut.
    let mut last_of: BTreeMap<String, (i64, Option<usize>)> = BTreeMap::new();
    let mut joined = 0;
    for (rank, &i) in order.iter().enumerate() {
        let d = &docs[i];
        let own = doc_node(d);
        if !zones.iter().any(|(z, _)| *z == d.tz) {
            zones.push((d.tz.clone(), d.tz_source.clone()));
        }
        // The window: earliest start, latest end.
        if let Some(s) = &d.window.start
            && lo.as_ref().is_none_or(|l| us(s) < us(l))
        {
            lo = Some(*s);
        }
        if let Some(e) = &d.window.end
            && hi.as_ref().is_none_or(|h| us(e) > us(h))
        {
            hi = Some(*e);
        }
        let one_node = d.nodes.len() <= 1;
        for w in &d.warnings {
            let w = if several && one_node {
                format!("{own}: {w}")
            } else {
                w.clone()
            };
            if !out.warnings.contains(&w) {
                out.warnings.push(w);
            }
        }
        out.joins.add(&d.joins);
        out.totals.add(&d.totals);
        out.background.gateway_errors += d.background.gateway_errors;
        for f in &d.background.findings {
            let mut f = f.clone();
            let node = f.node.clone().unwrap_or_else(|| own.clone());
            f.node = Some(node.clone());
            findings.push((k_of(&node), f));
        }
        // A window that starts where this node's previous one ended: an
        // incident at the end of that one and one at the start of this one
        // may be one incident cut in two.
        let start = d.window.start.as_ref().map_or(i64::MIN, us);
        let prev = last_of.get(&own).copied();
        let mut mine: Vec<&Incident> = d.incidents.iter().collect();
        mine.sort_by_key(|x| (us(&x.start), x.id));
        let mut last = prev.and_then(|p| p.1);
        for (n, inc) in mine.into_iter().enumerate() {
            let mut inc = inc.clone();
            let node = inc.node.clone().unwrap_or_else(|| own.clone());
            inc.node = Some(node.clone());
            if n == 0
                && one_node
                && let (Some((prev_end, Some(at))), Some(_)) = (prev, d.window.start.as_ref())
                && let Some(a) = incidents.get_mut(at)
                && cut_in_two(&a.4, &inc, prev_end, start)
            {
                join(
                    &mut a.4,
                    inc,
                    &d.window.start.map_or("?".to_string(), |t| t.to_string()),
                );
                joined += 1;
                continue;
            }
            incidents.push((us(&inc.start), k_of(&node), rank, inc.id, inc));
            if one_node {
                last = Some(incidents.len() - 1);
            }
        }
        if one_node {
            let end = d.window.end.as_ref().map_or(i64::MIN, us);
            last_of.insert(own.clone(), (end, last));
        }
        for m in &d.timeline {
            TimelineMinute::merge_into(&mut timeline, m);
        }
        for m in &d.marks {
            marks
                .entry((m.t, m.kind))
                .and_modify(|x| x.count += m.count)
                .or_insert_with(|| m.clone());
        }
        for c in &d.config_findings {
            if !out.config_findings.contains(c) {
                out.config_findings.push(c.clone());
            }
        }
        // Files: an input read by two windows' runs (the same path, node
        // and size) is listed once, as one run lists it.
        for f in &d.files {
            let same = |g: &FileDoc| {
                g.path == f.path && g.node == f.node && g.bytes == f.bytes && g.lines == f.lines
            };
            if !files.iter().any(same) {
                files.push(f.clone());
            }
        }
        // Nodes: their counts add up over windows.
        let listed: Vec<NodeDoc> = if d.nodes.is_empty() {
            vec![NodeDoc {
                name: own.clone(),
                files: d.files.len(),
                requests: d.totals.requests,
                gateway_errors: d.totals.gateway_errors,
            }]
        } else {
            d.nodes.clone()
        };
        for n in listed {
            let e = nodes.entry(n.name.clone()).or_insert(NodeDoc {
                name: n.name.clone(),
                files: 0,
                requests: 0,
                gateway_errors: 0,
            });
            e.requests += n.requests;
            e.gateway_errors += n.gateway_errors;
        }
    }
    if joined > 0 {
        out.warnings.push(format!(
            "{joined} incident{} cut by the boundary between two reports of one node joined into one: counts summed, verdict and cause those of the first part (see `baton merge` in docs/reference.md)",
            if joined == 1 { " was" } else { "s were" }
        ));
    }
    if zones.len() > 1 {
        let listed: Vec<&str> = zones.iter().map(|(z, _)| z.as_str()).collect();
        out.warnings.push(format!(
            "the reports were read in different zones ({}): every time keeps its own offset; the zone shown is the first one's",
            listed.join(", ")
        ));
    }
    // Files: in node order (the order a bundle is walked in).
    files.sort_by_key(|f| k_of(&f.node));
    if !several {
        for f in &mut files {
            f.node = Cow::Owned(names.first().cloned().unwrap_or_default());
        }
    }
    for n in nodes.values_mut() {
        n.files = files.iter().filter(|f| f.node == n.name).count();
    }
    incidents.sort_by_key(|(s, k, rank, id, _)| (*s, *k, *rank, *id));
    out.incidents = incidents
        .into_iter()
        .enumerate()
        .map(|(n, (.., mut i))| {
            i.id = n as u32 + 1;
            if !several {
                i.node = None;
            }
            i
        })
        .collect();
    findings.sort_by_key(|(k, _)| *k);
    out.background.findings = findings
        .into_iter()
        .map(|(_, mut f)| {
            if !several {
                f.node = None;
            }
            f
        })
        .collect();
    out.background
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.count));
    out.timeline = timeline.into_values().collect();
    out.marks = marks.into_values().collect();
    out.window = Window { start: lo, end: hi };
    if several {
        out.fleet_incidents = baton_correlate::fleet::fleet(&out.incidents, names.len());
    }
    let (tz, tz_source) = zones.into_iter().next().unwrap_or_default();
    Merged {
        tz,
        tz_source,
        analysis: out,
        files,
        nodes: nodes.into_values().collect(),
    }
}

/// Whether `b`, first of a window starting at `cut`, continues `a`, last
/// of the same node's window that ended at `prev_end`: the same cause,
/// each near the cut, and near each other.
fn cut_in_two(a: &Incident, b: &Incident, prev_end: i64, cut: i64) -> bool {
    const S: i64 = 1_000_000;
    let (a_end, b_start) = (us(&a.end), us(&b.start));
    a.node == b.node
        && a.verdict == b.verdict
        && a.cause == b.cause
        && prev_end <= cut.saturating_add(JOIN_GAP_S * S)
        && prev_end.saturating_sub(a_end) <= JOIN_GAP_S * S
        && b_start.saturating_sub(cut) <= JOIN_GAP_S * S
        && b_start.saturating_sub(a_end) <= JOIN_GAP_S * S
}

/// Adds `b` (the later part) to `a`.
fn join(a: &mut Incident, b: Incident, cut: &str) {
    a.end = b.end;
    a.gateway_errors += b.gateway_errors;
    a.status_502 += b.status_502;
    a.status_504 += b.status_504;
    a.status_499 += b.status_499;
    for c in b.contributing_causes {
        if !a.contributing_causes.contains(&c) && c != a.cause {
            a.contributing_causes.push(c);
        }
    }
    let union = |x: &mut Vec<String>, y: Vec<String>| {
        for v in y {
            if !x.contains(&v) {
                x.push(v);
            }
        }
    };
    union(&mut a.hosts, b.hosts);
    union(&mut a.pools, b.pools);
    union(&mut a.upstreams, b.upstreams);
    let cap = a.top_paths.len().max(b.top_paths.len());
    for p in b.top_paths {
        match a
            .top_paths
            .iter_mut()
            .find(|q| q.path == p.path && q.action == p.action)
        {
            Some(q) => q.count += p.count,
            None => a.top_paths.push(p),
        }
    }
    a.top_paths.sort_by_key(|x| std::cmp::Reverse(x.count));
    a.top_paths.truncate(cap);
    for (k, v) in b.upstream_errors {
        *a.upstream_errors.entry(k).or_insert(0) += v;
    }
    let f = &mut a.fpm;
    f.max_children_reached += b.fpm.max_children_reached;
    f.slow_requests += b.fpm.slow_requests;
    f.execution_timeouts += b.fpm.execution_timeouts;
    f.restarts += b.fpm.restarts;
    f.oom_kills += b.fpm.oom_kills;
    for (k, v) in b.fpm.child_signals {
        *f.child_signals.entry(k).or_insert(0) += v;
    }
    for c in b.culprits {
        match a
            .culprits
            .iter_mut()
            .find(|x| x.kind == c.kind && x.name == c.name && x.call == c.call)
        {
            Some(x) => x.traces += c.traces,
            None => a.culprits.push(c),
        }
    }
    a.culprits.sort_by_key(|x| std::cmp::Reverse(x.traces));
    a.evidence.push(format!(
        "joined across the boundary between two reports at {cut}: the evidence after it is that report's"
    ));
    a.evidence.extend(b.evidence);
    a.evidence_refs.extend(b.evidence_refs);
    union(&mut a.next_steps, b.next_steps);
    let mut phases = b.phases.into_iter();
    if let (Some(last), Some(first)) = (a.phases.last_mut(), phases.as_slice().first())
        && last.class == first.class
    {
        last.end = first.end;
        last.gateway_errors += first.gateway_errors;
        for (k, v) in &first.upstream_errors {
            *last.upstream_errors.entry(k.clone()).or_insert(0) += v;
        }
        phases.next();
    }
    a.phases.extend(phases);
    // A cause ruled out is ruled out only when both parts rule it out.
    a.ruled_out
        .retain(|r| b.ruled_out.iter().any(|s| s.cause == r.cause));
}

/// What was read, rebuilt from the documents' `files[]` for the text and
/// HTML renderers (their counts, formats and times; no events).
fn stats_of(m: &Merged) -> Stats {
    let zone: Zone = m.tz.parse().unwrap_or(Zone::UTC);
    let zone_source = match m.tz_source.as_str() {
        "--tz" => "--tz",
        "container envelope times" => "container envelope times",
        "access-log offsets" => crate::stats::ACCESS_OFFSETS,
        "journal offsets" => crate::stats::JOURNAL_OFFSETS,
        "kernel offsets" => crate::stats::KERNEL_OFFSETS,
        "default UTC" => "default UTC",
        _ => "merged reports",
    };
    Stats {
        zone,
        zone_source,
        files: m.files.iter().map(stats_file).collect(),
        access_files: 0,
        access: Default::default(),
        error: Default::default(),
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
    }
}

/// One input's summary as its document gives it: format, line accounting,
/// bytes and time range.
fn stats_file(f: &FileDoc<'static>) -> StatsFile {
    let format = Format::from_name(&f.format).unwrap_or(Format::Unknown);
    let mut tally = Tally {
        lines: f.lines,
        parsed: f.parsed,
        bytes: f.bytes,
        ..Tally::default()
    };
    for r in SkipReason::ALL {
        if let Some(n) = f.skipped_by_reason.get(r.as_str()) {
            tally.skipped_by_reason[r.index()] = *n;
        }
    }
    let t = |s: &Option<String>| s.as_deref().and_then(|s| parse_iso8601(s.as_bytes()));
    let range = TimeRange {
        first: t(&f.first_time),
        last: t(&f.last_time),
    };
    let mut s = FileSummary::empty(format);
    s.reason = f.reason.as_ref().map(|r| r.to_string());
    s.tally = tally;
    match format {
        Format::NginxAccess => {
            let mut a = baton_logparse::AccessSummary::default();
            a.range = range;
            s.access = Some(a);
        }
        Format::Cloudflare => {
            s.edge = Some(baton_logparse::cloudflare::EdgeSummary {
                range,
                ..Default::default()
            })
        }
        // Every other format's times are shown, not used: the error
        // log's summary holds them.
        _ => {
            s.error = Some(baton_logparse::ErrorSummary {
                range,
                ..Default::default()
            })
        }
    }
    StatsFile {
        path: f.path.to_string(),
        summary: s,
        year: None,
        compression: baton_logparse::Compression::None,
        compressed_bytes: f.compressed_bytes,
        tz_source: f.tz_source.as_ref().map(|s| s.to_string()),
        node: f.node.to_string(),
        container: f.container.as_ref().map(|c| c.to_string()),
    }
}

/// Runs `baton merge`.
pub fn run(m: &MergeConfig) -> anyhow::Result<Exit> {
    let mut docs = Vec::new();
    let mut exit = Exit::Done;
    for p in &m.paths {
        match read(p) {
            Ok(d) => docs.push(d),
            Err(ReadError::NotAReport(why)) => {
                eprintln!(
                    "baton: {}: not a baton.report.v1 document: {why}",
                    p.display()
                );
                return Ok(Exit::Usage);
            }
            Err(ReadError::Io(why)) => {
                eprintln!("baton: {}: {why}", p.display());
                exit = Exit::Input;
            }
        }
    }
    if docs.is_empty() {
        eprintln!("baton: merge: no report could be read");
        return Ok(exit.worst(Exit::Input));
    }
    let merged = merge(docs);
    let mut out = crate::output::open(m.output.as_deref())?;
    match m.format {
        ReportFormat::Json => {
            let doc = crate::output::report_json::document(
                merged.tz.clone(),
                &merged.tz_source,
                &merged.analysis,
                merged.files.clone(),
                &merged.nodes,
            );
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ReportFormat::Text | ReportFormat::Html => {
            let report = Report {
                stats: stats_of(&merged),
                analysis: merged.analysis,
                nodes: merged.nodes,
            };
            if m.format == ReportFormat::Html {
                crate::output::html::report(&mut out, &report)?;
            } else {
                let color =
                    m.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
                crate::output::report_text::report(&mut out, &report, color)?;
            }
        }
    }
    out.flush()?;
    Ok(exit)
}
