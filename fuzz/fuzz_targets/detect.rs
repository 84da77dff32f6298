#![no_main]
//! Format detection.

use baton_logparse::{Format, detect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = detect(data);
    assert_eq!(d.access.is_some(), d.format == Format::NginxAccess, "{d:?}");
    assert_eq!(d.reason.is_some(), d.format == Format::Unknown, "{d:?}");
    if d.format != Format::Journal {
        assert!(d.journal_form.is_none(), "{d:?}");
    }
});
