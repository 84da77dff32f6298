//! `--container docker|cri|compose`: the logs the containers wrote to
//! their standard output and error (nginx's access log on stdout, its
//! error log on stderr, php-fpm's log on stderr), in the envelope the
//! runtime writes around them. Files only a container's filesystem or the
//! host holds (the slowlog, the kernel log, the witnesses) stay as they
//! are.
//!
//! - `docker`: the `json-file` driver, one file per container
//!   (`nginx-ID-json.log`, `php-fpm-ID-json.log`), both streams
//!   interleaved: `{"log":"LINE\n","stream":"stderr","time":"...Z"}`, with
//!   Go's JSON escaping (`<`, `>`, `&` as `\u003c`...).
//! - `cri`: containerd's pod logs (`nginx-0.log`, `php-fpm-0.log`):
//!   `TIME STREAM F LINE`.
//! - `compose`: `docker compose logs` of both services into one file,
//!   `compose.log`: `NAME  | LINE`, names padded to the longest.
//!
//! The runtime stamps a line when it reads it: the line's own instant
//! plus a few milliseconds, in UTC with nanoseconds.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, TimeZone};

use crate::clock::Zone;
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Docker,
    Cri,
    Compose,
}

impl Runtime {
    pub fn parse(s: &str) -> Option<Runtime> {
        match s {
            "docker" => Some(Runtime::Docker),
            "cri" => Some(Runtime::Cri),
            "compose" => Some(Runtime::Compose),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Cri => "cri",
            Runtime::Compose => "compose",
        }
    }
}

/// One line a container wrote: when (unix ns), on which stream.
struct Line {
    ns: i64,
    stderr: bool,
    text: Vec<u8>,
}

fn local_to_utc(zone: Zone, local: NaiveDateTime) -> i64 {
    match zone {
        Zone::Fixed(o) => local.and_utc().timestamp() - o as i64,
        Zone::Iana(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map_or(local.and_utc().timestamp(), |t| t.timestamp()),
    }
}

/// The instant of an access-log line (`[24/Nov/2026:11:16:54 +0000]` or
/// JSON's `time_iso8601`).
fn access_time(l: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(l).ok()?;
    if let Some(i) = s.find("\"time_iso8601\":\"") {
        let v = &s[i + 16..];
        let v = &v[..v.find('"')?];
        return Some(DateTime::parse_from_rfc3339(v).ok()?.timestamp());
    }
    let a = s.find('[')?;
    let b = a + s[a..].find(']')?;
    Some(
        DateTime::parse_from_str(&s[a + 1..b], "%d/%b/%Y:%H:%M:%S %z")
            .ok()?
            .timestamp(),
    )
}

fn error_time(zone: Zone, l: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(l.get(..19)?).ok()?;
    let t = NaiveDateTime::parse_from_str(s, "%Y/%m/%d %H:%M:%S").ok()?;
    Some(local_to_utc(zone, t))
}

fn fpm_time(zone: Zone, l: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(l.get(1..21)?).ok()?;
    let t = NaiveDateTime::parse_from_str(s, "%d-%b-%Y %H:%M:%S").ok()?;
    Some(local_to_utc(zone, t))
}

/// A log's lines with the instants the runtime stamps them with.
fn lines(
    path: &Path,
    stderr: bool,
    time: &dyn Fn(&[u8]) -> Option<i64>,
    rng: &mut Rng,
) -> anyhow::Result<Vec<Line>> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    let mut last = 0i64;
    let mut sub = 0i64;
    for l in data.split_inclusive(|&b| b == b'\n') {
        let text = l.strip_suffix(b"\n").unwrap_or(l).to_vec();
        let sec = time(&text).unwrap_or(last / 1_000_000_000);
        let base = sec * 1_000_000_000;
        // Later lines of one second keep their order.
        sub = if base == last - last.rem_euclid(1_000_000_000) {
            sub + 1_000_000 + rng.below(400_000) as i64
        } else {
            2_000_000 + rng.below(3_000_000) as i64
        };
        let ns = base + sub.min(999_999_999);
        last = ns;
        out.push(Line { ns, stderr, text });
    }
    Ok(out)
}

fn rfc3339_ns(ns: i64) -> String {
    let t = DateTime::from_timestamp(
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    )
    .expect("in range");
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Go's `encoding/json` string body (HTML characters escaped, invalid
/// UTF-8 replaced).
fn go_json(out: &mut String, b: &[u8]) {
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

fn merge(mut a: Vec<Line>, b: Vec<Line>) -> Vec<Line> {
    a.extend(b);
    a.sort_by_key(|l| l.ns);
    a
}

/// Rewrites `access.log`, `error.log` and `fpm_log` of `dir` in `rt`'s
/// envelope; returns the files written with their line counts (a line
/// per line the containers wrote).
pub fn wrap(
    dir: &Path,
    rt: Runtime,
    zone: Zone,
    fpm_log: &str,
    seed: u64,
) -> anyhow::Result<Vec<(String, u64)>> {
    let mut rng = Rng::new(seed).fork(0xc0_7a1e);
    let access = lines(&dir.join("access.log"), false, &access_time, &mut rng)?;
    let error = lines(
        &dir.join("error.log"),
        true,
        &|l| error_time(zone, l),
        &mut rng,
    )?;
    let fpm = lines(&dir.join(fpm_log), true, &|l| fpm_time(zone, l), &mut rng)?;
    for f in ["access.log", "error.log", fpm_log] {
        std::fs::remove_file(dir.join(f))?;
    }
    let nginx = merge(access, error);
    let id = |rng: &mut Rng| format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    let mut written = Vec::new();
    let stream = |l: &Line| if l.stderr { "stderr" } else { "stdout" };
    match rt {
        Runtime::Docker | Runtime::Cri => {
            for (name, ls) in [("nginx", &nginx), ("php-fpm", &fpm)] {
                let mut s = String::new();
                for l in ls.iter() {
                    if rt == Runtime::Docker {
                        s.push_str("{\"log\":\"");
                        go_json(&mut s, &l.text);
                        s.push_str("\\n\",\"stream\":\"");
                        s.push_str(stream(l));
                        s.push_str("\",\"time\":\"");
                        s.push_str(&rfc3339_ns(l.ns));
                        s.push_str("\"}\n");
                    } else {
                        s.push_str(&rfc3339_ns(l.ns));
                        s.push(' ');
                        s.push_str(stream(l));
                        s.push_str(" F ");
                        s.push_str(&String::from_utf8_lossy(&l.text));
                        s.push('\n');
                    }
                }
                let file = if rt == Runtime::Docker {
                    let i = id(&mut rng);
                    format!("{name}-{i}-json.log")
                } else {
                    format!("{name}-0.log")
                };
                std::fs::write(dir.join(&file), &s)?;
                written.push((file, ls.len() as u64));
            }
        }
        Runtime::Compose => {
            let names = ["shop-nginx-1", "shop-php-fpm-1"];
            let w = names.iter().map(|n| n.len()).max().unwrap_or(0);
            let mut all: Vec<(usize, &Line)> = nginx
                .iter()
                .map(|l| (0, l))
                .chain(fpm.iter().map(|l| (1, l)))
                .collect();
            all.sort_by_key(|(_, l)| l.ns);
            let mut s = String::new();
            for (c, l) in &all {
                s.push_str(&format!("{:<w$}  | ", names[*c]));
                s.push_str(&String::from_utf8_lossy(&l.text));
                s.push('\n');
            }
            std::fs::write(dir.join("compose.log"), &s)?;
            written.push(("compose.log".into(), all.len() as u64));
        }
    }
    Ok(written)
}
