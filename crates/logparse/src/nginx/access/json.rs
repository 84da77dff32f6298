//! JSON lines whose keys are nginx variable names without `$`.
//!
//! ```text
//! {"time_iso8601":"2026-11-24T11:16:54+00:00","remote_addr":"127.0.0.1","request":"GET /ok.php HTTP/1.1","status":200,"request_time":0.001,"upstream_status":"200"}
//! ```
//!
//! Values are borrowed raw, escapes undecoded: nginx `escape=json` writes
//! `\"`, `\\` and `\uXXXX`, `escape=default` writes `\xHH`, and both stay
//! as written. Numbers may be bare or quoted; `null`, `""` and `"-"` are
//! absent. Keys that are not known variables are kept as extras; nested
//! objects and arrays are kept whole as raw extras. An object with neither
//! `status` nor `request` is not an access record.

use memchr::memchr2;

use crate::error::SkipReason;
use crate::time::TimeLocalCache;

use super::AccessRecord;
use super::field::{Builder, Var};

#[inline]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end (index of the closing quote) of a string whose content starts at `i`.
#[inline]
fn string_end(s: &[u8], mut i: usize) -> Result<usize, SkipReason> {
    loop {
        match memchr2(b'"', b'\\', &s[i..]) {
            None => return Err(SkipReason::Truncated),
            Some(j) if s[i + j] == b'"' => return Ok(i + j),
            Some(j) => i += j + 2,
        }
        if i > s.len() {
            return Err(SkipReason::Truncated);
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
                depth -= 1;
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

/// Parses one JSON line.
pub(crate) fn parse<'a>(
    line: &'a [u8],
    cache: &mut TimeLocalCache,
) -> Result<AccessRecord<'a>, SkipReason> {
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return Err(SkipReason::Unrecognized);
    }
    i += 1;
    let mut rec = AccessRecord::default();
    let mut b = Builder::new(&mut rec);
    let mut known = false;
    let mut first = true;
    loop {
        i = skip_ws(line, i);
        match line.get(i) {
            None => return Err(SkipReason::Truncated),
            Some(b'}') if first => {
                i += 1;
                break;
            }
            Some(b'"') => {}
            Some(_) => return Err(SkipReason::BadJson),
        }
        first = false;
        let key_end = string_end(line, i + 1)?;
        let key = &line[i + 1..key_end];
        i = skip_ws(line, key_end + 1);
        match line.get(i) {
            Some(b':') => i = skip_ws(line, i + 1),
            Some(_) => return Err(SkipReason::BadJson),
            None => return Err(SkipReason::Truncated),
        }
        let value = match line.get(i) {
            None => return Err(SkipReason::Truncated),
            Some(b'"') => {
                let end = string_end(line, i + 1)?;
                let v = &line[i + 1..end];
                i = end + 1;
                v
            }
            Some(b'{' | b'[') => {
                let end = nested_end(line, i)?;
                let v = &line[i..end];
                i = end;
                v
            }
            Some(_) => {
                let start = i;
                while i < line.len() && !matches!(line[i], b',' | b'}' | b' ' | b'\t' | b'\r') {
                    i += 1;
                }
                let v = &line[start..i];
                if v.is_empty() {
                    return Err(SkipReason::BadJson);
                }
                if v == b"null" { &b""[..] } else { v }
            }
        };
        match Var::from_name(key) {
            Some(var) => {
                known |= matches!(var, Var::Status | Var::Request);
                b.set(var, value, cache)?;
            }
            None => b.rec.extras.push(key, value),
        }
        i = skip_ws(line, i);
        match line.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {
                i += 1;
                break;
            }
            Some(_) => return Err(SkipReason::BadJson),
            None => return Err(SkipReason::Truncated),
        }
    }
    if skip_ws(line, i) != line.len() {
        return Err(SkipReason::BadJson);
    }
    if !known {
        return Err(SkipReason::Unrecognized);
    }
    b.finish();
    Ok(rec)
}
