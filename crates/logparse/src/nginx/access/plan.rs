//! `log_format` strings compiled into a parse plan: literal separators and
//! typed fields, matched left to right with `memchr`, no regex.
//!
//! Accepted input, as `nginx -T` shows it or as the bare format:
//!
//! ```text
//! log_format timing escape=json '$remote_addr - $remote_user [$time_local] '
//!                               '"$request" $status rt=$request_time';
//! '$remote_addr - $remote_user [$time_local] "$request" $status'
//! $remote_addr - $remote_user [$time_local] "$request" $status
//! ```
//!
//! The `log_format` keyword and name are optional; so is `escape=json`,
//! `escape=default` or `escape=none`. Quoted pieces (`'...'` or `"..."`,
//! with nginx's `\"`, `\'`, `\\`, `\n`, `\t`, `\r` escapes) are joined; an
//! unquoted string is taken as is. Variables are `$name` or `${name}`;
//! the nginx variables listed in the crate docs are typed, any other is kept as an
//! extra under its name. Two variables must be separated by a literal.
//!
//! Matching: each field's value runs up to the first occurrence of the
//! literal after it (for `$upstream_*` list variables, a space inside `, ` or
//! ` : ` does not end the value; with `escape=json`, a `\"` does not end
//! it); the last field, if nothing follows it, takes the rest of the line.
//! Bytes after the last literal are ignored.

use std::sync::{Mutex, OnceLock};

use memchr::memchr;

use crate::error::{Error, SkipReason};
use crate::time::TimeLocalCache;

use super::AccessRecord;
use super::field::{Builder, Var};

/// Where a field's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Known(Var),
    Extra(&'static str),
}

/// How to find the literal that ends a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    Plain,
    /// A space inside `, ` or ` : ` belongs to the value.
    List,
    /// A `"` after an odd number of backslashes belongs to the value.
    JsonEscaped,
}

#[derive(Debug, Clone)]
struct Step {
    slot: Slot,
    search: Search,
    /// The literal after the field; empty for a field that ends the format.
    lit: Box<[u8]>,
}

/// A compiled `log_format`.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    lead: Box<[u8]>,
    steps: Box<[Step]>,
}

/// Interns a variable name, so records can borrow it for any lifetime.
/// Memory grows with the number of distinct names only.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(n);
    n
}

/// Reads nginx config quoted pieces, joined.
fn unquote(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            q @ (b'\'' | b'"') => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => {
                            return Err(Error::config("log_format: unterminated quoted string"));
                        }
                        Some(&c) if c == q => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') if i + 1 < b.len() => {
                            match b[i + 1] {
                                b'n' => out.push(b'\n'),
                                b't' => out.push(b'\t'),
                                b'r' => out.push(b'\r'),
                                c @ (b'"' | b'\'' | b'\\' | b'$') => out.push(c),
                                c => out.extend_from_slice(&[b'\\', c]),
                            }
                            i += 2;
                        }
                        Some(&c) => {
                            out.push(c);
                            i += 1;
                        }
                    }
                }
            }
            _ => {
                return Err(Error::config(
                    "log_format: text outside quotes between quoted pieces",
                ));
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::config("log_format: not UTF-8"))
}

impl Plan {
    /// Compiles a format string (see the module docs for what is accepted).
    pub(crate) fn compile(format: &str) -> Result<Plan, Error> {
        let mut s = format.trim();
        s = s.strip_suffix(';').unwrap_or(s).trim_end();
        if let Some(rest) = s.strip_prefix("log_format")
            && rest.starts_with(|c: char| c.is_ascii_whitespace())
        {
            let rest = rest.trim_start();
            let name_end = rest
                .find(|c: char| c.is_ascii_whitespace())
                .ok_or_else(|| Error::config("log_format: no format after the name"))?;
            s = rest[name_end..].trim_start();
        }
        let mut json = false;
        if let Some(rest) = s.strip_prefix("escape=") {
            let end = rest
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            json = match &rest[..end] {
                "json" => true,
                "default" | "none" => false,
                other => {
                    return Err(Error::config(format!("log_format: unknown escape={other}")));
                }
            };
            s = rest[end..].trim_start();
        }
        let body = if s.starts_with('\'') || s.starts_with('"') {
            unquote(s)?
        } else {
            s.to_owned()
        };
        Plan::from_body(body.as_bytes(), json)
    }

    fn from_body(body: &[u8], json: bool) -> Result<Plan, Error> {
        let mut lead = Vec::new();
        let mut steps: Vec<Step> = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        while i < body.len() {
            let c = body[i];
            if c != b'$' {
                lit.push(c);
                i += 1;
                continue;
            }
            let (name, next) = if body.get(i + 1) == Some(&b'{') {
                let end = body[i + 2..]
                    .iter()
                    .position(|&c| c == b'}')
                    .ok_or_else(|| Error::config("log_format: unterminated ${"))?;
                (&body[i + 2..i + 2 + end], i + 3 + end)
            } else {
                let n = body[i + 1..].iter().take_while(|&&c| is_name(c)).count();
                (&body[i + 1..i + 1 + n], i + 1 + n)
            };
            if name.is_empty() || !name.iter().all(|&c| is_name(c)) {
                lit.push(c);
                i += 1;
                continue;
            }
            // The literal collected so far ends the previous field.
            match steps.last_mut() {
                None => lead = std::mem::take(&mut lit),
                Some(prev) => {
                    if lit.is_empty() {
                        return Err(Error::config(format!(
                            "log_format: ${} follows another variable with nothing between them",
                            String::from_utf8_lossy(name)
                        )));
                    }
                    prev.lit = std::mem::take(&mut lit).into_boxed_slice();
                }
            }
            let slot = match Var::from_name(name) {
                Some(v) => Slot::Known(v),
                None => Slot::Extra(intern(std::str::from_utf8(name).unwrap_or("?"))),
            };
            let search = match slot {
                _ if json => Search::JsonEscaped,
                Slot::Known(v) if v.is_list() => Search::List,
                Slot::Extra(n) if n.starts_with("upstream_") => Search::List,
                _ => Search::Plain,
            };
            steps.push(Step {
                slot,
                search,
                lit: Box::default(),
            });
            i = next;
        }
        match steps.last_mut() {
            None => return Err(Error::config("log_format: no variables in the format")),
            Some(last) => last.lit = lit.into_boxed_slice(),
        }
        Ok(Plan {
            lead: lead.into_boxed_slice(),
            steps: steps.into_boxed_slice(),
        })
    }

    /// Parses one line.
    pub(crate) fn parse<'a>(
        &self,
        line: &'a [u8],
        cache: &mut TimeLocalCache,
    ) -> Result<AccessRecord<'a>, SkipReason> {
        let mut rec = AccessRecord::default();
        let mut b = Builder::new(&mut rec);
        if !line.starts_with(&self.lead) {
            return Err(if self.lead.starts_with(line) {
                SkipReason::Truncated
            } else {
                SkipReason::Unrecognized
            });
        }
        let mut i = self.lead.len();
        for (n, step) in self.steps.iter().enumerate() {
            let rest = &line[i..];
            let (value, next) = if step.lit.is_empty() {
                (rest, line.len())
            } else {
                match find(rest, &step.lit, step.search) {
                    Some(p) => (&rest[..p], i + p + step.lit.len()),
                    None if n == 0 => return Err(SkipReason::Unrecognized),
                    None => return Err(SkipReason::Truncated),
                }
            };
            match step.slot {
                Slot::Known(var) => b.set(var, value, cache)?,
                Slot::Extra(name) => b.rec.extras.push(name.as_bytes(), value),
            }
            i = next;
        }
        b.finish();
        Ok(rec)
    }
}

/// The first occurrence of `lit` in `hay` that ends a value.
#[inline]
fn find(hay: &[u8], lit: &[u8], search: Search) -> Option<usize> {
    let first = lit[0];
    let mut from = 0;
    loop {
        let p = from + memchr(first, &hay[from..])?;
        if hay[p..].starts_with(lit) && ends_value(hay, p, first, search) {
            return Some(p);
        }
        from = p + 1;
    }
}

#[inline]
fn ends_value(hay: &[u8], p: usize, first: u8, search: Search) -> bool {
    match search {
        Search::Plain => true,
        Search::List => {
            first != b' '
                || !((p > 0 && hay[p - 1] == b',')
                    || (hay.get(p + 1) == Some(&b':') && hay.get(p + 2) == Some(&b' '))
                    || (p >= 2 && hay[p - 1] == b':' && hay[p - 2] == b' '))
        }
        Search::JsonEscaped => {
            let backslashes = hay[..p].iter().rev().take_while(|&&c| c == b'\\').count();
            backslashes % 2 == 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_forms_agree() {
        let a = Plan::compile(
            "log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '\n    '$status ${body_bytes_sent}';",
        )
        .unwrap();
        let b = Plan::compile(
            "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent",
        )
        .unwrap();
        assert_eq!(a.lead, b.lead);
        assert_eq!(a.steps.len(), 6);
        for (x, y) in a.steps.iter().zip(b.steps.iter()) {
            assert_eq!((x.slot, &x.lit), (y.slot, &y.lit));
        }
        assert_eq!(&*a.steps[0].lit, b" - ");
        assert_eq!(&*a.steps[5].lit, b"");
    }

    #[test]
    fn compile_errors() {
        assert!(Plan::compile("$remote_addr$remote_user").is_err());
        assert!(Plan::compile("no variables").is_err());
        assert!(Plan::compile("escape=xml '$status'").is_err());
        assert!(Plan::compile("'$status").is_err());
    }

    #[test]
    fn list_search_skips_list_separators() {
        let h = b"1.1.1.1:80, 2.2.2.2:80 : 3.3.3.3:80 298";
        assert_eq!(find(h, b" ", Search::List), Some(35));
        assert_eq!(find(h, b" ", Search::Plain), Some(11));
        assert_eq!(find(br#"a\"b","x"#, b"\",", Search::JsonEscaped), Some(4));
    }
}
