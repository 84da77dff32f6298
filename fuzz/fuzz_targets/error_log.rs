#![no_main]
//! nginx error logs.

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::{ErrorParser, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        check(data, &ErrorParser::new(zone), |r| {
            black_box(r.context());
            black_box((r.client(), r.server(), r.request(), r.upstream()));
            black_box((r.host(), r.referrer()));
        });
    }
});
