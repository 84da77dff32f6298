//! Zones and cached timestamp rendering. Every event is a UTC instant (unix
//! milliseconds); each log renders it in its own form, in local time of the
//! configured zone with the offset in effect at that instant (DST applied
//! per instant). Renderings are cached per second, since lines come in time
//! order.

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike};

/// A zone: a fixed offset or an IANA zone.
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    Fixed(i32),
    Iana(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`, `Z`, `+01:00`, `-0500` or an IANA name.
    pub fn parse(s: &str) -> anyhow::Result<Zone> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Zone::Fixed(0));
        }
        if let Some(rest) = s.strip_prefix(['+', '-']) {
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                bail!("bad offset {s:?}: expected +HH:MM or +HHMM");
            }
            let h: i32 = digits[..2].parse()?;
            let m: i32 = digits[2..].parse()?;
            if h > 23 || m > 59 {
                bail!("bad offset {s:?}");
            }
            let sign = if s.starts_with('-') { -1 } else { 1 };
            return Ok(Zone::Fixed(sign * (h * 3600 + m * 60)));
        }
        let tz: chrono_tz::Tz = s
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("unknown zone {s:?}"))?;
        Ok(Zone::Iana(tz))
    }

    /// The offset (seconds east of UTC) in effect at unix second `sec`.
    pub fn offset_at(&self, sec: i64) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Iana(tz) => {
                let utc = DateTime::from_timestamp(sec, 0).expect("in range");
                tz.offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc()
            }
        }
    }
}

/// The forms the logs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// nginx `$time_local`: `24/Nov/2026:11:16:54 +0000`.
    Access,
    /// nginx `$time_iso8601`: `2026-11-24T11:16:54+00:00`.
    Iso,
    /// nginx error log: `2026/11/24 11:16:54`.
    Error,
    /// php-fpm log and slowlog: `24-Nov-2026 11:16:54`.
    Fpm,
    /// `dmesg -T`: `Tue Nov 24 11:18:02 2026`.
    Dmesg,
    /// `journalctl -o short-iso`: `2026-11-24T11:18:02+0000`.
    JournalIso,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One style's rendering of the last second asked for.
pub struct Stamp {
    zone: Zone,
    style: Style,
    sec: i64,
    buf: Vec<u8>,
}

impl Stamp {
    pub fn new(zone: Zone, style: Style) -> Stamp {
        Stamp {
            zone,
            style,
            sec: i64::MIN,
            buf: Vec::with_capacity(32),
        }
    }

    /// The rendering of unix millisecond `ms` (second resolution).
    pub fn get(&mut self, ms: i64) -> &[u8] {
        let sec = ms.div_euclid(1000);
        if sec != self.sec {
            self.sec = sec;
            self.buf.clear();
            render(&mut self.buf, self.zone, self.style, sec);
        }
        &self.buf
    }
}

/// Renders unix second `sec` in `zone` in `style`.
pub fn render(out: &mut Vec<u8>, zone: Zone, style: Style, sec: i64) {
    let off = zone.offset_at(sec);
    let t = DateTime::from_timestamp(sec + off as i64, 0)
        .expect("in range")
        .naive_utc();
    let (y, mo, d) = (t.year(), t.month0() as usize, t.day());
    let (h, mi, s) = (t.hour(), t.minute(), t.second());
    let p2 = |o: &mut Vec<u8>, v: u32| {
        o.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8])
    };
    let p4 = |o: &mut Vec<u8>, v: i32| {
        let v = v as u32;
        o.extend_from_slice(&[
            b'0' + (v / 1000 % 10) as u8,
            b'0' + (v / 100 % 10) as u8,
            b'0' + (v / 10 % 10) as u8,
            b'0' + (v % 10) as u8,
        ]);
    };
    let hms = |o: &mut Vec<u8>| {
        p2(o, h);
        o.push(b':');
        p2(o, mi);
        o.push(b':');
        p2(o, s);
    };
    let offset = |o: &mut Vec<u8>, colon: bool| {
        o.push(if off < 0 { b'-' } else { b'+' });
        let a = off.unsigned_abs();
        p2(o, a / 3600);
        if colon {
            o.push(b':');
        }
        p2(o, a % 3600 / 60);
    };
    match style {
        Style::Access => {
            p2(out, d);
            out.push(b'/');
            out.extend_from_slice(MONTHS[mo].as_bytes());
            out.push(b'/');
            p4(out, y);
            out.push(b':');
            hms(out);
            out.push(b' ');
            offset(out, false);
        }
        Style::Iso | Style::JournalIso => {
            p4(out, y);
            out.push(b'-');
            p2(out, mo as u32 + 1);
            out.push(b'-');
            p2(out, d);
            out.push(b'T');
            hms(out);
            offset(out, style == Style::Iso);
        }
        Style::Error => {
            p4(out, y);
            out.push(b'/');
            p2(out, mo as u32 + 1);
            out.push(b'/');
            p2(out, d);
            out.push(b' ');
            hms(out);
        }
        Style::Fpm => {
            p2(out, d);
            out.push(b'-');
            out.extend_from_slice(MONTHS[mo].as_bytes());
            out.push(b'-');
            p4(out, y);
            out.push(b' ');
            hms(out);
        }
        Style::Dmesg => {
            out.extend_from_slice(DAYS[t.weekday().num_days_from_monday() as usize].as_bytes());
            out.push(b' ');
            out.extend_from_slice(MONTHS[mo].as_bytes());
            out.push(b' ');
            // dmesg -T pads the day with a space.
            if d < 10 {
                out.push(b' ');
                out.push(b'0' + d as u8);
            } else {
                p2(out, d);
            }
            out.push(b' ');
            hms(out);
            out.push(b' ');
            p4(out, y);
        }
    }
}

/// RFC 3339 with the zone's offset at that instant, milliseconds dropped.
pub fn rfc3339(zone: Zone, ms: i64) -> String {
    let mut v = Vec::new();
    render(&mut v, zone, Style::Iso, ms.div_euclid(1000));
    String::from_utf8(v).expect("ascii")
}
