//! A borrowing scanner for the flat JSON objects logs are written as (nginx
//! `escape=json` access lines, Cloudflare Logpush, `journalctl -o json`).
//!
//! It walks one object's members without allocating or decoding: string
//! values are returned as written (escapes undecoded), nested objects and
//! arrays whole, numbers and literals as their bytes. Input that ends
//! early is [`SkipReason::Truncated`]; input that is not JSON is
//! [`SkipReason::BadJson`] (or [`SkipReason::Unrecognized`] when it does
//! not even start with `{`).

use memchr::memchr2;

use crate::error::SkipReason;

/// A member's value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A string's content, escapes undecoded.
    Str(&'a [u8]),
    /// A number, `true`, `false` or `null`, as written.
    Bare(&'a [u8]),
    /// A nested object, braces included.
    Object(&'a [u8]),
    /// A nested array, brackets included.
    Array(&'a [u8]),
}

#[inline]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The index of the closing quote of a string whose content starts at `i`.
#[inline]
fn string_end(s: &[u8], mut i: usize) -> Result<usize, SkipReason> {
    loop {
        match memchr2(b'"', b'\\', s.get(i..).ok_or(SkipReason::Truncated)?) {
            None => return Err(SkipReason::Truncated),
            Some(j) if s[i + j] == b'"' => return Ok(i + j),
            Some(j) => i += j + 2,
        }
    }
}

/// The end (exclusive) of a nested object or array starting at `i`.
fn nested_end(s: &[u8], mut i: usize) -> Result<usize, SkipReason> {
    let mut depth = 0usize;
    while i < s.len() {
        match s[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(SkipReason::BadJson)?;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b'"' => i = string_end(s, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    Err(SkipReason::Truncated)
}

/// The members of the JSON object on one line, in order.
pub(crate) struct Members<'a> {
    s: &'a [u8],
    i: usize,
    first: bool,
}

impl<'a> Members<'a> {
    /// Starts on `line`; `Unrecognized` when it does not open an object.
    #[inline]
    pub(crate) fn new(line: &'a [u8]) -> Result<Members<'a>, SkipReason> {
        let i = skip_ws(line, 0);
        if line.get(i) != Some(&b'{') {
            return Err(SkipReason::Unrecognized);
        }
        Ok(Members {
            s: line,
            i: i + 1,
            first: true,
        })
    }

    /// The next member, or `None` after the closing brace (which must end
    /// the line, but for white space).
    #[inline]
    pub(crate) fn next_member(&mut self) -> Result<Option<(&'a [u8], Value<'a>)>, SkipReason> {
        let s = self.s;
        let mut i = skip_ws(s, self.i);
        match s.get(i) {
            None => return Err(SkipReason::Truncated),
            Some(b'}') => {}
            Some(b',') if !self.first => {
                i = skip_ws(s, i + 1);
                if s.get(i).is_none() {
                    return Err(SkipReason::Truncated);
                }
                if s[i] != b'"' {
                    return Err(SkipReason::BadJson);
                }
            }
            Some(b'"') if self.first => {}
            Some(_) => return Err(SkipReason::BadJson),
        }
        if s[i] == b'}' {
            return if skip_ws(s, i + 1) == s.len() {
                Ok(None)
            } else {
                Err(SkipReason::BadJson)
            };
        }
        self.first = false;
        let key_end = string_end(s, i + 1)?;
        let key = &s[i + 1..key_end];
        i = skip_ws(s, key_end + 1);
        match s.get(i) {
            Some(b':') => i = skip_ws(s, i + 1),
            Some(_) => return Err(SkipReason::BadJson),
            None => return Err(SkipReason::Truncated),
        }
        let (value, next) = match s.get(i) {
            None => return Err(SkipReason::Truncated),
            Some(b'"') => {
                let end = string_end(s, i + 1)?;
                (Value::Str(&s[i + 1..end]), end + 1)
            }
            Some(b'{') => {
                let end = nested_end(s, i)?;
                (Value::Object(&s[i..end]), end)
            }
            Some(b'[') => {
                let end = nested_end(s, i)?;
                (Value::Array(&s[i..end]), end)
            }
            Some(b',' | b'}' | b']' | b':') => return Err(SkipReason::BadJson),
            Some(_) => {
                let mut end = i;
                while end < s.len() && !matches!(s[end], b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n')
                {
                    end += 1;
                }
                (Value::Bare(&s[i..end]), end)
            }
        };
        self.i = next;
        Ok(Some((key, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(line: &[u8]) -> Result<Vec<(&[u8], Value<'_>)>, SkipReason> {
        let mut m = Members::new(line)?;
        let mut v = Vec::new();
        while let Some(kv) = m.next_member()? {
            v.push(kv);
        }
        Ok(v)
    }

    #[test]
    fn members_in_order_as_written() {
        let got = all(br#" {"a":"x\"y","b":12.5,"c":null,"d":{"e":[1,"}"]},"f":[1,2]} "#).unwrap();
        assert_eq!(
            got,
            [
                (&b"a"[..], Value::Str(br#"x\"y"#)),
                (b"b", Value::Bare(b"12.5")),
                (b"c", Value::Bare(b"null")),
                (b"d", Value::Object(br#"{"e":[1,"}"]}"#)),
                (b"f", Value::Array(b"[1,2]")),
            ]
        );
        assert_eq!(all(b"{}").unwrap(), []);
        assert_eq!(all(b"{ }").unwrap(), []);
    }

    #[test]
    fn reasons() {
        for (line, want) in [
            (&b"x"[..], SkipReason::Unrecognized),
            (b"{", SkipReason::Truncated),
            (br#"{"a":"x"#, SkipReason::Truncated),
            (br#"{"a":1,"#, SkipReason::Truncated),
            (br#"{"a":[1,2"#, SkipReason::Truncated),
            (br#"{"a":"x""#, SkipReason::Truncated),
            (br#"{"a" 1}"#, SkipReason::BadJson),
            (br#"{"a":1} x"#, SkipReason::BadJson),
            (br#"{"a":1,}"#, SkipReason::BadJson),
            (br#"{"a":]}"#, SkipReason::BadJson),
            (br#"{"a":1 "b":2}"#, SkipReason::BadJson),
            (br#"{,"a":1}"#, SkipReason::BadJson),
        ] {
            assert_eq!(all(line), Err(want), "{}", String::from_utf8_lossy(line));
        }
    }
}
