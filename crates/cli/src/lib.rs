//! # baton: which handoff failed, and why?
//!
//! A post-mortem of 502/504s from the logs a WordPress stack leaves behind
//! (nginx access and error logs, php-fpm's log and slowlog, the kernel's
//! OOM kills and segfaults, Cloudflare Logpush, PHP's error log, the nginx
//! and php-fpm configuration), as a library: paths in, a [`Report`] out.
//! The `baton` command line is a thin layer over the same calls.
//!
//! ```
//! let report = baton::postmortem(&["../../testdata/sample"], &baton::Options::default());
//! for i in report.incidents() {
//!     println!("{} {} at {}: {}", i.verdict.as_str(), i.cause.as_str(), i.start, i.handoff);
//! }
//! assert_eq!(report.incidents().len(), 3);
//! // The contract's `baton.report.v1` document:
//! let json = serde_json::to_value(&report)?;
//! assert_eq!(json["schema"], "baton.report.v1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`stats`] gives what was read (`baton.stats.v1`) without correlating.
//! Inputs are files, directories (walked, rotated sets read as one log) or
//! `-` for standard input; gzip and zstd are read transparently; each
//! input's format is detected from its content. Nothing here prints.

mod args;
mod config;
mod containers;
mod coverage;
mod document;
mod events;
mod exit;
mod input;
mod merge;
mod nodes;
mod output;
mod progress;
mod report;
mod spill;
mod stats;
mod texts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

pub use baton_correlate::model::{Analysis, Cause, Incident, Verdict};
pub use baton_logparse::Zone;

use crate::config::{Command, Config};
use crate::exit::Exit;

/// How inputs are read. The defaults are the command line's.
#[derive(Debug, Clone)]
pub struct Options {
    /// The zone of timestamps that carry none (`--tz`); `None`: the access
    /// log's own offsets, else UTC (the report says which).
    pub tz: Option<Zone>,
    /// The year of the first yearless timestamp (`--year`); `None`:
    /// inferred.
    pub year: Option<i32>,
    /// How far before a gateway error's request start causes are looked
    /// for, in seconds (`--window`).
    pub window_s: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            tz: None,
            year: None,
            window_s: 60,
        }
    }
}

/// What a post-mortem found: what was read, and the correlator's
/// analysis. Serialized (serde) it is the `baton.report.v1` document.
pub struct Report(report::Report);

impl Report {
    /// The incidents, by start.
    pub fn incidents(&self) -> &[Incident] {
        &self.0.analysis.incidents
    }

    /// Everything the correlator concluded (incidents, background
    /// findings, totals, warnings, timeline).
    pub fn analysis(&self) -> &Analysis {
        &self.0.analysis
    }

    /// Inputs that were missing, unreadable or cut short, each with its
    /// path and reason (the command line exits 3 for them).
    pub fn input_errors(&self) -> Vec<(String, String)> {
        input_errors(&self.0.stats)
    }
}

impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        output::report_json::report(&self.0).serialize(s)
    }
}

/// What was read: per-file and global counts. Serialized it is the
/// `baton.stats.v1` document.
pub struct Stats(stats::Stats);

impl Stats {
    /// Inputs that were missing, unreadable or cut short.
    pub fn input_errors(&self) -> Vec<(String, String)> {
        input_errors(&self.0)
    }
}

impl serde::Serialize for Stats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        output::json::stats(&self.0).serialize(s)
    }
}

fn input_errors(s: &stats::Stats) -> Vec<(String, String)> {
    s.errors
        .iter()
        .map(|e| (e.path.clone(), e.reason.clone()))
        .collect()
}

fn library_config(paths: &[PathBuf], opts: &Options) -> Config {
    Config {
        paths: paths.to_vec(),
        tz: opts.tz,
        year: opts.year,
        window_s: opts.window_s,
        ..Config::library_defaults()
    }
}

/// A post-mortem of the logs at `paths`: read, correlated, ready to render
/// or serialize. Unreadable inputs do not stop it; they are listed in
/// [`Report::input_errors`].
pub fn postmortem<P: AsRef<Path>>(paths: &[P], opts: &Options) -> Report {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
    Report(report::build(&library_config(&paths, opts)))
}

/// What the inputs at `paths` hold, counted, without correlating.
pub fn stats<P: AsRef<Path>>(paths: &[P], opts: &Options) -> Stats {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
    Stats(stats::gather(
        &library_config(&paths, opts),
        baton_logparse::Collect::default(),
    ))
}

/// The `baton` command line: parses the arguments, runs the command,
/// writes its output and returns the contract's exit code.
pub fn cli_main() -> ExitCode {
    let opts = match args::Opts::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Done.into()
            };
        }
    };
    if let args::CommandOpts::Merge(m) = opts.command {
        let m = merge::MergeConfig {
            paths: m.reports,
            format: m.format,
            output: m.output,
        };
        return match merge::run(&m) {
            Ok(code) => code.into(),
            Err(e) if exit::is_broken_pipe(&e) => Exit::Done.into(),
            Err(e) => {
                eprintln!("baton: {e:#}");
                Exit::Input.into()
            }
        };
    }
    let config = match Config::from_opts(opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("baton: {e:#}");
            return Exit::Usage.into();
        }
    };
    let run = match &config.command {
        Command::Stats(s) => stats::run(&config, s),
        Command::Report(r) => report::run(&config, r),
        Command::Events(e) => events::run(&config, e),
    };
    match run {
        Ok(code) => code.into(),
        Err(e) if exit::is_broken_pipe(&e) => Exit::Done.into(),
        Err(e) => {
            eprintln!("baton: {e:#}");
            Exit::Input.into()
        }
    }
}
