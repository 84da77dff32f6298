//! The command line, as `CONTRACT.md` fixes it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// baton: which handoff failed, and why? Reads the archived logs of an
/// nginx → PHP-FPM stack and accounts for every line.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about, max_term_width = 100)]
pub struct Opts {
    #[command(subcommand)]
    pub command: CommandOpts,
}

#[derive(Debug, Subcommand)]
pub enum CommandOpts {
    /// The post-mortem: incidents, verdicts, evidence, next steps.
    Report(ReportOpts),
    /// What was read: per-file and global counts.
    Stats(StatsOpts),
    /// The normalized events (`baton.events.v1`), for DuckDB, pandas or Spark.
    Events(EventsOpts),
    /// Combines `baton report --format json` documents (of several nodes,
    /// or of one node over consecutive windows) into the report one run
    /// over all their inputs would give.
    Merge(MergeOpts),
}

#[derive(Debug, Args)]
pub struct MergeOpts {
    /// `baton.report.v1` documents (`baton report --format json`), `-` for
    /// standard input.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportOpts {
    /// Files, directories (walked recursively) or `-` for standard input.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Exit 1 when an incident is found (`incident`), or an incident with
    /// this verdict (`connectivity`, `capacity`, `latency`, `crash`, `edge`,
    /// `unknown`).
    #[arg(long = "fail-on", value_name = "incident|VERDICT")]
    pub fail_on: Option<String>,

    /// The memory PHP's workers share (`4G`, `512M`; the machine's RAM or
    /// the service's memory limit): `pm.max_children` × `memory_limit` is
    /// checked against it. Without it, the kernel's OOM report gives it.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,

    #[command(flatten)]
    pub time: WindowOpts,

    #[command(flatten)]
    pub common: CommonOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub struct EventsOpts {
    /// Files, directories (walked recursively) or `-` for standard input.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Output format (`parquet` needs `-o FILE` on a terminal) [default:
    /// jsonl; parquet with --partition].
    #[arg(long, value_enum)]
    pub format: Option<EventsFormat>,

    /// Every request, not only 499 and 5xx.
    #[arg(long)]
    pub all: bool,

    /// Write Hive-partitioned Parquet under the directory `-o DIR`, by
    /// `node` and/or `date` (the UTC date of `time`), in the order given:
    /// `--partition node,date` writes `DIR/node=web1/date=2026-11-24/`.
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub partition: Vec<String>,

    #[command(flatten)]
    pub time: WindowOpts,

    #[command(flatten)]
    pub common: CommonOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Jsonl,
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct StatsOpts {
    /// Files, directories (walked recursively) or `-` for standard input.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,

    #[command(flatten)]
    pub common: CommonOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Text,
    Json,
}

/// `--window` when not given, in seconds.
pub const DEFAULT_WINDOW_S: u32 = 60;

/// The time options of the commands that correlate (`report`, `events`);
/// `stats` counts everything read and takes none of them.
#[derive(Debug, Args)]
pub struct WindowOpts {
    /// Keep only events at or after TIME (RFC 3339, or
    /// `YYYY-MM-DD HH:MM:SS` in the `--tz` zone).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Keep only events before TIME (RFC 3339, or `YYYY-MM-DD HH:MM:SS`
    /// in the `--tz` zone).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// How far (seconds) before a gateway error's request start the
    /// correlator looks for causes.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_WINDOW_S,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub window: u32,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct CommonOpts {
    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Zone of timestamps that carry none (nginx error log): `+01:00`,
    /// `-0500`, `UTC` or an IANA name such as `Europe/Berlin`. Default: the
    /// access log's own offset when one is given, else UTC.
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub tz: Option<String>,

    /// The year of the first yearless timestamp (journal, syslog, kern.log).
    /// Default: inferred from the other inputs, else from the file's
    /// modification time.
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,

    /// When the machine booted (RFC 3339, or seconds since the epoch): times
    /// raw `dmesg` lines, whose `[12345.678901]` stamps count from boot.
    /// Without it they are counted as untimed.
    #[arg(long = "boot-time", value_name = "TIME")]
    pub boot_time: Option<String>,

    /// The nginx `log_format` string of access logs that detection does not
    /// recognize, e.g. copied from `nginx -T`.
    #[arg(long = "log-format", value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Force the format of one input instead of detecting it, e.g.
    /// `--as nginx-error=/var/log/x.log`; the help lists every FORMAT (see
    /// [`force_help`]). Repeat it for several inputs.
    #[arg(long = "as", value_name = "FORMAT=PATH", help = force_help())]
    pub force: Vec<String>,

    /// Read PATH (a file or directory) as the logs of the machine NAME,
    /// e.g. `--node web1=/srv/bundle/web1`. Repeat it for several nodes.
    #[arg(long = "node", value_name = "NAME=PATH")]
    pub node: Vec<String>,

    /// No progress on standard error, even on a terminal.
    #[arg(long, conflicts_with = "progress")]
    pub quiet: bool,

    /// Progress on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
}

/// The help of `--as`, listing every format name it accepts (from the list
/// `--as` parses with, [`Format::READABLE`]).
///
/// [`Format::READABLE`]: baton_logparse::Format::READABLE
pub fn force_help() -> String {
    format!(
        "Force the format of one input instead of detecting it, e.g. \
         `--as nginx-error=/var/log/x.log`. FORMAT is one of {}. Repeat it \
         for several inputs",
        format_names()
    )
}

/// `` `nginx-access`, `nginx-error`, ... or `fpm-config` ``: the names
/// `--as` accepts.
pub fn format_names() -> String {
    let names: Vec<String> = baton_logparse::Format::READABLE
        .iter()
        .map(|f| format!("`{}`", f.as_str()))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}
