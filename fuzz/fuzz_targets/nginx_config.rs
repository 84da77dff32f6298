#![no_main]
//! nginx's configuration: the parser accounts for every line, and facts and
//! checks never panic on what it read.

use std::hint::black_box;

use baton_logparse::config::{ConfigFacts, nginx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = nginx::parse(data, "fuzz.conf");
    let t = &c.tally;
    assert_eq!(t.lines, t.parsed + t.skipped());
    let physical = memchr_lines(data);
    assert_eq!(t.lines, physical);
    let facts = ConfigFacts {
        memory_bytes: Some(1 << 30),
        ..ConfigFacts::from_parsed(&[&c], &[])
    };
    black_box(baton_correlate::config_checks::check(&facts, true));
    black_box(nginx::looks_like(data));
});

/// Physical lines: newlines, plus an unterminated last line.
fn memchr_lines(data: &[u8]) -> u64 {
    let n = data.iter().filter(|&&b| b == b'\n').count() as u64;
    n + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}
