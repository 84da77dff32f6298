//! Yearless timestamps (syslog, `journalctl -o short`, kern.log): the
//! year a record is given, the New Year rollover inside a log, and
//! re-dating chunks read in parallel once the years before them are known.

use crate::time::{LocalResolver, TimeRange, Timestamp, Zone, civil_from_days, days_from_civil};

/// What a yearless record needs to be re-dated when the year it was given
/// turns out wrong (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yearless {
    /// The month read (1..=12).
    pub month: u8,
    /// New Years this parser had counted when it read the record.
    pub rollovers: u32,
    /// The zone the local time was resolved in.
    pub zone: Zone,
}

/// Whether a yearless line of `month` after one of `prev` starts a new
/// year: the month went back by more than six months (`Dec` → `Jan`).
#[inline]
pub fn rolls_over(prev: u8, month: u8) -> bool {
    month + 6 < prev
}

/// The same local wall-clock time `years` later, resolved again in `zone`.
pub fn shift_years(t: Timestamp, years: u32, zone: Zone) -> Timestamp {
    if years == 0 {
        return t;
    }
    let local_us = t.unix_us + t.offset_s as i64 * 1_000_000;
    let secs = local_us.div_euclid(1_000_000);
    let frac = local_us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let local = days_from_civil(y + years as i64, m, d) * 86_400 + tod;
    let mut ts = LocalResolver::new(zone).resolve(local);
    ts.unix_us += frac;
    ts
}

pub(crate) fn shift_range(r: &mut TimeRange, years: u32, zone: Zone) {
    r.first = r.first.map(|t| shift_years(t, years, zone));
    r.last = r.last.map(|t| shift_years(t, years, zone));
}

/// Where the yearless records of a summary stand: their first and last
/// months and the New Years counted up to the last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Years {
    first_month: Option<u8>,
    last_month: Option<u8>,
    rollovers: u32,
    zone: Option<Zone>,
    /// Whether records with their own year were seen (their times are not
    /// re-dated).
    absolute: bool,
}

impl Years {
    /// Notes one record of a chunk: its yearless details, or that it had
    /// a year of its own.
    pub(crate) fn note(&mut self, yearless: Option<Yearless>, timed: bool) {
        match yearless {
            Some(y) => {
                self.first_month.get_or_insert(y.month);
                self.last_month = Some(y.month);
                self.rollovers = y.rollovers;
                self.zone = Some(y.zone);
            }
            None => self.absolute |= timed,
        }
    }

    /// The years a later chunk's yearless times move by when it follows
    /// this one, with their zone; `None` when nothing moves.
    pub(crate) fn redating(&self, later: &Years) -> Option<(u32, Zone)> {
        let first = later.first_month?;
        let boundary = self.last_month.is_some_and(|p| rolls_over(p, first));
        let shift = self.rollovers + boundary as u32;
        if shift > 0 && !later.absolute {
            later.zone.map(|z| (shift, z))
        } else {
            None
        }
    }

    /// Takes in a later chunk's bookkeeping (after its times were moved).
    pub(crate) fn append(&mut self, later: &Years) {
        if let Some(first) = later.first_month {
            let boundary = self.last_month.is_some_and(|p| rolls_over(p, first));
            let shift = self.rollovers + boundary as u32;
            self.first_month.get_or_insert(first);
            self.last_month = later.last_month;
            self.rollovers = shift + later.rollovers;
            self.zone = self.zone.or(later.zone);
        }
        self.absolute |= later.absolute;
    }
}
