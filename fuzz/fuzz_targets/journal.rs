#![no_main]
//! Journals and syslog files: any form, and each form alone.

use std::hint::black_box;

use baton_fuzz::check;
use baton_logparse::Zone;
use baton_logparse::journal::{JournalForm, JournalParser};
use libfuzzer_sys::fuzz_target;

const FORMS: [JournalForm; 8] = [
    JournalForm::Short,
    JournalForm::ShortPrecise,
    JournalForm::ShortIso,
    JournalForm::ShortIsoPrecise,
    JournalForm::Json,
    JournalForm::Export,
    JournalForm::Rfc5424,
    JournalForm::Marker,
];

fuzz_target!(|data: &[u8]| {
    let look = |r: &baton_logparse::journal::JournalRecord<'_>| {
        let mut scratch = Vec::new();
        black_box(r.message_bytes(&mut scratch));
        black_box(r.message_text());
    };
    check(
        data,
        &JournalParser::new(Zone::Tz(chrono_tz::Europe::Berlin), 2026),
        look,
    );
    for form in FORMS {
        check(
            data,
            &JournalParser::new(Zone::UTC, 2026).with_form(form),
            look,
        );
    }
});
