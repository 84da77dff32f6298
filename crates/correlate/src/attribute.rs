//! Stage 3, attribute: the FPM, slowlog, kernel and PHP evidence of each
//! episode. Every event belongs to at most one incident: the one it leads
//! into or falls in. Pid joins claim first (a kernel OOM kill or segfault
//! of a child that died in the episode), then time; an episode's lead-in
//! never reaches back past the previous episode's end, so what explained
//! the previous incident is not repeated as evidence of the next.

use std::collections::{BTreeMap, BTreeSet};

use baton_logparse::event::MasterStep;
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, EventKind};

use crate::index::{Index, IndexSet, S, us};
use crate::join::Joined;
use crate::names::{is_php, lossy};
use crate::segment::Episode;

/// Slack after an episode for lines logged just after its errors.
pub(crate) const SLACK_S: i64 = 5;
/// How far from an episode a kernel line of a child that died in it may
/// be logged (`dmesg -T` clocks drift).
const KERNEL_DRIFT_S: i64 = 600;

/// How long after an episode a slow query that ran into it may be logged
/// (its Query_time): an hour.
const QUERY_MAX_S: i64 = 3600;

/// An episode's time bounds (microseconds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// The first gateway error's logged time.
    pub start: i64,
    /// The last gateway error's logged time.
    pub end: i64,
    /// Where its evidence may begin: the earliest request start minus the
    /// window, not before the previous episode's end.
    pub from: i64,
    /// Where its evidence ends.
    pub to: i64,
    /// Where a recovery (the master starting again) may still be found.
    pub recovery: i64,
}

/// What an episode's window holds, gathered before the verdict.
#[derive(Default, Debug)]
pub(crate) struct Gathered {
    pub upstream: Vec<usize>,
    pub up_kinds: BTreeMap<UpstreamKind, u64>,
    pub max_children: Vec<usize>,
    pub seems_busy: Vec<usize>,
    pub exits: Vec<usize>,
    pub crash_exits: Vec<usize>,
    pub kill_exits: Vec<usize>,
    /// Children killed by `request_terminate_timeout` (SIGTERM/SIGKILL after
    /// `execution timed out` on the same pid).
    pub timeout_pids: BTreeSet<u32>,
    pub slow: Vec<usize>,
    pub timeouts: Vec<usize>,
    pub traces: Vec<usize>,
    pub oom_php: Vec<usize>,
    pub oom_other: Vec<usize>,
    pub segv_kernel: Vec<usize>,
    pub master_stop: Vec<usize>,
    pub master_start: Vec<usize>,
    pub reloads: Vec<usize>,
    pub restarts: u64,
    pub fatal: Vec<usize>,
    pub status_499: u64,
    pub edge: Vec<usize>,
    pub origin: Vec<usize>,
    /// What the children that died were serving, by pid (from their slow
    /// request and timeout lines and slowlog traces).
    pub pid_paths: BTreeMap<u32, Vec<u8>>,
    /// MySQL slow-log queries whose run (`[time - seconds, time]`)
    /// overlaps the episode's window, in logged order.
    pub queries: Vec<usize>,
}

impl Gathered {
    pub fn up(&self, k: UpstreamKind) -> u64 {
        self.up_kinds.get(&k).copied().unwrap_or(0)
    }

    /// Child SIGKILLs that were no `request_terminate_timeout` kill.
    pub fn kills(&self, ev: &[Event]) -> Vec<usize> {
        self.kill_exits
            .iter()
            .copied()
            .filter(|&i| ev[i].pid.is_none_or(|p| !self.timeout_pids.contains(&p)))
            .collect()
    }

    /// SIGKILLs with a kernel OOM kill of the same pid: OOM kills.
    pub fn oom_kill_exits(&self, ev: &[Event]) -> Vec<usize> {
        let oom: BTreeSet<u32> = self.oom_php.iter().filter_map(|&i| ev[i].pid).collect();
        self.kills(ev)
            .into_iter()
            .filter(|&i| ev[i].pid.is_some_and(|p| oom.contains(&p)))
            .collect()
    }

    /// SIGKILLs with no OOM kill of that pid: killed from outside.
    pub fn outside_kills(&self, ev: &[Event]) -> Vec<usize> {
        let oom: BTreeSet<u32> = self.oom_php.iter().filter_map(|&i| ev[i].pid).collect();
        self.kills(ev)
            .into_iter()
            .filter(|&i| ev[i].pid.is_none_or(|p| !oom.contains(&p)))
            .collect()
    }

    /// The pools the episode's failures involve: of the pool that reached
    /// its limit, of the children that died on a signal or hit
    /// `request_terminate_timeout`, of the slow requests on a path that
    /// failed, and of the sockets nginx failed on when their name carries
    /// a pool's (`php-fpm-www.sock`). Empty when none can be told.
    pub fn failing_pools<'e>(&self, ev: &'e [Event]) -> BTreeSet<&'e [u8]> {
        // The failed paths, read only when a slow request asks (an
        // episode of a bad day has a hundred thousand failures), each
        // interned value once.
        let failed_paths: BTreeSet<&[u8]> = if self.slow.is_empty() {
            BTreeSet::new()
        } else {
            distinct_values(self.origin.iter().filter_map(|&m| ev[m].path.as_deref()))
        };
        let mut set: BTreeSet<&[u8]> = self
            .max_children
            .iter()
            .chain(&self.crash_exits)
            .chain(&self.kill_exits)
            .chain(&self.timeouts)
            .chain(self.slow.iter().filter(|&&i| {
                ev[i]
                    .path
                    .as_deref()
                    .is_some_and(|p| failed_paths.contains(p))
            }))
            .filter_map(|&i| ev[i].pool.as_deref())
            .collect();
        let known: BTreeSet<&[u8]> = self.pools(ev).into_iter().collect();
        if known.is_empty() {
            return set;
        }
        let sockets = distinct_values(
            self.upstream
                .iter()
                .filter_map(|&u| ev[u].upstream.as_deref()),
        );
        for sock in sockets {
            let name = sock.rsplit(|b| *b == b'/').next().unwrap_or(sock);
            for word in name.split(|b| !b.is_ascii_alphanumeric() && *b != b'_') {
                if let Some(p) = known.get(word) {
                    set.insert(*p);
                }
            }
        }
        set
    }

    /// The slow traces of the pools the failures involve
    /// ([`Gathered::failing_pools`]), with those whose pool is not said;
    /// every trace when no pool can be told.
    pub fn own_traces(&self, ev: &[Event]) -> Vec<usize> {
        let pools = self.failing_pools(ev);
        if pools.is_empty() {
            return self.traces.clone();
        }
        self.traces
            .iter()
            .copied()
            .filter(|&i| ev[i].pool.as_deref().is_none_or(|p| pools.contains(p)))
            .collect()
    }

    /// The pools of the episode's own FPM lines.
    pub fn pools<'e>(&self, ev: &'e [Event]) -> Vec<&'e [u8]> {
        let set: BTreeSet<&[u8]> = self
            .max_children
            .iter()
            .chain(&self.exits)
            .chain(&self.traces)
            .chain(&self.slow)
            .chain(&self.timeouts)
            .filter_map(|&i| ev[i].pool.as_deref())
            .collect();
        set.into_iter().collect()
    }
}

/// The distinct byte strings of `values`: each shared (interned) value
/// looked at once by its address, then compared by its bytes.
fn distinct_values<'e>(values: impl Iterator<Item = &'e [u8]>) -> BTreeSet<&'e [u8]> {
    let mut seen: crate::index::IndexMap<usize, &'e [u8]> = Default::default();
    for v in values {
        seen.entry(v.as_ptr() as usize).or_insert(v);
    }
    seen.into_values().collect()
}

/// The bounds of every episode, exclusive of each other.
pub(crate) fn bounds(idx: &Index, episodes: &[Episode], window_s: u32) -> Vec<Bounds> {
    let ev = idx.ev;
    let w = window_s as i64 * S;
    let mut out: Vec<Bounds> = Vec::with_capacity(episodes.len());
    for (n, e) in episodes.iter().enumerate() {
        let start = us(&ev[e.members[0]]);
        let end = us(&ev[*e.members.last().unwrap_or(&e.members[0])]);
        let earliest = e
            .members
            .iter()
            .filter_map(|&i| ev[i].start())
            .map(|t| t.unix_us)
            .min()
            .unwrap_or(start)
            .min(start);
        let floor = out.last().map_or(i64::MIN, |p: &Bounds| p.to + 1);
        let next = episodes
            .get(n + 1)
            .map_or(i64::MAX, |x| us(&ev[x.members[0]]) - 1);
        out.push(Bounds {
            start,
            end,
            from: (earliest - w).max(floor),
            to: (end + SLACK_S * S).min(next),
            recovery: (end + w).min(next),
        });
    }
    out
}

/// Gathers every episode's evidence; each event goes to one episode.
/// Returns the evidence and the events it claimed.
pub(crate) fn gather(
    idx: &Index,
    joined: &Joined,
    episodes: &[Episode],
    bounds: &[Bounds],
) -> (Vec<Gathered>, IndexSet) {
    let mut claimed = IndexSet::default();
    let none = IndexSet::default();
    let g = episodes
        .iter()
        .zip(bounds)
        .map(|(e, b)| gather_one(idx, joined, &e.members, *b, &mut claimed, &none))
        .collect();
    (g, claimed)
}

/// Gathers the evidence around a set of gateway errors (an episode, or a
/// lone background failure), skipping events already `claimed`.
pub(crate) fn gather_one(
    idx: &Index,
    joined: &Joined,
    members: &[usize],
    b: Bounds,
    claimed: &mut IndexSet,
    exclude: &IndexSet,
) -> Gathered {
    let ev = idx.ev;
    let (from, to) = (b.from, b.to);
    let mut g = Gathered::default();
    let take = |v: &[usize], claimed: &mut IndexSet| -> Vec<usize> {
        v.iter()
            .copied()
            .filter(|i| !exclude.contains(i) && claimed.insert(*i))
            .collect()
    };

    // Upstream errors: the ones matched to members, and the unmatched ones
    // logged during the episode.
    // A vector sorted and deduplicated, not a set: an episode of a bad day
    // has a hundred thousand of them.
    let mut ups: Vec<usize> = members
        .iter()
        .filter_map(|&m| joined.upstream_of(ev, m))
        .chain(
            idx.between(EventKind::UpstreamError, b.start - S, b.end + S)
                .iter()
                .copied()
                .filter(|u| !joined.matched_up.contains(u)),
        )
        .collect();
    ups.sort_unstable();
    ups.dedup();
    // In time order, ties in index order, by keys read once.
    let mut keyed: Vec<(i64, usize)> = ups.iter().map(|&i| (us(&ev[i]), i)).collect();
    keyed.sort_unstable();
    g.upstream = keyed.into_iter().map(|k| k.1).collect();
    for &u in &g.upstream {
        if let Some(k) = ev[u].upstream_kind {
            *g.up_kinds.entry(k).or_default() += 1;
        }
        if ev[u].fatal {
            g.fatal.push(u);
        }
    }

    // FPM events.
    g.max_children = take(idx.between(EventKind::FpmMaxChildren, from, to), claimed);
    g.seems_busy = take(idx.between(EventKind::FpmSeemsBusy, from, to), claimed);
    g.slow = take(idx.between(EventKind::FpmSlowRequest, from, to), claimed);
    g.timeouts = take(
        idx.between(EventKind::FpmExecutionTimeout, from, to),
        claimed,
    );
    g.timeout_pids = g.timeouts.iter().filter_map(|&i| ev[i].pid).collect();
    g.exits = take(idx.between(EventKind::FpmChildExit, from, to), claimed);
    for &x in &g.exits {
        match ev[x].detail().signal.as_deref() {
            Some("SIGSEGV" | "SIGBUS" | "SIGABRT" | "SIGILL" | "SIGFPE") => g.crash_exits.push(x),
            Some("SIGKILL") => g.kill_exits.push(x),
            _ => {}
        }
    }
    // PHP fatal errors: relayed by nginx, or in php-fpm's worker output.
    let fatal: Vec<usize> = [EventKind::PhpMessage, EventKind::FpmOther]
        .iter()
        .flat_map(|&k| idx.between(k, from, to).iter().copied())
        .filter(|&i| ev[i].fatal)
        .collect();
    g.fatal.extend(take(&fatal, claimed));
    g.traces = take(idx.between(EventKind::SlowlogTrace, from, to), claimed);
    // Slow queries: logged when they finished, so one that ran into the
    // window may be logged up to its Query_time after it.
    let running: Vec<usize> = idx
        .between(
            EventKind::MysqlSlowQuery,
            from,
            to.saturating_add(QUERY_MAX_S * S),
        )
        .iter()
        .copied()
        .filter(|&i| ev[i].start().is_some_and(|s| s.unix_us <= to))
        .collect();
    g.queries = take(&running, claimed);

    // What the dying children were serving: the last path their pid
    // was seen on before it died (a child serves many requests).
    let dead: BTreeMap<u32, i64> = g
        .exits
        .iter()
        .filter_map(|&i| Some((ev[i].pid?, us(&ev[i]))))
        .collect();
    let mut seen: BTreeMap<u32, (bool, i64)> = BTreeMap::new();
    for &i in g.slow.iter().chain(&g.timeouts).chain(&g.traces) {
        if let (Some(p), Some(path)) = (ev[i].pid, ev[i].path.as_deref())
            && let Some(&died) = dead.get(&p)
        {
            // Lines up to its death rank by time; a later line (a clock
            // off) only when nothing came before.
            let t = us(&ev[i]);
            let rank = (t <= died, if t <= died { t } else { -t });
            if seen.get(&p).is_none_or(|r| rank > *r) {
                seen.insert(p, rank);
                g.pid_paths.insert(p, path.to_vec());
            }
        }
    }

    // Kernel: in the window, or near it when the pid is a child that died
    // in the episode (dmesg -T clocks drift; raw dmesg has no clock).
    let near = |k: EventKind, claimed: &mut IndexSet| -> Vec<usize> {
        let by_pid = |i: usize| ev[i].pid.is_some_and(|p| dead.contains_key(&p));
        let mut v: Vec<usize> = idx
            .between(k, from - KERNEL_DRIFT_S * S, to + KERNEL_DRIFT_S * S)
            .iter()
            .copied()
            .filter(|&i| {
                let t = us(&ev[i]);
                (t >= from && t <= to) || by_pid(i)
            })
            .collect();
        v.extend(
            idx.untimed_kernel
                .iter()
                .copied()
                .filter(|&i| ev[i].kind == Some(k) && by_pid(i)),
        );
        v.into_iter()
            .filter(|i| !exclude.contains(i) && claimed.insert(*i))
            .collect()
    };
    for i in near(EventKind::KernelOomKill, claimed) {
        if is_php(&ev[i]) {
            g.oom_php.push(i);
        } else {
            g.oom_other.push(i);
        }
    }
    g.segv_kernel = near(EventKind::KernelSegfault, claimed)
        .into_iter()
        .filter(|&i| is_php(&ev[i]))
        .collect();

    // The master's life: stops before the last error, starts (the
    // recovery) up to a window after it.
    for k in [EventKind::FpmRestart, EventKind::FpmReload] {
        let seen = take(idx.between(k, from, b.recovery), claimed);
        for i in seen {
            match ev[i].step {
                Some(MasterStep::Stop) if us(&ev[i]) <= b.end => g.master_stop.push(i),
                Some(MasterStep::Start) => g.master_start.push(i),
                Some(MasterStep::Reload) => g.reloads.push(i),
                _ => {}
            }
        }
    }
    g.restarts = g
        .master_start
        .iter()
        .filter(|&&s| {
            let t = us(&ev[s]);
            !g.reloads
                .iter()
                .any(|&r| us(&ev[r]) <= t && t - us(&ev[r]) <= 10 * S)
        })
        .count() as u64;

    g.status_499 = idx
        .between(EventKind::Request, b.start, b.end)
        .iter()
        .filter(|&&i| ev[i].status == Some(499))
        .count() as u64;
    for &m in members {
        if ev[m].kind == Some(EventKind::EdgeRequest) {
            g.edge.push(m);
        } else {
            g.origin.push(m);
        }
    }
    g
}

/// The paths of a set of pids, most common first.
pub(crate) fn paths_of(g: &Gathered, ev: &[Event], exits: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for &x in exits {
        if let Some(p) = ev[x].pid.and_then(|p| g.pid_paths.get(&p)) {
            let s = lossy(p);
            if !v.contains(&s) {
                v.push(s);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Input;
    use crate::join::join;
    use crate::testkit::{T0, child_exit, fpm, index, kernel, master, numbered, request, us_at};
    use baton_logparse::summary::TimeRange;
    use baton_logparse::{Timestamp, Zone};

    /// Everything under an access log covering two hours around T0.
    fn input() -> Input {
        let mut r = TimeRange::default();
        r.add(Timestamp::from_unix(T0 - 3600, 0));
        r.add(Timestamp::from_unix(T0 + 3600, 0));
        Input {
            access_ranges: vec![r],
            ..Input::default()
        }
    }

    fn episode(members: &[usize]) -> Episode {
        Episode {
            members: members.to_vec(),
        }
    }

    #[test]
    fn bounds_of_neighbouring_episodes_never_overlap() {
        let ev = numbered(vec![
            // 0: the first episode's first 502, a request that ran 30 s.
            Event {
                seconds: Some(30.0),
                ..request(0, 502, "/checkout/", 1)
            },
            request(20, 502, "/checkout/", 2),
            // 2, 3: the next episode starts 3 s after the first ends.
            request(23, 502, "/cart/", 3),
            request(40, 502, "/cart/", 4),
        ]);
        let idx = index(&ev);
        let b = bounds(&idx, &[episode(&[0, 1]), episode(&[2, 3])], 60);
        assert_eq!(b[0].start, us_at(0));
        assert_eq!(b[0].end, us_at(20));
        // The window reaches back from when the first request started.
        assert_eq!(b[0].from, us_at(-30 - 60));
        // The 5 s of slack after its end stop short of the next episode...
        assert_eq!(b[0].to, us_at(23) - 1);
        assert_eq!(b[0].recovery, us_at(23) - 1);
        // ...whose lead-in starts where the first's evidence ends, not a
        // window before its first error.
        assert_eq!(b[1].from, b[0].to + 1);
        assert!(b[1].from > b[0].to);
        assert_eq!(b[1].to, us_at(40 + SLACK_S));
        assert_eq!(b[1].recovery, us_at(40 + 60));
    }

    #[test]
    fn each_fpm_line_goes_to_one_episode() {
        let ev = numbered(vec![
            request(0, 502, "/", 1),
            request(5, 502, "/", 2),
            request(10, 502, "/", 3),
            request(100, 502, "/shop/", 4),
            request(105, 502, "/shop/", 5),
            request(110, 502, "/shop/", 6),
            // 6: max_children just before the first episode.
            fpm(-5, EventKind::FpmMaxChildren),
            // 7: max_children in the second episode's lead-in.
            fpm(60, EventKind::FpmMaxChildren),
            // 8: the master starting 40 s after the first episode: its
            // recovery, inside the second's lead-in too.
            master(50, MasterStep::Start),
        ]);
        let idx = index(&ev);
        let input = input();
        let joined = join(&idx, &input, Zone::UTC);
        let eps = [episode(&[0, 1, 2]), episode(&[3, 4, 5])];
        let b = bounds(&idx, &eps, 60);
        let (g, claimed) = gather(&idx, &joined, &eps, &b);
        assert_eq!(g[0].max_children, vec![6]);
        assert_eq!(g[1].max_children, vec![7]);
        // The earlier episode claims the start: the second does not count
        // a restart it never saw.
        assert_eq!(g[0].master_start, vec![8]);
        assert_eq!(g[0].restarts, 1);
        assert!(g[1].master_start.is_empty());
        assert_eq!(g[1].restarts, 0);
        for i in [6, 7, 8] {
            assert!(claimed.contains(&i), "line {i} unclaimed");
        }
        assert_eq!(g[0].origin, vec![0, 1, 2]);
        assert_eq!(g[1].origin, vec![3, 4, 5]);
    }

    #[test]
    fn kernel_lines_of_a_child_that_died_in_the_episode_join_by_pid() {
        let ev = numbered(vec![
            request(0, 502, "/wp-admin/admin-ajax.php", 1),
            request(5, 502, "/wp-admin/admin-ajax.php", 2),
            request(10, 502, "/wp-admin/admin-ajax.php", 3),
            // 3, 4: two children die in the episode.
            child_exit(8, 4242, "SIGKILL"),
            child_exit(9, 4243, "SIGSEGV"),
            // 5: the OOM kill of 4242, logged 3 minutes late (dmesg -T).
            kernel(Some(190), EventKind::KernelOomKill, 4242, "php-fpm8.2"),
            // 6: an OOM kill of a pid that did not die here, as late.
            kernel(Some(190), EventKind::KernelOomKill, 999, "php-fpm8.2"),
            // 7: 4243's segfault in raw dmesg, with no clock at all.
            kernel(None, EventKind::KernelSegfault, 4243, "php-fpm8.2"),
            // 8: mysqld OOM-killed inside the window: memory pressure.
            kernel(Some(4), EventKind::KernelOomKill, 1200, "mysqld"),
        ]);
        let idx = index(&ev);
        let input = input();
        let joined = join(&idx, &input, Zone::UTC);
        let eps = [episode(&[0, 1, 2])];
        let b = bounds(&idx, &eps, 60);
        let (g, claimed) = gather(&idx, &joined, &eps, &b);
        let g = &g[0];
        assert_eq!(g.kill_exits, vec![3]);
        assert_eq!(g.crash_exits, vec![4]);
        assert_eq!(g.oom_php, vec![5]);
        assert_eq!(g.oom_other, vec![8]);
        assert_eq!(g.segv_kernel, vec![7]);
        assert!(!claimed.contains(&6));
        // The SIGKILL with its kernel OOM line is an OOM kill, not a kill
        // from outside.
        assert_eq!(g.oom_kill_exits(&ev), vec![3]);
        assert!(g.outside_kills(&ev).is_empty());
    }
}
