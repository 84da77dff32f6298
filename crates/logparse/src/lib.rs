//! # Overview
//!
//! `baton-logparse` turns the logs of an nginx → PHP-FPM stack into typed
//! records, zero-copy and fast, without ever losing a line.
//!
//! It has two layers. [`frame`] and [`scan`] turn bytes into records
//! (physical lines, multi-line records, byte offsets and line numbers,
//! parallel chunks, bounded-memory streaming); the format modules
//! ([`nginx::access`], [`nginx::error`]) turn one record into one typed
//! record that borrows from the input. Every line is either parsed or
//! counted as skipped with a [`SkipReason`]: `lines = parsed + skipped`.
//!
//! Compressed inputs are decoded in process: [`Decoder`] recognizes gzip
//! (multi-member too) and zstd by their magic bytes, and says how far a
//! truncated or corrupt archive got.
//!
//! Time is explicit: offset-less timestamps are resolved in a [`Zone`] the
//! caller passes in, never the machine's.
//!
//! The library prints nothing; diagnostics go through the `log` crate.

#![deny(missing_docs)]

mod bytes;
pub mod cloudflare;
pub mod collecting;
pub mod config;
pub mod decode;
pub mod detect;
pub mod envelope;
pub mod error;
pub mod event;
pub mod fpm;
pub mod frame;
pub mod hosts;
pub mod journal;
mod json;
pub mod kernel;
pub mod mixed;
pub mod mysql_slow;
pub mod nginx;
pub mod php;
pub mod php_error;
pub mod scan;
pub mod summary;
pub mod text;
pub mod time;
pub mod years;

pub use crate::decode::{ByteCount, Compression, DecodeError, Decoder};
pub use crate::detect::{Detected, Format, detect};
pub use crate::error::{Error, ErrorKind, SkipReason};
pub use crate::event::{Collect, Event, EventKind, Traffic};
pub use crate::frame::{Lines, Loc, RecordParser};
pub use crate::nginx::access::{AccessParser, AccessRecord, ValueList};
pub use crate::nginx::error::{
    ErrorParser, ErrorRecord, Level, Phase, PhpMessage, UpstreamClass, UpstreamKind,
};
pub use crate::php::{PhpCounts, PhpLevel};
pub use crate::scan::{ScanOptions, Scanned, Sink, SkipSample, Tally, scan_reader, scan_slice};
pub use crate::summary::{AccessSummary, ErrorSummary, FileSummary};
pub use crate::time::{LocalResolver, Timestamp, Zone};
