//! Stage 6, background findings: gateway errors in no episode, each given
//! the cause its own evidence shows (the same rules as an incident's, on
//! the lines around it), grouped by cause. A lone failure is background
//! however bad its cause; recurring ones of one cause, or one crash, are a
//! finding: "php-fpm workers segfaulted 14 times over the day, each costing
//! one 502" is one finding, not fourteen incidents. PHP fatal errors that
//! recur outside every incident are one too, even when they cost no
//! gateway error (PHP answered them with a 500): a plugin failing every
//! hour is worth fixing before it fails every second.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use baton_logparse::{Event, EventKind};

use crate::attribute::{Bounds, Gathered, SLACK_S, gather_one};
use crate::decide::{Deaths, Facts, TraceBackground, decide};
use crate::index::{Index, IndexSet, S, us};
use crate::input::Coverage;
use crate::join::Joined;
use crate::measure::{culprits, fatal_culprits};
use crate::model::{Cause, EvidenceRef, Finding, Incident, PathCount, RequestRate, Verdict};
use baton_logparse::text::escape;

use crate::names::{lossy, plural, status_of};

/// Evidence lines kept per finding.
const MAX_REFS: usize = 6;

#[allow(clippy::too_many_arguments)]
pub(crate) fn findings(
    idx: &Index,
    joined: &Joined,
    background: &[usize],
    claimed: &IndexSet,
    window_s: u32,
    cov: Coverage,
    trace_bg: &TraceBackground,
    files: &[String],
    incidents: &[Incident],
) -> Vec<Finding> {
    let no_incident = incidents.is_empty();
    let ev = idx.ev;
    let w = window_s as i64 * S;
    // Each lone failure's cause, from its own evidence.
    let mut by_cause: BTreeMap<Cause, Vec<(usize, Gathered)>> = BTreeMap::new();
    for &m in background {
        let t = us(&ev[m]);
        let start = ev[m].start().map_or(t, |s| s.unix_us).min(t);
        let b = Bounds {
            start: t,
            end: t,
            from: start - w,
            to: t + SLACK_S * S,
            recovery: t + w,
        };
        let mut scratch = IndexSet::default();
        let g = gather_one(idx, joined, &[m], b, &mut scratch, claimed);
        let mut cul = culprits(ev, &g.traces);
        if cul.is_empty() {
            cul = fatal_culprits(ev, &g.fatal);
        }
        let rate = RequestRate::default();
        let d = decide(&Facts {
            g: &g,
            ev,
            culprits: &cul,
            flood: None,
            errors: 1,
            status_504: u64::from(status_of(&ev[m]) == Some(504)),
            cov,
            bounds: b,
            rate: &rate,
            trace_bg,
        });
        by_cause.entry(d.cause).or_default().push((m, g));
    }
    // Fatal errors behind lone gateway errors are in their finding already.
    let used: IndexSet = by_cause
        .values()
        .flatten()
        .flat_map(|(_, g)| g.fatal.iter().copied())
        .collect();
    let mut out: Vec<Finding> = by_cause
        .into_iter()
        .filter(|(c, v)| no_incident || v.len() >= 2 || c.verdict() == Verdict::Crash)
        .map(|(c, v)| finding(idx, c, &v, cov, files))
        .collect();
    if let Some(f) = php_fatals(idx, claimed, &used, incidents, files) {
        match out.iter_mut().find(|x| x.cause == Cause::FatalError) {
            Some(x) => {
                x.evidence.extend(f.evidence);
                x.evidence_refs.extend(f.evidence_refs);
                x.first = if x.first.unix_us <= f.first.unix_us {
                    x.first
                } else {
                    f.first
                };
                x.last = if x.last.unix_us >= f.last.unix_us {
                    x.last
                } else {
                    f.last
                };
            }
            None => out.push(f),
        }
    }
    out.sort_by_key(|f| (f.cause == Cause::Unknown, std::cmp::Reverse(f.count)));
    out
}

/// How long after an incident's last gateway error its requests may still
/// be dying in PHP: the workers nginx gave up on finish their stalled call
/// and fail (a `request_terminate_timeout` of a few minutes is common).
const TAIL_S: i64 = 300;

/// Recurring PHP fatal errors in no incident: two or more, after the same
/// error seen through two witnesses (PHP's log and nginx passing on its
/// stderr, in the same second, naming the same file and line) is counted
/// once. A fatal error of an incident's culprit in the minutes after it is
/// that incident's tail, not background.
fn php_fatals(
    idx: &Index,
    claimed: &IndexSet,
    used: &IndexSet,
    incidents: &[Incident],
    files: &[String],
) -> Option<Finding> {
    let ev = idx.ev;
    let mut seen = HashSet::new();
    let mut lone: Vec<usize> = Vec::new();
    // The kinds an incident's evidence claims fatal errors from (an
    // upstream error's own fatal goes with its gateway error).
    for k in [EventKind::PhpMessage, EventKind::FpmOther] {
        for &i in idx.kind(k) {
            let e = &ev[i];
            if !e.fatal || claimed.contains(&i) || used.contains(&i) {
                continue;
            }
            let t = us(e);
            let tail_of = |inc: &Incident| {
                let end = inc.end.unix_us;
                (end..=end + TAIL_S * S).contains(&t)
                    && fatal_culprits(ev, &[i])
                        .first()
                        .is_some_and(|c| inc.culprits.iter().any(|x| x.name == c.name))
            };
            if incidents.iter().any(tail_of) {
                continue;
            }
            let key = (us(e) / S, e.detail().object.clone(), e.detail().number);
            if seen.insert(key) {
                lone.push(i);
            }
        }
    }
    if lone.len() < 2 {
        return None;
    }
    lone.sort_by_key(|&i| us(&ev[i]));
    let (first, last) = (us(&ev[lone[0]]), us(&ev[*lone.last()?]));
    let n = lone.len();
    let (a, b) = (idx.fmt_us(first), idx.fmt_us(last));
    let when = if a == b {
        format!("at {a}")
    } else {
        format!("between {a} and {b}")
    };
    let mut evidence = vec![format!(
        "PHP logged {n} fatal errors outside any incident, {when}: requests that died in PHP (answered 500 unless the worker died with them)"
    )];
    let cul = fatal_culprits(ev, &lone);
    for c in cul.iter().take(3) {
        let whose = match c.kind.as_str() {
            "other" | "core" => String::new(),
            k => format!("{} ", k.replace('_', "-")),
        };
        evidence.push(format!(
            "{} in {whose}`{}` (`{}`)",
            plural(c.traces as usize, "fatal error", "fatal errors"),
            c.name,
            c.frame
        ));
    }
    let mut next_steps = Vec::new();
    if let Some(c) = cul.first() {
        let what = match c.kind.as_str() {
            "plugin" | "mu_plugin" | "theme" => format!("fix, update or disable `{}`", c.name),
            _ => "fix that code".to_string(),
        };
        next_steps.push(format!(
            "Read `{}` where most of the fatal errors point and {what}; PHP's error log (or WordPress's `debug.log`) has each one's stack trace.",
            c.frame
        ));
    } else {
        next_steps = steps(Cause::FatalError);
    }
    Some(Finding {
        node: None,
        cause: Cause::FatalError,
        verdict: Verdict::Crash,
        count: 0,
        first: idx.at_us(first),
        last: idx.at_us(last),
        paths: Vec::new(),
        pids: Vec::new(),
        evidence,
        evidence_refs: lone
            .iter()
            .take(MAX_REFS)
            .map(|&i| evidence_ref(idx, files, &ev[i]))
            .collect(),
        next_steps,
    })
}

fn finding(
    idx: &Index,
    cause: Cause,
    v: &[(usize, Gathered)],
    cov: Coverage,
    files: &[String],
) -> Finding {
    let ev = idx.ev;
    let first = v.iter().map(|(m, _)| us(&ev[*m])).min().unwrap_or(0);
    let last = v.iter().map(|(m, _)| us(&ev[*m])).max().unwrap_or(0);
    let mut paths: BTreeMap<&[u8], u64> = BTreeMap::new();
    for (m, _) in v {
        if let Some(p) = ev[*m].path.as_deref() {
            *paths.entry(p).or_default() += 1;
        }
    }
    let mut paths: Vec<(&[u8], u64)> = paths.into_iter().collect();
    paths.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut pids = BTreeSet::new();
    let mut refs: Vec<usize> = Vec::new();
    let mut objects = BTreeSet::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for (m, g) in v {
        *statuses
            .entry(status_of(&ev[*m]).unwrap_or(502))
            .or_default() += 1;
        for &i in g
            .crash_exits
            .iter()
            .chain(&g.kill_exits)
            .chain(&g.oom_php)
            .chain(&g.segv_kernel)
        {
            pids.extend(ev[i].pid);
        }
        for &i in &g.segv_kernel {
            if let Some(o) = ev[i].detail().object.as_deref() {
                objects.insert(lossy(o.split(|b| *b == b'[').next().unwrap_or(o)));
            }
        }
        refs.push(*m);
        let decisive: Option<usize> = match cause {
            Cause::Segfault => g.segv_kernel.first().or(g.crash_exits.first()).copied(),
            Cause::OomKill => g.oom_php.first().or(g.kill_exits.first()).copied(),
            Cause::FatalError => g.fatal.first().copied(),
            _ => g.upstream.first().copied(),
        };
        refs.extend(decisive);
    }
    let n = v.len();
    let (at_first, at_last) = (idx.at_us(first), idx.at_us(last));
    let (fmt_first, fmt_last) = (at_first.to_string(), at_last.to_string());
    let when = if n == 1 || fmt_first == fmt_last {
        format!("at {fmt_first}")
    } else {
        format!("between {fmt_first} and {fmt_last}")
    };
    let each = if n == 1 {
        "costing one gateway error".to_string()
    } else {
        "each costing about one gateway error".to_string()
    };
    let mut evidence = vec![match cause {
        Cause::Segfault => format!(
            "php-fpm workers segfaulted {} {when}, {each}{}",
            plural(n, "time", "times"),
            if objects.is_empty() {
                String::new()
            } else {
                format!(
                    " (the kernel names {})",
                    objects.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        ),
        Cause::OomKill => {
            let d: usize = v.iter().map(|(_, g)| Deaths::of(g, ev, cov).oom).sum();
            format!(
                "{} killed on memory {when}, {each}",
                plural(d.max(n), "php-fpm worker was", "php-fpm workers were")
            )
        }
        Cause::Unknown => format!(
            "{} outside any incident {when}, with no FPM, slowlog or kernel line to explain {}",
            plural(n, "lone gateway error", "lone gateway errors"),
            if n == 1 { "it" } else { "them" }
        ),
        c => format!(
            "{} outside any incident {when}, each with the evidence of {}",
            plural(n, "lone gateway error", "lone gateway errors"),
            c.as_str()
        ),
    }];
    let parts: Vec<String> = statuses.iter().map(|(s, k)| format!("{s} x {k}")).collect();
    evidence.push(format!("status: {}", parts.join(", ")));
    let mut seen = BTreeSet::new();
    refs.retain(|i| seen.insert(*i));
    Finding {
        node: None,
        cause,
        verdict: cause.verdict(),
        count: n as u64,
        first: at_first,
        last: at_last,
        paths: paths
            .iter()
            .take(5)
            .map(|(p, c)| PathCount {
                path: lossy(p),
                count: *c,
            })
            .collect(),
        pids: pids.into_iter().take(20).collect(),
        evidence,
        evidence_refs: refs
            .into_iter()
            .filter(|&i| ev[i].time.is_some())
            .take(MAX_REFS)
            .map(|i| evidence_ref(idx, files, &ev[i]))
            .collect(),
        next_steps: steps(cause),
    }
}

pub(crate) fn evidence_ref(idx: &Index, files: &[String], e: &Event) -> EvidenceRef {
    EvidenceRef {
        file: files.get(e.file as usize).cloned().unwrap_or_default(),
        line: e.line,
        time: idx.at(e.time),
        text: escape(&e.text),
    }
}

/// What to do about a recurring background failure.
fn steps(cause: Cause) -> Vec<String> {
    let s: &[&str] = match cause {
        Cause::Segfault => &[
            "Treat the segfaults as a reliability incident, not noise: each one cut a request short. Name the extension in the kernel's `segfault at ... in X` line (opcache, an extension), update or disable it, and check recent package changes.",
            "Get a core dump (`rlimit_core = unlimited` in the pool, systemd-coredump) to name the function.",
        ],
        Cause::OomKill => &[
            "Find the requests that grow (exports, batch calls) and cap their memory; do not raise pm.max_children while workers are being killed on memory.",
        ],
        Cause::FatalError => &[
            "Read the file and line of the PHP fatal errors and fix, update or disable that code.",
        ],
        Cause::FpmRestart => &[
            "php-fpm restarts keep costing requests: use graceful reloads (`systemctl reload`, SIGUSR2) instead of stop/start.",
        ],
        Cause::FpmDown => &[
            "Refused connects outside any incident: check the php-fpm master's restarts and crash loops, and that `fastcgi_pass` matches the pool's `listen`.",
        ],
        Cause::SocketPermission => &[
            "Set `listen.owner`, `listen.group` and `listen.mode` of the pool so the nginx worker user can connect.",
        ],
        Cause::MaxChildren | Cause::BacklogFull | Cause::RequestFlood => &[
            "Short saturations recur: size `pm.max_children` from memory per worker, and find the slow or frequent requests behind them in the slowlog.",
        ],
        Cause::ExternalCall | Cause::Database | Cause::SlowScript => &[
            "Slow requests recur: read their slowlog traces and put timeouts on the calls they wait for.",
        ],
        Cause::NoLiveUpstreams | Cause::BufferConfig => {
            &["Read the error-log lines cited and fix the upstream configuration they name."]
        }
        Cause::EdgeOnly => &[
            "Compare the edge's failures with direct requests to the origin; check the origin's allowlist of edge IP ranges.",
        ],
        Cause::Unknown => &[
            "Isolated failures with no witness: add the php-fpm log, the slowlog and the kernel log for the same time if they are missing, and watch whether they cluster on one path.",
        ],
    };
    s.iter().map(|x| x.to_string()).collect()
}
