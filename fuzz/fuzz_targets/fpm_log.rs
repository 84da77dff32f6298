#![no_main]
//! The php-fpm log, with the event each record makes (worker output
//! carrying a PHP message is a `php_message` event).

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::Zone;
use baton_logparse::event::from_fpm;
use baton_logparse::fpm::{FpmEvent, FpmLogParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::America::New_York)] {
        check(data, &FpmLogParser::new(zone), |r| {
            let e = from_fpm(&r.event, r.time, 1, data);
            if let FpmEvent::WorkerOutput(w) = &r.event {
                assert_eq!(e.as_ref().and_then(|e| e.php_level), w.php_level());
                assert_eq!(e.as_ref().is_some_and(|e| e.fatal), w.is_fatal());
            }
            black_box(e);
        });
    }
});
