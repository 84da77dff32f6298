//! `--nodes N`: a fleet of web nodes behind one load balancer, sharing a
//! database and the shop's external APIs. Each node gets a folder
//! (`web1/`, `web2/`, ...) holding a full log set with a background of its
//! own (its own seed) and the same first connection number and php-fpm
//! pids as every other node (real machines' numbers collide).
//!
//! The fleet's plan, drawn per seed: one shared-dependency incident (the
//! database or the external API stalls: two or more nodes saturate within
//! a minute or so, their slowlog traces waiting in the same call), one
//! rolling deploy (php-fpm restarted node after node, a minute or two
//! apart, in a drawn order), and incidents of one node alone. Every slot
//! is at least 12 min from the next, on every node, so only the first two
//! are incidents of several nodes. `truth.json` at the top says which
//! incidents are fleet incidents, of which nodes, which node failed first
//! (the first gateway error as written) and what they share.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::incidents::Kind;
use crate::rng::Rng;
use crate::stream::Config;

const S: i64 = 1000;
const MIN: i64 = 60 * S;

/// The kinds an incident of one node alone is drawn from: failures of the
/// machine itself, never of what the nodes share.
const ALONE: [Kind; 11] = [
    Kind::Capacity,
    Kind::Segfault,
    Kind::OomKill,
    Kind::FpmDown,
    Kind::SocketPermission,
    Kind::RequestFlood,
    Kind::BacklogFull,
    Kind::NoLiveUpstreams,
    Kind::BufferConfig,
    Kind::SlowScript,
    Kind::FatalError,
];

/// What one slot of the fleet's plan is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum What {
    /// A shared dependency stalls (`Kind::Database` or
    /// `Kind::ExternalCall`).
    Shared(Kind),
    /// php-fpm restarted node after node.
    Deploy,
    /// One node fails alone.
    Alone(Kind),
}

/// One slot: its members, each `(node, start offset ms, length ms)`.
struct Slot {
    what: What,
    members: Vec<(usize, i64, i64)>,
}

/// A node's folder name.
pub fn node_name(k: usize) -> String {
    format!("web{}", k + 1)
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// The slots of a fleet of `n` nodes, in drawn order (not yet placed).
fn draw(n: usize, rng: &mut Rng) -> Vec<Slot> {
    let mut slots = Vec::new();
    // The shared dependency: two nodes or more, in a drawn order, each
    // 15 to 35 s after the one before.
    let kind = *rng.pick(&[Kind::Database, Kind::ExternalCall]);
    let k = if n <= 2 {
        n
    } else {
        rng.range(2.max(n as u64 - 1), n as u64) as usize
    };
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, rng);
    let mut at = 0;
    let mut members = Vec::new();
    for (j, &node) in order.iter().take(k).enumerate() {
        if j > 0 {
            at += rng.range(15 * S as u64, 35 * S as u64) as i64;
        }
        members.push((node, at, rng.range(3 * MIN as u64, 5 * MIN as u64) as i64));
    }
    slots.push(Slot {
        what: What::Shared(kind),
        members,
    });
    // The rolling deploy: every node, 1 to 2 min apart.
    shuffle(&mut order, rng);
    let mut at = 0;
    let mut members = Vec::new();
    for (j, &node) in order.iter().enumerate() {
        if j > 0 {
            at += rng.range(MIN as u64, 2 * MIN as u64) as i64;
        }
        members.push((node, at, rng.range(40 * S as u64, 80 * S as u64) as i64));
    }
    slots.push(Slot {
        what: What::Deploy,
        members,
    });
    // Incidents of one node alone: n - 1 to n + 1 of them.
    let alone = rng.range(n as u64 - 1, n as u64 + 1);
    for _ in 0..alone {
        let node = rng.below(n as u64) as usize;
        let kind = *rng.pick(&ALONE);
        let len = rng.range(2 * MIN as u64, 5 * MIN as u64) as i64;
        slots.push(Slot {
            what: What::Alone(kind),
            members: vec![(node, 0, len)],
        });
    }
    shuffle(&mut slots, rng);
    slots
}

/// The kind a member of `what` injects.
fn kind_of(what: What) -> Kind {
    match what {
        What::Shared(k) | What::Alone(k) => k,
        What::Deploy => Kind::FpmRestart,
    }
}

/// Writes the fleet: one log set per node under `base.out` (through
/// `write_set`, which writes the folder's `truth.json` and returns it),
/// then the fleet's `truth.json`.
pub fn run(
    base: &Config,
    n: usize,
    write_set: impl Fn(&Config) -> anyhow::Result<Value>,
) -> anyhow::Result<()> {
    if n < 2 {
        bail!("--nodes: a fleet has 2 nodes or more");
    }
    let out = base.out.clone().expect("set");
    let mut rng = Rng::new(base.seed).fork(0xf1ee7);
    let slots = draw(n, &mut rng);
    // `--size` is each node's: the duration it takes at the rate.
    let duration = match base.size {
        Some(size) => {
            let per = crate::stream::bytes_per_request(base)?;
            ((size as f64 / per / base.rate) * 1000.0).ceil() as i64
        }
        None => base.duration,
    };
    let (start, end) = (base.start, base.start + duration);
    // Slots one after the other, 12 to 18 min apart on every node.
    let mut cursor = start + rng.range(12 * MIN as u64, 20 * MIN as u64) as i64;
    let mut placed: Vec<(i64, &Slot)> = Vec::new();
    for slot in &slots {
        let last = slot.members.iter().map(|m| m.1 + m.2).max().unwrap_or(0);
        if cursor + last > end - 10 * MIN {
            let need = (cursor + last + 10 * MIN - start + MIN - 1) / MIN;
            bail!(
                "--duration is too short for a fleet of {n} nodes with seed {}: give at least {need}m",
                base.seed
            );
        }
        placed.push((cursor, slot));
        cursor += last + rng.range(12 * MIN as u64, 18 * MIN as u64) as i64;
    }
    // Each node's incidents in time order: (start, end, kind, slot index).
    let mut per_node: Vec<Vec<(i64, i64, Kind, usize)>> = vec![Vec::new(); n];
    for (si, (at, slot)) in placed.iter().enumerate() {
        for &(node, off, len) in &slot.members {
            let s = at + off;
            per_node[node].push((s, s + len, kind_of(slot.what), si));
        }
    }
    let mut truths = Vec::new();
    for (k, incs) in per_node.iter_mut().enumerate() {
        incs.sort_by_key(|x| x.0);
        let cfg = Config {
            seed: Rng::new(base.seed).fork(0x90de + k as u64).next_u64(),
            incidents: incs.iter().map(|x| x.2).collect(),
            placed: Some(incs.iter().map(|x| (x.0, x.1)).collect()),
            ids_seed: Some(base.seed),
            duration,
            size: None,
            out: Some(out.join(node_name(k))),
            zone_name: base.zone_name.clone(),
            ..*base
        };
        let dir = cfg.out.clone().expect("set");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        truths.push(write_set(&cfg)?);
    }
    let truth = fleet_truth(base, (start, end), n, &placed, &per_node, &truths)?;
    let mut s = serde_json::to_string_pretty(&truth)?;
    s.push('\n');
    std::fs::write(out.join("truth.json"), s)?;
    Ok(())
}

/// The first gateway error of a node's incident, unix ms, from its truth.
fn first_error(t: &Value) -> anyhow::Result<i64> {
    let s = t["start"].as_str().context("an incident without errors")?;
    Ok(chrono::DateTime::parse_from_rfc3339(s)?.timestamp_millis())
}

/// The fleet's `truth.json`.
fn fleet_truth(
    base: &Config,
    (start, end): (i64, i64),
    n: usize,
    placed: &[(i64, &Slot)],
    per_node: &[Vec<(i64, i64, Kind, usize)>],
    truths: &[Value],
) -> anyhow::Result<Value> {
    let z = base.zone;
    // A slot's members as the nodes' truths tell them: (first error,
    // node, the node's incident truth).
    let members = |si: usize| -> anyhow::Result<Vec<(i64, usize, &Value)>> {
        let mut v = Vec::new();
        for (node, incs) in per_node.iter().enumerate() {
            for (j, x) in incs.iter().enumerate() {
                if x.3 == si {
                    let t = &truths[node]["incidents"][j];
                    v.push((first_error(t)?, node, t));
                }
            }
        }
        v.sort_by_key(|m| (m.0, m.1));
        Ok(v)
    };
    let mut fleet = Vec::new();
    let mut alone = Vec::new();
    for (si, (_, slot)) in placed.iter().enumerate() {
        let m = members(si)?;
        let (cause, verdict, _) = kind_of(slot.what).diagnosis();
        let incidents: Vec<Value> = m
            .iter()
            .map(|(_, node, t)| {
                json!({
                    "node": node_name(*node),
                    "start": t["start"],
                    "end": t["end"],
                    "gateway_errors": t["gateway_errors"],
                })
            })
            .collect();
        match slot.what {
            What::Alone(kind) => {
                let (_, node, t) = m[0];
                alone.push(json!({
                    "node": node_name(node),
                    "kind": kind.name(),
                    "cause": cause,
                    "verdict": verdict,
                    "start": t["start"],
                    "end": t["end"],
                }));
            }
            what => {
                let shared = match what {
                    What::Shared(Kind::Database) => "database",
                    What::Shared(_) => "external_api",
                    _ => "deploy",
                };
                let call = match what {
                    What::Shared(Kind::Database) => Some("mysqli_query"),
                    What::Shared(_) => Some("curl_exec"),
                    _ => None,
                };
                let end = m.iter().map(|x| secs_of(&x.2["end"])).max().flatten();
                fleet.push(json!({
                    "kind": kind_of(what).name(),
                    "shared": shared,
                    "cause": cause,
                    "verdict": verdict,
                    "call": call,
                    "nodes": m.iter().map(|x| node_name(x.1)).collect::<Vec<_>>(),
                    "first_node": node_name(m[0].1),
                    "start": rfc3339(z, m[0].0),
                    "end": end.map(|e| rfc3339(z, e)),
                    "incidents": incidents,
                }));
            }
        }
    }
    Ok(json!({
        "schema": "baton.fleet_truth.v1",
        "seed": base.seed,
        "nodes": (0..n).map(node_name).collect::<Vec<_>>(),
        "start": rfc3339(z, start),
        "end": rfc3339(z, end),
        "fleet_incidents": fleet,
        "single_node_incidents": alone,
    }))
}

/// An RFC 3339 time of a truth, unix ms.
fn secs_of(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}
