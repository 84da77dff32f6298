//! `baton events`: every event of interest as one row of
//! `baton.events.v1`, as JSON lines, CSV or Parquet.
//!
//! The events are gathered per file (with `--all`, every request too, so
//! memory grows with the requests), run through the correlator as
//! `baton report` does to tag them with their incident, sorted by time
//! and written.

use std::io::{IsTerminal as _, Write};

use baton_frame::{Incidents, Source, Table, sort_events};
use baton_logparse::{Collect, Event, EventKind};

use crate::args::EventsFormat;
use crate::config::{Config, EventsConfig};
use crate::exit::Exit;
use crate::output;
use crate::stats::{self, Stats};

/// The events, sorted, with what their rows need.
pub struct Events {
    /// What was read (events moved out).
    pub stats: Stats,
    /// Every event inside `--since`/`--until`, by time, file and line.
    pub events: Vec<Event>,
    /// Sources, zone and incidents for the rows.
    pub table: Table,
}

/// What `baton report` sees by default: requests and edge requests only
/// when they failed (`--all` adds the rest, which the correlator does not
/// need), PHP messages only when they end a request (the rows have every
/// one).
fn of_interest(e: &Event) -> bool {
    if !Collect::default().keeps(e) {
        return false;
    }
    match e.kind {
        Some(EventKind::Request) => e.status.is_some_and(|s| s == 499 || s >= 500),
        Some(EventKind::EdgeRequest) => e
            .status
            .is_some_and(|s| s >= 500 || baton_logparse::cloudflare::is_gateway_status(s)),
        _ => true,
    }
}

/// Reads the inputs, correlates and sorts: the rows `baton events` writes.
pub fn gather(config: &Config, all: bool) -> Events {
    let mut stats = stats::gather(
        config,
        Collect {
            events: true,
            all_requests: all,
            all_edge: all,
            all_php: true,
        },
    );
    // The correlator reads what `baton report` reads; with --all the
    // requests that did not fail are set aside for the rows only.
    let c = crate::report::correlate(config, &mut stats, of_interest);
    let bounded = config.since.is_some() || config.until.is_some();
    let mut events = c.events;
    events.extend(c.aside);
    // Rows without a time cannot be placed inside --since/--until.
    if bounded {
        events.retain(|e| e.time.is_some());
    }
    sort_events(&mut events);
    let table = Table {
        sources: stats
            .files
            .iter()
            .map(|f| Source {
                path: f.path.clone(),
                format: f.summary.format,
                node: f.node.clone(),
            })
            .collect(),
        zone: stats.zone,
        incidents: Incidents::new(&c.analysis.incidents),
    };
    Events {
        stats,
        events,
        table,
    }
}

/// Runs `baton events`.
pub fn run(config: &Config, e: &EventsConfig) -> anyhow::Result<Exit> {
    if e.format == EventsFormat::Parquet {
        if !cfg!(feature = "parquet") {
            eprintln!(
                "baton: --format parquet: this baton was built without Parquet support (cargo feature `parquet`: cargo install --path crates/cli --features parquet); use --format jsonl or csv"
            );
            return Ok(Exit::Usage);
        }
        if config.output.is_none() && std::io::stdout().is_terminal() {
            eprintln!(
                "baton: --format parquet writes binary data: give -o FILE (or redirect standard output)"
            );
            return Ok(Exit::Usage);
        }
    }
    let ev = gather(config, e.all);
    let mut out = output::open(config.output.as_deref())?;
    match e.format {
        EventsFormat::Jsonl => write_jsonl(&mut out, &ev)?,
        EventsFormat::Csv => write_csv(&mut out, &ev)?,
        EventsFormat::Parquet => write_parquet(&mut out, &ev)?,
    }
    out.flush()?;
    for e in &ev.stats.errors {
        eprintln!("baton: {}: {}", e.path, e.reason);
    }
    Ok(if ev.stats.errors.is_empty() {
        Exit::Done
    } else {
        Exit::Input
    })
}

/// One JSON object per line, the columns in order.
fn write_jsonl(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    for row in ev.table.rows(&ev.events) {
        serde_json::to_writer(&mut *out, &row)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A header row, then one record per event; null is an empty field,
/// `fields` a JSON object.
fn write_csv(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(baton_frame::COLUMNS).map_err(io_error)?;
    for row in ev.table.rows(&ev.events) {
        let texts = row.texts();
        w.write_record(texts.iter().map(|t| t.as_deref().unwrap_or("")))
            .map_err(io_error)?;
    }
    w.flush()?;
    Ok(())
}

/// A CSV error as the I/O error it usually is (so that a closed pipe is
/// recognized).
fn io_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("writing CSV: {other:?}")),
    }
}

#[cfg(feature = "parquet")]
fn write_parquet(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    baton_frame::write_parquet(&ev.events, &ev.table, out).map_err(polars_error)?;
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(_: &mut dyn Write, _: &Events) -> anyhow::Result<()> {
    anyhow::bail!("--format parquet: built without Parquet support")
}

/// A polars error, keeping an I/O error's kind (a closed pipe).
#[cfg(feature = "parquet")]
fn polars_error(e: baton_frame::polars::prelude::PolarsError) -> anyhow::Error {
    match &e {
        baton_frame::polars::prelude::PolarsError::IO { error, .. } => {
            anyhow::Error::new(std::io::Error::new(error.kind(), e.to_string()))
        }
        _ => anyhow::anyhow!("writing Parquet: {e}"),
    }
}
