//! What the correlator reads and how it runs.

use baton_logparse::summary::TimeRange;
use baton_logparse::{Event, Traffic, Zone};

/// Which logs were given: what the report can and cannot see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// An nginx access log.
    pub access: bool,
    /// An nginx error log.
    pub error: bool,
    /// The php-fpm log (file or journal).
    pub fpm: bool,
    /// A slowlog.
    pub slowlog: bool,
    /// A kernel log.
    pub kernel: bool,
    /// Cloudflare Logpush lines.
    pub edge: bool,
}

/// What the correlator reads.
#[derive(Debug, Default)]
pub struct Input {
    /// Every event, from every input (`file` indexes `files`).
    pub events: Vec<Event>,
    /// The inputs' paths, as shown.
    pub files: Vec<String>,
    /// Request volume over every access log.
    pub traffic: Traffic,
    /// The time each access log covers: outside it, upstream errors stand
    /// for gateway errors.
    pub access_ranges: Vec<TimeRange>,
    /// The window of everything read.
    pub window: TimeRange,
    /// Requests in the access logs.
    pub requests: u64,
    /// Which logs were given.
    pub coverage: Coverage,
    /// What the nginx and php-fpm configurations read say.
    pub config: baton_logparse::config::ConfigFacts,
}

/// How the correlator runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The zone times are shown in.
    pub zone: Zone,
    /// How far before a gateway error's request start causes are looked
    /// for, in seconds.
    pub window_s: u32,
    /// Evidence lines kept per incident.
    pub max_refs: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            zone: Zone::UTC,
            window_s: 60,
            max_refs: 12,
        }
    }
}
