//! php-fpm's configuration: its ini files (`php-fpm.conf`, `pool.d/*.conf`)
//! or the dump `php-fpm -tt` writes to stderr, each line prefixed with its
//! time and level.
//!
//! ```text
//! [05-Dec-2026 19:59:39] NOTICE: [www]
//! [05-Dec-2026 19:59:39] NOTICE:     listen = /run/php/php8.2-fpm.sock
//! [05-Dec-2026 19:59:39] NOTICE:     pm.max_children = 5
//! ```
//!
//! A line is a `[section]` (`global` or a pool's name), a `key = value`
//! (the value unquoted, a trailing `; comment` dropped), a `;` or `#`
//! comment, or blank. In a dump, `undefined` (and `unknown value`) mean
//! unset; the dump's own lines (`configuration file ... test is
//! successful`) are parsed lines too.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{is_not, tag, take_till, take_while, take_while1};
use nom::character::complete::char;
use nom::sequence::delimited;
use serde::Serialize;

use super::{LineMarks, Mark, Ref, Setting, split_input, text};
use crate::scan::Tally;

/// One `key = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key (`pm.max_children`, `php_admin_value[memory_limit]`).
    pub key: String,
    /// The value, unquoted, comment dropped.
    pub value: String,
    /// Its line (1-based).
    pub line: u32,
}

/// A `[section]` and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its name (`global`, or a pool's); empty for entries before any
    /// section.
    pub name: String,
    /// Its line (0 for the unnamed section).
    pub line: u32,
    /// Its entries, in order.
    pub entries: Vec<Entry>,
}

/// One parsed `fpm-config` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpmConfig {
    /// The input's name (its refs' file).
    pub file: String,
    /// Its sections, in order.
    pub sections: Vec<Section>,
    /// Whether it is a `php-fpm -tt` dump.
    pub dump: bool,
    /// Line accounting.
    pub tally: Tally,
}

/// The `[05-Dec-2026 19:59:39] NOTICE: ` prefix of a dump line: the level.
fn dump_prefix(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = delimited(char('['), is_not("]\n"), char(']')).parse_complete(i)?;
    let (i, _) = tag(&b" "[..])(i)?;
    let (i, level) = take_while1(|c: u8| c.is_ascii_uppercase())(i)?;
    let (i, _) = tag(&b":"[..])(i)?;
    let (i, _) = take_while(|c| c == b' ')(i)?;
    Ok((i, level))
}

/// `[name]`, with nothing but spaces after it.
fn section(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, name) = delimited(char('['), is_not("]\n"), char(']')).parse_complete(i)?;
    let (i, _) = take_while(|c: u8| c == b' ' || c == b'\t')(i)?;
    nom::combinator::eof(i)?;
    Ok((i, name.trim_ascii()))
}

/// `key = value`.
fn entry(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (i, key) = take_while1(|c: u8| c != b'=')(i)?;
    let (i, _) = char('=')(i)?;
    let key = key.trim_ascii();
    if key.is_empty() || key.iter().any(|&c| c == b' ' || c == b'\t') && !key.contains(&b'[') {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((&i[i.len()..], (key, value_of(i))))
}

/// A value: trimmed, a `;` comment outside quotes dropped, one pair of
/// quotes removed.
fn value_of(v: &[u8]) -> &[u8] {
    let mut quote = None;
    let mut end = v.len();
    for (n, &c) in v.iter().enumerate() {
        match (c, quote) {
            (b'"' | b'\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (b';', None) => {
                end = n;
                break;
            }
            _ => {}
        }
    }
    let v = v[..end].trim_ascii();
    match v {
        [b'"', body @ .., b'"'] | [b'\'', body @ .., b'\''] => body,
        _ => v,
    }
}

/// A comment line's body.
fn comment(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = nom::branch::alt((char(';'), char('#'))).parse_complete(i)?;
    take_till(|_| false)(i)
}

/// Parses one input. Never fails: lines that are none of the grammar's
/// are counted as skipped.
pub fn parse(input: &[u8], name: &str) -> FpmConfig {
    let (input, extra_bytes, extra_lines) = split_input(input);
    let mut marks = LineMarks::new(input);
    let mut sections = vec![Section {
        name: String::new(),
        line: 0,
        entries: Vec::new(),
    }];
    let mut dump = false;
    for n in 0..marks.starts.len() {
        let start = marks.starts[n];
        let raw = marks.line(n);
        let mut l = raw;
        let mut prefixed = false;
        if let Ok((rest, level)) = dump_prefix(l) {
            if level != b"NOTICE" {
                marks.mark(start, start + raw.len(), Mark::Bad);
                continue;
            }
            dump = true;
            prefixed = true;
            l = rest;
        }
        let l = l.trim_ascii();
        let line = n as u32 + 1;
        let m = if l.is_empty() {
            if prefixed {
                Mark::Parsed
            } else {
                Mark::Untouched
            }
        } else if comment(l).is_ok() {
            Mark::Parsed
        } else if let Ok((_, name)) = section(l) {
            sections.push(Section {
                name: text(name),
                line,
                entries: Vec::new(),
            });
            Mark::Parsed
        } else if let Ok((_, (key, value))) = entry(l) {
            let s = sections.last_mut().expect("never empty");
            s.entries.push(Entry {
                key: text(key),
                value: text(value),
                line,
            });
            Mark::Parsed
        } else if prefixed
            && l.starts_with(b"configuration file ")
            && l.ends_with(b" test is successful")
        {
            Mark::Parsed
        } else {
            Mark::Bad
        };
        marks.mark(start, start + raw.len(), m);
    }
    if sections[0].entries.is_empty() {
        sections.remove(0);
    }
    FpmConfig {
        file: name.to_string(),
        sections,
        dump,
        tally: marks.tally(extra_bytes, extra_lines),
    }
}

/// Keys that make text a php-fpm configuration (detection).
const KNOWN: &[&str] = &[
    "pm",
    "pm.max_children",
    "listen",
    "pid",
    "error_log",
    "include",
    "user",
    "group",
    "listen.owner",
    "request_terminate_timeout",
];

/// Whether `sample` reads as a php-fpm configuration: a `-tt` dump's
/// `[global]` or pool header, or nine lines in ten of ini syntax with a
/// section and a key php-fpm knows.
pub fn looks_like(sample: &[u8]) -> bool {
    let c = parse(sample, "-");
    let nonempty = c.tally.lines - c.tally.skipped_for(crate::SkipReason::Empty);
    let entries = c.sections.iter().flat_map(|s| &s.entries);
    let known = entries
        .clone()
        .filter(|e| KNOWN.contains(&e.key.as_str()))
        .count();
    let named = c.sections.iter().any(|s| !s.name.is_empty());
    named && known > 0 && nonempty > 0 && c.tally.parsed * 10 >= nonempty * 9
}

// ---------------------------------------------------------------------
// Facts.

/// A pool's settings that bear on a 502/504 (`None`: not set, or
/// `undefined` in a dump).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// Where its section starts.
    pub at: Ref,
    /// `user`.
    pub user: Option<Setting<String>>,
    /// `group`.
    pub group: Option<Setting<String>>,
    /// `listen`: a socket path, or `[addr:]port`.
    pub listen: Option<Setting<String>>,
    /// `listen.owner`.
    pub listen_owner: Option<Setting<String>>,
    /// `listen.group`.
    pub listen_group: Option<Setting<String>>,
    /// `listen.mode` (default 0660).
    pub listen_mode: Option<Setting<String>>,
    /// `listen.acl_users`.
    pub listen_acl_users: Option<Setting<String>>,
    /// `listen.acl_groups`.
    pub listen_acl_groups: Option<Setting<String>>,
    /// `listen.backlog` (-1: the system's maximum).
    pub listen_backlog: Option<Setting<i64>>,
    /// `pm` (`static`, `dynamic`, `ondemand`).
    pub pm: Option<Setting<String>>,
    /// `pm.max_children`.
    pub max_children: Option<Setting<u64>>,
    /// `pm.start_servers`.
    pub start_servers: Option<Setting<u64>>,
    /// `pm.min_spare_servers`.
    pub min_spare_servers: Option<Setting<u64>>,
    /// `pm.max_spare_servers`.
    pub max_spare_servers: Option<Setting<u64>>,
    /// `request_terminate_timeout` (seconds; 0: never).
    pub request_terminate_timeout: Option<Setting<f64>>,
    /// `request_slowlog_timeout` (seconds; 0: off).
    pub request_slowlog_timeout: Option<Setting<f64>>,
    /// `slowlog`.
    pub slowlog: Option<Setting<String>>,
    /// `memory_limit` from `php_admin_value` or `php_value` (bytes; -1:
    /// none).
    pub memory_limit: Option<Setting<i64>>,
    /// `catch_workers_output`.
    pub catch_workers_output: Option<Setting<bool>>,
    /// `decorate_workers_output`.
    pub decorate_workers_output: Option<Setting<bool>>,
    /// Entries baton does not interpret.
    pub other: u64,
}

impl Pool {
    fn new(name: &str, at: Ref) -> Pool {
        Pool {
            name: name.to_string(),
            at,
            user: None,
            group: None,
            listen: None,
            listen_owner: None,
            listen_group: None,
            listen_mode: None,
            listen_acl_users: None,
            listen_acl_groups: None,
            listen_backlog: None,
            pm: None,
            max_children: None,
            start_servers: None,
            min_spare_servers: None,
            max_spare_servers: None,
            request_terminate_timeout: None,
            request_slowlog_timeout: None,
            slowlog: None,
            memory_limit: None,
            catch_workers_output: None,
            decorate_workers_output: None,
            other: 0,
        }
    }

    /// Whether `listen` is a Unix socket (a path).
    pub fn listens_on_socket(&self) -> bool {
        self.listen
            .as_ref()
            .is_some_and(|l| l.value.starts_with('/'))
    }

    /// `listen.mode` as a number (0660 when unset or unreadable).
    pub fn mode(&self) -> u32 {
        self.listen_mode
            .as_ref()
            .and_then(|m| u32::from_str_radix(m.value.trim_start_matches("0o"), 8).ok())
            .unwrap_or(0o660)
    }
}

/// What php-fpm's configuration says.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FpmFacts {
    /// `[global]` `error_log`.
    pub error_log: Option<Setting<String>>,
    /// `[global]` `log_level`.
    pub log_level: Option<Setting<String>>,
    /// The pools, by first appearance.
    pub pools: Vec<Pool>,
}

fn unset(v: &str) -> bool {
    v.is_empty() || v == "undefined" || v == "unknown value"
}

fn yes(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" => Some(true),
        "no" | "off" | "false" | "0" | "" => Some(false),
        _ => None,
    }
}

/// A PHP size (`256M`, `-1`): bytes, -1 for no limit.
fn php_size(v: &str) -> Option<i64> {
    if v.trim() == "-1" {
        return Some(-1);
    }
    super::parse_size(v).and_then(|b| i64::try_from(b).ok())
}

/// Resolves the facts of one or more inputs: `[global]` sections give the
/// globals, the others pools (a pool named twice is one pool, later
/// entries winning).
pub fn facts(configs: &[&FpmConfig]) -> FpmFacts {
    let mut f = FpmFacts::default();
    for c in configs {
        for s in &c.sections {
            let at = |line: u32| Ref {
                file: c.file.clone(),
                line,
            };
            if s.name.is_empty() || s.name == "global" {
                for e in &s.entries {
                    let v = Some(Setting {
                        value: e.value.clone(),
                        at: Some(at(e.line)),
                    })
                    .filter(|_| !unset(&e.value));
                    match e.key.as_str() {
                        "error_log" => f.error_log = v.or(f.error_log.take()),
                        "log_level" => f.log_level = v.or(f.log_level.take()),
                        _ => {}
                    }
                }
                if s.name.is_empty() && !s.entries.iter().any(|e| e.key == "listen") {
                    continue;
                }
                if s.name == "global" {
                    continue;
                }
            }
            let k = match f.pools.iter().position(|p| p.name == s.name) {
                Some(k) => k,
                None => {
                    f.pools.push(Pool::new(&s.name, at(s.line)));
                    f.pools.len() - 1
                }
            };
            let pool = &mut f.pools[k];
            for e in &s.entries {
                let value = e.value.replace("$pool", &s.name);
                if unset(&value) {
                    continue;
                }
                let here = Some(at(e.line));
                let string = || {
                    Some(Setting {
                        value: value.clone(),
                        at: here.clone(),
                    })
                };
                let num = || {
                    value.trim().parse::<u64>().ok().map(|v| Setting {
                        value: v,
                        at: here.clone(),
                    })
                };
                let secs = || {
                    super::parse_seconds(&value).map(|v| Setting {
                        value: v,
                        at: here.clone(),
                    })
                };
                let flag = || {
                    yes(&value).map(|v| Setting {
                        value: v,
                        at: here.clone(),
                    })
                };
                match e.key.as_str() {
                    "user" => pool.user = string(),
                    "group" => pool.group = string(),
                    "listen" => pool.listen = string(),
                    "listen.owner" => pool.listen_owner = string(),
                    "listen.group" => pool.listen_group = string(),
                    "listen.mode" => pool.listen_mode = string(),
                    "listen.acl_users" => pool.listen_acl_users = string(),
                    "listen.acl_groups" => pool.listen_acl_groups = string(),
                    "listen.backlog" => {
                        pool.listen_backlog = value.trim().parse().ok().map(|v| Setting {
                            value: v,
                            at: here.clone(),
                        })
                    }
                    "pm" => pool.pm = string(),
                    "pm.max_children" => pool.max_children = num(),
                    "pm.start_servers" => pool.start_servers = num(),
                    "pm.min_spare_servers" => pool.min_spare_servers = num(),
                    "pm.max_spare_servers" => pool.max_spare_servers = num(),
                    "request_terminate_timeout" => pool.request_terminate_timeout = secs(),
                    "request_slowlog_timeout" => pool.request_slowlog_timeout = secs(),
                    "slowlog" => pool.slowlog = string(),
                    "catch_workers_output" => pool.catch_workers_output = flag(),
                    "decorate_workers_output" => pool.decorate_workers_output = flag(),
                    "php_admin_value[memory_limit]" => {
                        pool.memory_limit = php_size(&value).map(|v| Setting {
                            value: v,
                            at: here.clone(),
                        })
                    }
                    // php_value yields to php_admin_value.
                    "php_value[memory_limit]"
                        if pool
                            .memory_limit
                            .as_ref()
                            .is_none_or(|m| !is_admin(c, m.at.as_ref())) =>
                    {
                        pool.memory_limit = php_size(&value).map(|v| Setting {
                            value: v,
                            at: here.clone(),
                        })
                    }
                    _ => pool.other += 1,
                }
            }
        }
    }
    f
}

/// Whether the entry at `at` is a `php_admin_value`.
fn is_admin(c: &FpmConfig, at: Option<&Ref>) -> bool {
    let Some(at) = at else { return false };
    at.file == c.file
        && c.sections
            .iter()
            .flat_map(|s| &s.entries)
            .any(|e| e.line == at.line && e.key.starts_with("php_admin_value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            dump_prefix(b"[05-Dec-2026 19:59:39] NOTICE: \tpm = static"),
            Ok((&b"\tpm = static"[..], &b"NOTICE"[..]))
        );
        assert!(dump_prefix(b"[www]").is_err());
        assert_eq!(section(b"[www] "), Ok((&b""[..], &b"www"[..])));
        assert!(section(b"[www] x").is_err());
        assert_eq!(
            entry(b"listen = /run/a.sock ; comment"),
            Ok((&b""[..], (&b"listen"[..], &b"/run/a.sock"[..])))
        );
        assert_eq!(
            entry(b"php_admin_value[memory_limit] = \"256M\""),
            Ok((
                &b""[..],
                (&b"php_admin_value[memory_limit]"[..], &b"256M"[..])
            ))
        );
        assert_eq!(
            entry(b"slowlog="),
            Ok((&b""[..], (&b"slowlog"[..], &b""[..])))
        );
        assert!(entry(b"= x").is_err());
        assert!(entry(b"two words = x").is_err());
        assert!(entry(b"nothing").is_err());
    }

    #[test]
    fn pool_file() {
        let c = parse(
            b"; a pool\n[shop]\nuser = shop\nlisten = 127.0.0.1:9001\npm = static\npm.max_children = 12\n\nslowlog = /var/log/$pool.slow\nrequest_slowlog_timeout = 5s\nphp_value[memory_limit] = 128M\nphp_admin_value[memory_limit] = 256M\nsomething = else\nnot a line\n",
            "shop.conf",
        );
        assert!(!c.dump);
        assert_eq!(
            (c.tally.lines, c.tally.parsed, c.tally.skipped()),
            (13, 11, 2)
        );
        let f = facts(&[&c]);
        let p = &f.pools[0];
        assert_eq!(p.name, "shop");
        assert_eq!(
            p.at,
            Ref {
                file: "shop.conf".into(),
                line: 2
            }
        );
        assert_eq!(p.listen.as_ref().unwrap().value, "127.0.0.1:9001");
        assert_eq!(p.pm.as_ref().unwrap().value, "static");
        assert_eq!(p.max_children.as_ref().unwrap().value, 12);
        assert_eq!(p.slowlog.as_ref().unwrap().value, "/var/log/shop.slow");
        assert_eq!(p.request_slowlog_timeout.as_ref().unwrap().value, 5.0);
        assert_eq!(p.memory_limit.as_ref().unwrap().value, 256 << 20);
        assert_eq!(p.other, 1);
        assert_eq!(p.mode(), 0o660);
        assert!(!p.listens_on_socket());
    }

    #[test]
    fn detection() {
        assert!(looks_like(b"[global]\npid = /run/php.pid\n"));
        assert!(looks_like(
            b"[05-Dec-2026 19:59:39] NOTICE: [www]\n[05-Dec-2026 19:59:39] NOTICE: \tpm = dynamic\n"
        ));
        assert!(!looks_like(
            b"[24-Nov-2026 11:16:52] NOTICE: fpm is running, pid 3399\n[24-Nov-2026 11:16:52] NOTICE: ready to handle connections\n"
        ));
        assert!(!looks_like(b"a = b\n"));
    }
}
