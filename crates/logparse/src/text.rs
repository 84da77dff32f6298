//! Log bytes as display text.
//!
//! Log lines are attacker-chosen bytes: a request path or a user agent can
//! carry terminal escapes, and a truncated write leaves invalid UTF-8.
//! Every output (evidence in a report, event rows, summaries) shows them
//! through [`escape`], so no byte can act on a terminal or a parser
//! downstream, and the same line reads the same in every output.

use std::fmt::Write as _;

/// Escapes raw log bytes: valid UTF-8 is kept; a backslash, control
/// characters and invalid bytes become `\\`, `\n`, `\r`, `\t`, `\xHH`.
///
/// ```
/// use baton_logparse::text::escape;
/// assert_eq!(escape(b"a\tb\x1b[2J\xff"), r"a\tb\x1b[2J\xff");
/// ```
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        let _ = write!(out, "\\x{byte:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn printable_text_is_kept_and_everything_else_is_spelled_out() {
        assert_eq!(escape("café /wp-admin/".as_bytes()), "café /wp-admin/");
        assert_eq!(escape(b"a\\b"), r"a\\b");
        assert_eq!(escape(b"\r\n"), r"\r\n");
        // C1 controls are two bytes in UTF-8: both spelled out.
        assert_eq!(escape("\u{9b}".as_bytes()), r"\xc2\x9b");
        // A truncated multi-byte character.
        assert_eq!(escape(b"caf\xc3"), r"caf\xc3");
    }
}

/// Log bytes an [`crate::Event`] keeps: one pointer wide (and so is an
/// `Option<Text>`), shared: a clone is a reference count, not a copy; every
/// empty `Text` is one shared empty value.
///
/// An event has a dozen text fields and a bad day has hundreds of
/// thousands of events: a pointer each instead of a pointer and a length
/// halves their share of every event, and values that repeat (paths, hosts,
/// upstreams, pools, methods) are stored once per input through an
/// [`Interner`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(std::sync::Arc<Box<[u8]>>);

impl Text {
    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Text {
        static EMPTY: std::sync::OnceLock<Text> = std::sync::OnceLock::new();
        EMPTY
            .get_or_init(|| Text(std::sync::Arc::new(Box::default())))
            .clone()
    }
}

impl std::ops::Deref for Text {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Text {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Text {
    fn from(b: &[u8]) -> Text {
        if b.is_empty() {
            Text::default()
        } else {
            Text(std::sync::Arc::new(b.into()))
        }
    }
}

impl<const N: usize> From<&[u8; N]> for Text {
    fn from(b: &[u8; N]) -> Text {
        Text::from(&b[..])
    }
}

impl From<Vec<u8>> for Text {
    fn from(b: Vec<u8>) -> Text {
        if b.is_empty() {
            Text::default()
        } else {
            Text(std::sync::Arc::new(b.into_boxed_slice()))
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from(s.as_bytes())
    }
}

impl PartialEq<[u8]> for Text {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", escape(self.as_bytes()))
    }
}

/// One copy of each repeated value: a value seen before is handed back as
/// the same shared [`Text`]. Kept per input read, bounded by
/// [`Interner::MAX`] values: past them, values are no longer remembered,
/// only copied.
#[derive(Debug, Default)]
pub struct Interner {
    seen: std::collections::HashSet<Text, BuildWordHasher>,
}

/// A fast hash of log bytes a word at a time (the interner needs no
/// protection from chosen collisions: a collision costs a comparison).
#[derive(Debug, Default, Clone, Copy)]
struct BuildWordHasher;

impl std::hash::BuildHasher for BuildWordHasher {
    type Hasher = WordHasher;
    fn build_hasher(&self) -> WordHasher {
        WordHasher(0)
    }
}

/// `h` with `bytes` mixed in eight at a time (multiplier `k`), the last
/// ones shifted into one word (a copy into a padded word costs a call to
/// memmove).
#[inline]
pub(crate) fn mix_words(mut h: u64, bytes: &[u8], k: u64) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(5) ^ w).wrapping_mul(k);
    }
    let tail = words
        .remainder()
        .iter()
        .enumerate()
        .fold(0u64, |t, (i, &b)| t | u64::from(b) << (8 * i));
    (h.rotate_left(5) ^ tail).wrapping_mul(k)
}

/// The hasher of [`BuildWordHasher`].
#[derive(Debug)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        self.0 ^= mix_words((bytes.len() as u64) << 32, bytes, K);
    }
}

impl Interner {
    /// How many distinct values one interner remembers (a few megabytes
    /// at most).
    pub const MAX: usize = 1 << 16;

    /// The shared copy of `b`, made (and remembered) if there is none
    /// yet: as [`Interner::share`] of a new text, without making one
    /// when the bytes are known.
    pub fn text(&mut self, b: &[u8]) -> Text {
        if b.is_empty() {
            return Text::from(b);
        }
        if let Some(s) = self.seen.get(b) {
            return s.clone();
        }
        let t = Text::from(b);
        if self.seen.len() < Self::MAX {
            self.seen.insert(t.clone());
        }
        t
    }

    /// `t`, or the shared copy of its bytes if one exists (and `t` becomes
    /// the shared copy if not).
    pub fn share(&mut self, t: &mut Text) {
        if t.is_empty() {
            return;
        }
        if let Some(s) = self.seen.get(t.as_bytes()) {
            *t = s.clone();
        } else if self.seen.len() < Self::MAX {
            self.seen.insert(t.clone());
        }
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn text_is_one_pointer_and_interning_shares() {
        assert_eq!(std::mem::size_of::<Text>(), 8);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 8);
        let mut i = Interner::default();
        let mut a = Text::from(&b"/checkout/"[..]);
        i.share(&mut a);
        let mut c = Text::from(&b"/checkout/"[..]);
        assert_eq!(a, c);
        assert!(!std::ptr::eq(a.as_bytes(), c.as_bytes()));
        i.share(&mut c);
        assert!(std::ptr::eq(a.as_bytes(), c.as_bytes()));
        assert!(Text::from(&b""[..]).is_empty());
        assert_eq!(Text::default(), Text::from(Vec::new()));
    }
}
