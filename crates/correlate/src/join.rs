//! Stage 1, join: which requests were gateway errors, and which error-log
//! line each one was. Access-log 502/504s match upstream errors by
//! connection number, else by client and path within [`JOIN_S`]; upstream
//! errors no access log covers stand for gateway errors themselves; edge
//! gateway errors count when the origin failed nowhere in our logs.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;

use baton_logparse::event::Text;
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, EventKind, Zone};

use crate::index::{Index, S, us};
use crate::input::Input;
use crate::model::PhaseClass;
use baton_logparse::time::fmt_offset;

/// How far apart an access-log line and its error-log line may be logged.
pub(crate) const JOIN_S: i64 = 2;
/// Slack around an access log's range within which it still covers.
const COVER_SLACK_S: i64 = 5;

/// A map from event index to `V`, sorted by index: 8 bytes an entry for
/// small values, where a hash map of a bad day's hundred thousand gateway
/// errors costs about three times that.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ByIndex<V>(Vec<(u32, V)>);

impl<V> ByIndex<V> {
    /// The value of index `i`.
    pub fn get(&self, i: &usize) -> Option<&V> {
        let k = u32::try_from(*i).ok()?;
        let at = self.0.binary_search_by_key(&k, |e| e.0).ok()?;
        Some(&self.0[at].1)
    }

    /// Whether index `i` has a value.
    pub fn contains(&self, i: &usize) -> bool {
        self.get(i).is_some()
    }

    /// How many indices have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<V> ByIndex<V> {
    /// The map of (index, value) pairs in any order: a repeated index
    /// keeps its last value, as a map would.
    fn of_pairs(mut v: Vec<(u32, V)>) -> ByIndex<V> {
        // Stable, so that the last of a repeated index is found.
        v.sort_by_key(|e| e.0);
        v.reverse();
        v.dedup_by_key(|e| e.0);
        v.reverse();
        ByIndex(v)
    }
}

/// An event index as the 4 bytes the join's lists keep.
fn idx32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl<V> FromIterator<(usize, V)> for ByIndex<V> {
    fn from_iter<I: IntoIterator<Item = (usize, V)>>(it: I) -> ByIndex<V> {
        ByIndex::of_pairs(it.into_iter().map(|(i, x)| (idx32(i), x)).collect())
    }
}

/// The gateway errors and their joins.
pub(crate) struct Joined {
    /// Access-log 502/504s, in time order.
    pub access_ge: Vec<usize>,
    /// Every upstream error, in time order.
    pub upstream: Vec<usize>,
    /// Upstream errors matched to an access-log gateway error.
    pub matched_up: ByIndex<()>,
    /// Access-log gateway error → its upstream error.
    pub ge_match: ByIndex<u32>,
    /// Every gateway error (access, standalone upstream errors, edge-only),
    /// in time order.
    pub gateway: Vec<usize>,
    /// Edge gateway errors (all of them).
    pub edge_ge: Vec<usize>,
    /// How each gateway error failed, where known.
    pub class: ByIndex<PhaseClass>,
    /// Alignment warnings.
    pub warnings: Vec<String>,
}

impl Joined {
    /// The upstream error behind a gateway error: its match, or itself.
    pub fn upstream_of(&self, ev: &[Event], g: usize) -> Option<usize> {
        if ev[g].kind == Some(EventKind::UpstreamError) {
            Some(g)
        } else {
            self.ge_match.get(&g).map(|&u| u as usize)
        }
    }
}

/// The failure mode of an upstream error kind.
pub(crate) fn class_of(k: UpstreamKind) -> PhaseClass {
    match k {
        UpstreamKind::ConnectEagain => PhaseClass::Saturation,
        UpstreamKind::TimedOut | UpstreamKind::ConnectTimedOut => PhaseClass::Timeout,
        UpstreamKind::PrematureClose | UpstreamKind::ResetByPeer => PhaseClass::BrokenConnection,
        UpstreamKind::ConnectRefused => PhaseClass::Refused,
        UpstreamKind::ConnectEnoent => PhaseClass::MissingSocket,
        UpstreamKind::ConnectEacces => PhaseClass::Permission,
        _ => PhaseClass::Other,
    }
}

/// Runs the join.
pub(crate) fn join(idx: &Index, input: &Input, zone: Zone) -> Joined {
    let ev = idx.ev;
    let access_ge: Vec<usize> = idx
        .kind(EventKind::Request)
        .iter()
        .copied()
        .filter(|&i| ev[i].is_gateway_error())
        .collect();
    let upstream: Vec<usize> = idx.kind(EventKind::UpstreamError).to_vec();
    let (matched_up, matches) = match_access(ev, &access_ge, &upstream);
    let ge_match: ByIndex<u32> = access_ge
        .iter()
        .zip(&matches)
        .filter_map(|(&g, m)| m.map(|u| (g, u)))
        .collect();
    // How each access gateway error failed, read off its match while the
    // two lists are side by side.
    let mut class: Vec<(u32, PhaseClass)> = access_ge
        .iter()
        .zip(&matches)
        .filter_map(|(&g, m)| {
            let c = match m.and_then(|u| ev[u as usize].upstream_kind) {
                Some(k) => class_of(k),
                None if ev[g].status == Some(504) => PhaseClass::Timeout,
                None => return None,
            };
            Some((idx32(g), c))
        })
        .collect();
    drop(matches);
    let mut warnings = Vec::new();
    if let Some(w) = zone_mismatch(ev, &access_ge, &upstream, matched_up.len(), zone) {
        warnings.push(w);
    }
    let covered = |t: i64| {
        input.access_ranges.iter().any(|r| match (r.first, r.last) {
            (Some(f), Some(l)) => {
                t >= f.unix_us - COVER_SLACK_S * S && t <= l.unix_us + COVER_SLACK_S * S
            }
            _ => false,
        })
    };
    let mut gateway = access_ge.clone();
    // Upstream errors no access log covers stand for gateway errors, one
    // per request: nginx logs each failed try of a request (`*152` refused
    // at 127.0.0.1:9998, then at :9997) and the client saw one answer. The
    // tries of a request share its worker, connection number and request
    // line and follow one another within [`JOIN_S`]; the first stands for
    // the request, the others stay upstream errors in the evidence.
    type Try<'e> = (Option<u32>, u64, Option<&'e Text>, Option<&'e Text>);
    let mut last_try: HashMap<Try<'_>, i64> = HashMap::new();
    for &u in &upstream {
        if matched_up.contains(&u) || covered(us(&ev[u])) {
            continue;
        }
        let e = &ev[u];
        if let Some(c) = e.connection {
            let t = us(e);
            let key = (e.pid, c, e.method.as_ref(), e.path.as_ref());
            if let Some(prev) = last_try.insert(key, t)
                && t - prev <= JOIN_S * S
            {
                continue;
            }
        }
        gateway.push(u);
        // An upstream error standing for its gateway error.
        if let Some(k) = e.upstream_kind {
            class.push((idx32(u), class_of(k)));
        }
    }
    drop(last_try);
    // Edge gateway errors whose origin failed nowhere in our logs.
    let edge_ge: Vec<usize> = idx
        .kind(EventKind::EdgeRequest)
        .iter()
        .copied()
        .filter(|&i| {
            ev[i]
                .status
                .is_some_and(baton_logparse::cloudflare::is_gateway_status)
        })
        .collect();
    let origin_failed: BTreeSet<&[u8]> = access_ge
        .iter()
        .filter_map(|&i| ev[i].detail().ray_id.as_deref())
        .collect();
    for &i in &edge_ge {
        let e = &ev[i];
        let origin_ok = e.origin_status.is_none_or(|s| s < 500);
        let failed_here = e
            .detail()
            .ray_id
            .as_deref()
            .is_some_and(|r| origin_failed.contains(r))
            || near_origin_failure(ev, &access_ge, e);
        if origin_ok && !failed_here {
            gateway.push(i);
            class.push((idx32(i), PhaseClass::Edge));
        }
    }
    // In time order, by keys read once (a sort reading them from the
    // events would miss the cache at every comparison on a bad day);
    // stable, as the three lists were each in order. The access log's own
    // errors alone are in that order already (the index's).
    if gateway.len() > access_ge.len() {
        let mut keyed: Vec<(i64, u32, u64, usize)> = gateway
            .iter()
            .map(|&i| (us(&ev[i]), ev[i].file, ev[i].line, i))
            .collect();
        keyed.sort_by_key(|k| (k.0, k.1, k.2));
        gateway.clear();
        gateway.extend(keyed.into_iter().map(|k| k.3));
    }
    let class = ByIndex::of_pairs(class);
    Joined {
        access_ge,
        upstream,
        matched_up,
        ge_match,
        gateway,
        edge_ge,
        class,
        warnings,
    }
}

/// An edge gateway error the origin also failed: an access-log gateway
/// error on the same path within the join slack.
fn near_origin_failure(ev: &[Event], access_ge: &[usize], e: &Event) -> bool {
    let t = us(e);
    let lo = access_ge.partition_point(|&i| us(&ev[i]) < t - JOIN_S * S);
    access_ge[lo..]
        .iter()
        .take_while(|&&i| us(&ev[i]) <= t + 70 * S)
        .any(|&i| ev[i].path == e.path)
}

/// Matches access-log gateway errors to error-log upstream errors: by
/// connection number when both have it, else by client and path within
/// [`JOIN_S`]. Returns the matched upstream errors and, per access gateway
/// error, its match.
fn match_access(
    ev: &[Event],
    access_ge: &[usize],
    upstream: &[usize],
) -> (ByIndex<()>, Vec<Option<u32>>) {
    // Positions in `upstream` (time order): by connection, by client and
    // path (a hash of both; the bytes are compared on a match), and those
    // lacking either (they match any client or path). Sorted pairs, not
    // maps of lists: 16 bytes an upstream error, on a day with hundreds of
    // thousands of them.
    let mut used = vec![false; upstream.len()];
    // Filed by connection only when an access line has one to look up.
    let by_conn_of = || {
        if access_ge.iter().all(|&g| ev[g].connection.is_none()) {
            return Vec::new();
        }
        let mut v: Vec<(u64, u32)> = upstream
            .iter()
            .enumerate()
            .filter_map(|(p, &u)| Some((ev[u].connection?, p as u32)))
            .collect();
        v.sort_unstable();
        v
    };
    // The hashes read every client and path, one cache miss after
    // another: both sides are hashed in parallel, each straight into a
    // vector of its exact size (those without a key get `NONE`, sorted
    // last and cut).
    const NONE: (u64, u32) = (u64::MAX, u32::MAX);
    let key_of = |e: &Event| Some(key_hash(e.client.as_deref()?, e.path.as_deref()?));
    let filed_by_key = |of: &[usize]| {
        let mut v: Vec<(u64, u32)> = of
            .par_iter()
            .enumerate()
            .map(|(p, &u)| key_of(&ev[u]).map_or(NONE, |k| (k, p as u32)))
            .collect();
        v.par_sort_unstable();
        while v.last() == Some(&NONE) {
            v.pop();
        }
        v
    };
    let by_key_of = || filed_by_key(upstream);
    let keys_of = || filed_by_key(access_ge);
    let ((by_conn, by_key), keys) = rayon::join(|| rayon::join(by_conn_of, by_key_of), keys_of);
    let wild: Vec<usize> = (0..upstream.len())
        .filter(|&p| {
            let x = &ev[upstream[p]];
            x.client.is_none() || x.path.is_none()
        })
        .collect();
    // Each access gateway error's entries in `by_key`, found by walking
    // both lists in key order (a binary search each would miss the cache
    // at every step on a bad day).
    let mut keyed_at = vec![(0u32, 0u32); access_ge.len()];
    let mut lo = 0;
    for (k, j) in keys {
        while lo < by_key.len() && by_key[lo].0 < k {
            lo += 1;
        }
        let n = by_key[lo..].iter().take_while(|e| e.0 == k).count();
        keyed_at[j as usize] = (lo as u32, (lo + n) as u32);
    }
    // Upstream errors' times, by position.
    let times: Vec<i64> = upstream.iter().map(|&u| us(&ev[u])).collect();
    let time = |p: usize| times[p];
    let mut out = Vec::with_capacity(access_ge.len());
    for (j, &g) in access_ge.iter().enumerate() {
        let e = &ev[g];
        let t = us(e);
        let span = e.seconds.map_or(0, |s| (s * 1e6) as i64);
        let mut found = None;
        if let Some(c) = e.connection {
            found = filed(&by_conn, c).iter().map(|e| e.1 as usize).find(|&p| {
                let tu = time(p);
                !used[p]
                    && tu >= t.saturating_sub(span).saturating_sub(JOIN_S * S)
                    && tu <= t + JOIN_S * S
            });
        }
        if found.is_none() {
            let (from, to) = (t - JOIN_S * S, t + JOIN_S * S);
            found = match (e.client.as_deref(), e.path.as_deref()) {
                (Some(c), Some(path)) => {
                    // The first unused one logged within [from, to] with
                    // this client and path (the hash may collide).
                    let (a, b) = keyed_at[j];
                    let list = &by_key[a as usize..b as usize];
                    let lo = list.partition_point(|e| time(e.1 as usize) < from);
                    let keyed = list[lo..]
                        .iter()
                        .map(|e| e.1 as usize)
                        .take_while(|&p| time(p) <= to)
                        .find(|&p| {
                            let x = &ev[upstream[p]];
                            !used[p]
                                && x.client.as_deref() == Some(c)
                                && x.path.as_deref() == Some(path)
                        });
                    let lo = wild.partition_point(|&p| time(p) < from);
                    let any = wild[lo..]
                        .iter()
                        .copied()
                        .take_while(|&p| time(p) <= to)
                        .find(|&p| {
                            let x = &ev[upstream[p]];
                            !used[p] && same(&x.path, &e.path) && same(&x.client, &e.client)
                        });
                    match (keyed, any) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                // An access line without client or path: any upstream
                // error that agrees on what both have.
                _ => {
                    let lo = times.partition_point(|&t| t < from);
                    (lo..upstream.len())
                        .take_while(|&p| time(p) <= to)
                        .find(|&p| {
                            let x = &ev[upstream[p]];
                            !used[p] && same(&x.path, &e.path) && same(&x.client, &e.client)
                        })
                }
            };
        }
        if let Some(p) = found {
            used[p] = true;
        }
        out.push(found.map(|p| idx32(upstream[p])));
    }
    let matched = upstream
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(&i, _)| (i, ()))
        .collect();
    (matched, out)
}

/// The entries of sorted `v` filed under `k`: their positions, in time
/// order.
fn filed(v: &[(u64, u32)], k: u64) -> &[(u64, u32)] {
    let lo = v.partition_point(|e| e.0 < k);
    let n = v[lo..].iter().take_while(|e| e.0 == k).count();
    &v[lo..lo + n]
}

/// The first unused upstream error within [`JOIN_S`] of `t + shift` with
/// the same client and path (where both sides have them).
fn find_near(
    ev: &[Event],
    upstream: &[usize],
    e: &Event,
    t: i64,
    shift: i64,
    used: &BTreeSet<usize>,
) -> Option<usize> {
    let lo = upstream.partition_point(|&u| us(&ev[u]) + shift < t - JOIN_S * S);
    upstream[lo..]
        .iter()
        .copied()
        .take_while(|&u| us(&ev[u]) + shift <= t + JOIN_S * S)
        .find(|&u| {
            let x = &ev[u];
            !used.contains(&u) && same(&x.path, &e.path) && same(&x.client, &e.client)
        })
}

/// A hash of a client and a path, to file upstream errors by both (the
/// bytes are compared on a match: a collision costs a comparison, never a
/// wrong join).
fn key_hash(client: &[u8], path: &[u8]) -> u64 {
    use baton_logparse::event::text_hash;
    u64::from(text_hash(client)) << 32 | u64::from(text_hash(path))
}

fn same(a: &Option<baton_logparse::event::Text>, b: &Option<baton_logparse::event::Text>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// When few gateway errors match, tries whole and half-hour shifts of the
/// error log: a clear winner means the offset-less logs were read in the
/// wrong zone.
fn zone_mismatch(
    ev: &[Event],
    access_ge: &[usize],
    upstream: &[usize],
    matched: usize,
    zone: Zone,
) -> Option<String> {
    let n = access_ge.len().min(upstream.len());
    if n < 5 || matched * 2 >= n {
        return None;
    }
    let sample: Vec<usize> = access_ge
        .iter()
        .copied()
        .step_by((access_ge.len() / 200).max(1))
        .collect();
    let score = |shift: i64| {
        let used = BTreeSet::new();
        sample
            .iter()
            .filter(|&&g| find_near(ev, upstream, &ev[g], us(&ev[g]), shift, &used).is_some())
            .count()
    };
    let base = score(0);
    let (best, best_n) = (-28..=28i64)
        .filter(|h| *h != 0)
        .map(|h| (h * 1800, score(h * 1800 * S)))
        .max_by_key(|(h, n)| (*n, -h.abs()))?;
    if best_n * 2 < sample.len() || best_n < 2 * base.max(1) {
        return None;
    }
    let t = upstream.first().and_then(|&u| ev[u].time)?;
    let suggested = zone.offset_at(t.unix_secs()) as i64 - best;
    let hours = best as f64 / 3600.0;
    Some(format!(
        "error-log times line up with the access log only shifted by {hours:+} h ({best_n} of {} sampled gateway errors match then, {base} as read): the offset-less logs were probably written in another zone; try --tz {}",
        sample.len(),
        fmt_offset(suggested as i32)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{T0, index, numbered, request, upstream};
    use UpstreamKind::*;
    use baton_logparse::Timestamp;
    use baton_logparse::summary::TimeRange;

    /// An input whose access log covers `[T0 + from, T0 + to]` seconds.
    fn access_covering(from: i64, to: i64) -> Input {
        let mut r = TimeRange::default();
        r.add(Timestamp::from_unix(T0 + from, 0));
        r.add(Timestamp::from_unix(T0 + to, 0));
        Input {
            access_ranges: vec![r],
            ..Input::default()
        }
    }

    fn run(ev: &[Event], input: &Input) -> Joined {
        join(&index(ev), input, Zone::UTC)
    }

    #[test]
    fn a_502_takes_its_upstream_error_by_connection_else_by_client_and_path() {
        let ev = numbered(vec![
            // 0: a 502 on connection *7.
            Event {
                connection: Some(7),
                ..request(10, 502, "/cart/", 1)
            },
            // 1: same client and path, logged first, but on another
            // connection: by client and path alone it would be the match.
            Event {
                connection: Some(99),
                ..upstream(9, TimedOut, "/cart/", 1)
            },
            // 2: connection *7's refused connect, logged a second later.
            Event {
                connection: Some(7),
                ..upstream(11, ConnectRefused, "/cart/", 1)
            },
            // 3: a 502 without a connection number...
            request(20, 502, "/shop/", 2),
            // 4: ...and its errno 11 logged 1 s later, same client and path.
            upstream(21, ConnectEagain, "/shop/", 2),
        ]);
        let j = run(&ev, &access_covering(-3600, 3600));
        assert_eq!(j.access_ge, vec![0, 3]);
        assert_eq!(j.ge_match.get(&0), Some(&2));
        assert_eq!(j.ge_match.get(&3), Some(&4));
        assert!(!j.matched_up.contains(&1));
        // The access log covers the unmatched timeout: it is no gateway
        // error of its own.
        assert_eq!(j.gateway, vec![0, 3]);
        assert_eq!(j.upstream_of(&ev, 0), Some(2));
        assert_eq!(j.upstream_of(&ev, 3), Some(4));
    }

    #[test]
    fn an_upstream_error_answers_one_gateway_error_only() {
        let ev = numbered(vec![
            // 0, 1: two 502s of one client on one path a second apart...
            request(10, 502, "/checkout/", 3),
            request(11, 502, "/checkout/", 3),
            // 2: ...and one refused connect.
            upstream(10, ConnectRefused, "/checkout/", 3),
            // 3, 4: a 502 whose upstream error came 3 s later: too far.
            request(40, 502, "/cart/", 4),
            upstream(43, ConnectRefused, "/cart/", 4),
        ]);
        let j = run(&ev, &access_covering(-3600, 3600));
        assert_eq!(j.ge_match.get(&0), Some(&2));
        assert_eq!(j.ge_match.get(&1), None);
        assert_eq!(j.ge_match.get(&3), None);
        assert_eq!(j.ge_match.len(), 1);
        assert_eq!(j.matched_up.len(), 1);
        assert!(!j.matched_up.contains(&4));
    }

    #[test]
    fn each_gateway_error_is_classed_by_its_upstream_error() {
        let ev = numbered(vec![
            request(10, 502, "/", 1),
            upstream(10, ConnectRefused, "/", 1),
            request(20, 502, "/shop/", 2),
            upstream(20, ConnectEagain, "/shop/", 2),
            request(30, 502, "/cart/", 3),
            upstream(30, ConnectEacces, "/cart/", 3),
            request(40, 502, "/my-account/", 4),
            upstream(40, PrematureClose, "/my-account/", 4),
            // 8: a 504 the error log says nothing about: nginx timed out.
            request(50, 504, "/checkout/", 5),
            // 9: a 502 the error log says nothing about: unknown.
            request(60, 502, "/checkout/", 6),
        ]);
        let j = run(&ev, &access_covering(-3600, 3600));
        assert_eq!(j.gateway, vec![0, 2, 4, 6, 8, 9]);
        assert_eq!(j.class.get(&0), Some(&PhaseClass::Refused));
        assert_eq!(j.class.get(&2), Some(&PhaseClass::Saturation));
        assert_eq!(j.class.get(&4), Some(&PhaseClass::Permission));
        assert_eq!(j.class.get(&6), Some(&PhaseClass::BrokenConnection));
        assert_eq!(j.class.get(&8), Some(&PhaseClass::Timeout));
        assert_eq!(j.class.get(&9), None);
        // The kinds the table names, one by one.
        assert_eq!(class_of(ConnectTimedOut), PhaseClass::Timeout);
        assert_eq!(class_of(ResetByPeer), PhaseClass::BrokenConnection);
        assert_eq!(class_of(ConnectEnoent), PhaseClass::MissingSocket);
    }

    #[test]
    fn an_upstream_error_no_access_log_covers_is_a_gateway_error_itself() {
        // The access log covers the first minute; the error log goes on.
        let ev = numbered(vec![
            request(10, 502, "/", 1),
            upstream(10, ConnectRefused, "/", 1),
            // 2: unmatched but inside the access log: its request was no
            // 502 (or was not logged as one), so it is no gateway error.
            upstream(30, ConnectRefused, "/shop/", 2),
            // 3: just past the access log's end, within its slack.
            upstream(63, ConnectRefused, "/shop/", 2),
            // 4, 5: minutes after the access log ends.
            upstream(300, ConnectRefused, "/cart/", 3),
            upstream(400, ConnectEacces, "/cart/", 4),
        ]);
        let j = run(&ev, &access_covering(0, 60));
        assert_eq!(j.gateway, vec![0, 4, 5]);
        assert_eq!(j.upstream_of(&ev, 4), Some(4));
        assert_eq!(j.class.get(&4), Some(&PhaseClass::Refused));
        assert_eq!(j.class.get(&5), Some(&PhaseClass::Permission));
        // Only the access log's 502s count as access gateway errors.
        assert_eq!(j.access_ge, vec![0]);
    }
}
