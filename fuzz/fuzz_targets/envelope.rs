#![no_main]
//! Container envelopes: unwrapping never panics, accounts for every
//! physical line, reads the same whatever the read size, and a plain input
//! wrapped in CRI or json-file with its lines cut anywhere unwraps to
//! itself.

use std::io::Read;
use std::sync::Arc;

use baton_logparse::envelope::{Envelope, EnvelopeCounts, Unwrap, unwrap_sample};
use baton_logparse::frame::count_lines;
use libfuzzer_sys::fuzz_target;

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
