//! Timestamps: fast paths for every log format, and the zone policy.
//!
//! Logs disagree on zones: the nginx access log carries an offset
//! (`[24/Nov/2026:11:16:54 +0000]`), the nginx error log and the php-fpm log
//! carry local time without one (`2026/11/24 11:16:52`). Offset-less times
//! are resolved with a [`Zone`] that the caller passes in; this module never
//! looks at the machine's zone or clock.
//!
//! Formats, each parsed by hand without allocation:
//!
//! | function | format | example |
//! | --- | --- | --- |
//! | [`parse_time_local`] | nginx `$time_local`: `%d/%b/%Y:%H:%M:%S %z` | `24/Nov/2026:11:16:54 +0000` |
//! | [`parse_iso8601`] | nginx `$time_iso8601` and RFC 3339, optional fraction, `Z` or `±hh:mm` | `2026-11-24T11:16:54+00:00` |
//! | [`parse_msec`] | nginx `$msec`: seconds since the epoch with milliseconds | `1795519014.002` |
//! | [`parse_naive_slash`] | nginx error log: `%Y/%m/%d %H:%M:%S`, no zone | `2026/11/24 11:16:52` |

use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};

use crate::error::Error;

/// A UTC offset as RFC 3339 writes it: `+01:00`, `-05:30`.
pub fn fmt_offset(o: i32) -> String {
    let sign = if o < 0 { '-' } else { '+' };
    let a = o.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// An instant with the UTC offset that was in effect where it was logged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch (UTC).
    pub unix_us: i64,
    /// Seconds east of UTC of the local time the log showed (or the zone
    /// used to resolve it).
    pub offset_s: i32,
}

impl Timestamp {
    /// Builds a timestamp from whole seconds since the epoch.
    pub fn from_unix(secs: i64, offset_s: i32) -> Timestamp {
        Timestamp {
            unix_us: secs * 1_000_000,
            offset_s,
        }
    }

    /// Whole seconds since the Unix epoch (floored).
    pub fn unix_secs(self) -> i64 {
        self.unix_us.div_euclid(1_000_000)
    }

    /// RFC 3339 in the timestamp's own offset, with a fraction only when
    /// the instant has one (`2026-11-24T11:16:54+00:00`).
    pub fn to_rfc3339(self) -> String {
        self.to_rfc3339_at(self.offset_s)
    }

    /// RFC 3339 of this instant shown at another offset.
    pub fn to_rfc3339_at(self, offset_s: i32) -> String {
        let off = FixedOffset::east_opt(offset_s).unwrap_or(FixedOffset::east_opt(0).unwrap());
        let secs = self.unix_us.div_euclid(1_000_000);
        let us = self.unix_us.rem_euclid(1_000_000) as u32;
        match chrono::DateTime::from_timestamp(secs, us * 1000) {
            Some(dt) => {
                let local = dt.with_timezone(&off);
                if us == 0 {
                    local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
                } else if us.is_multiple_of(1000) {
                    local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
                } else {
                    local.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
                }
            }
            None => format!("@{secs}"),
        }
    }
}

/// RFC 3339 at its own offset, as [`Timestamp::to_rfc3339`].
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Written as RFC 3339 at its own offset ([`Timestamp::to_rfc3339`]): the
/// form every baton document uses for an instant.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// Read from RFC 3339, keeping the offset it was written at.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_iso8601(s.as_bytes())
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

/// Civil date of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (any year).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The number of days in a month, or 0 for a month outside 1..=12.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// The month number (1..=12) of an English three-letter abbreviation
/// (`Jan`..`Dec`, as nginx, syslog and php-fpm write them).
pub fn month_from_abbrev(b: &[u8]) -> Option<u32> {
    if b.len() != 3 {
        return None;
    }
    let m = match [b[0], b[1], b[2]] {
        [b'J', b'a', b'n'] => 1,
        [b'F', b'e', b'b'] => 2,
        [b'M', b'a', b'r'] => 3,
        [b'A', b'p', b'r'] => 4,
        [b'M', b'a', b'y'] => 5,
        [b'J', b'u', b'n'] => 6,
        [b'J', b'u', b'l'] => 7,
        [b'A', b'u', b'g'] => 8,
        [b'S', b'e', b'p'] => 9,
        [b'O', b'c', b't'] => 10,
        [b'N', b'o', b'v'] => 11,
        [b'D', b'e', b'c'] => 12,
        _ => return None,
    };
    Some(m)
}

#[inline]
fn d2(b: &[u8], i: usize) -> Option<u32> {
    let (a, c) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    if a < 10 && c < 10 {
        Some(a as u32 * 10 + c as u32)
    } else {
        None
    }
}

#[inline]
fn d4(b: &[u8], i: usize) -> Option<u32> {
    Some(d2(b, i)? * 100 + d2(b, i + 2)?)
}

/// Seconds since the epoch of a date and time read as if it were UTC,
/// validating every field (years 0 to 9999; leap seconds `:60` are folded
/// into `:59`).
pub fn civil_to_secs(year: i64, month: u32, day: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(0..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
    {
        return None;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let s = s.min(59);
    Some(days_from_civil(year, month, day) * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

#[inline]
fn hms(b: &[u8], i: usize) -> Option<(u32, u32, u32)> {
    if b[i + 2] != b':' || b[i + 5] != b':' {
        return None;
    }
    Some((d2(b, i)?, d2(b, i + 3)?, d2(b, i + 6)?))
}

/// Parses a `±hhmm` or `±hh:mm` offset into seconds east of UTC.
pub fn parse_offset(b: &[u8]) -> Option<i32> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match b.len() {
        5 => (d2(b, 1)?, d2(b, 3)?),
        6 if b[3] == b':' => (d2(b, 1)?, d2(b, 4)?),
        3 => (d2(b, 1)?, 0),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60) as i32)
}

/// Parses nginx `$time_local`, `24/Nov/2026:11:16:54 +0000` (exactly 26 bytes).
///
/// ```
/// use baton_logparse::time::parse_time_local;
/// let t = parse_time_local(b"24/Nov/2026:11:16:54 +0100").unwrap();
/// assert_eq!(t.unix_secs(), 1_795_515_414);
/// assert_eq!(t.offset_s, 3600);
/// ```
pub fn parse_time_local(b: &[u8]) -> Option<Timestamp> {
    TimeLocalCache::default().parse(b)
}

/// A one-entry cache for [`parse_time_local`]: logs are near-monotonic, so
/// the date and offset of the previous line are usually those of this one
/// and only the clock digits need decoding; and busy logs write many lines
/// in the same second, whose whole timestamp is the previous one.
#[derive(Debug, Clone, Default)]
pub struct TimeLocalCache {
    key: [u8; 11],
    off_key: [u8; 5],
    day_secs: i64,
    offset: i32,
    valid: bool,
    /// The last timestamp decoded, and its 26 bytes.
    last: Option<([u8; 26], Timestamp)>,
}

impl TimeLocalCache {
    /// Parses `24/Nov/2026:11:16:54 +0000`, reusing the cached date when it
    /// matches.
    #[inline]
    pub fn parse(&mut self, b: &[u8]) -> Option<Timestamp> {
        let raw: &[u8; 26] = b.try_into().ok()?;
        if let Some((k, t)) = &self.last
            && k == raw
        {
            return Some(*t);
        }
        if b[11] != b':' || b[20] != b' ' {
            return None;
        }
        if !(self.valid && b[..11] == self.key && b[21..26] == self.off_key) {
            if b[2] != b'/' || b[6] != b'/' {
                return None;
            }
            let day = d2(b, 0)?;
            let month = month_from_abbrev(&b[3..6])?;
            let year = d4(b, 7)? as i64;
            if day == 0 || day > days_in_month(year, month) {
                return None;
            }
            let offset = parse_offset(&b[21..26])?;
            self.key.copy_from_slice(&b[..11]);
            self.off_key.copy_from_slice(&b[21..26]);
            self.day_secs = days_from_civil(year, month, day) * 86_400;
            self.offset = offset;
            self.valid = true;
        }
        let (h, m, s) = hms(b, 12)?;
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        let local = self.day_secs + (h * 3600 + m * 60 + s.min(59)) as i64;
        let t = Timestamp::from_unix(local - self.offset as i64, self.offset);
        self.last = Some((*raw, t));
        Some(t)
    }
}

/// Parses an ISO 8601 / RFC 3339 date-time with an offset:
/// `2026-11-24T11:16:54+00:00`, `2026-11-24T11:16:54.123Z`,
/// `2026-11-24 11:16:54+0100`.
pub fn parse_iso8601(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let year = d4(b, 0)? as i64;
    let (month, day) = (d2(b, 5)?, d2(b, 8)?);
    let (h, mi, s) = hms(b, 11)?;
    let secs = civil_to_secs(year, month, day, h, mi, s)?;
    let mut i = 19;
    let mut us = 0i64;
    if b[i] == b'.' || b[i] == b',' {
        i += 1;
        let mut scale = 100_000i64;
        while i < b.len() && b[i].is_ascii_digit() {
            us += (b[i] - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
    }
    let rest = &b[i..];
    let offset = if rest == b"Z" || rest == b"z" {
        0
    } else {
        parse_offset(rest)?
    };
    Some(Timestamp {
        unix_us: (secs - offset as i64) * 1_000_000 + us,
        offset_s: offset,
    })
}

/// Parses nginx `$msec` (`1795519014.002`: seconds with milliseconds) as a
/// UTC instant.
pub fn parse_msec(b: &[u8]) -> Option<Timestamp> {
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || int.len() > 12 || frac.len() > 6 {
        return None;
    }
    let mut secs = 0i64;
    for &c in int {
        if !c.is_ascii_digit() {
            return None;
        }
        secs = secs * 10 + (c - b'0') as i64;
    }
    let mut us = 0i64;
    let mut scale = 100_000i64;
    for &c in frac {
        if !c.is_ascii_digit() {
            return None;
        }
        us += (c - b'0') as i64 * scale;
        scale /= 10;
    }
    Some(Timestamp {
        unix_us: secs * 1_000_000 + us,
        offset_s: 0,
    })
}

/// Parses the nginx error log's `2026/11/24 11:16:52` (19 bytes) into
/// seconds since the epoch *as if the local time were UTC*; resolve it with
/// a [`LocalResolver`].
pub fn parse_naive_slash(b: &[u8]) -> Option<i64> {
    if b.len() != 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    civil_to_secs(d4(b, 0)? as i64, d2(b, 5)?, d2(b, 8)?, h, mi, s)
}

fn naive_of(local: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(local, 0).map(|d| d.naive_utc())
}

/// The zone of timestamps that carry none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset, in seconds east of UTC (`UTC` is `Fixed(0)`).
    Fixed(i32),
    /// An IANA zone: the offset (with DST) is looked up at each instant.
    Tz(chrono_tz::Tz),
}

impl Zone {
    /// The offset (seconds east of UTC) in effect at an instant.
    pub fn offset_at(&self, unix_secs: i64) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Tz(tz) => {
                use chrono::{Offset, TimeZone};
                chrono::DateTime::from_timestamp(unix_secs, 0)
                    .map(|dt| {
                        tz.offset_from_utc_datetime(&dt.naive_utc())
                            .fix()
                            .local_minus_utc()
                    })
                    .unwrap_or(0)
            }
        }
    }

    /// The same instant at this zone's offset in effect then (how a
    /// report shows it).
    pub fn local(&self, t: Timestamp) -> Timestamp {
        Timestamp {
            unix_us: t.unix_us,
            offset_s: self.offset_at(t.unix_secs()),
        }
    }

    /// RFC 3339 of an instant at the offset in effect then.
    pub fn rfc3339(&self, t: Timestamp) -> String {
        t.to_rfc3339_at(self.offset_at(t.unix_secs()))
    }

    /// UTC.
    pub const UTC: Zone = Zone::Fixed(0);
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::UTC
    }
}

impl FromStr for Zone {
    type Err = Error;

    /// Accepts `UTC`, `Z`, `+01:00`, `-0500`, `+05` and IANA names such as
    /// `Europe/Berlin`.
    fn from_str(s: &str) -> Result<Zone, Error> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::UTC);
        }
        if t.starts_with('+') || t.starts_with('-') {
            return parse_offset(t.as_bytes()).map(Zone::Fixed).ok_or_else(|| {
                Error::config(format!(
                    "malformed zone offset {s:?}: expected +HH:MM, -HHMM or +HH"
                ))
            });
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Tz).map_err(|_| {
            Error::config(format!(
                "unknown zone {s:?}: expected UTC, an offset such as +01:00, or an IANA name such as Europe/Berlin"
            ))
        })
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(o) => {
                let sign = if *o < 0 { '-' } else { '+' };
                let a = o.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
            }
            Zone::Tz(tz) => f.write_str(tz.name()),
        }
    }
}

/// Resolves offset-less local times to instants in a [`Zone`], in file
/// order.
///
/// DST is applied at each instant. A local time that does not exist (the
/// skipped hour of a spring-forward) is read with the offset before the
/// gap. In the repeated hour of a fall-back, file order decides: the first
/// pass takes the earlier (summer) offset, and once the log's local clock
/// steps back, the later (winter) offset is taken.
///
/// The resolver caches the offset per local minute, so the zone database is
/// consulted about once a minute of log, not once a line.
#[derive(Debug, Clone)]
pub struct LocalResolver {
    zone: Zone,
    cache_minute: i64,
    cache_offset: i32,
    cache_ambiguous: bool,
    ambiguous_pair: (i32, i32),
    last_local: i64,
    last_result: Timestamp,
    in_second_pass: bool,
}

impl LocalResolver {
    /// A resolver for `zone`.
    pub fn new(zone: Zone) -> LocalResolver {
        LocalResolver {
            zone,
            cache_minute: i64::MIN,
            cache_offset: 0,
            cache_ambiguous: false,
            ambiguous_pair: (0, 0),
            last_local: i64::MIN,
            last_result: Timestamp::from_unix(0, 0),
            in_second_pass: false,
        }
    }

    /// The zone this resolver uses.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Resolves `local` (seconds since the epoch as if local time were
    /// UTC) to an instant.
    #[inline]
    pub fn resolve(&mut self, local: i64) -> Timestamp {
        // Logs repeat the same second many times: resolving it again
        // changes no state, so the last answer is the answer.
        if local == self.last_local {
            return self.last_result;
        }
        let t = self.resolve_new(local);
        self.last_local = local;
        self.last_result = t;
        t
    }

    fn resolve_new(&mut self, local: i64) -> Timestamp {
        let tz = match self.zone {
            Zone::Fixed(o) => return Timestamp::from_unix(local - o as i64, o),
            Zone::Tz(tz) => tz,
        };
        let minute = local.div_euclid(60);
        if minute != self.cache_minute {
            self.cache_minute = minute;
            self.cache_ambiguous = false;
            let naive = naive_of(local);
            match naive.map(|n| tz.offset_from_local_datetime(&n)) {
                Some(LocalResult::Single(o)) => {
                    self.cache_offset = o.fix().local_minus_utc();
                    self.in_second_pass = false;
                }
                Some(LocalResult::Ambiguous(early, late)) => {
                    self.cache_ambiguous = true;
                    // Remember both: the early (summer) offset is larger.
                    let (e, l) = (early.fix().local_minus_utc(), late.fix().local_minus_utc());
                    self.cache_offset = if self.in_second_pass { l } else { e };
                    self.ambiguous_pair = (e, l);
                }
                _ => {
                    // In a gap: use the offset in force just before it.
                    let before = naive_of(local - 3 * 3600);
                    self.cache_offset = before
                        .and_then(|n| tz.offset_from_local_datetime(&n).earliest())
                        .map(|o| o.fix().local_minus_utc())
                        .unwrap_or(0);
                }
            }
        }
        if self.cache_ambiguous && !self.in_second_pass && local + 60 < self.last_local {
            // The local clock stepped back inside the repeated hour: the
            // second pass has begun.
            self.in_second_pass = true;
            self.cache_offset = self.ambiguous_pair.1;
        }
        self.last_local = local;
        Timestamp::from_unix(local - self.cache_offset as i64, self.cache_offset)
    }
}

/// The earliest and latest instants seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Earliest instant.
    pub first: Option<Timestamp>,
    /// Latest instant.
    pub last: Option<Timestamp>,
}

impl TimeRange {
    /// Widens the range to include `t`.
    #[inline]
    pub fn add(&mut self, t: Timestamp) {
        if self.first.is_none_or(|f| t.unix_us < f.unix_us) {
            self.first = Some(t);
        }
        if self.last.is_none_or(|l| t.unix_us >= l.unix_us) {
            self.last = Some(t);
        }
    }

    /// Widens the range to include `other`.
    pub fn merge(&mut self, other: TimeRange) {
        if let Some(t) = other.first {
            self.add(t);
        }
        if let Some(t) = other.last {
            self.add(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(t: Timestamp) -> String {
        t.to_rfc3339()
    }

    #[test]
    fn offsets_and_serde_as_rfc3339() {
        assert_eq!(fmt_offset(-5 * 3600 - 1800), "-05:30");
        assert_eq!(fmt_offset(3600), "+01:00");
        let t = parse_iso8601(b"2026-03-29T03:00:00.250+02:00").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-03-29T03:00:00.250+02:00\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn time_local_basic_and_offsets() {
        let t = parse_time_local(b"24/Nov/2026:11:16:54 +0000").unwrap();
        assert_eq!(rfc(t), "2026-11-24T11:16:54+00:00");
        let t = parse_time_local(b"01/Jan/2026:00:00:00 -0500").unwrap();
        assert_eq!(t.unix_secs(), 1_767_243_600);
        assert_eq!(rfc(t), "2026-01-01T00:00:00-05:00");
        assert_eq!(parse_time_local(b"31/Feb/2026:00:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"24/Nov/2026:24:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"24/Foo/2026:11:16:54 +0000"), None);
        assert_eq!(parse_time_local(b"24/Nov/2026:11:16:54"), None);
    }

    #[test]
    fn time_local_cache_does_not_leak_between_dates() {
        let mut c = TimeLocalCache::default();
        let a = c.parse(b"31/Dec/2025:23:59:59 +0000").unwrap();
        let b = c.parse(b"01/Jan/2026:00:00:00 +0000").unwrap();
        assert_eq!(b.unix_secs() - a.unix_secs(), 1);
        let d = c.parse(b"01/Jan/2026:00:00:00 +0100").unwrap();
        assert_eq!(b.unix_secs() - d.unix_secs(), 3600);
        assert_eq!(c.parse(b"01/Jan/2026:0x:00:00 +0100"), None);
    }

    #[test]
    fn time_local_cache_agrees_with_a_fresh_parse() {
        let mut c = TimeLocalCache::default();
        for l in [
            &b"24/Nov/2026:11:16:54 +0000"[..],
            b"24/Nov/2026:11:16:54 +0000",
            b"24/Nov/2026:11:16:55 +0000",
            b"24/Nov/2026:11:16:55 +0000",
            b"24/Nov/2026:11:16:55 +0100",
            b"24/Nov/2026:11:16:5x +0100",
            b"24/Nov/2026:11:16:55 +0100",
            b"25/Nov/2026:11:16:55 +0100",
            b"25/Nov/2026:11:16:55 +0100 ",
            b"25/Nov/2026:11:16:55 +010",
            b"25/Nov/2026:11:16:55 +0100",
        ] {
            assert_eq!(c.parse(l), TimeLocalCache::default().parse(l), "{l:?}");
        }
    }

    #[test]
    fn iso_and_msec() {
        let t = parse_iso8601(b"2026-11-24T11:16:54+00:00").unwrap();
        assert_eq!(t, parse_time_local(b"24/Nov/2026:11:16:54 +0000").unwrap());
        let t = parse_iso8601(b"2026-11-24T12:16:54.250+01:00").unwrap();
        assert_eq!(t.unix_us, 1_795_519_014_250_000);
        assert_eq!(rfc(t), "2026-11-24T12:16:54.250+01:00");
        let z = parse_iso8601(b"2026-11-24T11:16:54Z").unwrap();
        assert_eq!(z.unix_secs(), 1_795_519_014);
        let m = parse_msec(b"1795519014.002").unwrap();
        assert_eq!(m.unix_us, 1_795_519_014_002_000);
        assert_eq!(parse_msec(b"17955x"), None);
    }

    #[test]
    fn naive_slash() {
        assert_eq!(
            parse_naive_slash(b"2026/11/24 11:16:52"),
            Some(1_795_519_012)
        );
        assert_eq!(parse_naive_slash(b"2026/13/24 11:16:52"), None);
        assert_eq!(parse_naive_slash(b"2026/11/24T11:16:52"), None);
    }

    #[test]
    fn zone_parsing() {
        assert_eq!("UTC".parse::<Zone>().unwrap(), Zone::UTC);
        assert_eq!("+01:00".parse::<Zone>().unwrap(), Zone::Fixed(3600));
        assert_eq!("-0500".parse::<Zone>().unwrap(), Zone::Fixed(-18000));
        assert_eq!(
            "Europe/Berlin".parse::<Zone>().unwrap().to_string(),
            "Europe/Berlin"
        );
        assert_eq!(Zone::Fixed(-16200).to_string(), "-04:30");
        assert!("+25:00".parse::<Zone>().is_err());
        assert!("Mars/Olympus".parse::<Zone>().is_err());
    }

    #[test]
    fn resolver_fixed_offset_at_new_year() {
        let mut r = LocalResolver::new(Zone::Fixed(-5 * 3600));
        let local = parse_naive_slash(b"2025/12/31 23:59:59").unwrap();
        let t = r.resolve(local);
        assert_eq!(rfc(t), "2025-12-31T23:59:59-05:00");
        assert_eq!(t.to_rfc3339_at(0), "2026-01-01T04:59:59+00:00");
    }

    #[test]
    fn resolver_dst_spring_forward_berlin() {
        // 2026-03-29 02:00 CET -> 03:00 CEST.
        let mut r = LocalResolver::new("Europe/Berlin".parse().unwrap());
        let a = r.resolve(parse_naive_slash(b"2026/03/29 01:59:59").unwrap());
        let b = r.resolve(parse_naive_slash(b"2026/03/29 03:00:00").unwrap());
        assert_eq!(rfc(a), "2026-03-29T01:59:59+01:00");
        assert_eq!(rfc(b), "2026-03-29T03:00:00+02:00");
        assert_eq!(b.unix_secs() - a.unix_secs(), 1);
        // A local time in the gap is read with the offset before it.
        let g = r.resolve(parse_naive_slash(b"2026/03/29 02:30:00").unwrap());
        assert_eq!(g.offset_s, 3600);
    }

    #[test]
    fn resolver_dst_fall_back_file_order_decides() {
        // 2026-10-25 03:00 CEST -> 02:00 CET: 02:00-02:59 happens twice.
        let mut r = LocalResolver::new("Europe/Berlin".parse().unwrap());
        let lines = [
            "2026/10/25 01:59:00",
            "2026/10/25 02:10:00",
            "2026/10/25 02:59:30",
            "2026/10/25 02:00:10",
            "2026/10/25 02:30:00",
            "2026/10/25 03:00:00",
        ];
        let t: Vec<Timestamp> = lines
            .iter()
            .map(|l| r.resolve(parse_naive_slash(l.as_bytes()).unwrap()))
            .collect();
        let offs: Vec<i32> = t.iter().map(|t| t.offset_s / 3600).collect();
        assert_eq!(offs, [2, 2, 2, 1, 1, 1]);
        for w in t.windows(2) {
            assert!(w[1].unix_us > w[0].unix_us, "{w:?}");
        }
        assert_eq!(rfc(t[3]), "2026-10-25T02:00:10+01:00");
    }

    #[test]
    fn resolver_same_second_again_gives_the_same_instant() {
        // Repeated seconds on both sides of the fall-back step back.
        let mut r = LocalResolver::new("Europe/Berlin".parse().unwrap());
        let fresh = |l: &str| {
            let mut f = LocalResolver::new("Europe/Berlin".parse().unwrap());
            f.resolve(parse_naive_slash(b"2026/10/25 02:59:30").unwrap());
            f.resolve(parse_naive_slash(l.as_bytes()).unwrap())
        };
        let seq = [
            "2026/10/25 02:59:30",
            "2026/10/25 02:59:30",
            "2026/10/25 02:00:10",
            "2026/10/25 02:00:10",
        ];
        let got: Vec<Timestamp> = seq
            .iter()
            .map(|l| r.resolve(parse_naive_slash(l.as_bytes()).unwrap()))
            .collect();
        assert_eq!(got[0], got[1]);
        assert_eq!(got[2], got[3]);
        assert_eq!(got[2].offset_s, 3600);
        assert_eq!(got[2], fresh("2026/10/25 02:00:10"));
    }

    #[test]
    fn civil_round_trip_extremes() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_to_secs(2100, 2, 29, 0, 0, 0), None);
        assert_eq!(civil_to_secs(2000, 2, 29, 0, 0, 0), Some(951_782_400));
    }
}
