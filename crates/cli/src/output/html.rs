//! `baton report --format html`: the post-mortem as one self-contained page.
//!
//! The page is a maud template: it is checked at compile time and escapes
//! every value it is given, which matters because everything that comes
//! from the logs (paths, actions, hosts, evidence lines, file names) is
//! attacker-chosen text. The model's strings are already valid UTF-8 with
//! invalid bytes and control characters written as `\xHH`; on top of that,
//! [`clean`] writes out the invisible characters that reorder text
//! (bidirectional overrides) so that a log line cannot disguise itself.
//!
//! Nothing is fetched: the style sheet is inline, there is no script (a
//! Content-Security-Policy forbids any), and the charts are inline SVG from
//! [`svg`]. Incidents are `<details>` elements, open by default, so the
//! page reads without JavaScript and prints whole.

pub mod svg;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use baton_correlate::model::{Analysis, Finding, Incident};
use baton_logparse::time::Timestamp;

use super::escape_bytes;
use super::report_text::phase_name;
use super::words::{self, count, duration, noun, share, thousands};
use crate::document::Report;
use crate::document::StatsFile;
use svg::{Band, Chart, PhaseBand};

/// The style sheet, inline.
const CSS: &str = include_str!("html/style.css");

/// Renders the report as HTML.
pub fn report(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    out.write_all(page(r).into_string().as_bytes())?;
    out.write_all(b"\n")
}

/// `12.3 MB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Writes out the characters that would reorder or hide text around them
/// (bidirectional embeddings, overrides, isolates and marks) as `\u{...}`.
/// Everything else is left to the template's HTML escaping.
pub fn clean(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
    };
    if !s.contains(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The local date and time an instant shows at its offset, to the
/// second: `("2026-11-24", "08:10:38")`.
fn local_parts(t: Timestamp) -> (String, String) {
    let l = t.unix_secs() + i64::from(t.offset_s);
    let (y, m, d) = svg::civil(l.div_euclid(86_400));
    let hms = l.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", hms / 3600, hms % 3600 / 60, hms % 60),
    )
}

/// `UTC` or `+01:00`, of an offset in seconds.
fn offset_name(o: i32) -> String {
    if o == 0 {
        return "UTC".into();
    }
    let a = o.unsigned_abs();
    format!(
        "{}{:02}:{:02}",
        if o < 0 { '-' } else { '+' },
        a / 3600,
        a % 3600 / 60
    )
}

/// When an incident happened: `2026-11-24 08:10:38 – 08:11:52 UTC (1m14s)`,
/// in the offset its times carry (the zone's, at that instant).
fn when(a: Timestamp, b: Timestamp, zone_name: &str) -> String {
    let ((da, ta), (db, tb)) = (local_parts(a), local_parts(b));
    let mut zone = offset_name(a.offset_s);
    if a.offset_s != b.offset_s {
        zone = format!("{zone} / {}", offset_name(b.offset_s));
    }
    if zone_name != zone && zone_name != "UTC" && !zone_name.starts_with(['+', '-']) {
        zone = format!("{zone}, {zone_name}");
    }
    let span = duration(b.unix_secs() - a.unix_secs());
    if da == db {
        format!("{da} {ta} – {tb} {zone} ({span})")
    } else {
        format!("{da} {ta} – {db} {tb} {zone} ({span})")
    }
}

/// A sentence of the correlator's, with its `quoted` parts (error kinds,
/// settings, frames) set as code.
fn prose(s: &str) -> Markup {
    let s = clean(s);
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // An odd number of backticks: not quoting, plain text.
        return html! { (s) };
    }
    html! {
        @for (k, p) in parts.iter().enumerate() {
            @if k % 2 == 1 { code { (p) } } @else { (p) }
        }
    }
}

/// A count the tests (and scripts) can find: `data-k` names the JSON field.
fn num(key: &'static str, n: u64) -> Markup {
    html! { span.n data-k=(key) { (thousands(n)) } }
}

/// The one-line culprit of an incident: `plugin shipping-rates-live`.
fn culprit_line(i: &Incident) -> Option<String> {
    i.culprits
        .first()
        .map(|c| format!("{} {}", c.kind.replace('_', "-"), c.name))
}

/// The incident bands of the charts.
fn bands(a: &Analysis) -> Vec<Band> {
    a.incidents
        .iter()
        .map(|i| Band {
            from: i.start.unix_secs(),
            to: i.end.unix_secs(),
            id: i.id,
            verdict: i.verdict.as_str(),
            node: i.node.clone(),
            title: format!(
                "#{} {} ({}): {}",
                i.id,
                i.cause.as_str(),
                i.verdict.as_str(),
                count(i.gateway_errors, "gateway error", "gateway errors")
            ),
        })
        .collect()
}

/// The range of the overview: the window read, else the minutes with
/// gateway errors or marks; it ends where the data ends.
fn overview_range(a: &Analysis) -> Option<(i64, i64)> {
    window(a).or_else(|| {
        let ts = a
            .timeline
            .iter()
            .map(|m| m.t)
            .chain(a.marks.iter().map(|m| m.t));
        let (lo, hi) = ts.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
        (lo <= hi).then_some((lo, hi + 60))
    })
}

/// The window read, `start..end` in unix seconds, end exclusive (the last
/// second read is in it). A window shorter than a minute is shown as the
/// minutes it falls in, so that its one bar is not a sliver of a second.
fn window(a: &Analysis) -> Option<(i64, i64)> {
    let s = a.window.start?.unix_secs();
    let e = a.window.end?.unix_secs() + 1;
    Some(at_least_a_minute(s, e.max(s + 1)))
}

/// `from..to`, or the whole minutes holding it when it is shorter than one.
fn at_least_a_minute(from: i64, to: i64) -> (i64, i64) {
    if to - from >= 60 {
        return (from, to);
    }
    let a = from.div_euclid(60) * 60;
    let b = -(-to).div_euclid(60) * 60;
    (a, b.max(a + 60))
}

/// How far before an incident its chart starts: the correlator's look-back
/// for causes (a minute), a quarter of the incident when longer, and far
/// enough to show the changes before it.
fn lead_in(i: &Incident, span: i64) -> i64 {
    let changes = i
        .changes
        .iter()
        .map(|c| c.seconds_before_first_error + 10)
        .max()
        .unwrap_or(0);
    (span / 4).max(60).max(changes)
}

/// The range of an incident's own chart: the incident with its lead-in
/// and a little after, inside the window read.
fn zoom_range(a: &Analysis, i: &Incident) -> Option<(i64, i64)> {
    let (s, e) = (i.start.unix_secs(), i.end.unix_secs());
    let span = e - s;
    let (mut from, mut to) = (s - lead_in(i, span), e + 1 + (span / 4).max(30));
    if let Some((ws, we)) = window(a) {
        from = from.max(ws);
        to = to.min(we);
        // A minute at least, inside the window when it has one: earlier
        // first (what led into it), then later.
        if to - from < 60 {
            from = (to - 60).max(ws);
            to = (from + 60).min(we);
        }
    }
    Some(at_least_a_minute(from, to.max(from + 1)))
}

fn legend() -> Markup {
    html! {
        ul.legend {
            li { span.sw.sw-502 {} "502" }
            li { span.sw.sw-504 {} "504" }
            li { span.sw.sw-edge {} "edge gateway error" }
            li { span.sw.sw-band {} "incident (links to it)" }
            li { span.sw.sw-phase {} "phase of an incident (its own chart)" }
            li { "marks: FPM, kernel, PHP fatal and MySQL slow-query events per minute, one lane each; hover for counts" }
        }
    }
}

fn head(r: &Report) -> Markup {
    let a = &r.analysis;
    let t = &a.totals;
    let n = a.incidents.len();
    let title = format!(
        "baton report: {}, {}",
        count(n as u64, "incident", "incidents"),
        count(t.gateway_errors, "gateway error", "gateway errors")
    );
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta http-equiv="Content-Security-Policy"
                content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
            meta name="generator" content={ "baton " (env!("CARGO_PKG_VERSION")) };
            title { (title) }
            style { (PreEscaped(CSS)) }
        }
    }
}

fn header(r: &Report) -> Markup {
    let a = &r.analysis;
    let t = &a.totals;
    let n = a.incidents.len();
    let lines: u64 = r.stats.files.iter().map(|f| f.summary.tally.lines).sum();
    let skipped: u64 = r
        .stats
        .files
        .iter()
        .map(|f| f.summary.tally.skipped())
        .sum();
    let j = &a.joins;
    html! {
        header {
            h1 { "baton report" }
            p.lead {
                strong { span.n data-k="incidents" { (n) } " " (noun(n as u64, "incident", "incidents")) }
                ", " (num("gateway_errors", t.gateway_errors)) " " (noun(t.gateway_errors, "gateway error", "gateway errors"))
                (status_mix(t.status_502, t.status_504))
                @if t.requests > 0 {
                    " in " (num("requests", t.requests)) " " (noun(t.requests, "request", "requests"))
                }
                @if let Some(w) = crate::coverage::counted_from(&r.stats, a) {
                    @if t.requests > 0 { "," } " " (w)
                }
                @if t.edge_gateway_errors > 0 {
                    "; " (num("edge_gateway_errors", t.edge_gateway_errors)) " edge "
                    (noun(t.edge_gateway_errors, "gateway error", "gateway errors")) " (Cloudflare)"
                }
            }
            dl.meta {
                dt { "Window" }
                dd {
                    (a.window.start.map_or("-".to_string(), |t| t.to_string())) " – " (a.window.end.map_or("-".to_string(), |t| t.to_string()))
                }
                dt { "Zone" }
                dd.zone.assumed[r.stats.zone_source == "default UTC"] {
                    (words::zone(&r.stats.zone.to_string(), r.stats.zone_source))
                    "; for timestamps that carry none; charts are labelled in it"
                }
                dt { "Read" }
                dd {
                    (count(r.stats.files.len() as u64, "file", "files")) ", " (count(lines, "line", "lines")) ", "
                    (thousands(skipped)) " skipped (see " a href="#files" { "input files" } ")"
                }
                @if j.gateway_errors > 0 {
                    dt { "Joins" }
                    dd {
                        (thousands(j.matched_upstream_error)) " of "
                        (count(j.gateway_errors, "access-log gateway error", "access-log gateway errors"))
                        " matched an error-log upstream error; "
                        (count(j.unmatched_error_log, "upstream error", "upstream errors")) " had no access line"
                    }
                }
                dt { "Background" }
                dd {
                    (num("background", a.background.gateway_errors))
                    " " (noun(a.background.gateway_errors, "gateway error", "gateway errors"))
                    " in no incident"
                    @if !a.background.findings.is_empty() {
                        "; " a href="#findings" { (count(a.background.findings.len() as u64, "background finding", "background findings")) }
                    }
                }
            }
        }
    }
}

fn index(a: &Analysis) -> Markup {
    html! {
        @if !a.incidents.is_empty() {
            nav.index aria-label="Incidents" {
                table {
                    thead { tr { th { "#" } th { "When" } th { "Verdict" } th { "Cause" } th.r { "502" } th.r { "504" } th { "Handoff" } th { "Culprit" } } }
                    tbody {
                        @for i in &a.incidents {
                            tr {
                                td { a href={ "#incident-" (i.id) } { "#" (i.id) } }
                                td { ({ let (d, t) = local_parts(i.start); format!("{d} {t}") }) }
                                td { span class={ "badge v-" (i.verdict.as_str()) } { (i.verdict.as_str()) } }
                                td { (i.cause.as_str()) }
                                td.r { (thousands(i.status_502)) }
                                td.r { (thousands(i.status_504)) }
                                td { (i.handoff) }
                                td { (clean(&culprit_line(i).unwrap_or_default())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The configuration's mistakes, before the charts.
/// Fleet incidents: failures seen from several nodes, first.
fn fleet(a: &Analysis) -> Markup {
    html! {
        @if !a.fleet_incidents.is_empty() {
            section #fleet {
                h2 { "Fleet incidents" }
                @for f in &a.fleet_incidents {
                    div.fleet {
                        p {
                            strong { "fleet #" (f.id) } " "
                            span class={ "badge v-" (f.verdict.as_str()) } { (f.verdict.as_str()) } " "
                            strong.cause { (f.cause.as_str()) } " shared: " code { (f.shared.as_str()) }
                            " · nodes " (f.nodes.join(", ")) " (" (f.first_node) " first) · incidents "
                            @for (k, id) in f.incident_ids.iter().enumerate() {
                                @if k > 0 { ", " }
                                a href={ "#incident-" (id) } { "#" (id) }
                            }
                        }
                        ul {
                            @for e in &f.evidence { li { (prose(e)) } }
                        }
                        ol {
                            @for s in &f.next_steps { li { (prose(s)) } }
                        }
                    }
                }
            }
        }
    }
}

fn config_findings(a: &Analysis) -> Markup {
    html! {
        @if !a.config_findings.is_empty() {
            section #config {
                h2 { "Configuration" }
                ul {
                    @for f in &a.config_findings {
                        li {
                            strong { (severity(f.severity)) " " code { (f.check) } } " " (clean(&f.text))
                            @if !f.refs.is_empty() {
                                br;
                                span.dim {
                                    @for (k, r) in f.refs.iter().enumerate() {
                                        @if k > 0 { ", " }
                                        code { (clean(&r.file)) ":" (r.line) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn severity(s: baton_correlate::Severity) -> &'static str {
    match s {
        baton_correlate::Severity::Error => "error",
        baton_correlate::Severity::Warning => "warning",
        baton_correlate::Severity::Info => "info",
    }
}

fn warnings(r: &Report) -> Markup {
    let a = &r.analysis;
    html! {
        @if !a.warnings.is_empty() || !r.stats.errors.is_empty() {
            section #warnings.warnings {
                h2 { "Warnings" }
                ul {
                    @for w in &a.warnings { li { (clean(w)) } }
                    @for e in &r.stats.errors { li { code { (clean(&e.path)) } ": " (clean(&e.reason)) } }
                }
            }
        }
    }
}

fn overview(r: &Report, bands: &[Band]) -> Markup {
    let a = &r.analysis;
    let chart = overview_range(a).map(|(from, to)| {
        Chart {
            from,
            to,
            minutes: &a.timeline,
            marks: &a.marks,
            bands,
            phases: &[],
            zone: r.stats.zone,
            bar_height: 150.0,
            max_bars: 360,
            class: "overview",
            label: format!(
                "Gateway errors over the whole window, {} shaded, FPM and kernel events below",
                count(a.incidents.len() as u64, "incident", "incidents")
            ),
        }
        .render()
    });
    html! {
        section #timeline {
            h2 { "Timeline" }
            @match chart {
                Some(c) => { figure { (c) } (legend()) }
                None => { p.none { "No timed events: nothing to draw." } }
            }
        }
    }
}

fn kv_table(head: &str, rows: &[(Cow<'_, str>, u64)]) -> Markup {
    html! {
        table.kv {
            thead { tr { th { (head) } th.r { "count" } } }
            tbody {
                @for (k, v) in rows { tr { td { (k) } td.r { (thousands(*v)) } } }
                @if rows.is_empty() { tr { td.none colspan="2" { "none" } } }
            }
        }
    }
}

fn incident(r: &Report, i: &Incident, bands: &[Band]) -> Markup {
    let zone = r.stats.zone.to_string();
    let v = i.verdict.as_str();
    let phases = phase_bands(i);
    let chart = zoom_range(&r.analysis, i).map(|(from, to)| {
        Chart {
            from,
            to,
            minutes: &r.analysis.timeline,
            marks: &r.analysis.marks,
            bands,
            phases: &phases,
            zone: r.stats.zone,
            bar_height: 110.0,
            max_bars: 120,
            class: "zoom",
            label: format!(
                "Incident #{}: its gateway errors from its lead-in to its end, its phases, FPM and kernel events",
                i.id
            ),
        }
        .render()
    });
    let f = &i.fpm;
    let mut fpm: Vec<(Cow<str>, u64)> = vec![
        ("max_children reached".into(), f.max_children_reached),
        ("slow requests".into(), f.slow_requests),
        ("execution timeouts".into(), f.execution_timeouts),
        ("FPM restarts".into(), f.restarts),
        ("OOM kills".into(), f.oom_kills),
    ];
    fpm.extend(
        f.child_signals
            .iter()
            .map(|(s, n)| (format!("children exited on {}", clean(s)).into(), *n)),
    );
    fpm.retain(|(_, n)| *n > 0);
    let upstream: Vec<(Cow<str>, u64)> = i
        .upstream_errors
        .iter()
        .map(|(k, n)| (clean(k), *n))
        .collect();
    html! {
        details.incident #{ "incident-" (i.id) } class={ "v-" (v) } open {
            summary {
                span.id { "#" (i.id) }
                @if let Some(n) = &i.node { " " strong.node { "[" (n) "]" } " " }
                span class={ "badge v-" (v) } { (v) }
                strong.cause { (i.cause.as_str()) }
                span.handoff { (i.handoff) }
                @if let Some(c) = culprit_line(i) { span.culprit { "culprit: " (clean(&c)) } }
                @if let Some(d) = i.deaths_words() { " " span.deaths { "— " (d) } }
                br;
                span.when { (when(i.start, i.end, &zone)) }
                " · " (num("gateway_errors", i.gateway_errors)) " " (noun(i.gateway_errors, "gateway error", "gateway errors"))
                (status_mix(i.status_502, i.status_504))
                @let other = i.gateway_errors.saturating_sub(i.status_502 + i.status_504);
                @if other > 0 && other < i.gateway_errors { ", edge × " (thousands(other)) }
                @if i.status_499 > 0 { " · 499 × " (num("status_499", i.status_499)) }
            }
            div.body {
                dl.facts {
                    dt { "Failed handoff" } dd { (i.handoff) }
                    dt { "Confidence" } dd { (format!("{:.2}", i.confidence)) }
                    @if !i.contributing_causes.is_empty() {
                        dt { "Contributing" }
                        dd { @for (k, c) in i.contributing_causes.iter().enumerate() { @if k > 0 { ", " } (c.as_str()) } }
                    }
                    dt { "Request rate" }
                    dd {
                        (format!("{:.2}", i.request_rate.incident_rps)) "/s during, "
                        (format!("{:.2}", i.request_rate.background_rps)) "/s outside incidents"
                    }
                    @for (name, list) in [("Hosts", &i.hosts), ("Pools", &i.pools), ("Upstreams", &i.upstreams)] {
                        @if !list.is_empty() {
                            dt { (name) }
                            dd { @for (k, h) in list.iter().enumerate() { @if k > 0 { ", " } code { (clean(h)) } } }
                        }
                    }
                }
                @if i.phases.len() > 1 {
                    p.phases {
                        "Phases: "
                        @for (k, ph) in i.phases.iter().enumerate() {
                            @if k > 0 { " → " }
                            span class={ "phase p-" (ph.class.as_str()) } {
                                (phase_name(ph.class)) " " (thousands(ph.gateway_errors))
                            }
                            " "
                            span.dim { "(" (span_of(ph.start, ph.end)) ")" }
                        }
                    }
                }
                @if let Some(c) = chart { figure { (c) } }
                @if !i.changes.is_empty() {
                    h3 { "What changed before" }
                    table.lines.changes {
                        thead { tr { th { "time" } th { "before the first error" } th { "file:line" } th { "text" } } }
                        tbody {
                            @for c in &i.changes {
                                tr {
                                    td.time { (local_parts(c.time).1) }
                                    td { (words::before_first_error(c.seconds_before_first_error)) }
                                    td.loc { code { (clean(&c.file)) ":" (c.line) } }
                                    td { code.line { (clean(&c.text)) } }
                                }
                            }
                        }
                    }
                }
                div.grid {
                    div {
                        h3 { "Top paths" }
                        table.kv {
                            thead { tr { th { "path" } th { "action" } th.r { "errors" } th.r { "share" } } }
                            tbody {
                                @for p in &i.top_paths {
                                    tr {
                                        td { code { (clean(&p.path)) } }
                                        td.action { @if let Some(a) = &p.action { code { (clean(a)) } } }
                                        td.r { (thousands(p.count)) }
                                        td.r.share { (share(p.count, i.gateway_errors)) }
                                    }
                                }
                                @if i.top_paths.is_empty() { tr { td.none colspan="4" { "none" } } }
                            }
                        }
                    }
                    div { h3 { "Upstream errors" } (kv_table("kind", &upstream)) }
                    div { h3 { "FPM and kernel" } (kv_table("event", &fpm)) }
                }
                @if !i.culprits.is_empty() {
                    h3 { "Culprits (slowlog)" }
                    table.culprits {
                        thead { tr { th { "where" } th { "name" } th { "blocked in" } th.r { "traces" } th { "frame" } } }
                        tbody {
                            @for c in &i.culprits {
                                tr {
                                    td { (clean(&c.kind.replace('_', "-"))) }
                                    td { code { (clean(&c.name)) } }
                                    td { (clean(c.call.as_deref().unwrap_or("fatal error"))) }
                                    td.r { (thousands(c.traces)) }
                                    td { code.line { (clean(&c.frame)) } }
                                }
                            }
                        }
                    }
                }
                div.grid2 {
                    div {
                        h3 { "Evidence" }
                        ul.evidence { @for e in &i.evidence { li { (prose(e)) } } }
                    }
                    div {
                        h3 { "Next steps" }
                        ol.steps { @for s in &i.next_steps { li { (prose(s)) } } }
                    }
                }
                @if !i.ruled_out.is_empty() {
                    h3 { "Ruled out" }
                    dl.ruled-out {
                        @for x in &i.ruled_out {
                            dt { span class={ "badge v-" (x.verdict.as_str()) } { (x.verdict.as_str()) } " " code { (x.cause.as_str()) } }
                            dd { (prose(&x.why)) }
                        }
                    }
                }
                (evidence_lines(&i.evidence_refs))
            }
        }
    }
}

/// The log lines behind some evidence, in the correlator's order (the
/// lines a verdict rests on first), every one of them.
fn evidence_lines(refs: &[baton_correlate::model::EvidenceRef]) -> Markup {
    html! {
        @if !refs.is_empty() {
            h3 { "Evidence lines" }
            table.lines {
                thead { tr { th { "file:line" } th { "time" } th { "text" } } }
                tbody {
                    @for e in refs {
                        tr {
                            td.loc { code { (clean(&e.file)) ":" (e.line) } }
                            td.time { (e.time.map_or_else(String::new, |t| local_parts(t).1)) }
                            td { code.line { (clean(&e.text)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `502 × 7, 504 × 1` in parentheses after a count, zero parts left out,
/// each count marked for the tests; nothing when both are zero.
fn status_mix(s502: u64, s504: u64) -> Markup {
    html! {
        @if s502 + s504 > 0 {
            " ("
            @if s502 > 0 { "502 × " (num("status_502", s502)) }
            @if s502 > 0 && s504 > 0 { ", " }
            @if s504 > 0 { "504 × " (num("status_504", s504)) }
            ")"
        }
    }
}

/// `08:10:38–08:10:44`, local times of a span (one time when they agree).
fn span_of(start: Timestamp, end: Timestamp) -> String {
    let ((_, a), (_, b)) = (local_parts(start), local_parts(end));
    if a == b { a } else { format!("{a}–{b}") }
}

/// An incident's phases, for its chart.
fn phase_bands(i: &Incident) -> Vec<PhaseBand> {
    i.phases
        .iter()
        .map(|ph| PhaseBand {
            from: ph.start.unix_secs(),
            to: ph.end.unix_secs(),
            name: phase_name(ph.class),
            class: ph.class.as_str(),
            title: format!(
                "{}: {}, {}",
                phase_name(ph.class),
                count(ph.gateway_errors, "gateway error", "gateway errors"),
                span_of(ph.start, ph.end)
            ),
        })
        .collect()
}

/// One background finding: recurring failures outside any incident.
fn finding(n: usize, f: &Finding, zone: &str) -> Markup {
    let v = f.verdict.as_str();
    html! {
        details.finding #{ "finding-" (n + 1) } class={ "v-" (v) } open {
            summary {
                span.id { "background " (n + 1) }
                span class={ "badge v-" (v) } { (v) }
                strong.cause { (f.cause.as_str()) }
                span.dim { "not an incident: lone failures outside any rise above the background" }
                br;
                span.when { (when(f.first, f.last, zone)) }
                " · " (num("finding_count", f.count)) " " (noun(f.count, "gateway error", "gateway errors"))
            }
            div.body {
                dl.facts {
                    @if !f.paths.is_empty() {
                        dt { "Paths" }
                        dd {
                            @for (k, p) in f.paths.iter().enumerate() {
                                @if k > 0 { ", " }
                                code { (clean(&p.path)) } " " (thousands(p.count))
                            }
                        }
                    }
                    @if !f.pids.is_empty() {
                        dt { (if f.pids.len() == 1 { "Worker pid" } else { "Worker pids" }) }
                        dd { @for (k, p) in f.pids.iter().enumerate() { @if k > 0 { ", " } (p) } }
                    }
                }
                div.grid2 {
                    div {
                        h3 { "Evidence" }
                        ul.evidence { @for e in &f.evidence { li { (prose(e)) } } }
                    }
                    div {
                        h3 { "Next steps" }
                        ol.steps { @for s in &f.next_steps { li { (prose(s)) } } }
                    }
                }
                (evidence_lines(&f.evidence_refs))
            }
        }
    }
}

/// The background findings, after the incidents.
fn findings(r: &Report) -> Markup {
    let b = &r.analysis.background;
    let zone = r.stats.zone.to_string();
    html! {
        @if !b.findings.is_empty() {
            section #findings {
                h2 { "Background findings" }
                p.dim {
                    (count(b.findings.len() as u64, "recurring failure", "recurring failures"))
                    " outside any incident: failures that came back on their own, not part of a rise above the background rate. They are not incidents ("
                    code { "--fail-on" } " ignores them), but each is worth fixing."
                }
                @for (n, f) in b.findings.iter().enumerate() { (finding(n, f, &zone)) }
            }
        }
    }
}

fn file_row(f: &StatsFile) -> Markup {
    let s = &f.summary;
    let t = &s.tally;
    let range = s.range();
    let reasons: Vec<String> = baton_logparse::SkipReason::ALL
        .iter()
        .filter(|r| t.skipped_for(**r) > 0)
        .map(|r| format!("{} {}", r.as_str(), thousands(t.skipped_for(*r))))
        .collect();
    html! {
        tr {
            td { code { (clean(&f.path)) } }
            td {
                (s.format.as_str())
                @if let Some(v) = s.variant { " " span.dim { "(" (v) ")" } }
                @if let Some(why) = &s.reason { br; span.dim { (clean(why)) } }
            }
            td.r data-k="lines" { (thousands(t.lines)) }
            td.r data-k="parsed" { (thousands(t.parsed)) }
            td.r data-k="skipped" { (thousands(t.skipped())) }
            td { (reasons.join(", ")) }
            td.r {
                (bytes(t.bytes))
                @if let Some(c) = f.compressed_bytes { br; span.dim { (bytes(c)) " compressed" } }
            }
            td.time {
                @if let (Some(a), Some(b)) = (range.first, range.last) {
                    (a.to_rfc3339()) br; (b.to_rfc3339())
                }
            }
        }
        @if let Some(e) = &s.read_error {
            tr.error { td colspan="8" { "read error: " (clean(&e.to_string())) } }
        }
        @if !t.samples.is_empty() {
            tr.samples {
                td colspan="8" {
                    details {
                        summary { "skipped lines, first of each reason" }
                        table.lines {
                            tbody {
                                @for x in &t.samples {
                                    tr {
                                        td.loc { code { (x.line) } }
                                        td { (x.reason.as_str()) }
                                        td { code.line { (clean(&escape_bytes(&x.text))) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn files(r: &Report) -> Markup {
    html! {
        section #files {
            h2 { "Input files" }
            table.files {
                thead {
                    tr {
                        th { "path" } th { "format" } th.r { "lines" } th.r { "parsed" } th.r { "skipped" }
                        th { "skipped by reason" } th.r { "bytes" } th { "first / last time" }
                    }
                }
                tbody { @for f in &r.stats.files { (file_row(f)) } }
            }
        }
    }
}

/// The whole page.
pub fn page(r: &Report) -> Markup {
    let a = &r.analysis;
    let bands = bands(a);
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(r))
            body {
                (header(r))
                (index(a))
                (warnings(r))
                (config_findings(a))
                (fleet(a))
                (overview(r, &bands))
                section #incidents {
                    h2 { "Incidents" }
                    @for i in &a.incidents { (incident(r, i, &bands)) }
                    @if a.incidents.is_empty() {
                        p.none { (no_incident(r)) }
                    }
                }
                (findings(r))
                (files(r))
                footer {
                    "Written by baton " (env!("CARGO_PKG_VERSION"))
                    " (baton report --format html). A self-contained page: no script, no fetches; "
                    "text from the logs is escaped, with invalid bytes and control characters as \\xHH."
                }
            }
        }
    }
}

/// "No incident" said only with what was read and the time it covered.
fn no_incident(r: &Report) -> String {
    let seen = crate::coverage::witnesses(&r.stats, &r.analysis.window);
    if seen.is_empty() {
        "No incident can be told: no log read can show a gateway error over this window.".into()
    } else {
        format!(
            "No incident in {}: no gateway error outside the background.",
            crate::coverage::describe(&seen)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_bytes_durations() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(84_774_088), "84.8 MB");
    }

    #[test]
    fn ranges_shorter_than_a_minute_show_their_minutes() {
        assert_eq!(at_least_a_minute(100, 190), (100, 190));
        assert_eq!(at_least_a_minute(125, 130), (120, 180));
        assert_eq!(at_least_a_minute(170, 190), (120, 240));
    }

    fn ts(s: &str) -> Timestamp {
        baton_logparse::time::parse_iso8601(s.as_bytes()).unwrap()
    }

    #[test]
    fn when_shows_local_times_and_the_zone() {
        assert_eq!(
            when(
                ts("2026-11-24T08:10:38+00:00"),
                ts("2026-11-24T08:11:52+00:00"),
                "UTC"
            ),
            "2026-11-24 08:10:38 – 08:11:52 UTC (1m14s)"
        );
        assert_eq!(
            when(
                ts("2026-11-24T23:59:30.015+01:00"),
                ts("2026-11-25T00:00:10+01:00"),
                "Europe/Berlin"
            ),
            "2026-11-24 23:59:30 – 2026-11-25 00:00:10 +01:00, Europe/Berlin (40s)"
        );
        assert_eq!(
            when(
                ts("2026-10-25T02:59:00+02:00"),
                ts("2026-10-25T02:01:00+01:00"),
                "-05:00"
            ),
            "2026-10-25 02:59:00 – 02:01:00 +02:00 / +01:00 (2m00s)"
        );
    }

    #[test]
    fn prose_sets_quoted_parts_as_code() {
        assert_eq!(
            prose("logged 7 `timed_out` to <b>").into_string(),
            "logged 7 <code>timed_out</code> to &lt;b&gt;"
        );
        assert_eq!(prose("a ` b").into_string(), "a ` b");
        assert_eq!(prose("`<i>`").into_string(), "<code>&lt;i&gt;</code>");
    }

    #[test]
    fn clean_writes_out_bidi_controls() {
        assert!(matches!(clean("plain <b>"), Cow::Borrowed("plain <b>")));
        assert_eq!(clean("a\u{202e}gnp.exe"), "a\\u{202e}gnp.exe");
        assert_eq!(clean("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    use crate::output::testing;
    use baton_logparse::Zone;

    fn page_of(a: Analysis, source: &'static str) -> String {
        page(&testing::report(a, Zone::UTC, source)).into_string()
    }

    /// The `data-from` and `data-to` of the first chart of `class` in `html`.
    fn range_of(html: &str, class: &str) -> (i64, i64) {
        let svg = &html[html.find(&format!("<svg class=\"chart {class}\"")).unwrap()..];
        let attr = |k: &str| -> i64 {
            let rest = &svg[svg.find(&format!("{k}=\"")).unwrap() + k.len() + 2..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        };
        (attr("data-from"), attr("data-to"))
    }

    #[test]
    fn an_incident_shows_its_phases_ruled_out_and_what_changed() {
        let html = page_of(testing::deploy(), "access-log offsets");
        let inc = &html[html.find("id=\"incident-1\"").unwrap()..];
        let inc = &inc[..inc.find("</details>").unwrap()];
        assert!(inc.contains(
            "<p class=\"phases\">Phases: <span class=\"phase p-refused\">refused 7</span> <span class=\"dim\">(10:10:00–10:10:06)</span> → <span class=\"phase p-permission\">permission 7,589</span> <span class=\"dim\">(10:10:07–10:24:50)</span> → <span class=\"phase p-refused\">refused 3</span>"
        ), "{inc}");
        // The phases are a lane of the incident's chart.
        assert_eq!(inc.matches("<rect class=\"phase p-refused\"").count(), 2);
        assert!(inc.contains("<title>permission: 7,589 gateway errors, 10:10:07–10:24:50</title>"));
        assert!(inc.contains("<h3>Ruled out</h3><dl class=\"ruled-out\"><dt><span class=\"badge v-capacity\">capacity</span> <code>max_children</code></dt><dd>the pool never reached <code>pm.max_children</code> and traffic stayed at 1.1x the background</dd>"));
        assert!(inc.contains("<td class=\"time\">10:09:36</td><td>24s before the first error</td><td class=\"loc\"><code>php-fpm.log:41</code></td>"));
        // Every evidence line, in the correlator's order.
        assert_eq!(
            inc.matches("<td class=\"loc\"><code>error.log:").count(),
            11
        );
        assert!(inc.find("error.log:100").unwrap() < inc.find("error.log:110").unwrap());
        // Counts: no zero part, thousands separated, shares.
        assert!(inc.contains("7,599</span> gateway errors (502 × <span class=\"n\" data-k=\"status_502\">7,599</span>)"));
        assert!(!inc.contains("504 ×"));
        assert!(inc.contains("<td class=\"r share\">66%</td>"));
    }

    #[test]
    fn an_incident_chart_is_zoomed_to_it_with_its_lead_in() {
        let html = page_of(testing::deploy(), "--tz");
        // The overview is the window read, to its last second.
        assert_eq!(
            range_of(&html, "overview"),
            (testing::TEN, testing::TEN + 3600)
        );
        // 10:10:00–10:25:00: a quarter of it (3m45s) before and after.
        assert_eq!(
            range_of(&html, "zoom"),
            (testing::TEN + 600 - 225, testing::TEN + 1501 + 225)
        );
        // A short incident: a minute before, half a minute after, inside
        // the window.
        let mut a = testing::deploy();
        a.incidents[0] = testing::incident(1, baton_correlate::Cause::FpmDown, 30, 40, 5);
        let html = page_of(a, "--tz");
        assert_eq!(
            range_of(&html, "zoom"),
            (testing::TEN, testing::TEN + 41 + 30)
        );
    }

    #[test]
    fn findings_follow_the_incidents_and_say_they_are_background() {
        let html = page_of(testing::deploy(), "--tz");
        let (inc, f) = (
            html.find("<section id=\"incidents\">").unwrap(),
            html.find("<section id=\"findings\">").unwrap(),
        );
        assert!(inc < f && f < html.find("<section id=\"files\">").unwrap());
        let f = &html[f..];
        assert!(f.contains(
            "<h2>Background findings</h2><p class=\"dim\">1 recurring failure outside any incident"
        ));
        assert!(f.contains("<span class=\"id\">background 1</span><span class=\"badge v-crash\">crash</span><strong class=\"cause\">segfault</strong><span class=\"dim\">not an incident: lone failures outside any rise above the background</span>"));
        assert!(f.contains("2026-11-24 10:01:00 – 10:58:20 UTC (57m20s)</span> · <span class=\"n\" data-k=\"finding_count\">14</span> gateway errors"), "{f}");
        assert!(f.contains("<dt>Worker pids</dt><dd>2101, 2177</dd>"));
        assert!(f.contains("<code>/shop/</code> 9"));
        assert!(f.contains(
            "<li>Treat the segfaults as a reliability incident: enable core dumps.</li>"
        ));
        assert!(f.contains("<code>php-fpm.log:7</code>"));
        assert!(html.contains("in no incident; <a href=\"#findings\">1 background finding</a>"));
    }

    #[test]
    fn the_header_says_an_assumed_zone_and_counts_in_words() {
        let html = page_of(testing::deploy(), "default UTC");
        assert!(html.contains("<dd class=\"zone assumed\">UTC, assumed: no input carried a UTC offset and no --tz was given"));
        assert!(html.contains("<title>baton report: 1 incident, 7,613 gateway errors</title>"));
        assert!(html.contains("7,613</span> gateway errors (502 × <span class=\"n\" data-k=\"status_502\">7,613</span>) in <span class=\"n\" data-k=\"requests\">100,000</span> requests"));
        assert!(html.contains("0 files, 0 lines, 0 skipped"));
        let html = page_of(testing::deploy(), "--tz");
        assert!(html.contains("<dd class=\"zone\">UTC (--tz); for timestamps"));
        // One of each.
        let mut a = testing::deploy();
        a.totals = baton_correlate::model::Totals {
            requests: 1,
            gateway_errors: 1,
            status_502: 0,
            status_504: 1,
            edge_gateway_errors: 0,
        };
        a.background.gateway_errors = 1;
        let html = page_of(a, "--tz");
        assert!(html.contains("<span class=\"n\" data-k=\"gateway_errors\">1</span> gateway error (504 × <span class=\"n\" data-k=\"status_504\">1</span>) in <span class=\"n\" data-k=\"requests\">1</span> request</p>"), "{html}");
        assert!(html.contains("data-k=\"background\">1</span> gateway error in no incident"));
    }
}
