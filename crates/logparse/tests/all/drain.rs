//! Issue 18: a [`Drain`] sees every event of an input once, final (lines
//! absolute), chunk by chunk in input order, whatever the chunking and
//! threads; what it leaves is `FileSummary::events`, and together they
//! are the events a plain read collects.

use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex};

use baton_logparse::summary::{Drain, Source, TimeConfig, summarize, summarize_draining};
use baton_logparse::{Collect, Event, ScanOptions, Zone, detect};

/// Whether the drain takes an event: by a hash of its line, about half.
fn takes(e: &Event) -> bool {
    (e.line.wrapping_mul(0x9E37_79B9) >> 16) & 1 == 0
}

/// Takes about half the events, keeping them in the order offered.
#[derive(Default)]
struct Evens {
    taken: Mutex<Vec<Event>>,
    calls: Mutex<usize>,
}

impl Drain for Evens {
    fn drain(&self, events: &mut Vec<Event>, from: usize) {
        *self.calls.lock().unwrap() += 1;
        let mut taken = self.taken.lock().unwrap();
        taken.extend(events.extract_if(from.., |e| takes(e)));
    }
}

const COLLECT: Collect = Collect {
    events: true,
    all_requests: true,
    all_edge: true,
    all_php: true,
    defer_text: false,
};

/// `name` from the samples, repeated until it is about `size` bytes.
fn repeated(name: &str, size: usize) -> Vec<u8> {
    let one = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/sample")
            .join(name),
    )
    .unwrap();
    let mut out = Vec::with_capacity(size + one.len());
    while out.len() < size {
        out.extend_from_slice(&one);
    }
    out
}

fn check(name: &str, bytes: &[u8], source: impl Fn() -> Source, opts: &ScanOptions) {
    let detected = detect(&bytes[..bytes.len().min(64 << 10)]);
    let time = TimeConfig {
        zone: Zone::UTC,
        year: Some(2026),
        boot_time: None,
    };
    let plain = summarize(source(), &detected, &time, opts, COLLECT).events;
    assert!(plain.len() > 100, "{name}: {}", plain.len());
    let evens = Arc::new(Evens::default());
    let drained = summarize_draining(
        source(),
        &detected,
        &time,
        opts,
        COLLECT,
        Some(evens.clone()),
    )
    .events;
    let taken = std::mem::take(&mut *evens.taken.lock().unwrap());
    let (want_taken, want_left): (Vec<Event>, Vec<Event>) = plain.into_iter().partition(takes);
    assert!(!want_taken.is_empty() && !want_left.is_empty(), "{name}");
    assert_eq!(taken, want_taken, "{name}: the events taken, in order");
    assert_eq!(drained, want_left, "{name}: the events left");
    assert!(*evens.calls.lock().unwrap() > 1, "{name}: chunk by chunk");
}

#[test]
fn a_drain_sees_every_event_once_with_its_line() {
    let dir = std::env::temp_dir().join(format!("baton-drain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["access.log", "error.log", "php-fpm.log", "kern-dmesg-T.log"] {
        let bytes = repeated(name, 600 << 10);
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        // A file in parallel segments, and a stream in blocks of chunks.
        let small = ScanOptions {
            chunk_size: 4096,
            block_size: 64 << 10,
            ..ScanOptions::default()
        };
        let file = || Source::File(std::fs::File::open(&path).unwrap());
        check(name, &bytes, file, &small);
        let stream = || Source::Stream(Box::new(Cursor::new(bytes.clone())));
        check(name, &bytes, stream, &small);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
