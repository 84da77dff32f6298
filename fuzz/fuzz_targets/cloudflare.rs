#![no_main]
//! Cloudflare Logpush `http_requests` JSON lines.

use baton_fuzz::check;
use baton_logparse::cloudflare::CloudflareParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data, &CloudflareParser::new(), |_| {});
});
