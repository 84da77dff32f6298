//! # Overview
//!
//! `baton-correlate` lines up the events `baton-logparse` reads and turns
//! gateway errors into incidents with verdicts, evidence and next steps.

#![deny(missing_docs)]

mod advice;
pub mod clocks;
pub mod engine;
pub mod model;

pub use crate::engine::{Coverage, Input, Options, analyze};
pub use crate::model::{Analysis, Cause, Incident, Verdict};

use baton_logparse::summary::TimeRange;

/// The window covered by a set of inputs: from the earliest to the latest
/// instant of any of them.
pub fn window<'a>(ranges: impl IntoIterator<Item = &'a TimeRange>) -> TimeRange {
    let mut w = TimeRange::default();
    for r in ranges {
        w.merge(*r);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_logparse::Timestamp;

    #[test]
    fn window_spans_all_inputs() {
        let mut a = TimeRange::default();
        a.add(Timestamp::from_unix(100, 0));
        a.add(Timestamp::from_unix(50, 0));
        let mut b = TimeRange::default();
        b.add(Timestamp::from_unix(200, 3600));
        let w = window([&a, &b]);
        assert_eq!(w.first.unwrap().unix_secs(), 50);
        assert_eq!(w.last.unwrap().unix_secs(), 200);
        assert_eq!(w.last.unwrap().offset_s, 3600);
    }
}
