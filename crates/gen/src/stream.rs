//! The stream: background traffic in time order, with the plan's requests
//! and lines merged in at their instants, and the truth counted from what
//! is actually written.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Value, json};

use crate::clock::{Stamp, Style, Zone, rfc3339};
use crate::heavy;
use crate::incidents::Known;
use crate::incidents::{Builder, Kind, MIN_GAP, Plan};
use crate::logs::{self, AccessFormat, Edge, Out, Req, Up, UpErr};
use crate::messy;
use crate::model::{self, BOT_PATHS, HUMAN_PATHS, REFERERS, Route};
use crate::rng::{Rng, Weighted};
use crate::witness::{self, Scene, Witnesses};

/// Everything the generator needs, validated.
pub struct Config {
    pub seed: u64,
    /// Unix ms.
    pub start: i64,
    pub zone: Zone,
    pub zone_name: String,
    /// ms; ignored when `size` is set.
    pub duration: i64,
    pub rate: f64,
    pub size: Option<u64>,
    pub incidents: Vec<Kind>,
    pub malformed_rate: f64,
    pub access_format: AccessFormat,
    /// Write `cloudflare.log` and carry `$http_cf_ray` in the access log.
    pub cloudflare: bool,
    /// Write the php-fpm messages as `journalctl -o short-iso` lines into
    /// `php-fpm.journal` instead of `php-fpm.log`.
    pub fpm_journal: bool,
    /// The messy plan: drawn shapes, cascades, lone segfaults, background
    /// slow traces (see `crate::messy`).
    pub messy: bool,
    /// A failure-heavy day (`crate::heavy`): 24 h, incidents drawn per
    /// seed, about 1 % of the requests gateway errors; `size` sets the
    /// rate instead of the duration.
    pub heavy: bool,
    /// The other witnesses to write (`crate::witness`).
    pub witnesses: Witnesses,
    pub out: Option<PathBuf>,
    /// A fleet's node (`crate::fleet`): the seed its first connection
    /// number and php-fpm pids are drawn from, the same on every node so
    /// that they collide across nodes as they do on real machines.
    pub ids_seed: Option<u64>,
    /// A fleet's node: each incident's window `(start, end)`, unix ms, in
    /// time order, instead of spreading them evenly.
    pub placed: Option<Vec<(i64, i64)>>,
}

const MALFORMED: [&str; 4] = ["truncated", "binary", "invalid_utf8", "huge"];

/// The shortest incident.
const MIN_LEN: i64 = 20_000;
/// Routine noise stays this far from an incident's window.
const NOISE_MARGIN: i64 = 120_000;

/// What one phase segment of an incident got.
#[derive(Default)]
struct PhaseCount {
    gw: u64,
    upstream: BTreeMap<&'static str, u64>,
    first: Option<i64>,
    last: i64,
}

#[derive(Default)]
struct IncCount {
    phases: BTreeMap<u8, PhaseCount>,
    status: BTreeMap<u16, u64>,
    upstream: BTreeMap<&'static str, u64>,
    first: Option<i64>,
    last: i64,
    paths: HashMap<(String, Option<String>), u64>,
    edge_status: BTreeMap<u16, u64>,
    edge_first: Option<i64>,
    edge_last: i64,
    edge_paths: HashMap<(String, Option<String>), u64>,
}

/// What the edge log holds.
#[derive(Default)]
struct EdgeCount {
    requests: u64,
    status: BTreeMap<u16, u64>,
    origin_status: BTreeMap<u16, u64>,
    gateway_errors: u64,
    background_gateway_errors: u64,
}

struct World<'a> {
    cfg: &'a Config,
    rng: Rng,
    ray_rng: Rng,
    clients: Vec<model::Client>,
    human: Weighted,
    bots: Weighted,
    access: Out,
    error: Out,
    fpm: Out,
    slow: Out,
    kern: Out,
    edge: Out,
    st_access: Stamp,
    st_error: Stamp,
    st_fpm: Stamp,
    st_slow: Stamp,
    st_kern: Stamp,
    conn: u64,
    /// A fleet's node: `(first number, start ms)` of the connection clock.
    conn_clock: Option<(u64, i64)>,
    path: Vec<u8>,
    scratch: Vec<u8>,
    status: BTreeMap<u16, u64>,
    upstream: BTreeMap<&'static str, u64>,
    upstream_warnings: u64,
    malformed: [u64; 4],
    background_gw: u64,
    /// `FastCGI sent in stderr: "PHP message: PHP Fatal error ..."` lines.
    php_fatal_nginx: u64,
    edge_count: EdgeCount,
    inc: Vec<IncCount>,
    /// Each storm's credit (`World::storm_fails`).
    storm_credit: Vec<f64>,
}

fn open(cfg: &Config, name: &str, on: bool) -> anyhow::Result<Out> {
    Ok(Out::new(match &cfg.out {
        Some(dir) if on => {
            let p = dir.join(name);
            Some(File::create(&p).with_context(|| format!("creating {}", p.display()))?)
        }
        _ => None,
    }))
}

/// `gateway`: a status the edge counts as a gateway error.
fn edge_gateway(status: u16) -> bool {
    status == 502 || status == 504 || (520..=526).contains(&status)
}

impl<'a> World<'a> {
    fn new(cfg: &'a Config, n_inc: usize) -> anyhow::Result<World<'a>> {
        let root = Rng::new(cfg.seed);
        let z = cfg.zone;
        Ok(World {
            cfg,
            rng: root.fork(1),
            ray_rng: root.fork(7),
            clients: model::clients(&mut root.fork(2), 3000),
            human: model::weights(HUMAN_PATHS),
            bots: model::weights(BOT_PATHS),
            access: open(cfg, "access.log", true)?,
            error: open(cfg, "error.log", true)?,
            fpm: open(
                cfg,
                if cfg.fpm_journal {
                    "php-fpm.journal"
                } else {
                    "php-fpm.log"
                },
                true,
            )?,
            slow: open(cfg, "www-slow.log", true)?,
            kern: open(cfg, "kern.log", true)?,
            edge: open(cfg, "cloudflare.log", cfg.cloudflare)?,
            st_access: Stamp::new(
                z,
                if cfg.access_format == AccessFormat::Json {
                    Style::Iso
                } else {
                    Style::Access
                },
            ),
            st_error: Stamp::new(z, Style::Error),
            st_fpm: Stamp::new(
                z,
                if cfg.fpm_journal {
                    Style::JournalIso
                } else {
                    Style::Fpm
                },
            ),
            st_slow: Stamp::new(z, Style::Fpm),
            st_kern: Stamp::new(z, Style::Dmesg),
            conn: 1000 + cfg.ids_seed.map_or(root, Rng::new).fork(3).below(5000),
            conn_clock: cfg
                .ids_seed
                .map(|ids| (1000 + Rng::new(ids).fork(3).below(5000), cfg.start)),
            path: Vec::with_capacity(256),
            scratch: Vec::with_capacity(256),
            status: BTreeMap::new(),
            upstream: BTreeMap::new(),
            upstream_warnings: 0,
            malformed: [0; 4],
            background_gw: 0,
            php_fatal_nginx: 0,
            edge_count: EdgeCount::default(),
            inc: (0..n_inc).map(|_| IncCount::default()).collect(),
            storm_credit: Vec::new(),
        })
    }

    /// Writes one Cloudflare line and counts it.
    fn edge_line(&mut self, e: &Edge, incident: Option<usize>) -> anyhow::Result<()> {
        logs::cloudflare_line(&mut self.edge.buf, e);
        self.edge.end_line()?;
        let c = &mut self.edge_count;
        c.requests += 1;
        *c.status.entry(e.status).or_default() += 1;
        if let Some(o) = e.origin {
            *c.origin_status.entry(o).or_default() += 1;
        }
        if edge_gateway(e.status) {
            c.gateway_errors += 1;
            match incident {
                Some(i) => {
                    let c = &mut self.inc[i];
                    *c.edge_status.entry(e.status).or_default() += 1;
                    c.edge_first.get_or_insert(e.start);
                    c.edge_first = c.edge_first.map(|f| f.min(e.start));
                    c.edge_last = c.edge_last.max(e.start);
                    *c.edge_paths.entry(path_key(e.uri)).or_default() += 1;
                }
                None => c.background_gateway_errors += 1,
            }
        }
        Ok(())
    }

    /// Writes one request to the access log (with its error-log lines and,
    /// with `--cloudflare`, its edge line). `may_break`: the access line
    /// may be replaced by a malformed one. `edge`: the edge's status when it
    /// differs from the origin's.
    fn request(
        &mut self,
        r: &Req,
        incident: Option<(usize, u8)>,
        may_break: bool,
        edge: Option<u16>,
    ) -> anyhow::Result<()> {
        let conn_before = self.conn;
        self.conn += 1 + self.rng.below(3);
        if let Some((base, s0)) = self.conn_clock {
            // A fleet's node: the first connection of each second is
            // numbered by the clock, the same on every node.
            // The draw above is kept: the stream stays the seed's.
            let floor = base + (r.t - s0).max(0) as u64 / 1000 * 1000;
            self.conn = (conn_before + 1).max(floor);
        }
        let conn = self.conn;
        let rid = ((self.rng.next_u64() as u128) << 64) | self.rng.next_u64() as u128;
        let ray = self.cfg.cloudflare.then(|| self.ray_rng.next_u64());
        let r = &Req { ray, ..*r };
        if let Some(ray) = ray {
            let lat = 2 + self.ray_rng.below(20) as i64;
            let e = Edge {
                start: r.t - r.rt_ms as i64 - lat,
                ip: r.ip,
                method: r.method,
                uri: r.path,
                status: edge.unwrap_or(r.status),
                origin: Some(r.status),
                origin_ms: r.rt_ms,
                ray,
            };
            self.edge_line(&e, incident.map(|i| i.0))?;
        }
        let start = self.access.buf.len();
        logs::access_line(
            &mut self.access.buf,
            self.cfg.access_format,
            &mut self.st_access,
            r,
            rid,
            conn,
        );
        if may_break && self.cfg.malformed_rate > 0.0 && self.rng.chance(self.cfg.malformed_rate) {
            self.break_line(start);
            return self.access.end_line().map_err(Into::into);
        }
        self.access.end_line()?;
        *self.status.entry(r.status).or_default() += 1;
        if let Up::Err(e) = r.up {
            logs::upstream_error_line(
                &mut self.error.buf,
                &mut self.st_error,
                r,
                e,
                conn,
                &mut self.scratch,
            );
            let kinds = e.kinds();
            self.error.lines += e.lines() - 1;
            self.error.end_line()?;
            self.php_fatal_nginx += e.php_fatals();
            for k in kinds {
                *self.upstream.entry(k).or_default() += 1;
            }
            self.upstream_warnings += e.warnings();
        } else if r.status == 404 && r.up == Up::None {
            logs::open_failed_line(&mut self.error.buf, &mut self.st_error, r, conn);
            self.error.end_line()?;
        } else if r.up == Up::Ok && r.bytes > 150_000 {
            logs::buffered_warn_line(&mut self.error.buf, &mut self.st_error, r, conn, conn);
            self.error.end_line()?;
            self.upstream_warnings += 1;
        }
        let gw = r.status == 502 || r.status == 504;
        match incident {
            Some((i, phase)) => {
                let c = &mut self.inc[i];
                let ph = c.phases.entry(phase).or_default();
                if let Up::Err(e) = r.up {
                    for k in e.kinds() {
                        *c.upstream.entry(k).or_default() += 1;
                        *ph.upstream.entry(k).or_default() += 1;
                    }
                }
                if gw {
                    ph.gw += 1;
                    ph.first.get_or_insert(r.t);
                    ph.last = r.t;
                    *c.status.entry(r.status).or_default() += 1;
                    c.first.get_or_insert(r.t);
                    c.last = r.t;
                    *c.paths.entry(path_key(r.path)).or_default() += 1;
                }
            }
            None if gw => self.background_gw += 1,
            _ => {}
        }
        Ok(())
    }

    /// Whether the next request of storm `i` fails: every request adds
    /// `share` to the storm's credit and fails when the credit reaches 1,
    /// so the failures are spread as evenly as the requests (a storm
    /// stays one burst of errors at any rate).
    fn storm_fails(&mut self, i: usize, share: f64) -> bool {
        if self.storm_credit.len() <= i {
            self.storm_credit.resize(i + 1, 0.5);
        }
        let c = &mut self.storm_credit[i];
        *c += share;
        if *c >= 1.0 {
            *c -= 1.0;
            true
        } else {
            false
        }
    }

    /// Replaces the access line that starts at `start` by a malformed one.
    fn break_line(&mut self, start: usize) {
        let buf = &mut self.access.buf;
        let q = start + buf[start..].iter().position(|&b| b == b'"').unwrap_or(0);
        let x = self.rng.below(1000);
        let kind = if x < 1 {
            3
        } else if x < 400 {
            0
        } else if x < 700 {
            1
        } else {
            2
        };
        self.malformed[kind] += 1;
        match kind {
            0 => {
                let cut = q + 1 + self.rng.below(8) as usize;
                buf.truncate(cut.min(buf.len() - 1));
            }
            1 => {
                buf.truncate(start);
                let n = self.rng.range(16, 200);
                buf.push(0);
                for _ in 0..n {
                    let mut b = self.rng.below(256) as u8;
                    if b == b'\n' {
                        b = 0x1b;
                    }
                    buf.push(b);
                }
            }
            2 => {
                buf.truncate(q + 1);
                buf.extend_from_slice(b"\xc3\x28\xa0\xa1\xff\xfeGET /\xe2\x82 HTTP/1.1");
            }
            _ => {
                buf.truncate(q + 1);
                buf.extend_from_slice(b"GET /?q=");
                buf.resize(buf.len() + (1 << 20) + 64, b'A');
            }
        }
        buf.push(b'\n');
    }

    fn background(&mut self, t: i64, plan: &Plan) -> anyhow::Result<()> {
        let ci = self.rng.below(self.clients.len() as u64) as usize;
        let bot = self.clients[ci].bot;
        let spec = if bot {
            &BOT_PATHS[self.bots.pick(&mut self.rng)]
        } else {
            &HUMAN_PATHS[self.human.pick(&mut self.rng)]
        };
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        model::fill(&mut path, spec.template, &mut self.rng);
        let x = self.rng.below(1000);
        let (mut status, mut bytes, mut rt, mut up) = match spec.route {
            Route::Static => {
                if x < 170 {
                    (304, 0, 0, Up::None)
                } else if x < 190 && path.ends_with(b".png") {
                    (404, 153, 0, Up::None)
                } else {
                    (
                        200,
                        self.rng.range(400, 180_000),
                        self.rng.below(4),
                        Up::None,
                    )
                }
            }
            Route::Php | Route::Api => {
                let rt = self.rng.range(25, 900);
                if x < 15 && spec.method == "GET" {
                    (301, 0, rt, Up::Ok)
                } else if x < 35 {
                    (404, self.rng.range(20_000, 40_000), rt, Up::Ok)
                } else if x < 40 {
                    (499, 0, self.rng.range(2_000, 30_000), Up::Ok)
                } else if x < 42 && path.starts_with(b"/wp-json") {
                    (200, self.rng.range(150_001, 900_000), rt, Up::Ok)
                } else {
                    (200, self.rng.range(900, 90_000), rt, Up::Ok)
                }
            }
        };
        if spec.route == Route::Api {
            (status, bytes, rt, up) = (200, self.rng.range(80, 400), self.rng.range(4, 60), Up::Ok);
        }
        let mut incident = None;
        if spec.route != Route::Static
            && let Some(o) = plan.outages.iter().find(|o| {
                o.route == spec.route
                    && o.start <= t
                    && t < o.end
                    && o.path
                        .is_none_or(|p| path.split(|&b| b == b'?').next() == Some(p.as_bytes()))
            })
        {
            let e = if t < o.switch { o.first } else { o.then };
            status = e.status();
            bytes = e.bytes();
            rt = if e == UpErr::TooBig {
                self.rng.range(40, 400)
            } else {
                self.rng.below(2)
            };
            up = Up::Err(e);
            incident = Some((o.incident, o.phase));
        } else if spec.route != Route::Static
            && let Some(i) = plan
                .storms
                .iter()
                .position(|s| s.route == spec.route && s.start <= t && t < s.end)
            && self.storm_fails(i, plan.storms[i].share)
        {
            let s = &plan.storms[i];
            let e = s.pick(self.rng.unit());
            status = e.status();
            bytes = e.bytes();
            rt = match e {
                UpErr::TimedOut => 60_000 + self.rng.below(5),
                UpErr::Reset | UpErr::Premature => self.rng.range(40, 3000),
                UpErr::FatalClose | UpErr::Fatal500 => self.rng.range(800, 6_000),
                UpErr::TooBig => self.rng.range(40, 400),
                _ => self.rng.below(3),
            };
            up = Up::Err(e);
            incident = Some((s.incident, 0));
        }
        let clients = std::mem::take(&mut self.clients);
        let c = &clients[ci];
        let referer = *self.rng.pick(REFERERS);
        let proto = if x.is_multiple_of(3) {
            "HTTP/1.1"
        } else {
            "HTTP/2.0"
        };
        let r = Req {
            t,
            ip: &c.ip,
            ua: c.ua,
            referer,
            method: spec.method,
            path: &path,
            proto,
            status,
            bytes,
            rt_ms: rt,
            up,
            api: spec.route == Route::Api,
            ray: None,
        };
        let res = self.request(&r, incident, incident.is_none(), None);
        self.clients = clients;
        self.path = path;
        res
    }
}

/// A gateway error's path without its query, and the admin-ajax action.
pub fn path_key(path: &[u8]) -> (String, Option<String>) {
    let s = String::from_utf8_lossy(path);
    let (p, q) = s.split_once('?').unwrap_or((&s, ""));
    let action = if p.ends_with("admin-ajax.php") {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("action="))
            .map(str::to_string)
    } else {
        None
    };
    (p.to_string(), action)
}

/// Bytes per background access line, measured on a dry run of the same
/// generator.
pub fn bytes_per_request(cfg: &Config) -> anyhow::Result<f64> {
    let dry = Config {
        out: None,
        placed: None,
        malformed_rate: 0.0,
        incidents: Vec::new(),
        size: None,
        zone_name: String::new(),
        witnesses: Witnesses::default(),
        ..*cfg
    };
    let mut w = World::new(&dry, 0)?;
    let plan = Plan::default();
    let n = 20_000;
    for i in 0..n {
        w.background(cfg.start + i, &plan)?;
    }
    Ok(w.access.total() as f64 / n as f64)
}

/// The least duration (ms) that holds `n` incidents at least
/// [`MIN_GAP`] apart.
pub fn min_duration(n: usize) -> i64 {
    if n == 0 {
        0
    } else {
        (n as i64 + 1) * (MIN_GAP + MIN_LEN)
    }
}

/// The longest stretch of `[start, end)` at least `margin` from every
/// window.
fn quiet_longest(windows: &[(i64, i64)], start: i64, end: i64, margin: i64) -> Option<(i64, i64)> {
    let mut from = start;
    let mut best: Option<(i64, i64)> = None;
    for &(s, e) in windows.iter().chain([(end + margin, end + margin)].iter()) {
        let q = (from, s - margin);
        if q.1 > q.0 && best.is_none_or(|b| q.1 - q.0 > b.1 - b.0) {
            best = Some(q);
        }
        from = from.max(e + margin);
    }
    best
}

/// Writes `plan`'s php-fpm line in the configured form.
fn fpm_line(w: &mut World, journal: bool, t: i64, pid: u32, body: &[u8]) -> anyhow::Result<()> {
    let out = &mut w.fpm.buf;
    if !journal {
        if pid == 0 {
            // systemd's own lines exist only in the journal.
            return Ok(());
        }
        out.push(b'[');
        out.extend_from_slice(w.st_fpm.get(t));
        out.extend_from_slice(b"] ");
        out.extend_from_slice(body);
        out.push(b'\n');
        return w.fpm.end_line().map_err(Into::into);
    }
    out.extend_from_slice(w.st_fpm.get(t));
    if pid == 0 {
        out.extend_from_slice(b" vm systemd[1]: ");
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b" vm php-fpm8.2[");
        crate::num::u64(out, pid as u64);
        out.extend_from_slice(b"]: ");
        // `WARNING: text` is written `[WARNING] text` with syslog.
        match body.iter().position(|&b| b == b':') {
            Some(i) => {
                out.push(b'[');
                out.extend_from_slice(&body[..i]);
                out.push(b']');
                out.extend_from_slice(&body[i + 1..]);
            }
            None => out.extend_from_slice(body),
        }
    }
    out.push(b'\n');
    w.fpm.end_line().map_err(Into::into)
}

/// Generates the log set; returns `truth.json`'s document.
pub fn run(cfg: &Config) -> anyhow::Result<Value> {
    if cfg.incidents.contains(&Kind::EdgeOnly) && !cfg.cloudflare {
        anyhow::bail!(
            "edge_only needs the edge's log: add --cloudflare (or leave edge_only out of --incidents)"
        );
    }
    let messy = cfg.messy || cfg.incidents.iter().any(|k| k.is_scenario());
    if cfg.heavy && (messy || cfg.placed.is_some() || !cfg.incidents.is_empty()) {
        anyhow::bail!(
            "a failure-heavy day draws its own incidents: no messy plan, no incident list"
        );
    }
    let n = cfg.incidents.len();
    // The messy plan spaces its scenarios itself (and says when they do
    // not fit).
    let need = if messy || cfg.placed.is_some() {
        0
    } else {
        min_duration(n)
    };
    let (duration, rate) = match cfg.size {
        // A failure-heavy day is a day: the size sets the rate.
        Some(size) if cfg.heavy => (
            heavy::DAY,
            size as f64 / bytes_per_request(cfg)? / (heavy::DAY as f64 / 1000.0),
        ),
        None if cfg.heavy => (heavy::DAY, cfg.rate),
        Some(size) => {
            let per = bytes_per_request(cfg)?;
            let d = ((size as f64 / per / cfg.rate) * 1000.0).ceil() as i64;
            if d >= need {
                (d, cfg.rate)
            } else {
                // Too few requests at this rate for the incidents' spacing:
                // the same bytes over a longer time.
                (need, size as f64 / per / (need as f64 / 1000.0))
            }
        }
        None => {
            if cfg.duration < need {
                anyhow::bail!(
                    "--duration {}s is too short for {n} incidents at least {} min apart: give at least {}m, or fewer --incidents",
                    cfg.duration / 1000,
                    MIN_GAP / 60_000,
                    (need + 59_999) / 60_000
                );
            }
            (cfg.duration, cfg.rate)
        }
    };
    let (start, end) = (cfg.start, cfg.start + duration);
    let root = Rng::new(cfg.seed);
    let day = cfg
        .heavy
        .then(|| heavy::draw(&mut root.fork(9), start, end));
    let kinds: &[Kind] = day.as_ref().map_or(&cfg.incidents, |d| &d.kinds);
    let placed = day.as_ref().map(|d| &d.windows).or(cfg.placed.as_ref());
    let n = kinds.len();
    let mut plan = Plan::default();
    let mut bg = Known::default();
    let mut lone = Vec::new();
    let windows: Vec<(i64, i64)>;
    if messy {
        let strict = !cfg.incidents.is_empty();
        let kinds = if strict {
            cfg.incidents.clone()
        } else {
            messy::default_kinds(cfg.seed, &mut root.fork(8), cfg.cloudflare)
        };
        let mut b = Builder::new(root.fork(4), &mut plan);
        // PHP's share of the background requests.
        let php_rps = rate * 0.62;
        let placed = messy::schedule(
            &mut b,
            &kinds,
            start,
            end,
            php_rps,
            strict,
            NOISE_MARGIN,
            &mut bg,
        )?;
        windows = placed.spans;
        let mut oom = Vec::new();
        if let Some((a, z)) = quiet_longest(&windows, start, end, messy::BG_MARGIN)
            && z - a >= 600_000
        {
            let t = a + (z - a) / 2;
            b.mysqld_oom(t, &mut bg);
            oom.push(t);
        }
        lone = messy::place_lone_segfaults(&mut b, &windows, start, end, &oom, &mut bg);
    } else {
        // Incidents: evenly spread, at least MIN_GAP apart, at most 5 min
        // long.
        let slot = duration / (n as i64 + 1);
        let len = (slot - MIN_GAP).clamp(MIN_LEN, 300_000);
        windows = match placed {
            Some(p) => p.clone(),
            None => (0..n)
                .map(|i| {
                    let c = start + duration * (i as i64 + 1) / (n as i64 + 1);
                    (c - len / 2, c + len / 2)
                })
                .collect(),
        };
        // Quiet stretches for routine noise, between the incidents.
        let mut quiet = Vec::new();
        let mut from = start;
        for &(s, e) in &windows {
            quiet.push((from, s - NOISE_MARGIN));
            from = e + NOISE_MARGIN;
        }
        quiet.push((from, end));
        let mut b = Builder::new(root.fork(4), &mut plan);
        if let Some(ids) = cfg.ids_seed {
            b.same_pids(Rng::new(ids).fork(4));
        }
        for (i, &kind) in kinds.iter().enumerate() {
            b.noise(quiet[i].0, quiet[i].1, &mut bg);
            b.add(kind, windows[i].0, windows[i].1);
        }
        b.noise(quiet[n].0, quiet[n].1, &mut bg);
        // The kernel OOM-kills mysqld once, in the middle of the longest
        // quiet stretch when it is 10 min or more.
        if let Some(&(a, z)) = quiet.iter().max_by_key(|(a, z)| (z - a, -a))
            && z - a >= 600_000
        {
            b.mysqld_oom(a + (z - a) / 2, &mut bg);
        }
    }
    let oom_at: Vec<i64> = if bg.oom_kills > 0 {
        vec![
            plan.kern
                .iter()
                .find(|l| l.1.starts_with(b"mysqld"))
                .map_or(0, |l| l.0),
        ]
    } else {
        Vec::new()
    };
    // A few isolated gateway errors, 4 min or more from every incident and
    // 2 min from the mysqld OOM kill; in the messy plan 10 min from every
    // incident and 3 min from one another and the lone segfaults (never a
    // run that looks like a burst); a fleet's node keeps them 3 min apart
    // too, and so does a failure-heavy day, which has one an hour.
    let margin = if messy { messy::BG_MARGIN } else { 240_000 };
    let mut placed_bg: Vec<i64> = lone.clone();
    let mut rng = root.fork(5);
    let n_bg = if duration < 120_000 {
        0
    } else if cfg.heavy {
        3 + duration / heavy::BACKGROUND_EVERY
    } else {
        3 + (duration / 7_200_000).min(20)
    };
    let kinds = [UpErr::Premature, UpErr::TimedOut, UpErr::Reset];
    for j in 0..n_bg {
        let t = (0..50).find_map(|_| {
            let t = start + 30_000 + rng.below((duration - 60_000).max(1) as u64) as i64;
            let far = windows
                .iter()
                .all(|&(s, e)| t < s - margin || t > e + margin)
                && oom_at.iter().all(|&o| (t - o).abs() > 120_000)
                && (!(messy || placed.is_some())
                    || placed_bg.iter().all(|&o| (t - o).abs() > 180_000));
            far.then_some(t)
        });
        let Some(t) = t else { continue };
        placed_bg.push(t);
        let e = kinds[j as usize % kinds.len()];
        let rt_ms = if e == UpErr::TimedOut {
            60_000
        } else {
            rng.range(50, 2000)
        };
        plan.reqs.push(crate::incidents::PReq {
            t,
            method: "GET",
            path: "/product/linen-duvet-cover/".into(),
            status: e.status(),
            bytes: e.bytes(),
            rt_ms,
            err: Some(e),
            incident: None,
            api: false,
            edge: None,
            phase: 0,
        });
    }
    if let Some(d) = &day {
        let lone_bg = (placed_bg.len() - lone.len()) as u64;
        heavy::storms(&mut plan, d, cfg.seed, rate, duration, lone_bg);
    }
    // A request the plan made succeed cannot have while php-fpm was down
    // or refusing (a restart inside an incident, a permission window).
    let down: Vec<(i64, i64)> = plan
        .outages
        .iter()
        .filter(|o| o.route == Route::Php && o.path.is_none())
        .map(|o| (o.start, o.end))
        .collect();
    plan.reqs
        .retain(|r| r.err.is_some() || r.api || !down.iter().any(|&(a, b)| a <= r.t && r.t < b));
    plan.sort();

    let mut w = World::new(cfg, plan.incidents.len())?;
    let mean_gap_us = (1e6 / rate).max(1.0);
    let mut t_us = start as f64 * 1000.0;
    let (mut ri, mut fi, mut si, mut ki, mut ei) = (0, 0, 0, 0, 0);
    let mut client_rng = root.fork(6);
    loop {
        t_us += w.rng.unit() * 2.0 * mean_gap_us;
        let t = (t_us / 1000.0) as i64;
        let done = t >= end;
        let upto = if done { i64::MAX } else { t };
        while ri < plan.reqs.len() && plan.reqs[ri].t <= upto {
            let p = &plan.reqs[ri];
            let c = &w.clients[client_rng.below(w.clients.len() as u64) as usize];
            let (ip, ua) = (c.ip.clone(), c.ua);
            let r = Req {
                t: p.t,
                ip: &ip,
                ua,
                referer: "https://shop.example.com/",
                method: p.method,
                path: p.path.as_bytes(),
                proto: "HTTP/2.0",
                status: p.status,
                bytes: p.bytes,
                rt_ms: p.rt_ms,
                up: p.err.map_or(Up::Ok, Up::Err),
                api: p.api,
                ray: None,
            };
            w.request(&r, p.incident.map(|i| (i, p.phase)), false, p.edge)?;
            ri += 1;
        }
        while ei < plan.edge_only.len() && plan.edge_only[ei].t <= upto {
            let p = &plan.edge_only[ei];
            let ci = client_rng.below(w.clients.len() as u64) as usize;
            let ip = w.clients[ci].ip.clone();
            let e = Edge {
                start: p.t,
                ip: &ip,
                method: p.method,
                uri: p.path.as_bytes(),
                status: p.status,
                origin: None,
                origin_ms: 0,
                ray: w.ray_rng.next_u64(),
            };
            w.edge_line(&e, Some(p.incident))?;
            ei += 1;
        }
        while fi < plan.fpm.len() && plan.fpm[fi].0 <= upto {
            let (lt, pid, body) = &plan.fpm[fi];
            fpm_line(&mut w, cfg.fpm_journal, *lt, *pid, body)?;
            fi += 1;
        }
        while si < plan.slow.len() && plan.slow[si].0 <= upto {
            let (lt, body) = &plan.slow[si];
            w.slow.buf.extend_from_slice(b"\n[");
            w.slow.buf.extend_from_slice(w.st_slow.get(*lt));
            w.slow.buf.push(b']');
            w.slow.buf.extend_from_slice(body);
            w.slow.lines += body.iter().filter(|&&b| b == b'\n').count() as u64;
            w.slow.end_line()?;
            si += 1;
        }
        while ki < plan.kern.len() && plan.kern[ki].0 <= upto {
            let (lt, body) = &plan.kern[ki];
            w.kern.buf.push(b'[');
            w.kern.buf.extend_from_slice(w.st_kern.get(*lt));
            w.kern.buf.extend_from_slice(b"] ");
            w.kern.buf.extend_from_slice(body);
            w.kern.buf.push(b'\n');
            w.kern.end_line()?;
            ki += 1;
        }
        if done {
            break;
        }
        w.background(t, &plan)?;
    }
    for o in [
        &mut w.access,
        &mut w.error,
        &mut w.fpm,
        &mut w.slow,
        &mut w.kern,
        &mut w.edge,
    ] {
        o.flush()?;
    }
    let written = witness::write(
        cfg.witnesses,
        &Scene {
            plan: &plan,
            spans: &windows,
            margin,
            start,
            end,
            seed: cfg.seed,
            zone: cfg.zone,
            access_format: cfg.access_format,
            cloudflare: cfg.cloudflare,
        },
        cfg.out.as_deref(),
    )?;
    Ok(truth(
        cfg,
        &w,
        &plan,
        &bg,
        &lone,
        (start, end),
        rate,
        &written,
    ))
}

fn map<K: ToString, V: Copy + Into<Value>>(m: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::Object(
        m.into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect(),
    )
}

fn map_values(m: &BTreeMap<&'static str, Value>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn top(paths: &HashMap<(String, Option<String>), u64>) -> Value {
    let mut paths: Vec<_> = paths.iter().collect();
    paths.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    // The next path's count says how clear the top one is.
    let next = paths.get(1).map_or(0, |p| *p.1);
    paths
        .first()
        .map(|((p, a), n)| json!({"path": p, "action": a, "count": n, "next_count": next}))
        .unwrap_or(Value::Null)
}

fn fpm_json(k: &Known) -> Value {
    json!({
        "max_children_reached": k.max_children_reached,
        "seems_busy": k.seems_busy,
        "child_signals": map(k.child_signals.iter().map(|(k, v)| (k, *v))),
        "child_exits": k.child_exits,
        "slow_requests": k.slow_requests,
        "execution_timeouts": k.execution_timeouts,
        "restarts": k.restarts,
        "reloads": k.reloads,
        "php_fatal_errors": k.php_fatal_errors,
    })
}

/// A phase's class from the upstream errors of its requests (CONTRACT:
/// `phases`): a restart's refused-then-missing errors are one phase,
/// `refused` when refused ≥ missing.
fn phase_class(up: &BTreeMap<&'static str, u64>) -> &'static str {
    let g = |k: &str| up.get(k).copied().unwrap_or(0);
    let total: u64 = up.values().sum();
    let (refused, missing) = (g("connect_refused"), g("connect_enoent"));
    let timed = g("timed_out") + g("connect_timed_out");
    let broken = g("reset_by_peer") + g("premature_close");
    if total == 0 {
        "other"
    } else if 2 * g("connect_eacces") > total {
        "permission"
    } else if 2 * (refused + missing) > total {
        if refused >= missing {
            "refused"
        } else {
            "missing_socket"
        }
    } else if 2 * broken > total {
        "broken_connection"
    } else if 10 * g("connect_eagain") >= 4 * total {
        "saturation"
    } else if 2 * timed > total {
        "timeout"
    } else {
        "other"
    }
}

/// An incident's phases: its segments in time order, classed, neighbours
/// of one class merged.
fn phases(z: Zone, c: &IncCount, edge_only: bool) -> Value {
    if edge_only {
        let n: u64 = c.edge_status.values().sum();
        return json!([{"class": "edge", "gateway_errors": n, "upstream_errors": {}}]);
    }
    let mut out: Vec<(&'static str, PhaseCount)> = Vec::new();
    for p in c.phases.values().filter(|p| p.gw > 0) {
        let class = phase_class(&p.upstream);
        match out.last_mut() {
            Some((cl, acc)) if *cl == class => {
                acc.gw += p.gw;
                acc.last = p.last;
                for (k, n) in &p.upstream {
                    *acc.upstream.entry(k).or_default() += n;
                }
            }
            _ => out.push((
                class,
                PhaseCount {
                    gw: p.gw,
                    upstream: p.upstream.clone(),
                    first: p.first,
                    last: p.last,
                },
            )),
        }
    }
    Value::Array(
        out.into_iter()
            .map(|(class, p)| {
                json!({
                    "class": class,
                    "gateway_errors": p.gw,
                    "start": p.first.map(|t| rfc3339(z, t)),
                    "end": rfc3339(z, p.last),
                    "upstream_errors": map(p.upstream.iter().map(|(k, v)| (*k, *v))),
                })
            })
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
fn truth(
    cfg: &Config,
    w: &World,
    plan: &Plan,
    bg: &Known,
    lone: &[i64],
    (start, end): (i64, i64),
    rate: f64,
    written: &witness::Written,
) -> Value {
    let z = cfg.zone;
    let mut incidents = Vec::new();
    let mut sums = bg.clone();
    for (n, (inc, c)) in plan.incidents.iter().zip(&w.inc).enumerate() {
        let (cause, verdict, handoff) = match &inc.diag {
            Some(d) => (d.cause, d.verdict, d.handoff),
            None => inc.kind.diagnosis(),
        };
        let contributing = inc
            .diag
            .as_ref()
            .map_or(Vec::new(), |d| d.contributing.clone());
        let shape = inc
            .diag
            .as_ref()
            .map_or(Value::Null, |d| map(d.shape.iter().copied()));
        let k = &inc.known;
        let gw: u64 = c.status.values().sum();
        let edge_gw: u64 = c.edge_status.values().sum();
        sums.max_children_reached += k.max_children_reached;
        sums.seems_busy += k.seems_busy;
        sums.child_exits += k.child_exits;
        sums.slow_requests += k.slow_requests;
        sums.execution_timeouts += k.execution_timeouts;
        sums.restarts += k.restarts;
        sums.php_fatal_errors += k.php_fatal_errors;
        sums.slowlog_traces += k.slowlog_traces;
        sums.oom_kills += k.oom_kills;
        sums.segfaults += k.segfaults;
        sums.reloads += k.reloads;
        for (s, n) in &k.child_signals {
            *sums.child_signals.entry(s).or_default() += n;
        }
        // The incident's times and top path: the origin's gateway errors,
        // or the edge's when the origin logged none.
        let (first, last, top_path) = if gw > 0 {
            (c.first, c.last, top(&c.paths))
        } else {
            (c.edge_first, c.edge_last, top(&c.edge_paths))
        };
        incidents.push(json!({
            "kind": inc.kind.name(),
            "cause": cause,
            "verdict": verdict,
            "handoff": handoff,
            "contributing_causes": contributing,
            "phases": phases(z, c, gw == 0),
            "shape": shape,
            "start": first.map(|t| rfc3339(z, t)),
            "end": first.map(|_| rfc3339(z, last)),
            "gateway_errors": gw,
            "status_502": c.status.get(&502).copied().unwrap_or(0),
            "status_504": c.status.get(&504).copied().unwrap_or(0),
            "edge_gateway_errors": edge_gw,
            "edge_status": map(c.edge_status.iter().map(|(k, v)| (k, *v))),
            "upstream_errors": map(c.upstream.iter().map(|(k, v)| (k, *v))),
            "top_path": top_path,
            "culprit": k.culprit.map(|(kind, name, call)| json!({"kind": kind, "name": name, "call": call})),
            "action": k.action,
            "module": k.module,
            "fpm": fpm_json(k),
            "slowlog_traces": k.slowlog_traces,
            "kernel": {"oom_kills": k.oom_kills, "segfaults": k.segfaults},
            "witness_evidence": written.per_incident.get(n).map_or(json!({}), map_values),
        }));
    }
    let requests: u64 = w.status.values().sum();
    let fpm_name = if cfg.fpm_journal {
        "php-fpm.journal"
    } else {
        "php-fpm.log"
    };
    let mut lines = serde_json::Map::new();
    let mut files = vec![
        ("access.log", &w.access),
        ("error.log", &w.error),
        (fpm_name, &w.fpm),
        ("www-slow.log", &w.slow),
        ("kern.log", &w.kern),
    ];
    if cfg.cloudflare {
        files.push(("cloudflare.log", &w.edge));
    }
    for (name, o) in files {
        lines.insert(name.to_string(), o.lines.into());
    }
    for (name, n) in &written.files {
        lines.insert(name.to_string(), (*n).into());
    }
    let e = &w.edge_count;
    let edge = if cfg.cloudflare {
        json!({
            "requests": e.requests,
            "status": map(e.status.iter().map(|(k, v)| (k, *v))),
            "origin_status": map(e.origin_status.iter().map(|(k, v)| (k, *v))),
            "gateway_errors": e.gateway_errors,
        })
    } else {
        Value::Null
    };
    // Lone segfaults: one 502 each, a finding of the background.
    let findings = if lone.is_empty() {
        json!([])
    } else {
        json!([{
            "cause": "segfault",
            "verdict": "crash",
            "count": lone.len(),
            "first": rfc3339(z, lone[0]),
            "last": rfc3339(z, *lone.last().unwrap()),
        }])
    };
    let php_fpm_fatals = sums.php_fatal_errors;
    let php_log_fatals = written.php_levels.get("fatal").copied().unwrap_or(0);
    let mut php_by_file = json!({"error.log": w.php_fatal_nginx, fpm_name: php_fpm_fatals});
    if cfg.witnesses.php_errors {
        php_by_file["php-error.log"] = php_log_fatals.into();
    }
    let config_findings = written
        .truth
        .get("config")
        .map_or(Value::Null, |c| c["config_findings"].clone());
    json!({
        "schema": "baton.truth.v1",
        "seed": cfg.seed,
        "tz": cfg.zone_name,
        "access_format": cfg.access_format.name(),
        "fpm_log": if cfg.fpm_journal { "journal" } else { "file" },
        "cloudflare": cfg.cloudflare,
        "start": rfc3339(z, start),
        "end": rfc3339(z, end),
        "rate": rate,
        "heavy": cfg.heavy,
        "witnesses": {
            "php_errors": cfg.witnesses.php_errors,
            "mysql_slow": cfg.witnesses.mysql_slow,
            "config": cfg.witnesses.config,
            "written": written.truth,
        },
        "config_findings": config_findings,
        "incidents": incidents,
        "background": {
            "gateway_errors": w.background_gw,
            "findings": findings,
            "edge_gateway_errors": e.background_gateway_errors,
            "fpm": fpm_json(bg),
            "kernel": {"oom_kills": bg.oom_kills, "oom_victims": if bg.oom_kills > 0 { json!(["mysqld"]) } else { json!([]) }, "noise_lines": bg.kernel_lines},
        },
        "totals": {
            "requests": requests,
            "status": map(w.status.iter().map(|(k, v)| (k, *v))),
            "upstream_errors": map(w.upstream.iter().map(|(k, v)| (*k, *v))),
            "upstream_warnings": w.upstream_warnings,
            "php_messages": {"fatal": w.php_fatal_nginx + php_fpm_fatals + php_log_fatals},
            "php_messages_by_file": php_by_file,
            "php_error_log_levels": map(written.php_levels.iter().map(|(k, v)| (*k, *v))),
            "malformed": map(MALFORMED.iter().zip(w.malformed)),
            "fpm": fpm_json(&sums),
            "slowlog": {"traces": sums.slowlog_traces},
            "kernel": {"oom_kills": sums.oom_kills, "segfaults": sums.segfaults},
            "edge": edge,
            "lines": lines,
            "bytes": {"access.log": w.access.total()},
        },
    })
}
