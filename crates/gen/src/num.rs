//! Allocation-free number formatting into a byte buffer.

pub fn u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// `ms` as seconds with three decimals: `60.002`.
pub fn secs3(out: &mut Vec<u8>, ms: u64) {
    u64(out, ms / 1000);
    let f = ms % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (f / 100) as u8,
        b'0' + (f / 10 % 10) as u8,
        b'0' + (f % 10) as u8,
    ]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `v` as `width` lowercase hex digits (zero-padded).
pub fn hex(out: &mut Vec<u8>, v: u64, width: u32) {
    for i in (0..width).rev() {
        out.push(HEX[((v >> (i * 4)) & 15) as usize]);
    }
}
