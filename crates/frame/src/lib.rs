//! # Overview
//!
//! `baton-frame` turns baton's normalized [`Event`]s into the rows of
//! `baton.events.v1`: fixed columns in a fixed order, text escaped for
//! display, times in UTC and in the zone used, each event tagged with the
//! incident it belongs to. With the `polars` feature (off by default: it
//! is most of a build) the same rows become a polars `DataFrame` and a
//! Parquet file that DuckDB, pandas and Spark read as they are.
//!
//! ```
//! use baton_frame::{Incidents, Source, Table};
//! use baton_logparse::{Event, EventKind, Format, Timestamp, Zone};
//!
//! let events = vec![Event {
//!     time: Some(Timestamp::from_unix(1_795_519_020, 0)),
//!     line: 7,
//!     kind: Some(EventKind::Request),
//!     status: Some(502),
//!     text: b"127.0.0.1 - - ...".as_slice().into(),
//!     ..Event::default()
//! }];
//! let table = Table {
//!     sources: vec![Source { path: "access.log".into(), format: Format::NginxAccess, node: "local".into() }],
//!     zone: Zone::Fixed(3600),
//!     incidents: Incidents::default(),
//! };
//! let row = table.rows(&events).next().unwrap();
//! assert_eq!(row.time.as_deref(), Some("2026-11-24T11:17:00Z"));
//! assert_eq!(row.local_time.as_deref(), Some("2026-11-24T12:17:00+01:00"));
//! assert_eq!(row.kind, "request");
//! ```

#![deny(missing_docs)]

use std::borrow::Cow;

use serde::Serialize;

use baton_correlate::Incident;
use baton_logparse::text::escape;
use baton_logparse::{Event, Format, Timestamp, Zone};

#[cfg(feature = "polars")]
mod polars_frame;
#[cfg(feature = "polars")]
pub use crate::polars_frame::{ParquetRows, events_to_dataframe, write_parquet};
/// The polars this crate builds with (for its `DataFrame` and errors).
#[cfg(feature = "polars")]
pub use polars;

/// The schema's name.
pub const SCHEMA: &str = "baton.events.v1";

/// The columns of `baton.events.v1`, in order.
pub const COLUMNS: [&str; 25] = [
    "time",
    "local_time",
    "file",
    "node",
    "line",
    "format",
    "kind",
    "status",
    "method",
    "path",
    "action",
    "client",
    "host",
    "upstream_kind",
    "pid",
    "pool",
    "signal",
    "plugin",
    "call",
    "seconds",
    "ray_id",
    "request_id",
    "incident_id",
    "message",
    "fields",
];

/// An input the events came from: an event's `file` indexes
/// [`Table::sources`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as shown.
    pub path: String,
    /// Its detected format.
    pub format: Format,
    /// The node (machine) it belongs to.
    pub node: String,
}

/// The incidents' time spans, to tag events with the incident they belong
/// to.
///
/// An event belongs to the incident whose span `[start, end]` (its first
/// and last gateway error's logged times, both included) contains the
/// event's logged time. Incidents are consecutive runs of the
/// correlator's time-ordered gateway errors, so a gateway error inside a
/// span is one of that incident's; other events (upstream errors, FPM,
/// kernel, edge) belong by time alone. An event logged before an
/// incident's first gateway error (a `max_children` warning in the
/// lead-up) belongs to none. Where two incidents touch (one ends in the
/// same instant the next starts), the earlier one wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incidents {
    /// `(start, end, id)` in unix microseconds, sorted by start.
    spans: Vec<(i64, i64, u32)>,
    /// Each incident's node, by id (none: a single node).
    nodes: std::collections::HashMap<u32, String>,
}

impl Incidents {
    /// The spans of the correlator's incidents.
    pub fn new(incidents: &[Incident]) -> Incidents {
        let mut out = Incidents::from_spans(
            incidents
                .iter()
                .map(|i| (i.id, i.start.unix_us, i.end.unix_us)),
        );
        out.nodes = incidents
            .iter()
            .filter_map(|i| Some((i.id, i.node.clone()?)))
            .collect();
        out
    }

    /// Spans given as `(id, start, end)` in unix microseconds.
    pub fn from_spans(spans: impl IntoIterator<Item = (u32, i64, i64)>) -> Incidents {
        let mut spans: Vec<(i64, i64, u32)> = spans
            .into_iter()
            .map(|(id, s, e)| (s.min(e), s.max(e), id))
            .collect();
        spans.sort_unstable();
        Incidents {
            spans,
            nodes: Default::default(),
        }
    }

    /// The id of the incident an event logged at `t` belongs to.
    pub fn id_at(&self, t: Option<Timestamp>) -> Option<u32> {
        self.id_at_node(t, None)
    }

    /// The id of the incident of `node` an event logged at `t` belongs to:
    /// with several nodes, another node's incident is never this event's.
    pub fn id_at_node(&self, t: Option<Timestamp>, node: Option<&str>) -> Option<u32> {
        let t = t?.unix_us;
        // The spans starting at or before t; the first of them that has
        // not ended wins.
        let n = self.spans.partition_point(|&(s, _, _)| s <= t);
        self.spans[..n]
            .iter()
            .filter(|&&(_, _, id)| match (node, self.nodes.get(&id)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
            .find(|&&(_, e, _)| t <= e)
            .map(|&(_, _, id)| id)
    }

    /// How many incidents there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Sorts events into the rows' order: by logged time, then file, then
/// line (stable); events without a time last.
pub fn sort_events(events: &mut [Event]) {
    events.sort_by_key(|e| (e.time.is_none(), e.time.map(|t| t.unix_us), e.file, e.line));
}

/// Everything besides the events that the rows need.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The inputs; an event's `file` indexes them.
    pub sources: Vec<Source>,
    /// The zone of `local_time`.
    pub zone: Zone,
    /// The incidents, for `incident_id`.
    pub incidents: Incidents,
}

impl Table {
    /// One event as a row.
    pub fn row(&self, e: &Event) -> Row {
        let mut row = Table::event_row(e);
        self.place(&mut row, e.file);
        row
    }

    /// What a row takes from its event alone: its times, `file`, `node`,
    /// `format` and `incident_id` are left empty for [`Table::place`] to
    /// fill (`unix_us` is set). Rows made before the table is known (the
    /// incidents come last) are made with this.
    pub fn event_row(e: &Event) -> Row {
        let text = |b: &Option<baton_logparse::event::Text>| b.as_deref().map(escape);
        Row {
            unix_us: e.time.map(|t| t.unix_us),
            time: None,
            local_time: None,
            file: None,
            node: None,
            line: e.line,
            format: None,
            kind: e.kind_str(),
            status: e.status,
            method: text(&e.method),
            path: text(&e.path),
            action: text(&e.action),
            client: text(&e.client),
            host: text(&e.host),
            upstream_kind: e.upstream_kind.map(|k| k.as_str()),
            pid: e.pid,
            pool: text(&e.pool),
            signal: e.detail().signal.as_deref().map(str::to_owned),
            plugin: text(&e.detail().plugin),
            call: e.call.map(|c| c.as_str()),
            seconds: e.seconds.filter(|s| s.is_finite()),
            ray_id: text(&e.detail().ray_id),
            request_id: text(&e.detail().request_id),
            incident_id: None,
            message: escape(&e.text),
            fields: Fields {
                connection: e.connection,
                upstream: text(&e.upstream),
                origin_status: e.origin_status,
                process: text(&e.detail().process),
                object: text(&e.detail().object),
                step: e.step.map(|s| s.as_str()),
                fatal: e.fatal.then_some(true),
                level: e.php_level.map(|l| l.as_str()),
                number: e.detail().number,
                code: e.code.map(|c| c.as_str()),
                frame: text(&e.detail().frame),
                lock_seconds: e.detail().query.as_ref().map(|q| q.lock_seconds),
                rows_examined: e.detail().query.as_ref().map(|q| q.rows_examined),
                rows_sent: e.detail().query.as_ref().map(|q| q.rows_sent),
                db: e
                    .detail()
                    .query
                    .as_ref()
                    .and_then(|q| q.db.as_deref().map(escape)),
                fingerprint: e.detail().query.as_ref().map(|q| q.fingerprint.to_string()),
                table: e
                    .detail()
                    .query
                    .as_ref()
                    .and_then(|q| q.table.as_deref().map(escape)),
            },
        }
    }

    /// Fills in what a row of input `file` (an index of
    /// [`Table::sources`]) takes from the table, from its `unix_us`: its
    /// times, the input's path, node and format, and the incident.
    pub fn place(&self, row: &mut Row, file: u32) {
        let source = self.sources.get(file as usize);
        let time = row.unix_us.map(|us| Timestamp {
            unix_us: us,
            offset_s: 0,
        });
        row.time = time.map(utc);
        row.local_time = time.map(|t| self.zone.rfc3339(t));
        row.file = source.map(|s| s.path.clone());
        row.node = source.map(|s| s.node.clone());
        row.format = source.map(|s| s.format.as_str());
        row.incident_id = self
            .incidents
            .id_at_node(time, source.map(|s| s.node.as_str()));
    }

    /// The events as rows, in the order given.
    pub fn rows<'a>(
        &'a self,
        events: impl IntoIterator<Item = &'a Event> + 'a,
    ) -> impl Iterator<Item = Row> + 'a {
        events.into_iter().map(|e| self.row(e))
    }
}

/// An instant as RFC 3339 in UTC, `Z`-suffixed.
fn utc(t: Timestamp) -> String {
    let mut s = t.to_rfc3339_at(0);
    if s.ends_with("+00:00") {
        s.truncate(s.len() - "+00:00".len());
        s.push('Z');
    }
    s
}

/// One row of `baton.events.v1`: serializes (JSON) with the columns in
/// order, missing values `null`. Text is the log's bytes escaped for
/// display: valid UTF-8 kept, control characters, backslashes and invalid
/// bytes written `\n`, `\\`, `\xHH`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Logged time, unix microseconds (not a column of its own: `time`
    /// shows it; Parquet's `time` holds it).
    #[serde(skip)]
    pub unix_us: Option<i64>,
    /// Logged time, RFC 3339 in UTC.
    pub time: Option<String>,
    /// Logged time, RFC 3339 in the zone used.
    pub local_time: Option<String>,
    /// The input's path as shown.
    pub file: Option<String>,
    /// The node (machine) the input belongs to.
    pub node: Option<String>,
    /// 1-based line of the record's first physical line.
    pub line: u64,
    /// The input's format (`nginx-access`, ...).
    pub format: Option<&'static str>,
    /// The event's kind (`request`, `upstream_error`, ...).
    pub kind: &'static str,
    /// HTTP status (for edge requests the edge's).
    pub status: Option<u16>,
    /// Request method.
    pub method: Option<String>,
    /// Request path without its query string.
    pub path: Option<String>,
    /// The admin-ajax `action`.
    pub action: Option<String>,
    /// The client address.
    pub client: Option<String>,
    /// The virtual host.
    pub host: Option<String>,
    /// The upstream error's kind.
    pub upstream_kind: Option<&'static str>,
    /// A process id: FPM child or master, the kernel's victim.
    pub pid: Option<u32>,
    /// The FPM pool.
    pub pool: Option<String>,
    /// The signal a child died on.
    pub signal: Option<String>,
    /// The slow trace's culprit (plugin/theme slug or file), or the
    /// plugin/theme of a PHP message's file.
    pub plugin: Option<String>,
    /// What the culprit was doing (`database`, `external_call`, ...).
    pub call: Option<&'static str>,
    /// A duration in seconds.
    pub seconds: Option<f64>,
    /// Cloudflare Ray ID.
    pub ray_id: Option<String>,
    /// `$request_id`.
    pub request_id: Option<String>,
    /// The incident the event belongs to (see [`Incidents`]).
    pub incident_id: Option<u32>,
    /// The record's first line (at most 300 bytes of it).
    pub message: String,
    /// Everything else.
    pub fields: Fields,
}

/// The `fields` column: what has no column of its own; only the values
/// present are written.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fields {
    /// nginx's connection number (`$connection`, `*N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
    /// The upstream nginx tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `$upstream_status` (requests) or the origin's status at the edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_status: Option<u16>,
    /// A process name (OOM victim, segfaulting process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The object a segfault happened in, or a slow request's script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The FPM master's step (`stop`, `start`, `ready`, `reload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    /// A PHP fatal error or memory exhaustion is in the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal: Option<bool>,
    /// A PHP message's level (`fatal`, `parse`, `warning`, `notice`,
    /// `deprecated`, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    /// A number the message carries: `pm.max_children`, an exit code, a
    /// signal number, an OOM victim's anon-rss in kB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    /// Where a slow trace's culprit (or a PHP message's file) lives
    /// (`plugin`, `theme`, `core`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The culprit's frame as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
    /// A slow query's `Lock_time`, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_seconds: Option<f64>,
    /// A slow query's `Rows_examined`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_examined: Option<u64>,
    /// A slow query's `Rows_sent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_sent: Option<u64>,
    /// A slow query's database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    /// A slow query's fingerprint (literals as `?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The first table a slow query names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

impl Fields {
    /// As a JSON object (`{}` when empty).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

impl Row {
    /// The values as text, in column order, `None` for null (for CSV);
    /// `fields` as a JSON object.
    pub fn texts(&self) -> [Option<Cow<'_, str>>; 25] {
        fn s(v: &Option<String>) -> Option<Cow<'_, str>> {
            v.as_deref().map(Cow::Borrowed)
        }
        fn n<T: ToString>(v: Option<T>) -> Option<Cow<'static, str>> {
            v.map(|x| Cow::Owned(x.to_string()))
        }
        let st = |v: Option<&'static str>| v.map(Cow::Borrowed);
        [
            s(&self.time),
            s(&self.local_time),
            s(&self.file),
            s(&self.node),
            n(Some(self.line)),
            st(self.format),
            st(Some(self.kind)),
            n(self.status),
            s(&self.method),
            s(&self.path),
            s(&self.action),
            s(&self.client),
            s(&self.host),
            st(self.upstream_kind),
            n(self.pid),
            s(&self.pool),
            s(&self.signal),
            s(&self.plugin),
            st(self.call),
            n(self.seconds),
            s(&self.ray_id),
            s(&self.request_id),
            n(self.incident_id),
            Some(Cow::Borrowed(self.message.as_str())),
            Some(Cow::Owned(self.fields.to_json())),
        ]
    }
}

#[cfg(test)]
mod tests;
