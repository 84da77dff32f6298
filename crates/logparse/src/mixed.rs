//! Mixed streams: one input holding nginx access lines and nginx error
//! lines (a container's stdout and stderr in one log, an error log with
//! access lines written into it). Each record goes to the format that
//! parses it, and each format's lines are counted apart.

use crate::collecting::Collecting;
use crate::error::SkipReason;
use crate::event::{self, Traffic};
use crate::frame::{Loc, RecordParser};
use crate::nginx::access::{AccessParser, AccessRecord};
use crate::nginx::error::{ErrorParser, ErrorRecord, UpstreamClass, is_entry_start};
use crate::nginx::summary::{AccessSummary, ErrorSummary};
use crate::scan::Sink;
use crate::time::Zone;

/// Parses nginx access and error records of one stream.
///
/// The access lines' variant is the one detection recognized; when the
/// sample held none (a container log starting with nginx's startup
/// notices), the first line that one of [`AccessParser::VARIANTS`] reads
/// fixes it, in that order (the more specific first).
#[derive(Clone)]
pub struct MixedParser {
    access: Option<AccessParser>,
    error: ErrorParser,
}

/// A record of a mixed stream.
#[derive(Debug)]
// Records live on the stack for one sink call: boxing the access record
// would allocate per line.
#[allow(clippy::large_enum_variant)]
pub enum MixedRecord<'a> {
    /// An access-log line.
    Access(AccessRecord<'a>),
    /// An error-log entry.
    Error(ErrorRecord<'a>),
}

impl MixedParser {
    /// Access lines read by `access` (`None`: by the first variant that
    /// reads one), error entries placed in `zone`.
    pub fn new(access: Option<AccessParser>, zone: Zone) -> MixedParser {
        MixedParser {
            access,
            error: ErrorParser::new(zone),
        }
    }

    /// The access-log variant (`combined`, ...), when known before reading.
    pub fn access_variant(&self) -> Option<&'static str> {
        self.access.as_ref().map(AccessParser::variant)
    }

    /// Whether `line` is an access line (a trial parse).
    fn is_access(&self, line: &[u8]) -> bool {
        if line.first().is_none_or(|c| c.is_ascii_whitespace()) {
            return false;
        }
        match &self.access {
            Some(p) => p.clone().parse(line).is_ok(),
            None => variant_of(line).is_some(),
        }
    }
}

/// The first built-in access variant that reads `line`.
fn variant_of(line: &[u8]) -> Option<AccessParser> {
    AccessParser::VARIANTS.iter().find_map(|name| {
        let mut p = AccessParser::from_variant(name)?;
        p.parse(line).is_ok().then_some(p)
    })
}

impl RecordParser for MixedParser {
    type Record<'a> = MixedRecord<'a>;
    const MULTILINE: bool = true;

    /// An error entry's first line. Every other line starts a record too
    /// unless it continues an entry's open FastCGI payload, which
    /// [`MixedParser::continues`] decides (with a trial parse of the line
    /// as an access line only there): an access line is parsed once, and
    /// chunks are cut before error entries (or, past the scan's limit,
    /// at any line).
    fn is_record_start(&self, line: &[u8]) -> bool {
        is_entry_start(line)
    }

    /// Only an error entry's open FastCGI payload goes on (never onto an
    /// access line).
    fn continues(&self, head: &[u8], next: &[u8]) -> bool {
        is_entry_start(head) && self.error.continues(head, next) && !self.is_access(next)
    }

    fn parse<'a>(&mut self, rec: &'a [u8]) -> Result<MixedRecord<'a>, SkipReason> {
        if is_entry_start(rec) {
            return self.error.parse(rec).map(MixedRecord::Error);
        }
        if self.access.is_none() {
            self.access = variant_of(rec);
        }
        let access = match &mut self.access {
            Some(p) => p.parse(rec),
            None => Err(SkipReason::Unrecognized),
        };
        match access {
            Ok(r) => Ok(MixedRecord::Access(r)),
            // Not an access line: the error parser says why it is no entry
            // either (an orphan continuation, say).
            Err(_) => self.error.parse(rec).map(MixedRecord::Error),
        }
    }
}

/// Counts of a mixed stream: each format's as if it were alone, and the
/// lines of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MixedSummary {
    /// The access lines' counts.
    pub access: AccessSummary,
    /// The error entries' counts.
    pub error: ErrorSummary,
    /// Physical lines of access records.
    pub access_lines: u64,
    /// Physical lines of error entries.
    pub error_lines: u64,
}

impl Sink<MixedParser> for MixedSummary {
    fn record(&mut self, r: MixedRecord<'_>, loc: Loc) {
        match r {
            MixedRecord::Access(a) => {
                self.access_lines += loc.lines as u64;
                Sink::<AccessParser>::record(&mut self.access, a, loc);
            }
            MixedRecord::Error(e) => {
                self.error_lines += loc.lines as u64;
                Sink::<ErrorParser>::record(&mut self.error, e, loc);
            }
        }
    }

    fn append(&mut self, later: MixedSummary, _line_shift: u64) {
        self.access.merge(&later.access);
        self.error.merge(&later.error);
        self.access_lines += later.access_lines;
        self.error_lines += later.error_lines;
    }
}

impl Sink<MixedParser> for Collecting<MixedSummary> {
    fn record(&mut self, r: MixedRecord<'_>, loc: Loc) {
        self.record_raw(r, loc, b"");
    }

    fn record_raw(&mut self, r: MixedRecord<'_>, loc: Loc, raw: &[u8]) {
        let collect = self.collect;
        match &r {
            MixedRecord::Access(a) => {
                self.traffic.get_or_insert_with(Traffic::default).add(a);
                if collect.all_requests || crate::collecting::failed(a.status) {
                    self.keep(event::from_access(a, loc.line, raw), loc, raw);
                }
            }
            MixedRecord::Error(e) => {
                if (e.upstream_class != UpstreamClass::None || e.fastcgi_stderr)
                    && let Some(e) =
                        event::from_error(e, loc.line, raw).filter(|e| collect.keeps(e))
                {
                    self.keep(e, loc, raw);
                }
            }
        }
        self.summary.record(r, loc);
    }

    fn shift_offsets(&mut self, shift: u64) {
        self.shift_event_offsets(shift);
    }

    fn append(&mut self, mut later: Self, line_shift: u64) {
        let summary = std::mem::take(&mut later.summary);
        Sink::<MixedParser>::append(&mut self.summary, summary, line_shift);
        self.append_events(later, line_shift);
    }
}

#[cfg(test)]
mod tests;
