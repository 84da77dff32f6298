//! Measures of an episode the verdict reads: its culprits, its paths, its
//! request rate against the background, and a flood of one path.

use std::collections::{BTreeMap, BTreeSet};

use baton_logparse::{Event, EventKind, Traffic};

use crate::index::IndexMap;
use crate::model::{Culprit, RequestRate, TopPath};
use crate::names::lossy;

/// Slow traces grouped by where they blocked, most first.
pub(crate) fn culprits(ev: &[Event], traces: &[usize]) -> Vec<Culprit> {
    let mut groups: BTreeMap<(String, String, &'static str), (u64, String)> = BTreeMap::new();
    for &t in traces {
        let e = &ev[t];
        let (Some(code), Some(name), Some(call)) = (e.code, &e.detail().plugin, e.call) else {
            continue;
        };
        let g = groups
            .entry((code.as_str().to_owned(), lossy(name), call.as_str()))
            .or_insert((
                0,
                e.detail().frame.as_deref().map(lossy).unwrap_or_default(),
            ));
        g.0 += 1;
    }
    let mut v: Vec<Culprit> = groups
        .into_iter()
        .map(|((kind, name, call), (traces, frame))| Culprit {
            kind,
            name,
            call: Some(call.to_owned()),
            traces,
            frame,
        })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.traces));
    v.truncate(5);
    v
}

/// How [`fatal_culprits`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FatalCount {
    /// One error reaches up to three logs (nginx relaying PHP's stderr,
    /// php-fpm's worker output, PHP's own error log): a culprit's count is
    /// the most any one of them shows, not their sum.
    MostOfOneLog,
    /// The errors given are each one error (their copies already removed).
    Each,
}

/// PHP fatal errors grouped by the plugin or theme of the file they name
/// (no call kind: a fatal error is no blocking call, so `call` is empty),
/// counted as `count` says.
pub(crate) fn fatal_culprits(ev: &[Event], fatal: &[usize], count: FatalCount) -> Vec<Culprit> {
    use baton_logparse::fpm::slowlog::{attribute, wp_root_of};
    /// Which log saw it: nginx (on a connection), PHP's log, php-fpm's.
    fn witness(e: &Event) -> usize {
        match (e.kind, e.connection) {
            (Some(EventKind::PhpMessage), Some(_)) => 0,
            (Some(EventKind::PhpMessage), None) => 1,
            _ => 2,
        }
    }
    /// Counts per witness and the first entry.
    type Seen = ([u64; 3], usize);
    // Grouped by the bytes first (a bad day has thousands of fatal
    // errors), then by the name as printed.
    let mut by_bytes: BTreeMap<(&'static str, &[u8]), Seen> = BTreeMap::new();
    for &i in fatal {
        let Some(file) = ev[i].detail().object.as_deref() else {
            continue;
        };
        // A PHP error log's entry names its culprit already (the file's,
        // else the innermost frame's plugin in its stack trace).
        let (kind, name) = match (ev[i].code, ev[i].detail().plugin.as_deref()) {
            (Some(c), Some(p)) => (c, p),
            _ => attribute(file, wp_root_of(file)),
        };
        by_bytes
            .entry((kind.as_str(), name))
            .or_insert(([0; 3], i))
            .0[witness(&ev[i])] += 1;
    }
    let mut groups: BTreeMap<(&'static str, String), Seen> = BTreeMap::new();
    for ((kind, name), (n, first)) in by_bytes {
        let g = groups.entry((kind, lossy(name))).or_insert(([0; 3], first));
        for (a, b) in g.0.iter_mut().zip(n) {
            *a += b;
        }
        g.1 = g.1.min(first);
    }
    let groups = groups.into_iter().map(|(k, (n, first))| {
        let n = match count {
            FatalCount::MostOfOneLog => n.into_iter().max().unwrap_or(0),
            FatalCount::Each => n.into_iter().sum(),
        };
        (k, (n, first))
    });
    let mut v: Vec<Culprit> = groups
        .into_iter()
        .map(|((kind, name), (traces, first))| {
            // The group's first entry names the frame.
            let d = ev[first].detail();
            let file = d.object.as_deref().unwrap_or_default();
            Culprit {
                kind: kind.to_owned(),
                name,
                call: None,
                traces,
                frame: match d.number {
                    Some(line) => format!("{}:{line}", lossy(file)),
                    None => lossy(file),
                },
            }
        })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.traces));
    v.truncate(5);
    v
}

/// Paths with the most gateway errors (admin-ajax by action).
pub(crate) fn top_paths(ev: &[Event], members: &[usize], n: usize) -> Vec<TopPath> {
    // Counted by the address of the shared path and action first (a path
    // seen again is the same interned value: no bytes compared), then by
    // the bytes, once per distinct value.
    let mut by_value: IndexMap<(usize, usize), (u64, usize)> = IndexMap::default();
    for &m in members {
        if let Some(p) = &ev[m].path {
            let a = ev[m].action.as_deref().map_or(0, |a| a.as_ptr() as usize);
            by_value.entry((p.as_ptr() as usize, a)).or_insert((0, m)).0 += 1;
        }
    }
    let mut top: BTreeMap<(&[u8], &[u8]), u64> = BTreeMap::new();
    for (n, m) in by_value.into_values() {
        if let Some(p) = &ev[m].path {
            let a = ev[m].action.as_deref().unwrap_or(b"");
            *top.entry((p, a)).or_default() += n;
        }
    }
    let mut top: Vec<_> = top.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.iter()
        .take(n)
        .map(|((p, a), n)| TopPath {
            path: lossy(p),
            count: *n,
            action: (!a.is_empty()).then(|| lossy(a)),
        })
        .collect()
}

/// Distinct names, sorted, at most ten.
pub(crate) fn distinct<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    let set: BTreeSet<&[u8]> = it.collect();
    set.into_iter().take(10).map(lossy).collect()
}

/// The traffic outside incidents: which minutes count as background.
pub(crate) struct Background<'a> {
    pub traffic: &'a Traffic,
    pub incident_minutes: &'a BTreeSet<i64>,
}

impl Background<'_> {
    /// Requests per second during the minutes `[a, b]` and outside
    /// incidents.
    pub fn request_rate(&self, a: i64, b: i64) -> RequestRate {
        let t = self.traffic;
        let minutes = (b - a + 1) as f64;
        let n: u64 = t.minutes.range(a..=b).map(|(_, m)| m.requests).sum();
        let (bg_n, bg_m) = t
            .minutes
            .iter()
            .filter(|(k, _)| !self.incident_minutes.contains(k))
            .fold((0u64, 0u64), |(n, c), (_, m)| (n + m.requests, c + 1));
        let round = |x: f64| (x * 100.0).round() / 100.0;
        RequestRate {
            incident_rps: round(n as f64 / (minutes * 60.0)),
            background_rps: if bg_m == 0 {
                0.0
            } else {
                round(bg_n as f64 / (bg_m as f64 * 60.0))
            },
        }
    }

    /// A path or admin-ajax action whose rate rose far above its
    /// background rate and carried the rise, during the minutes `[a, b]`.
    pub fn flood(&self, a: i64, b: i64) -> Option<Flood> {
        let t = self.traffic;
        if t.minutes.is_empty() {
            return None;
        }
        let inc_minutes = (b - a + 1) as f64;
        let mut inc: BTreeMap<(&[u8], &[u8]), u64> = BTreeMap::new();
        let mut inc_dynamic = 0u64;
        for (_, m) in t.minutes.range(a..=b) {
            inc_dynamic += m.requests - m.static_requests;
            for p in &m.top {
                *inc.entry((&p.path, &p.action)).or_default() += p.count;
            }
        }
        let (key, n) = inc
            .iter()
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))?;
        let mut bg_n = 0u64;
        let mut bg_minutes = 0u64;
        let mut bg_dynamic = 0u64;
        for (k, m) in &t.minutes {
            if self.incident_minutes.contains(k) {
                continue;
            }
            bg_minutes += 1;
            bg_dynamic += m.requests - m.static_requests;
            bg_n += m
                .top
                .iter()
                .filter(|p| p.path == key.0 && p.action == key.1)
                .map(|p| p.count)
                .sum::<u64>();
        }
        if bg_minutes == 0 || inc_dynamic == 0 {
            return None;
        }
        let bg_minutes = bg_minutes as f64;
        let rise = inc_dynamic as f64 / inc_minutes - bg_dynamic as f64 / bg_minutes;
        let inc_rate = *n as f64 / inc_minutes;
        let bg_rate = bg_n as f64 / bg_minutes;
        let ratio = inc_rate / bg_rate.max(1.0 / bg_minutes);
        let share = *n as f64 / inc_dynamic as f64;
        let carried = inc_rate - bg_rate;
        // Enough history and volume to speak of a rate at all; the path
        // carried most of the rise in traffic, at several times its usual
        // rate.
        let enough = bg_minutes >= 10.0 && inc_rate >= 30.0;
        (enough && ratio >= 3.0 && share >= 0.1 && rise > 0.0 && carried >= 0.5 * rise).then(|| {
            Flood {
                path: lossy(key.0),
                action: (!key.1.is_empty()).then(|| lossy(key.1)),
                incident_rpm: inc_rate,
                background_rpm: bg_rate,
                share,
            }
        })
    }
}

/// A request flood found in the traffic.
#[derive(Debug, Clone)]
pub(crate) struct Flood {
    pub path: String,
    pub action: Option<String>,
    pub incident_rpm: f64,
    pub background_rpm: f64,
    pub share: f64,
}
