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
    /// What was read: per-file and global counts.
    Stats(StatsOpts),
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

    /// Force the format of one input, e.g. `--as nginx-error=/var/log/x.log`.
    #[arg(long = "as", value_name = "FORMAT=PATH")]
    pub force: Vec<String>,
}
