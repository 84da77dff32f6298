#![no_main]
//! Container envelopes: unwrapping never panics, accounts for every
//! physical line, reads the same whatever the read size, a plain input
//! wrapped in CRI or json-file with its lines cut anywhere unwraps to
//! itself, the one-pass reader of Docker's json-file lines reads what the
//! member-by-member one reads, and the parallel segment scan gives what the
//! stream reader gives (records, lines, offsets, skips, counts).

use std::io::Read;
use std::sync::Arc;

use baton_logparse::envelope::{
    Envelope, EnvelopeCounts, ServiceFilter, Unwrap, unwrap_sample, unwrap_sample_for,
};
use baton_logparse::frame::{Loc, RecordParser, count_lines};
use baton_logparse::mixed::MixedParser;
use baton_logparse::scan::{ScanOptions, Sink, scan_reader, scan_slice_unwrapped};
use baton_logparse::{AccessParser, Zone};
use libfuzzer_sys::fuzz_target;

/// Every record a scan gives, where it stands, and its bytes.
#[derive(Debug, Default, PartialEq)]
struct Records(Vec<(Loc, Vec<u8>)>);

impl<P: RecordParser> Sink<P> for Records {
    fn record(&mut self, _: P::Record<'_>, loc: Loc) {
        self.0.push((loc, Vec::new()));
    }

    fn record_raw(&mut self, _: P::Record<'_>, loc: Loc, raw: &[u8]) {
        self.0.push((loc, raw.to_vec()));
    }

    fn append(&mut self, later: Records, line_shift: u64) {
        self.0.extend(later.0.into_iter().map(|(mut loc, raw)| {
            loc.line += line_shift;
            (loc, raw)
        }));
    }

    fn shift_offsets(&mut self, shift: u64) {
        for (loc, _) in &mut self.0 {
            loc.offset += shift;
        }
    }
}

/// `data` scanned through the stream reader and through the parallel
/// segment scan (segments of 8 KiB) gives the same.
fn scans_agree(env: Envelope, data: &[u8]) {
    let parser = MixedParser::new(Some(AccessParser::default()), Zone::UTC);
    let opts = ScanOptions {
        chunk_size: 4096,
        ..ScanOptions::default()
    };
    let serial_counts = Arc::new(EnvelopeCounts::default());
    let serial = scan_reader(
        Unwrap::new(data, env, serial_counts.clone()),
        &parser,
        &opts,
        &Records::default,
    );
    let counts = Arc::new(EnvelopeCounts::default());
    let parallel =
        scan_slice_unwrapped(data, env, None, &counts, &parser, &opts, &Records::default);
    assert_eq!(serial.tally, parallel.tally, "{env:?}");
    assert_eq!(serial.sink, parallel.sink, "{env:?}");
    assert_eq!(serial_counts.summary(env), counts.summary(env), "{env:?}");
}

fn read_all(env: Envelope, data: &[u8], step: usize) -> (Vec<u8>, u64) {
    let counts = Arc::new(EnvelopeCounts::default());
    let mut r = Unwrap::new(data, env, counts.clone());
    let mut out = Vec::new();
    let mut buf = vec![0u8; step];
    loop {
        let n = r.read(&mut buf).expect("a slice never fails");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (out, counts.summary(env).physical_lines)
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else {
        return;
    };
    let step = step as usize % 97 + 1;
    let _ = baton_logparse::detect(data);
    for env in Envelope::ALL {
        let (one, lines) = read_all(env, data, step);
        let (big, _) = read_all(env, data, 1 << 16);
        assert_eq!(one, big, "{env:?}: the read size changed the output");
        assert_eq!(lines, count_lines(data), "{env:?}");
        // The sample unwrapper agrees.
        assert_eq!(unwrap_sample(env, data), one, "{env:?}");
    }
    // A filter that keeps every line turns the one-pass json-file reader
    // off.
    let all = ServiceFilter {
        name: Vec::new(),
        strays: true,
        known: Vec::new().into(),
    };
    assert_eq!(
        unwrap_sample(Envelope::DockerJson, data),
        unwrap_sample_for(Envelope::DockerJson, data, Some(&all))
    );
    // Several segments' worth of the input, cut a different way each time.
    if !data.is_empty() {
        let big = data.repeat(20_000 / data.len() + 1);
        for env in Envelope::ALL {
            scans_agree(env, &big[step..]);
        }
    }
    // Round trip: the printable lines of `data`, cut at `step`.
    let plain: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| {
            l.iter()
                .all(|b| (0x20..0x7f).contains(b) && *b != b'\\' && *b != b'"')
        })
        .collect();
    let mut want = Vec::new();
    let mut cri = Vec::new();
    let mut json = Vec::new();
    for l in &plain {
        want.extend_from_slice(l);
        want.push(b'\n');
        let cut = if l.is_empty() { 0 } else { step % l.len() };
        let pieces: Vec<&[u8]> = if cut > 0 {
            vec![&l[..cut], &l[cut..]]
        } else {
            vec![l]
        };
        for (i, p) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            cri.extend_from_slice(b"2026-11-24T11:17:00.1Z stderr ");
            cri.extend_from_slice(if last { b"F " } else { b"P " });
            cri.extend_from_slice(p);
            cri.push(b'\n');
            json.extend_from_slice(b"{\"log\":\"");
            json.extend_from_slice(p);
            if last {
                json.extend_from_slice(b"\\n");
            }
            json.extend_from_slice(
                b"\",\"stream\":\"stdout\",\"time\":\"2026-11-24T11:17:00.1Z\"}\n",
            );
        }
    }
    assert_eq!(read_all(Envelope::Cri, &cri, step).0, want);
    assert_eq!(read_all(Envelope::DockerJson, &json, step).0, want);
});
