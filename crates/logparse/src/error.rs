//! Errors and skip reasons.
//!
//! Two different things go wrong when reading logs, and they are different
//! types: a *line* that cannot be parsed is recoverable (it becomes a counted
//! [`SkipReason`] and the run goes on), while an *input* that cannot be read
//! is fatal for that input ([`Error`]).

use std::fmt;

/// Why a physical line (or a multi-line record) was not parsed.
///
/// The string form ([`SkipReason::as_str`]) is the key used in
/// `skipped_by_reason` of `baton.stats.v1`; it never changes for a variant.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A blank line (only whitespace).
    Empty,
    /// The line ends before every field of the format was seen.
    Truncated,
    /// The timestamp is missing or is not a valid date and time.
    BadTimestamp,
    /// A field that must be a number or a known token is not (status code, pid, level...).
    BadField,
    /// The line is text but not of this log's format.
    Unrecognized,
    /// The line holds NUL bytes or other binary data.
    Binary,
    /// The line is longer than the configured record limit.
    TooLong,
    /// A continuation line with no open multi-line record before it.
    OrphanContinuation,
    /// A JSON line that is not a well-formed JSON object.
    BadJson,
}

impl SkipReason {
    /// Every reason, in a fixed order (the order of [`SkipReason::index`]).
    pub const ALL: [SkipReason; 9] = [
        SkipReason::Empty,
        SkipReason::Truncated,
        SkipReason::BadTimestamp,
        SkipReason::BadField,
        SkipReason::Unrecognized,
        SkipReason::Binary,
        SkipReason::TooLong,
        SkipReason::OrphanContinuation,
        SkipReason::BadJson,
    ];

    /// The stable snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Empty => "empty",
            SkipReason::Truncated => "truncated",
            SkipReason::BadTimestamp => "bad_timestamp",
            SkipReason::BadField => "bad_field",
            SkipReason::Unrecognized => "unrecognized",
            SkipReason::Binary => "binary",
            SkipReason::TooLong => "too_long",
            SkipReason::OrphanContinuation => "orphan_continuation",
            SkipReason::BadJson => "bad_json",
        }
    }

    /// A dense index in `0..SkipReason::ALL.len()`, for counting in arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong with an input as a whole.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Reading the input failed (permission denied, I/O error, ...).
    Io,
    /// The input ended in the middle of a compressed stream or was corrupt.
    Corrupt,
    /// A configuration value (zone, log_format string, ...) is invalid.
    Config,
}

/// A fatal error for one input, or an invalid configuration: the *what*
/// ([`ErrorKind`] plus a message) and the *where* (byte offset and line when
/// known).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    offset: Option<u64>,
    line: Option<u64>,
    /// The offset counts decompressed bytes of a compressed input.
    decompressed: bool,
    source: Option<std::io::Error>,
}

impl Error {
    /// A configuration error (bad zone name, bad `log_format`...).
    pub fn config(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Config,
            message: message.into(),
            offset: None,
            line: None,
            decompressed: false,
            source: None,
        }
    }

    /// An I/O error while reading, at byte `offset` of the decoded input.
    /// A [`crate::decode::DecodeError`] inside `err` makes a
    /// [`ErrorKind::Corrupt`] error whose message names the compressed
    /// offset, and whose `offset` is the decompressed one.
    pub fn io(err: std::io::Error, offset: u64) -> Error {
        let decompressed = err
            .get_ref()
            .is_some_and(|e| e.is::<crate::decode::DecodeError>());
        let kind = if err.kind() == std::io::ErrorKind::InvalidData
            || err.kind() == std::io::ErrorKind::UnexpectedEof
        {
            ErrorKind::Corrupt
        } else {
            ErrorKind::Io
        };
        Error {
            kind,
            message: err.to_string(),
            offset: Some(offset),
            line: None,
            decompressed,
            source: Some(err),
        }
    }

    /// Sets the line number where the error happened.
    pub fn at_line(mut self, line: u64) -> Error {
        self.line = Some(line);
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset (in the decoded input) where the error happened, if known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The line number where the error happened, if known.
    pub fn line(&self) -> Option<u64> {
        self.line
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let at = if self.decompressed {
            "decompressed byte"
        } else {
            "byte"
        };
        match (self.line, self.offset) {
            (Some(l), Some(o)) => write!(f, " (line {l}, {at} {o})"),
            (None, Some(o)) => write!(f, " (at {at} {o})"),
            (Some(l), None) => write!(f, " (line {l})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_index_matches_all_order() {
        for (i, r) in SkipReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r}");
        }
    }

    #[test]
    fn io_error_display_names_offset() {
        let e = Error::io(
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "gzip stream truncated"),
            4096,
        );
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert_eq!(e.to_string(), "gzip stream truncated (at byte 4096)");
    }

    #[test]
    fn decode_error_display_names_both_offsets() {
        let inner = crate::decode::DecodeError {
            compression: crate::decode::Compression::Gzip,
            offset: 812,
            truncated: true,
            detail: String::new(),
        };
        let e = Error::io(
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, inner),
            4096,
        );
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert_eq!(
            e.to_string(),
            "gzip stream truncated at byte 812 (at decompressed byte 4096)"
        );
    }
}
