//! What changed before an incident: rare events in the minutes before its
//! first gateway error (a reload, a master restart, a kernel message, a
//! startup failure), nearest first. Routine lines (a child recycled every
//! few minutes) are not changes: a kind of line counts only when it was
//! seen at most twice in the hour before. nginx's own upstream warnings
//! (`upstream server temporarily disabled`) are not changes either: they
//! follow from the failures they count, they do not cause them.

use baton_logparse::EventKind;
use baton_logparse::event::MasterStep;

use crate::index::{Index, S, us};
use crate::model::Change;
use baton_logparse::text::escape;

/// How far before the first gateway error changes are looked for.
const LOOKBACK_S: i64 = 600;
/// Changes listed per incident.
const MAX_CHANGES: usize = 5;

/// The candidates for what changed before `first` (microseconds).
pub(crate) fn changes(idx: &Index, files: &[String], first: i64, floor: i64) -> Vec<Change> {
    let ev = idx.ev;
    let from = (first - LOOKBACK_S * S).max(floor);
    let mut found: Vec<usize> = Vec::new();
    let kinds = [
        EventKind::FpmRestart,
        EventKind::FpmReload,
        EventKind::FpmOther,
        EventKind::KernelOomKill,
        EventKind::KernelSegfault,
    ];
    for k in kinds {
        let before = idx.between(k, first - 3600 * S, first);
        for &i in idx.between(k, from, first) {
            let e = &ev[i];
            if k == EventKind::FpmRestart && e.step == Some(MasterStep::Ready) {
                continue;
            }
            // Rare: its kind (and for php-fpm's other lines, its text) seen
            // at most twice in the hour before.
            let alike = before
                .iter()
                .filter(|&&j| k != EventKind::FpmOther || ev[j].text == e.text)
                .count();
            if k == EventKind::FpmRestart || k == EventKind::FpmReload || alike <= 2 {
                found.push(i);
            }
        }
    }
    found.sort_by_key(|&i| std::cmp::Reverse(us(&ev[i])));
    found.dedup();
    found
        .into_iter()
        .take(MAX_CHANGES)
        .map(|i| Change {
            time: idx.at_us(us(&ev[i])),
            file: files.get(ev[i].file as usize).cloned().unwrap_or_default(),
            line: ev[i].line,
            text: escape(&ev[i].text),
            seconds_before_first_error: (first - us(&ev[i])) / S,
        })
        .collect()
}
