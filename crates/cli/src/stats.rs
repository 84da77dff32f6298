//! `baton stats`: what was read, per file and in total.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use baton_logparse::cloudflare::EdgeSummary;
use baton_logparse::detect::DETECT_BYTES;
use baton_logparse::detect::{first_yearless_date, year_before, year_near};
use baton_logparse::fpm::FpmSummary;
use baton_logparse::fpm::slowlog::SlowlogSummary;
use baton_logparse::journal::JournalSummary;
use baton_logparse::kernel::KernelSummary;
use baton_logparse::mysql_slow::MysqlSlowSummary;
use baton_logparse::php_error::PhpErrorSummary;
use baton_logparse::summary::{
    AccessSummary, ErrorSummary, Source, TimeConfig, TimeRange, access_offset, summarize,
    summarize_draining,
};
use baton_logparse::{
    ByteCount, Collect, Compression, Detected, Format, ScanOptions, Timestamp, Zone, detect, time,
};

use crate::args::StatsFormat;
use crate::config::{Config, StatsConfig};
use crate::exit::Exit;
use crate::input::{self, Input, InputError};
use crate::output;
use crate::progress::{self, Bar};

pub use crate::document::{Stats, StatsFile};

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
    /// Its place in a rotated set, if it is one of several files of one log.
    set: Option<SetPlace>,
    /// The container whose log it is, when its envelope or path says.
    container: Option<String>,
}

/// A member's place in a rotated set: files of one log (same directory,
/// same name but for logrotate's suffixes, same format), read as one log
/// in time order.
#[derive(Debug, Clone, Copy)]
struct SetPlace {
    /// Which set (its members are consecutive in input order).
    id: usize,
    /// Yearless sets: New Years passed between the set's first line and
    /// this member's.
    years: i32,
    /// Yearless sets: the first date of the oldest member.
    first: Option<(u32, u32)>,
    /// Yearless sets: the newest member's first date, modification time
    /// and New Years passed.
    newest: Option<((u32, u32), Option<i64>, i32)>,
}

/// `tz_source` when an access log's offsets gave the zone.
pub const ACCESS_OFFSETS: &str = "access-log offsets";
/// `tz_source` when a journal's written offsets (`short-iso`, RFC 5424,
/// rsyslog's RFC 3339 files) gave the zone.
pub const JOURNAL_OFFSETS: &str = "journal offsets";
/// `tz_source` when the kernel log's written offsets (`dmesg --time-format
/// iso`, `journalctl -k -o short-iso`) gave the zone.
pub const KERNEL_OFFSETS: &str = "kernel offsets";

/// A UTC offset an input's own timestamps carry, and the `tz_source` that
/// names it.
#[derive(Debug, Clone, Copy)]
struct Carried {
    offset: i32,
    source: &'static str,
}

/// The offset `inner` (an input's sample, out of any envelope) carries:
/// an access log's, or a journal's or the kernel's written one.
fn carried(inner: &[u8], detected: &Detected) -> Option<Carried> {
    if let Some(p) = &detected.access {
        return access_offset(inner, p).map(|offset| Carried {
            offset,
            source: ACCESS_OFFSETS,
        });
    }
    let source = match detected.format {
        Format::Journal => JOURNAL_OFFSETS,
        Format::Kernel => KERNEL_OFFSETS,
        _ => return None,
    };
    baton_logparse::summary::stamped_offset(inner, detected.format)
        .map(|offset| Carried { offset, source })
}

/// Detects the format of one input (or takes the forced one).
fn plan(
    config: &Config,
    input: Input,
    custom: Option<&baton_logparse::AccessParser>,
) -> Result<(Planned, Option<Carried>), InputError> {
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
    // A forced format names the lines inside any container envelope.
    let mut detected = match forced {
        Some(f) => baton_logparse::detect::detect_as(&sample, f),
        None => detect(&sample),
    };
    if let Some(custom) = custom {
        // --log-format (or the configuration's log_format) names the
        // access logs detection does not recognize.
        if detected.format == Format::Unknown || forced == Some(Format::NginxAccess) {
            // The lines inside any container envelope are the access log.
            let inside = baton_logparse::detect::detect_as(&sample, Format::NginxAccess);
            detected = Detected {
                format: Format::NginxAccess,
                access: Some(custom.clone()),
                envelope: inside.envelope,
                envelope_offset: inside.envelope_offset,
                ..Detected::default()
            };
        }
    }
    if forced == Some(Format::NginxAccess) && detected.access.is_none() {
        detected.access = Some(baton_logparse::AccessParser::default());
    }
    // A container envelope's lines are judged by what is inside them.
    let inner = baton_logparse::detect::inner_sample(&sample, &detected);
    let offset = carried(&inner, &detected);
    let yearless = matches!(detected.format, Format::Kernel | Format::Journal)
        .then(|| first_yearless_date(&inner))
        .flatten();
    drop(inner);
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
            set: None,
            container: None,
        },
        offset,
    ))
}

/// [`plan`], with a `docker compose logs` file of several services split
/// into one input per service (each container's lines are the log it
/// is: nginx's beside php-fpm's, not one mixed file). Standard input is
/// read once and stays whole.
fn plan_all(
    config: &Config,
    input: Input,
    custom: Option<&baton_logparse::AccessParser>,
) -> Result<Vec<(Planned, Option<Carried>)>, InputError> {
    let forced = input.path().and_then(|p| config.forced_format(p)).is_some();
    let (mut p, offset) = plan(config, input, custom)?;
    p.container = p.input.path().and_then(crate::containers::name_from_path);
    // A forced format is the whole file's.
    if p.detected.envelope != Some(baton_logparse::envelope::Envelope::Compose)
        || p.input.read_once()
        || forced
    {
        return Ok(vec![(p, offset)]);
    }
    let mut reader = p.input.open_decoded().map_err(|e| InputError {
        path: p.input.display(),
        reason: input::io_reason(&e),
    })?;
    let (sample, _) = input::read_sample_partial(&mut reader, DETECT_BYTES);
    let services = baton_logparse::envelope::services(&sample);
    if services.len() < 2 {
        p.container = services
            .first()
            .map(|f| String::from_utf8_lossy(&f.name).into_owned());
        return Ok(vec![(p, offset)]);
    }
    Ok(services
        .into_iter()
        .map(|only| {
            let detected = baton_logparse::detect::detect_service(&sample, &only);
            let inner = baton_logparse::detect::inner_sample(&sample, &detected);
            let offset = carried(&inner, &detected);
            let yearless = matches!(detected.format, Format::Kernel | Format::Journal)
                .then(|| first_yearless_date(&inner))
                .flatten();
            let planned = Planned {
                input: p.input.clone(),
                container: Some(String::from_utf8_lossy(&only.name).into_owned()),
                detected,
                stdin: None,
                compression: p.compression,
                stdin_count: None,
                yearless,
                mtime: p.mtime,
                set: None,
            };
            (planned, offset)
        })
        .collect())
}

/// Reads every input and gathers the counts (and the events, with
/// `collect`: each event's `file` is its input's index in `files`).
pub fn gather(config: &Config, collect: Collect) -> Stats {
    gather_draining(config, collect, ScanOptions::default(), &|_, _, _| None).0
}

/// Which drain, if any, takes the events of an input as they are read:
/// called with the input's place in the reading order, what it was
/// detected as, and the zone of times without an offset.
pub type DrainFor<'a> =
    dyn Fn(usize, &Detected, Zone) -> Option<Arc<dyn baton_logparse::summary::Drain>> + Sync + 'a;

/// [`gather`], scanning with the block and chunk sizes of `scan`, with
/// the events of the inputs `drain_for` names handed to their drain as
/// they are read (those it takes are not in the [`StatsFile`]s). Also
/// returns, for each of `files`, its place in the
/// reading order (inputs that could not be opened have none, so later
/// ones move up in `files`: a drain's events take the `file` of that
/// place in this list).
pub fn gather_draining(
    config: &Config,
    collect: Collect,
    scan: ScanOptions,
    drain_for: &DrainFor<'_>,
) -> (Stats, Vec<usize>) {
    let (inputs, mut errors) = input::expand(&config.paths);
    let bar = Bar::start(config.progress, input_size(&inputs));
    let mut planned = Vec::new();
    let mut offsets = Vec::new();
    for i in inputs {
        match plan_all(config, i, config.log_format.as_ref()) {
            Ok(ps) => {
                for (p, off) in ps {
                    offsets.extend(off);
                    planned.push(p);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if config.log_format.is_none() {
        formats_from_config(&mut planned, &mut offsets, &mut errors);
    }
    let planned = rotated_sets(config, planned);
    let set_of: Vec<Option<usize>> = planned.iter().map(|p| p.set.map(|s| s.id)).collect();
    // A container envelope's UTC times beside its lines' offset-less ones
    // measure their zone: that beats the access log's offsets.
    let envelope_offset = planned.iter().find_map(|p| p.detected.envelope_offset);
    // nginx's own access log first; then a journal's or the kernel's
    // written offsets, from the machine's clock all the same.
    offsets.sort_by_key(|c| c.source != ACCESS_OFFSETS);
    let (zone, zone_source) = match (config.tz, envelope_offset, offsets.first()) {
        (Some(z), _, _) => (z, "--tz"),
        (None, Some(o), _) => (Zone::Fixed(o), "container envelope times"),
        (None, None, Some(c)) => (Zone::Fixed(c.offset), c.source),
        (None, None, None) => (Zone::UTC, "default UTC"),
    };
    if offsets
        .iter()
        .any(|c| Some(c.offset) != offsets.first().map(|f| f.offset))
    {
        log::warn!("inputs carry several UTC offsets; using the first, {zone}");
    }
    let opts = ScanOptions {
        progress: bar.as_ref().map(Bar::counter),
        ..scan
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
        php_error: None,
        mysql_slow: None,
        errors,
        config: Default::default(),
        notes: Vec::new(),
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
        .map(|(i, p)| {
            let drain = drain_for(i, &p.detected, zone);
            let f = read_one(p, &time, None, &opts, bar.as_ref(), collect, drain);
            (i, f)
        })
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
            let year = match p.set {
                Some(s) if s.first.is_some() => set_year(config, &window, &s),
                _ => year_of(config, &window, p.yearless.unwrap_or((1, 1)), p.mtime),
            };
            let time = TimeConfig {
                zone,
                year: Some(year.0),
                boot_time: config.boot_time,
            };
            let drain = drain_for(i, &p.detected, zone);
            (
                i,
                read_one(p, &time, Some(year), &opts, bar.as_ref(), collect, drain),
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
    let places: Vec<usize> = done.iter().map(|(i, _)| *i).collect();
    // A rotated set's php-fpm events are one log's: the master's state
    // carries from one file to the next (a reload begun in `php-fpm.log.1`
    // completes in `php-fpm.log`).
    let mut set_fpm: Vec<(usize, FpmSummary)> = Vec::new();
    let mut add_fpm = |stats: &mut Stats, i: usize, f: &FpmSummary| match set_of[i] {
        Some(id) => match set_fpm.iter_mut().find(|(s, _)| *s == id) {
            Some((_, acc)) => acc.append_chunk(f.clone()),
            None => set_fpm.push((id, f.clone())),
        },
        None => stats.fpm.get_or_insert_with(FpmSummary::default).merge(f),
    };
    for (i, mut f) in done {
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
        if let Some(p) = &summary.php_error {
            stats
                .php_error
                .get_or_insert_with(PhpErrorSummary::default)
                .merge(p);
        }
        if let Some(m) = &summary.mysql_slow {
            stats
                .mysql_slow
                .get_or_insert_with(MysqlSlowSummary::default)
                .merge(m);
        }
        if let Some(f) = &summary.fpm {
            add_fpm(&mut stats, i, f);
        }
        if let Some(j) = summary.journal.as_ref().filter(|j| j.fpm_lines > 0) {
            add_fpm(&mut stats, i, &j.fpm);
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
    for (_, f) in set_fpm {
        stats.fpm.get_or_insert_with(FpmSummary::default).merge(&f);
    }
    stats.notes = crate::nodes::assign(config, &mut stats.files);
    stats.config = config_facts(&stats.files);
    // What pm.max_children x memory_limit is checked against: --memory,
    // else what the kernel's OOM report says.
    if let Some(m) = config.memory {
        stats.config.memory_bytes = Some(m);
        stats.config.memory_source = Some("--memory".to_string());
    } else if let Some(k) = stats.kernel.as_ref()
        && let Some(m) = k.memory_bytes
    {
        stats.config.memory_bytes = Some(m);
        stats.config.memory_source = Some(if k.memory_is_cgroup {
            "the kernel's OOM report (the memory cgroup's limit)".to_string()
        } else {
            "the kernel's OOM report (the machine's RAM)".to_string()
        });
    }
    (stats, places)
}

/// With nginx's configuration among the inputs and no `--log-format`, an
/// input detection does not recognize is read with the `log_format` of
/// the `access_log` whose file name is its own (or a rotation of it:
/// `access.log.1`, `access.log-20261124.gz`).
fn formats_from_config(
    planned: &mut [Planned],
    offsets: &mut Vec<Carried>,
    errors: &mut Vec<InputError>,
) {
    use baton_logparse::config::{self, Parsed, nginx};
    let unknown = |p: &Planned| {
        p.detected.format == Format::Unknown && !p.input.read_once() && p.input.path().is_some()
    };
    if !planned.iter().any(unknown) {
        return;
    }
    let parsed: Vec<nginx::NginxConfig> = planned
        .iter()
        .filter(|p| p.detected.format == Format::NginxConfig && !p.input.read_once())
        .filter_map(
            |p| match config::read(p.input.open_decoded().ok()?, Format::NginxConfig).0 {
                Parsed::Nginx(c) => Some(c),
                Parsed::Fpm(_) => None,
            },
        )
        .collect();
    if parsed.is_empty() {
        return;
    }
    let facts = nginx::facts(&parsed.iter().collect::<Vec<_>>());
    for p in planned.iter_mut().filter(|p| unknown(p)) {
        let Some(name) = p.input.path().and_then(|x| x.file_name()?.to_str()) else {
            continue;
        };
        let Some(log) = facts.access_logs().find(|l| {
            let base = l.path.rsplit('/').next().unwrap_or(&l.path);
            !base.is_empty()
                && (name == base
                    || name
                        .strip_prefix(base)
                        .is_some_and(|r| r.starts_with(['.', '-'])))
        }) else {
            continue;
        };
        let text = match facts.log_format(&log.format) {
            Some(f) => f.format.as_str(),
            None if log.format == "combined" => nginx::COMBINED,
            None => continue,
        };
        let parser = match baton_logparse::AccessParser::from_log_format(text) {
            Ok(parser) => parser,
            Err(e) => {
                log::warn!(
                    "{}: the log_format {} of access_log {} is not one baton reads: {e}",
                    p.input.display(),
                    log.format,
                    log.path
                );
                continue;
            }
        };
        // Its zone from its first lines' offsets, as for a detected log.
        match p.input.open_decoded() {
            Ok(mut r) => match input::read_sample(&mut r, DETECT_BYTES) {
                Ok(sample) => {
                    offsets.extend(access_offset(&sample, &parser).map(|offset| Carried {
                        offset,
                        source: ACCESS_OFFSETS,
                    }))
                }
                Err(e) => {
                    errors.push(InputError {
                        path: p.input.display(),
                        reason: input::io_reason(&e),
                    });
                    continue;
                }
            },
            Err(_) => continue,
        }
        log::info!(
            "{}: read with log_format {} of access_log {}",
            p.input.display(),
            log.format,
            log.path
        );
        p.detected = Detected {
            format: Format::NginxAccess,
            access: Some(parser),
            ..Detected::default()
        };
    }
}

/// The facts of every configuration input, nginx's and php-fpm's each
/// read as one configuration.
fn config_facts(files: &[StatsFile]) -> baton_logparse::config::ConfigFacts {
    use baton_logparse::config::{ConfigFacts, Parsed};
    let (mut nginx, mut fpm) = (Vec::new(), Vec::new());
    for f in files {
        match &f.summary.config {
            Some(Parsed::Nginx(c)) => nginx.push(c),
            Some(Parsed::Fpm(c)) => fpm.push(c),
            None => {}
        }
    }
    ConfigFacts::from_parsed(&nginx, &fpm)
}

/// The year of a yearless input's first date: `--year`, else the year
/// that fits the dated inputs' window, else the one before its mtime.
fn year_of(
    config: &Config,
    window: &TimeRange,
    (m, d): (u32, u32),
    mtime: Option<i64>,
) -> (i32, &'static str) {
    match (config.year, window.first, mtime) {
        (Some(y), _, _) => (y, "--year"),
        (None, Some(t), _) => {
            let last = window.last.unwrap_or(t).unix_secs();
            (year_near(m, d, t.unix_secs(), last), "other inputs")
        }
        (None, None, Some(mt)) => (year_before(m, d, mt), "file mtime"),
        (None, None, None) => (config.year.unwrap_or(1970), "none: no dated input or mtime"),
    }
}

/// The year of a yearless set member's first date: the set's first line
/// takes its year as a lone input would (`--year` names it), except that
/// the mtime that dates it is the newest member's; each later member adds
/// the New Years passed since.
fn set_year(config: &Config, window: &TimeRange, s: &SetPlace) -> (i32, &'static str) {
    let first = s.first.unwrap_or((1, 1));
    match (config.year, window.first, s.newest) {
        (Some(y), _, _) => (y + s.years, "--year, rotated set"),
        (None, Some(_), _) => (
            year_of(config, window, first, None).0 + s.years,
            "other inputs, rotated set",
        ),
        (None, None, Some((date, Some(mt), years))) => (
            year_before(date.0, date.1, mt) - years + s.years,
            "file mtime, rotated set",
        ),
        _ => (1970 + s.years, "none: no dated input or mtime"),
    }
}

/// Finds the rotated sets among the inputs and puts each set's members
/// together, oldest first, where its first member was. The order comes
/// from the first time in each member's detection sample (by content, not
/// by name); yearless members are ordered on the circle of the year (see
/// [`input::yearless_order`]). Only when a member's times cannot say does
/// logrotate's naming decide.
fn rotated_sets(config: &Config, planned: Vec<Planned>) -> Vec<Planned> {
    type Key = (PathBuf, String, Format, Option<String>);
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let Some(path) = p.input.path() else { continue };
        if p.stdin.is_some() || p.detected.format == Format::Unknown {
            continue;
        }
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        // Each container's lines of a compose log are a log of their own.
        let key = (
            dir,
            input::rotation_base(path),
            p.detected.format,
            p.container.clone(),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut slots: Vec<Option<Planned>> = planned.into_iter().map(Some).collect();
    let mut sets: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut member = vec![false; slots.len()];
    for (id, (_, members)) in groups.into_iter().filter(|(_, m)| m.len() > 1).enumerate() {
        let (order, years) = set_order(config, &slots, &members);
        let yearless = members
            .iter()
            .all(|&i| slots[i].as_ref().is_some_and(|p| p.yearless.is_some()));
        let newest = *order.last().unwrap_or(&members[0]);
        let last = |i: usize| slots[i].as_ref().map(|p| (p.yearless, p.mtime));
        let first = last(order[0]).and_then(|(y, _)| y);
        let newest = last(newest).and_then(|(y, mt)| Some((y?, mt, *years.last()?)));
        for (&i, &y) in order.iter().zip(&years) {
            member[i] = true;
            if let Some(p) = slots[i].as_mut() {
                p.set = Some(SetPlace {
                    id,
                    years: y,
                    first: first.filter(|_| yearless),
                    newest: newest.filter(|_| yearless),
                });
            }
        }
        sets.push((members[0], order));
    }
    let mut out = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        if let Some((_, order)) = sets.iter().find(|(first, _)| *first == i) {
            out.extend(order.iter().filter_map(|&j| slots[j].take()));
        } else if !member[i] {
            out.extend(slots[i].take());
        }
    }
    out
}

/// The members of one set, oldest first, and for each the New Years
/// passed since the first (yearless sets; zeros otherwise).
fn set_order(
    config: &Config,
    slots: &[Option<Planned>],
    members: &[usize],
) -> (Vec<usize>, Vec<i32>) {
    let planned = |i: usize| slots[i].as_ref().expect("not taken yet");
    let inputs: Vec<(&Input, &Detected)> = members
        .iter()
        .map(|&i| (&planned(i).input, &planned(i).detected))
        .collect();
    let firsts: Vec<Option<Timestamp>> = inputs
        .par_iter()
        .map(|(input, detected)| first_time(config, input, detected))
        .collect();
    let yearless = members.iter().map(|&i| planned(i).yearless.is_some());
    let by_name = |mut order: Vec<usize>| {
        order.sort_by_key(|&i| {
            input::rotation_rank(planned(i).input.path().unwrap_or(Path::new("")))
        });
        let n = order.len();
        (order, vec![0; n])
    };
    let Some(firsts) = firsts.into_iter().collect::<Option<Vec<Timestamp>>>() else {
        return by_name(members.to_vec());
    };
    match yearless.clone().filter(|y| *y).count() {
        0 => {
            let mut order: Vec<usize> = (0..members.len()).collect();
            order.sort_by_key(|&k| {
                let path = planned(members[k]).input.path().unwrap_or(Path::new(""));
                (firsts[k].unix_us, input::rotation_rank(path))
            });
            (
                order.into_iter().map(|k| members[k]).collect(),
                vec![0; members.len()],
            )
        }
        n if n == members.len() => {
            let start = time::days_from_civil(input::YEARLESS_KEY_YEAR as i64, 1, 1) * 86_400;
            let keys: Vec<i64> = firsts.iter().map(|t| t.unix_secs() - start).collect();
            let (order, years) = input::yearless_order(&keys);
            (order.into_iter().map(|k| members[k]).collect(), years)
        }
        _ => by_name(members.to_vec()),
    }
}

/// The earliest time in an input's detection sample, yearless times
/// placed in [`input::YEARLESS_KEY_YEAR`] and zone-less ones in UTC: what
/// orders the members of a rotated set.
fn first_time(config: &Config, input: &Input, detected: &Detected) -> Option<Timestamp> {
    let mut reader = input.open_decoded().ok()?;
    let (sample, _) = input::read_sample_partial(&mut reader, DETECT_BYTES);
    let time = TimeConfig {
        zone: Zone::UTC,
        year: Some(input::YEARLESS_KEY_YEAR),
        boot_time: config.boot_time,
    };
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let source = Source::Stream(Box::new(Cursor::new(sample)));
    summarize(source, detected, &time, &opts, Collect::default())
        .range()
        .first
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
    drain: Option<Arc<dyn baton_logparse::summary::Drain>>,
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
    let mut summary = summarize_draining(source, &p.detected, time, opts, collect, drain);
    if let Some(c) = &mut summary.config {
        c.name_file(&path);
    }
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
        tz_source: None,
        node: String::new(),
        container: p.container,
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
