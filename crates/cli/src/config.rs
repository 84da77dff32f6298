//! The validated configuration the commands run with: every option is
//! checked here, before any input is read, so that bad usage exits 2.

use std::path::PathBuf;

use anyhow::{Context, bail};
use baton_logparse::{AccessParser, Format, Zone};

use crate::args::{
    CommandOpts, CommonOpts, DEFAULT_WINDOW_S, EventsFormat, Opts, ReportFormat, StatsFormat,
    WindowOpts,
};

/// What to run.
#[derive(Debug)]
pub enum Command {
    /// `baton report`.
    Report(ReportConfig),
    /// `baton stats`.
    Stats(StatsConfig),
    /// `baton events`.
    Events(EventsConfig),
}

/// `baton report` settings.
#[derive(Debug)]
pub struct ReportConfig {
    /// Output format.
    pub format: ReportFormat,
    /// `--fail-on`: exit 1 when a matching incident is found.
    pub fail_on: Option<FailOn>,
}

/// What `--fail-on` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any incident.
    Incident,
    /// An incident with this verdict.
    Verdict(baton_correlate::Verdict),
}

/// `baton events` settings.
#[derive(Debug)]
pub struct EventsConfig {
    /// Output format.
    pub format: EventsFormat,
    /// Every request, not only 499 and 5xx.
    pub all: bool,
    /// `--partition`: the Hive partition keys, in directory order (empty:
    /// one output).
    pub partition: Vec<PartitionKey>,
}

/// A key of `baton events --partition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKey {
    /// The event's node: `node=web1`.
    Node,
    /// The UTC date of the event's `time`: `date=2026-11-24`.
    Date,
}

/// `--partition node,date`: the keys, each once; Parquet only.
fn parse_partition(
    keys: &[String],
    format: Option<EventsFormat>,
) -> anyhow::Result<(EventsFormat, Vec<PartitionKey>)> {
    let mut out = Vec::new();
    for k in keys {
        let key = match k.trim() {
            "node" => PartitionKey::Node,
            "date" => PartitionKey::Date,
            other => bail!("--partition: {other:?} is not a partition key (node, date)"),
        };
        if out.contains(&key) {
            bail!("--partition: {k} given twice");
        }
        out.push(key);
    }
    match (format, out.is_empty()) {
        (f, true) => Ok((f.unwrap_or(EventsFormat::Jsonl), out)),
        (None | Some(EventsFormat::Parquet), false) => Ok((EventsFormat::Parquet, out)),
        (Some(_), false) => {
            bail!("--partition writes Parquet: drop --format or say --format parquet")
        }
    }
}

/// A `--since` / `--until` bound, resolved once the zone is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// RFC 3339 with an offset: an instant.
    Instant(baton_logparse::Timestamp),
    /// `YYYY-MM-DD HH:MM:SS`: seconds of local civil time in the zone used.
    Local(i64),
}

impl TimeBound {
    /// The instant (unix microseconds) in `zone`.
    pub fn resolve(self, zone: Zone) -> i64 {
        match self {
            TimeBound::Instant(t) => t.unix_us,
            TimeBound::Local(l) => {
                baton_logparse::time::LocalResolver::new(zone)
                    .resolve(l)
                    .unix_us
            }
        }
    }
}

/// Whether to show progress on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// On a terminal only.
    Auto,
    /// Never (`--quiet`).
    Never,
    /// Always (`--progress`).
    Always,
}

/// `baton stats` settings.
#[derive(Debug)]
pub struct StatsConfig {
    /// Output format.
    pub format: StatsFormat,
}

/// Everything a command needs, validated.
#[derive(Debug)]
pub struct Config {
    /// The command.
    pub command: Command,
    /// Input paths as given (`-` is standard input).
    pub paths: Vec<PathBuf>,
    /// Where to write (`None`: standard output).
    pub output: Option<PathBuf>,
    /// The zone given with `--tz`.
    pub tz: Option<Zone>,
    /// The year given with `--year`.
    pub year: Option<i32>,
    /// The boot time given with `--boot-time` (unix seconds).
    pub boot_time: Option<i64>,
    /// The access-log parser compiled from `--log-format`.
    pub log_format: Option<AccessParser>,
    /// Formats forced with `--as FORMAT=PATH`.
    pub forced: Vec<(Format, PathBuf)>,
    /// `--since`.
    pub since: Option<TimeBound>,
    /// `--until`.
    pub until: Option<TimeBound>,
    /// `--window` in seconds.
    pub window_s: u32,
    /// Progress on standard error.
    pub progress: Progress,
    /// Nodes named with `--node NAME=PATH` (their paths are in `paths`).
    pub nodes: Vec<(String, PathBuf)>,
    /// `--memory` (bytes).
    pub memory: Option<u64>,
}

impl Config {
    /// A `report` over no paths, every option at its default and no
    /// progress bar: what the library's front door starts from.
    pub fn library_defaults() -> Config {
        Config {
            command: Command::Report(ReportConfig {
                format: ReportFormat::Json,
                fail_on: None,
            }),
            paths: Vec::new(),
            output: None,
            tz: None,
            year: None,
            boot_time: None,
            log_format: None,
            forced: Vec::new(),
            since: None,
            until: None,
            window_s: 60,
            progress: Progress::Never,
            nodes: Vec::new(),
            memory: None,
        }
    }

    /// Validates the parsed command line.
    pub fn from_opts(opts: Opts) -> anyhow::Result<Config> {
        let memory = match &opts.command {
            CommandOpts::Report(r) => r
                .memory
                .as_deref()
                .map(|m| parse_memory(m).with_context(|| "--memory"))
                .transpose()?,
            _ => None,
        };
        let (command, paths, common, time) = match opts.command {
            CommandOpts::Merge(_) => bail!("baton merge reads reports, not logs"),
            CommandOpts::Stats(s) => (
                Command::Stats(StatsConfig { format: s.format }),
                s.paths,
                s.common,
                None,
            ),
            CommandOpts::Report(r) => (
                Command::Report(ReportConfig {
                    format: r.format,
                    fail_on: r.fail_on.as_deref().map(parse_fail_on).transpose()?,
                }),
                r.paths,
                r.common,
                Some(r.time),
            ),
            CommandOpts::Events(e) => (
                {
                    let (format, partition) = parse_partition(&e.partition, e.format)?;
                    if !partition.is_empty() && e.common.output.is_none() {
                        bail!(
                            "--partition writes a directory of Parquet files: give it with -o DIR"
                        );
                    }
                    Command::Events(EventsConfig {
                        format,
                        all: e.all,
                        partition,
                    })
                },
                e.paths,
                e.common,
                Some(e.time),
            ),
        };
        let nodes = common
            .node
            .iter()
            .map(|n| parse_node(n))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut paths = paths;
        paths.extend(nodes.iter().map(|(_, p)| p.clone()));
        if paths.is_empty() {
            bail!("no input: give files, directories or - for standard input");
        }
        let CommonOpts {
            output,
            tz,
            year,
            boot_time,
            log_format,
            force,
            quiet,
            progress,
            node: _,
        } = common;
        let WindowOpts {
            since,
            until,
            window,
        } = time.unwrap_or(WindowOpts {
            since: None,
            until: None,
            window: DEFAULT_WINDOW_S,
        });
        let since = since
            .map(|s| parse_time_bound(&s).with_context(|| "--since"))
            .transpose()?;
        let until = until
            .map(|s| parse_time_bound(&s).with_context(|| "--until"))
            .transpose()?;
        let progress = match (quiet, progress) {
            (true, _) => Progress::Never,
            (false, true) => Progress::Always,
            (false, false) => Progress::Auto,
        };
        let boot_time = boot_time.map(|b| parse_boot_time(&b)).transpose()?;
        let tz = tz
            .map(|z| z.parse::<Zone>().with_context(|| "--tz"))
            .transpose()?;
        let log_format = log_format
            .map(|f| AccessParser::from_log_format(&f).with_context(|| "--log-format"))
            .transpose()?;
        let forced = force
            .iter()
            .map(|f| parse_force(f))
            .collect::<anyhow::Result<_>>()?;
        Ok(Config {
            command,
            paths,
            output,
            tz,
            year,
            boot_time,
            log_format,
            forced,
            since,
            until,
            window_s: window,
            progress,
            nodes,
            memory,
        })
    }

    /// The format forced for `path` with `--as`, if any.
    pub fn forced_format(&self, path: &std::path::Path) -> Option<Format> {
        self.forced.iter().find(|(_, p)| p == path).map(|(f, _)| *f)
    }
}

/// `--memory`: a size as nginx and PHP write them (`4G`, `512M`, `1048576`;
/// a trailing `B` or `iB` is allowed): bytes.
fn parse_memory(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| {
            t.strip_suffix('B')
                .filter(|r| r.ends_with(|c: char| c.is_ascii_alphabetic()))
        })
        .unwrap_or(t);
    match baton_logparse::config::parse_size(t) {
        Some(b) if b > 0 => Ok(b),
        _ => bail!("{s:?} is not a size (say 4G, 512M or a number of bytes)"),
    }
}

/// `--node NAME=PATH`.
fn parse_node(s: &str) -> anyhow::Result<(String, PathBuf)> {
    let (name, path) = s
        .split_once('=')
        .with_context(|| format!("--node {s:?}: expected NAME=PATH"))?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok || path.is_empty() {
        bail!("--node {s:?}: expected NAME=PATH, NAME of letters, digits, '-', '_' or '.'");
    }
    Ok((name.to_string(), PathBuf::from(path)))
}

/// `--boot-time`: RFC 3339 (`2026-11-24T08:11:14Z`) or unix seconds.
fn parse_boot_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    baton_logparse::time::parse_iso8601(s.as_bytes())
        .map(|t| t.unix_secs())
        .ok_or_else(|| anyhow::anyhow!("--boot-time {s:?}: expected RFC 3339 (2026-11-24T08:11:14Z) or seconds since the epoch"))
}

/// `--fail-on incident|VERDICT`.
fn parse_fail_on(s: &str) -> anyhow::Result<FailOn> {
    if s == "incident" {
        return Ok(FailOn::Incident);
    }
    baton_correlate::Verdict::from_name(s)
        .map(FailOn::Verdict)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--fail-on {s:?}: expected incident, connectivity, capacity, latency, crash, edge or unknown"
            )
        })
}

/// `--since` / `--until`: RFC 3339 (an instant) or `YYYY-MM-DD HH:MM:SS`
/// (local time in the zone used).
fn parse_time_bound(s: &str) -> anyhow::Result<TimeBound> {
    let b = s.trim().as_bytes();
    if let Some(t) = baton_logparse::time::parse_iso8601(b) {
        return Ok(TimeBound::Instant(t));
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())
            .flatten()
    };
    let local = (b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':')
        .then(|| {
            baton_logparse::time::civil_to_secs(
                digits(0..4)? as i64,
                digits(5..7)?,
                digits(8..10)?,
                digits(11..13)?,
                digits(14..16)?,
                digits(17..19)?,
            )
        })
        .flatten();
    local.map(TimeBound::Local).ok_or_else(|| {
        anyhow::anyhow!(
            "{s:?}: expected RFC 3339 (2026-11-24T11:17:00+01:00) or YYYY-MM-DD HH:MM:SS"
        )
    })
}

fn parse_force(s: &str) -> anyhow::Result<(Format, PathBuf)> {
    let Some((name, path)) = s.split_once('=') else {
        bail!("--as {s:?}: expected FORMAT=PATH");
    };
    let Some(format) = Format::from_name(name) else {
        bail!(
            "--as {s:?}: unknown format {name:?} (one of {})",
            crate::args::format_names().replace('`', "")
        );
    };
    if format == Format::Unknown {
        bail!("--as {s:?}: baton cannot read {name} logs yet");
    }
    Ok((format, PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cfg(args: &[&str]) -> anyhow::Result<Config> {
        let opts = Opts::try_parse_from(std::iter::once("baton").chain(args.iter().copied()))?;
        Config::from_opts(opts)
    }

    #[test]
    fn valid_options() {
        let c = cfg(&[
            "stats",
            "--tz",
            "-0500",
            "--as",
            "nginx-error=x.log",
            "a",
            "b",
        ])
        .unwrap();
        assert_eq!(c.tz, Some(Zone::Fixed(-18000)));
        assert_eq!(c.paths.len(), 2);
        let b = cfg(&["stats", "--boot-time", "2026-11-24T08:11:14Z", "a"]).unwrap();
        assert_eq!(b.boot_time, Some(1_795_507_874));
        assert_eq!(
            c.forced_format(std::path::Path::new("x.log")),
            Some(Format::NginxError)
        );
    }

    #[test]
    fn stats_takes_no_time_options() {
        // stats counts everything read: a window would change nothing there.
        for opt in ["--since", "--until", "--window"] {
            assert!(cfg(&["stats", opt, "60", "a"]).is_err(), "{opt}");
        }
        let e = cfg(&[
            "events",
            "--since",
            "2026-11-24T11:00:00Z",
            "--window",
            "5",
            "a",
        ])
        .unwrap();
        assert_eq!(e.window_s, 5);
        assert!(e.since.is_some());
        assert_eq!(cfg(&["stats", "a"]).unwrap().window_s, DEFAULT_WINDOW_S);
    }

    #[test]
    fn report_and_events_options() {
        let c = cfg(&[
            "report",
            "--fail-on",
            "capacity",
            "--since",
            "2026-11-24 11:00:00",
            "--until",
            "2026-11-24T12:00:00Z",
            "--window",
            "120",
            "--quiet",
            "a",
        ])
        .unwrap();
        match c.command {
            Command::Report(r) => assert_eq!(
                r.fail_on,
                Some(FailOn::Verdict(baton_correlate::Verdict::Capacity))
            ),
            _ => panic!("not report"),
        }
        assert_eq!(c.window_s, 120);
        assert_eq!(c.progress, Progress::Never);
        // Local time resolves in the zone used; an instant does not move.
        let since = c.since.unwrap();
        assert_eq!(since.resolve(Zone::UTC), 1_795_518_000_000_000);
        assert_eq!(since.resolve(Zone::Fixed(3600)), 1_795_514_400_000_000);
        let until = c.until.unwrap();
        assert_eq!(until.resolve(Zone::Fixed(3600)), 1_795_521_600_000_000);
        let e = cfg(&["events", "--all", "--format", "csv", "a"]).unwrap();
        assert!(matches!(
            e.command,
            Command::Events(EventsConfig { all: true, .. })
        ));
        assert_eq!(e.window_s, 60);
        assert_eq!(e.progress, Progress::Auto);
    }

    #[test]
    fn partition_keys_mean_parquet_in_a_directory() {
        let e = cfg(&["events", "--partition", "node,date", "-o", "d", "a"]).unwrap();
        match e.command {
            Command::Events(c) => {
                assert_eq!(c.partition, [PartitionKey::Node, PartitionKey::Date]);
                assert_eq!(c.format, EventsFormat::Parquet);
            }
            _ => panic!("not events"),
        }
        let d = cfg(&[
            "events",
            "--partition",
            "date",
            "--format",
            "parquet",
            "-o",
            "d",
            "a",
        ]);
        assert!(d.is_ok());
        // No directory, another format, an unknown or repeated key.
        assert!(cfg(&["events", "--partition", "node", "a"]).is_err());
        assert!(
            cfg(&[
                "events",
                "--partition",
                "node",
                "--format",
                "csv",
                "-o",
                "d",
                "a"
            ])
            .is_err()
        );
        assert!(cfg(&["events", "--partition", "host", "-o", "d", "a"]).is_err());
        assert!(cfg(&["events", "--partition", "date,date", "-o", "d", "a"]).is_err());
        let plain = cfg(&["events", "a"]).unwrap();
        assert!(matches!(
            plain.command,
            Command::Events(EventsConfig {
                format: EventsFormat::Jsonl,
                ..
            })
        ));
    }

    #[test]
    fn malformed_options_are_errors() {
        assert!(cfg(&["stats", "--tz", "+99:00", "a"]).is_err());
        assert!(cfg(&["stats", "--tz", "Nowhere/City", "a"]).is_err());
        assert!(cfg(&["stats", "--as", "nginx-error", "a"]).is_err());
        assert!(cfg(&["stats", "--as", "apache=x", "a"]).is_err());
        assert!(cfg(&["stats"]).is_err());
        assert!(cfg(&["stats", "--format", "xml", "a"]).is_err());
        assert!(cfg(&["stats", "--boot-time", "yesterday", "a"]).is_err());
        assert!(cfg(&["report", "--fail-on", "panic", "a"]).is_err());
        assert!(cfg(&["report", "--since", "yesterday", "a"]).is_err());
        assert!(cfg(&["report", "--until", "2026-13-01 00:00:00", "a"]).is_err());
        assert!(cfg(&["report", "--window", "0", "a"]).is_err());
        assert!(cfg(&["report", "--quiet", "--progress", "a"]).is_err());
        assert!(cfg(&["events", "--format", "xml", "a"]).is_err());
    }
}
