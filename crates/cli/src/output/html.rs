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

use baton_correlate::model::{Analysis, Incident};
use baton_logparse::time::{Timestamp, parse_iso8601};

use super::escape_bytes;
use crate::report::Report;
use crate::stats::StatsFile;
use svg::{Band, Chart};

/// The style sheet, inline.
const CSS: &str = include_str!("html/style.css");

/// Renders the report as HTML.
pub fn report(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    out.write_all(page(r).into_string().as_bytes())?;
    out.write_all(b"\n")
}

/// `1,234`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

fn instant(s: &str) -> Option<Timestamp> {
    parse_iso8601(s.as_bytes())
}

/// The local date and time an RFC 3339 string shows, to the second:
/// `("2026-11-24", "08:10:38")`.
fn local_parts(s: &str) -> Option<(String, String)> {
    let t = instant(s)?;
    let l = t.unix_secs() + i64::from(t.offset_s);
    let (y, m, d) = svg::civil(l.div_euclid(86_400));
    let hms = l.rem_euclid(86_400);
    Some((
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", hms / 3600, hms % 3600 / 60, hms % 60),
    ))
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

/// `3m42s`.
fn duration(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// When an incident happened: `2026-11-24 08:10:38 – 08:11:52 UTC (1m14s)`,
/// in the offset its times carry (the zone's, at that instant).
fn when(start: &str, end: &str, zone_name: &str) -> String {
    let (Some(a), Some(b), Some((da, ta)), Some((db, tb))) = (
        instant(start),
        instant(end),
        local_parts(start),
        local_parts(end),
    ) else {
        return format!("{start} – {end}");
    };
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
        .filter_map(|i| {
            let (s, e) = (instant(&i.start)?, instant(&i.end)?);
            Some(Band {
                from: s.unix_secs(),
                to: e.unix_secs(),
                id: i.id,
                verdict: i.verdict.as_str(),
                title: format!(
                    "#{} {} ({}): {} gateway errors",
                    i.id,
                    i.cause.as_str(),
                    i.verdict.as_str(),
                    thousands(i.gateway_errors)
                ),
            })
        })
        .collect()
}

/// The range of the overview: the window read, else the minutes with
/// gateway errors or marks.
fn overview_range(a: &Analysis) -> Option<(i64, i64)> {
    let w = (
        a.window.start.as_deref().and_then(instant),
        a.window.end.as_deref().and_then(instant),
    );
    let (from, to) = match w {
        (Some(s), Some(e)) => (s.unix_secs(), e.unix_secs() + 1),
        _ => {
            let ts = a
                .timeline
                .iter()
                .map(|m| m.t)
                .chain(a.marks.iter().map(|m| m.t));
            let (lo, hi) = ts.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
            if lo > hi {
                return None;
            }
            (lo, hi + 60)
        }
    };
    Some(at_least(from, to, MIN_SPAN))
}

/// The shortest range a chart shows (a short one is widened around its
/// middle), so that a minute stays a narrow bar.
const MIN_SPAN: i64 = 600;

/// `from..to` widened around its middle to `span` seconds if shorter.
fn at_least(from: i64, to: i64, span: i64) -> (i64, i64) {
    let short = span - (to - from);
    if short <= 0 {
        return (from, to);
    }
    (from - short / 2, to + short - short / 2)
}

fn legend() -> Markup {
    html! {
        ul.legend {
            li { span.sw.sw-502 {} "502" }
            li { span.sw.sw-504 {} "504" }
            li { span.sw.sw-edge {} "edge gateway error" }
            li { span.sw.sw-band {} "incident (links to it)" }
            li { "marks: FPM and kernel events per minute, one lane each; hover for counts" }
        }
    }
}

fn head(r: &Report) -> Markup {
    let a = &r.analysis;
    let t = &a.totals;
    let n = a.incidents.len();
    let title = format!(
        "baton report: {n} {}, {} gateway errors",
        if n == 1 { "incident" } else { "incidents" },
        thousands(t.gateway_errors)
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
                strong { span.n data-k="incidents" { (n) } " " (if n == 1 { "incident" } else { "incidents" }) }
                ", " (num("gateway_errors", t.gateway_errors)) " gateway errors (502 × "
                (num("status_502", t.status_502)) ", 504 × " (num("status_504", t.status_504))
                ") in " (num("requests", t.requests)) " requests"
                @if t.edge_gateway_errors > 0 {
                    "; " (num("edge_gateway_errors", t.edge_gateway_errors)) " edge gateway errors (Cloudflare)"
                }
            }
            dl.meta {
                dt { "Window" }
                dd {
                    (a.window.start.as_deref().unwrap_or("-")) " – " (a.window.end.as_deref().unwrap_or("-"))
                }
                dt { "Zone" }
                dd { (r.stats.zone.to_string()) " (" (r.stats.zone_source) "), for timestamps that carry none; charts are labelled in it" }
                dt { "Read" }
                dd {
                    (thousands(r.stats.files.len() as u64)) " files, " (thousands(lines)) " lines, "
                    (thousands(skipped)) " skipped (see " a href="#files" { "input files" } ")"
                }
                @if j.gateway_errors > 0 {
                    dt { "Joins" }
                    dd {
                        (thousands(j.matched_upstream_error)) " of " (thousands(j.gateway_errors))
                        " access-log gateway errors matched an error-log upstream error; "
                        (thousands(j.unmatched_error_log)) " upstream errors had no access line"
                    }
                }
                dt { "Background" }
                dd {
                    (num("background", a.background.gateway_errors))
                    (if a.background.gateway_errors == 1 { " gateway error" } else { " gateway errors" })
                    " in no incident"
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
                                td { (local_parts(&i.start).map_or_else(|| i.start.clone(), |(d, t)| format!("{d} {t}"))) }
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
            zone: r.stats.zone,
            bar_height: 150.0,
            max_bars: 360,
            class: "overview",
            label: format!(
                "Gateway errors over the whole window, {} incidents shaded, FPM and kernel events below",
                a.incidents.len()
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
    let chart = match (instant(&i.start), instant(&i.end)) {
        (Some(s), Some(e)) => {
            let (s, e) = (s.unix_secs(), e.unix_secs());
            let pad = ((e - s) / 4).max(120);
            let (from, to) = at_least(s - pad, e + 60 + pad, MIN_SPAN);
            Some(
                Chart {
                    from,
                    to,
                    minutes: &r.analysis.timeline,
                    marks: &r.analysis.marks,
                    bands,
                    zone: r.stats.zone,
                    bar_height: 110.0,
                    max_bars: 120,
                    class: "zoom",
                    label: format!(
                        "Incident #{}: gateway errors and FPM and kernel events around it",
                        i.id
                    ),
                }
                .render(),
            )
        }
        _ => None,
    };
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
                span class={ "badge v-" (v) } { (v) }
                strong.cause { (i.cause.as_str()) }
                span.handoff { (i.handoff) }
                @if let Some(c) = culprit_line(i) { span.culprit { "culprit: " (clean(&c)) } }
                br;
                span.when { (when(&i.start, &i.end, &zone)) }
                " · " (num("gateway_errors", i.gateway_errors)) " gateway errors: 502 × "
                (num("status_502", i.status_502)) ", 504 × " (num("status_504", i.status_504))
                @let other = i.gateway_errors.saturating_sub(i.status_502 + i.status_504);
                @if other > 0 { ", edge × " (thousands(other)) }
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
                @if let Some(c) = chart { figure { (c) } }
                div.grid {
                    div {
                        h3 { "Top paths" }
                        table.kv {
                            thead { tr { th { "path" } th { "action" } th.r { "errors" } } }
                            tbody {
                                @for p in &i.top_paths {
                                    tr {
                                        td { code { (clean(&p.path)) } }
                                        td.action { @if let Some(a) = &p.action { code { (clean(a)) } } }
                                        td.r { (thousands(p.count)) }
                                    }
                                }
                                @if i.top_paths.is_empty() { tr { td.none colspan="3" { "none" } } }
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
                @if !i.evidence_refs.is_empty() {
                    h3 { "Evidence lines" }
                    table.lines {
                        thead { tr { th { "file:line" } th { "time" } th { "text" } } }
                        tbody {
                            @for e in &i.evidence_refs {
                                tr {
                                    td.loc { code { (clean(&e.file)) ":" (e.line) } }
                                    td.time { (local_parts(&e.time).map_or_else(|| e.time.clone(), |(_, t)| t)) }
                                    td { code.line { (clean(&e.text)) } }
                                }
                            }
                        }
                    }
                }
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
                (overview(r, &bands))
                section #incidents {
                    h2 { "Incidents" }
                    @for i in &a.incidents { (incident(r, i, &bands)) }
                    @if a.incidents.is_empty() {
                        p.none { "No incident: gateway errors, if any, were isolated." }
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_bytes_durations() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(84_774_088), "84.8 MB");
        assert_eq!(duration(74), "1m14s");
        assert_eq!(duration(3 * 3600 + 120), "3h02m");
    }

    #[test]
    fn short_ranges_are_widened() {
        assert_eq!(at_least(100, 190, 600), (-155, 445));
        assert_eq!(at_least(0, 601, 600), (0, 601));
    }

    #[test]
    fn when_shows_local_times_and_the_zone() {
        assert_eq!(
            when(
                "2026-11-24T08:10:38+00:00",
                "2026-11-24T08:11:52+00:00",
                "UTC"
            ),
            "2026-11-24 08:10:38 – 08:11:52 UTC (1m14s)"
        );
        assert_eq!(
            when(
                "2026-11-24T23:59:30.015+01:00",
                "2026-11-25T00:00:10+01:00",
                "Europe/Berlin"
            ),
            "2026-11-24 23:59:30 – 2026-11-25 00:00:10 +01:00, Europe/Berlin (40s)"
        );
        assert_eq!(
            when(
                "2026-10-25T02:59:00+02:00",
                "2026-10-25T02:01:00+01:00",
                "-05:00"
            ),
            "2026-10-25 02:59:00 – 02:01:00 +02:00 / +01:00 (2m00s)"
        );
        assert_eq!(when("x", "y", "UTC"), "x – y");
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
}
