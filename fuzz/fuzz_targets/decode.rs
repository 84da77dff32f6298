#![no_main]
//! gzip/zstd decoding: never panics, and stops at a bound.

use std::io::{Cursor, Read};

use baton_logparse::Decoder;
use libfuzzer_sys::fuzz_target;

/// Decoded bytes read at most (a small bomb must not eat the run).
const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let dec = Decoder::new(Cursor::new(data.to_vec())).expect("reading a slice cannot fail");
    let compressed = dec.compressed_bytes();
    let compression = dec.compression();
    let mut out = Vec::new();
    let res = dec.take(LIMIT).read_to_end(&mut out);
    if !compression.is_compressed() {
        res.expect("uncompressed input reads");
        assert_eq!(out, &data[..data.len().min(LIMIT as usize)]);
    }
    assert!(compressed.get() <= data.len() as u64);
});
