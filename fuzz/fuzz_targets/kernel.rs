#![no_main]
//! Kernel messages (dmesg, dmesg -T, kern.log).

use baton_fuzz::check;
use baton_logparse::Zone;
use baton_logparse::kernel::KernelParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data, &KernelParser::new(Zone::UTC), |_| {});
    let p = KernelParser::new(Zone::Tz(chrono_tz::Europe::Berlin))
        .with_year(2026)
        .with_boot_time(1_795_000_000);
    check(data, &p, |_| {});
});
