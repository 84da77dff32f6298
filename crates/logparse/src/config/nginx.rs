//! nginx's configuration: `nginx -T` output or `.conf` files.
//!
//! The grammar, as nginx's own reader has it: a directive is a name and
//! arguments ending in `;`, or in a `{ ... }` block of directives; an
//! argument is a bare word (anything up to whitespace, `;`, `{` or `}`,
//! with `${var}` kept whole) or a `"..."` / `'...'` string with `\`
//! escapes; `#` after whitespace starts a comment. `nginx -T` prints every
//! file it read after a `# configuration file PATH:` line (and, on stderr,
//! `nginx: the configuration file ... syntax is ok`); each such header
//! starts a [`Section`] whose lines are counted from 1.
//!
//! ```text
//! # configuration file /etc/nginx/sites-enabled/default:
//! server {
//!     location ~ \.php$ { fastcgi_pass unix:/run/php/php8.2-fpm.sock; }
//! }
//! ```
//!
//! [`facts`] splices `include`d sections in place and resolves, for every
//! `server` and each `location` with a `fastcgi_pass`, what bears on a
//! 502/504.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{escaped, is_not, tag, take_till, take_while, take_while1};
use nom::character::complete::{anychar, char};
use nom::sequence::delimited;
use serde::Serialize;

use super::{LineMarks, Mark, Ref, Setting, split_input, text};
use crate::scan::Tally;

/// One directive, with its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Its name (`fastcgi_pass`, `server`, or one baton does not know).
    pub name: String,
    /// Its arguments, unquoted.
    pub args: Vec<String>,
    /// Its line in its section's file (1-based).
    pub line: u32,
    /// The directives of its `{ ... }` block, if it has one.
    pub block: Option<Vec<Directive>>,
}

/// The directives of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The file: from a `# configuration file PATH:` header, else the
    /// input's name.
    pub file: String,
    /// Its top-level directives.
    pub directives: Vec<Directive>,
}

/// One parsed `nginx-config` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxConfig {
    /// The files in it, in input order.
    pub sections: Vec<Section>,
    /// Line accounting.
    pub tally: Tally,
}

/// The header `nginx -T` prints before each file.
const HEADER: &[u8] = b"# configuration file ";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// Whitespace.
fn spaces(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_space)(i)
}

/// A comment, up to (not including) the end of its line.
fn comment(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = tag(&b"#"[..])(i)?;
    take_till(|c| c == b'\n')(i)
}

/// A quoted string's body, escapes kept (see [`unescape`]).
fn quoted(i: &[u8]) -> IResult<&[u8], (u8, &[u8])> {
    let dq = delimited(
        char('"'),
        nom::combinator::opt(escaped(is_not("\"\\"), '\\', anychar)),
        char('"'),
    )
    .map(|b: Option<&[u8]>| (b'"', b.unwrap_or_default()));
    let sq = delimited(
        char('\''),
        nom::combinator::opt(escaped(is_not("'\\"), '\\', anychar)),
        char('\''),
    )
    .map(|b: Option<&[u8]>| (b'\'', b.unwrap_or_default()));
    nom::branch::alt((dq, sq)).parse_complete(i)
}

/// A bare word: up to whitespace, `;`, `{` or `}`, with `${name}` kept
/// whole.
fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let mut n = 0;
    while n < i.len() {
        match i[n] {
            b'$' if i.get(n + 1) == Some(&b'{') => {
                match memchr::memchr(b'}', &i[n..]) {
                    Some(e) => n += e + 1,
                    None => break,
                }
                continue;
            }
            c if is_space(c) || matches!(c, b';' | b'{' | b'}') => break,
            _ => n += 1,
        }
    }
    if n == 0 {
        return take_while1(|_| false)(i);
    }
    Ok((&i[n..], &i[..n]))
}

/// nginx's escapes in quoted strings: `\"`, `\'`, `\\`, `\n`, `\r`, `\t`;
/// any other backslash is kept.
fn unescape(b: &[u8]) -> String {
    if memchr::memchr(b'\\', b).is_none() {
        return text(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut it = b.iter().copied().peekable();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some(q @ (b'"' | b'\'' | b'\\')) => {
                out.push(q);
                it.next();
            }
            Some(b'n') => {
                out.push(b'\n');
                it.next();
            }
            Some(b'r') => {
                out.push(b'\r');
                it.next();
            }
            Some(b't') => {
                out.push(b'\t');
                it.next();
            }
            _ => out.push(b'\\'),
        }
    }
    text(&out)
}

/// A directive being read: its name and arguments so far, and where it
/// started.
struct Pending {
    d: Directive,
    start: usize,
}

/// An open block: its directive and the directives read into it so far.
struct Frame {
    d: Directive,
    start: usize,
    body: Vec<Directive>,
}

/// The reader's state over one input.
struct Reader<'a> {
    input: &'a [u8],
    marks: LineMarks<'a>,
    sections: Vec<Section>,
    /// The current section's file and the 0-based input line its line 1 is.
    file: String,
    first_line: usize,
    top: Vec<Directive>,
    stack: Vec<Frame>,
    pending: Option<Pending>,
}

impl<'a> Reader<'a> {
    fn line_no(&self, at: usize) -> u32 {
        (self.marks.line_of(at) + 1).saturating_sub(self.first_line) as u32
    }

    fn push(&mut self, d: Directive) {
        match self.stack.last_mut() {
            Some(f) => f.body.push(d),
            None => self.top.push(d),
        }
    }

    /// A directive left without its `;`: its lines are not the grammar's.
    fn drop_pending(&mut self, to: usize) {
        if let Some(p) = self.pending.take() {
            self.marks.mark(p.start, to, Mark::Bad);
        }
    }

    /// Closes the open blocks and the current section.
    fn end_section(&mut self, at: usize) {
        self.drop_pending(at);
        while let Some(f) = self.stack.pop() {
            // An unclosed block keeps what it holds.
            let mut d = f.d;
            d.block = Some(f.body);
            self.push(d);
        }
        let directives = std::mem::take(&mut self.top);
        if !directives.is_empty() || !self.sections.is_empty() || self.first_line > 0 {
            self.sections.push(Section {
                file: std::mem::take(&mut self.file),
                directives,
            });
        }
    }

    fn run(&mut self) {
        let mut i = self.input;
        let pos = |rest: &[u8]| self.input.len() - rest.len();
        loop {
            if let Ok((rest, _)) = spaces(i) {
                i = rest;
            }
            let at = pos(i);
            let Some(&c) = i.first() else { break };
            let line_start = at == 0 || self.input[at - 1] == b'\n';
            match c {
                b'#' => {
                    let Ok((rest, body)) = comment(i) else { break };
                    if line_start
                        && let Some(path) = body
                            .strip_prefix(&HEADER[1..])
                            .and_then(|p| p.trim_ascii_end().strip_suffix(b":"))
                    {
                        self.end_section(at);
                        self.file = text(path);
                        self.first_line = self.marks.line_of(at) + 1;
                    }
                    self.marks.mark(at, pos(rest), Mark::Parsed);
                    i = rest;
                }
                b'n' if line_start
                    && self.pending.is_none()
                    && i.starts_with(b"nginx: ")
                    && (memchr::memmem::find(&i[..line_len(i)], b" syntax is ok").is_some()
                        || memchr::memmem::find(&i[..line_len(i)], b" test is successful")
                            .is_some()) =>
                {
                    // `nginx -T 2>&1`: the test's verdict, before the dump.
                    let n = line_len(i);
                    self.marks.mark(at, at + n, Mark::Parsed);
                    i = &i[n..];
                }
                b';' => {
                    match self.pending.take() {
                        Some(p) => {
                            self.marks.mark(p.start, at + 1, Mark::Parsed);
                            self.push(p.d);
                        }
                        None => self.marks.mark(at, at + 1, Mark::Bad),
                    }
                    i = &i[1..];
                }
                b'{' => {
                    match self.pending.take() {
                        Some(p) => {
                            self.marks.mark(p.start, at + 1, Mark::Parsed);
                            self.stack.push(Frame {
                                d: p.d,
                                start: p.start,
                                body: Vec::new(),
                            });
                        }
                        None => {
                            // A block with no name: kept so that its `}`
                            // balances, its line not the grammar's.
                            self.marks.mark(at, at + 1, Mark::Bad);
                            let line = self.line_no(at);
                            self.stack.push(Frame {
                                d: Directive {
                                    name: String::new(),
                                    args: Vec::new(),
                                    line,
                                    block: None,
                                },
                                start: at,
                                body: Vec::new(),
                            });
                        }
                    }
                    i = &i[1..];
                }
                b'}' => {
                    self.drop_pending(at);
                    match self.stack.pop() {
                        Some(f) => {
                            let _ = f.start;
                            self.marks.mark(at, at + 1, Mark::Parsed);
                            let mut d = f.d;
                            d.block = Some(f.body);
                            self.push(d);
                        }
                        None => self.marks.mark(at, at + 1, Mark::Bad),
                    }
                    i = &i[1..];
                }
                b'"' | b'\'' => match quoted(i) {
                    Ok((rest, (_, body))) => {
                        self.arg(at, unescape(body));
                        i = rest;
                    }
                    Err(_) => {
                        // An unterminated string: its line is skipped, and
                        // the directive it was in.
                        let n = line_len(i);
                        self.drop_pending(at);
                        self.marks.mark(at, at + n, Mark::Bad);
                        i = &i[n..];
                    }
                },
                _ => match word(i) {
                    Ok((rest, w)) => {
                        self.arg(at, text(w));
                        i = rest;
                    }
                    Err(_) => {
                        self.marks.mark(at, at + 1, Mark::Bad);
                        i = &i[1..];
                    }
                },
            }
        }
        let end = self.input.len();
        self.end_section(end);
    }

    /// A word or string: the name of a new directive, or an argument.
    fn arg(&mut self, at: usize, s: String) {
        match &mut self.pending {
            Some(p) => p.d.args.push(s),
            None => {
                let line = self.line_no(at);
                self.pending = Some(Pending {
                    d: Directive {
                        name: s,
                        args: Vec::new(),
                        line,
                        block: None,
                    },
                    start: at,
                });
            }
        }
    }
}

/// The length of the line at the start of `i`, with its newline.
fn line_len(i: &[u8]) -> usize {
    memchr::memchr(b'\n', i).map_or(i.len(), |n| n + 1)
}

/// Parses one input; `name` is the file its directives are in until a
/// `# configuration file` header names another. Never fails: what is not
/// nginx's grammar is counted as skipped lines.
pub fn parse(input: &[u8], name: &str) -> NginxConfig {
    let (input, extra_bytes, extra_lines) = split_input(input);
    let mut r = Reader {
        input,
        marks: LineMarks::new(input),
        sections: Vec::new(),
        file: name.to_string(),
        first_line: 0,
        top: Vec::new(),
        stack: Vec::new(),
        pending: None,
    };
    r.run();
    if r.sections.is_empty() {
        r.sections.push(Section {
            file: name.to_string(),
            directives: Vec::new(),
        });
    }
    NginxConfig {
        tally: r.marks.tally(extra_bytes, extra_lines),
        sections: r.sections,
    }
}

/// Directive names that make text an nginx configuration (detection).
const KNOWN: &[&str] = &[
    "http",
    "server",
    "location",
    "upstream",
    "events",
    "user",
    "worker_processes",
    "listen",
    "server_name",
    "root",
    "include",
    "fastcgi_pass",
    "fastcgi_param",
    "proxy_pass",
    "access_log",
    "error_log",
    "log_format",
    "worker_connections",
];

/// Whether `sample` reads as an nginx configuration: a `nginx -T` header,
/// or nine lines in ten of nginx's grammar with a directive nginx knows.
pub fn looks_like(sample: &[u8]) -> bool {
    if sample.starts_with(HEADER)
        || memchr::memmem::find(sample, b"\n# configuration file /").is_some()
    {
        return true;
    }
    let c = parse(sample, "-");
    let nonempty = c.tally.lines - c.tally.skipped_for(crate::SkipReason::Empty);
    let known = c
        .sections
        .iter()
        .flat_map(|s| &s.directives)
        .any(|d| KNOWN.contains(&d.name.as_str()) && (d.block.is_some() || !d.args.is_empty()));
    known && nonempty > 0 && c.tally.parsed * 10 >= nonempty * 9
}

// ---------------------------------------------------------------------
// Facts.

/// nginx's defaults for what [`facts`] resolves.
pub mod defaults {
    /// `fastcgi_read_timeout`, `fastcgi_connect_timeout`,
    /// `fastcgi_send_timeout` (seconds).
    pub const FASTCGI_TIMEOUT_S: f64 = 60.0;
    /// `fastcgi_buffers 8 4k` (one memory page on x86).
    pub const FASTCGI_BUFFERS: (u32, u64) = (8, 4096);
    /// `fastcgi_buffer_size 4k`.
    pub const FASTCGI_BUFFER_SIZE: u64 = 4096;
    /// `user nobody`.
    pub const USER: &str = "nobody";
    /// `access_log logs/access.log combined`: the format.
    pub const ACCESS_FORMAT: &str = "combined";
}

/// A `log_format`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogFormat {
    /// Its name.
    pub name: String,
    /// Its text (the strings joined), `escape=` apart.
    pub format: String,
    /// Where it is defined.
    pub at: Ref,
}

/// An `access_log` in effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessLog {
    /// The path (`off` for none).
    pub path: String,
    /// The format's name (`combined` when not given).
    pub format: String,
    /// Where it is set (`None`: nginx's default).
    pub at: Option<Ref>,
}

/// An `upstream` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upstream {
    /// Its name.
    pub name: String,
    /// Its `server` addresses.
    pub servers: Vec<Setting<String>>,
    /// Where it is defined.
    pub at: Ref,
}

/// Where a location passes FastCGI requests, and how long nginx waits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FastcgiLocation {
    /// The location's match (`~ \.php$`), or empty for a `fastcgi_pass`
    /// in the server itself.
    pub location: String,
    /// `fastcgi_pass` as written.
    pub pass: Setting<String>,
    /// The addresses it reaches: the `upstream`'s servers, or the address
    /// itself (`unix:` kept).
    pub targets: Vec<Setting<String>>,
    /// `fastcgi_read_timeout` (seconds).
    pub read_timeout: Setting<f64>,
    /// `fastcgi_connect_timeout` (seconds).
    pub connect_timeout: Setting<f64>,
    /// `fastcgi_send_timeout` (seconds).
    pub send_timeout: Setting<f64>,
    /// `fastcgi_buffers` (number, size in bytes).
    pub buffers: Setting<(u32, u64)>,
    /// `fastcgi_buffer_size` (bytes).
    pub buffer_size: Setting<u64>,
    /// The access logs in effect.
    pub access_logs: Vec<AccessLog>,
}

/// A `server` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Server {
    /// `server_name`s.
    pub names: Vec<String>,
    /// `listen`s.
    pub listen: Vec<String>,
    /// Where the block starts.
    pub at: Ref,
    /// The access logs in effect at the server's level.
    pub access_logs: Vec<AccessLog>,
    /// Its locations (and nested ones) that pass to FastCGI.
    pub fastcgi: Vec<FastcgiLocation>,
}

/// What nginx's configuration says about the handoff to php-fpm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NginxFacts {
    /// The `user` (and group) workers run as.
    pub user: Setting<String>,
    /// The group (`user`'s second argument, else the user's name).
    pub group: Setting<String>,
    /// `error_log`s (any level).
    pub error_logs: Vec<Setting<String>>,
    /// `log_format`s.
    pub log_formats: Vec<LogFormat>,
    /// `upstream` blocks.
    pub upstreams: Vec<Upstream>,
    /// `real_ip_header`.
    pub real_ip_header: Option<Setting<String>>,
    /// `set_real_ip_from`.
    pub set_real_ip_from: Vec<Setting<String>>,
    /// `server` blocks.
    pub servers: Vec<Server>,
    /// Directives read, known or not.
    pub directives: u64,
}

impl NginxFacts {
    /// Every FastCGI location of every server.
    pub fn fastcgi(&self) -> impl Iterator<Item = (&Server, &FastcgiLocation)> {
        self.servers
            .iter()
            .flat_map(|s| s.fastcgi.iter().map(move |f| (s, f)))
    }

    /// The access logs in effect anywhere (servers and FastCGI locations).
    pub fn access_logs(&self) -> impl Iterator<Item = &AccessLog> {
        self.servers.iter().flat_map(|s| {
            s.access_logs
                .iter()
                .chain(s.fastcgi.iter().flat_map(|f| &f.access_logs))
        })
    }

    /// The format named `name` (`combined` is nginx's own).
    pub fn log_format(&self, name: &str) -> Option<&LogFormat> {
        self.log_formats.iter().rev().find(|f| f.name == name)
    }
}

/// The `combined` format nginx predefines.
pub const COMBINED: &str = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

/// What a block passes down to the blocks inside it.
#[derive(Clone)]
struct Inherit {
    read: Setting<f64>,
    connect: Setting<f64>,
    send: Setting<f64>,
    buffers: Setting<(u32, u64)>,
    buffer_size: Setting<u64>,
    access_logs: Vec<AccessLog>,
}

impl Default for Inherit {
    fn default() -> Inherit {
        Inherit {
            read: Setting::default_value(defaults::FASTCGI_TIMEOUT_S),
            connect: Setting::default_value(defaults::FASTCGI_TIMEOUT_S),
            send: Setting::default_value(defaults::FASTCGI_TIMEOUT_S),
            buffers: Setting::default_value(defaults::FASTCGI_BUFFERS),
            buffer_size: Setting::default_value(defaults::FASTCGI_BUFFER_SIZE),
            access_logs: vec![AccessLog {
                path: "logs/access.log".to_string(),
                format: defaults::ACCESS_FORMAT.to_string(),
                at: None,
            }],
        }
    }
}

/// How deep `include`s are followed.
const MAX_INCLUDE_DEPTH: usize = 16;

/// How many directives a walk visits at most, includes spliced. A real
/// configuration visits a few thousand; sections that include each other
/// from inside blocks (each `include` naming several same-named
/// sections) would otherwise visit exponentially many (found by `cargo
/// fuzz run nginx_config`).
const MAX_VISITS: usize = 200_000;

/// The `access_log`s one block keeps (nginx configurations have a few; a
/// block's list is copied into every server and location below it, and
/// each copy is charged to [`MAX_VISITS`]).
const MAX_ACCESS_LOGS: usize = 32;

/// The sections of every input, and which are included where.
struct Tree<'a> {
    sections: Vec<&'a Section>,
    /// The directory relative `include`s are read from (the first
    /// section's).
    prefix: String,
    /// Directive visits left ([`MAX_VISITS`]).
    budget: std::cell::Cell<usize>,
}

impl<'a> Tree<'a> {
    /// The sections an `include` pattern names.
    fn included(&self, pattern: &str) -> Vec<usize> {
        let full = if pattern.starts_with('/') || self.prefix.is_empty() {
            pattern.to_string()
        } else {
            format!("{}/{}", self.prefix, pattern)
        };
        let exact: Vec<usize> = (0..self.sections.len())
            .filter(|&k| glob(full.as_bytes(), self.sections[k].file.as_bytes()))
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        // Files copied out of /etc: match the pattern's last components
        // against the path's.
        let pat: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        (0..self.sections.len())
            .filter(|&k| {
                let comps: Vec<&str> = self.sections[k]
                    .file
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .collect();
                let n = pat.len().min(3);
                n > 0
                    && comps.len() >= n
                    && pat[pat.len() - n..]
                        .iter()
                        .zip(&comps[comps.len() - n..])
                        .all(|(p, c)| glob(p.as_bytes(), c.as_bytes()))
            })
            .collect()
    }

    /// Takes `n` from the budget; false (and the budget spent) when it
    /// has less.
    fn charge(&self, n: usize) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(n));
        left >= n
    }

    /// The directives of `block` with `include`s spliced in, each with
    /// its file.
    fn expand(
        &self,
        block: &'a [Directive],
        file: &'a str,
        depth: usize,
        out: &mut Vec<(&'a Directive, &'a str)>,
    ) {
        for d in block {
            let left = self.budget.get();
            if left == 0 {
                return;
            }
            self.budget.set(left - 1);
            if d.name == "include" && d.block.is_none() && depth < MAX_INCLUDE_DEPTH {
                for k in self.included(d.args.first().map_or("", |s| s.as_str())) {
                    let s = self.sections[k];
                    self.expand(&s.directives, &s.file, depth + 1, out);
                }
            }
            out.push((d, file));
        }
    }
}

/// A shell glob (`*`, `?`) over bytes; `*` does not cross `/`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' && s[si] != b'/' || p[pi] == s[si] && p[pi] != b'*') {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star
            && s[ss] != b'/'
        {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The walk that gathers the facts.
struct Walk<'a> {
    tree: Tree<'a>,
    facts: NginxFacts,
}

fn at(file: &str, d: &Directive) -> Ref {
    Ref {
        file: file.to_string(),
        line: d.line,
    }
}

fn first_arg(d: &Directive) -> String {
    d.args.first().cloned().unwrap_or_default()
}

impl<'a> Walk<'a> {
    /// Walks a block's directives (includes spliced) with what its
    /// parents pass down; `server` is the index of the enclosing server.
    fn block(
        &mut self,
        block: &'a [Directive],
        file: &'a str,
        parent: &Inherit,
        server: Option<usize>,
        location: &str,
        depth: usize,
    ) {
        if depth > 64 || self.tree.budget.get() == 0 {
            return;
        }
        let mut flat = Vec::new();
        self.tree.expand(block, file, 0, &mut flat);
        // A directive anywhere in a block sets the block's value.
        let mut here = parent.clone();
        let mut logs: Vec<AccessLog> = Vec::new();
        let mut pass: Option<Setting<String>> = None;
        for &(d, f) in &flat {
            let secs = || d.args.first().and_then(|a| super::parse_seconds(a));
            match d.name.as_str() {
                "fastcgi_read_timeout" => set(&mut here.read, secs(), f, d),
                "fastcgi_connect_timeout" => set(&mut here.connect, secs(), f, d),
                "fastcgi_send_timeout" => set(&mut here.send, secs(), f, d),
                "fastcgi_buffer_size" => set(
                    &mut here.buffer_size,
                    d.args.first().and_then(|a| super::parse_size(a)),
                    f,
                    d,
                ),
                "fastcgi_buffers" => {
                    let v = match d.args.as_slice() {
                        [n, size] => n.parse().ok().zip(super::parse_size(size)),
                        _ => None,
                    };
                    set(&mut here.buffers, v, f, d);
                }
                "access_log" => logs.push(AccessLog {
                    path: first_arg(d),
                    format: d
                        .args
                        .get(1)
                        .filter(|a| !a.contains('='))
                        .cloned()
                        .unwrap_or_else(|| defaults::ACCESS_FORMAT.to_string()),
                    at: Some(at(f, d)),
                }),
                "fastcgi_pass" if d.block.is_none() => {
                    pass = Some(Setting {
                        value: first_arg(d),
                        at: Some(at(f, d)),
                    })
                }
                "user" if d.block.is_none() && server.is_none() => {
                    self.facts.user = Setting {
                        value: first_arg(d),
                        at: Some(at(f, d)),
                    };
                    self.facts.group = Setting {
                        value: d.args.get(1).cloned().unwrap_or_else(|| first_arg(d)),
                        at: Some(at(f, d)),
                    };
                }
                "error_log" => self.facts.error_logs.push(Setting {
                    value: first_arg(d),
                    at: Some(at(f, d)),
                }),
                "log_format" if d.args.len() >= 2 => {
                    let body: Vec<&str> = d.args[1..]
                        .iter()
                        .filter(|a| !a.starts_with("escape="))
                        .map(|s| s.as_str())
                        .collect();
                    self.facts.log_formats.push(LogFormat {
                        name: d.args[0].clone(),
                        format: body.concat(),
                        at: at(f, d),
                    });
                }
                "real_ip_header" => {
                    self.facts.real_ip_header = Some(Setting {
                        value: first_arg(d),
                        at: Some(at(f, d)),
                    })
                }
                "set_real_ip_from" => self.facts.set_real_ip_from.push(Setting {
                    value: first_arg(d),
                    at: Some(at(f, d)),
                }),
                _ => {}
            }
            self.facts.directives += 1;
        }
        if !logs.is_empty() {
            logs.truncate(MAX_ACCESS_LOGS);
            here.access_logs = logs;
        }
        if let (Some(pass), Some(s)) = (pass, server) {
            if !self.tree.charge(here.access_logs.len()) {
                return;
            }
            self.facts.servers[s].fastcgi.push(FastcgiLocation {
                location: location.to_string(),
                targets: Vec::new(),
                pass,
                read_timeout: here.read.clone(),
                connect_timeout: here.connect.clone(),
                send_timeout: here.send.clone(),
                buffers: here.buffers.clone(),
                buffer_size: here.buffer_size.clone(),
                access_logs: here.access_logs.clone(),
            });
        }
        for &(d, f) in &flat {
            let Some(body) = &d.block else { continue };
            match d.name.as_str() {
                "server" if server.is_none() => {
                    let mut names = Vec::new();
                    let mut listen = Vec::new();
                    let mut inner = Vec::new();
                    self.tree.expand(body, f, 0, &mut inner);
                    for (x, _) in &inner {
                        match x.name.as_str() {
                            "server_name" => names.extend(x.args.iter().cloned()),
                            "listen" => listen.push(x.args.join(" ")),
                            _ => {}
                        }
                    }
                    self.facts.servers.push(Server {
                        names,
                        listen,
                        at: at(f, d),
                        access_logs: Vec::new(),
                        fastcgi: Vec::new(),
                    });
                    let k = self.facts.servers.len() - 1;
                    let mut srv = here.clone();
                    let logs: Vec<AccessLog> = inner
                        .iter()
                        .filter(|(x, _)| x.name == "access_log")
                        .map(|(x, xf)| AccessLog {
                            path: first_arg(x),
                            format: x
                                .args
                                .get(1)
                                .filter(|a| !a.contains('='))
                                .cloned()
                                .unwrap_or_else(|| defaults::ACCESS_FORMAT.to_string()),
                            at: Some(at(xf, x)),
                        })
                        .take(MAX_ACCESS_LOGS)
                        .collect();
                    if !logs.is_empty() {
                        srv.access_logs = logs;
                    }
                    if !self.tree.charge(srv.access_logs.len()) {
                        return;
                    }
                    self.facts.servers[k].access_logs = srv.access_logs.clone();
                    self.block(body, f, &here, Some(k), "", depth + 1);
                }
                "upstream" => {
                    let mut inner = Vec::new();
                    self.tree.expand(body, f, 0, &mut inner);
                    let servers = inner
                        .iter()
                        .filter(|(x, _)| x.name == "server" && x.block.is_none())
                        .map(|(x, xf)| Setting {
                            value: first_arg(x),
                            at: Some(at(xf, x)),
                        })
                        .collect();
                    self.facts.upstreams.push(Upstream {
                        name: first_arg(d),
                        servers,
                        at: at(f, d),
                    });
                }
                "location" | "if" | "limit_except" if server.is_some() => {
                    let name = if d.name == "location" {
                        d.args.join(" ")
                    } else {
                        location.to_string()
                    };
                    self.block(body, f, &here, server, &name, depth + 1);
                }
                "http" | "stream" | "mail" if server.is_none() => {
                    self.block(body, f, &here, None, "", depth + 1)
                }
                _ => {}
            }
        }
    }
}

fn set<T>(slot: &mut Setting<T>, v: Option<T>, file: &str, d: &Directive) {
    if let Some(v) = v {
        *slot = Setting {
            value: v,
            at: Some(at(file, d)),
        };
    }
}

/// Resolves the facts of one or more inputs (the sections of all of them
/// form one configuration: `nginx -T` output, or files copied from
/// `/etc/nginx`).
pub fn facts(configs: &[&NginxConfig]) -> NginxFacts {
    let sections: Vec<&Section> = configs.iter().flat_map(|c| &c.sections).collect();
    let prefix = sections
        .first()
        .and_then(|s| s.file.rsplit_once('/'))
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let tree = Tree {
        sections,
        prefix,
        budget: std::cell::Cell::new(MAX_VISITS),
    };
    // Roots: sections no `include` names.
    let mut included = vec![false; tree.sections.len()];
    for s in &tree.sections {
        mark_included(&tree, &s.directives, &mut included);
    }
    let mut walk = Walk {
        facts: NginxFacts {
            user: Setting::default_value(defaults::USER.to_string()),
            group: Setting::default_value(defaults::USER.to_string()),
            error_logs: Vec::new(),
            log_formats: Vec::new(),
            upstreams: Vec::new(),
            real_ip_header: None,
            set_real_ip_from: Vec::new(),
            servers: Vec::new(),
            directives: 0,
        },
        tree,
    };
    let top = Inherit::default();
    let roots: Vec<&Section> = (walk.tree.sections.iter().zip(&included))
        .filter(|(_, inc)| !**inc)
        .map(|(s, _)| *s)
        .collect();
    for s in roots {
        walk.block(&s.directives, &s.file, &top, None, "", 0);
    }
    let mut facts = walk.facts;
    let upstreams = facts.upstreams.clone();
    for s in &mut facts.servers {
        for f in &mut s.fastcgi {
            let name = f.pass.value.trim_start_matches("http://");
            f.targets = match upstreams.iter().rev().find(|u| u.name == name) {
                Some(u) => u.servers.clone(),
                None => vec![f.pass.clone()],
            };
        }
    }
    facts
}

fn mark_included(tree: &Tree<'_>, block: &[Directive], included: &mut [bool]) {
    for d in block {
        if d.name == "include" {
            for k in tree.included(d.args.first().map_or("", |s| s.as_str())) {
                included[k] = true;
            }
        }
        if let Some(b) = &d.block {
            mark_included(tree, b, included);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(name: &str, args: &[&str], line: u32) -> Directive {
        Directive {
            name: name.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            line,
            block: None,
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(word(b"abc;"), Ok((&b";"[..], &b"abc"[..])));
        assert_eq!(word(b"${a}b c"), Ok((&b" c"[..], &b"${a}b"[..])));
        assert_eq!(word(b"a#b "), Ok((&b" "[..], &b"a#b"[..])));
        assert!(word(b";").is_err());
        assert_eq!(
            quoted(br#""a\"b" x"#),
            Ok((&b" x"[..], (b'"', &br#"a\"b"#[..])))
        );
        assert_eq!(quoted(b"'' x"), Ok((&b" x"[..], (b'\'', &b""[..]))));
        assert!(quoted(b"\"abc").is_err());
        assert_eq!(unescape(br#"a\"b\\c\d"#), r#"a"b\c\d"#);
        assert_eq!(comment(b"# x\ny"), Ok((&b"\ny"[..], &b" x"[..])));
    }

    #[test]
    fn directives_blocks_strings_and_comments() {
        let c = parse(
            b"user www-data; # who\n\nhttp {\n  log_format main '$a '\n    \"$b\";\n  server { listen 80; }\n}\n",
            "nginx.conf",
        );
        assert_eq!(c.sections.len(), 1);
        let s = &c.sections[0];
        assert_eq!(s.file, "nginx.conf");
        assert_eq!(s.directives[0], d("user", &["www-data"], 1));
        let http = &s.directives[1];
        assert_eq!((http.name.as_str(), http.line), ("http", 3));
        let body = http.block.as_ref().unwrap();
        assert_eq!(body[0], d("log_format", &["main", "$a ", "$b"], 4));
        assert_eq!(body[1].block.as_ref().unwrap()[0], d("listen", &["80"], 6));
        assert_eq!(
            (c.tally.lines, c.tally.parsed, c.tally.skipped()),
            (7, 6, 1)
        );
    }

    #[test]
    fn broken_lines_are_skipped_and_the_rest_kept() {
        let c = parse(b"a 1;\n}\nb \"open\n{\nc 2;\n}\nd", "x");
        let names: Vec<&str> = c.sections[0]
            .directives
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, ["a", ""]);
        let anon = c.sections[0].directives[1].block.as_ref().unwrap();
        assert_eq!(anon[0], d("c", &["2"], 5));
        // `}` alone, the unterminated string, the nameless `{` and `d`
        // without its `;`.
        assert_eq!(c.tally.lines, 7);
        assert_eq!(c.tally.skipped(), 4, "{:?}", c.tally);
    }

    #[test]
    fn dump_headers_start_sections() {
        let dump = b"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
nginx: configuration file /etc/nginx/nginx.conf test is successful\n\
# configuration file /etc/nginx/nginx.conf:\n\
user nginx;\n\
http {\n\
    include /etc/nginx/conf.d/*.conf;\n\
    fastcgi_read_timeout 300;\n\
}\n\
\n\
# configuration file /etc/nginx/conf.d/site.conf:\n\
upstream php { server unix:/run/php/a.sock; server 127.0.0.1:9000; }\n\
server {\n\
    server_name example.com;\n\
    location ~ \\.php$ {\n\
        fastcgi_pass php;\n\
        fastcgi_connect_timeout 5s;\n\
    }\n\
}\n";
        let c = parse(dump, "nginx.txt");
        assert_eq!(c.tally.skipped(), 1); // the blank line
        assert_eq!(c.tally.lines, 18);
        assert_eq!(c.sections.len(), 2);
        assert_eq!(c.sections[1].file, "/etc/nginx/conf.d/site.conf");
        assert_eq!(c.sections[1].directives[1].line, 2);
        let f = facts(&[&c]);
        assert_eq!(f.user.value, "nginx");
        assert_eq!(f.group.value, "nginx");
        assert_eq!(f.servers.len(), 1);
        let (s, loc) = f.fastcgi().next().unwrap();
        assert_eq!(s.names, ["example.com"]);
        assert_eq!(loc.location, "~ \\.php$");
        assert_eq!(loc.read_timeout.value, 300.0);
        assert_eq!(
            loc.read_timeout.at,
            Some(Ref {
                file: "/etc/nginx/nginx.conf".into(),
                line: 4
            })
        );
        assert_eq!(loc.connect_timeout.value, 5.0);
        assert_eq!(loc.send_timeout, Setting::default_value(60.0));
        let targets: Vec<&str> = loc.targets.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(targets, ["unix:/run/php/a.sock", "127.0.0.1:9000"]);
        assert_eq!(loc.access_logs[0].format, "combined");
    }

    #[test]
    fn globs() {
        assert!(glob(
            b"/etc/nginx/sites-enabled/*",
            b"/etc/nginx/sites-enabled/default"
        ));
        assert!(!glob(b"/etc/nginx/*", b"/etc/nginx/a/b"));
        assert!(glob(b"*.conf", b"a.conf"));
        assert!(!glob(b"*.conf", b"a.con"));
        assert!(glob(b"a?c", b"abc"));
        assert!(glob(b"", b""));
    }

    #[test]
    fn detection() {
        assert!(looks_like(b"server {\n listen 80;\n}\n"));
        assert!(looks_like(b"# configuration file /etc/nginx/nginx.conf:\n"));
        assert!(!looks_like(
            b"127.0.0.1 - - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 13 \"-\" \"-\"\n"
        ));
        assert!(!looks_like(
            b"2026/11/24 11:16:52 [notice] 31574#31574: nginx/1.22.1\n"
        ));
        assert!(!looks_like(b"{\"a\": 1}\n"));
    }
}
