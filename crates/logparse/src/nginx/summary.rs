//! What the nginx access and error logs add up to: requests by status,
//! upstream errors by kind, and their time ranges.

use std::collections::BTreeMap;

use crate::frame::Loc;
use crate::nginx::access::{AccessParser, AccessRecord};
use crate::nginx::error::{ErrorParser, ErrorRecord, UpstreamClass, UpstreamKind};
use crate::php::PhpCounts;
use crate::scan::Sink;
use crate::time::TimeRange;

/// Counts of an access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSummary {
    /// Parsed requests.
    pub requests: u64,
    /// Requests by status code (100..=999); index = status.
    status: Box<[u64; 1000]>,
    /// Times seen.
    pub range: TimeRange,
}

impl Default for AccessSummary {
    fn default() -> AccessSummary {
        AccessSummary {
            requests: 0,
            status: Box::new([0; 1000]),
            range: TimeRange::default(),
        }
    }
}

impl AccessSummary {
    /// Requests by status, non-zero entries only, in status order.
    pub fn status(&self) -> BTreeMap<u16, u64> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (s as u16, *n))
            .collect()
    }

    /// Adds another summary's counts (a later chunk, or another file).
    pub fn merge(&mut self, other: &AccessSummary) {
        self.requests += other.requests;
        for (a, b) in self.status.iter_mut().zip(other.status.iter()) {
            *a += *b;
        }
        self.range.merge(other.range);
    }

    /// Requests answered with `status`.
    pub fn status_count(&self, status: u16) -> u64 {
        self.status.get(status as usize).copied().unwrap_or(0)
    }
}

impl AccessSummary {
    /// Counts a request from what the summary reads of it: its status
    /// and time.
    #[inline(always)]
    pub(crate) fn count(&mut self, status: Option<u16>, time: Option<crate::Timestamp>) {
        self.requests += 1;
        if let Some(c) = status.and_then(|s| self.status.get_mut(s as usize)) {
            *c += 1;
        }
        if let Some(t) = time {
            self.range.add(t);
        }
    }
}

impl Sink<AccessParser> for AccessSummary {
    #[inline]
    fn record(&mut self, r: AccessRecord<'_>, _loc: Loc) {
        self.count(r.status, r.time);
    }

    fn append(&mut self, later: AccessSummary, _line_shift: u64) {
        self.merge(&later);
    }
}

/// Counts of an error log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorSummary {
    /// Entries parsed.
    pub entries: u64,
    /// Upstream errors by kind, indexed by [`UpstreamKind::index`].
    pub upstream_errors: [u64; UpstreamKind::ALL.len()],
    /// Upstream lines at `warn`.
    pub upstream_warnings: u64,
    /// `FastCGI sent in stderr` entries (never upstream errors).
    pub fastcgi_stderr: u64,
    /// The PHP messages of those entries, by level (an entry may carry
    /// several).
    pub php_messages: PhpCounts,
    /// Times seen.
    pub range: TimeRange,
}

impl ErrorSummary {
    /// Adds another summary's counts (a later chunk, or another file).
    pub fn merge(&mut self, other: &ErrorSummary) {
        self.entries += other.entries;
        for (a, b) in self.upstream_errors.iter_mut().zip(other.upstream_errors) {
            *a += b;
        }
        self.upstream_warnings += other.upstream_warnings;
        self.fastcgi_stderr += other.fastcgi_stderr;
        self.php_messages.merge(&other.php_messages);
        self.range.merge(other.range);
    }

    /// Upstream errors by kind, non-zero only, in contract order.
    pub fn upstream_errors(&self) -> Vec<(UpstreamKind, u64)> {
        UpstreamKind::ALL
            .iter()
            .map(|k| (*k, self.upstream_errors[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

impl Sink<ErrorParser> for ErrorSummary {
    #[inline]
    fn record(&mut self, r: ErrorRecord<'_>, _loc: Loc) {
        self.entries += 1;
        match r.upstream_class {
            UpstreamClass::Error(k) => self.upstream_errors[k.index()] += 1,
            UpstreamClass::Warning => self.upstream_warnings += 1,
            UpstreamClass::None => {}
        }
        if r.fastcgi_stderr {
            self.fastcgi_stderr += 1;
            self.php_messages.merge(&r.php_counts);
        }
        self.range.add(r.time);
    }

    fn append(&mut self, later: ErrorSummary, _line_shift: u64) {
        self.merge(&later);
    }
}
