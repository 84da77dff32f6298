//! Stage 5, advise: the evidence sentences and next steps, as the
//! playbook has an on-call engineer write them, every target named from
//! the incident's own evidence (the pool that reached its limit, the
//! upstream nginx logged, the paths the dying pids were serving).

use std::collections::BTreeSet;

use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, Timestamp};

use crate::attribute::{Gathered, paths_of};
use crate::decide::{Deaths, Decision, QueryStall};
use crate::input::Coverage;
use crate::measure::Flood;
use crate::model::{AT_CGROUP_LIMIT, Cause, Incident, NO_KERNEL_LOG, Verdict};
use crate::names::{lossy, plural, trim_upstream};

/// Writes the evidence sentences and next steps; returns the events to
/// cite, most telling first, and how many of the first ones the verdict
/// rests on (a crash's own deaths), to be kept first in that order.
/// `nginx_config`: whether nginx's configuration was read (else a
/// connectivity verdict asks for `nginx -T`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn write(
    inc: &mut Incident,
    g: &Gathered,
    ev: &[Event],
    d: &Decision,
    flood: Option<&Flood>,
    fmt: &dyn Fn(Option<Timestamp>) -> String,
    cov: Coverage,
    nginx_config: bool,
) -> (Vec<usize>, usize) {
    let mut refs: Vec<usize> = Vec::new();
    let mut evidence = Vec::new();
    let span = |v: &[usize]| -> String {
        let mut times: Vec<Timestamp> = v.iter().filter_map(|&i| ev[i].time).collect();
        times.sort_by_key(|t| t.unix_us);
        match (times.first(), times.last()) {
            // Two times written the same (a second apart at most) are one.
            (Some(a), Some(b)) if fmt(Some(*a)) != fmt(Some(*b)) => {
                format!("between {} and {}", fmt(Some(*a)), fmt(Some(*b)))
            }
            (Some(a), _) => format!("at {}", fmt(Some(*a))),
            _ if v.is_empty() => String::new(),
            _ => "(no clock in the log: joined by pid)".to_string(),
        }
    };

    // The failure as users saw it.
    let mut what = if g.origin.is_empty() && !g.edge.is_empty() {
        let mut by_status: std::collections::BTreeMap<u16, u64> = Default::default();
        for &i in &g.edge {
            *by_status.entry(ev[i].status.unwrap_or(0)).or_default() += 1;
        }
        let statuses: Vec<String> = by_status
            .iter()
            .map(|(s, n)| format!("{n} x {s}"))
            .collect();
        format!(
            "{} ({}) {}",
            plural(
                inc.gateway_errors as usize,
                "edge gateway error",
                "edge gateway errors"
            ),
            statuses.join(", "),
            from_to(&inc.start.to_string(), &inc.end.to_string())
        )
    } else {
        let mut parts = Vec::new();
        if inc.status_502 > 0 {
            parts.push(format!("502 x {}", inc.status_502));
        }
        if inc.status_504 > 0 {
            parts.push(format!("504 x {}", inc.status_504));
        }
        format!(
            "{} ({}) {}",
            plural(
                inc.gateway_errors as usize,
                "gateway error",
                "gateway errors"
            ),
            parts.join(", "),
            from_to(&inc.start.to_string(), &inc.end.to_string())
        )
    };
    if let Some(p) = inc.top_paths.first() {
        what.push_str(&format!(
            "; {} on {}",
            share_words(p.count, inc.gateway_errors),
            p.path
        ));
        if let Some(a) = &p.action {
            what.push_str(&format!(" (action={a})"));
        }
    }
    if inc.status_499 > 0 {
        what.push_str(&format!(
            "; {} abandoned by clients (499)",
            plural(inc.status_499 as usize, "request", "requests")
        ));
    }
    evidence.push(what);
    if inc.request_rate.background_rps > 0.0 {
        let r = &inc.request_rate;
        evidence.push(format!(
            "request rate {:.2}/s during the incident against {:.2}/s outside incidents ({:.1}x)",
            r.incident_rps,
            r.background_rps,
            r.incident_rps / r.background_rps
        ));
    }

    // Upstream errors, most first.
    let mut kinds: Vec<(&UpstreamKind, &u64)> = g.up_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    for (k, n) in kinds.iter().take(3) {
        let of_kind: Vec<usize> = g
            .upstream
            .iter()
            .copied()
            .filter(|&i| ev[i].upstream_kind == Some(**k))
            .collect();
        let upstream = addresses(ev, &of_kind);
        evidence.push(format!(
            "nginx logged {} `{}`{upstream} {}",
            plural(**n as usize, "upstream error", "upstream errors"),
            k.as_str(),
            span(&of_kind)
        ));
        refs.extend(of_kind.first());
    }

    // FPM.
    // One sentence per pool that reached its limit.
    let mut by_pool: Vec<(Option<&[u8]>, Vec<usize>)> = Vec::new();
    for &m in &g.max_children {
        let p = ev[m].pool.as_deref();
        match by_pool.iter_mut().find(|x| x.0 == p) {
            Some(x) => x.1.push(m),
            None => by_pool.push((p, vec![m])),
        }
    }
    for (pool, lines) in &by_pool {
        let m = lines[0];
        let limit = ev[m]
            .detail()
            .number
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let pool = pool
            .map(|p| format!(" in pool {}", lossy(p)))
            .unwrap_or_default();
        evidence.push(format!(
            "php-fpm reached pm.max_children{limit}{pool} {} {}",
            plural(lines.len(), "time", "times"),
            span(lines)
        ));
        refs.push(m);
    }
    if !g.seems_busy.is_empty() {
        evidence.push(format!(
            "php-fpm said the pool `seems busy` {} {}",
            plural(g.seems_busy.len(), "time", "times"),
            span(&g.seems_busy)
        ));
    }
    if !g.master_stop.is_empty() || g.restarts > 0 {
        let stops = span(&g.master_stop);
        // `Terminating`, `exiting, bye-bye!` and systemd's lines are one stop.
        let mut episodes = 0;
        let mut last: Option<i64> = None;
        for &i in &g.master_stop {
            let t = ev[i].time.map_or(0, |t| t.unix_us);
            if last.is_none_or(|l| t.saturating_sub(l) > 10_000_000) {
                episodes += 1;
            }
            last = Some(t);
        }
        let when = if stops.is_empty() {
            span(&g.master_start)
        } else {
            stops
        };
        evidence.push(match (episodes, g.restarts) {
            (0, n) => format!(
                "the php-fpm master started {} ({when})",
                plural(n as usize, "time", "times")
            ),
            (e, 0) => format!(
                "the php-fpm master stopped {} ({when})",
                plural(e, "time", "times")
            ),
            (e, n) => format!(
                "the php-fpm master stopped {} and started {} ({when})",
                plural(e, "time", "times"),
                plural(n as usize, "time", "times")
            ),
        });
        refs.extend(g.master_stop.first());
        refs.extend(g.master_start.first());
    }
    if !g.reloads.is_empty() {
        evidence.push(format!("php-fpm reloaded {}", span(&g.reloads)));
    }
    // Deaths, named as they happened.
    let deaths = Deaths::of(g, ev, cov);
    let mut ways: Vec<(usize, String)> = Vec::new();
    if deaths.oom > 0 {
        let cgroup = g
            .oom_php
            .iter()
            .find_map(|&i| ev[i].detail().object.as_deref())
            .map(|c| format!(" {AT_CGROUP_LIMIT}{}", lossy(c)))
            .unwrap_or_default();
        let how = if g.oom_php.is_empty() {
            format!("on SIGKILL ({NO_KERNEL_LOG})")
        } else {
            format!("OOM-killed by the kernel{cgroup}")
        };
        ways.push((deaths.oom, how));
    }
    if !g.crash_exits.is_empty() || !g.segv_kernel.is_empty() {
        let sigs: BTreeSet<&str> = g
            .crash_exits
            .iter()
            .filter_map(|&i| ev[i].detail().signal.as_deref())
            .collect();
        let sigs = if sigs.is_empty() {
            "a segfault".to_string()
        } else {
            sigs.into_iter().collect::<Vec<_>>().join("/")
        };
        ways.push((deaths.segv, format!("on {sigs}")));
    }
    if deaths.outside > 0 {
        ways.push((
            deaths.outside,
            "on SIGKILL with no OOM line (killed from outside: a person, a watchdog, a deploy script)".into(),
        ));
    }
    // Requests killed at request_terminate_timeout have a sentence of
    // their own below; they are named here only beside other deaths.
    if deaths.terminated > 0 && !ways.is_empty() {
        ways.push((deaths.terminated, "at request_terminate_timeout".into()));
    }
    if !ways.is_empty() {
        let n: usize = ways.iter().map(|w| w.0).sum();
        let dead: Vec<usize> = g.crash_exits.iter().chain(&g.kill_exits).copied().collect();
        let mut s = if ways.len() > 1 {
            let each: Vec<String> = ways.iter().map(|(c, t)| format!("{c} {t}")).collect();
            format!(
                "{} died {} ways: {}",
                plural(n, "php-fpm worker", "php-fpm workers"),
                ways.len(),
                each.join(", ")
            )
        } else {
            // "2 php-fpm workers were OOM-killed ...", "1 ... died on SIGSEGV".
            let verb = match (ways[0].1.starts_with("OOM"), n) {
                (true, 1) => "was",
                (true, _) => "were",
                (false, _) => "died",
            };
            format!(
                "{} {verb} {}",
                plural(n, "php-fpm worker", "php-fpm workers"),
                ways[0].1
            )
        };
        let t = span(&dead);
        if !t.is_empty() {
            s.push(' ');
            s.push_str(&t);
        }
        let paths = paths_of(g, ev, &dead);
        if !paths.is_empty() {
            let who = if n == 1 { "it was" } else { "they were" };
            s.push_str(&format!("; {who} serving {}", paths.join(", ")));
        }
        evidence.push(s);
        refs.extend(g.crash_exits.first());
        refs.extend(g.kill_exits.first());
    }
    if !g.timeouts.is_empty() {
        evidence.push(format!(
            "php-fpm terminated {} at request_terminate_timeout {}",
            plural(g.timeouts.len(), "request", "requests"),
            span(&g.timeouts)
        ));
        refs.extend(g.timeouts.first());
    }
    if !g.slow.is_empty() {
        let mut paths: Vec<(&[u8], usize)> = Vec::new();
        for &i in &g.slow {
            if let Some(p) = ev[i].path.as_deref() {
                match paths.iter_mut().find(|(q, _)| *q == p) {
                    Some(x) => x.1 += 1,
                    None => paths.push((p, 1)),
                }
            }
        }
        paths.sort_by_key(|p| std::cmp::Reverse(p.1));
        let top = paths
            .first()
            .map(|(p, n)| {
                if *n == g.slow.len() {
                    // All of them: the count is said once.
                    format!(" on {}", lossy(p))
                } else {
                    format!(", {n} of them on {}", lossy(p))
                }
            })
            .unwrap_or_default();
        evidence.push(format!(
            "php-fpm logged {} `executing too slow`{top} {}",
            plural(g.slow.len(), "request", "requests"),
            span(&g.slow)
        ));
        refs.extend(g.slow.first());
    }
    // MySQL's slow queries, joined to a slowlog culprit calling the
    // database when there is one.
    let stall = d
        .queries
        .as_ref()
        .filter(|q| q.decides || d.cause == Cause::Database);
    let mut stall_said = false;
    for c in inc.culprits.iter().take(2) {
        if let Some(q) = stall
            && !stall_said
            && c.call.as_deref() == Some("database")
        {
            evidence.push(format!(
                "{} slowlog {} blocked in {} `{}` (database): {}, while MySQL logged {}",
                c.traces,
                if c.traces == 1 { "trace" } else { "traces" },
                c.kind.replace('_', "-"),
                c.name,
                c.frame,
                query_words(q, &span(&q.events))
            ));
            stall_said = true;
            refs.extend(q.events.first());
            continue;
        }
        evidence.push(match &c.call {
            Some(call) => format!(
                "{} slowlog {} blocked in {} `{}` ({call}): {}",
                c.traces,
                if c.traces == 1 { "trace" } else { "traces" },
                c.kind.replace('_', "-"),
                c.name,
                c.frame
            ),
            None => format!(
                "{} PHP fatal {} {} `{}`: {}",
                c.traces,
                if c.traces == 1 {
                    "error names"
                } else {
                    "errors name"
                },
                c.kind.replace('_', "-"),
                c.name,
                c.frame
            ),
        });
    }
    if let Some(q) = stall
        && !stall_said
    {
        evidence.push(format!("MySQL logged {}", query_words(q, &span(&q.events))));
        refs.extend(q.events.first());
    }
    if let Some(l) = &d.latency
        && !l.queries
        && let Some(r) = l.ratio
    {
        let traffic = if (l.traffic_ratio - 1.0).abs() >= 0.2 {
            format!(
                " while traffic ran at {:.1}x its background",
                l.traffic_ratio
            )
        } else {
            String::new()
        };
        evidence.push(format!(
            "{} of {} slowlog traces blocked in {}, {:.0}x that call's background rate{traffic}: the workers were waiting, not overwhelmed",
            l.traces,
            l.all_traces,
            call_words(l.cause),
            r
        ));
    }
    refs.extend(g.own_traces(ev).first());
    if !g.fatal.is_empty() {
        // nginx relays what PHP wrote to stderr (`FastCGI sent in stderr`,
        // on a connection: `*N`); php-fpm logs it as worker output: the
        // same errors, counted per log.
        let (relayed, logged): (Vec<usize>, Vec<usize>) =
            g.fatal.iter().partition(|&&i| ev[i].connection.is_some());
        if !relayed.is_empty() {
            evidence.push(format!(
                "nginx relayed {} (`FastCGI sent in stderr`) {}",
                plural(relayed.len(), "PHP fatal error", "PHP fatal errors"),
                span(&relayed)
            ));
        }
        if !logged.is_empty() {
            evidence.push(format!(
                "php-fpm logged {} in worker output {}",
                plural(logged.len(), "PHP fatal error", "PHP fatal errors"),
                span(&logged)
            ));
        }
        refs.extend(g.fatal.first());
    }

    // Kernel.
    if !g.oom_php.is_empty() {
        let pids: Vec<String> = g
            .oom_php
            .iter()
            .take(5)
            .filter_map(|&i| ev[i].pid)
            .map(|p| p.to_string())
            .collect();
        evidence.push(format!(
            "the kernel OOM-killed {} (pid {}) {}",
            plural(g.oom_php.len(), "php-fpm worker", "php-fpm workers"),
            pids.join(", "),
            span(&g.oom_php)
        ));
        refs.extend(g.oom_php.first());
    }
    if !g.oom_other.is_empty() {
        let names: BTreeSet<String> = g
            .oom_other
            .iter()
            .filter_map(|&i| ev[i].detail().process.as_deref())
            .map(lossy)
            .collect();
        evidence.push(format!(
            "the kernel OOM-killed {} other {} ({}) {}: memory pressure on the host",
            g.oom_other.len(),
            if g.oom_other.len() == 1 {
                "process"
            } else {
                "processes"
            },
            names.into_iter().collect::<Vec<_>>().join(", "),
            span(&g.oom_other)
        ));
        refs.extend(g.oom_other.first());
    }
    if !g.segv_kernel.is_empty() {
        let objects: BTreeSet<String> = g
            .segv_kernel
            .iter()
            .filter_map(|&i| ev[i].detail().object.as_deref())
            .map(|o| lossy(o.split(|b| *b == b'[').next().unwrap_or(o)))
            .collect();
        let within = if objects.is_empty() {
            String::new()
        } else {
            format!(" in {}", objects.into_iter().collect::<Vec<_>>().join(", "))
        };
        evidence.push(format!(
            "the kernel logged {}{within} {}",
            plural(g.segv_kernel.len(), "php-fpm segfault", "php-fpm segfaults"),
            span(&g.segv_kernel)
        ));
        refs.extend(g.segv_kernel.first());
    }
    if let Some(f) = flood {
        let what = match &f.action {
            Some(a) => format!("{} action={a}", f.path),
            None => f.path.clone(),
        };
        evidence.push(format!(
            "{what} ran at {:.0} requests/min against {:.1}/min outside incidents ({:.0}% of dynamic requests during the incident)",
            f.incident_rpm,
            f.background_rpm,
            f.share * 100.0
        ));
    }
    if !g.edge.is_empty() {
        evidence.push(format!(
            "Cloudflare answered {} with a gateway error while the origin's logs show {}",
            plural(g.edge.len(), "request", "requests"),
            if g.origin.is_empty() {
                "no failure for them"
            } else {
                "failures too"
            }
        ));
        refs.extend(g.edge.first());
    }
    // A crash's own deaths first, then the first gateway error itself.
    let mut cited = match d.cause {
        Cause::OomKill | Cause::Segfault => own_deaths(d.cause, g, ev),
        _ => Vec::new(),
    };
    let mut seen = BTreeSet::new();
    cited.retain(|i| seen.insert(*i));
    let decisive = cited.len();
    cited.extend(g.origin.first().or(g.edge.first()));
    cited.extend(refs);
    let mut seen = BTreeSet::new();
    cited.retain(|i| seen.insert(*i));

    inc.evidence = evidence;
    let more = death_steps(d, g, ev, &deaths, fmt);
    inc.next_steps = next_steps(inc, d, g, ev, cov, flood, more, nginx_config);
    (cited, decisive)
}

/// The lines a crash verdict rests on, per death of its own kind (at
/// most three): the kernel's line of that pid, the child's exit, and the
/// failed request the pid was serving (the pid join that names its path);
/// then the kernel lines of pids with no exit logged.
fn own_deaths(cause: Cause, g: &Gathered, ev: &[Event]) -> Vec<usize> {
    let (kernel, exits): (&[usize], Vec<usize>) = if cause == Cause::OomKill {
        let oom = g.oom_kill_exits(ev);
        let exits = if oom.is_empty() && g.oom_php.is_empty() {
            g.kills(ev)
        } else {
            oom
        };
        (&g.oom_php, exits)
    } else {
        (&g.segv_kernel, g.crash_exits.clone())
    };
    let mut v = Vec::new();
    for &x in exits.iter().take(3) {
        let pid = ev[x].pid;
        v.extend(
            kernel
                .iter()
                .copied()
                .filter(|&k| pid.is_some() && ev[k].pid == pid),
        );
        v.push(x);
        v.extend(served(g, ev, x));
    }
    v.extend(kernel.iter().take(3));
    v
}

/// The failed request a dead child was serving: the gateway error on the
/// path its pid was serving nearest to its exit.
fn served(g: &Gathered, ev: &[Event], exit: usize) -> Option<usize> {
    let path = ev[exit].pid.and_then(|p| g.pid_paths.get(&p))?;
    let t = ev[exit].time.map_or(0, |t| t.unix_us);
    g.origin
        .iter()
        .copied()
        .filter(|&m| ev[m].path.as_deref() == Some(path.as_slice()))
        .min_by_key(|&m| (ev[m].time.map_or(i64::MAX, |x| x.unix_us) - t).unsigned_abs())
}

/// `pid 31718 at 2026-...` for each of a few exits, with what it served.
fn pids_at(
    g: &Gathered,
    ev: &[Event],
    exits: &[usize],
    fmt: &dyn Fn(Option<Timestamp>) -> String,
) -> String {
    let each: Vec<String> = exits
        .iter()
        .take(3)
        .map(|&x| {
            let pid = ev[x]
                .pid
                .map(|p| format!("pid {p}"))
                .unwrap_or("a pid".into());
            let path = ev[x]
                .pid
                .and_then(|p| g.pid_paths.get(&p))
                .map(|p| format!(" (serving {})", lossy(p)))
                .unwrap_or_default();
            format!("{pid} at {}{path}", fmt(ev[x].time))
        })
        .collect();
    let more = exits.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", each.join("; "))
    } else {
        each.join("; ")
    }
}

/// A next step for each way workers died besides the cause's own: a
/// segfault, a SIGKILL from outside, a request cut at
/// `request_terminate_timeout`.
fn death_steps(
    d: &Decision,
    g: &Gathered,
    ev: &[Event],
    deaths: &Deaths,
    fmt: &dyn Fn(Option<Timestamp>) -> String,
) -> Vec<String> {
    let kinds = [deaths.oom, deaths.segv, deaths.outside, deaths.terminated]
        .iter()
        .filter(|n| **n > 0)
        .count();
    let mut v = Vec::new();
    if deaths.segv > 0 && d.cause != Cause::Segfault && kinds >= 2 {
        let objects: BTreeSet<String> = g
            .segv_kernel
            .iter()
            .filter_map(|&i| ev[i].detail().object.as_deref())
            .map(|o| lossy(o.split(|b| *b == b'[').next().unwrap_or(o)))
            .collect();
        let suspect = if objects.is_empty() {
            "the extension or opcache named in the kernel's `segfault at ... in X.so` line"
                .to_string()
        } else {
            objects.into_iter().collect::<Vec<_>>().join(", ")
        };
        let sigs: BTreeSet<&str> = g
            .crash_exits
            .iter()
            .filter_map(|&i| ev[i].detail().signal.as_deref())
            .collect();
        let sigs = if sigs.is_empty() {
            "a segfault".to_string()
        } else {
            sigs.into_iter().collect::<Vec<_>>().join("/")
        };
        let who = if g.crash_exits.is_empty() {
            String::new()
        } else {
            format!(": {}", pids_at(g, ev, &g.crash_exits, fmt))
        };
        v.push(format!(
            "Workers also died on {sigs}{who}. Treat it as a bug, not noise: get a core dump (`rlimit_core = unlimited` in the pool, systemd-coredump), check {suspect} (update or disable it, opcache included) and recent package changes."
        ));
    }
    let outside = g.outside_kills(ev);
    if deaths.outside > 0 && !outside.is_empty() {
        v.push(format!(
            "Find what sent SIGKILL to {}, with no OOM line: a person's `kill -9`, a watchdog or health check, a deploy or config-management script (`journalctl` and the audit log around that time).",
            pids_at(g, ev, &outside, fmt)
        ));
    }
    let cut: Vec<usize> = g
        .exits
        .iter()
        .copied()
        .filter(|&i| ev[i].pid.is_some_and(|p| g.timeout_pids.contains(&p)))
        .collect();
    if deaths.terminated > 0 && kinds >= 2 && !cut.is_empty() {
        v.push(format!(
            "php-fpm cut {} at `request_terminate_timeout`: find why that request ran so long (its slowlog trace), and compare `request_terminate_timeout` with nginx's `fastcgi_read_timeout`: below it, php-fpm kills the worker mid-request and nginx answers 502; a little above it, nginx answers 504 first and the worker is still reclaimed.",
            pids_at(g, ev, &cut, fmt)
        ));
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn next_steps(
    inc: &Incident,
    d: &Decision,
    g: &Gathered,
    ev: &[Event],
    cov: Coverage,
    flood: Option<&Flood>,
    deaths: Vec<String>,
    nginx_config: bool,
) -> Vec<String> {
    let path = inc
        .top_paths
        .first()
        .map(|p| match &p.action {
            Some(a) => format!("{} (action={a})", p.path),
            None => p.path.clone(),
        })
        .unwrap_or_else(|| "the failing paths".into());
    let ajax = inc
        .top_paths
        .first()
        .is_some_and(|p| p.path.ends_with("admin-ajax.php"));
    let culprit = inc.culprits.first();
    let named = culprit
        .map(|c| format!("{} `{}` ({})", c.kind.replace('_', "-"), c.name, c.frame))
        .unwrap_or_else(|| "the code in the slowest traces".into());
    // The pool that reached its limit, else a pool its failures involve
    // (its socket's, its dying or slow pids'), else the pool of the
    // episode's own FPM lines.
    let pool = g
        .max_children
        .iter()
        .find_map(|&i| ev[i].pool.as_deref())
        .or_else(|| g.failing_pools(ev).into_iter().next())
        .map(lossy)
        .or_else(|| inc.pools.first().cloned())
        .map(|p| format!("pool `{p}`"))
        .unwrap_or_else(|| "the pool".into());
    // The upstream nginx logged for the errors that decided.
    let kinds: &[UpstreamKind] = match d.cause {
        Cause::SocketPermission => &[UpstreamKind::ConnectEacces],
        Cause::FpmDown | Cause::FpmRestart => {
            &[UpstreamKind::ConnectRefused, UpstreamKind::ConnectEnoent]
        }
        _ => &[],
    };
    // Most errors first; a `proxy_pass` upstream (http://) is no FPM socket.
    let mut ups: Vec<(&[u8], usize)> = Vec::new();
    for &i in &g.upstream {
        let e = &ev[i];
        if !kinds.is_empty() && !e.upstream_kind.is_some_and(|k| kinds.contains(&k)) {
            continue;
        }
        let Some(u) = e.upstream.as_deref() else {
            continue;
        };
        if u.starts_with(b"http") {
            continue;
        }
        let u = trim_upstream(u);
        match ups.iter_mut().find(|x| x.0 == u) {
            Some(x) => x.1 += 1,
            None => ups.push((u, 1)),
        }
    }
    ups.sort_by_key(|x| std::cmp::Reverse(x.1));
    let upstream = if ups.is_empty() {
        "the FPM socket".to_string()
    } else {
        ups.iter()
            .take(4)
            .map(|(u, n)| format!("`{}` ({})", lossy(u), plural(*n, "error", "errors")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // For an OOM kill, what the OOM-killed workers were serving.
    let oom_exits = g.oom_kill_exits(ev);
    let dead: Vec<usize> = if oom_exits.is_empty() {
        g.kill_exits.clone()
    } else {
        oom_exits
    };
    let dying_paths = paths_of(g, ev, &dead);
    let cgroup = g
        .oom_php
        .iter()
        .find_map(|&i| ev[i].detail().object.as_deref())
        .map(lossy);
    let mut s: Vec<String> = match d.cause {
        Cause::FpmRestart => vec![
            "Use graceful reloads (`systemctl reload php-fpm`, SIGUSR2) instead of stop/start in deploys; find the deploy or config-management hook that restarted php-fpm at the incident's start.".into(),
            "Never restart nginx and php-fpm together; stagger pools so one is always listening.".into(),
            "Warm OPcache after a reload so the first requests do not queue.".into(),
        ],
        Cause::FpmDown => vec![
            format!("Check whether the php-fpm master is running (`systemctl status php*-fpm`) and read its log around {}.", inc.start),
            format!("Compare nginx's `fastcgi_pass` (`nginx -T`) with the pool's `listen` directive: nginx tried {upstream}."),
        ],
        Cause::SocketPermission => vec![
            format!("`ls -l` the socket {upstream} and set `listen.owner`, `listen.group` and `listen.mode` in the pool so the nginx worker user can connect."),
            "If SELinux or AppArmor denies the connect, fix the socket's context or profile rather than disabling it; check recent pool configuration changes.".into(),
        ],
        Cause::NoLiveUpstreams => vec![
            "Find the first failures that marked the servers down (`upstream server temporarily disabled` before the incident) and fix those.".into(),
            "Review `max_fails` / `fail_timeout` on the upstream group so one slow spell does not take every server out.".into(),
        ],
        Cause::BufferConfig => vec![
            format!("Find which response headers on {path} are so large (huge cookies, plugin headers)."),
            "Raise `fastcgi_buffer_size` / `fastcgi_buffers` only as far as those headers need.".into(),
        ],
        Cause::MaxChildren => vec![
            format!("Size `pm.max_children` of {pool} from memory (RAM available to PHP / per-worker RSS, with headroom), not from traffic."),
            format!("Find what made requests slow or numerous first: the slowlog (`request_slowlog_timeout = 5s`) for the top paths, starting with {path}."),
            if ajax {
                "Give wp-admin and admin-ajax traffic a pool of their own so the public site keeps its workers.".into()
            } else {
                format!("Cache {path} where it is public, and give wp-admin/admin-ajax traffic a pool of its own.")
            },
        ],
        Cause::BacklogFull => vec![
            format!("The listen queue of {pool} overflowed (errno 11) with no `max_children` line: check `pm` (a static pool never logs max_children) and the pool's `listen.backlog` (php-fpm's default is 511; older setups have 128 or less) against the kernel's cap `net.core.somaxconn`."),
            "Raising the backlog only buys queueing time: the workers are still too few or too slow. Size `pm.max_children` from memory per worker and find what made requests slow first.".into(),
        ],
        Cause::RequestFlood => {
            // The path that carried the rise, else the one failing most.
            let (path, action) = match flood {
                Some(f) => (
                    match &f.action {
                        Some(a) => format!("{} (action={a})", f.path),
                        None => f.path.clone(),
                    },
                    f.action.as_deref(),
                ),
                None => (path.clone(), inc.top_paths.first().and_then(|p| p.action.as_deref())),
            };
            let ajax = match flood {
                Some(f) => f.path.ends_with("admin-ajax.php"),
                None => ajax,
            };
            vec![
            if action == Some("heartbeat") {
                "Lengthen the WordPress Heartbeat interval or limit it to the post editor (Heartbeat API settings or a plugin that controls it).".into()
            } else if ajax {
                format!("Name the plugin that registers {path} and throttle it (a polling widget, a live search, a bot); admin-ajax answers are per-user POSTs, so rate-limit them rather than cache them.")
            } else {
                format!("Name what drives {path} (a polling widget, a bot, a cron storm) and throttle or cache it.")
            },
            format!("Rate-limit {path} in nginx (`limit_req`), and move WP-Cron to a real cron job if wp-cron.php is involved."),
            "Do not just raise pm.max_children: the flood would fill it again.".into(),
        ]
        }
        Cause::ExternalCall => vec![
            format!("Set a short timeout on the outbound call in {named}, cache its responses, or move it to a background job; disable the plugin if it cannot wait."),
            "Do not raise pm.max_children or nginx timeouts: that turns 502s into slower 504s and ties up more workers.".into(),
        ],
        Cause::Database => match &d.queries {
            Some(q) => vec![
                query_step(q),
                format!("Read MySQL's process list (`SHOW FULL PROCESSLIST`) and InnoDB status while it recurs, and `EXPLAIN` `{}`: the database is the failed handoff, not php-fpm.", q.fingerprint),
                "Do not raise pm.max_children or nginx timeouts: more workers would wait on the same queries.".into(),
            ],
            None => vec![
                format!("Read MySQL's process list and slow query log for {} to {}: the database is the failed handoff.", inc.start, inc.end),
                format!("Check autoloaded options size, missing indexes and disk I/O behind {named}."),
            ],
        },
        Cause::SlowScript => vec![
            format!("Profile {named}: it blocks in PHP itself (CPU, file I/O or sleep); move that work off the request path."),
        ],
        Cause::Segfault => {
            let objects: BTreeSet<String> = g
                .segv_kernel
                .iter()
                .filter_map(|&i| ev[i].detail().object.as_deref())
                .map(|o| lossy(o.split(|b| *b == b'[').next().unwrap_or(o)))
                .collect();
            let suspect = if objects.is_empty() {
                "the extension in the kernel's `segfault at ... in X` line (enable the kernel log if missing)".to_string()
            } else {
                objects.into_iter().collect::<Vec<_>>().join(", ")
            };
            vec![
                format!("Treat the segfaults as a bug, not noise: the suspect is {suspect}; update or disable it (opcache, an extension) and check recent package changes."),
                "Get a core dump (`rlimit_core = unlimited` in the pool, systemd-coredump) to name the function.".into(),
            ]
        }
        Cause::OomKill => {
            let running = if dying_paths.is_empty() {
                path.clone()
            } else {
                dying_paths.join(", ")
            };
            let mut v = vec![format!("Do not raise pm.max_children: reduce memory per request first (the requests running when workers were killed: {running}; a big export or batch call), or lower `memory_limit`.")];
            match &cgroup {
                Some(c) => v.push(format!("The kill enforced the memory limit of cgroup `{c}`, not the box's RAM: compare that service's limit (systemd `MemoryMax`, the container's memory limit) with `pm.max_children` x memory per worker, and size one to the other.")),
                None => v.push("The box ran out of memory: lower pm.max_children to what RAM allows (RAM for PHP / per-worker RSS), add RAM or move services off the box.".into()),
            }
            v
        }
        Cause::FatalError => vec![
            format!("Read the file and line in the PHP fatal error ({named}); fix, update or disable that code."),
            "If it is `Allowed memory size ... exhausted`, find the request that grows (an export, a batch) before raising `memory_limit`.".into(),
        ],
        Cause::EdgeOnly => vec![
            "Compare with a direct request to the origin, bypassing the edge.".into(),
            "Check the origin firewall's allowlist of Cloudflare IP ranges, the TLS mode between edge and origin, and rate limits on edge IPs.".into(),
        ],
        Cause::Unknown => {
            let mut v = Vec::new();
            if !cov.error {
                v.push("Add the nginx error log: it says which upstream failure each 502/504 was.".to_string());
            }
            if !cov.fpm {
                v.push("Add the php-fpm log (or `journalctl -u php*-fpm`) for that time: max_children, child signals and restarts settle most 502s.".to_string());
            }
            if !cov.slowlog {
                v.push("Enable the php-fpm slowlog (`request_slowlog_timeout = 5s`): it names the code behind slow requests.".to_string());
            }
            if !cov.kernel && (inc.upstream_errors.contains_key("reset_by_peer") || inc.upstream_errors.contains_key("premature_close")) {
                v.push("Add the kernel log (`journalctl -k`, `dmesg -T`): resets and premature closes often come from OOM kills or segfaults.".to_string());
            }
            if v.is_empty() {
                v.push(format!("Reproduce a request to {path} with timing and read its php-fpm and error-log lines side by side."));
            }
            v
        }
    };
    for c in &d.contributing {
        let extra = match c {
            Cause::MaxChildren | Cause::BacklogFull
                if matches!(d.cause.verdict(), Verdict::Latency) =>
            {
                Some(
                    "The pool saturated as a consequence of the slow requests: fix the slowness before resizing the pool.",
                )
            }
            Cause::OomKill if d.cause != Cause::OomKill => Some(
                "Memory pressure also killed workers: check per-worker memory before adding children.",
            ),
            _ => None,
        };
        if let Some(x) = extra {
            s.push(x.to_string());
        }
    }
    s.extend(deaths);
    if d.cause != Cause::OomKill && !g.oom_other.is_empty() {
        s.push("Another process was OOM-killed on the host: check the host's memory budget (mysqld, caches) before adding PHP workers.".into());
    }
    // What to collect next: the witnesses this verdict could not read.
    if d.cause != Cause::Unknown {
        let mut missing = Vec::new();
        if !cov.fpm {
            missing.push("the php-fpm log (`journalctl -u php*-fpm`)");
        }
        if !cov.slowlog && matches!(d.cause.verdict(), Verdict::Capacity | Verdict::Latency) {
            missing.push("the slowlog (`request_slowlog_timeout = 5s`)");
        }
        if !cov.kernel && d.cause.verdict() == Verdict::Crash {
            missing.push("the kernel log (`journalctl -k`)");
        }
        if !cov.error {
            missing.push("the nginx error log");
        }
        let mut what = match missing.len() {
            0 => String::new(),
            _ => format!("{} for the same time", missing.join(", ")),
        };
        // nginx's configuration names the address of each upstream and
        // socket it tried: a connectivity verdict without it is a guess
        // at what nginx was told to reach.
        let ask_config = d.cause.verdict() == Verdict::Connectivity && !nginx_config;
        if ask_config {
            if !what.is_empty() {
                what.push_str(", and ");
            }
            what.push_str("`nginx -T` output (as root: the configuration nginx runs, with each `fastcgi_pass` and `upstream`)");
        }
        if !what.is_empty() {
            let it = if missing.len() + usize::from(ask_config) > 1 {
                "them"
            } else {
                "it"
            };
            s.push(format!(
                "To confirm, collect {what}: the verdict was reached without {it}."
            ));
        }
    }
    s
}

/// `from A to B`, or `at A` when both are written the same.
pub(crate) fn from_to(a: &str, b: &str) -> String {
    if a == b {
        format!("at {a}")
    } else {
        format!("from {a} to {b}")
    }
}

/// `12 slow queries `select ...` on table `wp_options` (420.0 s in all,
/// at most 42.0 s, 180000 rows examined) between ... and ...`.
fn query_words(q: &QueryStall, when: &str) -> String {
    let table = q
        .table
        .as_deref()
        .map(|t| format!(" on table `{t}`"))
        .unwrap_or_default();
    let others = if q.all > q.events.len() {
        format!(
            "; {} in all took {:.1} s",
            plural(q.all, "slow query", "slow queries"),
            q.all_total
        )
    } else {
        String::new()
    };
    let lock = if q.lock >= 0.5 * q.total && q.lock > 0.0 {
        format!(", {:.1} s of it waiting for locks", q.lock)
    } else {
        String::new()
    };
    let ratio = q
        .ratio
        .map(|r| format!(", {r:.0}x the slow log's background rate"))
        .unwrap_or_default();
    let first = if q.precedes {
        ", the first of them started before the first gateway error"
    } else {
        ""
    };
    format!(
        "{} `{}`{table} ({:.1} s in all, at most {:.1} s{lock}, {} rows examined{ratio}) {when}{first}{others}",
        plural(q.events.len(), "slow query", "slow queries"),
        q.fingerprint,
        q.total,
        q.max,
        q.rows_examined,
    )
}

/// The first next step of a database incident, about its query.
fn query_step(q: &QueryStall) -> String {
    let on = q
        .table
        .as_deref()
        .map(|t| format!(" on `{t}`"))
        .unwrap_or_default();
    let per_query = q.rows_examined / (q.events.len().max(1) as u64);
    let autoload = q.table.as_deref() == Some("wp_options") && q.fingerprint.contains("autoload");
    if autoload {
        format!(
            "{:.0} s{on} autoload: look at the size of autoloaded options (`SELECT SUM(LENGTH(option_value)) FROM wp_options WHERE autoload = 'yes'`), find the plugins that autoload the largest ones and set them to autoload = 'no'; an object cache (Redis) keeps this query off every request.",
            q.max
        )
    } else if q.lock >= 0.5 * q.total && q.lock > 0.0 {
        format!(
            "{:.0} s{on}, most of it waiting for locks: find the transaction or `LOCK TABLES` that held them (`SHOW ENGINE INNODB STATUS`, the process list), and move that work (a backup, a bulk update, a cron job) off peak hours.",
            q.max
        )
    } else if per_query >= 10_000 {
        format!(
            "{:.0} s{on} examining {per_query} rows per query: `EXPLAIN` it and add the index its WHERE clause needs, or cache its result.",
            q.max
        )
    } else {
        format!(
            "{:.0} s{on}: `EXPLAIN` it, and check the database server's load, buffer pool and disk I/O at the time.",
            q.max
        )
    }
}

/// How many addresses an evidence sentence names before `and N more`.
const ADDRESSES_SHOWN: usize = 5;

/// ` to unix:/run/php/www.sock` for one address; for several, each with
/// its count, most first (then in logged order), cut to a handful:
/// ` to 127.0.0.1:9999 (3), 127.0.0.1:9998 (1)`.
fn addresses(ev: &[Event], errors: &[usize]) -> String {
    let mut by: Vec<(&[u8], usize)> = Vec::new();
    for &i in errors {
        let Some(u) = ev[i].upstream.as_deref() else {
            continue;
        };
        let u = trim_upstream(u);
        match by.iter_mut().find(|x| x.0 == u) {
            Some(x) => x.1 += 1,
            None => by.push((u, 1)),
        }
    }
    // Stable: equal counts keep their logged order.
    by.sort_by_key(|x| std::cmp::Reverse(x.1));
    match by.as_slice() {
        [] => String::new(),
        [(u, _)] => format!(" to {}", lossy(u)),
        _ => {
            let shown = if by.len() > ADDRESSES_SHOWN {
                ADDRESSES_SHOWN - 1
            } else {
                by.len()
            };
            let each: Vec<String> = by[..shown]
                .iter()
                .map(|(u, n)| format!("{} ({n})", lossy(u)))
                .collect();
            let rest = by.len() - shown;
            let mut s = format!(" to {}", each.join(", "));
            if rest > 0 {
                s.push_str(&format!(" and {rest} more"));
            }
            s
        }
    }
}

/// `1 of 6` for a handful, `83%` for many.
pub(crate) fn share_words(n: u64, of: u64) -> String {
    if of < 20 {
        format!("{n} of {of}")
    } else {
        format!("{}%", (n * 100 + of / 2) / of.max(1))
    }
}

fn call_words(c: Cause) -> &'static str {
    match c {
        Cause::ExternalCall => "an outbound call",
        Cause::Database => "a database call",
        _ => "PHP itself",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TopPath;
    use crate::testkit::full;
    use crate::testkit::{T0, blank_incident, child_exit, fpm, kernel, numbered, text, upstream};
    use baton_logparse::EventKind;

    /// Times as seconds from T0: `T+12`.
    fn fmt(t: Option<Timestamp>) -> String {
        t.map(|t| format!("T{:+}", t.unix_secs() - T0))
            .unwrap_or_default()
    }

    fn decision(cause: Cause) -> Decision {
        Decision {
            cause,
            contributing: Vec::new(),
            confidence: 0.9,
            latency: None,
            queries: None,
        }
    }

    fn path(p: &str, count: u64) -> TopPath {
        TopPath {
            path: p.into(),
            count,
            action: None,
        }
    }

    /// An upstream error of `kind` on socket `sock`.
    fn on(t: i64, kind: UpstreamKind, sock: &str) -> Event {
        Event {
            upstream: text(&format!("fastcgi://unix:{sock}:")),
            ..upstream(t, kind, "/checkout/", 1)
        }
    }

    #[test]
    fn a_full_pool_s_steps_name_its_pool_and_its_top_path() {
        let ev = numbered(vec![
            Event {
                pool: text("shop"),
                detail: baton_logparse::event::Detail {
                    number: Some(40),
                    ..Default::default()
                }
                .boxed(),
                ..fpm(-2, EventKind::FpmMaxChildren)
            },
            on(10, UpstreamKind::ConnectEagain, "/run/php/shop.sock"),
            on(12, UpstreamKind::ConnectEagain, "/run/php/shop.sock"),
        ]);
        let g = Gathered {
            max_children: vec![0],
            upstream: vec![1, 2],
            up_kinds: [(UpstreamKind::ConnectEagain, 2)].into_iter().collect(),
            ..Gathered::default()
        };
        let mut inc = blank_incident(Cause::MaxChildren, 10, 60);
        inc.gateway_errors = 12;
        inc.status_502 = 12;
        inc.top_paths = vec![path("/checkout/", 9), path("/cart/", 3)];
        write(
            &mut inc,
            &g,
            &ev,
            &decision(Cause::MaxChildren),
            None,
            &fmt,
            full(),
            true,
        );
        assert!(inc.evidence[0].starts_with("12 gateway errors (502 x 12) from "));
        assert!(inc.evidence[0].ends_with("; 9 of 12 on /checkout/"));
        assert!(inc.evidence.contains(
            &"nginx logged 2 upstream errors `connect_eagain` to unix:/run/php/shop.sock between T+10 and T+12"
                .to_string()
        ));
        assert!(
            inc.evidence.contains(
                &"php-fpm reached pm.max_children (40) in pool shop 1 time at T-2".into()
            )
        );
        assert!(
            inc.next_steps[0].contains("pool `shop`"),
            "{:?}",
            inc.next_steps
        );
        assert!(
            inc.next_steps[1].contains("/checkout/"),
            "{:?}",
            inc.next_steps
        );
        assert!(!inc.next_steps.iter().any(|s| s.contains("/cart/")));
    }

    #[test]
    fn a_down_fpm_s_steps_name_the_socket_nginx_was_refused_on() {
        let ev = numbered(vec![
            on(10, UpstreamKind::ConnectRefused, "/run/php/shop.sock"),
            on(11, UpstreamKind::ConnectRefused, "/run/php/shop.sock"),
            on(12, UpstreamKind::ConnectRefused, "/run/php/shop.sock"),
            // A timeout on the admin pool's socket: no part of the refusal.
            on(15, UpstreamKind::TimedOut, "/run/php/admin.sock"),
        ]);
        let g = Gathered {
            upstream: vec![0, 1, 2, 3],
            up_kinds: [
                (UpstreamKind::ConnectRefused, 3),
                (UpstreamKind::TimedOut, 1),
            ]
            .into_iter()
            .collect(),
            ..Gathered::default()
        };
        let mut inc = blank_incident(Cause::FpmDown, 10, 15);
        inc.gateway_errors = 4;
        inc.status_502 = 3;
        inc.status_504 = 1;
        write(
            &mut inc,
            &g,
            &ev,
            &decision(Cause::FpmDown),
            None,
            &fmt,
            full(),
            true,
        );
        let tried = inc
            .next_steps
            .iter()
            .find(|s| s.contains("fastcgi_pass"))
            .expect("a step comparing fastcgi_pass with listen");
        assert!(
            tried.contains("`unix:/run/php/shop.sock` (3 errors)"),
            "{tried}"
        );
        assert!(!tried.contains("admin.sock"), "{tried}");
        assert!(inc.evidence[0].starts_with("4 gateway errors (502 x 3, 504 x 1) from "));
        assert!(inc.evidence.contains(
            &"nginx logged 1 upstream error `timed_out` to unix:/run/php/admin.sock at T+15".into()
        ));
    }

    #[test]
    fn counts_are_pluralised() {
        // One 502, one worker OOM-killed.
        let ev = numbered(vec![
            child_exit(5, 4242, "SIGKILL"),
            child_exit(6, 4243, "SIGSEGV"),
            kernel(Some(5), EventKind::KernelOomKill, 4242, "php-fpm8.2"),
            kernel(Some(6), EventKind::KernelOomKill, 4244, "php-fpm8.2"),
        ]);
        let one = Gathered {
            oom_php: vec![2],
            ..Gathered::default()
        };
        let mut inc = blank_incident(Cause::OomKill, 5, 5);
        inc.gateway_errors = 1;
        inc.status_502 = 1;
        write(
            &mut inc,
            &one,
            &ev,
            &decision(Cause::OomKill),
            None,
            &fmt,
            full(),
            true,
        );
        assert!(inc.evidence[0].starts_with("1 gateway error (502 x 1) at "));
        assert!(
            inc.evidence
                .contains(&"the kernel OOM-killed 1 php-fpm worker (pid 4242) at T+5".into()),
            "{:?}",
            inc.evidence
        );
        // One way of dying reads as English.
        assert!(
            inc.evidence
                .iter()
                .any(|e| e.starts_with("1 php-fpm worker was OOM-killed by the kernel")),
            "{:?}",
            inc.evidence
        );

        // Two OOM kills and a segfault: plurals, and both ways named.
        let mut g = Gathered {
            exits: vec![0, 1],
            kill_exits: vec![0],
            crash_exits: vec![1],
            oom_php: vec![2, 3],
            ..Gathered::default()
        };
        g.pid_paths.insert(4242, b"/export/".to_vec());
        let mut inc = blank_incident(Cause::OomKill, 5, 6);
        inc.gateway_errors = 3;
        inc.status_502 = 3;
        write(
            &mut inc,
            &g,
            &ev,
            &decision(Cause::OomKill),
            None,
            &fmt,
            full(),
            true,
        );
        assert!(inc.evidence[0].starts_with("3 gateway errors (502 x 3) from "));
        assert!(
            inc.evidence.contains(
                &"the kernel OOM-killed 2 php-fpm workers (pid 4242, 4244) between T+5 and T+6"
                    .into()
            ),
            "{:?}",
            inc.evidence
        );
        assert!(
            inc.evidence.contains(
                &"3 php-fpm workers died 2 ways: 2 OOM-killed by the kernel, 1 on SIGSEGV between T+5 and T+6; they were serving /export/"
                    .into()
            ),
            "{:?}",
            inc.evidence
        );
    }

    #[test]
    fn shares_read_as_counts_for_a_handful_and_percent_for_many() {
        assert_eq!(share_words(1, 6), "1 of 6");
        assert_eq!(share_words(19, 19), "19 of 19");
        assert_eq!(share_words(17, 20), "85%");
        // 2.5 % rounds half up.
        assert_eq!(share_words(1, 40), "3%");
        assert_eq!(share_words(2, 3), "2 of 3");
    }
}
