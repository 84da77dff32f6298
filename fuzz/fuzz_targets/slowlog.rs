#![no_main]
//! php-fpm slowlogs (multi-line records).

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::Zone;
use baton_logparse::fpm::slowlog::SlowlogParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        check(data, &SlowlogParser::new(zone), |r| {
            for f in r.frames() {
                black_box(f);
            }
        });
    }
});
