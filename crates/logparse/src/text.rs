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
