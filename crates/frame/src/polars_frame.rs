//! The rows as a polars `DataFrame`, and as Parquet.

use std::io::Write;

use polars::prelude::*;

use baton_logparse::Event;

use crate::{COLUMNS, Row, Table};

/// Rows per Parquet row group: the writer holds one group's columns at a
/// time.
pub(crate) const BATCH: usize = 64 * 1024;

/// Column vectors for a batch of rows.
#[derive(Default)]
struct Columns {
    time: Vec<Option<i64>>,
    local_time: Vec<Option<String>>,
    file: Vec<Option<String>>,
    node: Vec<Option<String>>,
    line: Vec<i64>,
    format: Vec<Option<&'static str>>,
    kind: Vec<&'static str>,
    status: Vec<Option<i32>>,
    method: Vec<Option<String>>,
    path: Vec<Option<String>>,
    action: Vec<Option<String>>,
    client: Vec<Option<String>>,
    host: Vec<Option<String>>,
    upstream_kind: Vec<Option<&'static str>>,
    pid: Vec<Option<i64>>,
    pool: Vec<Option<String>>,
    signal: Vec<Option<String>>,
    plugin: Vec<Option<String>>,
    call: Vec<Option<&'static str>>,
    seconds: Vec<Option<f64>>,
    ray_id: Vec<Option<String>>,
    request_id: Vec<Option<String>>,
    incident_id: Vec<Option<i32>>,
    message: Vec<String>,
    fields: Vec<String>,
}

impl Columns {
    fn push(&mut self, r: Row) {
        self.time.push(r.unix_us);
        self.local_time.push(r.local_time);
        self.file.push(r.file);
        self.node.push(r.node);
        self.line.push(i64::try_from(r.line).unwrap_or(i64::MAX));
        self.format.push(r.format);
        self.kind.push(r.kind);
        self.status.push(r.status.map(i32::from));
        self.method.push(r.method);
        self.path.push(r.path);
        self.action.push(r.action);
        self.client.push(r.client);
        self.host.push(r.host);
        self.upstream_kind.push(r.upstream_kind);
        self.pid.push(r.pid.map(i64::from));
        self.pool.push(r.pool);
        self.signal.push(r.signal);
        self.plugin.push(r.plugin);
        self.call.push(r.call);
        self.seconds.push(r.seconds);
        self.ray_id.push(r.ray_id);
        self.request_id.push(r.request_id);
        self.incident_id
            .push(r.incident_id.map(|i| i32::try_from(i).unwrap_or(i32::MAX)));
        self.fields.push(r.fields.to_json());
        self.message.push(r.message);
    }

    fn into_frame(self) -> PolarsResult<DataFrame> {
        let height = self.line.len();
        let [
            c_time,
            c_local,
            c_file,
            c_node,
            c_line,
            c_format,
            c_kind,
            c_status,
            c_method,
            c_path,
            c_action,
            c_client,
            c_host,
            c_upstream_kind,
            c_pid,
            c_pool,
            c_signal,
            c_plugin,
            c_call,
            c_seconds,
            c_ray_id,
            c_request_id,
            c_incident_id,
            c_message,
            c_fields,
        ] = COLUMNS.map(PlSmallStr::from_static);
        let time = Int64Chunked::from_iter_options(c_time, self.time.into_iter())
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column();
        let columns = vec![
            time,
            Column::new(c_local, self.local_time),
            Column::new(c_file, self.file),
            Column::new(c_node, self.node),
            Column::new(c_line, self.line),
            Column::new(c_format, self.format),
            Column::new(c_kind, self.kind),
            Column::new(c_status, self.status),
            Column::new(c_method, self.method),
            Column::new(c_path, self.path),
            Column::new(c_action, self.action),
            Column::new(c_client, self.client),
            Column::new(c_host, self.host),
            Column::new(c_upstream_kind, self.upstream_kind),
            Column::new(c_pid, self.pid),
            Column::new(c_pool, self.pool),
            Column::new(c_signal, self.signal),
            Column::new(c_plugin, self.plugin),
            Column::new(c_call, self.call),
            Column::new(c_seconds, self.seconds),
            Column::new(c_ray_id, self.ray_id),
            Column::new(c_request_id, self.request_id),
            Column::new(c_incident_id, self.incident_id),
            Column::new(c_message, self.message),
            Column::new(c_fields, self.fields),
        ];
        DataFrame::new(height, columns)
    }
}

/// The events as a `DataFrame` with the `baton.events.v1` columns, in
/// the order given (sort them with [`crate::sort_events`] first for the
/// contract's order).
///
/// Types: `time` is `Datetime(µs, "UTC")`; `line` and `pid` are `Int64`;
/// `status` and `incident_id` are `Int32`; `seconds` is `Float64`; every
/// other column is a `String` (`fields` holds a JSON object).
pub fn events_to_dataframe<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    table: &Table,
) -> PolarsResult<DataFrame> {
    let mut c = Columns::default();
    for e in events {
        c.push(table.row(e));
    }
    c.into_frame()
}

/// Writes the events as Parquet (zstd-compressed, one row group per 65,536
/// rows, built a group at a time); returns the bytes written. The
/// columns and types are those of [`events_to_dataframe`]; no rows still
/// gives a file with the schema.
pub fn write_parquet<'a, W: Write>(
    events: impl IntoIterator<Item = &'a Event>,
    table: &Table,
    out: W,
) -> PolarsResult<u64> {
    let mut w = ParquetRows::new(out);
    for e in events {
        w.push(table.row(e))?;
    }
    w.finish()
}

/// Rows written as Parquet as they come, as [`write_parquet`] writes
/// events: a row group per 65,536 rows, only one group's columns held at a
/// time. The same rows give the same bytes whichever way they are written.
pub struct ParquetRows<W: Write> {
    /// Until the first group is written, the output; then the writer.
    out: Option<W>,
    writer: Option<BatchedWriter<W>>,
    batch: Columns,
    rows: usize,
}

impl<W: Write> ParquetRows<W> {
    /// A writer of rows to `out`.
    pub fn new(out: W) -> ParquetRows<W> {
        ParquetRows {
            out: Some(out),
            writer: None,
            batch: Columns::default(),
            rows: 0,
        }
    }

    /// Adds a row (a row group is written every 65,536).
    pub fn push(&mut self, row: Row) -> PolarsResult<()> {
        self.batch.push(row);
        self.rows += 1;
        if self.rows == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows held as a row group (the first one starts the
    /// file, with its schema).
    fn flush(&mut self) -> PolarsResult<()> {
        let frame = std::mem::take(&mut self.batch).into_frame()?;
        self.rows = 0;
        if self.writer.is_none()
            && let Some(out) = self.out.take()
        {
            self.writer = Some(
                ParquetWriter::new(out)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(frame.schema())?,
            );
        }
        if let Some(w) = &mut self.writer {
            w.write_batch(&frame)?;
        }
        Ok(())
    }

    /// Writes what is left and the file's footer; returns the bytes
    /// written. No rows at all still give a file with the schema.
    pub fn finish(mut self) -> PolarsResult<u64> {
        if self.rows > 0 || self.writer.is_none() {
            self.flush()?;
        }
        match self.writer {
            Some(w) => w.finish(),
            None => Ok(0),
        }
    }
}
