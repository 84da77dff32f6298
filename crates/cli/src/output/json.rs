//! `baton.stats.v1` as JSON, exactly as `CONTRACT.md` fixes it.

use std::collections::BTreeMap;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use baton_logparse::config::ConfigFacts;
use baton_logparse::fpm::slowlog::CallKind;

use crate::document::{Stats, StatsFile};

use super::escape_bytes;

#[derive(Serialize)]
struct StatsDoc<'a> {
    schema: &'static str,
    tz: String,
    tz_source: &'static str,
    files: Vec<FileDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<AccessDoc>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    upstream_errors: BTreeMap<&'static str, u64>,
    upstream_warnings: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fpm: Option<FpmDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slowlog: Option<SlowlogDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<KernelDoc>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    php_messages: BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edge: Option<EdgeDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    journal: Option<JournalDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mysql_slow: Option<MysqlSlowDoc>,
    #[serde(skip_serializing_if = "ConfigFacts::is_empty")]
    config: &'a ConfigFacts,
    nodes: Vec<crate::document::NodeDoc>,
}

#[derive(Serialize)]
struct JournalDoc {
    records: u64,
    fpm_lines: u64,
    kernel_lines: u64,
    other_lines: u64,
    fpm_unit_restarts: u64,
}

/// `mysql_slow`: queries, and the count of each of the 20 fingerprints
/// with the most total time.
#[derive(Serialize)]
struct MysqlSlowDoc {
    queries: u64,
    by_fingerprint: BTreeMap<String, u64>,
}

/// How many fingerprints `mysql_slow.by_fingerprint` keeps.
pub const MYSQL_TOP: usize = 20;

#[derive(Serialize)]
struct FpmDoc<'a> {
    max_children_reached: u64,
    child_signals: &'a BTreeMap<String, u64>,
    slow_requests: u64,
    execution_timeouts: u64,
    restarts: u64,
    reloads: u64,
    seems_busy: u64,
    child_exits: u64,
    startup_failures: u64,
    php_fatal_errors: u64,
}

#[derive(Serialize)]
struct KernelDoc {
    oom_kills: u64,
    segfaults: u64,
    oom_kills_php_fpm: u64,
    segfaults_php_fpm: u64,
    untimed: u64,
}

#[derive(Serialize)]
struct EdgeDoc {
    requests: u64,
    status: BTreeMap<String, u64>,
    origin_status: BTreeMap<String, u64>,
    gateway_errors: u64,
}

#[derive(Serialize)]
struct SlowlogDoc {
    traces: u64,
    by_plugin: BTreeMap<String, u64>,
    by_mu_plugin: BTreeMap<String, u64>,
    by_theme: BTreeMap<String, u64>,
    core: u64,
    other: u64,
    truncated: u64,
    by_call: BTreeMap<&'static str, u64>,
}

fn names(m: &BTreeMap<Vec<u8>, u64>) -> BTreeMap<String, u64> {
    m.iter().map(|(k, v)| (escape_bytes(k), *v)).collect()
}

/// One file, as `files[]` of `baton.stats.v1` (and of `baton.report.v1`).
/// Read back (`FileDoc<'static>`, every text owned) by `baton merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDoc<'a> {
    pub path: Cow<'a, str>,
    pub format: Cow<'a, str>,
    pub node: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<Cow<'a, str>>,
    pub lines: u64,
    pub parsed: u64,
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<Cow<'a, str>, u64>,
    pub skipped_samples: Vec<SampleDoc<'a>>,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_source: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz_source: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeDoc<'a>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub formats: BTreeMap<Cow<'a, str>, u64>,
}

/// A container envelope taken off an input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeDoc<'a> {
    pub kind: Cow<'a, str>,
    pub physical_lines: u64,
    pub partials: u64,
    pub not_enveloped: u64,
}

/// A skipped line's sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleDoc<'a> {
    pub line: u64,
    pub reason: Cow<'a, str>,
    pub text: String,
}

#[derive(Serialize)]
struct AccessDoc {
    requests: u64,
    status: BTreeMap<String, u64>,
}

/// The `files[]` entry of one input.
pub fn file_doc(f: &StatsFile) -> FileDoc<'_> {
    let t = &f.summary.tally;
    let range = f.summary.range();
    FileDoc {
        path: Cow::Borrowed(&f.path),
        format: Cow::Borrowed(f.summary.format.as_str()),
        node: Cow::Borrowed(&f.node),
        container: f.container.as_deref().map(Cow::Borrowed),
        reason: f.summary.reason.as_deref().map(Cow::Borrowed),
        variant: f.summary.variant.map(Cow::Borrowed),
        lines: t.lines,
        parsed: t.parsed,
        skipped: t.skipped(),
        skipped_by_reason: baton_logparse::SkipReason::ALL
            .iter()
            .filter(|r| t.skipped_for(**r) > 0)
            .map(|r| (Cow::Borrowed(r.as_str()), t.skipped_for(*r)))
            .collect(),
        skipped_samples: t
            .samples
            .iter()
            .map(|s| SampleDoc {
                line: s.line,
                reason: Cow::Borrowed(s.reason.as_str()),
                text: escape_bytes(&s.text),
            })
            .collect(),
        bytes: t.bytes,
        compressed_bytes: f.compressed_bytes,
        first_time: range.first.map(|t| t.to_rfc3339()),
        last_time: range.last.map(|t| t.to_rfc3339()),
        year: f.year.map(|(y, _)| y),
        year_source: f.year.map(|(_, s)| Cow::Borrowed(s)),
        tz_source: f.tz_source.as_deref().map(Cow::Borrowed),
        error: f.summary.read_error.as_ref().map(|e| e.to_string()),
        envelope: f.summary.envelope.map(|e| EnvelopeDoc {
            kind: Cow::Borrowed(e.envelope.as_str()),
            physical_lines: e.physical_lines,
            partials: e.partials,
            not_enveloped: e.not_enveloped,
        }),
        formats: f
            .summary
            .formats
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (Cow::Borrowed(k.as_str()), *n))
            .collect(),
    }
}

/// Renders `baton.stats.v1` (a struct, so that keys keep the contract's order).
pub fn stats(s: &Stats) -> impl Serialize + '_ {
    let access = (s.access_files > 0).then(|| AccessDoc {
        requests: s.access.requests,
        status: s
            .access
            .status()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    });
    StatsDoc {
        schema: "baton.stats.v1",
        tz: s.zone.to_string(),
        tz_source: s.zone_source,
        files: s.files.iter().map(file_doc).collect(),
        access,
        upstream_errors: s
            .error
            .upstream_errors()
            .into_iter()
            .map(|(k, n)| (k.as_str(), n))
            .collect(),
        upstream_warnings: s.error.upstream_warnings,
        fpm: s.fpm.as_ref().map(|f| FpmDoc {
            max_children_reached: f.max_children_reached,
            child_signals: &f.child_signals,
            slow_requests: f.slow_requests,
            execution_timeouts: f.execution_timeouts,
            restarts: f.restarts,
            reloads: f.reloads,
            seems_busy: f.seems_busy,
            child_exits: f.child_exits,
            startup_failures: f.startup_failures,
            php_fatal_errors: f.php_fatal_errors,
        }),
        slowlog: s.slowlog.as_ref().map(|sl| SlowlogDoc {
            traces: sl.traces,
            by_plugin: names(&sl.by_plugin),
            by_mu_plugin: names(&sl.by_mu_plugin),
            by_theme: names(&sl.by_theme),
            core: sl.core,
            other: sl.other,
            truncated: sl.truncated,
            by_call: CallKind::ALL
                .iter()
                .filter(|c| sl.calls[c.index()] > 0)
                .map(|c| (c.as_str(), sl.calls[c.index()]))
                .collect(),
        }),
        kernel: s.kernel.as_ref().map(|k| KernelDoc {
            oom_kills: k.oom_kills,
            segfaults: k.segfaults,
            oom_kills_php_fpm: k.oom_kills_php_fpm,
            segfaults_php_fpm: k.segfaults_php_fpm,
            untimed: k.untimed,
        }),
        php_messages: s
            .php_messages()
            .non_zero()
            .into_iter()
            .map(|(l, n)| (l.as_str(), n))
            .collect(),
        edge: s.edge.as_ref().map(|e| EdgeDoc {
            requests: e.requests,
            status: e.status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            origin_status: e
                .origin_status
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            gateway_errors: e.gateway_errors,
        }),
        journal: s.journal.as_ref().map(|j| JournalDoc {
            records: j.records,
            fpm_lines: j.fpm_lines,
            kernel_lines: j.kernel_lines,
            other_lines: j.other_lines,
            fpm_unit_restarts: j.units.restarts,
        }),
        mysql_slow: s.mysql_slow.as_ref().map(|m| MysqlSlowDoc {
            queries: m.queries,
            by_fingerprint: m
                .top(MYSQL_TOP)
                .into_iter()
                .map(|d| (d.fingerprint.clone(), d.count))
                .collect(),
        }),
        config: &s.config,
        nodes: crate::nodes::stats_nodes(&s.files),
    }
}
