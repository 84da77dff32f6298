//! The validated configuration the commands run with: every option is
//! checked here, before any input is read, so that bad usage exits 2.

use std::path::PathBuf;

use anyhow::{Context, bail};
use baton_logparse::{AccessParser, Format, Zone};

use crate::args::{CommandOpts, CommonOpts, Opts, StatsFormat};

/// What to run.
#[derive(Debug)]
pub enum Command {
    /// `baton stats`.
    Stats(StatsConfig),
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
}

impl Config {
    /// Validates the parsed command line.
    pub fn from_opts(opts: Opts) -> anyhow::Result<Config> {
        let (command, paths, common) = match opts.command {
            CommandOpts::Stats(s) => (
                Command::Stats(StatsConfig { format: s.format }),
                s.paths,
                s.common,
            ),
        };
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
        } = common;
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
        })
    }

    /// The format forced for `path` with `--as`, if any.
    pub fn forced_format(&self, path: &std::path::Path) -> Option<Format> {
        self.forced.iter().find(|(_, p)| p == path).map(|(f, _)| *f)
    }
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

fn parse_force(s: &str) -> anyhow::Result<(Format, PathBuf)> {
    let Some((name, path)) = s.split_once('=') else {
        bail!("--as {s:?}: expected FORMAT=PATH");
    };
    let Some(format) = Format::from_name(name) else {
        bail!(
            "--as {s:?}: unknown format {name:?} (nginx-access, nginx-error, fpm-log, journal, fpm-slowlog, kernel, cloudflare)"
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
    fn malformed_options_are_errors() {
        assert!(cfg(&["stats", "--tz", "+99:00", "a"]).is_err());
        assert!(cfg(&["stats", "--tz", "Nowhere/City", "a"]).is_err());
        assert!(cfg(&["stats", "--as", "nginx-error", "a"]).is_err());
        assert!(cfg(&["stats", "--as", "apache=x", "a"]).is_err());
        assert!(cfg(&["stats"]).is_err());
        assert!(cfg(&["stats", "--format", "xml", "a"]).is_err());
        assert!(cfg(&["stats", "--boot-time", "yesterday", "a"]).is_err());
    }
}
