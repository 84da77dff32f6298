#![no_main]
//! The whole path to a finished report: arbitrary bytes cut into up to four
//! inputs (at `\x00\x00\x00`), each detected and summarized with its events
//! as `baton report` does, clocks aligned, and the correlator run. Nothing
//! may panic, every input's lines are accounted for, and every gateway
//! error is in an incident or in the background.

use std::io::Cursor;

use baton_correlate::clocks::{FileClock, align};
use baton_correlate::{Input, Options, analyze};
use baton_logparse::summary::{Source, TimeConfig, TimeRange, summarize};
use baton_logparse::{Collect, Format, ScanOptions, Traffic, Zone, detect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while parts.len() < 3 {
        match rest.windows(3).position(|w| w == b"\0\0\0") {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + 3..];
            }
            None => break,
        }
    }
    parts.push(rest);

    let time = TimeConfig {
        zone: Zone::UTC,
        year: Some(2026),
        boot_time: None,
    };
    let mut input = Input::default();
    let mut clocks = Vec::new();
    let mut traffic = Traffic::default();
    let mut window = TimeRange::default();
    for (n, part) in parts.iter().enumerate() {
        let detected = detect(&part[..part.len().min(64 * 1024)]);
        let source = Source::Stream(Box::new(Cursor::new(part.to_vec())));
        let collect = Collect {
            events: true,
            ..Collect::default()
        };
        let mut s = summarize(source, &detected, &time, &ScanOptions::default(), collect);
        let t = &s.tally;
        assert_eq!(t.lines, t.parsed + t.skipped(), "{:?}", s.format);
        for mut e in std::mem::take(&mut s.events) {
            e.file = n as u32;
            input.events.push(e);
        }
        if let Some(t) = s.traffic.take() {
            traffic.merge(&t);
        }
        let range = s.range();
        window.merge(range);
        let c = &mut input.coverage;
        match s.format {
            Format::NginxAccess => {
                c.access = true;
                input.access_ranges.push(range);
            }
            Format::NginxError => c.error = true,
            Format::FpmLog => c.fpm = true,
            Format::FpmSlowlog => c.slowlog = true,
            Format::Kernel => c.kernel = true,
            Format::Cloudflare => c.edge = true,
            _ => {}
        }
        clocks.push(FileClock {
            format: s.format,
            own_offset: matches!(s.format, Format::NginxAccess | Format::Cloudflare),
            group: n as u32,
        });
        input.files.push(format!("input{n}"));
    }
    align(&mut input.events, &clocks);
    input.requests = traffic.minutes.values().map(|m| m.requests).sum();
    input.traffic = traffic;
    input.window = window;
    let a = analyze(&input, &Options::default());
    let in_incidents: u64 = a.incidents.iter().map(|i| i.gateway_errors).sum();
    // Origin gateway errors, and edge ones the origin did not fail too.
    let edge_only: u64 = a.timeline.iter().map(|m| m.edge).sum();
    assert_eq!(
        in_incidents + a.background.gateway_errors,
        a.totals.gateway_errors + edge_only,
        "every gateway error is in an incident or in the background"
    );
    for i in &a.incidents {
        let phased: u64 = i.phases.iter().map(|p| p.gateway_errors).sum();
        assert_eq!(phased, i.gateway_errors, "phases cover the incident");
    }
});
