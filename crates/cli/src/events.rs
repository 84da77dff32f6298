//! `baton events`: every event of interest as one row of
//! `baton.events.v1`, as JSON lines, CSV or Parquet.
//!
//! The events are gathered per file, run through the correlator as
//! `baton report` does to tag them with their incident, sorted by time
//! and written. Memory does not grow with the requests (`--all`): the
//! rows of access logs and Cloudflare logs that neither the correlator
//! nor the clock check reads (requests that did not fail) leave the
//! reading as they are read, into a sorter that spills sorted runs to the
//! temporary directory when its buffer fills ([`crate::spill`]); they
//! are merged back with the rest when the rows are written.

use std::io::{IsTerminal as _, Write};
use std::sync::Arc;

use baton_frame::{Incidents, Row, Source, Table, sort_events};
use baton_logparse::summary::Drain;
use baton_logparse::{Collect, Detected, Event, EventKind, Format, Zone};

use crate::args::EventsFormat;
use crate::config::{Config, EventsConfig, PartitionKey};
use crate::exit::Exit;
use crate::output;
use crate::spill::{self, Key, Spill};
use crate::stats::{self, Stats};

/// The events, sorted, with what their rows need.
pub struct Events {
    /// What was read (events moved out).
    pub stats: Stats,
    /// The events held in memory (those the correlator or the clock check
    /// read, and every event of the inputs that are not set aside) inside
    /// `--since`/`--until`, by time, file and line.
    pub events: Vec<Event>,
    /// The rows set aside while reading, sorted (see [`Events::rows`]).
    pub aside: spill::Sorted,
    /// For each input's place in the reading order, its index in
    /// [`Table::sources`] (`u32::MAX`: none).
    pub places: Vec<u32>,
    /// Sources, zone and incidents for the rows.
    pub table: Table,
}

impl Events {
    /// Every row, in order: by time (rows without one last), file and
    /// line, as [`sort_events`] would sort all the events at once.
    pub fn rows(&self) -> anyhow::Result<spill::Rows<'_>> {
        self.aside.rows(&self.events, &self.places, &self.table)
    }
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
        Some(EventKind::Request) => baton_logparse::collecting::failed(e.status),
        Some(EventKind::EdgeRequest) => e
            .status
            .is_some_and(|s| s >= 500 || baton_logparse::cloudflare::is_gateway_status(s)),
        _ => true,
    }
}

/// Whether an input's events may be set aside as they are read: access
/// logs (not mixed with an error log) and Cloudflare logs carry their own
/// UTC offsets, so the clock check never re-reads their times, and one
/// line is one event, so no two of their events share a line.
fn sets_aside(d: &Detected) -> bool {
    !d.mixed && matches!(d.format, Format::NginxAccess | Format::Cloudflare)
}

/// Takes the events of one input that only the rows need (not of interest
/// to the correlator, no witness for the clock check) to the sorter as
/// rows, dropping those outside `--since`/`--until` as the correlator
/// would.
struct Aside {
    spill: Arc<Spill>,
    /// The input's place in the reading order.
    place: u32,
    keep: Box<dyn Fn(i64) -> bool + Send + Sync>,
    /// `--since` or `--until` given: rows without a time go.
    bounded: bool,
}

impl Drain for Aside {
    fn drain(&self, events: &mut Vec<Event>, from: usize) {
        let rows: Vec<(Key, Row)> = events
            .extract_if(from.., |e| {
                !of_interest(e) && !baton_correlate::clocks::can_witness(e)
            })
            .filter(|e| match e.time {
                Some(t) => (self.keep)(t.unix_us),
                None => !self.bounded,
            })
            .map(|e| (Key::of(&e, self.place), Table::event_row(&e)))
            .collect();
        if !rows.is_empty() {
            self.spill.push(rows);
        }
    }
}

/// How inputs are scanned for `baton events`: the chunks being parsed
/// hold their events (with `--all`, about 1.5 KB per request) until
/// they are merged in input order, a batch of 8 chunks per thread (or a
/// block) at a time, so chunks and blocks a quarter of the default keep
/// that near 25 MiB on 2 threads (output and speed are the same).
const SCAN: baton_logparse::ScanOptions = baton_logparse::ScanOptions {
    block_size: 2 << 20,
    chunk_size: 256 << 10,
    max_record: 1 << 20,
    parallel: true,
    progress: None,
};

/// Reads the inputs, correlates and sorts: the rows `baton events` writes.
/// Fails when the rows that do not fit in memory cannot be spilled.
pub fn gather(config: &Config, all: bool) -> anyhow::Result<Events> {
    let bounded = config.since.is_some() || config.until.is_some();
    let sorter = Arc::new(Spill::new(spill::Limits::from_env(), std::env::temp_dir()));
    let drain_for = |place: usize, d: &Detected, zone: Zone| -> Option<Arc<dyn Drain>> {
        let aside = Aside {
            spill: sorter.clone(),
            place: place as u32,
            keep: Box::new(crate::report::in_bounds(config, zone)),
            bounded,
        };
        sets_aside(d).then(|| Arc::new(aside) as Arc<dyn Drain>)
    };
    let (mut stats, read) = stats::gather_draining(
        config,
        Collect {
            events: true,
            all_requests: all,
            all_edge: all,
            all_php: true,
            // Failed requests' and upstream errors' text is read back as
            // their rows are written (the rows set aside keep theirs).
            defer_text: true,
        },
        SCAN,
        &drain_for,
    );
    let aside = sorter.finish()?;
    if aside.runs() > 0 {
        log::info!(
            "the rows set aside did not fit in memory: merging {} sorted runs from {}",
            aside.runs(),
            std::env::temp_dir().display()
        );
    }
    let mut places = vec![u32::MAX; read.iter().max().map_or(0, |m| m + 1)];
    for (k, &place) in read.iter().enumerate() {
        places[place] = k as u32;
    }
    // The correlator reads what `baton report` reads; with --all the
    // requests that did not fail are set aside for the rows only.
    let c = crate::report::correlate(config, &mut stats, of_interest);
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
    Ok(Events {
        stats,
        events,
        aside,
        places,
        table,
    })
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
    let ev = gather(config, e.all)?;
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
fn partition_of(keys: &[PartitionKey], row: &Row) -> std::path::PathBuf {
    let mut p = std::path::PathBuf::new();
    for k in keys {
        p.push(match k {
            PartitionKey::Node => {
                let node = row.node.as_deref().unwrap_or(crate::nodes::LOCAL);
                format!("node={}", hive_escape(node))
            }
            PartitionKey::Date => format!("date={}", date_of(row)),
        });
    }
    p
}

/// A row's UTC date (as the `time` column shows it), or Hive's null.
fn date_of(row: &Row) -> String {
    match row.unix_us {
        Some(us) => {
            let t = baton_logparse::Timestamp {
                unix_us: us,
                offset_s: 0,
            };
            t.to_rfc3339_at(0)[..10].to_string()
        }
        None => "__HIVE_DEFAULT_PARTITION__".to_string(),
    }
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
///
/// The rows come by time, so a date's partitions are complete once a
/// later date comes: only the current date's are open (one per node),
/// each holding at most one row group.
fn write_partitioned(
    dir: &std::path::Path,
    keys: &[PartitionKey],
    ev: &Events,
) -> anyhow::Result<()> {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;
    std::fs::create_dir_all(dir).map_err(|err| anyhow::anyhow!("-o {}: {err}", dir.display()))?;
    let by_date = keys.contains(&PartitionKey::Date);
    let mut open: BTreeMap<PathBuf, Part> = BTreeMap::new();
    let mut done: BTreeSet<PathBuf> = BTreeSet::new();
    let mut date: Option<String> = None;
    for row in ev.rows()? {
        let row = row?;
        if by_date {
            let d = date_of(&row);
            if date.as_ref() != Some(&d) {
                for (sub, part) in std::mem::take(&mut open) {
                    part.finish()?;
                    done.insert(sub);
                }
                date = Some(d);
            }
        }
        let sub = partition_of(keys, &row);
        if !open.contains_key(&sub) {
            // Rows in time order never come back to a finished date.
            anyhow::ensure!(
                !done.contains(&sub),
                "--partition: the rows of {} are out of order",
                sub.display()
            );
            let part = Part::create(&dir.join(&sub))?;
            open.insert(sub.clone(), part);
        }
        if let Some(part) = open.get_mut(&sub) {
            part.push(row)?;
        }
    }
    for (_, part) in open {
        part.finish()?;
    }
    Ok(())
}

/// One partition's Parquet file, being written.
struct Part {
    file: PartFile,
    rows: ParquetRowsOf<PartFile>,
}

/// A partition's file, shared with its Parquet writer so that it can be
/// flushed (and a failure seen) once the writer is done.
#[derive(Clone)]
struct PartFile(std::rc::Rc<std::cell::RefCell<std::io::BufWriter<std::fs::File>>>);

impl Write for PartFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

impl Part {
    /// The partition directory `d` and its file.
    fn create(d: &std::path::Path) -> anyhow::Result<Part> {
        std::fs::create_dir_all(d).map_err(|err| anyhow::anyhow!("{}: {err}", d.display()))?;
        let path = d.join(PART_FILE);
        let file = std::fs::File::create(&path)
            .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
        let file = PartFile(std::rc::Rc::new(std::cell::RefCell::new(
            std::io::BufWriter::new(file),
        )));
        Ok(Part {
            rows: parquet_rows(file.clone()),
            file,
        })
    }

    fn push(&mut self, row: Row) -> anyhow::Result<()> {
        push_parquet(&mut self.rows, row)
    }

    fn finish(mut self) -> anyhow::Result<()> {
        finish_parquet(self.rows)?;
        self.file.flush()?;
        Ok(())
    }
}

/// One JSON object per line, the columns in order.
fn write_jsonl(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    for row in ev.rows()? {
        serde_json::to_writer(&mut *out, &row?)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A header row, then one record per event; null is an empty field,
/// `fields` a JSON object.
fn write_csv(out: &mut dyn Write, ev: &Events) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(baton_frame::COLUMNS).map_err(io_error)?;
    for row in ev.rows()? {
        let row = row?;
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
    let mut w = parquet_rows(out);
    for row in ev.rows()? {
        push_parquet(&mut w, row?)?;
    }
    finish_parquet(w)
}

/// Rows being written as Parquet (nothing without the feature: `run`
/// refuses Parquet then).
#[cfg(feature = "parquet")]
type ParquetRowsOf<W> = baton_frame::ParquetRows<W>;
#[cfg(not(feature = "parquet"))]
type ParquetRowsOf<W> = std::marker::PhantomData<W>;

#[cfg(feature = "parquet")]
fn parquet_rows<W: Write>(out: W) -> ParquetRowsOf<W> {
    baton_frame::ParquetRows::new(out)
}

#[cfg(feature = "parquet")]
fn push_parquet<W: Write>(w: &mut ParquetRowsOf<W>, row: Row) -> anyhow::Result<()> {
    w.push(row).map_err(polars_error)
}

#[cfg(feature = "parquet")]
fn finish_parquet<W: Write>(w: ParquetRowsOf<W>) -> anyhow::Result<()> {
    w.finish().map_err(polars_error)?;
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn parquet_rows<W: Write>(_: W) -> ParquetRowsOf<W> {
    std::marker::PhantomData
}

#[cfg(not(feature = "parquet"))]
fn push_parquet<W: Write>(_: &mut ParquetRowsOf<W>, _: Row) -> anyhow::Result<()> {
    anyhow::bail!("--format parquet: built without Parquet support")
}

#[cfg(not(feature = "parquet"))]
fn finish_parquet<W: Write>(_: ParquetRowsOf<W>) -> anyhow::Result<()> {
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
