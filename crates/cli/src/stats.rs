//! `baton stats`: what was read, per file and in total.

use std::io::{Cursor, Read};

use baton_logparse::detect::DETECT_BYTES;
use baton_logparse::fpm::slowlog::SlowlogSummary;
use baton_logparse::summary::{
    AccessSummary, ErrorSummary, FileSummary, Source, access_offset, summarize,
};
use baton_logparse::{Detected, Format, ScanOptions, Zone, detect};

use crate::args::StatsFormat;
use crate::config::{Config, StatsConfig};
use crate::exit::Exit;
use crate::input::{self, Input, InputError};
use crate::output;

/// One summarized input.
pub struct StatsFile {
    /// The path as shown.
    pub path: String,
    /// What was read.
    pub summary: FileSummary,
}

/// Everything `baton stats` reports.
pub struct Stats {
    /// The zone used for offset-less timestamps.
    pub zone: Zone,
    /// Where it came from: `--tz`, `access-log offsets` or `default UTC`.
    pub zone_source: &'static str,
    /// Per input, in the order read.
    pub files: Vec<StatsFile>,
    /// How many inputs were access logs.
    pub access_files: usize,
    /// Access-log counts over every input.
    pub access: AccessSummary,
    /// Error-log counts over every input.
    pub error: ErrorSummary,
    /// Slowlog counts over every input (`None`: no slowlog was read).
    pub slowlog: Option<SlowlogSummary>,
    /// Inputs that could not be read at all, or were cut short.
    pub errors: Vec<InputError>,
}

/// An input whose format is known, waiting to be read.
struct Planned {
    input: Input,
    detected: Detected,
    /// For standard input: the bytes detection consumed, and the rest.
    stdin: Option<(Vec<u8>, Box<dyn Read + Send>)>,
}

/// Detects the format of one input (or takes the forced one).
fn plan(config: &Config, input: Input) -> Result<(Planned, Option<i32>), InputError> {
    let fail = |e: std::io::Error| InputError {
        path: input.display(),
        reason: input::io_reason(&e),
    };
    let mut reader = input.open().map_err(fail)?;
    let sample = input::read_sample(&mut reader, DETECT_BYTES).map_err(fail)?;
    let forced = input.path().and_then(|p| config.forced_format(p));
    let mut detected = match forced {
        Some(Format::NginxError) => Detected {
            format: Format::NginxError,
            access: None,
            reason: None,
        },
        _ => detect(&sample),
    };
    if let Some(custom) = &config.log_format {
        // --log-format names the access logs detection does not recognize.
        if detected.format == Format::Unknown || forced == Some(Format::NginxAccess) {
            detected = Detected {
                format: Format::NginxAccess,
                access: Some(custom.clone()),
                reason: None,
            };
        }
    }
    if forced == Some(Format::NginxAccess) && detected.access.is_none() {
        detected = Detected {
            format: Format::NginxAccess,
            access: Some(baton_logparse::AccessParser::default()),
            reason: None,
        };
    }
    let offset = detected
        .access
        .as_ref()
        .and_then(|p| access_offset(&sample, p));
    let stdin = matches!(input, Input::Stdin).then(|| (sample, reader));
    Ok((
        Planned {
            input,
            detected,
            stdin,
        },
        offset,
    ))
}

/// Reads every input and gathers the counts.
pub fn gather(config: &Config) -> Stats {
    let (inputs, mut errors) = input::expand(&config.paths);
    let mut planned = Vec::new();
    let mut offsets = Vec::new();
    for i in inputs {
        match plan(config, i) {
            Ok((p, off)) => {
                offsets.extend(off);
                planned.push(p);
            }
            Err(e) => errors.push(e),
        }
    }
    let (zone, zone_source) = match (config.tz, offsets.first()) {
        (Some(z), _) => (z, "--tz"),
        (None, Some(o)) => (Zone::Fixed(*o), "access-log offsets"),
        (None, None) => (Zone::UTC, "default UTC"),
    };
    if offsets.iter().any(|o| Some(o) != offsets.first()) {
        log::warn!("access logs carry several UTC offsets; using the first, {zone}");
    }
    let opts = ScanOptions::default();
    let mut stats = Stats {
        zone,
        zone_source,
        files: Vec::new(),
        access_files: 0,
        access: AccessSummary::default(),
        error: ErrorSummary::default(),
        slowlog: None,
        errors,
    };
    for p in planned {
        let path = p.input.display();
        let source = match (p.stdin, &p.input) {
            (Some((sample, rest)), _) => Source::Stream(Box::new(Cursor::new(sample).chain(rest))),
            (None, input) => match input.open_source() {
                Ok(s) => s,
                Err(e) => {
                    stats.errors.push(InputError {
                        path,
                        reason: input::io_reason(&e),
                    });
                    continue;
                }
            },
        };
        let summary = summarize(source, &p.detected, zone, &opts);
        if let Some(e) = &summary.read_error {
            stats.errors.push(InputError {
                path: path.clone(),
                reason: format!("cut short: {e}"),
            });
        }
        if let Some(a) = &summary.access {
            stats.access_files += 1;
            baton_logparse::Sink::<baton_logparse::AccessParser>::append(
                &mut stats.access,
                a.clone(),
                0,
            );
        }
        if let Some(e) = &summary.error {
            baton_logparse::Sink::<baton_logparse::ErrorParser>::append(
                &mut stats.error,
                e.clone(),
                0,
            );
        }
        if let Some(sl) = &summary.slowlog {
            stats
                .slowlog
                .get_or_insert_with(SlowlogSummary::default)
                .merge(sl);
        }
        stats.files.push(StatsFile { path, summary });
    }
    stats
}

/// Runs `baton stats`.
pub fn run(config: &Config, s: &StatsConfig) -> anyhow::Result<Exit> {
    let stats = gather(config);
    let mut out = output::open(config.output.as_deref())?;
    match s.format {
        StatsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &output::json::stats(&stats))?;
            writeln!(out)?;
        }
        StatsFormat::Text => output::text::stats(&mut out, &stats)?,
    }
    out.flush()?;
    for e in &stats.errors {
        eprintln!("baton: {}: {}", e.path, e.reason);
    }
    Ok(if stats.errors.is_empty() {
        Exit::Done
    } else {
        Exit::Input
    })
}

use std::io::Write as _;
