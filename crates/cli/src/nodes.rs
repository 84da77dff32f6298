//! Nodes: which machine each input belongs to (`--node NAME=PATH`, a
//! bundle's subdirectories, else `local`), and the per-node analyses
//! combined into one report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use baton_correlate::Analysis;
use baton_correlate::model::{Mark, TimelineMinute};
use baton_logparse::Format;

use crate::config::Config;
use crate::document::StatsFile;

/// The node of inputs no option or layout names.
pub const LOCAL: &str = "local";

/// Formats that can show a gateway error: a subdirectory holding one is a
/// machine's log set.
fn gateway_log(f: Format) -> bool {
    matches!(f, Format::NginxAccess | Format::NginxError)
}

/// Names every input's node: `--node NAME=PATH` (the path itself or
/// anything under it), else a bundle's subdirectory, else the host its
/// records name (the journal's `_HOSTNAME`, syslog's host field), else
/// `local`. Returns what the report should say about it (a file whose
/// records name several hosts, files no host could be told for).
pub fn assign(config: &Config, files: &mut [StatsFile]) -> Vec<String> {
    let bundles = bundles(config, files);
    // `--node` paths as given and as the file system resolves them: a file
    // read through another spelling of the path (a plain argument naming
    // the same folder) is still that node's.
    let roots: Vec<(&str, &Path, Option<std::path::PathBuf>)> = config
        .nodes
        .iter()
        .map(|(n, root)| (n.as_str(), root.as_path(), std::fs::canonicalize(root).ok()))
        .collect();
    let mut unnamed = Vec::new();
    for (i, f) in files.iter_mut().enumerate() {
        let p = Path::new(&f.path);
        let canon = if roots.is_empty() {
            None
        } else {
            std::fs::canonicalize(p).ok()
        };
        let named = roots
            .iter()
            .find(|(_, root, croot)| {
                p.starts_with(root)
                    || matches!((&canon, croot), (Some(c), Some(r)) if c.starts_with(r))
            })
            .map(|(n, _, _)| n.to_string());
        let named = named.or_else(|| {
            bundles.iter().find_map(|root| {
                let rest = p.strip_prefix(root).ok()?;
                let mut c = rest.components();
                let first = c.next()?;
                // Files beside the nodes' folders belong to none.
                c.next()?;
                Some(first.as_os_str().to_string_lossy().into_owned())
            })
        });
        match named {
            Some(n) => f.node = n,
            None => {
                f.node = LOCAL.to_string();
                unnamed.push(i);
            }
        }
    }
    by_record(files, &unnamed)
}

/// Host names that name no machine: what a syslog line carries before the
/// machine has its name.
fn placeholder(host: &[u8]) -> bool {
    matches!(
        host,
        b"localhost" | b"localhost.localdomain" | b"(none)" | b"(null)"
    )
}

/// The hosts an input's records name (journal and syslog forms).
fn hosts_of(f: &StatsFile) -> Option<&baton_logparse::hosts::Hosts> {
    let s = &f.summary;
    match s.format {
        Format::Journal => s.journal.as_ref().map(|j| &j.hosts),
        Format::Kernel => s.kernel.as_ref().map(|k| &k.hosts),
        _ => None,
    }
}

/// Names the `unnamed` inputs by the hosts their records name. A file is
/// one node (the contract's rule): a file whose records name several hosts
/// (a machine renamed, or a central syslog file) is the node of the host
/// most of its records name, and the report says so. Files whose records
/// name no host (nginx's and php-fpm's own logs) are that machine's when
/// every named file names the same one host; with several hosts they stay
/// `local`, and the report says so.
fn by_record(files: &mut [StatsFile], unnamed: &[usize]) -> Vec<String> {
    let mut notes = Vec::new();
    let mut hosts: BTreeSet<String> = BTreeSet::new();
    let mut hostless = Vec::new();
    for &i in unnamed {
        let Some(h) = hosts_of(&files[i]) else {
            hostless.push(i);
            continue;
        };
        let mut real: Vec<(&[u8], u64)> = h
            .by_name
            .iter()
            .filter(|(k, _)| !placeholder(k))
            .map(|(k, v)| (k.as_slice(), *v))
            .collect();
        // Most records first, then by name.
        real.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let Some(&(top, _)) = real.first() else {
            hostless.push(i);
            continue;
        };
        let name = crate::output::escape_bytes(top);
        if real.len() > 1 || h.other > 0 {
            let mut listed: Vec<String> = real
                .iter()
                .take(4)
                .map(|(k, v)| format!("{} {v}", crate::output::escape_bytes(k)))
                .collect();
            let more = real.len().saturating_sub(4) as u64 + u64::from(h.other > 0);
            if more > 0 {
                listed.push("more".to_string());
            }
            notes.push(format!(
                "{}: its records name several hosts ({}): read as node {name}, the host most of them name (a file belongs to one node); to read each host apart, give each host's records as a file of its own (journalctl _HOSTNAME=..., or grep the host field)",
                files[i].path,
                listed.join(", "),
            ));
        }
        files[i].node = name.clone();
        hosts.insert(name);
    }
    if hosts.len() == 1 {
        let only = hosts.iter().next().cloned().unwrap_or_default();
        for &i in &hostless {
            files[i].node = only.clone();
        }
    } else if hosts.len() > 1 && !hostless.is_empty() {
        let shown: Vec<&str> = hostless
            .iter()
            .take(3)
            .map(|&i| files[i].path.as_str())
            .collect();
        notes.push(format!(
            "the records name hosts {} but {} name no host ({}{}): read as node {LOCAL}; give their machine with --node NAME=PATH",
            hosts.iter().cloned().collect::<Vec<_>>().join(", "),
            if hostless.len() == 1 { "1 file" } else { "files" },
            shown.join(", "),
            if hostless.len() > 3 { ", ..." } else { "" },
        ));
    }
    notes
}

/// The directories on the command line laid out as bundles of nodes: below
/// them (past any single folder leading to everything), two or more
/// subdirectories each hold an nginx log, and one kind of nginx log is in
/// two of them (an `access/` and an `error/` folder are one machine's).
fn bundles(config: &Config, files: &[StatsFile]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for given in &config.paths {
        if !given.is_dir() {
            continue;
        }
        let under: Vec<(&Path, Format)> = files
            .iter()
            .filter_map(|f| {
                let rest = Path::new(&f.path).strip_prefix(given).ok()?;
                Some((rest, f.summary.format))
            })
            .collect();
        let mut root = given.clone();
        let mut depth = 0;
        // Descend through a folder that everything is under.
        loop {
            let firsts: BTreeSet<_> = under
                .iter()
                .map(|(r, _)| r.components().nth(depth).map(|c| c.as_os_str()))
                .collect();
            let deeper = under
                .iter()
                .all(|(r, _)| r.components().count() > depth + 2);
            match (firsts.len(), firsts.iter().next()) {
                (1, Some(Some(c))) if deeper => {
                    root.push(c);
                    depth += 1;
                }
                _ => break,
            }
        }
        let mut by_dir: BTreeMap<&std::ffi::OsStr, BTreeSet<Format>> = BTreeMap::new();
        for (r, fmt) in &under {
            let mut c = r.components().skip(depth);
            let (Some(first), Some(_)) = (c.next(), c.next()) else {
                continue;
            };
            if gateway_log(*fmt) {
                by_dir.entry(first.as_os_str()).or_default().insert(*fmt);
            }
        }
        let shared = [Format::NginxAccess, Format::NginxError]
            .iter()
            .any(|f| by_dir.values().filter(|s| s.contains(f)).count() >= 2);
        if by_dir.len() >= 2 && shared {
            out.push(root);
        }
    }
    out
}

/// The nodes read, by name.
pub fn names(files: &[StatsFile]) -> Vec<String> {
    let set: BTreeSet<&str> = files.iter().map(|f| f.node.as_str()).collect();
    set.into_iter().map(String::from).collect()
}

pub use crate::document::NodeDoc;

/// `nodes` of `baton.stats.v1`: requests and 502/504s of each node's
/// access logs.
pub fn stats_nodes(files: &[StatsFile]) -> Vec<NodeDoc> {
    names(files)
        .into_iter()
        .map(|name| {
            let mine = files.iter().filter(|f| f.node == name);
            let mut d = NodeDoc {
                name: name.clone(),
                files: 0,
                requests: 0,
                gateway_errors: 0,
            };
            for f in mine {
                d.files += 1;
                if let Some(a) = &f.summary.access {
                    d.requests += a.requests;
                    let st = a.status();
                    d.gateway_errors +=
                        st.get(&502).copied().unwrap_or(0) + st.get(&504).copied().unwrap_or(0);
                }
            }
            d
        })
        .collect()
}

/// One node's analysis, with its name.
pub struct NodeAnalysis {
    /// The node.
    pub name: String,
    /// What the correlator made of its inputs alone.
    pub analysis: Analysis,
}

/// The per-node analyses as one: incidents of every node in start order,
/// renumbered, each with its node; findings with their node; totals,
/// joins, timelines summed; warnings prefixed with the node; fleet
/// incidents over them.
pub fn combine(parts: Vec<NodeAnalysis>, window: baton_correlate::model::Window) -> Analysis {
    let n = parts.len();
    let mut out = Analysis {
        window,
        ..Analysis::default()
    };
    let mut timeline: BTreeMap<i64, TimelineMinute> = BTreeMap::new();
    let mut marks: BTreeMap<(i64, &'static str), Mark> = BTreeMap::new();
    let mut incidents = Vec::new();
    for (k, p) in parts.into_iter().enumerate() {
        let a = p.analysis;
        out.warnings
            .extend(a.warnings.into_iter().map(|w| format!("{}: {w}", p.name)));
        out.joins.add(&a.joins);
        out.totals.add(&a.totals);
        out.background.gateway_errors += a.background.gateway_errors;
        for mut f in a.background.findings {
            f.node = Some(p.name.clone());
            out.background.findings.push(f);
        }
        for mut i in a.incidents {
            i.node = Some(p.name.clone());
            let start = i.start.unix_us;
            incidents.push((start, k, i.id, i));
        }
        for m in a.timeline {
            TimelineMinute::merge_into(&mut timeline, &m);
        }
        for m in a.marks {
            marks
                .entry((m.t, m.kind))
                .and_modify(|x| x.count += m.count)
                .or_insert(m);
        }
        for c in a.config_findings {
            if !out.config_findings.contains(&c) {
                out.config_findings.push(c);
            }
        }
    }
    incidents.sort_by_key(|(s, k, id, _)| (*s, *k, *id));
    out.incidents = incidents
        .into_iter()
        .enumerate()
        .map(|(n, (_, _, _, mut i))| {
            i.id = n as u32 + 1;
            i
        })
        .collect();
    out.background
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.count));
    out.timeline = timeline.into_values().collect();
    out.marks = marks.into_values().collect();
    out.fleet_incidents = baton_correlate::fleet::fleet(&out.incidents, n);
    out
}
