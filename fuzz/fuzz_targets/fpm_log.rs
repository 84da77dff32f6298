#![no_main]
//! The php-fpm log.

use baton_fuzz::check;
use baton_logparse::Zone;
use baton_logparse::fpm::FpmLogParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::America::New_York)] {
        check(data, &FpmLogParser::new(zone), |_| {});
    }
});
