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

use baton_logparse::EventKind;

use crate::attribute::{Bounds, Gathered, SLACK_S, gather_one};
use crate::decide::{Deaths, Facts, TraceBackground, decide};
use crate::index::{Index, IndexSet, S, evidence_ref, us};
use crate::input::Coverage;
use crate::join::Joined;
use crate::measure::{FatalCount, culprits, fatal_culprits};
use crate::model::{Cause, Finding, Incident, PathCount, RequestRate, Verdict};

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
            cul = fatal_culprits(ev, &g.fatal, FatalCount::MostOfOneLog);
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
                    && fatal_culprits(ev, &[i], FatalCount::Each)
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
    let cul = fatal_culprits(ev, &lone, FatalCount::Each);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Input;
    use crate::join::join;
    use crate::model::Culprit;
    use crate::testkit::full;
    use crate::testkit::{
        T0, blank_incident, child_exit, index, kernel, numbered, request, text, upstream,
    };
    use baton_logparse::nginx::error::UpstreamKind;
    use baton_logparse::summary::TimeRange;
    use baton_logparse::{Event, Timestamp, Zone};

    /// Runs the stage over a day's access log: `background` are the
    /// gateway errors segmentation left outside every episode.
    fn run(ev: &[Event], background: &[usize], incidents: &[Incident]) -> Vec<Finding> {
        let idx = index(ev);
        let mut r = TimeRange::default();
        r.add(Timestamp::from_unix(T0 - 3600, 0));
        r.add(Timestamp::from_unix(T0 + 86_400, 0));
        let input = Input {
            access_ranges: vec![r],
            ..Input::default()
        };
        let joined = join(&idx, &input, Zone::UTC);
        findings(
            &idx,
            &joined,
            background,
            &IndexSet::default(),
            60,
            full(),
            &TraceBackground::default(),
            &[],
            incidents,
        )
    }

    /// An incident elsewhere in the day.
    fn an_incident() -> Incident {
        blank_incident(Cause::MaxChildren, 50_000, 50_600)
    }

    #[test]
    fn lone_segfaults_across_the_day_are_one_finding() {
        let mut ev = Vec::new();
        let mut lone = Vec::new();
        for (k, (t, path)) in [
            (0, "/shop/"),
            (3600, "/cart/"),
            (7200, "/shop/"),
            (10_800, "/shop/"),
        ]
        .into_iter()
        .enumerate()
        {
            let pid = 101 + k as u32;
            lone.push(ev.len());
            ev.push(request(t, 502, path, k as u8));
            ev.push(upstream(t, UpstreamKind::PrematureClose, path, k as u8));
            ev.push(child_exit(t, pid, "SIGSEGV"));
            let mut segv = kernel(Some(t), EventKind::KernelSegfault, pid, "php-fpm8.2");
            segv.detail_mut().object = text("opcache.so[7f3a12c00000+1a4000]");
            ev.push(segv);
        }
        let ev = numbered(ev);
        let f = run(&ev, &lone, &[an_incident()]);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.cause, Cause::Segfault);
        assert_eq!(f.verdict, Verdict::Crash);
        assert_eq!(f.count, 4);
        assert_eq!(f.first.unix_us, T0 * S);
        assert_eq!(f.last.unix_us, (T0 + 10_800) * S);
        assert_eq!(f.pids, vec![101, 102, 103, 104]);
        let paths: Vec<(&str, u64)> = f.paths.iter().map(|p| (p.path.as_str(), p.count)).collect();
        assert_eq!(paths, vec![("/shop/", 3), ("/cart/", 1)]);
        assert!(
            f.evidence[0].starts_with("php-fpm workers segfaulted 4 times between "),
            "{}",
            f.evidence[0]
        );
        assert!(
            f.evidence[0]
                .ends_with(", each costing about one gateway error (the kernel names opcache.so)"),
            "{}",
            f.evidence[0]
        );
        assert_eq!(f.evidence[1], "status: 502 x 4");
        assert!(f.next_steps[0].starts_with("Treat the segfaults as a reliability incident"));
    }

    #[test]
    fn a_lone_unexplained_502_is_background_unless_nothing_else_happened() {
        let ev = numbered(vec![
            request(0, 502, "/", 1),
            request(7200, 502, "/shop/", 2),
        ]);
        // One 502 with nothing behind it, on a day with an incident: it
        // only counts in the background.
        assert!(run(&ev, &[0], &[an_incident()]).is_empty());

        // The same 502 in an excerpt with no incident: never an empty
        // report.
        let f = run(&ev, &[0], &[]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].cause, f[0].count), (Cause::Unknown, 1));
        assert!(f[0].evidence[0].starts_with("1 lone gateway error outside any incident at "));
        assert!(f[0].evidence[0].ends_with("to explain it"));

        // Two of them over the day recur: one finding of two.
        let f = run(&ev, &[0, 1], &[an_incident()]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].cause, f[0].count), (Cause::Unknown, 2));
        assert!(
            f[0].evidence[0].starts_with("2 lone gateway errors outside any incident between ")
        );
    }

    #[test]
    fn recurring_php_fatal_errors_are_a_finding_but_an_incident_s_tail_is_not() {
        let fatal = |t: i64, file: u32, connection: Option<u64>| {
            let mut e = Event {
                file,
                connection,
                fatal: true,
                ..crate::testkit::at(t, EventKind::PhpMessage)
            };
            e.detail_mut().object = text("/var/www/wp-content/plugins/newsletter/send.php");
            e.detail_mut().number = Some(42);
            e
        };
        let ev = numbered(vec![
            // The same error, in PHP's log and relayed by nginx.
            fatal(100, 5, None),
            fatal(100, 1, Some(881)),
            fatal(2000, 5, None),
        ]);
        let f = run(&ev, &[], &[an_incident()]);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!((f.cause, f.verdict), (Cause::FatalError, Verdict::Crash));
        // They cost no gateway error: PHP answered 500.
        assert_eq!(f.count, 0);
        assert!(
            f.evidence[0].starts_with("PHP logged 2 fatal errors outside any incident, between "),
            "{}",
            f.evidence[0]
        );
        assert_eq!(f.evidence_refs.len(), 2);
        assert_eq!(f.first.unix_us, (T0 + 100) * S);
        assert_eq!(f.last.unix_us, (T0 + 2000) * S);
        assert!(
            f.next_steps[0].contains("/var/www/wp-content/plugins/newsletter/send.php:42"),
            "{}",
            f.next_steps[0]
        );
        assert!(f.next_steps[0].contains("fix, update or disable `newsletter`"));
        // Both errors are the plugin's, the copy counted once.
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("2 fatal errors in plugin `newsletter`")),
            "{:?}",
            f.evidence
        );

        // The second error comes 100 s after an incident blamed on the
        // same plugin: its tail, leaving one lone error and no finding.
        let mut inc = blank_incident(Cause::FatalError, 1500, 1900);
        inc.culprits = vec![Culprit {
            kind: "plugin".into(),
            name: "newsletter".into(),
            call: None,
            traces: 30,
            frame: "/var/www/wp-content/plugins/newsletter/send.php:42".into(),
        }];
        assert!(run(&ev, &[], &[inc]).is_empty());
    }
}
