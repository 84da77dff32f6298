//! The events by kind and time: every stage looks things up here.

use std::collections::HashMap;

use baton_logparse::{Event, EventKind, Timestamp, Zone};

/// Microseconds in a second.
pub(crate) const S: i64 = 1_000_000;

/// An event's logged instant in microseconds (0 when it has no clock).
pub(crate) fn us(e: &Event) -> i64 {
    e.time.map_or(0, |t| t.unix_us)
}

/// The events, indexed by kind in time order.
pub(crate) struct Index<'a> {
    pub ev: &'a [Event],
    by_kind: HashMap<EventKind, Vec<usize>>,
    /// Kernel lines without a clock (raw dmesg): they join by pid only.
    pub untimed_kernel: Vec<usize>,
    pub zone: Zone,
}

impl<'a> Index<'a> {
    pub fn new(ev: &'a [Event], zone: Zone) -> Index<'a> {
        let mut by_kind: HashMap<EventKind, Vec<usize>> = HashMap::new();
        let mut untimed_kernel = Vec::new();
        for (i, e) in ev.iter().enumerate() {
            match (e.kind, e.time) {
                (Some(k), Some(_)) => by_kind.entry(k).or_default().push(i),
                (Some(EventKind::KernelOomKill | EventKind::KernelSegfault), None) => {
                    untimed_kernel.push(i)
                }
                _ => {}
            }
        }
        for v in by_kind.values_mut() {
            v.sort_by_key(|&i| (us(&ev[i]), ev[i].file, ev[i].line));
        }
        Index {
            ev,
            by_kind,
            untimed_kernel,
            zone,
        }
    }

    /// Every timed event of kind `k`, in time order.
    pub fn kind(&self, k: EventKind) -> &[usize] {
        self.by_kind.get(&k).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The events of kind `k` logged in `[from, to]` (microseconds).
    pub fn between(&self, k: EventKind, from: i64, to: i64) -> &[usize] {
        let v = self.kind(k);
        let lo = v.partition_point(|&i| us(&self.ev[i]) < from);
        let hi = v.partition_point(|&i| us(&self.ev[i]) <= to);
        &v[lo..hi.max(lo)]
    }

    /// An instant in the report's zone.
    pub fn at(&self, t: Option<Timestamp>) -> Option<Timestamp> {
        t.map(|t| self.zone.local(t))
    }

    /// A microsecond instant in the report's zone.
    pub fn at_us(&self, t: i64) -> Timestamp {
        self.zone.local(Timestamp {
            unix_us: t,
            offset_s: 0,
        })
    }

    /// A microsecond instant as RFC 3339 in the report's zone, for
    /// sentences.
    pub fn fmt_us(&self, t: i64) -> String {
        self.zone.rfc3339(Timestamp {
            unix_us: t,
            offset_s: 0,
        })
    }
}
