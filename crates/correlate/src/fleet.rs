//! Fleet incidents: the incidents of several nodes that are one failure
//! seen from several machines.
//!
//! A pure function over the per-node incidents (each with its `node`):
//! incidents that share a cause or a dependency (the database or the
//! external API their slow traces waited on, a deploy restarting php-fpm
//! node after node, the edge) and overlap in time, or start within
//! [`NEAR_S`] of the group, on two or more nodes, are one fleet incident.
//! One node failing alone stays that node's incident.

use std::collections::BTreeMap;

use crate::model::{Cause, FleetIncident, Incident, Shared};

/// How far apart (seconds) the starts of two nodes' incidents may be, past
/// the group's end, for them to be one failure.
pub const NEAR_S: i64 = 180;

/// What an incident shares with others of the same failure: the kind of
/// dependency, and its name where the traces give one.
fn key(i: &Incident) -> Key {
    let top = i.culprits.first();
    let call = |c: &str| top.is_some_and(|t| t.call.as_deref() == Some(c));
    // The dependency the workers waited on, named by the call they blocked
    // in (`mysqli_query`, `curl_exec`) when the traces give it.
    let dep = || top.map(|t| call_name(&t.frame)).unwrap_or_default();
    match i.cause {
        Cause::Database => (Shared::Database, Cause::Database, String::new()),
        Cause::ExternalCall => (Shared::ExternalApi, Cause::ExternalCall, dep()),
        Cause::FpmRestart => (Shared::Deploy, Cause::FpmRestart, String::new()),
        Cause::EdgeOnly => (Shared::Edge, Cause::EdgeOnly, String::new()),
        // A saturated pool behind a slow database is the database's.
        Cause::MaxChildren | Cause::BacklogFull | Cause::SlowScript if call("database") => {
            (Shared::Database, Cause::Database, String::new())
        }
        Cause::MaxChildren | Cause::BacklogFull | Cause::SlowScript if call("external_call") => {
            (Shared::ExternalApi, Cause::ExternalCall, dep())
        }
        c => (Shared::Other, c, String::new()),
    }
}

/// PHP functions that block on a database or the network: a frame that
/// calls one names what the workers waited on.
const BLOCKING: [&str; 12] = [
    "mysqli_query",
    "mysqli_real_query",
    "mysql_query",
    "PDOStatement::execute",
    "PDO::query",
    "curl_exec",
    "curl_multi_exec",
    "curl_multi_select",
    "file_get_contents",
    "fsockopen",
    "stream_socket_client",
    "fread",
];

/// The function a frame calls: `curl_exec() /x/y.php:88` → `curl_exec`.
fn call_name(frame: &str) -> String {
    let f = frame.split_whitespace().next().unwrap_or("");
    f.trim_end_matches("()").to_string()
}

/// What a fleet incident's members share (see [`key`]).
type Key = (Shared, Cause, String);

/// An incident with its start and end, unix seconds.
type Spanned<'a> = (i64, i64, &'a Incident);

/// An incident's start and end, unix seconds.
fn span(i: &Incident) -> (i64, i64) {
    let (s, e) = (i.start.unix_secs(), i.end.unix_secs());
    (s, e.max(s))
}

/// `12 s`, `3 min 5 s`.
fn dur(s: i64) -> String {
    if s < 120 {
        format!("{s} s")
    } else if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// The fleet incidents among `incidents` (every one with its `node`, ids
/// final), of a run over `nodes` nodes, in start order and numbered from 1.
pub fn fleet(incidents: &[Incident], nodes: usize) -> Vec<FleetIncident> {
    // Per key, the incidents in start order.
    let mut by_key: BTreeMap<Key, Vec<Spanned>> = BTreeMap::new();
    for i in incidents {
        if i.node.is_none() {
            continue;
        }
        let (s, e) = span(i);
        by_key.entry(key(i)).or_default().push((s, e, i));
    }
    let mut groups: Vec<(Key, Vec<Spanned>)> = Vec::new();
    for (k, mut list) in by_key {
        list.sort_by_key(|&(s, e, i)| (s, e, i.id));
        let mut cur: Vec<Spanned> = Vec::new();
        let mut end = i64::MIN;
        for x in list {
            if !cur.is_empty() && x.0 > end.saturating_add(NEAR_S) {
                groups.push((k.clone(), std::mem::take(&mut cur)));
            }
            end = if cur.is_empty() { x.1 } else { end.max(x.1) };
            cur.push(x);
        }
        if !cur.is_empty() {
            groups.push((k.clone(), cur));
        }
    }
    groups.retain(|(_, g)| {
        let first = g[0].2.node.as_deref();
        g.iter().any(|x| x.2.node.as_deref() != first)
    });
    groups.sort_by_key(|(_, g)| (g[0].0, g[0].2.id));
    groups
        .into_iter()
        .enumerate()
        .map(|(n, ((shared, cause, dep), g))| one(n as u32 + 1, shared, cause, &dep, &g, nodes))
        .collect()
}

/// One fleet incident from its node incidents (in start order).
fn one(
    id: u32,
    shared: Shared,
    cause: Cause,
    dep: &str,
    g: &[Spanned],
    total_nodes: usize,
) -> FleetIncident {
    let mut names: Vec<String> = Vec::new();
    let mut first_at: Vec<i64> = Vec::new();
    for (s, _, i) in g {
        let n = i.node.clone().unwrap_or_default();
        if !names.contains(&n) {
            names.push(n);
            first_at.push(*s);
        }
    }
    let t0 = g[0].0;
    let last_start = *first_at.last().unwrap_or(&t0);
    let end_i = g.iter().max_by_key(|x| x.1).map_or(g[0].2, |x| x.2);
    let errors: u64 = g.iter().map(|x| x.2.gateway_errors).sum();
    let what = match shared {
        Shared::Database => "the database".to_string(),
        Shared::ExternalApi if !dep.is_empty() => format!("the external API (`{dep}`)"),
        Shared::ExternalApi => "the external API".to_string(),
        Shared::Deploy => "a deploy".to_string(),
        Shared::Edge => "the edge".to_string(),
        Shared::Other => format!("the same cause ({})", cause.as_str()),
    };
    let waiting = g
        .iter()
        .find_map(|x| x.2.culprits.first())
        .filter(|_| matches!(shared, Shared::Database | Shared::ExternalApi))
        .map(|c| {
            let f = call_name(&c.frame);
            if BLOCKING.contains(&f.as_str()) {
                format!(" while waiting on `{f}`")
            } else {
                // The deepest frame is the plugin's own function: name the
                // kind of call and where, not that function as the wait.
                let kind = if shared == Shared::Database {
                    "a database call"
                } else {
                    "an external call"
                };
                format!(
                    " while waiting in {kind} of {} `{}` (`{}`)",
                    c.kind.replace('_', "-"),
                    c.name,
                    c.frame
                )
            }
        })
        .unwrap_or_default();
    let mut evidence = vec![format!(
        "{what}: {} of {total_nodes} nodes failed within {}{waiting}, {} first at {}; {errors} gateway errors in all",
        names.len(),
        dur(last_start - t0),
        names[0],
        g[0].2.start,
    )];
    for (s, _, i) in g {
        // One second is a moment, not a span.
        let (a, b) = (i.start.to_string(), i.end.to_string());
        let when = if a == b {
            format!("at {a}")
        } else {
            format!("from {a} to {b}")
        };
        evidence.push(format!(
            "{} (incident {}): {} {} {when}{}",
            i.node.as_deref().unwrap_or("?"),
            i.id,
            i.cause.as_str(),
            crate::names::plural(i.gateway_errors as usize, "gateway error", "gateway errors"),
            if *s > t0 {
                format!(", {} after {}", dur(s - t0), names[0])
            } else {
                String::new()
            }
        ));
    }
    let next_steps = match shared {
        Shared::Database => vec![
            "the nodes share the database: look at it, not at the nodes (its slow query log, connections, locks and load at that time); tuning one node's pool will not help".to_string(),
            format!("compare what {} ran first: its slow traces name the query path that stalled", names[0]),
        ],
        Shared::ExternalApi => vec![
            format!("the nodes waited on the same external API{}: check its status and latency then, and give the calls a short timeout (CURLOPT_TIMEOUT) so a slow API cannot fill every node's pool", if dep.is_empty() { String::new() } else { format!(" (`{dep}`)") }),
        ],
        Shared::Deploy => vec![
            format!("php-fpm restarted node after node ({} first): make the deploy reload (`systemctl reload php-fpm`) instead of restart, and take each node out of the load balancer while it restarts", names[0]),
        ],
        Shared::Edge => vec![
            "every node's origin was fine while the edge failed: look at the edge (Cloudflare status, its connection to the origins, firewall rules) rather than the nodes".to_string(),
        ],
        Shared::Other => vec![format!(
            "{} failed with {} at the same time on {} nodes: look for what they share (a deploy, a configuration change, a dependency) starting with {}",
            cause.as_str(),
            cause.verdict().as_str(),
            names.len(),
            names[0]
        )],
    };
    FleetIncident {
        id,
        start: g[0].2.start,
        end: end_i.end,
        first_node: names[0].clone(),
        nodes: names,
        incident_ids: g.iter().map(|x| x.2.id).collect(),
        verdict: cause.verdict(),
        cause,
        shared,
        evidence,
        next_steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Culprit, Verdict};

    fn ts(s: &str) -> baton_logparse::time::Timestamp {
        baton_logparse::time::parse_iso8601(s.as_bytes()).unwrap()
    }

    fn inc(id: u32, node: &str, cause: Cause, start: &str, end: &str) -> Incident {
        Incident {
            id,
            node: Some(node.to_string()),
            start: ts(start),
            end: ts(end),
            gateway_errors: 10,
            status_502: 10,
            ..crate::testkit::blank_incident(cause, 0, 0)
        }
    }

    fn db(mut i: Incident) -> Incident {
        i.culprits.push(Culprit {
            kind: "plugin".into(),
            name: "shop".into(),
            call: Some("database".into()),
            traces: 4,
            frame: "mysqli_query() /wp-includes/class-wpdb.php:2056".into(),
        });
        i
    }

    #[test]
    fn shared_database_on_two_nodes_is_one_fleet_incident() {
        let a = db(inc(
            1,
            "web2",
            Cause::Database,
            "2026-11-24T11:17:00Z",
            "2026-11-24T11:19:00Z",
        ));
        // A saturated pool behind the same slow database on web1.
        let b = db(inc(
            2,
            "web1",
            Cause::MaxChildren,
            "2026-11-24T11:17:40Z",
            "2026-11-24T11:20:00Z",
        ));
        let f = fleet(&[a, b], 4);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.nodes, ["web2", "web1"]);
        assert_eq!(f.first_node, "web2");
        assert_eq!(f.incident_ids, [1, 2]);
        assert_eq!(f.shared, Shared::Database);
        assert_eq!(f.verdict, Verdict::Latency);
        assert_eq!(f.end, ts("2026-11-24T11:20:00Z"));
        assert!(f.evidence[0].contains("2 of 4 nodes failed within 40 s"));
        assert!(f.evidence[0].contains("mysqli_query"));
        assert!(
            f.evidence[1].ends_with(
                "10 gateway errors from 2026-11-24T11:17:00+00:00 to 2026-11-24T11:19:00+00:00"
            ),
            "{:?}",
            f.evidence
        );
        // An incident within one second is at that second; one error is
        // one gateway error.
        let mut a = db(inc(
            1,
            "web2",
            Cause::Database,
            "2026-11-24T11:17:00Z",
            "2026-11-24T11:17:00Z",
        ));
        a.gateway_errors = 1;
        let b = db(inc(
            2,
            "web1",
            Cause::Database,
            "2026-11-24T11:17:30Z",
            "2026-11-24T11:18:00Z",
        ));
        let f = &fleet(&[a, b], 4)[0];
        assert!(
            f.evidence[1].ends_with("database 1 gateway error at 2026-11-24T11:17:00+00:00"),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn a_plugins_own_function_is_not_named_as_the_wait() {
        // The deepest frame of the culprit is the plugin's function (as in
        // a real slowlog, where `mysqli_query` sits in wp-includes above it).
        let own = |i: Incident| {
            let mut i = db(i);
            i.culprits[0].name = "woo-filter".into();
            i.culprits[0].frame =
                "get_filtered_ids() /var/www/html/wp-content/plugins/woo-filter/query.php:12"
                    .into();
            i
        };
        let a = own(inc(
            1,
            "web1",
            Cause::Database,
            "2026-11-24T11:17:00Z",
            "2026-11-24T11:19:00Z",
        ));
        let b = own(inc(
            2,
            "web2",
            Cause::Database,
            "2026-11-24T11:17:20Z",
            "2026-11-24T11:19:30Z",
        ));
        let f = &fleet(&[a, b], 2)[0];
        assert!(
            f.evidence[0].contains(
                "while waiting in a database call of plugin `woo-filter` (`get_filtered_ids() "
            ),
            "{}",
            f.evidence[0]
        );
        assert!(!f.evidence[0].contains("waiting on `get_filtered_ids`"));
    }

    #[test]
    fn different_causes_or_one_node_or_far_apart_stay_apart() {
        let a = inc(
            1,
            "web1",
            Cause::FpmDown,
            "2026-11-24T11:17:00Z",
            "2026-11-24T11:18:00Z",
        );
        let b = inc(
            2,
            "web2",
            Cause::Segfault,
            "2026-11-24T11:17:05Z",
            "2026-11-24T11:18:00Z",
        );
        assert!(fleet(&[a.clone(), b], 2).is_empty());
        let c = inc(
            3,
            "web1",
            Cause::FpmDown,
            "2026-11-24T11:18:30Z",
            "2026-11-24T11:19:00Z",
        );
        assert!(fleet(&[a.clone(), c], 2).is_empty());
        let d = inc(
            4,
            "web2",
            Cause::FpmDown,
            "2026-11-24T13:00:00Z",
            "2026-11-24T13:01:00Z",
        );
        assert!(fleet(&[a, d], 2).is_empty());
    }

    #[test]
    fn a_rolling_deploy_chains_node_after_node() {
        let incs = [
            inc(
                1,
                "web1",
                Cause::FpmRestart,
                "2026-11-24T11:00:00Z",
                "2026-11-24T11:00:08Z",
            ),
            inc(
                2,
                "web2",
                Cause::FpmRestart,
                "2026-11-24T11:02:00Z",
                "2026-11-24T11:02:09Z",
            ),
            inc(
                3,
                "web3",
                Cause::FpmRestart,
                "2026-11-24T11:04:30Z",
                "2026-11-24T11:04:35Z",
            ),
        ];
        let f = fleet(&incs, 3);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].shared, Shared::Deploy);
        assert_eq!(f[0].nodes, ["web1", "web2", "web3"]);
        assert_eq!(f[0].first_node, "web1");
        assert!(f[0].evidence[0].contains("within 4 min 30 s"));
    }
}
