//! Configuration checks: mistakes in nginx's and php-fpm's configuration
//! that cause or hide 502/504s, found with no incident needed. Each check
//! is the contract's (`config_findings[].check`) and cites the directive
//! lines it read (`refs`, as `nginx -T` names the files).

use serde::{Deserialize, Serialize};

use baton_logparse::config::nginx::{COMBINED, FastcgiLocation, NginxFacts, Server};
use baton_logparse::config::{ConfigFacts, FpmFacts, Pool, Ref, Setting};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Requests fail because of it.
    Error,
    /// Failures last longer, or hide, because of it.
    Warning,
    /// The logs say less because of it.
    Info,
}

/// One configuration finding of `baton.report.v1`'s `config_findings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigFinding {
    /// The contract's check name (`socket_access`, ...).
    #[serde(deserialize_with = "crate::statics::check")]
    pub check: crate::statics::Name,
    /// How much it matters.
    pub severity: Severity,
    /// What is wrong and what it does, in a sentence or two.
    pub text: String,
    /// The directive lines it rests on.
    pub refs: Vec<Ref>,
}

/// Cloudflare's origin timeout: it answers 524 after 100 s.
const CLOUDFLARE_TIMEOUT_S: f64 = 100.0;
/// The smallest `listen.backlog` not flagged.
const MIN_BACKLOG: i64 = 128;

/// Every check over the facts; `edge`: Cloudflare logs were read (or the
/// configuration says Cloudflare is in front).
pub fn check(facts: &ConfigFacts, edge: bool) -> Vec<ConfigFinding> {
    let mut out = Vec::new();
    let nginx = facts.nginx.as_ref();
    let fpm = facts.fpm.as_ref();
    if let (Some(n), Some(f)) = (nginx, fpm) {
        fastcgi_pass_mismatch(n, f, &mut out);
        socket_access(n, f, &mut out);
    }
    if let Some(f) = fpm {
        for p in &f.pools {
            static_pool_silent(p, &mut out);
            slowlog_off(p, &mut out);
            backlog_small(p, &mut out);
            if let Some(m) = facts.memory_bytes {
                max_children_memory(p, m, &memory_words(facts), &mut out);
            }
        }
    }
    timeout_order(nginx, fpm, edge, &mut out);
    if let Some(n) = nginx {
        request_id_missing(n, &mut out);
    }
    let order = |c: &str| CHECKS.iter().position(|x| *x == c).unwrap_or(CHECKS.len());
    out.sort_by(|a, b| {
        (a.severity, order(a.check), &a.refs).cmp(&(b.severity, order(b.check), &b.refs))
    });
    out.dedup_by(|a, b| a.check == b.check && a.text == b.text);
    out
}

/// The contract's check names, in its order.
pub const CHECKS: [&str; 8] = [
    "fastcgi_pass_mismatch",
    "socket_access",
    "static_pool_silent",
    "slowlog_off",
    "timeout_order",
    "backlog_small",
    "max_children_memory",
    "request_id_missing",
];

/// An address nginx connects to or php-fpm listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Addr {
    Unix(String),
    /// Host (`*`: every address) and port.
    Tcp(String, u16),
}

fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (h, p) = rest.split_once("]:")?;
            (h.to_string(), p)
        }
        None => match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => ("*".to_string(), s),
        },
    };
    Some((host, port.parse().ok()?))
}

/// A `fastcgi_pass` target: `unix:/path`, `host:port`.
fn nginx_addr(s: &str) -> Option<Addr> {
    if s.contains('$') {
        return None;
    }
    if let Some(p) = s.strip_prefix("unix:") {
        return Some(Addr::Unix(p.to_string()));
    }
    let (h, p) = split_host_port(s)?;
    (h != "*").then_some(Addr::Tcp(h, p))
}

/// A pool's `listen`: a path, `port`, `addr:port`.
fn fpm_addr(s: &str) -> Option<Addr> {
    if s.starts_with('/') {
        return Some(Addr::Unix(s.to_string()));
    }
    let (h, p) = split_host_port(s)?;
    let any = matches!(h.as_str(), "*" | "0.0.0.0" | "::" | "");
    Some(Addr::Tcp(if any { "*".to_string() } else { h }, p))
}

fn loopback(h: &str) -> bool {
    h == "localhost" || h == "::1" || h.starts_with("127.")
}

/// Whether a target is on this machine (where the pools read are).
fn local(a: &Addr) -> bool {
    match a {
        Addr::Unix(_) => true,
        Addr::Tcp(h, _) => loopback(h),
    }
}

fn reaches(target: &Addr, listen: &Addr) -> bool {
    match (target, listen) {
        (Addr::Unix(a), Addr::Unix(b)) => a == b,
        (Addr::Tcp(th, tp), Addr::Tcp(lh, lp)) => {
            tp == lp && (lh == "*" || th == lh || loopback(th) && loopback(lh))
        }
        _ => false,
    }
}

fn refs<'a>(at: impl IntoIterator<Item = Option<&'a Ref>>) -> Vec<Ref> {
    let mut v: Vec<Ref> = at.into_iter().flatten().cloned().collect();
    v.dedup();
    v
}

fn where_(s: &Server, f: &FastcgiLocation) -> String {
    let name = s.names.first().map_or("_", |n| n.as_str());
    if f.location.is_empty() {
        format!("server {name}")
    } else {
        format!("server {name}, location {}", f.location)
    }
}

/// The pools a location's `fastcgi_pass` reaches.
fn pools_of<'a>(f: &FastcgiLocation, fpm: &'a FpmFacts) -> Vec<&'a Pool> {
    let targets: Vec<Addr> = f
        .targets
        .iter()
        .filter_map(|t| nginx_addr(&t.value))
        .collect();
    fpm.pools
        .iter()
        .filter(|p| {
            let Some(l) = p.listen.as_ref().and_then(|l| fpm_addr(&l.value)) else {
                return false;
            };
            targets.iter().any(|t| reaches(t, &l))
        })
        .collect()
}

fn fastcgi_pass_mismatch(n: &NginxFacts, fpm: &FpmFacts, out: &mut Vec<ConfigFinding>) {
    let listens: Vec<(&Pool, Addr)> = fpm
        .pools
        .iter()
        .filter_map(|p| Some((p, fpm_addr(&p.listen.as_ref()?.value)?)))
        .collect();
    if listens.is_empty() {
        return;
    }
    for (s, f) in n.fastcgi() {
        for t in &f.targets {
            let Some(a) = nginx_addr(&t.value) else {
                continue;
            };
            if !local(&a) || listens.iter().any(|(_, l)| reaches(&a, l)) {
                continue;
            }
            let pools: Vec<String> = listens
                .iter()
                .map(|(p, _)| {
                    format!(
                        "{} ({})",
                        p.listen.as_ref().map_or("", |l| l.value.as_str()),
                        p.name
                    )
                })
                .collect();
            let via = if t.value == f.pass.value {
                String::new()
            } else {
                format!(" (through upstream {})", f.pass.value)
            };
            out.push(ConfigFinding {
                check: "fastcgi_pass_mismatch",
                severity: Severity::Error,
                text: format!(
                    "nginx passes PHP requests to {}{via} ({}), where no php-fpm pool listens: the pools listen on {}; every such request fails with 502 (connect() failed)",
                    t.value,
                    where_(s, f),
                    pools.join(", ")
                ),
                refs: refs(
                    [f.pass.at.as_ref(), t.at.as_ref()]
                        .into_iter()
                        .chain(listens.iter().map(|(p, _)| p.listen.as_ref().and_then(|l| l.at.as_ref()))),
                ),
            });
        }
    }
}

fn socket_access(n: &NginxFacts, fpm: &FpmFacts, out: &mut Vec<ConfigFinding>) {
    let user = n.user.value.as_str();
    let group = n.group.value.as_str();
    if user == "root" {
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (s, f) in n.fastcgi() {
        for p in pools_of(f, fpm) {
            if !p.listens_on_socket() || seen.contains(&p.name.as_str()) {
                continue;
            }
            seen.push(&p.name);
            let list = |v: &Option<Setting<String>>| -> Vec<String> {
                v.as_ref()
                    .map(|s| {
                        s.value
                            .split([',', ' '])
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (acl_u, acl_g) = (list(&p.listen_acl_users), list(&p.listen_acl_groups));
            let socket = p.listen.as_ref().map_or("", |l| l.value.as_str());
            let text = if !acl_u.is_empty() || !acl_g.is_empty() {
                if acl_u.iter().any(|u| u == user) || acl_g.iter().any(|g| g == group) {
                    continue;
                }
                format!(
                    "nginx runs as {user}:{group}, which pool {}'s socket {socket} does not let in: its ACLs allow users [{}] and groups [{}]; requests fail with 502 (13: Permission denied) ({})",
                    p.name,
                    acl_u.join(", "),
                    acl_g.join(", "),
                    where_(s, f)
                )
            } else {
                let (owner, sgroup, mode) = socket_owner(p);
                let bits = if user == owner {
                    mode >> 6
                } else if group == sgroup {
                    mode >> 3
                } else {
                    mode
                };
                if bits & 0o2 != 0 {
                    continue;
                }
                format!(
                    "nginx runs as {user}:{group}, but pool {}'s socket {socket} is {owner}:{sgroup} {mode:04o}: nginx cannot connect to it unless {user} is a member of group {sgroup}; requests fail with 502 (13: Permission denied) ({})",
                    p.name,
                    where_(s, f)
                )
            };
            out.push(ConfigFinding {
                check: "socket_access",
                severity: Severity::Error,
                text,
                refs: refs([
                    n.user.at.as_ref(),
                    p.listen.as_ref().and_then(|l| l.at.as_ref()),
                    p.listen_owner.as_ref().and_then(|l| l.at.as_ref()),
                    p.listen_group.as_ref().and_then(|l| l.at.as_ref()),
                    p.listen_mode.as_ref().and_then(|l| l.at.as_ref()),
                    p.listen_acl_users.as_ref().and_then(|l| l.at.as_ref()),
                    p.listen_acl_groups.as_ref().and_then(|l| l.at.as_ref()),
                ]),
            });
        }
    }
}

/// A socket's owner, group and mode as php-fpm creates it: `listen.owner`
/// (else the pool's `user`, else root), `listen.group` (else the pool's
/// `group`, else the owner's), `listen.mode` (else 0660).
fn socket_owner(p: &Pool) -> (&str, &str, u32) {
    let owner = p
        .listen_owner
        .as_ref()
        .or(p.user.as_ref())
        .map_or("root", |o| o.value.as_str());
    let group = p
        .listen_group
        .as_ref()
        .or(p.group.as_ref())
        .map_or(owner, |g| g.value.as_str());
    (owner, group, p.mode())
}

fn static_pool_silent(p: &Pool, out: &mut Vec<ConfigFinding>) {
    let Some(pm) = p.pm.as_ref().filter(|pm| pm.value == "static") else {
        return;
    };
    out.push(ConfigFinding {
        check: "static_pool_silent",
        severity: Severity::Info,
        text: format!(
            "pool {} is pm = static{}: php-fpm never logs 'reached pm.max_children' for a static pool, so when it is saturated the logs show only connect() errors (11: Resource temporarily unavailable) and timeouts",
            p.name,
            p.max_children
                .as_ref()
                .map(|m| format!(" with {} workers", m.value))
                .unwrap_or_default()
        ),
        refs: refs([pm.at.as_ref(), p.max_children.as_ref().and_then(|m| m.at.as_ref())]),
    });
}

fn slowlog_off(p: &Pool, out: &mut Vec<ConfigFinding>) {
    let timeout = p.request_slowlog_timeout.as_ref();
    let why = match (&p.slowlog, timeout) {
        (None, _) => "has no slowlog",
        (Some(_), None) => "has no request_slowlog_timeout",
        (Some(_), Some(t)) if t.value <= 0.0 => "has request_slowlog_timeout = 0 (off)",
        _ => return,
    };
    out.push(ConfigFinding {
        check: "slowlog_off",
        severity: Severity::Warning,
        text: format!(
            "pool {} {why}: slow requests leave no stack trace, so a latency incident cannot name the plugin, query or call behind it; set slowlog and request_slowlog_timeout (e.g. 5s)",
            p.name
        ),
        refs: refs([
            Some(&p.at),
            p.slowlog.as_ref().and_then(|s| s.at.as_ref()),
            timeout.and_then(|t| t.at.as_ref()),
        ]),
    });
}

fn timeout_order(
    nginx: Option<&NginxFacts>,
    fpm: Option<&FpmFacts>,
    edge: bool,
    out: &mut Vec<ConfigFinding>,
) {
    if let Some(f) = fpm {
        for p in &f.pools {
            let rtt = p.request_terminate_timeout.as_ref();
            match rtt {
                Some(t) if t.value > 0.0 => {
                    let Some(n) = nginx else { continue };
                    for (s, loc) in n.fastcgi() {
                        if far_above(loc.read_timeout.value, t.value)
                            && pools_of(loc, f).iter().any(|q| q.name == p.name)
                        {
                            out.push(ConfigFinding {
                                check: "timeout_order",
                                severity: Severity::Warning,
                                text: format!(
                                    "nginx waits {} s for pool {} (fastcgi_read_timeout, {}), which kills requests after {} s (request_terminate_timeout): nginx holds connections open for requests php-fpm already killed; keep fastcgi_read_timeout only a little above request_terminate_timeout",
                                    secs(loc.read_timeout.value),
                                    p.name,
                                    where_(s, loc),
                                    secs(t.value)
                                ),
                                refs: refs([loc.read_timeout.at.as_ref(), t.at.as_ref()]),
                            });
                        }
                    }
                }
                _ => out.push(ConfigFinding {
                    check: "timeout_order",
                    severity: Severity::Warning,
                    text: format!(
                        "pool {} has no request_terminate_timeout: a stuck request holds its worker until nginx gives up{}, and the worker stays busy after that; set it a little below fastcgi_read_timeout",
                        p.name,
                        nginx
                            .and_then(|n| n.fastcgi().next())
                            .map(|(_, l)| format!(" ({} s)", secs(l.read_timeout.value)))
                            .unwrap_or_default()
                    ),
                    refs: refs([Some(&p.at), rtt.and_then(|t| t.at.as_ref())]),
                }),
            }
        }
    }
    let Some(n) = nginx else { return };
    let cloudflare = edge
        || n.real_ip_header
            .as_ref()
            .is_some_and(|h| h.value.eq_ignore_ascii_case("CF-Connecting-IP"));
    if !cloudflare {
        return;
    }
    for (s, loc) in n.fastcgi() {
        if loc.read_timeout.value > CLOUDFLARE_TIMEOUT_S {
            out.push(ConfigFinding {
                check: "timeout_order",
                severity: Severity::Warning,
                text: format!(
                    "behind Cloudflare, nginx waits {} s (fastcgi_read_timeout, {}) but Cloudflare gives up after 100 s with a 524: the user never sees nginx's answer; keep it under 100 s",
                    secs(loc.read_timeout.value),
                    where_(s, loc)
                ),
                refs: refs([
                    loc.read_timeout.at.as_ref(),
                    n.real_ip_header.as_ref().and_then(|h| h.at.as_ref()),
                ]),
            });
        }
    }
}

fn backlog_small(p: &Pool, out: &mut Vec<ConfigFinding>) {
    let Some(b) = p
        .listen_backlog
        .as_ref()
        .filter(|b| (0..MIN_BACKLOG).contains(&b.value))
    else {
        return;
    };
    out.push(ConfigFinding {
        check: "backlog_small",
        severity: Severity::Warning,
        text: format!(
            "pool {} has listen.backlog = {}: when every worker is busy only {} connections can wait, and the next ones fail at once with 502 (11: Resource temporarily unavailable); use 511 or more",
            p.name, b.value, b.value
        ),
        refs: refs([b.at.as_ref()]),
    });
}

/// The machine's memory and where it was read: `the 4G given with
/// --memory`, `the 1G the kernel's OOM report (...) shows`.
fn memory_words(facts: &ConfigFacts) -> String {
    let m = human(facts.memory_bytes.unwrap_or(0));
    match facts.memory_source.as_deref() {
        Some("--memory") => format!("the {m} given with --memory"),
        Some(s) => format!("the {m} {s} shows"),
        None => format!("the machine's {m}"),
    }
}

fn max_children_memory(p: &Pool, memory: u64, words: &str, out: &mut Vec<ConfigFinding>) {
    let (Some(n), Some(m)) = (p.max_children.as_ref(), p.memory_limit.as_ref()) else {
        return;
    };
    let Ok(limit) = u64::try_from(m.value) else {
        return;
    };
    let total = n.value.saturating_mul(limit);
    if total <= memory {
        return;
    }
    out.push(ConfigFinding {
        check: "max_children_memory",
        severity: Severity::Error,
        text: format!(
            "pool {}: pm.max_children {} × memory_limit {} = {} of workers at the limit, above {}: under load the kernel's OOM killer ends workers mid-request (502); lower pm.max_children to {} or lower memory_limit",
            p.name,
            n.value,
            human(limit),
            human(total),
            words,
            (memory / limit.max(1)).max(1)
        ),
        refs: refs([n.at.as_ref(), m.at.as_ref()]),
    });
}

fn request_id_missing(n: &NginxFacts, out: &mut Vec<ConfigFinding>) {
    let logs: Vec<_> = n.access_logs().filter(|l| l.path != "off").collect();
    let traced = logs.iter().any(|l| {
        let text = match n.log_format(&l.format) {
            Some(f) => f.format.as_str(),
            None if l.format == "combined" => COMBINED,
            None => "",
        };
        text.contains("$request_id")
    });
    if traced {
        return;
    }
    out.push(ConfigFinding {
        check: "request_id_missing",
        severity: Severity::Info,
        text: "no access log records $request_id: a request cannot be followed from nginx into php-fpm and the application; add $request_id to the log_format (and pass it on with fastcgi_param HTTP_X_REQUEST_ID $request_id)".to_string(),
        refs: refs(logs.iter().map(|l| l.at.as_ref())),
    });
}

/// Whether nginx's wait is well beyond php-fpm's: by more than 10 s and
/// a fifth (a few seconds above is the advice, so that php-fpm's kill
/// is what ends a stuck request).
fn far_above(read: f64, terminate: f64) -> bool {
    read > terminate + 10.0 && read > terminate * 1.2
}

/// Seconds without a needless `.0`.
fn secs(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        format!("{s:.1}")
    }
}

/// Bytes as `256M`, `5G`, `4.5G`.
fn human(b: u64) -> String {
    const G: u64 = 1 << 30;
    const M: u64 = 1 << 20;
    if b >= G {
        if b.is_multiple_of(G) {
            format!("{}G", b / G)
        } else {
            format!("{:.1}G", b as f64 / G as f64)
        }
    } else if b >= M {
        format!("{}M", b / M)
    } else {
        format!("{b}B")
    }
}

pub(crate) mod evidence;

#[cfg(test)]
mod tests;
