//! The values the commands produce and the renderers read: what was read
//! ([`Stats`], one [`StatsFile`] per input) and what it means
//! ([`Report`]). Commands fill them, `output` renders them; neither side
//! reaches into the other.

use baton_correlate::Analysis;
use baton_logparse::cloudflare::EdgeSummary;
use baton_logparse::fpm::FpmSummary;
use baton_logparse::fpm::slowlog::SlowlogSummary;
use baton_logparse::journal::JournalSummary;
use baton_logparse::kernel::KernelSummary;
use baton_logparse::mysql_slow::MysqlSlowSummary;
use baton_logparse::php_error::PhpErrorSummary;
use baton_logparse::summary::{AccessSummary, ErrorSummary, FileSummary};
use baton_logparse::{Compression, PhpCounts, Zone};

use crate::input::InputError;

/// One summarized input.
pub struct StatsFile {
    /// The path as shown.
    pub path: String,
    /// What was read.
    pub summary: FileSummary,
    /// For yearless inputs: the year of the first timestamp, and where it
    /// came from (`--year`, `other inputs`, `file mtime`).
    pub year: Option<(i32, &'static str)>,
    /// How the input was compressed.
    pub compression: Compression,
    /// For compressed inputs: the compressed bytes read.
    pub compressed_bytes: Option<u64>,
    /// Where the zone of its times came from (`own offsets`, `--tz`,
    /// `read as +00:00 ... to match the access log`), once the report's
    /// clock check has run.
    pub tz_source: Option<String>,
    /// The node (machine) it belongs to (`local` when there is one).
    pub node: String,
    /// The container whose log it is (`files[].container`): the compose
    /// service, the Docker container's name from its `config.v2.json`, or
    /// `NAMESPACE/POD/CONTAINER` from a `/var/log/pods` path.
    pub container: Option<String>,
}

/// Everything `baton stats` reports.
pub struct Stats {
    /// The zone used for offset-less timestamps.
    pub zone: Zone,
    /// Where it came from: `--tz`, `access-log offsets` or `default UTC`.
    pub zone_source: &'static str,
    /// Per input, in the order given.
    pub files: Vec<StatsFile>,
    /// How many inputs were access logs.
    pub access_files: usize,
    /// Access-log counts over every input.
    pub access: AccessSummary,
    /// Error-log counts over every input.
    pub error: ErrorSummary,
    /// php-fpm counts over every input, from php-fpm logs and journals
    /// (`None`: none was read).
    pub fpm: Option<FpmSummary>,
    /// Slowlog counts over every input (`None`: no slowlog was read).
    pub slowlog: Option<SlowlogSummary>,
    /// Kernel counts over every input (`None`: no kernel log was read).
    pub kernel: Option<KernelSummary>,
    /// Cloudflare counts over every input (`None`: none was read).
    pub edge: Option<EdgeSummary>,
    /// Journal counts over every input (`None`: none was read).
    pub journal: Option<JournalSummary>,
    /// PHP error-log counts over every input (`None`: none was read).
    pub php_error: Option<PhpErrorSummary>,
    /// MySQL / MariaDB slow-log counts over every input (`None`: none was
    /// read).
    pub mysql_slow: Option<MysqlSlowSummary>,
    /// Inputs that could not be read at all, or were cut short.
    pub errors: Vec<InputError>,
    /// What the nginx and php-fpm configurations read say.
    pub config: baton_logparse::config::ConfigFacts,
    /// What the report should say about how inputs were read (a file whose
    /// records name several hosts).
    pub notes: Vec<String>,
}

impl Stats {
    /// PHP messages by level from every source: nginx's FastCGI stderr
    /// entries and php-fpm's worker output (its log and journals).
    pub fn php_messages(&self) -> PhpCounts {
        let mut c = self.error.php_messages;
        if let Some(f) = &self.fpm {
            c.merge(&f.php_messages);
        }
        if let Some(p) = &self.php_error {
            c.merge(&p.php_messages);
        }
        c
    }
}

/// What `baton report` shows: what was read, and what it means.
pub struct Report {
    /// What was read (events moved out).
    pub stats: Stats,
    /// The correlator's conclusions.
    pub analysis: Analysis,
    /// The nodes read, with their requests and gateway errors.
    pub nodes: Vec<NodeDoc>,
}

/// One node in `nodes` of the stats and report documents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeDoc {
    /// Its name.
    pub name: String,
    /// Inputs read as its logs.
    pub files: usize,
    /// Requests in its access logs.
    pub requests: u64,
    /// Its gateway errors.
    pub gateway_errors: u64,
}
