//! The MySQL / MariaDB slow query log: the `mysql-slow` format.
//!
//! # Format accepted
//!
//! MariaDB 10.x/11.x (`log_slow_verbosity` adds the lines after
//! `Rows_examined`):
//!
//! ```text
//! /usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:
//! Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
//! Time                Id Command    Argument
//! # Time: 261205 20:03:54
//! # User@Host: wp[wp] @ localhost []
//! # Thread_id: 31  Schema: wp  QC_hit: No
//! # Query_time: 2.000333  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0
//! # Rows_affected: 0  Bytes_sent: 65
//! # Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No
//! use `wp`;
//! SET timestamp=1796501034;
//! SELECT SLEEP(2);
//! ```
//!
//! MySQL 5.7/8.x:
//!
//! ```text
//! # Time: 2026-11-24T11:17:02.123456Z
//! # User@Host: wp[wp] @ localhost []  Id:    12
//! # Query_time: 42.000123  Lock_time: 0.000010 Rows_sent: 512  Rows_examined: 180000
//! SET timestamp=1795519022;
//! SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes';
//! ```
//!
//! - A query's record starts at its `# User@Host:` line and runs over the
//!   other `# ` header lines, `use DB;`, `SET timestamp=N;` and the
//!   statement (any number of lines) up to the next record.
//! - `# Time:` (ISO 8601 with an offset, or MariaDB's `YYMMDD HH:MM:SS` in
//!   the [`Zone`] given to [`MysqlSlowParser::new`]) is a record of its own
//!   ([`SlowEntry::Time`]): MariaDB writes it only when the second changed.
//! - `SET timestamp=N;` (unix seconds, when the query started) is the
//!   authoritative time; without it the last `# Time:` is used.
//! - Header fields are read as `Key: value` pairs wherever they sit
//!   (`Query_time`, `Lock_time`, `Rows_sent`, `Rows_examined`,
//!   `Rows_affected`, `Full_scan`, `Schema`, `Thread_id`, `Id`; others are
//!   ignored).
//! - `use DB;` names the database (MySQL writes it only when it changes);
//!   MariaDB's `Schema:` names it in every header.
//! - The `PROGRAM, Version: ... started with:` preamble written at every
//!   start, with its `Tcp port:` and `Time Id Command Argument` lines, is
//!   one record ([`SlowEntry::Preamble`]).
//!
//! # Fingerprints
//!
//! [`fingerprint`] writes the statement with string and number literals
//! replaced by `?`, lists of literals in parentheses collapsed to `(?+)`,
//! comments removed, runs of whitespace collapsed to one space, and SQL
//! keywords lower-cased (identifiers keep their case); it needs no regex
//! and allocates nothing: the parser computes its 64-bit hash
//! ([`SlowQuery::digest`]) as it goes, and only the summary's kept digests
//! write the text.

use memchr::{memchr, memmem};

use crate::error::SkipReason;
use crate::frame::{Loc, RecordParser, trim_cr};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::{LocalResolver, Timestamp, Zone, civil_to_secs, parse_iso8601};

/// The longest database name kept across records (MySQL's limit is 64).
const DB_MAX: usize = 64;

/// The last second of the year 9999: the latest `SET timestamp` read.
const MAX_UNIX: u64 = 253_402_300_799;

/// One slow query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowQuery<'a> {
    /// When it started: `SET timestamp`, else the last `# Time:`.
    pub time: Option<Timestamp>,
    /// `Query_time`, seconds.
    pub query_time: f64,
    /// `Lock_time`, seconds.
    pub lock_time: f64,
    /// `Rows_sent`.
    pub rows_sent: u64,
    /// `Rows_examined`.
    pub rows_examined: u64,
    /// MariaDB's `Rows_affected`.
    pub rows_affected: Option<u64>,
    /// MariaDB's `Full_scan: Yes/No`.
    pub full_scan: Option<bool>,
    /// The user of `User@Host` (before `[`).
    pub user: &'a [u8],
    /// The database: MariaDB's `Schema:`, else this record's `use`; `None`
    /// when neither names it (MySQL writes `use` only when it changes:
    /// [`MysqlSlowParser::carried_db`] remembers the last one).
    pub db: Option<&'a [u8]>,
    /// The statement as written (its lines, without the final `;`).
    pub statement: &'a [u8],
    /// The 64-bit hash of its [`fingerprint`].
    pub digest: u64,
}

impl<'a> SlowQuery<'a> {
    /// The first table the statement reads or writes ([`table_of`]).
    pub fn table(&self) -> Option<&'a [u8]> {
        table_of(self.statement)
    }
}

/// One record of a slow query log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlowEntry<'a> {
    /// A query.
    Query(SlowQuery<'a>),
    /// A `# Time:` line.
    Time(Timestamp),
    /// The server's start-up preamble, with the program's version.
    Preamble {
        /// The text after `Version: ` up to ` started with:`.
        version: &'a [u8],
    },
}

/// Parses slow query logs (format in the [module docs](self)).
///
/// ```
/// use baton_logparse::mysql_slow::{MysqlSlowParser, SlowEntry, fingerprint_string};
/// use baton_logparse::{RecordParser, Zone};
/// let mut p = MysqlSlowParser::new(Zone::UTC);
/// let rec = concat!(
///     "# User@Host: wp[wp] @ localhost []  Id:    12\n",
///     "# Query_time: 42.000123  Lock_time: 0.000010 Rows_sent: 512  Rows_examined: 180000\n",
///     "use wordpress;\n",
///     "SET timestamp=1795519022;\n",
///     "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes';",
/// ).as_bytes();
/// let SlowEntry::Query(q) = p.parse(rec).unwrap() else { panic!() };
/// assert_eq!(q.time.unwrap().to_rfc3339(), "2026-11-24T11:17:02+00:00");
/// assert_eq!((q.query_time, q.rows_examined, q.db), (42.000123, 180000, Some(&b"wordpress"[..])));
/// assert_eq!(q.table(), Some(&b"wp_options"[..]));
/// assert_eq!(fingerprint_string(q.statement), "select option_name, option_value from wp_options where autoload = ?");
/// ```
#[derive(Debug, Clone)]
pub struct MysqlSlowParser {
    resolver: LocalResolver,
    zone: Zone,
    last_time: Option<Timestamp>,
    db_len: usize,
    db: [u8; DB_MAX],
}

impl MysqlSlowParser {
    /// A parser resolving MariaDB's offset-less `# Time:` in `zone`.
    pub fn new(zone: Zone) -> MysqlSlowParser {
        MysqlSlowParser {
            resolver: LocalResolver::new(zone),
            zone,
            last_time: None,
            db_len: 0,
            db: [0; DB_MAX],
        }
    }

    /// Reads `# Time: ...` (after the prefix).
    fn time(&mut self, v: &[u8]) -> Option<Timestamp> {
        let v = v.trim_ascii();
        if let Some(t) = parse_iso8601(v) {
            return Some(t);
        }
        // MariaDB: YYMMDD H:MM:SS (the hour may be one digit, space-padded).
        let (date, clock) = (v.get(..6)?, v.get(6..)?.trim_ascii_start());
        if !date.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let d = |i: usize| (date[i] - b'0') as u32 * 10 + (date[i + 1] - b'0') as u32;
        let mut parts = clock.split(|c| *c == b':');
        let mut next = || parts.next().and_then(num).map(|n| n as u32);
        let (h, m, s) = (next()?, next()?, next()?);
        let local = civil_to_secs(2000 + d(0) as i64, d(2), d(4), h, m, s)?;
        Some(self.resolver.resolve(local))
    }
}

/// A decimal number of at most 19 digits.
fn num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, &c| n * 10 + (c - b'0') as u64))
}

/// A non-negative decimal with an optional fraction (`2.000333`).
fn seconds(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b.len() > 24 || !b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The first line of `b` (without `\r`) and what follows its `\n`.
#[inline]
fn split_line(b: &[u8]) -> (&[u8], &[u8]) {
    match memchr(b'\n', b) {
        Some(i) => (trim_cr(&b[..i]), &b[i + 1..]),
        None => (trim_cr(b), &[][..]),
    }
}

/// Whether `line` is the start-up preamble's first line.
fn is_preamble(line: &[u8]) -> bool {
    line.ends_with(b"started with:") && memmem::find(line, b", Version: ").is_some()
}

/// The `Key: value` pairs of a header line (after `# `).
fn pairs(line: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut words = line
        .split(|c| *c == b' ' || *c == b'\t')
        .filter(|w| !w.is_empty())
        .peekable();
    std::iter::from_fn(move || {
        loop {
            let w = words.next()?;
            if let Some(key) = w.strip_suffix(b":") {
                // A key with an empty value (`Schema:   QC_hit:`).
                let value = match words.peek() {
                    Some(v) if !v.ends_with(b":") => words.next().unwrap_or(b""),
                    _ => b"",
                };
                return Some((key, value));
            }
        }
    })
}

/// Strips one pair of backquotes.
fn unquote(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"`")
        .and_then(|x| x.strip_suffix(b"`"))
        .unwrap_or(b)
}

impl RecordParser for MysqlSlowParser {
    type Record<'a> = SlowEntry<'a>;
    const MULTILINE: bool = true;

    /// `# Time:`, `# User@Host:` and the preamble's first line.
    fn is_record_start(&self, line: &[u8]) -> bool {
        line.starts_with(b"# User@Host:") || line.starts_with(b"# Time:") || is_preamble(line)
    }

    /// Every other line continues a query or the preamble; nothing
    /// continues a `# Time:` line.
    fn continues(&self, head: &[u8], _next: &[u8]) -> bool {
        !head.starts_with(b"# Time:")
    }

    /// Parses one record. Skips: lines before any record are
    /// [`SkipReason::OrphanContinuation`]; a `# Time:` that is no date
    /// [`SkipReason::BadTimestamp`]; a query record without a `Query_time`
    /// [`SkipReason::Truncated`]; a `Query_time`, `Lock_time` or row count
    /// that is not a number [`SkipReason::BadField`].
    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<SlowEntry<'a>, SkipReason> {
        let (head, body) = split_line(rec);
        if let Some(v) = head.strip_prefix(b"# Time:") {
            let t = self.time(v).ok_or(SkipReason::BadTimestamp)?;
            self.last_time = Some(t);
            return Ok(SlowEntry::Time(t));
        }
        if is_preamble(head) {
            let v = memmem::find(head, b", Version: ").map_or(&b""[..], |i| &head[i + 11..]);
            let v = v.strip_suffix(b"started with:").unwrap_or(v).trim_ascii();
            let v = v.strip_suffix(b".").unwrap_or(v);
            return Ok(SlowEntry::Preamble { version: v });
        }
        let Some(who) = head.strip_prefix(b"# User@Host:") else {
            return Err(SkipReason::OrphanContinuation);
        };
        let who = who.trim_ascii_start();
        let user = &who[..memchr(b'[', who).unwrap_or(who.len()).min(who.len())];
        let mut q = SlowQuery {
            time: self.last_time,
            query_time: f64::NAN,
            lock_time: 0.0,
            rows_sent: 0,
            rows_examined: 0,
            rows_affected: None,
            full_scan: None,
            user: user.trim_ascii(),
            db: None,
            statement: b"",
            digest: 0,
        };
        let mut schema = None;
        let mut rest = body;
        // Header lines.
        while rest.starts_with(b"#") {
            let (line, r) = split_line(rest);
            rest = r;
            // MariaDB's `# explain:` rows and bare `#` lines carry no field
            // read here: skip them without splitting them into words.
            if line.len() < 3 || line.starts_with(b"# explain:") {
                continue;
            }
            for (k, v) in pairs(&line[1..]) {
                let bad = SkipReason::BadField;
                match k {
                    b"Query_time" => q.query_time = seconds(v).ok_or(bad)?,
                    b"Lock_time" => q.lock_time = seconds(v).ok_or(bad)?,
                    b"Rows_sent" => q.rows_sent = num(v).ok_or(bad)?,
                    b"Rows_examined" => q.rows_examined = num(v).ok_or(bad)?,
                    b"Rows_affected" => q.rows_affected = num(v),
                    b"Full_scan" => q.full_scan = Some(v == b"Yes"),
                    b"Schema" if !v.is_empty() => schema = Some(v),
                    _ => {}
                }
            }
        }
        if q.query_time.is_nan() {
            return Err(SkipReason::Truncated);
        }
        // `use db;` and `SET timestamp=N;` (and MariaDB's other `SET`s).
        let mut used = None;
        loop {
            let (line, r) = split_line(rest);
            if let Some(db) = line
                .strip_prefix(b"use ")
                .and_then(|d| d.strip_suffix(b";"))
            {
                used = Some(unquote(db.trim_ascii()));
            } else if let Some(ts) = line
                .strip_prefix(b"SET timestamp=")
                .and_then(|t| t.strip_suffix(b";"))
            {
                // Up to the year 9999: more overflows microseconds.
                let secs = num(ts)
                    .filter(|s| *s <= MAX_UNIX)
                    .ok_or(SkipReason::BadTimestamp)? as i64;
                q.time = Some(Timestamp::from_unix(secs, self.zone.offset_at(secs)));
            } else if !(line.starts_with(b"SET ")
                && line.ends_with(b";")
                && memchr(b'=', line).is_some()
                && line.len() < 80
                && !r.is_empty())
            {
                break;
            }
            rest = r;
        }
        if let Some(u) = used.filter(|u| u.len() <= DB_MAX) {
            self.db[..u.len()].copy_from_slice(u);
            self.db_len = u.len();
        }
        q.db = schema.or(used);
        let stmt = trim_cr(rest).trim_ascii_end();
        q.statement = stmt.strip_suffix(b";").unwrap_or(stmt);
        q.digest = digest(q.statement);
        if let Some(t) = q.time {
            self.last_time = Some(t);
        }
        Ok(SlowEntry::Query(q))
    }
}

impl MysqlSlowParser {
    /// The database of the last `use` seen (what
    /// a query without a `use` of its own ran in).
    pub fn carried_db(&self) -> Option<&[u8]> {
        (self.db_len > 0).then(|| &self.db[..self.db_len])
    }
}

/// SQL keywords [`fingerprint`] lower-cases (upper case here; matched
/// ASCII case-insensitively).
const KEYWORDS: &[&[u8]] = &[
    b"ADD",
    b"ALL",
    b"AVG",
    b"COALESCE",
    b"CONCAT",
    b"IF",
    b"IFNULL",
    b"LOWER",
    b"MD5",
    b"NOW",
    b"RAND",
    b"SHA1",
    b"SHA2",
    b"UPPER",
    b"ALTER",
    b"AND",
    b"AS",
    b"ASC",
    b"BETWEEN",
    b"BY",
    b"CALL",
    b"CASE",
    b"COMMIT",
    b"COUNT",
    b"CREATE",
    b"CROSS",
    b"DELETE",
    b"DESC",
    b"DISTINCT",
    b"DROP",
    b"DUPLICATE",
    b"ELSE",
    b"END",
    b"EXISTS",
    b"FOR",
    b"FORCE",
    b"FROM",
    b"GROUP",
    b"HAVING",
    b"IGNORE",
    b"IN",
    b"INDEX",
    b"INNER",
    b"INSERT",
    b"INTO",
    b"IS",
    b"JOIN",
    b"KEY",
    b"LEFT",
    b"LIKE",
    b"LIMIT",
    b"LOCK",
    b"MAX",
    b"MIN",
    b"NOT",
    b"NULL",
    b"OFFSET",
    b"ON",
    b"OR",
    b"ORDER",
    b"OUTER",
    b"REPLACE",
    b"RIGHT",
    b"ROLLBACK",
    b"SELECT",
    b"SET",
    b"SHARE",
    b"SHOW",
    b"SLEEP",
    b"SQL_CALC_FOUND_ROWS",
    b"START",
    b"SUM",
    b"TABLE",
    b"TABLES",
    b"THEN",
    b"TRANSACTION",
    b"UNION",
    b"UNLOCK",
    b"UPDATE",
    b"USE",
    b"USING",
    b"VALUES",
    b"WHEN",
    b"WHERE",
    b"WITH",
    b"WRITE",
];

fn is_keyword(w: &[u8]) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The end of a quoted literal starting at `i` (the quote), past its
/// closing quote (`\` escapes and doubled quotes inside).
fn skip_quoted(s: &[u8], i: usize) -> usize {
    let q = s[i];
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            c if c == q => {
                if s.get(j + 1) == Some(&q) {
                    j += 2;
                } else {
                    return j + 1;
                }
            }
            _ => j += 1,
        }
    }
    s.len()
}

/// Writes the fingerprint of `sql` byte by byte into `out` (see the
/// [module docs](self#fingerprints)).
pub fn fingerprint(sql: &[u8], out: &mut impl FnMut(u8)) {
    let mut i = 0;
    // What was last written: nothing, a space pending, or `?` (for lists).
    let mut pending_space = false;
    let mut wrote_any = false;
    let mut last: u8 = 0;
    // A `(` followed only by literals and commas collapses to `(?+)`.
    let mut emit = |b: u8, pending_space: &mut bool, last: &mut u8| {
        if *pending_space && wrote_any && !(b == b')' || b == b',' || *last == b'(') {
            out(b' ');
        }
        *pending_space = false;
        wrote_any = true;
        out(b);
        *last = b;
    };
    while i < sql.len() {
        let c = sql[i];
        match c {
            c if c.is_ascii_whitespace() => {
                pending_space = true;
                i += 1;
            }
            b'/' if sql.get(i + 1) == Some(&b'*') => {
                i = memmem::find(&sql[i + 2..], b"*/").map_or(sql.len(), |e| i + 2 + e + 2);
                pending_space = true;
            }
            b'-' if sql.get(i + 1) == Some(&b'-')
                && sql.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                i = memchr(b'\n', &sql[i..]).map_or(sql.len(), |e| i + e);
                pending_space = true;
            }
            b'(' if list_of_literals(sql, i).is_some() => {
                let end = list_of_literals(sql, i).unwrap_or(sql.len());
                for b in *b"(?+)" {
                    emit(b, &mut pending_space, &mut last);
                }
                i = end;
            }
            b'\'' | b'"' => {
                i = skip_quoted(sql, i);
                emit(b'?', &mut pending_space, &mut last);
            }
            b'`' => {
                let end = memchr(b'`', &sql[i + 1..]).map_or(sql.len(), |e| i + 1 + e + 1);
                for &b in &sql[i..end] {
                    emit(b, &mut pending_space, &mut last);
                }
                i = end;
            }
            c if c.is_ascii_digit()
                || (matches!(c, b'-' | b'+' | b'.')
                    && sql.get(i + 1).is_some_and(u8::is_ascii_digit)
                    && !is_word_byte(last)
                    && last != b')'
                    && last != b'?') =>
            {
                i = number_end(sql, i);
                emit(b'?', &mut pending_space, &mut last);
            }
            c if is_word_byte(c) => {
                let start = i;
                while i < sql.len() && (is_word_byte(sql[i]) || sql[i] == b'.') {
                    i += 1;
                }
                let w = &sql[start..i];
                let kw = is_keyword(w);
                for &b in w {
                    emit(
                        if kw { b.to_ascii_lowercase() } else { b },
                        &mut pending_space,
                        &mut last,
                    );
                }
            }
            _ => {
                emit(c, &mut pending_space, &mut last);
                i += 1;
            }
        }
    }
}

/// The end of a number literal at `i`: sign, digits, fraction, exponent,
/// or `0x` hex.
fn number_end(s: &[u8], mut i: usize) -> usize {
    if matches!(s[i], b'-' | b'+') {
        i += 1;
    }
    if s[i..].starts_with(b"0x") || s[i..].starts_with(b"0X") {
        i += 2;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'.') {
        i += 1;
    }
    if i < s.len() && matches!(s[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < s.len() && matches!(s[j], b'-' | b'+') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            i = j;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// When `s[i]` is `(` opening a list of two or more literals (strings,
/// numbers, `NULL`) separated by commas, the index after its `)`.
fn list_of_literals(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut items = 0;
    loop {
        while j < s.len() && s[j].is_ascii_whitespace() {
            j += 1;
        }
        let c = *s.get(j)?;
        if c == b'\'' || c == b'"' {
            j = skip_quoted(s, j);
        } else if c.is_ascii_digit() || (c == b'-' && s.get(j + 1).is_some_and(u8::is_ascii_digit))
        {
            j = number_end(s, j);
        } else if s.len() >= j + 4 && s[j..j + 4].eq_ignore_ascii_case(b"NULL") {
            j += 4;
        } else {
            return None;
        }
        items += 1;
        while j < s.len() && s[j].is_ascii_whitespace() {
            j += 1;
        }
        match s.get(j)? {
            b',' => j += 1,
            b')' if items >= 2 => return Some(j + 1),
            _ => return None,
        }
    }
}

/// The fingerprint as a string (what the summary keeps per digest).
pub fn fingerprint_string(sql: &[u8]) -> String {
    let mut v = Vec::with_capacity(sql.len().min(256));
    fingerprint(sql, &mut |b| v.push(b));
    String::from_utf8_lossy(&v).into_owned()
}

/// The 64-bit FNV-1a hash of the fingerprint of `sql`, computed without
/// writing it.
pub fn digest(sql: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    fingerprint(sql, &mut |b| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    });
    h
}

/// The first table after `FROM`, `UPDATE`, `INTO` or `JOIN` (outside
/// literals), without backquotes; `db.table` gives `table`.
pub fn table_of(sql: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    let mut want = false;
    while i < sql.len() {
        let c = sql[i];
        if c == b'\'' || c == b'"' {
            i = skip_quoted(sql, i);
            want = false;
            continue;
        }
        if is_word_byte(c) || c == b'`' {
            let start = i;
            if c == b'`' {
                i = memchr(b'`', &sql[i + 1..]).map_or(sql.len(), |e| i + 1 + e + 1);
                while i < sql.len() && sql[i] == b'.' {
                    i += 1;
                    if sql.get(i) == Some(&b'`') {
                        i = memchr(b'`', &sql[i + 1..]).map_or(sql.len(), |e| i + 1 + e + 1);
                    } else {
                        while i < sql.len() && is_word_byte(sql[i]) {
                            i += 1;
                        }
                    }
                }
            } else {
                while i < sql.len() && (is_word_byte(sql[i]) || sql[i] == b'.' || sql[i] == b'`') {
                    i += 1;
                }
            }
            let w = &sql[start..i];
            if want {
                let name = match memchr::memrchr(b'.', w) {
                    Some(d) => &w[d + 1..],
                    None => w,
                };
                let name = unquote(name);
                if !name.is_empty() && !name.eq_ignore_ascii_case(b"SELECT") {
                    return Some(name);
                }
                want = false;
                continue;
            }
            want = [&b"FROM"[..], b"UPDATE", b"INTO", b"JOIN"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(w));
            continue;
        }
        if c == b'(' {
            want = false;
        }
        i += 1;
    }
    None
}

/// One fingerprint's totals in [`MysqlSlowSummary`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DigestTotals {
    /// The fingerprint.
    pub fingerprint: String,
    /// Queries.
    pub count: u64,
    /// Sum of `Query_time`.
    pub total_seconds: f64,
    /// Largest `Query_time`.
    pub max_seconds: f64,
    /// Sum of `Lock_time`.
    pub lock_seconds: f64,
    /// Sum of `Rows_examined`.
    pub rows_examined: u64,
    /// The first table it names.
    pub table: Option<String>,
}

impl DigestTotals {
    fn merge(&mut self, o: &DigestTotals) {
        self.count += o.count;
        self.total_seconds += o.total_seconds;
        self.max_seconds = self.max_seconds.max(o.max_seconds);
        self.lock_seconds += o.lock_seconds;
        self.rows_examined += o.rows_examined;
    }
}

/// Counts of a slow query log: the `mysql_slow` section of
/// `baton.stats.v1`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MysqlSlowSummary {
    /// Queries parsed.
    pub queries: u64,
    /// Server starts (preambles).
    pub starts: u64,
    /// Totals by fingerprint digest.
    pub by_digest: std::collections::HashMap<u64, DigestTotals>,
    /// Times seen.
    pub range: TimeRange,
}

impl MysqlSlowSummary {
    /// Adds another summary's counts.
    pub fn merge(&mut self, other: &MysqlSlowSummary) {
        self.queries += other.queries;
        self.starts += other.starts;
        for (k, v) in &other.by_digest {
            match self.by_digest.get_mut(k) {
                Some(t) => t.merge(v),
                None => {
                    self.by_digest.insert(*k, v.clone());
                }
            }
        }
        self.range.merge(other.range);
    }

    /// The `n` fingerprints with the most total time, most first (ties by
    /// fingerprint).
    pub fn top(&self, n: usize) -> Vec<&DigestTotals> {
        let mut v: Vec<&DigestTotals> = self.by_digest.values().collect();
        v.sort_by(|a, b| {
            b.total_seconds
                .total_cmp(&a.total_seconds)
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        v.truncate(n);
        v
    }
}

impl Sink<MysqlSlowParser> for MysqlSlowSummary {
    fn record(&mut self, r: SlowEntry<'_>, _loc: Loc) {
        match r {
            SlowEntry::Query(q) => {
                self.queries += 1;
                if let Some(t) = q.time {
                    self.range.add(t);
                }
                let t = self
                    .by_digest
                    .entry(q.digest)
                    .or_insert_with(|| DigestTotals {
                        fingerprint: fingerprint_string(q.statement),
                        table: q.table().map(|t| String::from_utf8_lossy(t).into_owned()),
                        ..DigestTotals::default()
                    });
                t.merge(&DigestTotals {
                    count: 1,
                    total_seconds: q.query_time,
                    max_seconds: q.query_time,
                    lock_seconds: q.lock_time,
                    rows_examined: q.rows_examined,
                    ..DigestTotals::default()
                });
            }
            SlowEntry::Time(t) => self.range.add(t),
            SlowEntry::Preamble { .. } => self.starts += 1,
        }
    }

    fn append(&mut self, later: MysqlSlowSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

#[cfg(test)]
mod tests;
