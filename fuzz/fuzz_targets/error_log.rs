#![no_main]
//! nginx error logs, with the PHP messages of FastCGI stderr entries and
//! the event each record makes.

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::event::from_error;
use baton_logparse::{ErrorParser, UpstreamClass, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        check(data, &ErrorParser::new(zone), |r| {
            black_box(r.context());
            black_box((r.client(), r.server(), r.request(), r.upstream()));
            black_box((r.host(), r.referrer()));
            // FastCGI stderr is never an upstream error; its messages are
            // counted, the most severe one kept.
            if r.fastcgi_stderr {
                assert_eq!(r.upstream_class, UpstreamClass::None);
                assert!(r.php_counts.total() >= 1);
                let level = r.php_level().expect("a level");
                if let Some(p) = r.php {
                    assert_eq!(p.php_level(), level);
                }
            } else {
                assert_eq!(r.php_counts.total(), 0);
            }
            black_box(from_error(r, 1, data));
        });
    }
});
