//! The configuration in an incident: the facts that bear on its verdict
//! named in its evidence (with the directive lines, `file:line`), next
//! steps with the real numbers, and the confidence moved by the findings
//! that explain or weaken it.
//!
//! - capacity: the pool's `pm` and `pm.max_children` (and
//!   `listen.backlog`), `pm.max_children` × `memory_limit` against the
//!   machine's memory; a pool without a slowlog lowers the confidence
//!   (latency cannot be ruled out);
//! - permission: the socket's `listen.owner`/`group`/`mode` and nginx's
//!   `user`; a `socket_access` finding on the incident's socket raises
//!   the confidence;
//! - refused / missing socket: the pools' `listen`; a
//!   `fastcgi_pass_mismatch` finding on the incident's upstream raises it;
//! - latency and timeouts: `fastcgi_read_timeout` against
//!   `request_terminate_timeout` (and Cloudflare's 100 s);
//! - an OOM kill: `pm.max_children` × `memory_limit` against memory.

use baton_logparse::config::nginx::FastcgiLocation;
use baton_logparse::config::{ConfigFacts, Pool, Ref};

use super::{ConfigFinding, fpm_addr, human, nginx_addr, pools_of, reaches, secs, socket_owner};
use crate::model::{Cause, Incident, Verdict};

/// How much a finding that explains a connectivity incident raises its
/// confidence, and a missing slowlog lowers a capacity verdict's.
const RAISE: f64 = 0.1;
const LOWER: f64 = 0.1;

/// Adds the configuration's part to an incident written without it;
/// `edge`: Cloudflare logs were read.
pub(crate) fn apply(inc: &mut Incident, facts: &ConfigFacts, edge: bool) {
    if facts.is_empty() {
        return;
    }
    let findings = &super::check(facts, edge)[..];
    let pools = pools_of_incident(inc, facts);
    let locations = locations_of_incident(inc, facts);
    let mut evidence: Vec<String> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    let mut confidence = inc.confidence;
    match inc.cause {
        Cause::MaxChildren | Cause::BacklogFull | Cause::RequestFlood => {
            for p in &pools {
                evidence.push(capacity_facts(p));
                if let Some(s) = memory_step(p, facts) {
                    steps.push(s);
                }
            }
            let off: Vec<&ConfigFinding> = findings
                .iter()
                .filter(|f| f.check == "slowlog_off")
                .filter(|f| pools.is_empty() || pools.iter().any(|p| names_pool(f, p)))
                .collect();
            if let Some(f) = off.first() {
                confidence -= LOWER;
                evidence.push(format!(
                    "latency cannot be ruled out: no slowlog ({}; {})",
                    f.text.split(':').next().unwrap_or(&f.text),
                    refs_text(&f.refs)
                ));
            }
        }
        Cause::SocketPermission => {
            for p in pools.iter().filter(|p| p.listens_on_socket()) {
                evidence.push(permission_facts(p, facts));
                if let Some(s) = permission_step(p, facts) {
                    steps.push(s);
                }
            }
            for f in findings.iter().filter(|f| f.check == "socket_access") {
                if explains(inc, f) {
                    confidence += RAISE;
                    evidence.push(format!(
                        "the configuration check socket_access agrees: {} ({})",
                        f.text,
                        refs_text(&f.refs)
                    ));
                    break;
                }
            }
        }
        Cause::FpmDown | Cause::FpmRestart => {
            let listens: Vec<String> = facts
                .fpm
                .iter()
                .flat_map(|f| &f.pools)
                .filter_map(|p| {
                    let l = p.listen.as_ref()?;
                    Some(format!(
                        "pool {} listens on {}{}",
                        p.name,
                        l.value,
                        at(&l.at)
                    ))
                })
                .collect();
            if !listens.is_empty() {
                evidence.push(format!("configuration: {}", listens.join("; ")));
            }
            for f in findings
                .iter()
                .filter(|f| f.check == "fastcgi_pass_mismatch")
            {
                if explains(inc, f) {
                    confidence += RAISE;
                    evidence.push(format!(
                        "the configuration check fastcgi_pass_mismatch agrees: {} ({})",
                        f.text,
                        refs_text(&f.refs)
                    ));
                    steps.push(format!(
                        "Make nginx's `fastcgi_pass` and the pool's `listen` name the same socket ({}), then `nginx -t && systemctl reload nginx`.",
                        refs_text(&f.refs)
                    ));
                    break;
                }
            }
        }
        Cause::OomKill => {
            for p in &pools {
                if let Some(s) = memory_step(p, facts) {
                    steps.push(s);
                }
            }
        }
        _ => {}
    }
    // Timeouts bear on latency verdicts and on any incident nginx gave up
    // waiting in.
    let waited = inc.upstream_errors.contains_key("timed_out") || inc.status_504 > 0;
    if inc.verdict == Verdict::Latency || waited {
        for (loc, p) in timeout_pairs(&locations, &pools, facts) {
            let (e, s) = timeout_facts(loc, p, facts, inc.verdict == Verdict::Latency);
            evidence.push(e);
            steps.extend(s);
        }
    }
    if evidence.is_empty() && steps.is_empty() {
        return;
    }
    inc.confidence = (confidence.clamp(0.1, 0.99) * 100.0).round() / 100.0;
    inc.evidence.extend(evidence);
    // The configuration's numbers lead: they are the change to make.
    let rest = std::mem::take(&mut inc.next_steps);
    inc.next_steps = steps;
    inc.next_steps.extend(rest);
}

/// ` (file:line)` of a setting, or ` (default)`.
fn at(r: &Option<Ref>) -> String {
    at_ref(r.as_ref())
}

fn at_ref(r: Option<&Ref>) -> String {
    match r {
        Some(r) => format!(" ({}:{})", r.file, r.line),
        None => " (default)".to_string(),
    }
}

fn refs_text(refs: &[Ref]) -> String {
    refs.iter()
        .map(|r| format!("{}:{}", r.file, r.line))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The incident's upstream addresses as nginx logged them (`unix:/path`,
/// `host:port`).
fn upstream_addrs(inc: &Incident) -> Vec<super::Addr> {
    inc.upstreams
        .iter()
        .filter_map(|u| nginx_addr(u.trim_end_matches(':')))
        .collect()
}

/// The pools the incident is about: those its upstreams reach, else those
/// its FPM lines name, else the only pool.
fn pools_of_incident<'a>(inc: &Incident, facts: &'a ConfigFacts) -> Vec<&'a Pool> {
    let Some(fpm) = facts.fpm.as_ref() else {
        return Vec::new();
    };
    let addrs = upstream_addrs(inc);
    let mut out: Vec<&Pool> = fpm
        .pools
        .iter()
        .filter(|p| {
            p.listen
                .as_ref()
                .and_then(|l| fpm_addr(&l.value))
                .is_some_and(|l| addrs.iter().any(|a| reaches(a, &l)))
        })
        .collect();
    if out.is_empty() {
        out = fpm
            .pools
            .iter()
            .filter(|p| inc.pools.contains(&p.name))
            .collect();
    }
    if out.is_empty() && fpm.pools.len() == 1 {
        out.push(&fpm.pools[0]);
    }
    out
}

/// The FastCGI locations the incident went through: those passing to its
/// upstreams, else the only one.
fn locations_of_incident<'a>(inc: &Incident, facts: &'a ConfigFacts) -> Vec<&'a FastcgiLocation> {
    let Some(n) = facts.nginx.as_ref() else {
        return Vec::new();
    };
    let addrs = upstream_addrs(inc);
    let mut out: Vec<&FastcgiLocation> = n
        .fastcgi()
        .map(|(_, l)| l)
        .filter(|l| {
            l.targets
                .iter()
                .filter_map(|t| nginx_addr(&t.value))
                .any(|t| addrs.contains(&t))
        })
        .collect();
    if out.is_empty() {
        let all: Vec<&FastcgiLocation> = n.fastcgi().map(|(_, l)| l).collect();
        if all.len() == 1 {
            out = all;
        }
    }
    out
}

/// Whether a finding's text names pool `p`.
fn names_pool(f: &ConfigFinding, p: &Pool) -> bool {
    f.text.starts_with(&format!("pool {} ", p.name))
        || f.text.contains(&format!("pool {}'s ", p.name))
        || f.text.contains(&format!("pool {} ", p.name))
}

/// Whether a connectivity finding is about the incident's own socket:
/// its text names one of the incident's upstreams (any, when nginx logged
/// none).
fn explains(inc: &Incident, f: &ConfigFinding) -> bool {
    inc.upstreams.is_empty()
        || inc.upstreams.iter().any(|u| {
            let u = u.trim_end_matches(':');
            let bare = u.strip_prefix("unix:").unwrap_or(u);
            f.text.contains(&format!("{u} ")) || f.text.contains(&format!("{bare} "))
        })
}

fn capacity_facts(p: &Pool) -> String {
    let mut parts = Vec::new();
    match &p.pm {
        Some(pm) => parts.push(format!("pm = {}{}", pm.value, at(&pm.at))),
        None => parts.push("pm = dynamic (default)".to_string()),
    }
    if let Some(m) = &p.max_children {
        parts.push(format!("pm.max_children = {}{}", m.value, at(&m.at)));
    }
    if let Some(b) = &p.listen_backlog {
        parts.push(format!("listen.backlog = {}{}", b.value, at(&b.at)));
    }
    if let Some(m) = &p.memory_limit
        && let Ok(b) = u64::try_from(m.value)
    {
        parts.push(format!("memory_limit = {}{}", human(b), at(&m.at)));
    }
    format!("configuration: pool {}: {}", p.name, parts.join(", "))
}

/// `pm.max_children is 20 with memory_limit 256M: 5G of workers at the
/// limit`, against the machine's memory when known.
fn memory_step(p: &Pool, facts: &ConfigFacts) -> Option<String> {
    let n = p.max_children.as_ref()?;
    let limit = u64::try_from(p.memory_limit.as_ref()?.value).ok()?;
    let total = n.value.saturating_mul(limit);
    let head = format!(
        "In pool `{}`, `pm.max_children` is {} with `memory_limit` {}: {} of workers at the limit",
        p.name,
        n.value,
        human(limit),
        human(total)
    );
    Some(match facts.memory_bytes {
        Some(m) if total > m => format!(
            "{head}, above {}: lower `pm.max_children` to {} or lower `memory_limit` (per-worker RSS is usually well under the limit: size from `ps -o rss` of the workers).",
            super::memory_words(facts),
            (m / limit.max(1)).max(1)
        ),
        Some(_) => format!(
            "{head}, within {}; size `pm.max_children` from the workers' real RSS (`ps -o rss -C php-fpm`) rather than raising it blindly.",
            super::memory_words(facts)
        ),
        None => format!(
            "{head}: compare that with the memory PHP may use (`--memory` gives it to baton) before raising `pm.max_children`."
        ),
    })
}

fn permission_facts(p: &Pool, facts: &ConfigFacts) -> String {
    let (owner, group, mode) = socket_owner(p);
    let socket = p.listen.as_ref().map_or("", |l| l.value.as_str());
    let mut refs: Vec<&Ref> = [&p.listen, &p.listen_owner, &p.listen_group, &p.listen_mode]
        .into_iter()
        .filter_map(|s| s.as_ref().and_then(|s| s.at.as_ref()))
        .collect();
    let who = match facts.nginx.as_ref() {
        Some(n) => {
            refs.extend(n.user.at.as_ref());
            format!(" and nginx runs as {}:{}", n.user.value, n.group.value)
        }
        None => String::new(),
    };
    let refs: Vec<Ref> = refs.into_iter().cloned().collect();
    format!(
        "configuration: pool {}'s socket {socket} is {owner}:{group} {mode:04o}{who} ({})",
        p.name,
        refs_text(&refs)
    )
}

fn permission_step(p: &Pool, facts: &ConfigFacts) -> Option<String> {
    let n = facts.nginx.as_ref()?;
    let (owner, group, mode) = socket_owner(p);
    Some(format!(
        "nginx runs as `{}`: in pool `{}`{} set `listen.owner = {}`, `listen.group = {}` and `listen.mode = 0660` (now {owner}:{group} {mode:04o}), or add `{}` to group `{group}`; then reload php-fpm.",
        n.user.value,
        p.name,
        at_ref(Some(&p.at)),
        n.user.value,
        n.group.value,
        n.user.value
    ))
}

/// Each location with each pool it passes to (the pools of the incident
/// when nginx's side is unknown).
fn timeout_pairs<'a>(
    locations: &[&'a FastcgiLocation],
    pools: &[&'a Pool],
    facts: &'a ConfigFacts,
) -> Vec<(Option<&'a FastcgiLocation>, Option<&'a Pool>)> {
    let mut out = Vec::new();
    for &l in locations {
        let reached: Vec<&Pool> = match facts.fpm.as_ref() {
            Some(f) => pools_of(l, f),
            None => Vec::new(),
        };
        if reached.is_empty() {
            out.push((Some(l), pools.first().copied()));
        }
        for p in reached {
            out.push((Some(l), Some(p)));
        }
    }
    if locations.is_empty() {
        out.extend(pools.iter().map(|&p| (None, Some(p))));
    }
    out.truncate(3);
    out
}

fn timeout_facts(
    loc: Option<&FastcgiLocation>,
    p: Option<&Pool>,
    facts: &ConfigFacts,
    latency: bool,
) -> (String, Option<String>) {
    let read = loc.map(|l| &l.read_timeout);
    let rtt = p.and_then(|p| p.request_terminate_timeout.as_ref());
    let mut parts = Vec::new();
    if let Some(r) = read {
        parts.push(format!(
            "nginx waits {} s (fastcgi_read_timeout{})",
            secs(r.value),
            at(&r.at)
        ));
    }
    match (p, rtt) {
        (Some(p), Some(t)) if t.value > 0.0 => parts.push(format!(
            "pool {} kills requests after {} s (request_terminate_timeout{})",
            p.name,
            secs(t.value),
            at(&t.at)
        )),
        (Some(p), _) => parts.push(format!(
            "pool {} has no request_terminate_timeout{}",
            p.name,
            at_ref(Some(&p.at))
        )),
        _ => {}
    }
    let evidence = format!("configuration: {}", parts.join("; "));
    let cloudflare = facts.nginx.as_ref().is_some_and(|n| {
        n.real_ip_header
            .as_ref()
            .is_some_and(|h| h.value.eq_ignore_ascii_case("CF-Connecting-IP"))
    });
    let step = match (read, rtt.filter(|t| t.value > 0.0)) {
        (Some(r), Some(t)) if super::far_above(r.value, t.value) => Some(format!(
            "`fastcgi_read_timeout` is {} s and `request_terminate_timeout` {} s: nginx keeps waiting {} s for requests php-fpm already killed; set `fastcgi_read_timeout` a few seconds above {} s{}.",
            secs(r.value),
            secs(t.value),
            secs(r.value - t.value),
            secs(t.value),
            if cloudflare && r.value > 100.0 {
                " (and under Cloudflare's 100 s)"
            } else {
                ""
            }
        )),
        (Some(r), None) if p.is_some() => Some(format!(
            "Set `request_terminate_timeout` in pool `{}` a little above the slowest legitimate request and below nginx's `fastcgi_read_timeout` of {} s, so a stuck request frees its worker{}.",
            p.map_or("", |p| p.name.as_str()),
            secs(r.value),
            if latency {
                " instead of holding it until nginx gives up"
            } else {
                ""
            }
        )),
        (Some(r), _) if cloudflare && r.value > 100.0 => Some(format!(
            "`fastcgi_read_timeout` is {} s behind Cloudflare, which gives up after 100 s (524): keep it under 100 s.",
            secs(r.value)
        )),
        _ => None,
    };
    (evidence, step)
}
