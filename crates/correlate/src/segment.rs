//! Stage 2, segment: gateway errors cut into failure episodes against the
//! background, and each episode into its phases.
//!
//! The rules, as an on-call engineer reads an error graph:
//! - Errors closer together than a burst gap (90 s; less when the site
//!   fails every minute anyway) are one burst.
//! - A burst is a failure when it has at least [`MIN_ERRORS`] errors at ten
//!   times the background rate or more; the background rate is what the
//!   lone errors (bursts of one or two) add up to over the window.
//! - Failures of the same mode (refused/missing socket, permission,
//!   saturation/timeouts, broken connections, edge) separated by a lull of
//!   at most [`LULL_S`] are one episode: a deploy that restarts php-fpm
//!   three times is one incident. Lone errors of that mode inside the lull
//!   belong to it.
//! - A short refused/missing-socket burst while php-fpm restarted, within
//!   the lull of an episode of another mode, is a phase of that episode
//!   (the restart that caused or fixed it), not an incident of its own.
//! - Everything else stays apart: two independent failures of different
//!   modes with a return to the background between them are two incidents.

use std::collections::HashMap;

use baton_logparse::EventKind;
use baton_logparse::event::MasterStep;

use crate::index::{Index, S, us};
use crate::model::PhaseClass;

/// The fewest gateway errors a failure burst has.
pub(crate) const MIN_ERRORS: usize = 3;
/// Bursts further apart than this never join, whatever the background.
const GAP_S: i64 = 90;
/// Bursts of one mode at most this far apart are one episode.
pub(crate) const LULL_S: i64 = 300;
/// Two errors this close, failing the same way, are a burst.
const PAIR_S: i64 = 10;
/// Lone errors of an episode's mode this close before it are its start,
/// and this close after it its end.
const LEAD_S: i64 = 180;
/// How many times the background rate a burst must reach.
const ABOVE_BACKGROUND: f64 = 10.0;

/// Coarse failure modes: what decides whether two bursts are one story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    Down,
    Permission,
    Load,
    Broken,
    Edge,
    Other,
}

pub(crate) fn mode_of(c: PhaseClass) -> Mode {
    match c {
        PhaseClass::Refused | PhaseClass::MissingSocket => Mode::Down,
        PhaseClass::Permission => Mode::Permission,
        PhaseClass::Saturation | PhaseClass::Timeout => Mode::Load,
        PhaseClass::BrokenConnection => Mode::Broken,
        PhaseClass::Edge => Mode::Edge,
        PhaseClass::Other => Mode::Other,
    }
}

/// One failure episode: its gateway errors in time order.
#[derive(Debug, Clone)]
pub(crate) struct Episode {
    pub members: Vec<usize>,
}

/// The episodes, and the gateway errors in none (the background).
pub(crate) struct Segments {
    pub episodes: Vec<Episode>,
    pub background: Vec<usize>,
}

struct Burst {
    members: Vec<usize>,
    failure: bool,
    mode: Option<Mode>,
}

/// The dominant mode of a set of gateway errors.
fn dominant(members: &[usize], class: &crate::join::ByIndex<PhaseClass>) -> Option<Mode> {
    let mut n: Vec<(Mode, usize)> = Vec::new();
    for m in members {
        if let Some(c) = class.get(m) {
            let k = mode_of(*c);
            match n.iter_mut().find(|x| x.0 == k) {
                Some(x) => x.1 += 1,
                None => n.push((k, 1)),
            }
        }
    }
    n.into_iter().max_by_key(|x| x.1).map(|x| x.0)
}

/// Cuts `gateway` (time order) into episodes; `upstream` names the
/// upstream each gateway error failed on, where known.
pub(crate) fn segment<'e>(
    idx: &Index,
    gateway: &[usize],
    class: &crate::join::ByIndex<PhaseClass>,
    upstream: &dyn Fn(usize) -> Option<&'e [u8]>,
    window_s: f64,
) -> Segments {
    let ev = idx.ev;
    if gateway.is_empty() {
        return Segments {
            episodes: Vec::new(),
            background: Vec::new(),
        };
    }
    let span_s = window_s.max(3600.0);
    // A site that fails every minute anyway: bursts need tighter spacing.
    let mut per_minute: HashMap<i64, u32> = HashMap::new();
    for &g in gateway {
        *per_minute
            .entry((us(&ev[g]) / S).div_euclid(60))
            .or_default() += 1;
    }
    let minutes = (span_s / 60.0).ceil() as usize;
    let busy = per_minute.len();
    let gap_us = if busy * 2 > minutes {
        let mut counts: Vec<u32> = per_minute.values().copied().collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2].max(1) as f64;
        ((6.0 / median).clamp(5.0, GAP_S as f64) * S as f64) as i64
    } else {
        GAP_S * S
    };

    let mut chains: Vec<Vec<usize>> = Vec::new();
    for &g in gateway {
        let t = us(&ev[g]);
        match chains.last_mut() {
            Some(b) if t - us(&ev[*b.last().unwrap_or(&g)]) <= gap_us => b.push(g),
            _ => chains.push(vec![g]),
        }
    }
    let mut bursts: Vec<Burst> = chains
        .into_iter()
        .flat_map(|c| refine(idx, c, class, upstream))
        .map(|members| Burst {
            members,
            failure: false,
            mode: None,
        })
        .collect();
    let lone: usize = bursts
        .iter()
        .filter(|b| b.members.len() < MIN_ERRORS)
        .map(|b| b.members.len())
        .sum();
    let background_rate = lone.max(1) as f64 / span_s;
    for b in &mut bursts {
        let dur = ((us(&ev[*b.members.last().unwrap_or(&0)]) - us(&ev[b.members[0]])) / S).max(60);
        let n = b.members.len();
        // Two requests failing the same way within seconds are one event
        // that hit two requests (two workers crashing on one request
        // pattern), not two lone failures.
        let pair = n == 2 && {
            let (a, z) = (b.members[0], b.members[1]);
            us(&ev[z]) - us(&ev[a]) <= PAIR_S * S
                && class.get(&a).is_some()
                && class.get(&a) == class.get(&z)
        };
        b.failure = (n >= MIN_ERRORS || pair)
            && n as f64 / dur as f64 >= ABOVE_BACKGROUND * background_rate;
        b.mode = dominant(&b.members, class);
    }

    // Join failure bursts into episodes.
    // php-fpm restarting across a burst: a stop or reload shortly before
    // or during it, or a start during it or just after.
    let restarting = |from: i64, to: i64| {
        [EventKind::FpmRestart, EventKind::FpmReload]
            .iter()
            .any(|&k| {
                idx.between(k, from - 10 * S, to + 5 * S).iter().any(|&i| {
                    let t = us(&ev[i]);
                    match ev[i].step {
                        Some(MasterStep::Stop | MasterStep::Reload) => t <= to,
                        Some(MasterStep::Start) => t >= from,
                        _ => false,
                    }
                })
            })
    };
    let first = |b: &Burst| us(&ev[b.members[0]]);
    let last = |b: &Burst| us(&ev[*b.members.last().unwrap_or(&b.members[0])]);
    // A restart blip: a short refused/missing burst while php-fpm restarted.
    let blip = |b: &Burst| {
        b.mode == Some(Mode::Down) && last(b) - first(b) <= 120 * S && restarting(first(b), last(b))
    };
    let failures: Vec<usize> = (0..bursts.len()).filter(|&i| bursts[i].failure).collect();
    // Groups of failure bursts (indexes into `bursts`), in time order.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in &failures {
        let b = &bursts[i];
        let joins = groups.last().is_some_and(|grp| {
            let p = *grp.last().unwrap_or(&i);
            let mode_of_group = grp
                .iter()
                .map(|&j| &bursts[j])
                .filter(|x| !blip(x))
                .find_map(|x| x.mode);
            // The lull is measured across lone errors of the same mode
            // between them: they are the failure going on at a low rate.
            let mut reach = last(&bursts[p]);
            for x in &bursts[p + 1..i] {
                let alike = x.mode.is_none() || mode_of_group.is_none() || x.mode == mode_of_group;
                if !alike || first(x) - reach > LULL_S * S {
                    break;
                }
                reach = last(x);
            }
            let close = first(b) - reach <= LULL_S * S;
            let same = match (mode_of_group, b.mode) {
                (Some(a), Some(c)) => a == c,
                _ => true,
            };
            close && (same || blip(b) || grp.iter().all(|&j| blip(&bursts[j])))
        });
        if joins {
            if let Some(grp) = groups.last_mut() {
                grp.push(i);
            }
        } else {
            groups.push(vec![i]);
        }
    }

    let mut in_episode = vec![false; bursts.len()];
    let mut episodes = Vec::new();
    for (g, grp) in groups.iter().enumerate() {
        let (mut a, mut z) = (grp[0], *grp.last().unwrap_or(&grp[0]));
        // Lone errors of the same mode in the minutes just after the last
        // burst are its end: the failure petering out, not a new one
        // (never past the next group's first burst).
        let next = groups.get(g + 1).map_or(bursts.len(), |n| n[0]);
        let tail_mode = bursts[z].mode;
        while z + 1 < next
            && !bursts[z + 1].failure
            && bursts[z + 1].mode.is_some()
            && bursts[z + 1].mode == tail_mode
            && first(&bursts[z + 1]) - last(&bursts[z]) <= LEAD_S * S
        {
            z += 1;
        }
        // Lone errors of the same mode in the minutes just before the first
        // burst are its start: the first broken handoff came before the
        // failures piled up.
        let mode = bursts[a].mode;
        while a > 0
            && !bursts[a - 1].failure
            && !in_episode[a - 1]
            && bursts[a - 1].mode.is_some()
            && bursts[a - 1].mode == mode
            && first(&bursts[a]) - last(&bursts[a - 1]) <= LEAD_S * S
        {
            a -= 1;
        }

        let modes: Vec<Option<Mode>> = grp.iter().map(|&j| bursts[j].mode).collect();
        let mut members = Vec::new();
        for (j, b) in bursts.iter().enumerate().take(z + 1).skip(a) {
            // Lone errors inside the lull belong to the episode when they
            // failed the same way.
            let inside = b.failure
                || b.mode.is_none()
                || modes.contains(&b.mode)
                || modes.iter().any(Option::is_none);
            if inside {
                members.extend_from_slice(&b.members);
                in_episode[j] = true;
            }
        }
        episodes.push(Episode { members });
    }
    let background = bursts
        .iter()
        .enumerate()
        .filter(|(j, _)| !in_episode[*j])
        .flat_map(|(_, b)| b.members.iter().copied())
        .collect();
    Segments {
        episodes,
        background,
    }
}

/// Cuts a chain of gateway errors where two independent failures meet:
/// at a pause that is long for the chain's own pace (at least 20 s and ten
/// times its median spacing) when the failure mode differs across it, and
/// at a change of mode between runs that failed on different upstreams
/// (another socket, another pool) with no pause at all.
fn refine<'e>(
    idx: &Index,
    chain: Vec<usize>,
    class: &crate::join::ByIndex<PhaseClass>,
    upstream: &dyn Fn(usize) -> Option<&'e [u8]>,
) -> Vec<Vec<usize>> {
    let ev = idx.ev;
    if chain.len() < 2 * MIN_ERRORS {
        return vec![chain];
    }
    let t = |i: usize| us(&ev[chain[i]]);
    let mut gaps: Vec<i64> = (1..chain.len()).map(|i| t(i) - t(i - 1)).collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let lull = (20 * S).max(10 * median);
    // Pieces between pauses; neighbours of one mode rejoin.
    let mut pieces: Vec<Vec<usize>> = vec![vec![chain[0]]];
    for (i, &g) in chain.iter().enumerate().skip(1) {
        if t(i) - t(i - 1) >= lull {
            pieces.push(Vec::new());
        }
        if let Some(p) = pieces.last_mut() {
            p.push(g);
        }
    }
    let mut joined: Vec<Vec<usize>> = Vec::new();
    for p in pieces {
        match joined.last_mut() {
            Some(q)
                if dominant(q, class) == dominant(&p, class) || dominant(&p, class).is_none() =>
            {
                q.extend(p)
            }
            _ => joined.push(p),
        }
    }
    // Inside a piece: a change of mode onto other upstreams.
    let mut out = Vec::new();
    for p in joined {
        let fine: Vec<PhaseClass> = p
            .iter()
            .map(|m| class.get(m).copied().unwrap_or(PhaseClass::Other))
            .collect();
        let runs = mode_runs(&fine, MIN_ERRORS);
        let mut cut = 0;
        for w in runs.windows(2) {
            let (a, b) = (w[0], w[1]);
            let ups = |r: (usize, usize)| -> std::collections::BTreeSet<&'e [u8]> {
                p[r.0..r.1].iter().filter_map(|&m| upstream(m)).collect()
            };
            let (ua, ub) = (ups(a), ups(b));
            if !ua.is_empty() && !ub.is_empty() && ua.is_disjoint(&ub) {
                out.push(p[cut..b.0].to_vec());
                cut = b.0;
            }
        }
        out.push(p[cut..].to_vec());
    }
    out
}

/// One phase before it is written out: members and class.
pub(crate) struct PhaseRun {
    pub members: Vec<usize>,
    pub class: PhaseClass,
}

/// Cuts an episode into phases: runs of one failure mode, short runs
/// (fewer than [`MIN_ERRORS`]) folded into their neighbour; a load run
/// split once where pure timeouts turn into a saturated pool (or back).
pub(crate) fn phases(members: &[usize], class: &crate::join::ByIndex<PhaseClass>) -> Vec<PhaseRun> {
    if members.is_empty() {
        return Vec::new();
    }
    // Fine classes, unknowns taking the previous (else the next) known one.
    let mut fine: Vec<Option<PhaseClass>> = members.iter().map(|m| class.get(m).copied()).collect();
    let mut prev = None;
    for c in fine.iter_mut() {
        if c.is_none() {
            *c = prev;
        }
        prev = *c;
    }
    let mut next = None;
    for c in fine.iter_mut().rev() {
        if c.is_none() {
            *c = next;
        }
        next = *c;
    }
    let fine: Vec<PhaseClass> = fine
        .into_iter()
        .map(|c| c.unwrap_or(PhaseClass::Other))
        .collect();

    let mut min_run = MIN_ERRORS;
    let runs = loop {
        let runs = mode_runs(&fine, min_run);
        if runs.len() <= 4 || min_run >= members.len() {
            break runs;
        }
        min_run = (min_run * 2).max(members.len() / 10);
    };

    let mut out = Vec::new();
    for (a, b) in runs {
        let cls = &fine[a..b];
        let mut counts: Vec<(PhaseClass, usize)> = Vec::new();
        for c in cls {
            match counts.iter_mut().find(|x| x.0 == *c) {
                Some(x) => x.1 += 1,
                None => counts.push((*c, 1)),
            }
        }
        let mut modes: Vec<(Mode, usize)> = Vec::new();
        for (c, n) in &counts {
            match modes.iter_mut().find(|x| x.0 == mode_of(*c)) {
                Some(x) => x.1 += n,
                None => modes.push((mode_of(*c), *n)),
            }
        }
        let mode = modes
            .iter()
            .max_by_key(|x| x.1)
            .map_or(Mode::Other, |x| x.0);
        let majority = counts
            .iter()
            .filter(|x| mode_of(x.0) == mode)
            .max_by_key(|x| x.1)
            .map_or(PhaseClass::Other, |x| x.0);
        match mode {
            Mode::Load => {
                for (x, y) in load_split(cls) {
                    let timeouts = cls[x..y]
                        .iter()
                        .filter(|c| **c == PhaseClass::Timeout)
                        .count();
                    let c = if timeouts * 10 >= (y - x) * 9 {
                        PhaseClass::Timeout
                    } else {
                        PhaseClass::Saturation
                    };
                    out.push(PhaseRun {
                        members: members[a + x..a + y].to_vec(),
                        class: c,
                    });
                }
            }
            Mode::Down => {
                let refused = cls.iter().filter(|c| **c == PhaseClass::Refused).count();
                let c = if refused * 2 >= cls.len() {
                    PhaseClass::Refused
                } else {
                    PhaseClass::MissingSocket
                };
                out.push(PhaseRun {
                    members: members[a..b].to_vec(),
                    class: c,
                });
            }
            _ => out.push(PhaseRun {
                members: members[a..b].to_vec(),
                class: majority,
            }),
        }
    }
    out
}

/// Runs of one mode as `[start, end)` ranges; runs shorter than `min_run`
/// fold into the previous run (the first into the next).
fn mode_runs(fine: &[PhaseClass], min_run: usize) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize, Mode)> = Vec::new();
    for (i, c) in fine.iter().enumerate() {
        let m = mode_of(*c);
        match runs.last_mut() {
            Some(r) if r.2 == m => r.1 = i + 1,
            _ => runs.push((i, i + 1, m)),
        }
    }
    // Fold short runs until none is left (or one run remains).
    while let Some(k) = (0..runs.len()).find(|&k| runs[k].1 - runs[k].0 < min_run) {
        if runs.len() == 1 {
            break;
        }
        if k == 0 {
            runs[1].0 = runs[0].0;
            runs.remove(0);
        } else {
            runs[k - 1].1 = runs[k].1;
            runs.remove(k);
        }
        // Neighbours of one mode now touch: merge them.
        let mut merged: Vec<(usize, usize, Mode)> = Vec::new();
        for r in runs.drain(..) {
            match merged.last_mut() {
                Some(p) if p.2 == r.2 => p.1 = r.1,
                _ => merged.push(r),
            }
        }
        runs = merged;
    }
    runs.into_iter().map(|(a, b, _)| (a, b)).collect()
}

/// Splits a load run once where nearly pure timeouts (≥ 90 %) turn into a
/// saturated pool (≤ 60 % timeouts), or back, each side at least 5 errors.
fn load_split(cls: &[PhaseClass]) -> Vec<(usize, usize)> {
    let n = cls.len();
    if n < 10 {
        return vec![(0, n)];
    }
    let timeouts: Vec<usize> = std::iter::once(0)
        .chain(cls.iter().scan(0, |s, c| {
            *s += usize::from(*c == PhaseClass::Timeout);
            Some(*s)
        }))
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for k in 5..=n - 5 {
        let before = timeouts[k] as f64 / k as f64;
        let after = (timeouts[n] - timeouts[k]) as f64 / (n - k) as f64;
        let clear = (before >= 0.9 && after <= 0.6) || (after >= 0.9 && before <= 0.6);
        let d = (before - after).abs();
        if clear && best.is_none_or(|b| d > b.1) {
            best = Some((k, d));
        }
    }
    match best {
        Some((k, _)) => vec![(0, k), (k, n)],
        None => vec![(0, n)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PhaseClass::*;

    fn classes(v: &[PhaseClass]) -> (Vec<usize>, crate::join::ByIndex<PhaseClass>) {
        let m: Vec<usize> = (0..v.len()).collect();
        (m, v.iter().copied().enumerate().collect())
    }

    #[test]
    fn restart_permission_restart_is_three_phases() {
        let mut v = vec![Refused; 7];
        v.extend(vec![Permission; 50]);
        v.extend(vec![Refused, MissingSocket, Refused]);
        let (m, c) = classes(&v);
        let p = phases(&m, &c);
        let got: Vec<(PhaseClass, usize)> = p.iter().map(|p| (p.class, p.members.len())).collect();
        assert_eq!(got, vec![(Refused, 7), (Permission, 50), (Refused, 3)]);
    }

    #[test]
    fn mixed_saturation_is_one_phase_and_a_stray_error_no_phase() {
        let mut v = Vec::new();
        for i in 0..40 {
            v.push(if i % 3 == 0 { Timeout } else { Saturation });
        }
        v.insert(20, BrokenConnection);
        let (m, c) = classes(&v);
        let p = phases(&m, &c);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].class, Saturation);
        assert_eq!(p[0].members.len(), 41);
    }

    #[test]
    fn slow_calls_then_a_saturated_pool_are_two_phases() {
        let mut v = vec![Timeout; 12];
        for i in 0..30 {
            v.push(if i % 2 == 0 { Timeout } else { Saturation });
        }
        let (m, c) = classes(&v);
        let p = phases(&m, &c);
        let got: Vec<PhaseClass> = p.iter().map(|p| p.class).collect();
        assert_eq!(got, vec![Timeout, Saturation]);
        assert!(p[0].members.len() >= 12);
    }
}
