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
use crate::config::{Config, EventsConfig, PartitionKey};
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
            // Every row carries its text.
            defer_text: false,
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
            let what = if e.partition.is_empty() {
                "--format parquet"
            } else {
                "--partition (Hive-partitioned Parquet)"
            };
            eprintln!(
                "baton: {what}: this baton was built without Parquet support (cargo feature `parquet`: cargo install --path crates/cli --features parquet); use --format jsonl or csv"
            );
            return Ok(Exit::Usage);
        }
        if let (false, Some(dir)) = (e.partition.is_empty(), &config.output)
            && dir.exists()
            && !dir.is_dir()
        {
            eprintln!(
                "baton: -o {}: --partition writes a directory, and this is a file",
                dir.display()
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
    if let (false, Some(dir)) = (e.partition.is_empty(), &config.output) {
        write_partitioned(dir, &e.partition, &ev)?;
        return Ok(finish(&ev));
    }
    let mut out = output::open(config.output.as_deref())?;
    match e.format {
        EventsFormat::Jsonl => write_jsonl(&mut out, &ev)?,
        EventsFormat::Csv => write_csv(&mut out, &ev)?,
        EventsFormat::Parquet => write_parquet(&mut out, &ev)?,
    }
    out.flush()?;
    Ok(finish(&ev))
}

/// Names the inputs that could not be read; the exit code.
fn finish(ev: &Events) -> Exit {
    for e in &ev.stats.errors {
        eprintln!("baton: {}: {}", e.path, e.reason);
    }
    if ev.stats.errors.is_empty() {
        Exit::Done
    } else {
        Exit::Input
    }
}

/// The Hive partition directory of one row: `node=web1/date=2026-11-24`.
/// A row without a time has date `__HIVE_DEFAULT_PARTITION__`, Hive's
/// null, which DuckDB and Spark read as NULL.
fn partition_of(keys: &[PartitionKey], table: &Table, e: &Event) -> std::path::PathBuf {
    let mut p = std::path::PathBuf::new();
    for k in keys {
        p.push(match k {
            PartitionKey::Node => {
                let node = table
                    .sources
                    .get(e.file as usize)
                    .map_or(crate::nodes::LOCAL, |s| s.node.as_str());
                format!("node={}", hive_escape(node))
            }
            PartitionKey::Date => match e.time {
                // The UTC date, as the `time` column (UTC) shows it.
                Some(t) => format!("date={}", &t.to_rfc3339_at(0)[..10]),
                None => "date=__HIVE_DEFAULT_PARTITION__".to_string(),
            },
        });
    }
    p
}

/// A partition value as a path component: letters, digits, `.`, `_` and
/// `-` as they are, every other byte `%XX` (as Hive escapes them); `.` and
/// `..` escaped whole.
fn hive_escape(v: &str) -> String {
    if v.is_empty() {
        return "__HIVE_DEFAULT_PARTITION__".to_string();
    }
    if v == "." || v == ".." {
        return v.replace('.', "%2E");
    }
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file each partition gets (written again, it is replaced).
pub const PART_FILE: &str = "part-0.parquet";

/// `--partition`: the rows of each partition, in the rows' order, as one
/// Parquet file `DIR/KEY=VALUE/.../part-0.parquet`.
fn write_partitioned(
    dir: &std::path::Path,
    keys: &[PartitionKey],
    ev: &Events,
) -> anyhow::Result<()> {
    let mut parts: std::collections::BTreeMap<std::path::PathBuf, Vec<&Event>> =
        std::collections::BTreeMap::new();
    for e in &ev.events {
        parts
            .entry(partition_of(keys, &ev.table, e))
            .or_default()
            .push(e);
    }
    std::fs::create_dir_all(dir).map_err(|err| anyhow::anyhow!("-o {}: {err}", dir.display()))?;
    for (sub, rows) in parts {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).map_err(|err| anyhow::anyhow!("{}: {err}", d.display()))?;
        let path = d.join(PART_FILE);
        let file = std::fs::File::create(&path)
            .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write_parquet_rows(&mut out, rows, &ev.table)?;
        out.flush()?;
    }
    Ok(())
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

fn write_parquet(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    write_parquet_rows(out, &ev.events, &ev.table)
}

#[cfg(feature = "parquet")]
fn write_parquet_rows<'a>(
    out: &mut dyn Write,
    rows: impl IntoIterator<Item = &'a Event>,
    table: &Table,
) -> anyhow::Result<()> {
    baton_frame::write_parquet(rows, table, out).map_err(polars_error)?;
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn write_parquet_rows<'a>(
    _: &mut dyn Write,
    _: impl IntoIterator<Item = &'a Event>,
    _: &Table,
) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::hive_escape;

    #[test]
    fn partition_values_are_path_components() {
        assert_eq!(hive_escape("web1.example-2_b"), "web1.example-2_b");
        assert_eq!(hive_escape("a/b c=d%"), "a%2Fb%20c%3Dd%25");
        assert_eq!(hive_escape(".."), "%2E%2E");
        assert_eq!(hive_escape("é"), "%C3%A9");
        assert_eq!(hive_escape(""), "__HIVE_DEFAULT_PARTITION__");
    }
}
