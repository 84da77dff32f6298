#![no_main]
//! nginx access logs: detection, every built-in variant, and a compiled
//! `log_format` taken from the first input line.

use baton_fuzz::check;
use baton_logparse::AccessParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((p, n)) = AccessParser::detect(data) {
        assert!(n > 0);
        check(data, &p, |_| {});
    }
    for name in AccessParser::VARIANTS {
        let p = AccessParser::from_variant(name).expect("listed variant");
        check(data, &p, |_| {});
    }
    // First line: a log_format; the rest: lines in that format.
    let (format, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    if let Ok(format) = std::str::from_utf8(format) {
        if let Ok(p) = AccessParser::from_log_format(format) {
            check(rest, &p, |_| {});
        }
    }
});
