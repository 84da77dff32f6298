//! A failure-heavy day (`--heavy`): 24 h in which about 1 % of the
//! requests are gateway errors, in a few long incidents and an hourly
//! background of lone 502s and 504s.
//!
//! The incidents are the plain plan's kinds (`Builder::add`), drawn per
//! seed, 30 to 90 min each, so php-fpm.log, the slowlog and kern.log carry
//! each kind's evidence as in any set. What makes the day heavy is a
//! [`Storm`] over each incident's window: a share of the background
//! requests of the window fail the kind's way (its upstream errors, its
//! error-log lines), drawn as the stream is written, so the failures cost
//! no memory however large the set. The share is set so that the day's
//! gateway errors come to [`GATEWAY_SHARE`] of its requests at any rate.
//!
//! Only kinds that can last an hour and fail part of the traffic are
//! drawn: a stopped php-fpm, a refused socket or both API servers down
//! fail every request while they last (the plain plan keeps those to a
//! few minutes), and a request flood brings its own traffic, whatever the
//! day's rate.

use crate::incidents::{Kind, MIN_GAP, Mix, Plan, Storm};
use crate::logs::UpErr;
use crate::model::{self, BOT_PATHS, HUMAN_PATHS, Route};
use crate::rng::Rng;

/// How long a failure-heavy day is (ms).
pub const DAY: i64 = 86_400_000;
/// The share of the day's requests that are gateway errors.
pub const GATEWAY_SHARE: f64 = 0.01;
/// Lone background gateway errors: one an hour.
pub const BACKGROUND_EVERY: i64 = 3_600_000;

const MIN: i64 = 60_000;
/// The incidents' lengths are drawn in this range...
const LEN: (i64, i64) = (30 * MIN, 90 * MIN);
/// ...and shortened (to no less than the shortest) when together they
/// would fill more than this: a day that fails half the time has no
/// background to stand out from.
const MAX_TOTAL: i64 = 8 * 60 * MIN;

const TIMEOUT: Mix = &[(UpErr::TimedOut, 1)];
const SATURATION: Mix = &[(UpErr::Eagain, 3), (UpErr::TimedOut, 2)];
const CRASH: Mix = &[(UpErr::Reset, 7), (UpErr::Premature, 3)];
const KILLED: Mix = &[(UpErr::Reset, 1)];
const FATAL: Mix = &[(UpErr::FatalClose, 3), (UpErr::Fatal500, 1)];

/// The kinds a long incident is drawn from, and its storm's errors (the
/// mix the kind's own requests get); `None`: the kind's outage already
/// fails its requests for the whole window (`buffer_config`, on
/// `/my-account/` only).
const KINDS: [(Kind, Option<Mix>); 9] = [
    (Kind::Capacity, Some(SATURATION)),
    (Kind::ExternalCall, Some(TIMEOUT)),
    (Kind::Database, Some(TIMEOUT)),
    (Kind::Segfault, Some(CRASH)),
    (Kind::OomKill, Some(KILLED)),
    (Kind::BacklogFull, Some(SATURATION)),
    (Kind::BufferConfig, None),
    (Kind::SlowScript, Some(TIMEOUT)),
    (Kind::FatalError, Some(FATAL)),
];

/// The day's incidents: kinds in time order and their windows.
pub struct Day {
    pub kinds: Vec<Kind>,
    pub windows: Vec<(i64, i64)>,
}

/// Draws 5 to 8 incidents of distinct kinds over `[start, end)`: one per
/// equal slot of the day, 30 to 90 min long, at a drawn place in its slot
/// at least [`MIN_GAP`] from the slot's edges.
pub fn draw(rng: &mut Rng, start: i64, end: i64) -> Day {
    let n = rng.range(5, 8) as usize;
    let mut pool: Vec<Kind> = KINDS.iter().map(|k| k.0).collect();
    let mut kinds = Vec::with_capacity(n);
    for _ in 0..n {
        let i = rng.below(pool.len() as u64) as usize;
        kinds.push(pool.remove(i));
    }
    let mut lens: Vec<i64> = (0..n)
        .map(|_| rng.range(LEN.0 as u64, LEN.1 as u64) as i64 / 1000 * 1000)
        .collect();
    let total: i64 = lens.iter().sum();
    if total > MAX_TOTAL {
        for l in &mut lens {
            *l = (*l * MAX_TOTAL / total).max(LEN.0);
        }
    }
    let slot = (end - start) / n as i64;
    let windows = lens
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let from = start + slot * i as i64 + MIN_GAP;
            let room = (slot - 2 * MIN_GAP - len).max(0);
            let s = from + rng.below(room as u64 + 1) as i64 / 1000 * 1000;
            (s, s + len)
        })
        .collect();
    Day { kinds, windows }
}

/// The share of the background requests that go to PHP, and to
/// `/my-account/`: from the path weights and the clients' share of bots
/// (the client of each request is drawn uniformly).
fn php_shares(seed: u64) -> (f64, f64) {
    let clients = model::clients(&mut Rng::new(seed).fork(2), 3000);
    let bots = clients.iter().filter(|c| c.bot).count() as f64 / clients.len() as f64;
    let share = |specs: &[model::PathSpec], f: &dyn Fn(&model::PathSpec) -> bool| {
        let total: u32 = specs.iter().map(|s| s.weight).sum();
        let some: u32 = specs.iter().filter(|s| f(s)).map(|s| s.weight).sum();
        some as f64 / total as f64
    };
    let php = |s: &model::PathSpec| s.route == Route::Php;
    let account = |s: &model::PathSpec| s.template == "/my-account/";
    (
        (1.0 - bots) * share(HUMAN_PATHS, &php) + bots * share(BOT_PATHS, &php),
        (1.0 - bots) * share(HUMAN_PATHS, &account) + bots * share(BOT_PATHS, &account),
    )
}

/// Adds the storms of `day`'s incidents (already added to `plan`, the
/// `i`th incident of the plan being the `i`th of the day), so that the
/// gateway errors come to [`GATEWAY_SHARE`] of the `rate × duration`
/// background requests, counting the incidents' own requests and
/// `background` lone errors.
pub fn storms(plan: &mut Plan, day: &Day, seed: u64, rate: f64, duration: i64, background: u64) {
    let (php, account) = php_shares(seed);
    let secs = |(s, e): (i64, i64)| (e - s) as f64 / 1000.0;
    let target = GATEWAY_SHARE * rate * duration as f64 / 1000.0;
    let planned = plan
        .reqs
        .iter()
        .filter(|r| r.incident.is_some() && matches!(r.status, 502 | 504))
        .count() as f64;
    let mut fixed = planned + background as f64;
    let mut storm_secs = 0.0;
    for (kind, &w) in day.kinds.iter().zip(&day.windows) {
        match KINDS.iter().find(|k| k.0 == *kind).and_then(|k| k.1) {
            Some(_) => storm_secs += secs(w),
            None => fixed += rate * account * secs(w),
        }
    }
    // Gateway errors per background PHP request of a storm's window.
    let x = if storm_secs > 0.0 {
        ((target - fixed) / (rate * php * storm_secs)).max(0.0)
    } else {
        0.0
    };
    for (i, (kind, &(s, e))) in day.kinds.iter().zip(&day.windows).enumerate() {
        let Some(errs) = KINDS.iter().find(|k| k.0 == *kind).and_then(|k| k.1) else {
            continue;
        };
        let mut storm = Storm {
            start: s,
            end: e,
            route: Route::Php,
            share: 0.0,
            errs,
            incident: i,
        };
        storm.share = (x / storm.gateway_share()).min(0.95);
        plan.storms.push(storm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_hold_five_to_eight_distinct_long_incidents_apart() {
        for seed in 0..200 {
            let start = 1_790_000_000_000;
            let d = draw(&mut Rng::new(seed), start, start + DAY);
            assert!((5..=8).contains(&d.kinds.len()), "seed {seed}");
            assert_eq!(d.kinds.len(), d.windows.len());
            let mut k = d.kinds.clone();
            k.sort_by_key(|k| k.name());
            k.dedup();
            assert_eq!(k.len(), d.kinds.len(), "seed {seed}: distinct kinds");
            let total: i64 = d.windows.iter().map(|w| w.1 - w.0).sum();
            assert!(total <= MAX_TOTAL + LEN.0, "seed {seed}: {total}");
            let mut prev = start;
            for &(s, e) in &d.windows {
                assert!((LEN.0..=LEN.1).contains(&(e - s)), "seed {seed}");
                assert!(s - prev >= MIN_GAP, "seed {seed}: gap");
                prev = e;
            }
            assert!(start + DAY - prev >= MIN_GAP, "seed {seed}: end");
        }
    }

    #[test]
    fn a_storm_picks_its_errors_by_weight() {
        let s = Storm {
            start: 0,
            end: 1,
            route: Route::Php,
            share: 1.0,
            errs: FATAL,
            incident: 0,
        };
        assert_eq!(s.pick(0.0), UpErr::FatalClose);
        assert_eq!(s.pick(0.74), UpErr::FatalClose);
        assert_eq!(s.pick(0.75), UpErr::Fatal500);
        assert_eq!(s.pick(0.999), UpErr::Fatal500);
        assert_eq!(s.gateway_share(), 0.75);
    }
}
