//! The events by kind and time: every stage looks things up here.

use std::collections::HashMap;

use baton_logparse::text::escape;
use baton_logparse::{Event, EventKind, Timestamp, Zone};

use crate::model::EvidenceRef;

/// Microseconds in a second.
pub(crate) const S: i64 = 1_000_000;

/// An event's logged instant in microseconds (0 when it has no clock).
pub(crate) fn us(e: &Event) -> i64 {
    e.time.map_or(0, |t| t.unix_us)
}

/// A hasher for event indices: one multiplication (Fibonacci hashing),
/// where the default hasher costs tens of nanoseconds for each of the
/// hundreds of thousands of events a bad day's episodes claim.
#[derive(Default, Clone, Copy)]
pub(crate) struct IndexHasher(u64);

impl std::hash::Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // One index: one multiplication; a pair of them mixes both.
        self.0 = (self.0.rotate_left(26) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by event indices (or pairs of them).
pub(crate) type IndexMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IndexHasher>>;

/// A set of event indices.
pub(crate) type IndexSet =
    std::collections::HashSet<usize, std::hash::BuildHasherDefault<IndexHasher>>;

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
        use rayon::prelude::*;
        /// Each kind's timed events (by index) and the untimed kernel lines.
        #[derive(Default)]
        struct Filed {
            by_kind: HashMap<EventKind, Vec<usize>>,
            untimed_kernel: Vec<usize>,
        }
        // Filed in parallel: a bad day holds hundreds of thousands of
        // events, and the order is settled by the sort below.
        let filed = ev
            .par_iter()
            .enumerate()
            .fold(Filed::default, |mut f, (i, e)| {
                match (e.kind, e.time) {
                    (Some(k), Some(_)) => f.by_kind.entry(k).or_default().push(i),
                    (Some(EventKind::KernelOomKill | EventKind::KernelSegfault), None) => {
                        f.untimed_kernel.push(i)
                    }
                    _ => {}
                }
                f
            })
            .reduce(Filed::default, |mut a, b| {
                for (k, v) in b.by_kind {
                    a.by_kind.entry(k).or_default().extend(v);
                }
                a.untimed_kernel.extend(b.untimed_kernel);
                a
            });
        let Filed {
            mut by_kind,
            mut untimed_kernel,
        } = filed;
        untimed_kernel.sort_unstable();
        // Sorted by keys read once each (a sort reading them from the
        // events would miss the cache at every comparison on a bad day),
        // a kind at a time (one kind's keys held at once), each sort in
        // parallel.
        by_kind.values_mut().for_each(|v| {
            let mut keyed: Vec<(i64, u32, u64, u32)> = v
                .iter()
                .map(|&i| (us(&ev[i]), ev[i].file, ev[i].line, i as u32))
                .collect();
            keyed.par_sort_unstable();
            v.clear();
            v.extend(keyed.into_iter().map(|k| k.3 as usize));
        });
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

/// An event's line as evidence: its input's path (`files` by the event's
/// file index), line number, time in the report's zone and text.
pub(crate) fn evidence_ref(idx: &Index, files: &[String], e: &Event) -> EvidenceRef {
    EvidenceRef {
        file: files.get(e.file as usize).cloned().unwrap_or_default(),
        line: e.line,
        time: idx.at(e.time),
        text: escape(&e.text),
    }
}
