//! Timeline charts as inline SVG: gateway errors per minute as stacked bars
//! by status, incidents as shaded bands, FPM and kernel events as marks in
//! lanes under the bars, all on one time axis labelled in the report's zone.
//!
//! The charts are drawn with maud, so every text in them (tooltips, labels)
//! is escaped like the rest of the page. Geometry is computed by small pure
//! functions ([`bucket_minutes`], [`nice_max`], [`ticks`]) that are tested
//! on their own. SVG elements are always written with a closing tag
//! (`rect {}`): inside HTML, a `<rect>` without one would swallow its
//! siblings.

use maud::{Markup, html};

use baton_correlate::model::{Mark, TimelineMinute};
use baton_logparse::Zone;

use crate::output::words::{count, statuses, thousands};

/// The SVG user-space width; the chart scales to its container.
const WIDTH: f64 = 960.0;
/// Left margin: y-axis numbers and lane names.
const LEFT: f64 = 92.0;
/// Right margin.
const RIGHT: f64 = 14.0;
/// Room above the label rows for the unit.
const UNIT: f64 = 16.0;
/// Height of one row of incident labels above the bars.
const LABEL_ROW: f64 = 13.0;
/// Height of one mark lane.
const LANE: f64 = 15.0;
/// Room under the plot for the time axis.
const AXIS: f64 = 32.0;

/// An incident drawn as a shaded band.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The incident's first gateway error, unix seconds.
    pub from: i64,
    /// Its last gateway error, unix seconds (the band covers that second).
    pub to: i64,
    /// The incident id (the band links to `#incident-{id}`).
    pub id: u32,
    /// The verdict (a CSS class suffix).
    pub verdict: &'static str,
    /// The node (machine) whose incident it is, in a run over several.
    pub node: Option<String>,
    /// The tooltip.
    pub title: String,
}

/// One failure mode of an incident, drawn in a lane of its chart.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseBand {
    /// Its first gateway error, unix seconds.
    pub from: i64,
    /// Its last gateway error, unix seconds (the band covers that second).
    pub to: i64,
    /// The class in words (`refused`, `missing socket`).
    pub name: String,
    /// The class's contract name (a CSS class suffix).
    pub class: &'static str,
    /// The tooltip.
    pub title: String,
}

/// One chart: a time range and what to draw in it.
///
/// The x axis runs from `from` to `to` exactly: the chart ends where the
/// data ends. Bars are per minute (or per group of minutes on a long
/// range), each drawn across its own minute, cut where the range cuts it.
pub struct Chart<'a> {
    /// First instant shown, unix seconds.
    pub from: i64,
    /// End of the range, unix seconds (exclusive).
    pub to: i64,
    /// Gateway errors per minute (any order; minutes outside are ignored).
    pub minutes: &'a [TimelineMinute],
    /// FPM and kernel events per minute.
    pub marks: &'a [Mark],
    /// Incidents.
    pub bands: &'a [Band],
    /// Phases of the incident the chart is about (none on the overview).
    pub phases: &'a [PhaseBand],
    /// The zone the axis is labelled in.
    pub zone: Zone,
    /// Height of the bar area.
    pub bar_height: f64,
    /// At most this many bars; minutes are grouped beyond it.
    pub max_bars: i64,
    /// CSS classes of the `<svg>` besides `chart`.
    pub class: &'static str,
    /// What the chart shows, for screen readers and as its `<title>`.
    pub label: String,
}

/// A mark lane: which mark kinds it holds, its name and CSS class.
struct Lane {
    kinds: &'static [&'static str],
    name: &'static str,
    class: &'static str,
}

/// Lanes in drawing order; a chart shows the lanes it has marks for.
const LANES: [Lane; 8] = [
    Lane {
        kinds: &["max_children"],
        name: "max_children",
        class: "m-maxch",
    },
    Lane {
        kinds: &["restart", "reload"],
        name: "FPM restart",
        class: "m-restart",
    },
    Lane {
        kinds: &["child_signal"],
        name: "child signal",
        class: "m-signal",
    },
    Lane {
        kinds: &["oom_kill"],
        name: "OOM kill",
        class: "m-oom",
    },
    Lane {
        kinds: &["segfault"],
        name: "segfault",
        class: "m-segv",
    },
    Lane {
        kinds: &["slow_request", "execution_timeout"],
        name: "slow / timeout",
        class: "m-slow",
    },
    Lane {
        kinds: &["php_fatal"],
        name: "PHP fatal",
        class: "m-fatal",
    },
    Lane {
        kinds: &["slow_query"],
        name: "slow query",
        class: "m-query",
    },
];

/// A mark kind in words, singular and plural.
fn mark_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "max_children" => ("max_children reached", "max_children reached"),
        "restart" => ("FPM restart", "FPM restarts"),
        "reload" => ("FPM reload", "FPM reloads"),
        "child_signal" => ("child killed by a signal", "children killed by a signal"),
        "oom_kill" => ("OOM kill", "OOM kills"),
        "segfault" => ("segfault", "segfaults"),
        "slow_request" => ("slow request", "slow requests"),
        "execution_timeout" => ("execution timeout", "execution timeouts"),
        "php_fatal" => ("PHP fatal error", "PHP fatal errors"),
        "slow_query" => ("slow query", "slow queries"),
        _ => ("event", "events"),
    }
}

/// `a / b` rounded up (`b > 0`).
fn ceil_div(a: i64, b: i64) -> i64 {
    -(-a).div_euclid(b)
}

/// Minutes per bar: the smallest of 1, 2, 5, 10, 15, 30 minutes, 1, 2, 3, 6,
/// 12 hours and whole days that keeps `span_minutes` within `max_bars` bars.
pub fn bucket_minutes(span_minutes: i64, max_bars: i64) -> i64 {
    const STEPS: [i64; 11] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720];
    let max_bars = max_bars.max(1);
    STEPS
        .into_iter()
        .find(|k| span_minutes <= k * max_bars)
        .unwrap_or_else(|| ceil_div(ceil_div(span_minutes, max_bars), 1440) * 1440)
}

/// The top of the y axis: `max` rounded up to 1, 2 or 5 times a power of
/// ten (at least 1).
pub fn nice_max(max: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = p.checked_mul(m)
                && v >= max
            {
                return v;
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return max,
        }
    }
}

/// Time-axis ticks (unix seconds) between `from` and `to`, at round local
/// times in `zone`, at most about `max_ticks` of them, with their labels:
/// `HH:MM`, or `MM-DD HH:MM` where the local day changes from the tick
/// before (and on the first tick when the range spans days).
pub fn ticks(from: i64, to: i64, zone: Zone, max_ticks: i64) -> Vec<(i64, String)> {
    const STEPS: [i64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880];
    let span = (to - from).max(60);
    let step = STEPS
        .into_iter()
        .map(|m| m * 60)
        .find(|s| span / s <= max_ticks.max(1))
        .unwrap_or_else(|| ceil_div(span / max_ticks.max(1), 86_400) * 86_400);
    let local = |u: i64| u + i64::from(zone.offset_at(u));
    // Every offset the range sees (a DST change inside it gives two): a
    // round local time is an instant under one of them when that offset is
    // in effect then. The skipped hour of a spring-forward gets no tick, the
    // repeated hour of a fall-back gets its ticks twice.
    let mut offsets: Vec<i64> = [from, from + span / 2, to]
        .into_iter()
        .map(|u| i64::from(zone.offset_at(u)))
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let (lo, hi) = (offsets[0], offsets[offsets.len() - 1]);
    let mut at: Vec<(i64, i64)> = Vec::new();
    let mut l = (from + lo).div_euclid(step) * step;
    while l < to + hi && at.len() < 400 {
        for off in &offsets {
            let u = l - off;
            if u >= from && u < to && local(u) == l {
                at.push((u, l));
            }
        }
        l += step;
    }
    at.sort_unstable();
    at.dedup_by_key(|(u, _)| *u);
    let many_days = span >= 86_400;
    let mut last_day = None;
    at.into_iter()
        .map(|(u, l)| {
            let day = l.div_euclid(86_400);
            let (_, m, d) = civil(day);
            let hm = l.rem_euclid(86_400);
            let clock = format!("{:02}:{:02}", hm / 3600, hm % 3600 / 60);
            let dated = match last_day {
                None => many_days,
                Some(prev) => prev != day,
            };
            last_day = Some(day);
            if dated {
                (u, format!("{m:02}-{d:02} {clock}"))
            } else {
                (u, clock)
            }
        })
        .collect()
}

/// Year, month, day of a count of days since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Gateway errors of one bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Origin 502s.
    pub s502: u64,
    /// Origin 504s.
    pub s504: u64,
    /// Edge-only gateway errors.
    pub edge: u64,
    /// Requests.
    pub requests: u64,
}

impl Bucket {
    fn total(&self) -> u64 {
        self.s502 + self.s504 + self.edge
    }
}

/// Sums minutes into `n` buckets of `size` seconds from `from`.
pub fn buckets(minutes: &[TimelineMinute], from: i64, size: i64, n: usize) -> Vec<Bucket> {
    let mut out = vec![Bucket::default(); n];
    for m in minutes {
        if m.t < from {
            continue;
        }
        let i = ((m.t - from) / size) as usize;
        if let Some(b) = out.get_mut(i) {
            b.s502 += m.status_502;
            b.s504 += m.status_504;
            b.edge += m.edge;
            b.requests += m.requests;
        }
    }
    out
}

/// `HH:MM` of an instant in the zone.
fn clock(t: i64, zone: Zone) -> String {
    let l = (t + i64::from(zone.offset_at(t))).rem_euclid(86_400);
    format!("{:02}:{:02}", l / 3600, l % 3600 / 60)
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// The row of each label above the bars, for labels spanning `spans` (x
/// from, x to, in any order): the lowest row where it overlaps no label
/// placed before it, so that every label is shown.
pub fn label_rows(spans: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by(|a, b| spans[*a].0.total_cmp(&spans[*b].0));
    let mut ends: Vec<f64> = Vec::new();
    let mut rows = vec![0; spans.len()];
    for k in order {
        let (x0, x1) = spans[k];
        let row = match ends.iter().position(|e| *e + 3.0 <= x0) {
            Some(r) => r,
            None => {
                ends.push(f64::NEG_INFINITY);
                ends.len() - 1
            }
        };
        ends[row] = x1;
        rows[k] = row;
    }
    rows
}

/// The rough width of a label in the chart's font.
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * 6.6 + 4.0
}

impl Chart<'_> {
    /// Draws the chart.
    pub fn render(&self) -> Markup {
        let from = self.from;
        let to = self.to.max(from + 1);
        // Bars sit on a grid of whole minutes (or groups of minutes); the
        // range may cut the first and last of them.
        let grid = from.div_euclid(60) * 60;
        let per = bucket_minutes(ceil_div(to - grid, 60), self.max_bars);
        let size = per * 60;
        let n = ceil_div(to - grid, size) as usize;
        let bars = buckets(self.minutes, grid, size, n);
        let plot_w = WIDTH - LEFT - RIGHT;
        let x = |t: i64| LEFT + (t.clamp(from, to) - from) as f64 / (to - from) as f64 * plot_w;
        // The time slot `a..b` as an x and a width inside the plot, a small
        // gap on each side, at least `min_w` wide.
        let slot = |a: i64, b: i64, min_w: f64| -> (f64, f64) {
            let (x0, x1) = (x(a), x(b));
            let gap = ((x1 - x0) * 0.08).min(1.5);
            let w = (x1 - x0 - 2.0 * gap).max(min_w);
            ((x0 + gap).min(x1 - w).max(LEFT), w)
        };

        let lanes: Vec<(&Lane, Vec<&Mark>)> = LANES
            .iter()
            .map(|lane| {
                let ms: Vec<&Mark> = self
                    .marks
                    .iter()
                    .filter(|m| m.t + 60 > from && m.t < to && lane.kinds.contains(&m.kind))
                    .collect();
                (lane, ms)
            })
            .filter(|(_, ms)| !ms.is_empty())
            .collect();
        let phases: Vec<&PhaseBand> = self
            .phases
            .iter()
            .filter(|p| p.to + 1 > from && p.from < to)
            .collect();
        let phase_lane = usize::from(!phases.is_empty());
        // A run over several nodes: one lane per node with its incidents,
        // so which machine failed when reads at a glance.
        let mut nodes: Vec<&str> = self
            .bands
            .iter()
            .filter_map(|b| b.node.as_deref())
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        if nodes.len() < 2 {
            nodes.clear();
        }

        // Incident bands, each with its label in the lowest free row.
        let shown: Vec<&Band> = self
            .bands
            .iter()
            .filter(|b| b.to + 1 > from && b.from < to)
            .collect();
        let band_x: Vec<(f64, f64)> = shown
            .iter()
            .map(|b| {
                let x0 = x(b.from);
                (x0, x(b.to + 1).max(x0 + 3.0))
            })
            .collect();
        let labels: Vec<(String, f64)> = shown
            .iter()
            .zip(&band_x)
            .map(|(b, (x0, x1))| {
                let text = format!("#{}", b.id);
                let half = text_width(&text) / 2.0;
                let cx = ((x0 + x1) / 2.0).clamp(LEFT + half, WIDTH - RIGHT - half);
                (text, cx)
            })
            .collect();
        let spans: Vec<(f64, f64)> = labels
            .iter()
            .map(|(t, cx)| (cx - text_width(t) / 2.0, cx + text_width(t) / 2.0))
            .collect();
        let rows = label_rows(&spans);
        let label_rows = rows.iter().max().map_or(1, |r| r + 1);
        let top = UNIT + LABEL_ROW * label_rows as f64 + 3.0;

        let ymax = nice_max(bars.iter().map(Bucket::total).max().unwrap_or(0));
        let base = top + self.bar_height;
        let y = |v: u64| base - v as f64 / ymax as f64 * self.bar_height;
        let lanes_top = base + 6.0;
        let plot_bottom = lanes_top + LANE * (lanes.len() + phase_lane + nodes.len()) as f64;
        let height = plot_bottom + AXIS;
        let unit = if per == 1 {
            "per minute".to_string()
        } else if per % 60 == 0 {
            format!("per {} h", per / 60)
        } else {
            format!("per {per} min")
        };
        let axis_ticks = ticks(from, to, self.zone, if n > 60 { 10 } else { 8 });

        html! {
            svg class={ "chart " (self.class) } viewBox={ "0 0 " (WIDTH) " " (f(height)) }
                role="img" aria-label=(self.label) preserveAspectRatio="xMidYMid meet"
                data-from=(from) data-to=(to) data-x0=(f(LEFT)) data-x1=(f(WIDTH - RIGHT)) {
                title { (self.label) }
                // Grid and y axis.
                @for v in [0, ymax / 2, ymax] {
                    @if v > 0 || ymax > 0 {
                        line class="grid" x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(y(v))) y2=(f(y(v))) {}
                        text class="ylabel" x=(f(LEFT - 6.0)) y=(f(y(v) + 3.5)) text-anchor="end" { (v) }
                    }
                }
                text class="unit" x=(f(LEFT)) y="11" { "gateway errors " (unit) }
                // Incidents, every one labelled.
                @for (k, b) in shown.iter().enumerate() {
                    @let (x0, x1) = band_x[k];
                    @let (label, cx) = &labels[k];
                    a href={ "#incident-" (b.id) } {
                        rect class={ "band v-" (b.verdict) } x=(f(x0)) y=(f(top))
                            width=(f(x1 - x0)) height=(f(plot_bottom - top))
                            data-from=(b.from) data-to=(b.to) {
                            title { (b.title) }
                        }
                        text class="bandlabel" x=(f(*cx)) y=(f(top - 4.0 - LABEL_ROW * rows[k] as f64)) text-anchor="middle" {
                            (label)
                        }
                    }
                }
                // Bars, stacked 502, 504, edge from the bottom, each across
                // its own minute.
                @for (i, b) in bars.iter().enumerate() {
                    @if b.total() > 0 {
                        @let t = grid + i as i64 * size;
                        @let (bx, bw) = slot(t, t + size, 0.8);
                        g class="bar" data-t=(t) data-end=(t + size) {
                            title {
                                (clock(t, self.zone))
                                @if per > 1 { "–" (clock(t + size, self.zone)) }
                                ": " (statuses(b.s502, b.s504, "×"))
                                @if b.edge > 0 { @if b.s502 + b.s504 > 0 { ", " } "edge × " (b.edge) }
                                @if b.requests > 0 { " of " (count(b.requests, "request", "requests")) }
                            }
                            @for (class, lo, hi) in [
                                ("s502", 0, b.s502),
                                ("s504", b.s502, b.s502 + b.s504),
                                ("sedge", b.s502 + b.s504, b.total()),
                            ] {
                                @if hi > lo {
                                    @let top = y(hi).min(y(lo) - 1.0);
                                    rect class=(class) x=(f(bx)) y=(f(top)) width=(f(bw)) height=(f(y(lo) - top)) {}
                                }
                            }
                        }
                    }
                }
                line class="axis" x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(base)) y2=(f(base)) {}
                // The incident's phases, one lane.
                @if !phases.is_empty() {
                    @let ly = lanes_top;
                    text class="lane" x=(f(LEFT - 6.0)) y=(f(ly + LANE / 2.0 + 3.5)) text-anchor="end" { "phase" }
                    @for p in &phases {
                        @let x0 = x(p.from);
                        @let x1 = x(p.to + 1).max(x0 + 3.0);
                        rect class={ "phase p-" (p.class) } x=(f(x0)) y=(f(ly + 1.0)) width=(f(x1 - x0)) height=(f(LANE - 2.0))
                            data-from=(p.from) data-to=(p.to) {
                            title { (p.title) }
                        }
                        @if x1 - x0 >= text_width(&p.name) {
                            text class="phasen" x=(f((x0 + x1) / 2.0)) y=(f(ly + LANE / 2.0 + 3.5)) text-anchor="middle" { (p.name) }
                        }
                    }
                }
                // Node lanes: each node's incidents.
                @for (k, node) in nodes.iter().enumerate() {
                    @let ly = lanes_top + LANE * (k + phase_lane) as f64;
                    text class="lane node" x=(f(LEFT - 6.0)) y=(f(ly + LANE / 2.0 + 3.5)) text-anchor="end" { (node) }
                    line class="laneline" x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(ly + LANE / 2.0)) y2=(f(ly + LANE / 2.0)) {}
                    @for (b, (x0, x1)) in shown.iter().zip(&band_x).filter(|(b, _)| b.node.as_deref() == Some(*node)) {
                        a href={ "#incident-" (b.id) } {
                            rect class={ "nodeinc v-" (b.verdict) } x=(f(*x0)) y=(f(ly + 2.0)) width=(f(x1 - x0)) height=(f(LANE - 4.0)) {
                                title { (node) ": " (b.title) }
                            }
                        }
                    }
                }
                // Mark lanes.
                @for (k, (lane, ms)) in lanes.iter().enumerate() {
                    @let ly = lanes_top + LANE * (k + phase_lane + nodes.len()) as f64;
                    text class="lane" x=(f(LEFT - 6.0)) y=(f(ly + LANE / 2.0 + 3.5)) text-anchor="end" { (lane.name) }
                    line class="laneline" x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(ly + LANE / 2.0)) y2=(f(ly + LANE / 2.0)) {}
                    @for m in ms {
                        @let t = grid + (m.t - grid).div_euclid(size) * size;
                        @let (mx, mw) = slot(t, t + size, 3.0);
                        @let (one, many) = mark_words(m.kind);
                        rect class={ "mark " (lane.class) } x=(f(mx)) y=(f(ly + 2.0)) width=(f(mw)) height=(f(LANE - 4.0)) {
                            title { (clock(m.t, self.zone)) ": " (thousands(m.count)) " " (if m.count == 1 { one } else { many }) }
                        }
                        @if mw >= 16.0 && m.count > 1 {
                            text class="markn" x=(f(mx + mw / 2.0)) y=(f(ly + LANE / 2.0 + 3.5)) text-anchor="middle" { (m.count) }
                        }
                    }
                }
                // Time axis.
                line class="axis" x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(plot_bottom)) y2=(f(plot_bottom)) {}
                @for (t, label) in &axis_ticks {
                    line class="tick" x1=(f(x(*t))) x2=(f(x(*t))) y1=(f(plot_bottom)) y2=(f(plot_bottom + 4.0)) {}
                    text class="xlabel" x=(f(x(*t))) y=(f(plot_bottom + 16.0)) text-anchor="middle" { (label) }
                }
                text class="zone" x=(f(WIDTH - RIGHT)) y=(f(height - 3.0)) text-anchor="end" { "time in " (self.zone.to_string()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(t: i64, s502: u64, s504: u64, edge: u64) -> TimelineMinute {
        TimelineMinute {
            t,
            minute: Default::default(),
            status_502: s502,
            status_504: s504,
            edge,
            requests: 100,
        }
    }

    #[test]
    fn buckets_grow_with_the_span() {
        assert_eq!(bucket_minutes(180, 360), 1);
        assert_eq!(bucket_minutes(360, 360), 1);
        assert_eq!(bucket_minutes(361, 360), 2);
        assert_eq!(bucket_minutes(1440, 360), 5);
        assert_eq!(bucket_minutes(7 * 1440, 360), 30);
        assert_eq!(bucket_minutes(300 * 1440, 360), 1440);
        assert_eq!(bucket_minutes(600 * 1440, 360), 1440 * 2);
    }

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(14), 20);
        assert_eq!(nice_max(856), 1000);
        assert_eq!(nice_max(u64::MAX), u64::MAX);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_781), (2026, 11, 24));
        assert_eq!(civil(-1), (1969, 12, 31));
    }

    #[test]
    fn ticks_are_round_local_times() {
        // 2026-11-24T08:00:00Z .. 11:00:00Z.
        let from = 1_795_507_200;
        let t = ticks(from, from + 3 * 3600, Zone::UTC, 10);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"]
        );
        assert_eq!(t[1].0, from + 1800);
        // At -05:00 the same instants are 03:00 ...; a quarter-hour offset
        // still gives round local labels.
        let t = ticks(from + 60, from + 3 * 3600, Zone::Fixed(-5 * 3600 + 900), 10);
        assert_eq!(t[0], (from + 900, "03:30".to_string()));
        // Across midnight the new day is dated.
        let t = ticks(from + 15 * 3600, from + 18 * 3600, Zone::UTC, 4);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["23:00", "11-25 00:00", "01:00"]);
        // Many days: dated ticks only.
        let t = ticks(from, from + 10 * 86_400, Zone::UTC, 10);
        assert_eq!(t[0].1, "11-25 00:00");
        assert!(t.len() <= 10);
    }

    #[test]
    fn ticks_follow_dst() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        // 2026-03-29 00:00Z .. 03:00Z: clocks jump from 02:00 to 03:00 local.
        let from = 1_774_742_400;
        let t = ticks(from, from + 3 * 3600, berlin, 6);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]
        );
        // 2026-10-25 00:00Z .. 03:00Z: clocks go back from 03:00 to 02:00.
        let from = 1_792_886_400;
        let t = ticks(from, from + 3 * 3600, berlin, 6);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["02:00", "02:30", "02:00", "02:30", "03:00", "03:30"]
        );
        assert!(t.windows(2).all(|w| w[1].0 - w[0].0 == 1800));
    }

    #[test]
    fn buckets_sum_minutes_in_range() {
        let from = 600;
        let m = [
            minute(540, 9, 9, 9),
            minute(600, 1, 2, 0),
            minute(660, 3, 0, 1),
            minute(780, 0, 5, 0),
            minute(6000, 7, 7, 7),
        ];
        let b = buckets(&m, from, 120, 2);
        assert_eq!(
            b,
            [
                Bucket {
                    s502: 4,
                    s504: 2,
                    edge: 1,
                    requests: 200
                },
                Bucket {
                    s502: 0,
                    s504: 5,
                    edge: 0,
                    requests: 100
                }
            ]
        );
    }

    fn count(s: &str, needle: &str) -> usize {
        s.matches(needle).count()
    }

    #[test]
    fn draws_bars_bands_marks_and_axis() {
        let from = 1_795_507_200;
        let minutes = [
            minute(from + 60, 3, 1, 0),
            minute(from + 120, 0, 0, 2),
            minute(from - 60, 5, 0, 0),
        ];
        let marks = [
            Mark {
                t: from + 60,
                minute: Default::default(),
                kind: "max_children",
                count: 2,
            },
            Mark {
                t: from + 120,
                minute: Default::default(),
                kind: "oom_kill",
                count: 1,
            },
            Mark {
                t: from + 7200,
                minute: Default::default(),
                kind: "restart",
                count: 1,
            },
        ];
        let bands = [Band {
            from: from + 65,
            to: from + 150,
            id: 7,
            verdict: "crash",
            node: None,
            title: "#7 <crash> \"oom\"".into(),
        }];
        let svg = Chart {
            from,
            to: from + 600,
            minutes: &minutes,
            marks: &marks,
            bands: &bands,
            phases: &[],
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 360,
            class: "zoom",
            label: "test chart".into(),
        }
        .render()
        .into_string();
        assert!(svg.starts_with("<svg class=\"chart zoom\" viewBox=\"0 0 960 "));
        // Two bars in range: 502 + 504 stacked, then an edge bar.
        assert_eq!(count(&svg, "<g class=\"bar\" "), 2);
        assert_eq!(count(&svg, "class=\"s502\""), 1);
        assert_eq!(count(&svg, "class=\"s504\""), 1);
        assert_eq!(count(&svg, "class=\"sedge\""), 1);
        assert!(svg.contains("<title>08:01: 502 × 3, 504 × 1 of 100 requests</title>"));
        // Two lanes, the restart is out of range.
        assert_eq!(count(&svg, "class=\"lane\""), 2);
        assert!(svg.contains("<title>08:01: 2 max_children reached</title>"));
        assert!(svg.contains("<title>08:02: 1 OOM kill</title>"));
        assert!(!svg.contains("m-restart"));
        // The band links to its incident and its title is escaped.
        assert!(svg.contains("<a href=\"#incident-7\"><rect class=\"band v-crash\""));
        assert!(svg.contains(">#7</text>"));
        // The edge bar's tooltip names no zero part.
        assert!(svg.contains("<title>08:02: edge × 2 of 100 requests</title>"));
        assert!(svg.contains("#7 &lt;crash&gt; &quot;oom&quot;"));
        // Axis: 10 minutes, ticks every 2 minutes; the y axis tops at 5.
        assert!(svg.contains(">08:00</text>"));
        assert!(svg.contains(">08:08</text>"));
        assert!(svg.contains(">5</text>"));
        assert!(svg.contains("time in UTC"));
        assert!(svg.contains("gateway errors per minute"));
        // Every element is closed (no bare `<rect ...>` in HTML).
        assert_eq!(count(&svg, "<rect "), count(&svg, "</rect>"));
        assert_eq!(count(&svg, "<line "), count(&svg, "</line>"));
    }

    #[test]
    fn several_nodes_get_a_lane_each_with_their_incidents() {
        let from = 1_795_507_200;
        let band = |id: u32, t: i64, node: &str| Band {
            from: from + t,
            to: from + t + 90,
            id,
            verdict: "capacity",
            node: Some(node.to_string()),
            title: format!("#{id}"),
        };
        let bands = [
            band(1, 60, "web2"),
            band(2, 100, "web1"),
            band(3, 400, "web2"),
        ];
        let chart = |bands: &[Band]| {
            Chart {
                from,
                to: from + 600,
                minutes: &[minute(from + 60, 3, 0, 0)],
                marks: &[],
                bands,
                phases: &[],
                zone: Zone::UTC,
                bar_height: 100.0,
                max_bars: 360,
                class: "overview",
                label: "fleet".into(),
            }
            .render()
            .into_string()
        };
        let svg = chart(&bands);
        // Two node lanes, in name order, and one rect per incident in them.
        assert_eq!(count(&svg, "class=\"lane node\""), 2);
        assert!(svg.find(">web1</text>") < svg.find(">web2</text>"));
        assert_eq!(count(&svg, "class=\"nodeinc v-capacity\""), 3);
        assert!(svg.contains("<title>web2: #3</title>"));
        // One node: no node lanes.
        let one: Vec<Band> = bands
            .iter()
            .cloned()
            .map(|b| Band {
                node: Some("web1".into()),
                ..b
            })
            .collect();
        assert_eq!(count(&chart(&one), "class=\"lane node\""), 0);
    }

    #[test]
    fn php_fatals_and_slow_queries_have_lanes_of_their_own() {
        let from = 1_795_507_200;
        let minutes = [minute(from + 60, 3, 1, 0)];
        let mark = |t: i64, kind: &'static str, count: u64| Mark {
            t,
            minute: Default::default(),
            kind,
            count,
        };
        let marks = [
            mark(from + 60, "slow_query", 4),
            mark(from + 120, "php_fatal", 1),
            mark(from + 120, "slow_request", 2),
        ];
        let svg = Chart {
            from,
            to: from + 600,
            minutes: &minutes,
            marks: &marks,
            bands: &[],
            phases: &[],
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 360,
            class: "zoom",
            label: "test chart".into(),
        }
        .render()
        .into_string();
        assert_eq!(count(&svg, "class=\"lane\""), 3);
        assert!(
            svg.contains("<title>08:01: 4 slow queries</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("<title>08:02: 1 PHP fatal error</title>"),
            "{svg}"
        );
        assert!(svg.contains("m-query") && svg.contains("m-fatal"));
        assert!(
            svg.contains(">slow query</text>") && svg.contains(">PHP fatal</text>"),
            "{svg}"
        );
    }

    #[test]
    fn long_ranges_group_minutes() {
        let from = 1_795_507_200;
        let minutes = [minute(from, 1, 0, 0), minute(from + 60, 1, 0, 0)];
        let svg = Chart {
            from,
            to: from + 2 * 86_400,
            minutes: &minutes,
            marks: &[],
            bands: &[],
            phases: &[],
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 360,
            class: "overview",
            label: String::new(),
        }
        .render()
        .into_string();
        assert!(svg.contains("gateway errors per 10 min"));
        assert_eq!(count(&svg, "<g class=\"bar\" "), 1);
        assert!(svg.contains("<title>08:00–08:10: 502 × 2 of 200 requests</title>"));
        assert!(svg.contains(">11-25 00:00</text>"));
    }

    /// The x positions of an element's rects with `class`, as (x, width).
    fn rects(svg: &str, class: &str) -> Vec<(f64, f64)> {
        let needle = format!("<rect class=\"{class}\" x=\"");
        svg.match_indices(&needle)
            .map(|(i, _)| {
                let rest = &svg[i + needle.len()..];
                let x: f64 = rest[..rest.find('"').unwrap()].parse().unwrap();
                let w = &rest[rest.find("width=\"").unwrap() + 7..];
                (x, w[..w.find('"').unwrap()].parse().unwrap())
            })
            .collect()
    }

    /// The plot's x of an instant in a chart of `from..to`.
    fn x_of(t: i64, from: i64, to: i64) -> f64 {
        LEFT + (t - from) as f64 / (to - from) as f64 * (WIDTH - LEFT - RIGHT)
    }

    #[test]
    fn each_bar_lies_in_its_own_minute_and_the_axis_ends_with_the_data() {
        // Data from 11:16:51 to 11:18:16 (the lab sample's window); errors
        // in the minutes 11:17 and 11:18, an incident from 11:18:04.
        let m0 = 1_795_518_000 + 16 * 60; // 11:16:00Z
        let (from, to) = (m0 + 51, m0 + 137);
        let minutes = [minute(m0 + 60, 10, 1, 0), minute(m0 + 120, 7, 0, 0)];
        let bands = [Band {
            from: m0 + 124,
            to: m0 + 124,
            id: 3,
            verdict: "connectivity",
            node: None,
            title: "#3".into(),
        }];
        let svg = Chart {
            from,
            to,
            minutes: &minutes,
            marks: &[],
            bands: &bands,
            phases: &[],
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 360,
            class: "overview",
            label: String::new(),
        }
        .render()
        .into_string();
        let bars = rects(&svg, "s502");
        assert_eq!(bars.len(), 2);
        // 11:17's bar fills 11:17:00..11:18:00 (less its gaps).
        let (a, b) = (x_of(m0 + 60, from, to), x_of(m0 + 120, from, to));
        assert!(bars[0].0 >= a && bars[0].0 - a < 1.6, "{bars:?} {a}");
        assert!(bars[0].0 + bars[0].1 <= b && b - (bars[0].0 + bars[0].1) < 1.6);
        // 11:18's bar starts at 11:18:00, before the band at 11:18:04, and
        // is cut where the data ends.
        let band = rects(&svg, "band v-connectivity")[0];
        assert!(bars[1].0 >= b && bars[1].0 < band.0, "{bars:?} {band:?}");
        assert!(bars[1].0 + bars[1].1 <= WIDTH - RIGHT);
        assert!((band.0 - x_of(m0 + 124, from, to)).abs() < 0.06);
        // The axis is the data's: 11:17 and 11:18 ticks, nothing later.
        assert!(svg.contains(">11:17</text>") && svg.contains(">11:18</text>"));
        assert!(!svg.contains(">11:19</text>"));
        assert!(svg.contains(&format!("data-from=\"{from}\" data-to=\"{to}\"")));
        assert!(svg.contains(">#3</text>"));
    }

    #[test]
    fn every_band_is_labelled_in_rows_that_do_not_overlap() {
        assert_eq!(label_rows(&[]), Vec::<usize>::new());
        assert_eq!(
            label_rows(&[(0.0, 20.0), (10.0, 30.0), (19.0, 40.0), (50.0, 70.0)]),
            [0, 1, 2, 0]
        );
        assert_eq!(
            label_rows(&[(40.0, 60.0), (0.0, 20.0), (10.0, 30.0)]),
            [0, 0, 1]
        );
        // Three incidents seconds apart: three labels.
        let from = 1_795_507_200;
        let band = |id: u32, t: i64| Band {
            from: from + t,
            to: from + t + 5,
            id,
            verdict: "crash",
            node: None,
            title: String::new(),
        };
        let bands = [band(1, 600), band(2, 610), band(3, 620)];
        let svg = Chart {
            from,
            to: from + 3 * 3600,
            minutes: &[minute(from + 600, 1, 0, 0)],
            marks: &[],
            bands: &bands,
            phases: &[],
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 360,
            class: "overview",
            label: String::new(),
        }
        .render()
        .into_string();
        for id in 1..=3 {
            assert!(svg.contains(&format!(">#{id}</text>")), "#{id}");
        }
    }

    #[test]
    fn phases_are_a_lane_of_the_incident_chart() {
        let from = 1_795_507_200;
        let phase = |t0: i64, t1: i64, name: &str, class: &'static str| PhaseBand {
            from: from + t0,
            to: from + t1,
            name: name.into(),
            class,
            title: format!("{name}: 7 gateway errors"),
        };
        let phases = [
            phase(60, 66, "refused", "refused"),
            phase(67, 500, "permission", "permission"),
            phase(520, 530, "refused", "refused"),
        ];
        let svg = Chart {
            from,
            to: from + 600,
            minutes: &[minute(from + 60, 7, 0, 0)],
            marks: &[],
            bands: &[],
            phases: &phases,
            zone: Zone::UTC,
            bar_height: 100.0,
            max_bars: 120,
            class: "zoom",
            label: String::new(),
        }
        .render()
        .into_string();
        assert!(svg.contains(">phase</text>"));
        assert_eq!(count(&svg, "<rect class=\"phase p-refused\""), 2);
        assert_eq!(count(&svg, "<rect class=\"phase p-permission\""), 1);
        assert!(svg.contains("<title>permission: 7 gateway errors</title>"));
        // Wide enough to name itself.
        assert!(svg.contains(">permission</text>"));
        let p = rects(&svg, "phase p-permission")[0];
        assert!((p.0 - x_of(from + 67, from, from + 600)).abs() < 0.06);
        assert!((p.0 + p.1 - x_of(from + 501, from, from + 600)).abs() < 0.06);
    }
}
