//! `baton events` in bounded memory: the bulk of the rows (with `--all`,
//! every request that did not fail) sorted outside memory.
//!
//! Rows arrive while the inputs are read, from several inputs at once and
//! in no particular order between them. Each is encoded at once (a compact
//! binary form of its [`Row`], without what the [`Table`] adds later) into
//! a buffer; when the buffer is full it is sorted by the rows' key and
//! written as a sorted run to a private directory under the temporary
//! directory (`TMPDIR`, else `/tmp`). At the end the runs, what is left in
//! the buffer and the rows held in memory are merged (a k-way merge on a
//! [`BinaryHeap`]) into the order `baton events` writes: by time, file and
//! line ([`baton_frame::sort_events`]). When everything fits in the buffer
//! nothing touches the disk. The directory and its runs are removed at
//! the end, also when anything fails.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;

use baton_frame::{Fields, Row, Table};
use baton_logparse::Event;

/// Bytes of encoded rows held before they are sorted and spilled as one
/// run, whatever the size of the inputs. Rows of an access log take 150
/// to 400 bytes encoded (340 on average in a generated set), so a run is
/// 150,000 to 450,000 rows. (`baton events --all` peaked at 140 MB on a
/// 1 GB access log and 207 MB on a 4 GB one: besides this buffer, the
/// chunks being parsed and what `baton report` holds too.)
pub const BUFFER_BYTES: usize = 64 << 20;

/// Rows held before a spill, whichever of this and [`BUFFER_BYTES`] comes
/// first (short rows: 48 bytes of key and place per row besides).
pub const BUFFER_ROWS: usize = 1 << 20;

/// The environment variable that sets the rows held before a spill, read
/// once per run of `baton events` (for tests: a few rows force the spills
/// and the merge of many runs on a small input).
pub const BUFFER_ROWS_VAR: &str = "BATON_EVENTS_BUFFER_ROWS";

/// Room in the buffer past [`BUFFER_BYTES`] for the row that fills it.
const SLACK: usize = 1 << 20;

/// Runs merged at once (each holds a read buffer and a row: 8 MiB for
/// 128); beyond that, some runs are first merged into a longer one. A
/// 64 MiB buffer makes about 100 runs of a 4 GB access log.
const FAN_IN: usize = 128;

/// Read and write buffer of each run.
const RUN_BUFFER: usize = 64 << 10;

/// Where a row goes: by time (rows without one last), input, line. An
/// input's rows all have lines of their own, so no two spilled rows share
/// a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// No time: after every timed row.
    pub untimed: bool,
    /// Logged time, unix microseconds (0 when untimed).
    pub time: i64,
    /// The input's index (for spilled rows, as planned: see
    /// [`Sorted::rows`]).
    pub file: u32,
    /// 1-based line.
    pub line: u64,
}

impl Key {
    /// The key of an event (`file` as given).
    pub fn of(e: &Event, file: u32) -> Key {
        Key {
            untimed: e.time.is_none(),
            time: e.time.map_or(0, |t| t.unix_us),
            file,
            line: e.line,
        }
    }

    const LEN: usize = 1 + 8 + 4 + 8;

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.untimed as u8);
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(&self.file.to_le_bytes());
        out.extend_from_slice(&self.line.to_le_bytes());
    }

    fn read(b: &[u8]) -> Option<Key> {
        let b = b.get(..Key::LEN)?;
        Some(Key {
            untimed: b[0] != 0,
            time: i64::from_le_bytes(b[1..9].try_into().ok()?),
            file: u32::from_le_bytes(b[9..13].try_into().ok()?),
            line: u64::from_le_bytes(b[13..21].try_into().ok()?),
        })
    }
}

/// How much is held before a spill.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Encoded bytes.
    pub bytes: usize,
    /// Rows.
    pub rows: usize,
}

impl Limits {
    /// [`BUFFER_BYTES`] and [`BUFFER_ROWS`], the rows overridden by
    /// [`BUFFER_ROWS_VAR`] when it holds a positive number.
    pub fn from_env() -> Limits {
        let rows = std::env::var(BUFFER_ROWS_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(BUFFER_ROWS);
        Limits {
            bytes: BUFFER_BYTES,
            rows,
        }
    }
}

/// The sorter rows are pushed into while the inputs are read (from
/// several threads).
pub struct Spill {
    inner: Mutex<Inner>,
}

struct Inner {
    limits: Limits,
    /// Encoded rows, each `key` then row.
    buf: Vec<u8>,
    /// Each row's key and place in `buf`.
    index: Vec<(Key, usize, usize)>,
    words: Words,
    /// Where the runs go (parent), and the private directory once made.
    parent: PathBuf,
    dir: Option<TempDir>,
    runs: Vec<PathBuf>,
    /// Runs made so far.
    made: usize,
    /// The first failure: nothing more is kept after it.
    error: Option<anyhow::Error>,
}

impl Spill {
    /// An empty sorter whose runs go under `parent` (made only when the
    /// buffer first fills).
    pub fn new(limits: Limits, parent: PathBuf) -> Spill {
        Spill {
            inner: Mutex::new(Inner {
                limits,
                buf: Vec::new(),
                index: Vec::new(),
                words: Words::default(),
                parent,
                dir: None,
                runs: Vec::new(),
                made: 0,
                error: None,
            }),
        }
    }

    /// Adds rows (each with its key), spilling when the buffer fills.
    pub fn push(&self, rows: impl IntoIterator<Item = (Key, Row)>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *g;
        if inner.error.is_some() {
            return;
        }
        if inner.buf.capacity() == 0 {
            // The whole buffer at once: growing it by doubling would touch
            // twice the memory for a moment.
            inner
                .buf
                .reserve_exact(inner.limits.bytes.saturating_add(SLACK));
        }
        for (key, row) in rows {
            let start = inner.buf.len();
            key.write(&mut inner.buf);
            encode(&row, &mut inner.words, &mut inner.buf);
            inner.index.push((key, start, inner.buf.len() - start));
            let full =
                inner.index.len() >= inner.limits.rows || inner.buf.len() >= inner.limits.bytes;
            if full && let Err(e) = inner.spill() {
                inner.error = Some(e);
                inner.buf = Vec::new();
                inner.index = Vec::new();
                return;
            }
        }
    }

    /// Everything pushed, sorted (runs on disk and the buffer's rest), or
    /// the failure that stopped the spills.
    pub fn finish(&self) -> anyhow::Result<Sorted> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = g.error.take() {
            return Err(e);
        }
        let limits = g.limits;
        let mut inner = std::mem::replace(
            &mut *g,
            Inner {
                limits,
                buf: Vec::new(),
                index: Vec::new(),
                words: Words::default(),
                parent: PathBuf::new(),
                dir: None,
                runs: Vec::new(),
                made: 0,
                error: None,
            },
        );
        drop(g);
        if inner.runs.is_empty() {
            // Everything fit: sorted where it is, nothing on disk.
            inner.index.sort_by_key(|(k, _, _)| *k);
        } else {
            // The rest is a run too, so that the buffer is not held while
            // the correlator runs and the rows are written.
            if !inner.index.is_empty() {
                inner.spill()?;
            }
            inner.buf = Vec::new();
            inner.index = Vec::new();
        }
        // Many runs: as few as needed merged first, so that one merge
        // takes the rest (and the disk holds little more than the rows).
        while inner.runs.len() > FAN_IN {
            let n = (inner.runs.len() - FAN_IN + 1).min(FAN_IN);
            let group: Vec<PathBuf> = inner.runs.drain(..n).collect();
            let path = inner.next_run()?;
            merge_runs(&group, &path)?;
            for p in &group {
                let _ = std::fs::remove_file(p);
            }
            inner.runs.push(path);
        }
        Ok(Sorted {
            buf: inner.buf,
            index: inner.index,
            words: inner.words,
            runs: inner.runs,
            _dir: inner.dir,
        })
    }
}

impl Inner {
    /// The path of the next run (the directory made first).
    fn next_run(&mut self) -> anyhow::Result<PathBuf> {
        let dir = match &self.dir {
            Some(d) => d,
            None => self.dir.insert(TempDir::new(&self.parent)?),
        };
        // Runs merged into longer ones are removed: a count names them.
        self.made += 1;
        Ok(dir.path.join(format!("run-{}", self.made)))
    }

    /// Sorts the buffer and writes it as a run.
    fn spill(&mut self) -> anyhow::Result<()> {
        let path = self.next_run()?;
        self.index.sort_by_key(|(k, _, _)| *k);
        let write = || -> io::Result<()> {
            let mut w = BufWriter::with_capacity(RUN_BUFFER, std::fs::File::create(&path)?);
            for &(_, start, len) in &self.index {
                write_record(&mut w, &self.buf[start..start + len])?;
            }
            w.flush()
        };
        write().with_context(|| {
            format!(
                "sorting the rows outside memory: cannot write {} (set TMPDIR to a writable directory with room)",
                path.display()
            )
        })?;
        self.runs.push(path);
        self.buf.clear();
        self.index.clear();
        Ok(())
    }
}

fn write_record(w: &mut impl Write, rec: &[u8]) -> io::Result<()> {
    w.write_all(&(rec.len() as u32).to_le_bytes())?;
    w.write_all(rec)
}

/// A private directory under the temporary directory, removed with
/// everything in it when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(parent: &Path) -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut last = None;
        for attempt in 0..16u32 {
            let path = parent.join(format!(
                "baton-events-{}-{nanos:x}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    last = Some(e);
                    break;
                }
            }
        }
        let e = last.unwrap_or_else(|| io::Error::other("no name left"));
        Err(anyhow::Error::new(e).context(format!(
            "sorting the rows outside memory: cannot make a directory in {} (set TMPDIR to a writable directory with room)",
            parent.display()
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Everything pushed, sorted: runs on disk and the buffer's rest.
pub struct Sorted {
    buf: Vec<u8>,
    index: Vec<(Key, usize, usize)>,
    words: Words,
    runs: Vec<PathBuf>,
    /// Removes the runs when the rows are written (or not).
    _dir: Option<TempDir>,
}

impl Sorted {
    /// How many sorted runs are on disk (none: everything fit in memory).
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The rows, merged with `events` (sorted by
    /// [`baton_frame::sort_events`], their `file` final) in the order
    /// `baton events` writes: the spilled rows' planned input `i` is input
    /// `files[i]` of `table` (a row whose input is not there has none).
    /// Where keys tie, the events come first (none of the spilled rows
    /// share a key).
    pub fn rows<'a>(
        &'a self,
        events: &'a [Event],
        files: &'a [u32],
        table: &'a Table,
    ) -> anyhow::Result<Rows<'a>> {
        let mut sources = Vec::with_capacity(2 + self.runs.len());
        sources.push(Source::Events(events.iter()));
        sources.push(Source::Buffer(self.index.iter()));
        for p in &self.runs {
            let f = std::fs::File::open(p)
                .with_context(|| format!("reading back sorted rows: {}", p.display()))?;
            sources.push(Source::Run(RunReader::new(f, p.clone())));
        }
        let mut rows = Rows {
            sorted: self,
            files,
            table,
            sources,
            heads: Vec::new(),
            heap: BinaryHeap::new(),
            texts: crate::texts::Reader::default(),
        };
        rows.heads = (0..rows.sources.len()).map(|_| Head::Empty).collect();
        for i in 0..rows.sources.len() {
            rows.advance(i)?;
        }
        Ok(rows)
    }
}

/// Where merged rows come from.
enum Source<'a> {
    Events(std::slice::Iter<'a, Event>),
    Buffer(std::slice::Iter<'a, (Key, usize, usize)>),
    Run(RunReader),
}

/// The row a source offers next.
enum Head<'a> {
    Empty,
    Event(&'a Event),
    /// A record of the buffer (`start`, `len`).
    Buffer(usize, usize),
    /// The run reader's current record.
    Run,
}

/// A run read back record by record.
struct RunReader {
    r: BufReader<std::fs::File>,
    path: PathBuf,
    rec: Vec<u8>,
}

impl RunReader {
    fn new(f: std::fs::File, path: PathBuf) -> RunReader {
        RunReader {
            r: BufReader::with_capacity(RUN_BUFFER, f),
            path,
            rec: Vec::new(),
        }
    }

    /// The next record's key (the record in `rec`); `None` at the end.
    fn next(&mut self) -> anyhow::Result<Option<Key>> {
        let mut len = [0u8; 4];
        match self.r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(self.fail(e)),
        }
        self.rec.resize(u32::from_le_bytes(len) as usize, 0);
        self.r.read_exact(&mut self.rec).map_err(|e| self.fail(e))?;
        Key::read(&self.rec)
            .map(Some)
            .ok_or_else(|| self.fail(io::Error::other("a record too short")))
    }

    fn fail(&self, e: io::Error) -> anyhow::Error {
        anyhow::Error::new(e).context(format!("reading back sorted rows: {}", self.path.display()))
    }
}

/// The merged rows (see [`Sorted::rows`]).
pub struct Rows<'a> {
    sorted: &'a Sorted,
    files: &'a [u32],
    table: &'a Table,
    sources: Vec<Source<'a>>,
    heads: Vec<Head<'a>>,
    /// Each source with a head, by the head's key (ties: the lower
    /// source, so that the events come first).
    heap: BinaryHeap<Reverse<(Key, usize)>>,
    /// The text of events that kept none, read back.
    texts: crate::texts::Reader,
}

impl<'a> Rows<'a> {
    /// The final input of a spilled row's planned one.
    fn file(&self, planned: u32) -> u32 {
        self.files
            .get(planned as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// Moves source `i` to its next row.
    fn advance(&mut self, i: usize) -> anyhow::Result<()> {
        let (head, key) = match &mut self.sources[i] {
            Source::Events(it) => match it.next() {
                Some(e) => (Head::Event(e), Some(Key::of(e, e.file))),
                None => (Head::Empty, None),
            },
            Source::Buffer(it) => match it.next() {
                Some(&(k, start, len)) => (Head::Buffer(start, len), Some(k)),
                None => (Head::Empty, None),
            },
            Source::Run(r) => match r.next()? {
                Some(k) => (Head::Run, Some(k)),
                None => (Head::Empty, None),
            },
        };
        self.heads[i] = head;
        if let Some(mut k) = key {
            if !matches!(self.heads[i], Head::Event(_)) {
                k.file = self.file(k.file);
            }
            self.heap.push(Reverse((k, i)));
        }
        Ok(())
    }

    /// The next row, or the failure to read one back.
    pub fn next_row(&mut self) -> anyhow::Result<Option<Row>> {
        let Some(Reverse((key, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let row = match &self.heads[i] {
            Head::Empty => None,
            Head::Event(e) => {
                let mut row = self.table.row(e);
                let path = self.table.sources.get(e.file as usize).map(|s| &s.path);
                if let Some(text) = path.and_then(|p| self.texts.text(e, p)) {
                    row.message = text;
                }
                Some(row)
            }
            Head::Buffer(start, len) => {
                let rec = &self.sorted.buf[*start..*start + *len];
                Some(self.placed(rec, key)?)
            }
            Head::Run => match &self.sources[i] {
                Source::Run(r) => Some(self.placed(&r.rec, key)?),
                _ => None,
            },
        };
        self.advance(i)?;
        Ok(row)
    }

    /// A spilled row, placed in the table (`key.file` final).
    fn placed(&self, rec: &[u8], key: Key) -> anyhow::Result<Row> {
        let mut row = decode(&rec[Key::LEN..], &self.sorted.words)
            .ok_or_else(|| anyhow::anyhow!("reading back sorted rows: a damaged record"))?;
        row.line = key.line;
        row.unix_us = (!key.untimed).then_some(key.time);
        self.table.place(&mut row, key.file);
        Ok(row)
    }
}

impl Iterator for Rows<'_> {
    type Item = anyhow::Result<Row>;

    fn next(&mut self) -> Option<anyhow::Result<Row>> {
        self.next_row().transpose()
    }
}

/// Merges runs into one (records copied as they are).
fn merge_runs(runs: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for p in runs {
        let f = std::fs::File::open(p)
            .with_context(|| format!("reading back sorted rows: {}", p.display()))?;
        readers.push(RunReader::new(f, p.clone()));
    }
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(k) = r.next()? {
            heap.push(Reverse((k, i)));
        }
    }
    let fail = |e: io::Error| {
        anyhow::Error::new(e).context(format!(
            "sorting the rows outside memory: cannot write {} (set TMPDIR to a writable directory with room)",
            out.display()
        ))
    };
    let file = std::fs::File::create(out).map_err(fail)?;
    let mut w = BufWriter::with_capacity(RUN_BUFFER, file);
    while let Some(Reverse((_, i))) = heap.pop() {
        write_record(&mut w, &readers[i].rec).map_err(fail)?;
        if let Some(k) = readers[i].next()? {
            heap.push(Reverse((k, i)));
        }
    }
    w.flush().map_err(fail)
}

/// The `&'static str` values of rows (kinds and other names from fixed
/// sets), spilled as their number here.
#[derive(Default)]
struct Words(Vec<&'static str>);

impl Words {
    fn number(&mut self, w: &'static str) -> u8 {
        match self.0.iter().position(|x| *x == w) {
            Some(i) => i as u8,
            None => {
                // Names of fixed sets: far fewer than 256.
                debug_assert!(self.0.len() < 256);
                self.0.push(w);
                (self.0.len() - 1) as u8
            }
        }
    }
}

/// Writes what a row holds of its event (not what [`Table::place`] adds:
/// times, file, node, format, incident; nor the line, which is in the
/// key).
fn encode(r: &Row, words: &mut Words, out: &mut Vec<u8>) {
    let mut e = Enc { out, words };
    e.word(r.kind);
    e.opt(r.status, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&r.method);
    e.opt_str(&r.path);
    e.opt_str(&r.action);
    e.opt_str(&r.client);
    e.opt_str(&r.host);
    e.opt(r.upstream_kind, |e, v| e.word(v));
    e.opt(r.pid, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&r.pool);
    e.opt_str(&r.signal);
    e.opt_str(&r.plugin);
    e.opt(r.call, |e, v| e.word(v));
    e.opt(r.seconds, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&r.ray_id);
    e.opt_str(&r.request_id);
    e.str(&r.message);
    let f = &r.fields;
    e.opt(f.connection, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&f.upstream);
    e.opt(f.origin_status, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&f.process);
    e.opt_str(&f.object);
    e.opt(f.step, |e, v| e.word(v));
    e.opt(f.fatal, |e, v| e.bytes(&[v as u8]));
    e.opt(f.level, |e, v| e.word(v));
    e.opt(f.number, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt(f.code, |e, v| e.word(v));
    e.opt_str(&f.frame);
    e.opt(f.lock_seconds, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt(f.rows_examined, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt(f.rows_sent, |e, v| e.bytes(&v.to_le_bytes()));
    e.opt_str(&f.db);
    e.opt_str(&f.fingerprint);
    e.opt_str(&f.table);
}

struct Enc<'a> {
    out: &'a mut Vec<u8>,
    words: &'a mut Words,
}

impl Enc<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    fn word(&mut self, w: &'static str) {
        let n = self.words.number(w);
        self.out.push(n);
    }

    /// A length (LEB128) and the bytes.
    fn str(&mut self, s: &str) {
        let mut n = s.len();
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) {
        match v {
            Some(v) => {
                self.out.push(1);
                f(self, v);
            }
            None => self.out.push(0),
        }
    }

    fn opt_str(&mut self, v: &Option<String>) {
        self.opt(v.as_deref(), |e, s| e.str(s));
    }
}

/// Reads what [`encode`] wrote back into a row (what the table adds left
/// empty).
fn decode(b: &[u8], words: &Words) -> Option<Row> {
    let mut d = Dec { b, words };
    let kind = d.word()?;
    let status = d.opt(|d| Some(u16::from_le_bytes(d.take()?)))?;
    let method = d.opt_str()?;
    let path = d.opt_str()?;
    let action = d.opt_str()?;
    let client = d.opt_str()?;
    let host = d.opt_str()?;
    let upstream_kind = d.opt(Dec::word)?;
    let pid = d.opt(|d| Some(u32::from_le_bytes(d.take()?)))?;
    let pool = d.opt_str()?;
    let signal = d.opt_str()?;
    let plugin = d.opt_str()?;
    let call = d.opt(Dec::word)?;
    let seconds = d.opt(|d| Some(f64::from_le_bytes(d.take()?)))?;
    let ray_id = d.opt_str()?;
    let request_id = d.opt_str()?;
    let message = d.str()?;
    let fields = Fields {
        connection: d.opt(|d| Some(u64::from_le_bytes(d.take()?)))?,
        upstream: d.opt_str()?,
        origin_status: d.opt(|d| Some(u16::from_le_bytes(d.take()?)))?,
        process: d.opt_str()?,
        object: d.opt_str()?,
        step: d.opt(Dec::word)?,
        fatal: d.opt(|d| Some(d.take::<1>()?[0] != 0))?,
        level: d.opt(Dec::word)?,
        number: d.opt(|d| Some(i64::from_le_bytes(d.take()?)))?,
        code: d.opt(Dec::word)?,
        frame: d.opt_str()?,
        lock_seconds: d.opt(|d| Some(f64::from_le_bytes(d.take()?)))?,
        rows_examined: d.opt(|d| Some(u64::from_le_bytes(d.take()?)))?,
        rows_sent: d.opt(|d| Some(u64::from_le_bytes(d.take()?)))?,
        db: d.opt_str()?,
        fingerprint: d.opt_str()?,
        table: d.opt_str()?,
    };
    Some(Row {
        unix_us: None,
        time: None,
        local_time: None,
        file: None,
        node: None,
        line: 0,
        format: None,
        kind,
        status,
        method,
        path,
        action,
        client,
        host,
        upstream_kind,
        pid,
        pool,
        signal,
        plugin,
        call,
        seconds,
        ray_id,
        request_id,
        incident_id: None,
        message,
        fields,
    })
}

struct Dec<'a> {
    b: &'a [u8],
    words: &'a Words,
}

impl Dec<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.b.split_first_chunk::<N>()?;
        self.b = rest;
        Some(*head)
    }

    fn word(&mut self) -> Option<&'static str> {
        let [n] = self.take::<1>()?;
        self.words.0.get(n as usize).copied()
    }

    fn str(&mut self) -> Option<String> {
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let [b] = self.take::<1>()?;
            n |= ((b & 0x7f) as usize) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
        let s = self.b.get(..n)?;
        self.b = &self.b[n..];
        String::from_utf8(s.to_vec()).ok()
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        let [tag] = self.take::<1>()?;
        match tag {
            0 => Some(None),
            _ => f(self).map(Some),
        }
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        self.opt(Dec::str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_frame::{Incidents, Source};
    use baton_logparse::{Format, Zone};

    fn table() -> Table {
        Table {
            sources: ["a.log", "b.log", "c.log"]
                .iter()
                .map(|p| Source {
                    path: (*p).into(),
                    format: Format::NginxAccess,
                    node: "local".into(),
                })
                .collect(),
            zone: Zone::Fixed(3600),
            incidents: Incidents::from_spans([(4, 1_000_000, 2_000_000)]),
        }
    }

    /// A row with every field set.
    fn full() -> Row {
        let s = |v: &str| Some(v.to_string());
        Row {
            unix_us: Some(1_500_000),
            time: None,
            local_time: None,
            file: None,
            node: None,
            line: 7,
            format: None,
            kind: "request",
            status: Some(502),
            method: s("GET"),
            path: s("/wp-admin/admin-ajax.php"),
            action: s("heartbeat"),
            client: s("203.0.113.9"),
            host: s("example.org"),
            upstream_kind: Some("timeout"),
            pid: Some(4242),
            pool: s("www"),
            signal: s("SIGKILL"),
            plugin: s("woocommerce"),
            call: Some("database"),
            seconds: Some(30.25),
            ray_id: s("8c1f"),
            request_id: s("r-1"),
            incident_id: None,
            message: "GET /wp-admin/admin-ajax.php é \\x00".repeat(5),
            fields: Fields {
                connection: Some(u64::MAX),
                upstream: s("unix:/run/php.sock"),
                origin_status: Some(504),
                process: s("php-fpm"),
                object: s("/var/www/index.php"),
                step: Some("reload"),
                fatal: Some(true),
                level: Some("fatal"),
                number: Some(-9),
                code: Some("plugin"),
                frame: s("wpdb->query()"),
                lock_seconds: Some(0.5),
                rows_examined: Some(10),
                rows_sent: Some(1),
                db: s("wp"),
                fingerprint: s("select ?"),
                table: s("wp_options"),
            },
        }
    }

    #[test]
    fn rows_read_back_as_written() {
        let mut words = Words::default();
        for row in [full(), Table::event_row(&Event::default())] {
            let mut buf = Vec::new();
            encode(&row, &mut words, &mut buf);
            let mut back = decode(&buf, &words).expect("decodes");
            back.unix_us = row.unix_us;
            back.line = row.line;
            assert_eq!(back, row);
            // A damaged record is an error, not a panic.
            for cut in 0..buf.len() {
                let _ = decode(&buf[..cut], &words);
            }
        }
    }

    /// Events of three inputs at times that tie across inputs.
    fn events(n: u64) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                time: (i % 11 != 0).then(|| baton_logparse::Timestamp {
                    unix_us: ((i * 7919) % 23) as i64 * 100_000,
                    offset_s: 0,
                }),
                file: (i % 3) as u32,
                line: i + 1,
                status: Some(200 + (i % 5) as u16),
                text: format!("line {i}").into_bytes().into(),
                ..Event::default()
            })
            .collect()
    }

    /// Writes `events` (pushed in chunks, as read) through a sorter with
    /// room for `rows`, beside `held` kept in memory.
    fn merged(rows: usize, held: &[Event], events: &[Event], parent: &Path) -> Vec<Row> {
        let s = Spill::new(
            Limits {
                bytes: BUFFER_BYTES,
                rows,
            },
            parent.to_path_buf(),
        );
        for chunk in events.chunks(4) {
            s.push(
                chunk
                    .iter()
                    .map(|e| (Key::of(e, e.file), Table::event_row(e))),
            );
        }
        let sorted = s.finish().unwrap();
        assert_eq!(
            sorted.runs() > 0,
            rows < events.len(),
            "spilled only when full"
        );
        let table = table();
        let mut held = held.to_vec();
        baton_frame::sort_events(&mut held);
        let out: Vec<Row> = sorted
            .rows(&held, &[0, 1, 2], &table)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        drop(sorted);
        out
    }

    #[test]
    fn merged_rows_are_the_rows_sorted_however_many_runs() {
        let parent = std::env::temp_dir().join(format!("baton-spill-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        let all = events(500);
        let (held, set_aside): (Vec<Event>, Vec<Event>) =
            all.iter().cloned().partition(|e| e.line % 7 == 0);
        let mut want = all.clone();
        baton_frame::sort_events(&mut want);
        let table = table();
        let want: Vec<Row> = want.iter().map(|e| table.row(e)).collect();
        // No spill; a few runs; more runs than one merge takes.
        for rows in [1_000_000, 100, 3, 1] {
            assert_eq!(merged(rows, &held, &set_aside, &parent), want, "{rows}");
            // The runs are gone.
            assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0, "{rows}");
        }
        let _ = std::fs::remove_dir_all(&parent);
    }

    #[test]
    fn a_temporary_directory_that_cannot_be_made_is_an_error() {
        let parent = std::env::temp_dir().join(format!("baton-spill-file-{}", std::process::id()));
        std::fs::write(&parent, b"a file, not a directory").unwrap();
        let s = Spill::new(Limits { bytes: 1, rows: 1 }, parent.clone());
        s.push(
            events(3)
                .iter()
                .map(|e| (Key::of(e, 0), Table::event_row(e))),
        );
        let err = s.finish().err().expect("fails");
        let text = format!("{err:#}");
        assert!(text.contains(&parent.display().to_string()), "{text}");
        assert!(text.contains("TMPDIR"), "{text}");
        let _ = std::fs::remove_file(&parent);
    }
}
