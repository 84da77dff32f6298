//! `baton`: which handoff failed, and why?
//!
//! The binary only wires the library crates together: parse the command
//! line into a [`config::Config`], run the command, print, and map the
//! outcome to the contract's exit codes.

mod args;
mod config;
mod coverage;
mod events;
mod exit;
mod input;
mod output;
mod progress;
mod report;
mod stats;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::Exit;

fn main() -> ExitCode {
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
    let config = match config::Config::from_opts(opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("baton: {e:#}");
            return Exit::Usage.into();
        }
    };
    match run(&config) {
        Ok(code) => code.into(),
        Err(e) if exit::is_broken_pipe(&e) => Exit::Done.into(),
        Err(e) => {
            eprintln!("baton: {e:#}");
            Exit::Input.into()
        }
    }
}

fn run(config: &config::Config) -> anyhow::Result<Exit> {
    match &config.command {
        config::Command::Stats(s) => stats::run(config, s),
        config::Command::Report(r) => report::run(config, r),
        config::Command::Events(e) => events::run(config, e),
    }
}
