//! The verdict rules (`CONTRACT.md`'s precedence), the evidence sentences
//! and the next steps, as the playbook has an on-call engineer write them.

use std::collections::BTreeSet;

use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, Timestamp};

use crate::engine::{Coverage, Flood, Gathered, latency_cause, lossy};
use crate::model::{Cause, Culprit, Incident};

/// The verdict and what it rests on.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub cause: Cause,
    pub contributing: Vec<Cause>,
    pub confidence: f64,
}

fn up(g: &Gathered, k: UpstreamKind) -> u64 {
    g.up_kinds.get(&k).copied().unwrap_or(0)
}

/// Child SIGKILLs that were no `request_terminate_timeout` kill.
fn kills(g: &Gathered, ev: &[Event]) -> usize {
    g.kill_exits
        .iter()
        .filter(|&&i| ev[i].pid.is_none_or(|p| !g.timeout_pids.contains(&p)))
        .count()
}

fn distinct_paths(g: &Gathered, ev: &[Event], k: UpstreamKind) -> usize {
    g.upstream
        .iter()
        .filter(|&&i| ev[i].upstream_kind == Some(k))
        .filter_map(|&i| ev[i].path.as_deref())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Applies the contract's rules in order; the first that holds decides,
/// the others seen become contributing causes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decide(
    g: &Gathered,
    ev: &[Event],
    culprits: &[Culprit],
    flood: Option<&Flood>,
    errors: usize,
    status_504: u64,
    cov: Coverage,
) -> Decision {
    let total_up: u64 = g.up_kinds.values().sum();
    let share = |n: u64| {
        if total_up == 0 {
            0.0
        } else {
            n as f64 / total_up as f64
        }
    };
    let broken = up(g, UpstreamKind::ResetByPeer) + up(g, UpstreamKind::PrematureClose);
    let mut seen: Vec<(Cause, f64)> = Vec::new();

    // 1. Crash: workers died behind resets / premature closes.
    let oom = g.oom_php.len() + kills(g, ev);
    let segv = g.crash_exits.len() + g.segv_kernel.len();
    let behind = broken > 0 || !cov.error;
    if behind && (oom > 0 || segv > 0) {
        let c = if segv > oom {
            Cause::Segfault
        } else {
            Cause::OomKill
        };
        seen.push((c, 0.6 + 0.35 * share(broken).max(0.5)));
        if segv > 0 && oom > 0 {
            let other = if c == Cause::Segfault {
                Cause::OomKill
            } else {
                Cause::Segfault
            };
            seen.push((other, 0.5));
        }
    }
    if broken > 0 && !g.fatal.is_empty() && oom == 0 && segv == 0 {
        seen.push((Cause::FatalError, 0.6 + 0.3 * share(broken)));
    }

    // 2. Connectivity.
    let eacces = up(g, UpstreamKind::ConnectEacces);
    let refused = up(g, UpstreamKind::ConnectRefused) + up(g, UpstreamKind::ConnectEnoent);
    let no_live = up(g, UpstreamKind::NoLiveUpstreams);
    let big = up(g, UpstreamKind::TooBigHeader);
    let restarting = !g.master_stop.is_empty() || g.restarts > 0;
    let mut conn = [
        (eacces, Cause::SocketPermission),
        (
            refused,
            if restarting {
                Cause::FpmRestart
            } else {
                Cause::FpmDown
            },
        ),
        (no_live, Cause::NoLiveUpstreams),
        (big, Cause::BufferConfig),
    ];
    conn.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (n, c) in conn {
        if n > 0 && share(n) >= 0.2 {
            let conf = if c == Cause::FpmDown && !cov.fpm {
                0.6
            } else {
                0.6 + 0.35 * share(n)
            };
            seen.push((c, conf));
        }
    }

    // 3. Latency: slow traces concentrated on one call kind.
    let mut latency: Option<(Cause, f64)> = None;
    let traces: u64 = culprits.iter().map(|c| c.traces).sum();
    if traces >= 2 {
        let mut by_cause: Vec<(Cause, u64)> = Vec::new();
        for c in culprits {
            let Some(call) = &c.call else { continue };
            let cause = latency_cause(call);
            match by_cause.iter_mut().find(|(k, _)| *k == cause) {
                Some(x) => x.1 += c.traces,
                None => by_cause.push((cause, c.traces)),
            }
        }
        by_cause.sort_by_key(|c| std::cmp::Reverse(c.1));
        if let Some(&(cause, n)) = by_cause.first()
            && n * 2 >= traces
        {
            latency = Some((cause, 0.6 + 0.35 * (n as f64 / traces as f64)));
        }
    } else if g.slow.len() >= 3 && g.traces.is_empty() {
        let scripts: BTreeSet<&[u8]> = g
            .slow
            .iter()
            .filter_map(|&i| ev[i].object.as_deref())
            .collect();
        if scripts.len() == 1 {
            latency = Some((Cause::SlowScript, 0.5));
        }
    }
    // Latency decides when the failing requests are the slow ones (they
    // timed out). When they were turned away (backlog full) while slow
    // requests held the workers, saturation decides and the slowness
    // contributes.
    let timed_out = up(g, UpstreamKind::TimedOut) + up(g, UpstreamKind::ConnectTimedOut);
    let timed_out_share = if total_up > 0 {
        share(timed_out)
    } else {
        status_504 as f64 / errors.max(1) as f64
    };
    let mut later_latency = None;
    if let Some(l) = latency {
        if timed_out_share >= 0.5 {
            seen.push(l);
        } else {
            later_latency = Some((l.0, 0.5));
        }
    }

    // 4. Capacity.
    let eagain = up(g, UpstreamKind::ConnectEagain);
    let spread = distinct_paths(g, ev, UpstreamKind::TimedOut) >= 3;
    let saturated = !g.max_children.is_empty() || eagain > 0 || (timed_out > 0 && spread);
    if saturated {
        let sat = share(eagain + timed_out).max(if g.max_children.is_empty() { 0.0 } else { 0.5 });
        if let Some(f) = flood {
            seen.push((Cause::RequestFlood, 0.6 + 0.3 * f.share.min(1.0)));
        }
        if !g.max_children.is_empty() {
            seen.push((Cause::MaxChildren, 0.6 + 0.35 * sat));
        } else if eagain > 0 {
            seen.push((Cause::BacklogFull, 0.6 + 0.3 * sat));
        } else {
            seen.push((Cause::MaxChildren, 0.5 + 0.2 * sat));
        }
    }
    // Slow requests holding the workers explain a saturation, not a crash
    // or a refused connection.
    if seen
        .first()
        .is_some_and(|(c, _)| c.verdict() == crate::Verdict::Capacity)
    {
        seen.extend(later_latency);
    }

    // 5. Edge only.
    if !g.edge.is_empty() && g.origin.is_empty() {
        seen.push((Cause::EdgeOnly, 0.8));
    }

    let Some(&(cause, confidence)) = seen.first() else {
        return Decision {
            cause: Cause::Unknown,
            contributing: Vec::new(),
            confidence: 0.3,
        };
    };
    let mut contributing: Vec<Cause> = Vec::new();
    for (c, _) in &seen[1..] {
        if *c != cause && !contributing.contains(c) {
            contributing.push(*c);
        }
    }
    // A flood is a kind of saturation: name only the flood.
    if cause == Cause::RequestFlood {
        contributing.retain(|c| !matches!(c, Cause::MaxChildren | Cause::BacklogFull));
    }
    let thin = if errors < 5 { 0.1 } else { 0.0 };
    Decision {
        cause,
        contributing,
        confidence: ((confidence - thin).clamp(0.1, 0.95) * 100.0).round() / 100.0,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Writes the evidence sentences and next steps; returns the events to
/// cite, most telling first.
pub(crate) fn write(
    inc: &mut Incident,
    g: &Gathered,
    ev: &[Event],
    d: &Decision,
    flood: Option<&Flood>,
    fmt: &dyn Fn(Option<Timestamp>) -> String,
    cov: Coverage,
) -> Vec<usize> {
    let mut refs: Vec<usize> = Vec::new();
    let mut evidence = Vec::new();
    let span = |v: &[usize]| -> String {
        let mut times: Vec<Timestamp> = v.iter().filter_map(|&i| ev[i].time).collect();
        times.sort_by_key(|t| t.unix_us);
        match (times.first(), times.last()) {
            (Some(a), Some(b)) if a.unix_us != b.unix_us => {
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
            "{} edge gateway errors ({}) from {} to {}",
            inc.gateway_errors,
            statuses.join(", "),
            inc.start,
            inc.end
        )
    } else {
        format!(
            "{} gateway errors ({} x 502, {} x 504) from {} to {}",
            inc.gateway_errors, inc.status_502, inc.status_504, inc.start, inc.end
        )
    };
    if let Some(p) = inc.top_paths.first() {
        let pct = p.count * 100 / inc.gateway_errors.max(1);
        what.push_str(&format!("; {pct}% on {}", p.path));
        if let Some(a) = &p.action {
            what.push_str(&format!(" (action={a})"));
        }
    }
    if inc.status_499 > 0 {
        what.push_str(&format!(
            "; {} requests abandoned by clients (499)",
            inc.status_499
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
        let upstream = of_kind
            .iter()
            .find_map(|&i| ev[i].upstream.as_deref())
            .map(|u| format!(" to {}", lossy(crate::engine::trim_upstream(u))))
            .unwrap_or_default();
        evidence.push(format!(
            "nginx logged {} `{}`{upstream} {}",
            plural(**n as usize, "upstream error", "upstream errors"),
            k.as_str(),
            span(&of_kind)
        ));
        refs.extend(of_kind.first());
    }

    // FPM.
    if let Some(&m) = g.max_children.first() {
        let limit = ev[m].number.map(|n| format!(" ({n})")).unwrap_or_default();
        let pool = ev[m]
            .pool
            .as_deref()
            .map(|p| format!(" in pool {}", lossy(p)))
            .unwrap_or_default();
        evidence.push(format!(
            "php-fpm reached pm.max_children{limit}{pool} {} {}",
            plural(g.max_children.len(), "time", "times"),
            span(&g.max_children)
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
    if !g.crash_exits.is_empty() {
        let sigs: BTreeSet<&str> = g
            .crash_exits
            .iter()
            .filter_map(|&i| ev[i].signal.as_deref())
            .collect();
        evidence.push(format!(
            "{} exited on {} {}",
            plural(g.crash_exits.len(), "php-fpm child", "php-fpm children"),
            sigs.into_iter().collect::<Vec<_>>().join("/"),
            span(&g.crash_exits)
        ));
        refs.extend(g.crash_exits.first());
    }
    let k = kills(g, ev);
    if k > 0 {
        evidence.push(format!(
            "{} exited on SIGKILL {}",
            plural(k, "php-fpm child", "php-fpm children"),
            span(&g.kill_exits)
        ));
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
            .map(|(p, n)| format!(", {n} of them on {}", lossy(p)))
            .unwrap_or_default();
        evidence.push(format!(
            "php-fpm logged {} `executing too slow`{top} {}",
            plural(g.slow.len(), "request", "requests"),
            span(&g.slow)
        ));
        refs.extend(g.slow.first());
    }
    for c in inc.culprits.iter().take(2) {
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
    refs.extend(g.traces.first());
    if !g.fatal.is_empty() {
        // nginx relays what PHP wrote to stderr; php-fpm logs it as worker
        // output: the same errors, counted per log.
        let (relayed, logged): (Vec<usize>, Vec<usize>) = g
            .fatal
            .iter()
            .partition(|&&i| ev[i].kind == Some(baton_logparse::EventKind::UpstreamError));
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
            .filter_map(|&i| ev[i].process.as_deref())
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
            .filter_map(|&i| ev[i].object.as_deref())
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
    // The first gateway error itself.
    let mut cited = vec![];
    cited.extend(g.origin.first().or(g.edge.first()));
    cited.extend(refs);
    let mut seen = BTreeSet::new();
    cited.retain(|i| seen.insert(*i));

    inc.evidence = evidence;
    inc.next_steps = next_steps(inc, d, g, ev, cov);
    cited
}

fn next_steps(
    inc: &Incident,
    d: &Decision,
    g: &Gathered,
    ev: &[Event],
    cov: Coverage,
) -> Vec<String> {
    let path = inc
        .top_paths
        .first()
        .map(|p| match &p.action {
            Some(a) => format!("{} (action={a})", p.path),
            None => p.path.clone(),
        })
        .unwrap_or_else(|| "the failing paths".into());
    let culprit = inc.culprits.first();
    let named = culprit
        .map(|c| format!("{} `{}` ({})", c.kind.replace('_', "-"), c.name, c.frame))
        .unwrap_or_else(|| "the code in the slowest traces".into());
    let pool = inc
        .pools
        .first()
        .cloned()
        .unwrap_or_else(|| "the pool".into());
    let upstream = inc
        .upstreams
        .first()
        .cloned()
        .unwrap_or_else(|| "the FPM socket".into());
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
        Cause::MaxChildren | Cause::BacklogFull => vec![
            format!("Size `pm.max_children` of {pool} from memory (RAM available to PHP / per-worker RSS, with headroom), not from traffic."),
            "Find what made requests slow or numerous first: enable the slowlog (`request_slowlog_timeout = 5s`) if it is off, and look at the top paths.".into(),
            format!("Cache {path} where possible, and give wp-admin/admin-ajax traffic its own pool."),
        ],
        Cause::RequestFlood => vec![
            format!("Name the plugin behind {path} and throttle or cache it (a polling widget, heartbeat, a bot or a cron storm)."),
            format!("Rate-limit {path} in nginx (`limit_req`), and move WP-Cron to a real cron job if wp-cron.php is involved."),
            "Do not just raise pm.max_children: the flood would fill it again.".into(),
        ],
        Cause::ExternalCall => vec![
            format!("Set a short timeout on the outbound call in {named}, cache its responses, or move it to a background job; disable the plugin if it cannot wait."),
            "Do not raise pm.max_children or nginx timeouts: that turns 502s into slower 504s and ties up more workers.".into(),
        ],
        Cause::Database => vec![
            format!("Read MySQL's process list and slow query log for {} to {}: the database is the failed handoff.", inc.start, inc.end),
            format!("Check autoloaded options size, missing indexes and disk I/O behind {named}."),
        ],
        Cause::SlowScript => vec![
            format!("Profile {named}: it blocks in PHP itself (CPU, file I/O or sleep); move that work off the request path."),
        ],
        Cause::Segfault => {
            let objects: BTreeSet<String> = g
                .segv_kernel
                .iter()
                .filter_map(|&i| ev[i].object.as_deref())
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
        Cause::OomKill => vec![
            "Do not raise pm.max_children: the workers already need more memory than the box has.".into(),
            format!("Reduce memory per request (the requests running at the kills: {path}), lower `memory_limit` or pm.max_children, or add RAM / move services off the box."),
        ],
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
                if matches!(d.cause.verdict(), crate::Verdict::Latency) =>
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
    if d.cause != Cause::OomKill && !g.oom_other.is_empty() {
        s.push("Another process was OOM-killed on the host: check the host's memory budget (mysqld, caches) before adding PHP workers.".into());
    }
    s
}
