//! PHP's own error log (`error_log = /path` in `php.ini`) and WordPress's
//! `wp-content/debug.log` (`WP_DEBUG_LOG`): the `php-error` format.
//!
//! # Format accepted
//!
//! ```text
//! [24-Nov-2026 11:17:02 UTC] PHP Warning:  Undefined variable $x in /var/www/html/wp-content/plugins/acme/acme.php on line 12
//! [24-Nov-2026 11:17:03 Europe/Berlin] PHP Fatal error:  Uncaught Error: Call to undefined function acme_x() in /var/www/html/wp-content/plugins/acme/acme.php:40
//! Stack trace:
//! #0 /var/www/html/wp-includes/class-wp-hook.php(324): acme_init('')
//! #1 {main}
//!   thrown in /var/www/html/wp-content/plugins/acme/acme.php on line 40
//! [24-Nov-2026 11:17:04 UTC] WordPress database error Table 'wp.wp_acme' doesn't exist for query SELECT * FROM wp_acme made by require('wp-blog-header.php'), wp, do_action('init'), acme_init
//! ```
//!
//! - Each entry starts `[DD-Mon-YYYY HH:MM:SS ZONE]`: PHP's `d-M-Y H:i:s e`,
//!   the zone being `date.timezone` as PHP names it (`UTC`, an IANA name
//!   such as `Europe/Berlin`, or an offset `+01:00`). Without a zone
//!   (`[24-Nov-2026 11:17:02]`, some SAPIs and old versions) the time is
//!   resolved in the [`Zone`] given to [`PhpErrorParser::new`] (`--tz`).
//! - Then `PHP LEVEL:  TEXT` (`Fatal error`, `Parse error`, `Warning`,
//!   `Notice`, `Deprecated`, `Recoverable fatal error`, ...), or any text
//!   without `PHP ` (a script's `error_log()` call, WordPress's own
//!   messages): level `other`.
//! - The file and line are the last ` in FILE on line N` or ` in FILE:N` of
//!   the first line (of a multi-line message's last line before `Stack
//!   trace:`).
//! - Every line that does not start like an entry (`Stack trace:`, `#0
//!   ...`, `  thrown in ...`, the rest of a multi-line message or query,
//!   blank lines inside it) belongs to the entry before it: one record,
//!   every physical line counted parsed. Lines before the first entry are
//!   skipped as `orphan_continuation`.
//! - `WordPress database error ERROR for query QUERY made by CALLER`:
//!   WordPress's `wpdb::print_error`; the query and the call chain are kept
//!   ([`WpDbError`]), and the query runs to the last ` made by `.
//!
//! # Attribution
//!
//! The entry's culprit is the plugin, mu-plugin or theme of its file (the
//! slowlog's [`attribute`] rules); when the file is not one (a fatal error
//! raised inside WordPress core), the innermost stack-trace frame whose file
//! is; for a database error, the innermost `wp-content/...` path its call
//! chain names.

use memchr::{memchr, memmem, memrchr};

use crate::error::SkipReason;
use crate::fpm::slowlog::{CodeKind, attribute, wp_root_of};
use crate::frame::{Loc, RecordParser, trim_cr};
use crate::php::{PhpCounts, PhpLevel};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{LocalResolver, Timestamp, Zone, civil_to_secs, month_from_abbrev};

/// The longest zone name read from the brackets.
const ZONE_MAX: usize = 40;

/// WordPress's database error prefix.
const WP_DB: &[u8] = b"WordPress database error ";

/// A WordPress database error's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WpDbError<'a> {
    /// What MySQL said (`Table 'wp.wp_acme' doesn't exist`).
    pub error: &'a [u8],
    /// The query (perhaps over several lines), when the entry names one.
    pub query: Option<&'a [u8]>,
    /// The call chain after ` made by `, outermost first.
    pub caller: Option<&'a [u8]>,
}

/// One entry of a PHP error log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhpErrorRecord<'a> {
    /// When it was logged.
    pub time: Timestamp,
    /// Whether the brackets named the zone (else the configured one was
    /// used).
    pub zone_named: bool,
    /// The level.
    pub level: PhpLevel,
    /// The level as PHP named it, without `PHP ` (`Fatal error`); empty
    /// for text without one.
    pub level_name: &'a [u8],
    /// The message's first line, after the level.
    pub text: &'a [u8],
    /// The file named by ` in FILE on line N` / ` in FILE:N`.
    pub file: Option<&'a [u8]>,
    /// Its line.
    pub line: Option<u32>,
    /// The lines after the first (stack trace, the rest of the message),
    /// with their inner line ends.
    pub more: &'a [u8],
    /// For `WordPress database error` entries, their parts.
    pub wp_db: Option<WpDbError<'a>>,
    /// The plugin, mu-plugin or theme the entry is blamed on, with its slug.
    pub culprit: Option<(CodeKind, &'a [u8])>,
}

impl PhpErrorRecord<'_> {
    /// Whether the entry is fatal ([`crate::php::is_fatal`]).
    pub fn is_fatal(&self) -> bool {
        self.level == PhpLevel::Fatal
    }
}

/// Parses PHP error-log entries (format in the [module docs](self)).
///
/// ```
/// use baton_logparse::php::PhpLevel;
/// use baton_logparse::php_error::PhpErrorParser;
/// use baton_logparse::fpm::slowlog::CodeKind;
/// use baton_logparse::{RecordParser, Zone};
/// let mut p = PhpErrorParser::new(Zone::UTC);
/// let r = p.parse(b"[24-Nov-2026 12:17:02 Europe/Berlin] PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /srv/www/wp-content/plugins/acme/big.php on line 7").unwrap();
/// assert_eq!(r.time.to_rfc3339(), "2026-11-24T12:17:02+01:00");
/// assert_eq!(r.time.unix_secs(), 1_795_519_022);
/// assert_eq!(r.level, PhpLevel::Fatal);
/// assert_eq!(r.file, Some(&b"/srv/www/wp-content/plugins/acme/big.php"[..]));
/// assert_eq!(r.line, Some(7));
/// assert_eq!(r.culprit, Some((CodeKind::Plugin, &b"acme"[..])));
/// ```
#[derive(Debug, Clone)]
pub struct PhpErrorParser {
    /// For entries without a zone.
    default: LocalResolver,
    /// The last zone named in brackets, and its resolver.
    named: Option<(ZoneName, LocalResolver)>,
}

/// A zone name kept inline (no allocation per entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZoneName {
    len: u8,
    bytes: [u8; ZONE_MAX],
}

impl ZoneName {
    fn of(b: &[u8]) -> Option<ZoneName> {
        if b.len() > ZONE_MAX {
            return None;
        }
        let mut bytes = [0u8; ZONE_MAX];
        bytes[..b.len()].copy_from_slice(b);
        Some(ZoneName {
            len: b.len() as u8,
            bytes,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl PhpErrorParser {
    /// A parser resolving zone-less times in `zone`.
    pub fn new(zone: Zone) -> PhpErrorParser {
        PhpErrorParser {
            default: LocalResolver::new(zone),
            named: None,
        }
    }

    /// Resolves `local` in the zone named `name` (cached while the name
    /// repeats).
    fn resolve_named(&mut self, name: &[u8], local: i64) -> Result<Timestamp, SkipReason> {
        if let Some((n, r)) = &mut self.named
            && n.as_bytes() == name
        {
            return Ok(r.resolve(local));
        }
        let zone: Zone = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(SkipReason::BadTimestamp)?;
        let key = ZoneName::of(name).ok_or(SkipReason::BadTimestamp)?;
        let mut r = LocalResolver::new(zone);
        let t = r.resolve(local);
        self.named = Some((key, r));
        Ok(t)
    }
}

/// The shape of an entry's start, `[DD-Mon-YYYY HH:MM:SS`: `d` a digit, `a`
/// a letter, anything else itself.
const SHAPE: &[u8; 21] = b"[dd-aaa-dddd dd:dd:dd";

/// Whether `b` matches [`SHAPE`] for as many bytes as it has.
fn shape(b: &[u8]) -> bool {
    b.iter().zip(SHAPE).all(|(&c, &s)| match s {
        b'd' => c.is_ascii_digit(),
        b'a' => c.is_ascii_alphabetic(),
        _ => c == s,
    })
}

/// Whether `line` starts an entry.
pub fn is_entry_start(line: &[u8]) -> bool {
    line.len() >= 12 && shape(&line[..12])
}

#[inline]
fn d2(b: &[u8], i: usize) -> u32 {
    (b[i] - b'0') as u32 * 10 + (b[i + 1] - b'0') as u32
}

/// The first line of `b` (without `\r`) and what follows its `\n`.
#[inline]
fn split_line(b: &[u8]) -> (&[u8], &[u8]) {
    match memchr(b'\n', b) {
        Some(i) => (trim_cr(&b[..i]), &b[i + 1..]),
        None => (trim_cr(b), &[][..]),
    }
}

/// Parses a decimal number of at most 9 digits.
fn number(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &c| n * 10 + (c - b'0') as u32))
}

/// The level name after `PHP ` and the text after its colon: `Fatal
/// error:  boom` gives `(Fatal error, boom)`. Names are letters and spaces,
/// at most 30 bytes.
fn split_level(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = msg.strip_prefix(b"PHP ")?;
    let colon = memchr(b':', &rest[..rest.len().min(31)])?;
    let name = &rest[..colon];
    if name.is_empty() || !name.iter().all(|c| c.is_ascii_alphabetic() || *c == b' ') {
        return None;
    }
    Some((name, rest[colon + 1..].trim_ascii_start()))
}

/// The file and line of ` in FILE on line N` or ` in FILE:N` at the end of
/// `text` (the last ` in ` that gives one).
pub fn file_and_line(text: &[u8]) -> Option<(&[u8], u32)> {
    let mut end = text.len();
    while let Some(i) = memmem::rfind(&text[..end], b" in ") {
        let tail = &text[i + 4..];
        if let Some(on) = memmem::rfind(tail, b" on line ") {
            let file = &tail[..on];
            if let Some(n) = number(&tail[on + 9..]).filter(|_| !file.is_empty()) {
                return Some((file, n));
            }
        }
        if let Some(c) = memrchr(b':', tail) {
            let file = &tail[..c];
            if let Some(n) = number(&tail[c + 1..]).filter(|_| !file.is_empty()) {
                return Some((file, n));
            }
        }
        end = i;
    }
    None
}

/// The plugin, mu-plugin or theme of `file`, if it is one.
fn owner(file: &[u8]) -> Option<(CodeKind, &[u8])> {
    let (kind, name) = attribute(file, wp_root_of(file));
    matches!(
        kind,
        CodeKind::Plugin | CodeKind::MuPlugin | CodeKind::Theme
    )
    .then_some((kind, name))
}

/// The innermost stack-trace frame (`#0 FILE(LINE): call()`) whose file is
/// a plugin, mu-plugin or theme.
fn trace_owner(more: &[u8]) -> Option<(CodeKind, &[u8])> {
    let mut rest = more;
    while !rest.is_empty() {
        let (line, r) = split_line(rest);
        rest = r;
        let Some(frame) = line.trim_ascii_start().strip_prefix(b"#") else {
            continue;
        };
        let Some(sp) = memchr(b' ', frame) else {
            continue;
        };
        let f = &frame[sp + 1..];
        let file = match memmem::find(f, b"): ").and_then(|e| memrchr(b'(', &f[..e])) {
            Some(p) => &f[..p],
            None => continue,
        };
        if let Some(o) = owner(file) {
            return Some(o);
        }
    }
    None
}

/// The innermost plugin, mu-plugin or theme named by a `wp-content/` path
/// in a WordPress call chain (`include('wp-content/plugins/acme/x.php')`).
fn chain_owner(chain: &[u8]) -> Option<(CodeKind, &[u8])> {
    let mut found = None;
    let mut from = 0;
    while let Some(i) = memmem::find(&chain[from..], b"wp-content/") {
        let rest = &chain[from + i + "wp-content/".len()..];
        from += i + 1;
        for (dir, kind) in [
            (&b"plugins/"[..], CodeKind::Plugin),
            (b"mu-plugins/", CodeKind::MuPlugin),
            (b"themes/", CodeKind::Theme),
        ] {
            let Some(r) = rest.strip_prefix(dir) else {
                continue;
            };
            let end = r
                .iter()
                .position(|c| matches!(c, b'/' | b'\'' | b'"' | b')' | b',' | b' '))
                .unwrap_or(r.len());
            let slug = &r[..end];
            let slug = if r.get(end) == Some(&b'/') {
                slug
            } else {
                slug.strip_suffix(b".php").unwrap_or(slug)
            };
            if !slug.is_empty() {
                found = Some((kind, slug));
            }
            break;
        }
    }
    found
}

/// Splits `ERROR for query QUERY made by CALLER`.
fn wp_db_parts(body: &[u8]) -> WpDbError<'_> {
    let (head, caller) = match memmem::rfind(body, b" made by ") {
        Some(i) => (&body[..i], Some(&body[i + 9..])),
        None => (body, None),
    };
    match memmem::find(head, b" for query ") {
        Some(i) => WpDbError {
            error: &head[..i],
            query: Some(&head[i + 11..]),
            caller,
        },
        None => WpDbError {
            error: head,
            query: None,
            caller,
        },
    }
}

impl RecordParser for PhpErrorParser {
    type Record<'a> = PhpErrorRecord<'a>;
    const MULTILINE: bool = true;

    /// A line starting `[DD-Mon-YYYY ` (an entry, perhaps cut short).
    fn is_record_start(&self, line: &[u8]) -> bool {
        is_entry_start(line)
    }

    /// Every other line continues the entry before it.
    fn continues(&self, _head: &[u8], _next: &[u8]) -> bool {
        true
    }

    /// Parses one entry. Skips: lines before any entry are
    /// [`SkipReason::OrphanContinuation`] (blank ones
    /// [`SkipReason::Empty`]); an entry cut short inside its time
    /// [`SkipReason::Truncated`]; an impossible date or an unknown zone
    /// [`SkipReason::BadTimestamp`].
    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<PhpErrorRecord<'a>, SkipReason> {
        let (head, more) = split_line(rec);
        if !is_entry_start(head) {
            return Err(if rec.trim_ascii().is_empty() {
                SkipReason::Empty
            } else {
                SkipReason::OrphanContinuation
            });
        }
        if head.len() < SHAPE.len() || !shape(&head[..SHAPE.len()]) {
            return Err(if shape(head) {
                SkipReason::Truncated
            } else {
                SkipReason::BadTimestamp
            });
        }
        let month = month_from_abbrev(&head[4..7]).ok_or(SkipReason::BadTimestamp)?;
        let year = (d2(head, 8) * 100 + d2(head, 10)) as i64;
        let local = civil_to_secs(
            year,
            month,
            d2(head, 1),
            d2(head, 13),
            d2(head, 16),
            d2(head, 19),
        )
        .ok_or(SkipReason::BadTimestamp)?;
        let after = &head[SHAPE.len()..];
        let close = memchr(b']', after).ok_or(SkipReason::Truncated)?;
        let zone = &after[..close];
        let (time, zone_named) = if zone.is_empty() {
            (self.default.resolve(local), false)
        } else {
            let name = zone.strip_prefix(b" ").ok_or(SkipReason::BadTimestamp)?;
            (self.resolve_named(name, local)?, true)
        };
        let msg = after[close + 1..].trim_ascii_start();
        let (level_name, text) = split_level(msg).unwrap_or((&[][..], msg));
        let level = PhpLevel::of(level_name, text);
        let wp_db = msg.strip_prefix(WP_DB).map(|_| {
            // The query may run over several lines: the whole record.
            let start = msg.as_ptr() as usize - rec.as_ptr() as usize + WP_DB.len();
            wp_db_parts(trim_cr(&rec[start..]))
        });
        // A multi-line message names its file on its last line, before
        // `Stack trace:`.
        let named = file_and_line(text).or_else(|| {
            let end = memmem::find(more, b"Stack trace:")?;
            let last = trim_cr(more[..end].strip_suffix(b"\n")?);
            file_and_line(&last[memrchr(b'\n', last).map_or(0, |i| i + 1)..])
        });
        let (file, line) = match named.filter(|_| wp_db.is_none()) {
            Some((f, n)) => (Some(f), Some(n)),
            None => (None, None),
        };
        let culprit = match &wp_db {
            Some(db) => db.caller.and_then(chain_owner),
            None => file.and_then(owner).or_else(|| trace_owner(more)),
        };
        Ok(PhpErrorRecord {
            time,
            zone_named,
            level,
            level_name,
            text,
            file,
            line,
            more,
            wp_db,
            culprit,
        })
    }
}

/// Counts of a PHP error log: its `php_messages` by level, and more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhpErrorSummary {
    /// Entries parsed.
    pub entries: u64,
    /// Entries by level.
    pub php_messages: PhpCounts,
    /// `WordPress database error` entries.
    pub wp_db_errors: u64,
    /// Entries whose time named no zone (read in the configured one).
    pub zoneless: u64,
    /// Fatal entries by culprit slug (plugins, mu-plugins and themes).
    pub fatal_by_culprit: std::collections::BTreeMap<Vec<u8>, u64>,
    /// Times seen.
    pub range: TimeRange,
}

impl PhpErrorSummary {
    /// Adds another summary's counts (a later chunk, or another file).
    pub fn merge(&mut self, other: &PhpErrorSummary) {
        self.entries += other.entries;
        self.php_messages.merge(&other.php_messages);
        self.wp_db_errors += other.wp_db_errors;
        self.zoneless += other.zoneless;
        for (k, n) in &other.fatal_by_culprit {
            *self.fatal_by_culprit.entry(k.clone()).or_default() += n;
        }
        self.range.merge(other.range);
    }
}

impl Sink<PhpErrorParser> for PhpErrorSummary {
    fn record(&mut self, r: PhpErrorRecord<'_>, _loc: Loc) {
        self.entries += 1;
        self.php_messages.add(r.level);
        self.wp_db_errors += r.wp_db.is_some() as u64;
        self.zoneless += !r.zone_named as u64;
        if r.is_fatal()
            && let Some((_, slug)) = r.culprit
        {
            match self.fatal_by_culprit.get_mut(slug) {
                Some(n) => *n += 1,
                None => {
                    self.fatal_by_culprit.insert(slug.to_vec(), 1);
                }
            }
        }
        self.range.add(r.time);
    }

    fn append(&mut self, later: PhpErrorSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

#[cfg(test)]
mod tests;
