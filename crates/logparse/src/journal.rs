//! The systemd journal and syslog: the same FPM, kernel and systemd events
//! as the dedicated logs, read from `journalctl` output or `/var/log/syslog`.
//!
//! One [`JournalParser`] reads every form below; each record says which
//! form it was ([`JournalForm`]). [`JournalParser::with_form`] restricts a
//! parser to the form detection found, so that record boundaries are never
//! guessed from content that merely looks like another form.
//!
//! | form | sample | time |
//! | --- | --- | --- |
//! | `-o short`, RFC 3164 syslog file | `Nov 24 11:19:08 vm php-fpm8.2[3399]: [NOTICE] fpm is running, pid 3399` | local, yearless: `%b %e %H:%M:%S` (day `24`, ` 4` or `04`) |
//! | `-o short-precise` | `Nov 24 11:19:08.297711 vm kernel: ...` | local, yearless, with a fraction |
//! | `-o short-iso`, rsyslog RFC 3339 file | `2026-11-24T11:19:08+0000 vm nginx[3523]: ...` | its own offset |
//! | `-o short-iso-precise` | `2026-11-24T11:19:08.297711+0000 vm ...` | its own offset |
//! | `-o json` | `{"__REALTIME_TIMESTAMP":"1795519148298576","SYSLOG_IDENTIFIER":"php-fpm8.2","MESSAGE":"...",...}` | µs since the epoch |
//! | `-o export` | `KEY=value` lines, binary fields as `KEY\n` + u64 LE length + bytes + `\n`, records ended by a blank line | µs since the epoch |
//! | RFC 5424 | `<134>1 2026-11-24T11:19:08.123Z host app 123 - - msg` | its own offset (`-`: untimed) |
//!
//! Short formats print a message's further lines indented; an indented
//! line continues the record before it. An optional `<PRI>` before a short
//! header (RFC 3164 on the wire) is read as the priority. `journalctl`'s
//! `-- Boot ... --` / `-- No entries --` lines are [`JournalForm::Marker`]
//! records. For `-o json` and `-o export` the time is
//! `_SOURCE_REALTIME_TIMESTAMP` when present (what `journalctl` prints),
//! else `__REALTIME_TIMESTAMP`; the identifier is `SYSLOG_IDENTIFIER`, else
//! `_COMM`; the pid is `_PID`, else `SYSLOG_PID`.
//!
//! # Years
//!
//! Short forms carry no year. [`JournalParser::new`] takes the year of the
//! first yearless timestamp; a month more than six months *before* the
//! previous yearless line's month (`Dec` → `Jan`) starts the next year.
//!
//! A parallel chunk is parsed by its own clone of the parser, which starts
//! counting New Years from zero and cannot know how many happened before
//! it. So every yearless record keeps its month and the parser's count
//! ([`Yearless`]), the [`JournalSummary`] of a chunk remembers its first
//! and last month and its count, and [`Sink::append`] re-dates the later
//! chunk: its times move by the number of New Years before it (the
//! earlier chunks' count, plus one if the earlier part ends in December
//! and the later one starts in January). The result equals the sequential
//! parse; a property test checks it over two New Years.
//!
//! # Classification
//!
//! [`JournalRecord::source`] sorts each record by who wrote it (PHP-FPM,
//! kernel, systemd, nginx, other) at parse time. The event itself is
//! classified on demand ([`JournalRecord::event`]), decoding a JSON
//! message's escapes into a caller's reused buffer only when it has any.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{Offset, TimeZone};
use memchr::{memchr, memchr3};

use crate::error::SkipReason;
use crate::frame::{Loc, RecordParser};
use crate::kernel::{KernelEvent, KernelSummary};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{
    LocalResolver, Timestamp, Zone, civil_to_secs, month_from_abbrev, parse_iso8601,
};
pub use crate::years::{Yearless, rolls_over, shift_years};
use crate::years::{Years, shift_range};

/// Which output form a record was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JournalForm {
    /// `journalctl -o short` or an RFC 3164 syslog line: `Nov 24 11:19:08 host ident[pid]: msg`.
    Short,
    /// `journalctl -o short-precise`: `Nov 24 11:19:08.297711 host ...`.
    ShortPrecise,
    /// `journalctl -o short-iso` (or rsyslog's RFC 3339 file format): `2026-11-24T11:19:08+0000 host ...`.
    ShortIso,
    /// `journalctl -o short-iso-precise`: `2026-11-24T11:19:08.297711+0000 host ...`.
    ShortIsoPrecise,
    /// `journalctl -o json`: one JSON object a line.
    Json,
    /// `journalctl -o export`: `KEY=value` lines, records ended by a blank line.
    Export,
    /// RFC 5424: `<134>1 2026-11-24T11:19:08.123Z host app 123 - - msg`.
    Rfc5424,
    /// A `journalctl` marker line (`-- Boot 67ed... --`, `-- No entries --`).
    Marker,
}

impl JournalForm {
    /// The `journalctl -o` name of the form (`short`, `short-iso`, ...,
    /// `rfc5424`, `marker`).
    pub fn as_str(self) -> &'static str {
        match self {
            JournalForm::Short => "short",
            JournalForm::ShortPrecise => "short-precise",
            JournalForm::ShortIso => "short-iso",
            JournalForm::ShortIsoPrecise => "short-iso-precise",
            JournalForm::Json => "json",
            JournalForm::Export => "export",
            JournalForm::Rfc5424 => "rfc5424",
            JournalForm::Marker => "marker",
        }
    }

    /// Whether the form's timestamps carry no year.
    pub fn is_yearless(self) -> bool {
        matches!(self, JournalForm::Short | JournalForm::ShortPrecise)
    }
}

/// Who wrote a record, from its identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// PHP-FPM (`php-fpm8.2`, `php-fpm`, `php8.2-fpm`: starts with `php`
    /// and holds `fpm`).
    Fpm,
    /// The kernel (`kernel`).
    Kernel,
    /// systemd itself (`systemd`), the source of unit start/stop lines.
    Systemd,
    /// nginx (`nginx`, `nginx_access`, ...); counted with the other units
    /// for now.
    Nginx,
    /// Anything else.
    Other,
}

impl Source {
    /// The source of an identifier.
    pub fn of(identifier: &[u8]) -> Source {
        if identifier.starts_with(b"php") && memchr::memmem::find(identifier, b"fpm").is_some() {
            Source::Fpm
        } else if identifier == b"kernel" {
            Source::Kernel
        } else if identifier == b"systemd" {
            Source::Systemd
        } else if identifier.starts_with(b"nginx") {
            Source::Nginx
        } else {
            Source::Other
        }
    }
}

/// How [`JournalRecord::message`] is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The bytes as logged (text forms, export fields).
    Raw,
    /// The inside of a JSON string, escapes undecoded.
    JsonString,
    /// A JSON array of byte values (`[91,78,...]`), journald's form for
    /// messages that are not valid UTF-8.
    JsonBytes,
}

/// One journal or syslog record, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalRecord<'a> {
    /// The form it was read from.
    pub form: JournalForm,
    /// When it was logged; `None` for markers and RFC 5424's nil time.
    pub time: Option<Timestamp>,
    /// For yearless forms, what re-dating needs.
    pub yearless: Option<Yearless>,
    /// The host (`_HOSTNAME`); empty when absent.
    pub host: &'a [u8],
    /// The syslog identifier (`php-fpm8.2`, `nginx`, `kernel`,
    /// `systemd`...); empty when absent.
    pub identifier: &'a [u8],
    /// The process id, when known.
    pub pid: Option<u32>,
    /// The unit that logged (`_SYSTEMD_UNIT`), when known (json, export).
    pub unit: Option<&'a [u8]>,
    /// The unit a systemd message is about (`UNIT=` / `USER_UNIT=`), when
    /// known (json, export).
    pub about_unit: Option<&'a [u8]>,
    /// The syslog priority 0..=7 (`PRIORITY`, or from `<PRI>`), when known.
    pub priority: Option<u8>,
    /// The message, as written (see [`JournalRecord::encoding`]). Short
    /// forms keep continuation lines with their line ends and indentation.
    pub message: &'a [u8],
    /// How `message` is written.
    pub encoding: Encoding,
    /// Who wrote it.
    pub source: Source,
    /// The container that wrote it (the `journald` log driver's
    /// `CONTAINER_NAME`, else `CONTAINER_ID`; json and export forms);
    /// empty when absent.
    pub container: &'a [u8],
}

impl<'a> JournalRecord<'a> {
    /// The message as bytes: borrowed when nothing needs decoding, else
    /// decoded into `scratch` (cleared first) and borrowed from there.
    pub fn message_bytes<'s>(&'s self, scratch: &'s mut Vec<u8>) -> &'s [u8]
    where
        'a: 's,
    {
        match self.encoding {
            Encoding::Raw => self.message,
            Encoding::JsonString if memchr(b'\\', self.message).is_none() => self.message,
            Encoding::JsonString => {
                scratch.clear();
                json_unescape(self.message, scratch);
                scratch
            }
            Encoding::JsonBytes => {
                scratch.clear();
                json_byte_array(self.message, scratch);
                scratch
            }
        }
    }

    /// The message decoded, allocating only when it had to be decoded.
    pub fn message_text(&self) -> Cow<'a, [u8]> {
        match self.encoding {
            Encoding::Raw => Cow::Borrowed(self.message),
            Encoding::JsonString if memchr(b'\\', self.message).is_none() => {
                Cow::Borrowed(self.message)
            }
            Encoding::JsonString => {
                let mut v = Vec::with_capacity(self.message.len());
                json_unescape(self.message, &mut v);
                Cow::Owned(v)
            }
            Encoding::JsonBytes => {
                let mut v = Vec::new();
                json_byte_array(self.message, &mut v);
                Cow::Owned(v)
            }
        }
    }

    /// Classifies the record: FPM lines with the FPM classifier, kernel
    /// lines with the kernel's, systemd's lines about php-fpm units as unit
    /// actions. `scratch` is reused for JSON messages with escapes.
    pub fn event<'s>(&'s self, scratch: &'s mut Vec<u8>) -> JournalEvent<'s>
    where
        'a: 's,
    {
        let about = self.about_unit;
        let source = self.source;
        let m = self.message_bytes(scratch);
        // Every nginx error entry is one, whoever carried it.
        if source != Source::Fpm
            && source != Source::Kernel
            && crate::nginx::error::is_entry_start(m)
        {
            return JournalEvent::NginxError(m);
        }
        match source {
            Source::Fpm => match split_fpm(m) {
                Some(line) => JournalEvent::Fpm(line),
                None => JournalEvent::Other,
            },
            Source::Kernel => JournalEvent::Kernel(crate::kernel::classify(m)),
            Source::Systemd => match unit_action(m, about) {
                Some(a) => JournalEvent::FpmUnit(a),
                None => JournalEvent::Other,
            },
            Source::Nginx | Source::Other => JournalEvent::Other,
        }
    }
}

/// An FPM message split into its level and text: `[WARNING] [pool www]
/// server reached ...` (syslog form) or `[24-Nov-2026 11:19:35] ERROR:
/// FPM initialization failed` (php-fpm's own form, written to a journald
/// stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpmLine<'a> {
    /// The level as written (`NOTICE`, `WARNING`, `ERROR`, `ALERT`,
    /// `DEBUG`).
    pub level: &'a [u8],
    /// The text after the level.
    pub message: &'a [u8],
}

/// What systemd did to a php-fpm unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitAction {
    /// `Starting php8.2-fpm.service - ...`
    Starting,
    /// `Started php8.2-fpm.service - ...`
    Started,
    /// `Stopping php8.2-fpm.service - ...`
    Stopping,
    /// `Stopped php8.2-fpm.service - ...`
    Stopped,
    /// `Reloading php8.2-fpm.service - ...`
    Reloading,
    /// `Reloaded php8.2-fpm.service - ...`
    Reloaded,
    /// `php8.2-fpm.service: Failed with result ...`, `Failed to start ...`,
    /// `php8.2-fpm.service: Main process exited, code=killed ...`
    Failed,
}

/// What a journal record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalEvent<'a> {
    /// A PHP-FPM line (its events: [`crate::fpm::classify`]).
    Fpm(FpmLine<'a>),
    /// A kernel line, classified by [`crate::kernel::classify`].
    Kernel(KernelEvent<'a>),
    /// systemd acting on a php-fpm unit.
    FpmUnit(UnitAction),
    /// An nginx error-log entry (`error_log syslog:...`, or nginx's stderr
    /// in the journal): the entry as nginx wrote it, from its date on.
    NginxError(&'a [u8]),
    /// Anything else (including FPM lines without a level).
    Other,
}

const FPM_LEVELS: [&[u8]; 6] = [
    b"DEBUG", b"NOTICE", b"WARNING", b"ERROR", b"ALERT", b"SYSTEM",
];

/// Splits an FPM message into level and text; `None` when it has no level.
pub fn split_fpm(m: &[u8]) -> Option<FpmLine<'_>> {
    // php-fpm 5.x writes `php-fpm:  [WARNING] ...`: two spaces.
    let rest = m.trim_ascii_start().strip_prefix(b"[")?;
    let close = memchr(b']', rest)?;
    let inside = &rest[..close];
    let after = &rest[close + 1..];
    if FPM_LEVELS.contains(&inside) {
        let message = after.strip_prefix(b" ").unwrap_or(after);
        return Some(FpmLine {
            level: inside,
            message,
        });
    }
    // `[24-Nov-2026 11:19:35] ERROR: text`
    let after = after.strip_prefix(b" ")?;
    let colon = memchr(b':', after)?;
    let level = &after[..colon];
    if !FPM_LEVELS.contains(&level) {
        return None;
    }
    let message = &after[colon + 1..];
    Some(FpmLine {
        level,
        message: message.strip_prefix(b" ").unwrap_or(message),
    })
}

fn is_fpm_unit(name: &[u8]) -> bool {
    name.starts_with(b"php") && memchr::memmem::find(name, b"fpm").is_some()
}

/// The systemd action of a message about a php-fpm unit. The unit is the
/// first word after the verb (`Started php8.2-fpm.service - The PHP 8.2
/// FastCGI Process Manager.`), the `UNIT=` field, or, for systemd versions
/// that print only the description, a description naming `PHP` and
/// `FastCGI Process Manager`.
pub fn unit_action(m: &[u8], about: Option<&[u8]>) -> Option<UnitAction> {
    const VERBS: [(&[u8], UnitAction); 6] = [
        (b"Starting ", UnitAction::Starting),
        (b"Started ", UnitAction::Started),
        (b"Stopping ", UnitAction::Stopping),
        (b"Stopped ", UnitAction::Stopped),
        (b"Reloading ", UnitAction::Reloading),
        (b"Reloaded ", UnitAction::Reloaded),
    ];
    let about_fpm = about.is_some_and(is_fpm_unit);
    for (verb, action) in VERBS {
        if let Some(rest) = m.strip_prefix(verb) {
            let word = &rest[..memchr(b' ', rest).unwrap_or(rest.len())];
            let word = word.strip_suffix(b".").unwrap_or(word);
            let described = memchr::memmem::find(rest, b"FastCGI Process Manager").is_some()
                && memchr::memmem::find(rest, b"PHP").is_some();
            return (about_fpm || is_fpm_unit(word) || described).then_some(action);
        }
    }
    if let Some(rest) = m.strip_prefix(b"Failed to start ") {
        let word = &rest[..memchr(b' ', rest).unwrap_or(rest.len())];
        let described = memchr::memmem::find(rest, b"FastCGI Process Manager").is_some();
        return (about_fpm || is_fpm_unit(word) || described).then_some(UnitAction::Failed);
    }
    // `php8.2-fpm.service: Failed with result 'exit-code'.`
    let colon = memchr::memmem::find(m, b": ")?;
    let (unit, rest) = (&m[..colon], &m[colon + 2..]);
    if is_fpm_unit(unit)
        && (rest.starts_with(b"Failed with result")
            || rest.starts_with(b"Main process exited, code=killed")
            || rest.starts_with(b"Main process exited, code=dumped"))
    {
        return Some(UnitAction::Failed);
    }
    None
}

// ---------------------------------------------------------------------
// Header shapes and detection.

#[inline]
fn d2(b: &[u8], i: usize) -> Option<u32> {
    let (x, y) = (
        b.get(i)?.wrapping_sub(b'0'),
        b.get(i + 1)?.wrapping_sub(b'0'),
    );
    (x < 10 && y < 10).then_some(x as u32 * 10 + y as u32)
}

/// A short timestamp `Nov 24 11:19:08[.ffffff]`: (month, day, h, m, s,
/// µs, precise, length).
#[derive(Debug, Clone, Copy)]
struct ShortTs {
    month: u32,
    day: u32,
    h: u32,
    mi: u32,
    s: u32,
    us: i64,
    precise: bool,
    len: usize,
}

fn short_ts(b: &[u8]) -> Option<ShortTs> {
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let month = month_from_abbrev(&b[..3])?;
    let day = match (b[4], b[5]) {
        (b' ', c) if c.is_ascii_digit() => (c - b'0') as u32,
        _ => d2(b, 4)?,
    };
    let (h, mi, s) = (d2(b, 7)?, d2(b, 10)?, d2(b, 13)?);
    let mut ts = ShortTs {
        month,
        day,
        h,
        mi,
        s,
        us: 0,
        precise: false,
        len: 15,
    };
    if b.get(15) == Some(&b'.') {
        let mut i = 16;
        let mut scale = 100_000i64;
        while i < b.len() && b[i].is_ascii_digit() && i < 25 {
            ts.us += (b[i] - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
        if i == 16 {
            return None;
        }
        ts.precise = true;
        ts.len = i;
    }
    Some(ts)
}

fn iso_shape(b: &[u8]) -> bool {
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// `<PRI>` at the start: (priority value, bytes).
fn pri(b: &[u8]) -> Option<(u32, usize)> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let mut v = 0u32;
    let mut i = 1;
    while i < b.len() && i <= 4 && b[i].is_ascii_digit() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    (i > 1 && b.get(i) == Some(&b'>') && v <= 191).then_some((v, i + 1))
}

fn is_export_key_line(line: &[u8]) -> bool {
    let key_end = memchr(b'=', line).unwrap_or(line.len());
    key_end > 0
        && (line[0].is_ascii_uppercase() || line[0] == b'_')
        && line[..key_end]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The form of one line, judged from its start alone; `None` for lines of
/// no journal form (continuation lines, other logs). An export record's
/// first line is `__CURSOR=...`; its other lines are not told apart here.
pub fn form_of(line: &[u8]) -> Option<JournalForm> {
    match line.first()? {
        b'{' => json_looks(line).then_some(JournalForm::Json),
        b'_' if line.starts_with(b"__CURSOR=") => Some(JournalForm::Export),
        b'<' => {
            let (_, n) = pri(line)?;
            let rest = &line[n..];
            if rest.len() > 2 && rest[0].is_ascii_digit() && memchr(b' ', rest) < Some(4) {
                Some(JournalForm::Rfc5424)
            } else {
                short_ts(rest).map(|t| {
                    if t.precise {
                        JournalForm::ShortPrecise
                    } else {
                        JournalForm::Short
                    }
                })
            }
        }
        b'-' if line.starts_with(b"-- ") && line.ends_with(b" --") => Some(JournalForm::Marker),
        c if c.is_ascii_digit() => {
            if !iso_shape(line) {
                return None;
            }
            let end = memchr(b' ', line)?;
            parse_iso8601(&line[..end])?;
            Some(if memchr(b'.', &line[..end]).is_some() {
                JournalForm::ShortIsoPrecise
            } else {
                JournalForm::ShortIso
            })
        }
        _ => {
            let t = short_ts(line)?;
            (line.get(t.len) == Some(&b' ')).then_some(if t.precise {
                JournalForm::ShortPrecise
            } else {
                JournalForm::Short
            })
        }
    }
}

fn json_looks(line: &[u8]) -> bool {
    let f = memchr::memmem::find;
    f(line, b"\"__REALTIME_TIMESTAMP\"").is_some()
        || f(line, b"\"_SOURCE_REALTIME_TIMESTAMP\"").is_some()
        || (f(line, b"\"MESSAGE\"").is_some() && f(line, b"\"__CURSOR\"").is_some())
}

/// Whether `line` looks like the first line of a journal or syslog record
/// of any form (see [`form_of`]; markers excluded).
pub fn looks_like(line: &[u8]) -> bool {
    matches!(form_of(line), Some(f) if f != JournalForm::Marker)
}

/// Whether `line` is a `-o short` / `-o short-precise` / RFC 3164 line
/// (`Nov 24 11:19:08 vm php-fpm8.2[3399]: ...`).
pub fn looks_like_short(line: &[u8]) -> bool {
    matches!(
        form_of(line),
        Some(JournalForm::Short | JournalForm::ShortPrecise)
    )
}

/// Whether `line` is a `-o short-iso` / `-o short-iso-precise` line
/// (`2026-11-24T11:19:08+0000 vm ...`).
pub fn looks_like_iso(line: &[u8]) -> bool {
    matches!(
        form_of(line),
        Some(JournalForm::ShortIso | JournalForm::ShortIsoPrecise)
    )
}

/// Whether `line` is a `-o json` line (a JSON object with journal fields).
pub fn looks_like_json(line: &[u8]) -> bool {
    form_of(line) == Some(JournalForm::Json)
}

/// Whether `line` starts a `-o export` record (`__CURSOR=...`).
pub fn looks_like_export(line: &[u8]) -> bool {
    form_of(line) == Some(JournalForm::Export)
}

/// Whether `line` is an RFC 5424 syslog line (`<134>1 2026-... host app ...`).
pub fn looks_like_rfc5424(line: &[u8]) -> bool {
    form_of(line) == Some(JournalForm::Rfc5424)
}

// ---------------------------------------------------------------------
// The parser.

/// Reads journal and syslog records; see the module documentation.
#[derive(Debug, Clone)]
pub struct JournalParser {
    resolver: LocalResolver,
    year: i32,
    prev_month: Option<u8>,
    rollovers: u32,
    only: Option<JournalForm>,
    // Offset cache for instants (json, export): minute and offset.
    offset_minute: i64,
    offset_s: i32,
}

impl JournalParser {
    /// A parser resolving local times in `zone`, giving yearless
    /// timestamps `year` until the first New Year inside the input.
    pub fn new(zone: Zone, year: i32) -> JournalParser {
        JournalParser {
            resolver: LocalResolver::new(zone),
            year,
            prev_month: None,
            rollovers: 0,
            only: None,
            offset_minute: i64::MIN,
            offset_s: 0,
        }
    }

    /// Restricts the parser to one form (as detected): record starts are
    /// then only that form's (for export, only `__CURSOR=` lines), and
    /// lines of other forms are skipped as `unrecognized`. Markers are
    /// always read.
    pub fn with_form(mut self, form: JournalForm) -> JournalParser {
        self.only = match form {
            JournalForm::Short | JournalForm::ShortPrecise => Some(JournalForm::Short),
            JournalForm::ShortIso | JournalForm::ShortIsoPrecise => Some(JournalForm::ShortIso),
            JournalForm::Marker => None,
            f => Some(f),
        };
        self
    }

    /// The zone of offset-less times.
    pub fn zone(&self) -> Zone {
        self.resolver.zone()
    }

    fn allowed(&self, form: JournalForm) -> bool {
        match (self.only, form) {
            (None, _) | (_, JournalForm::Marker) => true,
            (Some(JournalForm::Short), JournalForm::Short | JournalForm::ShortPrecise) => true,
            (Some(JournalForm::ShortIso), JournalForm::ShortIso | JournalForm::ShortIsoPrecise) => {
                true
            }
            (Some(a), b) => a == b,
        }
    }

    /// An instant's offset in the zone (cached per minute).
    fn offset_at(&mut self, unix_us: i64) -> i32 {
        match self.resolver.zone() {
            Zone::Fixed(o) => o,
            Zone::Tz(tz) => {
                let minute = unix_us.div_euclid(60_000_000);
                if minute != self.offset_minute {
                    self.offset_minute = minute;
                    self.offset_s = chrono::DateTime::from_timestamp(minute * 60, 0)
                        .map(|d| tz.offset_from_utc_datetime(&d.naive_utc()).fix())
                        .map_or(0, |o| o.local_minus_utc());
                }
                self.offset_s
            }
        }
    }

    fn instant(&mut self, unix_us: i64) -> Timestamp {
        Timestamp {
            unix_us,
            offset_s: self.offset_at(unix_us),
        }
    }

    /// Dates a yearless timestamp, counting New Years.
    fn date_short(&mut self, t: &ShortTs) -> Result<(Timestamp, Yearless), SkipReason> {
        let month = t.month as u8;
        if let Some(p) = self.prev_month
            && rolls_over(p, month)
        {
            self.rollovers += 1;
        }
        let year = self.year as i64 + self.rollovers as i64;
        // Feb 29 of a year that turns out not to be leap is kept (as Mar 1)
        // rather than lost: its year may only be known after merging.
        let local = if t.month == 2 && t.day == 29 {
            civil_to_secs(year, 3, 1, t.h, t.mi, t.s)
        } else {
            civil_to_secs(year, t.month, t.day, t.h, t.mi, t.s)
        }
        .ok_or(SkipReason::BadTimestamp)?;
        self.prev_month = Some(month);
        let mut ts = self.resolver.resolve(local);
        ts.unix_us += t.us;
        Ok((
            ts,
            Yearless {
                month,
                rollovers: self.rollovers,
                zone: self.resolver.zone(),
            },
        ))
    }

    fn parse_text<'a>(&mut self, rec: &'a [u8]) -> Result<JournalRecord<'a>, SkipReason> {
        let mut b = rec;
        let mut priority = None;
        if let Some((v, n)) = pri(b) {
            priority = Some((v & 7) as u8);
            b = &b[n..];
            if b.first().is_some_and(u8::is_ascii_digit) {
                return self.parse_5424(b, v);
            }
        }
        let (form, time, yearless, rest) = if b.first().is_some_and(u8::is_ascii_digit) {
            let end = memchr(b' ', b).ok_or(SkipReason::Truncated)?;
            let t = parse_iso8601(&b[..end]).ok_or(SkipReason::BadTimestamp)?;
            let form = if memchr(b'.', &b[..end]).is_some() {
                JournalForm::ShortIsoPrecise
            } else {
                JournalForm::ShortIso
            };
            (form, t, None, &b[end + 1..])
        } else {
            let ts = short_ts(b).ok_or(SkipReason::Unrecognized)?;
            if b.get(ts.len) != Some(&b' ') {
                return Err(SkipReason::Truncated);
            }
            let form = if ts.precise {
                JournalForm::ShortPrecise
            } else {
                JournalForm::Short
            };
            if !self.allowed(form) {
                return Err(SkipReason::Unrecognized);
            }
            let (t, y) = self.date_short(&ts)?;
            (form, t, Some(y), &b[ts.len + 1..])
        };
        if !self.allowed(form) {
            return Err(SkipReason::Unrecognized);
        }
        let sp = memchr(b' ', rest).ok_or(SkipReason::Truncated)?;
        let host = &rest[..sp];
        let (identifier, pid, message) = split_tag(&rest[sp + 1..]);
        Ok(JournalRecord {
            form,
            time: Some(time),
            yearless,
            host,
            identifier,
            pid,
            unit: None,
            about_unit: None,
            priority,
            message,
            encoding: Encoding::Raw,
            source: Source::of(identifier),
            container: b"",
        })
    }

    /// `VERSION SP TIMESTAMP SP HOST SP APP SP PROCID SP MSGID SP SD [SP MSG]`
    /// after `<PRI>`.
    fn parse_5424<'a>(&mut self, b: &'a [u8], pri: u32) -> Result<JournalRecord<'a>, SkipReason> {
        if !self.allowed(JournalForm::Rfc5424) {
            return Err(SkipReason::Unrecognized);
        }
        let mut fields = [&b""[..]; 6];
        let mut rest = b;
        for f in fields.iter_mut() {
            let sp = memchr(b' ', rest).ok_or(SkipReason::Truncated)?;
            *f = &rest[..sp];
            rest = &rest[sp + 1..];
        }
        let [version, ts, host, app, procid, _msgid] = fields;
        if version.is_empty() || !version.iter().all(u8::is_ascii_digit) {
            return Err(SkipReason::Unrecognized);
        }
        let time = if ts == b"-" {
            None
        } else {
            Some(parse_iso8601(ts).ok_or(SkipReason::BadTimestamp)?)
        };
        // Structured data: `-` or one or more `[id k="v" ...]`.
        let msg_start = if rest.first() == Some(&b'-') {
            1
        } else if rest.first() == Some(&b'[') {
            sd_end(rest).ok_or(SkipReason::Truncated)?
        } else if rest.is_empty() {
            return Err(SkipReason::Truncated);
        } else {
            return Err(SkipReason::BadField);
        };
        let mut message = &rest[msg_start..];
        message = message.strip_prefix(b" ").unwrap_or(message);
        message = message.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(message);
        let nil = |f: &'a [u8]| if f == b"-" { &b""[..] } else { f };
        let identifier = nil(app);
        Ok(JournalRecord {
            form: JournalForm::Rfc5424,
            time,
            yearless: None,
            host: nil(host),
            identifier,
            pid: parse_u32(procid),
            unit: None,
            about_unit: None,
            priority: Some((pri & 7) as u8),
            message,
            encoding: Encoding::Raw,
            source: Source::of(identifier),
            container: b"",
        })
    }

    fn parse_json<'a>(&mut self, line: &'a [u8]) -> Result<JournalRecord<'a>, SkipReason> {
        let mut f = Fields::default();
        let mut it = crate::json::Members::new(line)?;
        while let Some((key, value)) = it.next_member()? {
            let (value, kind) = match value {
                crate::json::Value::Str(v) => (v, Kind::JsonString),
                crate::json::Value::Array(v) => (v, Kind::JsonArray),
                crate::json::Value::Object(v) => (v, Kind::Other),
                crate::json::Value::Bare(v) if v == b"null" => (v, Kind::Other),
                crate::json::Value::Bare(v) => (v, Kind::Raw),
            };
            f.take(key, value, kind);
        }
        if !f.any {
            return Err(SkipReason::Unrecognized);
        }
        Ok(self.record_of(JournalForm::Json, f))
    }

    fn parse_export<'a>(&mut self, rec: &'a [u8]) -> Result<JournalRecord<'a>, SkipReason> {
        let mut f = Fields::default();
        let mut i = 0usize;
        while i < rec.len() {
            let e = memchr(b'\n', &rec[i..]).map_or(rec.len(), |j| i + j);
            let line = crate::frame::trim_cr(&rec[i..e]);
            if line.is_empty() {
                break;
            }
            if let Some(eq) = memchr(b'=', line) {
                f.take(&line[..eq], &line[eq + 1..], Kind::Raw);
                i = e + 1;
                continue;
            }
            // Binary field: KEY \n u64le \n-free length, data, \n.
            let d = e + 1;
            let len_bytes: [u8; 8] = rec
                .get(d..d + 8)
                .and_then(|s| s.try_into().ok())
                .ok_or(SkipReason::Truncated)?;
            let n = u64::from_le_bytes(len_bytes);
            let start = d + 8;
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&end| end <= rec.len())
                .ok_or(SkipReason::Truncated)?;
            f.take(line, &rec[start..end], Kind::Raw);
            i = end + 1;
        }
        if !f.any {
            return Err(SkipReason::Unrecognized);
        }
        Ok(self.record_of(JournalForm::Export, f))
    }

    fn record_of<'a>(&mut self, form: JournalForm, f: Fields<'a>) -> JournalRecord<'a> {
        let time = f
            .source_realtime
            .and_then(parse_us)
            .or_else(|| f.realtime.and_then(parse_us))
            .map(|us| self.instant(us));
        let identifier = f.identifier.or(f.comm).unwrap_or(b"");
        let (message, encoding) = f.message.unwrap_or((b"", Encoding::Raw));
        let container = f.container_name.or(f.container_id).unwrap_or(b"");
        let mut source = Source::of(identifier);
        // The `journald` log driver: the message is the container's own
        // line, and its identifier the container's tag (its short ID by
        // default). php-fpm's lines are told by their form; nginx's error
        // entries are told in [`JournalRecord::event`] wherever they are.
        if !container.is_empty() && source == Source::Other && split_fpm(message).is_some() {
            source = Source::Fpm;
        }
        JournalRecord {
            form,
            time,
            yearless: None,
            host: f.host.unwrap_or(b""),
            identifier,
            pid: f
                .pid
                .and_then(parse_u32)
                .or(f.syslog_pid.and_then(parse_u32)),
            unit: f.unit,
            about_unit: f.about_unit,
            priority: f
                .priority
                .and_then(parse_u32)
                .filter(|p| *p <= 7)
                .map(|p| p as u8),
            message,
            encoding,
            source,
            container,
        }
    }
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
    }
    u32::try_from(v).ok()
}

fn parse_us(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// `ident[pid]: msg`, `ident: msg`, `ident msg`; an empty identifier when
/// none is found.
fn split_tag(b: &[u8]) -> (&[u8], Option<u32>, &[u8]) {
    // A tag with spaces (`Setup Assistant[1173]: ...`) ends at `[pid]:`.
    if let Some(colon) = memchr(b':', &b[..b.len().min(80)])
        && let Some(open) = memchr::memrchr(b'[', &b[..colon])
        && b[colon - 1] == b']'
        && open > 0
        && let Some(pid) = parse_u32(&b[open + 1..colon - 1])
    {
        let m = &b[colon + 1..];
        return (&b[..open], Some(pid), m.strip_prefix(b" ").unwrap_or(m));
    }
    let Some(i) = memchr3(b'[', b':', b' ', b) else {
        return (b"", None, b);
    };
    let ident = &b[..i];
    match b[i] {
        b'[' => {
            let rest = &b[i + 1..];
            let Some(close) = memchr(b']', rest) else {
                return (b"", None, b);
            };
            let pid = parse_u32(&rest[..close]);
            let after = &rest[close + 1..];
            match after.strip_prefix(b":") {
                Some(m) => (ident, pid, m.strip_prefix(b" ").unwrap_or(m)),
                None => (ident, pid, after.strip_prefix(b" ").unwrap_or(after)),
            }
        }
        b':' => {
            let m = &b[i + 1..];
            (ident, None, m.strip_prefix(b" ").unwrap_or(m))
        }
        _ => (ident, None, &b[i + 1..]),
    }
}

/// The end of RFC 5424 structured data starting at `[`: the index after
/// its last `]`.
fn sd_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quote = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' if in_quote => i += 1,
                b'"' => in_quote = !in_quote,
                b']' if !in_quote => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(i)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Raw,
    JsonString,
    JsonArray,
    Other,
}

/// The fields a journal entry is read from.
#[derive(Default)]
struct Fields<'a> {
    any: bool,
    realtime: Option<&'a [u8]>,
    source_realtime: Option<&'a [u8]>,
    identifier: Option<&'a [u8]>,
    comm: Option<&'a [u8]>,
    pid: Option<&'a [u8]>,
    syslog_pid: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    unit: Option<&'a [u8]>,
    about_unit: Option<&'a [u8]>,
    priority: Option<&'a [u8]>,
    container_name: Option<&'a [u8]>,
    container_id: Option<&'a [u8]>,
    message: Option<(&'a [u8], Encoding)>,
}

impl<'a> Fields<'a> {
    #[inline]
    fn take(&mut self, key: &[u8], value: &'a [u8], kind: Kind) {
        let text = matches!(kind, Kind::Raw | Kind::JsonString);
        let slot = match key {
            b"MESSAGE" => {
                self.any = true;
                self.message = match kind {
                    Kind::Raw => Some((value, Encoding::Raw)),
                    Kind::JsonString => Some((value, Encoding::JsonString)),
                    Kind::JsonArray => Some((value, Encoding::JsonBytes)),
                    Kind::Other => None,
                };
                return;
            }
            b"__REALTIME_TIMESTAMP" => {
                self.any = true;
                &mut self.realtime
            }
            b"_SOURCE_REALTIME_TIMESTAMP" => &mut self.source_realtime,
            b"SYSLOG_IDENTIFIER" => &mut self.identifier,
            b"_COMM" => &mut self.comm,
            b"_PID" => &mut self.pid,
            b"SYSLOG_PID" => &mut self.syslog_pid,
            b"_HOSTNAME" => &mut self.host,
            b"_SYSTEMD_UNIT" => &mut self.unit,
            b"UNIT" | b"USER_UNIT" => &mut self.about_unit,
            b"PRIORITY" => &mut self.priority,
            b"CONTAINER_NAME" => &mut self.container_name,
            b"CONTAINER_ID" => &mut self.container_id,
            _ => return,
        };
        if text {
            *slot = Some(value);
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Decodes the inside of a JSON string into `out`. Malformed escapes are
/// kept as written.
pub fn json_unescape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(j) = memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + j]);
        i += j;
        i += unescape_one(s, i, out);
    }
}

/// Decodes the escape that starts at `s[i]` (a `\`) onto `out`, and says
/// how many bytes it took: 2 (`\n`), 6 (`\u00e9`), 12 (a surrogate pair),
/// or 1 for a malformed escape, whose `\` is kept as written.
#[inline]
pub(crate) fn unescape_one(s: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let Some(&c) = s.get(i + 1) else {
        out.push(b'\\');
        return 1;
    };
    let simple = match c {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'/' => Some(b'/'),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return 2;
    }
    if c == b'u'
        && let Some(hi) = hex4(&s[i + 2..])
    {
        let mut used = 6;
        let mut cp = hi;
        if (0xD800..0xDC00).contains(&hi)
            && s.get(i + 6) == Some(&b'\\')
            && s.get(i + 7) == Some(&b'u')
            && let Some(lo) = hex4(&s[i + 8..])
            && (0xDC00..0xE000).contains(&lo)
        {
            cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        }
        let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        return used;
    }
    out.push(b'\\');
    1
}

/// Decodes a JSON array of byte values (`[91,78]`) into `out`; values that
/// are not bytes are left out.
pub fn json_byte_array(s: &[u8], out: &mut Vec<u8>) {
    let inner = s.strip_prefix(b"[").unwrap_or(s);
    let inner = inner.strip_suffix(b"]").unwrap_or(inner);
    for item in inner.split(|&c| c == b',') {
        let t = item.trim_ascii();
        if let Some(v) = parse_u32(t).filter(|v| *v <= 255) {
            out.push(v as u8);
        }
    }
}

/// Whether an export record's head (its lines so far) is still open: it
/// has not ended with a blank line, or a binary field's data is not
/// complete yet (its length-prefixed bytes may hold `\n`).
fn export_open(head: &[u8]) -> bool {
    let mut i = 0usize;
    loop {
        let e = memchr(b'\n', &head[i..]).map_or(head.len(), |j| i + j);
        let line = &head[i..e];
        if line.is_empty() || line == b"\r" {
            return false;
        }
        if e == head.len() {
            return true;
        }
        if memchr(b'=', line).is_some() {
            i = e + 1;
            continue;
        }
        let d = e + 1;
        let Some(len) = head.get(d..d + 8) else {
            return true;
        };
        let mut lb = [0u8; 8];
        lb.copy_from_slice(len);
        let n = u64::from_le_bytes(lb);
        let end = match usize::try_from(n).ok().and_then(|n| (d + 8).checked_add(n)) {
            Some(end) if end < head.len() => end,
            _ => return true,
        };
        // `head[end]` should be the field's `\n`; resynchronize on the next
        // one if it is not.
        i = match memchr(b'\n', &head[end..]) {
            Some(j) => end + j + 1,
            None => return true,
        };
        if i == head.len() {
            return false;
        }
    }
}

impl RecordParser for JournalParser {
    type Record<'a> = JournalRecord<'a>;
    const MULTILINE: bool = true;

    fn is_record_start(&self, line: &[u8]) -> bool {
        match self.only {
            Some(JournalForm::Export) => line.starts_with(b"__CURSOR="),
            Some(JournalForm::Json) => true,
            _ => form_of(line).is_some(),
        }
    }

    fn continues(&self, head: &[u8], next: &[u8]) -> bool {
        match head.first() {
            Some(b'{') | None => false,
            Some(_)
                if self.only == Some(JournalForm::Export)
                    || is_export_key_line(head_line(head)) =>
            {
                export_open(head)
            }
            Some(_) => matches!(next.first(), Some(b' ' | b'\t')),
        }
    }

    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<JournalRecord<'a>, SkipReason> {
        match rec.first() {
            None => Err(SkipReason::Empty),
            Some(b'{') => {
                if !self.allowed(JournalForm::Json) {
                    return Err(SkipReason::Unrecognized);
                }
                self.parse_json(rec)
            }
            Some(b'-') if rec.starts_with(b"-- ") && head_line(rec).ends_with(b" --") => {
                Ok(JournalRecord {
                    form: JournalForm::Marker,
                    time: None,
                    yearless: None,
                    host: b"",
                    identifier: b"",
                    pid: None,
                    unit: None,
                    about_unit: None,
                    priority: None,
                    message: rec,
                    encoding: Encoding::Raw,
                    source: Source::Other,
                    container: b"",
                })
            }
            Some(_) if is_export_key_line(head_line(rec)) => {
                if !self.allowed(JournalForm::Export) {
                    return Err(SkipReason::Unrecognized);
                }
                self.parse_export(rec)
            }
            Some(_) => self.parse_text(rec),
        }
    }
}

fn head_line(b: &[u8]) -> &[u8] {
    crate::frame::trim_cr(&b[..memchr(b'\n', b).unwrap_or(b.len())])
}

// ---------------------------------------------------------------------
// The summary.

/// A reusable decoding buffer; never part of a summary's value.
#[derive(Debug, Clone, Default)]
struct Scratch(Vec<u8>);

impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}
impl Eq for Scratch {}

/// systemd's actions on php-fpm units, and the restarts they make up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitSummary {
    /// `Starting ...` lines.
    pub starting: u64,
    /// `Started ...` lines.
    pub started: u64,
    /// `Stopping ...` lines.
    pub stopping: u64,
    /// `Stopped ...` lines.
    pub stopped: u64,
    /// `Reloading ...` lines.
    pub reloading: u64,
    /// `Reloaded ...` lines.
    pub reloaded: u64,
    /// Failures (`Failed with result`, `Failed to start`, killed or dumped
    /// main process).
    pub failed: u64,
    /// Restarts: `Started` lines with a `Stopping`/`Stopped`/failure of a
    /// php-fpm unit since the previous `Started`.
    pub restarts: u64,
    // Merge state: a stop or failure not yet followed by a start (at the
    // end), whether any start/stop was seen, whether a start came before
    // any stop (a restart if the part before ended stopped).
    stop_pending: bool,
    touched: bool,
    start_first: bool,
}

impl UnitSummary {
    fn add(&mut self, a: UnitAction) {
        match a {
            UnitAction::Starting => self.starting += 1,
            UnitAction::Started => {
                self.started += 1;
                if self.stop_pending {
                    self.restarts += 1;
                } else if !self.touched {
                    self.start_first = true;
                }
                self.stop_pending = false;
                self.touched = true;
            }
            UnitAction::Stopping | UnitAction::Stopped | UnitAction::Failed => {
                match a {
                    UnitAction::Stopping => self.stopping += 1,
                    UnitAction::Stopped => self.stopped += 1,
                    _ => self.failed += 1,
                }
                self.stop_pending = true;
                self.touched = true;
            }
            UnitAction::Reloading => self.reloading += 1,
            UnitAction::Reloaded => self.reloaded += 1,
        }
    }

    /// Adds the summary of the input that follows.
    pub fn append(&mut self, later: &UnitSummary) {
        self.starting += later.starting;
        self.started += later.started;
        self.stopping += later.stopping;
        self.stopped += later.stopped;
        self.reloading += later.reloading;
        self.reloaded += later.reloaded;
        self.failed += later.failed;
        self.restarts += later.restarts + (self.stop_pending && later.start_first) as u64;
        if later.touched {
            if !self.touched {
                self.start_first = later.start_first;
            }
            self.stop_pending = later.stop_pending;
            self.touched = true;
        }
    }
}

/// How many identifiers [`JournalSummary::by_identifier`] keeps; further
/// ones are only counted in `other_lines`.
pub const MAX_IDENTIFIERS: usize = 256;

/// Counts of a journal or syslog input: the `journal` format of `baton
/// stats`, whose FPM events count in `fpm` and kernel events in `kernel`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalSummary {
    /// Records parsed (markers excluded).
    pub records: u64,
    /// Records written by PHP-FPM.
    pub fpm_lines: u64,
    /// Records written by the kernel.
    pub kernel_lines: u64,
    /// Records of every other identifier (systemd, nginx, ...).
    pub other_lines: u64,
    /// Marker lines (`-- Boot ... --`).
    pub markers: u64,
    /// Records without a time.
    pub untimed: u64,
    /// Records by identifier (the first [`MAX_IDENTIFIERS`] identifiers).
    pub by_identifier: BTreeMap<Vec<u8>, u64>,
    /// Records by form.
    pub by_form: BTreeMap<&'static str, u64>,
    /// FPM lines by level as written (`NOTICE`, `WARNING`, ...).
    pub fpm_levels: BTreeMap<Vec<u8>, u64>,
    /// FPM records (identifier `php*fpm*`) without a level.
    pub fpm_unleveled: u64,
    /// PHP-FPM events of the FPM lines, as [`crate::fpm::classify`] reads
    /// them (lines at journald's `SYSTEM` level count as unleveled).
    pub fpm: crate::fpm::FpmSummary,
    /// Kernel events (the kernel's own summary).
    pub kernel: KernelSummary,
    /// systemd's actions on php-fpm units.
    pub units: UnitSummary,
    /// Records that are nginx error-log entries.
    pub nginx_lines: u64,
    /// Their counts, as an error log's.
    pub nginx: crate::nginx::summary::ErrorSummary,
    /// Times seen.
    pub range: TimeRange,
    /// Records by host (`_HOSTNAME`, the syslog host field).
    pub hosts: crate::hosts::Hosts,
    years: Years,
    scratch: Scratch,
}

impl JournalSummary {
    /// Adds a summary of a *separate* input (another file): counts add up,
    /// no re-dating.
    pub fn merge(&mut self, other: &JournalSummary) {
        self.records += other.records;
        self.fpm_lines += other.fpm_lines;
        self.kernel_lines += other.kernel_lines;
        self.other_lines += other.other_lines;
        self.markers += other.markers;
        self.untimed += other.untimed;
        for (k, v) in &other.by_identifier {
            *self.by_identifier.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &other.by_form {
            *self.by_form.entry(k).or_insert(0) += v;
        }
        for (k, v) in &other.fpm_levels {
            *self.fpm_levels.entry(k.clone()).or_insert(0) += v;
        }
        self.fpm_unleveled += other.fpm_unleveled;
        self.kernel.merge(&other.kernel);
        self.fpm.merge(&other.fpm);
        self.units.append(&other.units);
        self.nginx_lines += other.nginx_lines;
        self.nginx.merge(&other.nginx);
        self.range.merge(other.range);
        self.hosts.merge(&other.hosts);
    }

    fn count_identifier(&mut self, ident: &[u8]) {
        if let Some(n) = self.by_identifier.get_mut(ident) {
            *n += 1;
        } else if self.by_identifier.len() < MAX_IDENTIFIERS {
            self.by_identifier.insert(ident.to_vec(), 1);
        }
    }
}

impl JournalSummary {
    /// The years by which a later chunk's yearless times must move when it
    /// is appended to this one (the New Years before it), with the zone
    /// they were resolved in; `None` when nothing moves.
    pub fn redating(&self, later: &JournalSummary) -> Option<(u32, Zone)> {
        self.years.redating(&later.years)
    }
}

impl Sink<JournalParser> for JournalSummary {
    fn record(&mut self, r: JournalRecord<'_>, _loc: Loc) {
        if r.form == JournalForm::Marker {
            self.markers += 1;
            return;
        }
        self.records += 1;
        *self.by_form.entry(r.form.as_str()).or_insert(0) += 1;
        self.count_identifier(r.identifier);
        self.hosts.add(r.host, 1);
        match r.time {
            Some(t) => self.range.add(t),
            None => self.untimed += 1,
        }
        self.years.note(r.yearless, r.time.is_some());
        let mut scratch = std::mem::take(&mut self.scratch.0);
        let mut kernel_other = false;
        match r.event(&mut scratch) {
            JournalEvent::Fpm(line) => {
                self.fpm_lines += 1;
                if let Some(n) = self.fpm_levels.get_mut(line.level) {
                    *n += 1;
                } else {
                    self.fpm_levels.insert(line.level.to_vec(), 1);
                }
                match crate::fpm::FpmLevel::from_bytes(line.level) {
                    Some(level) => {
                        let ev = crate::fpm::classify(level, line.message);
                        self.fpm.add_event(&ev, r.time);
                    }
                    None => self.fpm_unleveled += 1,
                }
            }
            JournalEvent::Kernel(ev) => {
                self.kernel_lines += 1;
                self.kernel.add_event(&ev, r.time);
                kernel_other = matches!(ev, crate::kernel::KernelEvent::Other);
            }
            JournalEvent::FpmUnit(a) => {
                self.other_lines += 1;
                self.units.add(a);
            }
            JournalEvent::NginxError(m) => {
                self.other_lines += 1;
                if let Ok(e) = nginx_entry(&r, m) {
                    self.nginx_lines += 1;
                    Sink::<crate::nginx::error::ErrorParser>::record(&mut self.nginx, e, _loc);
                }
            }
            JournalEvent::Other => match r.source {
                Source::Fpm => {
                    self.fpm_lines += 1;
                    self.fpm_unleveled += 1;
                }
                _ => self.other_lines += 1,
            },
        }
        // An OOM report's memory lines (a cgroup's limit, the RAM).
        if kernel_other {
            self.kernel.note_memory(r.message_bytes(&mut scratch));
        }
        self.scratch.0 = scratch;
    }

    fn append(&mut self, mut later: JournalSummary, _line_shift: u64) {
        // Re-date the later part by the New Years before it.
        if let Some((shift, zone)) = self.redating(&later) {
            shift_range(&mut later.range, shift, zone);
            shift_range(&mut later.kernel.range, shift, zone);
            later.fpm.map_times(|t| shift_years(t, shift, zone));
        }
        self.years.append(&later.years);
        // FPM restarts and reloads span chunks: merge them in order.
        self.fpm.append_chunk(std::mem::take(&mut later.fpm));
        self.merge(&later);
    }
}

/// Parses an nginx error entry carried by a journal record: its own
/// date, in the zone of the record's time.
pub fn nginx_entry<'m>(
    r: &JournalRecord<'_>,
    m: &'m [u8],
) -> Result<crate::nginx::error::ErrorRecord<'m>, SkipReason> {
    let zone = Zone::Fixed(r.time.map_or(0, |t| t.offset_s));
    crate::nginx::error::ErrorParser::new(zone).parse(m)
}

#[cfg(test)]
mod tests;
