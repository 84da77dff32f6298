//! Rendering: the libraries return data, this layer turns it into text or
//! JSON.

pub mod html;
pub mod json;
pub mod report_json;
pub mod report_text;
pub mod text;
pub mod words;

#[cfg(test)]
pub(crate) mod testing;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Escapes raw log bytes for display: valid UTF-8 is kept, control
/// characters, a backslash and invalid bytes become `\n`, `\t`, `\\`,
/// `\xHH`. Log lines are attacker-chosen text; this never lets a byte
/// through that could act on a terminal.
pub fn escape_bytes(bytes: &[u8]) -> String {
    // One escaping for the report's evidence and every other output.
    baton_logparse::text::escape(bytes)
}

/// Opens the output: the `-o` file, or standard output.
pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_invalid_utf8() {
        assert_eq!(
            escape_bytes(b"GET /\x16\x03\x01 \xff\xfe ok\\"),
            "GET /\\x16\\x03\\x01 \\xff\\xfe ok\\\\"
        );
        assert_eq!(
            escape_bytes("héllo\t\u{1b}[31m".as_bytes()),
            "héllo\\t\\x1b[31m"
        );
        assert_eq!(escape_bytes(b"a\r\nb\0"), "a\\r\\nb\\x00");
    }
}
