//! `baton stats`: what was read, per file and in total.

use std::io::{Cursor, Read};

use rayon::prelude::*;

use baton_logparse::cloudflare::EdgeSummary;
use baton_logparse::detect::DETECT_BYTES;
use baton_logparse::detect::{first_yearless_date, year_before, year_near};
use baton_logparse::fpm::FpmSummary;
use baton_logparse::fpm::slowlog::SlowlogSummary;
use baton_logparse::journal::JournalSummary;
use baton_logparse::kernel::KernelSummary;
use baton_logparse::summary::{
    AccessSummary, ErrorSummary, FileSummary, Source, TimeConfig, access_offset, summarize,
};
use baton_logparse::{
    ByteCount, Collect, Compression, Detected, Format, ScanOptions, Zone, detect,
};

use crate::args::StatsFormat;
use crate::config::{Config, StatsConfig};
use crate::exit::Exit;
use crate::input::{self, Input, InputError};
use crate::output;
use crate::progress::{self, Bar};

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
    /// Inputs that could not be read at all, or were cut short.
    pub errors: Vec<InputError>,
}

/// An input whose format is known, waiting to be read.
struct Planned {
    input: Input,
    detected: Detected,
    /// For standard input: the bytes detection consumed, and the rest.
    stdin: Option<(Vec<u8>, Box<dyn Read + Send>)>,
    /// How the input is compressed (compressed files are decoded as streams).
    compression: Compression,
    /// For standard input: the compressed bytes its decoder reads.
    stdin_count: Option<ByteCount>,
    /// Month and day of the first yearless timestamp, if the input has them.
    yearless: Option<(u32, u32)>,
    /// Modification time (unix seconds), for files.
    mtime: Option<i64>,
}

/// Detects the format of one input (or takes the forced one).
fn plan(config: &Config, input: Input) -> Result<(Planned, Option<i32>), InputError> {
    let fail = |e: std::io::Error| InputError {
        path: input.display(),
        reason: input::io_reason(&e),
    };
    let mut reader = input.open_decoded().map_err(fail)?;
    let compression = reader.compression();
    let count = reader.compressed_bytes();
    // A damaged archive is detected from what decodes; reading it for real
    // reports the damage.
    let (sample, damage) = if compression.is_compressed() {
        input::read_sample_partial(&mut reader, DETECT_BYTES)
    } else {
        (
            input::read_sample(&mut reader, DETECT_BYTES).map_err(fail)?,
            None,
        )
    };
    let forced = input.path().and_then(|p| config.forced_format(p));
    let mut detected = match forced {
        Some(f) if f != Format::NginxAccess => Detected {
            format: f,
            ..Detected::default()
        },
        _ => detect(&sample),
    };
    if let Some(custom) = &config.log_format {
        // --log-format names the access logs detection does not recognize.
        if detected.format == Format::Unknown || forced == Some(Format::NginxAccess) {
            detected = Detected {
                format: Format::NginxAccess,
                access: Some(custom.clone()),
                ..Detected::default()
            };
        }
    }
    if forced == Some(Format::NginxAccess) && detected.access.is_none() {
        detected = Detected {
            format: Format::NginxAccess,
            access: Some(baton_logparse::AccessParser::default()),
            ..Detected::default()
        };
    }
    let offset = detected
        .access
        .as_ref()
        .and_then(|p| access_offset(&sample, p));
    let yearless = matches!(detected.format, Format::Kernel | Format::Journal)
        .then(|| first_yearless_date(&sample))
        .flatten();
    let mtime = input
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let is_stdin = input.read_once();
    let stdin = is_stdin.then(|| {
        let rest: Box<dyn Read + Send> = match damage {
            Some(e) => Box::new(input::Failed(Some(e))),
            None => Box::new(reader),
        };
        (sample, rest)
    });
    Ok((
        Planned {
            input,
            detected,
            stdin,
            compression,
            stdin_count: is_stdin.then_some(count),
            yearless,
            mtime,
        },
        offset,
    ))
}

/// Reads every input and gathers the counts (and the events, with
/// `collect`: each event's `file` is its input's index in `files`).
pub fn gather(config: &Config, collect: Collect) -> Stats {
    let (inputs, mut errors) = input::expand(&config.paths);
    let bar = Bar::start(config.progress, input_size(&inputs));
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
    let opts = ScanOptions {
        progress: bar.as_ref().map(Bar::counter),
        ..ScanOptions::default()
    };
    let mut stats = Stats {
        zone,
        zone_source,
        files: Vec::new(),
        access_files: 0,
        access: AccessSummary::default(),
        error: ErrorSummary::default(),
        fpm: None,
        slowlog: None,
        kernel: None,
        edge: None,
        journal: None,
        errors,
    };
    // Inputs with full dates first: their window dates the yearless ones.
    let (yearless, dated): (Vec<_>, Vec<_>) = planned
        .into_iter()
        .enumerate()
        .partition(|(_, p)| p.yearless.is_some());
    // Files are read (and decoded) in parallel; results keep input order.
    let time = TimeConfig {
        zone,
        boot_time: config.boot_time,
        ..TimeConfig::default()
    };
    let mut done: Vec<(usize, StatsFile)> = Vec::new();
    let read: Vec<_> = dated
        .into_par_iter()
        .map(|(i, p)| (i, read_one(p, &time, None, &opts, bar.as_ref(), collect)))
        .collect();
    for (i, (f, errs)) in read {
        stats.errors.extend(errs);
        done.extend(f.map(|f| (i, f)));
    }
    let window = baton_correlate::window(
        done.iter()
            .map(|(_, f)| f.summary.range())
            .collect::<Vec<_>>()
            .iter(),
    );
    let read: Vec<_> = yearless
        .into_par_iter()
        .map(|(i, p)| {
            let (m, d) = p.yearless.unwrap_or((1, 1));
            let year = match (config.year, window.first, p.mtime) {
                (Some(y), _, _) => (y, "--year"),
                (None, Some(t), _) => {
                    let last = window.last.unwrap_or(t).unix_secs();
                    (year_near(m, d, t.unix_secs(), last), "other inputs")
                }
                (None, None, Some(mt)) => (year_before(m, d, mt), "file mtime"),
                (None, None, None) => {
                    (config.year.unwrap_or(1970), "none: no dated input or mtime")
                }
            };
            let time = TimeConfig {
                zone,
                year: Some(year.0),
                boot_time: config.boot_time,
            };
            (
                i,
                read_one(p, &time, Some(year), &opts, bar.as_ref(), collect),
            )
        })
        .collect();
    for (i, (f, errs)) in read {
        stats.errors.extend(errs);
        done.extend(f.map(|f| (i, f)));
    }
    // The bar is off the screen before anything is printed.
    if let Some(bar) = bar {
        bar.finish();
    }
    done.sort_by_key(|(i, _)| *i);
    for (_, mut f) in done {
        let index = stats.files.len() as u32;
        for e in &mut f.summary.events {
            e.file = index;
        }
        let summary = &f.summary;
        if let Some(a) = &summary.access {
            stats.access_files += 1;
            stats.access.merge(a);
        }
        if let Some(e) = &summary.error {
            stats.error.merge(e);
        }
        if let Some(sl) = &summary.slowlog {
            stats
                .slowlog
                .get_or_insert_with(SlowlogSummary::default)
                .merge(sl);
        }
        if let Some(k) = &summary.kernel {
            stats
                .kernel
                .get_or_insert_with(KernelSummary::default)
                .merge(k);
        }
        if let Some(e) = &summary.edge {
            stats.edge.get_or_insert_with(EdgeSummary::default).merge(e);
        }
        if let Some(f) = &summary.fpm {
            stats.fpm.get_or_insert_with(FpmSummary::default).merge(f);
        }
        if let Some(j) = summary.journal.as_ref().filter(|j| j.fpm_lines > 0) {
            stats
                .fpm
                .get_or_insert_with(FpmSummary::default)
                .merge(&j.fpm);
        }
        if let Some(j) = &summary.journal {
            if j.kernel_lines > 0 {
                let k = stats.kernel.get_or_insert_with(KernelSummary::default);
                k.merge(&j.kernel);
            }
            let total = stats.journal.get_or_insert_with(JournalSummary::default);
            total.merge(j);
        }
        stats.files.push(f);
    }
    stats
}

/// Reads one planned input; `None` (with the reason in `errors`) when it
/// cannot be opened. An input cut short is returned with its partial
/// counts, and its error is recorded too.
fn read_one(
    p: Planned,
    time: &TimeConfig,
    year: Option<(i32, &'static str)>,
    opts: &ScanOptions,
    bar: Option<&Bar>,
    collect: Collect,
) -> (Option<StatsFile>, Vec<InputError>) {
    let mut errors = Vec::new();
    let path = p.input.display();
    let mut count = p.stdin_count;
    let _done = bar.map(Bar::reading);
    let source = match (p.stdin, &p.input) {
        (Some((sample, rest)), _) => Source::Stream(Box::new(Cursor::new(sample).chain(rest))),
        // Compressed files are decoded again, as a stream.
        (None, input) if p.compression.is_compressed() => match input.open_decoded() {
            Ok(d) => {
                count = Some(d.compressed_bytes());
                Source::Stream(Box::new(d))
            }
            Err(e) => {
                errors.push(InputError {
                    path,
                    reason: input::io_reason(&e),
                });
                return (None, errors);
            }
        },
        (None, input) => match input.open_source() {
            Ok(s) => s,
            Err(e) => {
                errors.push(InputError {
                    path,
                    reason: input::io_reason(&e),
                });
                return (None, errors);
            }
        },
    };
    // A compressed input's progress is its compressed bytes read, not the
    // decoded bytes the scan sees.
    let plain;
    let opts = match (bar, &count) {
        (Some(bar), Some(c)) if p.compression.is_compressed() => {
            bar.watch(c.clone());
            plain = ScanOptions {
                progress: None,
                ..opts.clone()
            };
            &plain
        }
        _ => opts,
    };
    let summary = summarize(source, &p.detected, time, opts, collect);
    if let Some(e) = &summary.read_error {
        errors.push(InputError {
            path: path.clone(),
            reason: format!("cut short: {e}"),
        });
    }
    let file = StatsFile {
        path,
        summary,
        year,
        compression: p.compression,
        compressed_bytes: count
            .filter(|_| p.compression.is_compressed())
            .map(|c| c.get()),
    };
    (Some(file), errors)
}

/// The total the progress bar counts to: the inputs' sizes on disk.
fn input_size(inputs: &[Input]) -> progress::Total {
    let mut bytes = Some(0u64);
    for i in inputs {
        let size = i
            .path()
            .and_then(|p| std::fs::metadata(p).ok())
            .filter(|m| m.is_file())
            .map(|m| m.len());
        bytes = bytes.zip(size).map(|(a, b)| a + b);
    }
    progress::Total {
        bytes,
        files: inputs.len(),
    }
}

/// Runs `baton stats`.
pub fn run(config: &Config, s: &StatsConfig) -> anyhow::Result<Exit> {
    let stats = gather(config, Collect::default());
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
