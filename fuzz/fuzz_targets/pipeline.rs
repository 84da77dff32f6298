#![no_main]
//! The whole pipeline on a byte buffer: detect the format, then scan the
//! buffer with the detected parser, sequentially and in tiny parallel
//! chunks, which must agree and account for every line.

use baton_fuzz::scan_both;
use baton_logparse::cloudflare::CloudflareParser;
use baton_logparse::fpm::FpmLogParser;
use baton_logparse::fpm::slowlog::SlowlogParser;
use baton_logparse::journal::JournalParser;
use baton_logparse::kernel::KernelParser;
use baton_logparse::{ErrorParser, Format, Zone, detect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = detect(data);
    let zone = Zone::UTC;
    match d.format {
        Format::NginxAccess => {
            scan_both(data, &d.access.expect("access parser"));
        }
        Format::NginxError => {
            scan_both(data, &ErrorParser::new(zone));
        }
        Format::FpmLog => {
            scan_both(data, &FpmLogParser::new(zone));
        }
        Format::FpmSlowlog => {
            scan_both(data, &SlowlogParser::new(zone));
        }
        Format::Journal => {
            let mut p = JournalParser::new(zone, 2026);
            if let Some(f) = d.journal_form {
                p = p.with_form(f);
            }
            scan_both(data, &p);
        }
        Format::Kernel => {
            scan_both(data, &KernelParser::new(zone).with_year(2026));
        }
        Format::Cloudflare => {
            scan_both(data, &CloudflareParser::new());
        }
        _ => {}
    }
});
