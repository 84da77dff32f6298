//! Byte search with the CPU dispatch done once.
//!
//! `memchr::memchr` picks its AVX2 or SSE2 routine on every call (an atomic
//! load and an indirect call through two wrappers), which is most of its cost
//! on the short spans of a log line. A [`Byte`] resolves the routine when it
//! is built, so a hot loop that builds one per chunk or per parser pays it
//! once.

/// Finds one byte, with the best routine chosen at construction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Byte {
    needle: u8,
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl Byte {
    /// A finder of `needle`.
    #[inline]
    pub(crate) fn new(needle: u8) -> Byte {
        Byte {
            needle,
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(needle),
        }
    }

    /// The index of the first `needle` in `h`: what `memchr::memchr` gives.
    #[inline(always)]
    pub(crate) fn find(&self, h: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(h);
        }
        memchr::memchr(self.needle, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_memchr() {
        let mut h = Vec::new();
        for len in 0..300usize {
            h.clear();
            h.extend((0..len).map(|i| b'a' + (i % 7) as u8));
            for at in [None, Some(0), Some(len / 2), len.checked_sub(1)] {
                let mut h = h.clone();
                if let Some(at) = at.filter(|&a| a < len) {
                    h[at] = b'\n';
                }
                for from in [0, 1, 15, 16, 31, 32, 33, 64] {
                    let s = h.get(from..).unwrap_or(&[]);
                    assert_eq!(Byte::new(b'\n').find(s), memchr::memchr(b'\n', s));
                    assert_eq!(Byte::new(b'c').find(s), memchr::memchr(b'c', s));
                }
            }
        }
    }
}
