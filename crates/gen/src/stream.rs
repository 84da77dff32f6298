//! The stream: background traffic in time order, with the plan's requests
//! and lines merged in at their instants, and the truth counted from what
//! is actually written.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Value, json};

use crate::clock::{Stamp, Style, Zone, rfc3339};
use crate::incidents::{Builder, Kind, Plan};
use crate::logs::{self, AccessFormat, Out, Req, Up, UpErr};
use crate::model::{self, BOT_PATHS, HUMAN_PATHS, REFERERS, Route};
use crate::rng::{Rng, Weighted};

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
    pub out: Option<PathBuf>,
}

const MALFORMED: [&str; 4] = ["truncated", "binary", "invalid_utf8", "huge"];

#[derive(Default)]
struct IncCount {
    status: BTreeMap<u16, u64>,
    upstream: BTreeMap<&'static str, u64>,
    first: Option<i64>,
    last: i64,
    paths: HashMap<(String, Option<String>), u64>,
}

struct World<'a> {
    cfg: &'a Config,
    rng: Rng,
    clients: Vec<model::Client>,
    human: Weighted,
    bots: Weighted,
    access: Out,
    error: Out,
    fpm: Out,
    slow: Out,
    kern: Out,
    st_access: Stamp,
    st_error: Stamp,
    st_fpm: Stamp,
    st_slow: Stamp,
    st_kern: Stamp,
    conn: u64,
    path: Vec<u8>,
    status: BTreeMap<u16, u64>,
    upstream: [u64; 7],
    upstream_warnings: u64,
    malformed: [u64; 4],
    background_gw: u64,
    inc: Vec<IncCount>,
}

fn open(cfg: &Config, name: &str) -> anyhow::Result<Out> {
    Ok(Out::new(match &cfg.out {
        Some(dir) => {
            let p = dir.join(name);
            Some(File::create(&p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => None,
    }))
}

impl<'a> World<'a> {
    fn new(cfg: &'a Config, n_inc: usize) -> anyhow::Result<World<'a>> {
        let root = Rng::new(cfg.seed);
        let z = cfg.zone;
        Ok(World {
            cfg,
            rng: root.fork(1),
            clients: model::clients(&mut root.fork(2), 3000),
            human: model::weights(HUMAN_PATHS),
            bots: model::weights(BOT_PATHS),
            access: open(cfg, "access.log")?,
            error: open(cfg, "error.log")?,
            fpm: open(cfg, "php-fpm.log")?,
            slow: open(cfg, "www-slow.log")?,
            kern: open(cfg, "kern.log")?,
            st_access: Stamp::new(
                z,
                if cfg.access_format == AccessFormat::Json {
                    Style::Iso
                } else {
                    Style::Access
                },
            ),
            st_error: Stamp::new(z, Style::Error),
            st_fpm: Stamp::new(z, Style::Fpm),
            st_slow: Stamp::new(z, Style::Fpm),
            st_kern: Stamp::new(z, Style::Dmesg),
            conn: 1000 + root.fork(3).below(5000),
            path: Vec::with_capacity(256),
            status: BTreeMap::new(),
            upstream: [0; 7],
            upstream_warnings: 0,
            malformed: [0; 4],
            background_gw: 0,
            inc: (0..n_inc).map(|_| IncCount::default()).collect(),
        })
    }

    /// Writes one request to the access log (and its error-log line).
    /// `may_break`: the line may be replaced by a malformed one.
    fn request(&mut self, r: &Req, incident: Option<usize>, may_break: bool) -> anyhow::Result<()> {
        self.conn += 1 + self.rng.below(3);
        let conn = self.conn;
        let rid = ((self.rng.next_u64() as u128) << 64) | self.rng.next_u64() as u128;
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
            logs::upstream_error_line(&mut self.error.buf, &mut self.st_error, r, e, conn);
            self.error.end_line()?;
            self.upstream[e.index()] += 1;
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
            Some(i) if gw => {
                let c = &mut self.inc[i];
                *c.status.entry(r.status).or_default() += 1;
                if let Up::Err(e) = r.up {
                    *c.upstream.entry(e.kind()).or_default() += 1;
                }
                c.first.get_or_insert(r.t);
                c.last = r.t;
                let (p, action) = path_key(r.path);
                *c.paths.entry((p, action)).or_default() += 1;
            }
            None if gw => self.background_gw += 1,
            _ => {}
        }
        Ok(())
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
            Route::Php => {
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
        let mut incident = None;
        if spec.route == Route::Php
            && let Some(o) = plan.outages.iter().find(|o| o.start <= t && t < o.end)
        {
            {
                let e = if t < o.switch { o.first } else { o.then };
                status = 502;
                bytes = 157;
                rt = self.rng.below(2);
                up = Up::Err(e);
                incident = Some(o.incident);
            }
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
        };
        let res = self.request(&r, incident, incident.is_none());
        self.clients = clients;
        self.path = path;
        res
    }
}

/// A gateway error's path without its query, and the admin-ajax action.
fn path_key(path: &[u8]) -> (String, Option<String>) {
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
fn bytes_per_request(cfg: &Config) -> anyhow::Result<f64> {
    let dry = Config {
        out: None,
        malformed_rate: 0.0,
        incidents: Vec::new(),
        size: None,
        zone_name: String::new(),
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

/// Generates the log set; returns `truth.json`'s document.
pub fn run(cfg: &Config) -> anyhow::Result<Value> {
    let duration = match cfg.size {
        Some(size) => {
            let per = bytes_per_request(cfg)?;
            ((size as f64 / per / cfg.rate) * 1000.0).ceil() as i64
        }
        None => cfg.duration,
    };
    let (start, end) = (cfg.start, cfg.start + duration);
    let root = Rng::new(cfg.seed);
    // Incidents: evenly spread, each a fraction of the slot between them.
    let mut plan = Plan::default();
    let n = cfg.incidents.len() as i64;
    let len = (duration / (n.max(1) * 4)).clamp(20_000, 300_000);
    {
        let mut b = Builder::new(root.fork(4), &mut plan);
        for (i, &kind) in cfg.incidents.iter().enumerate() {
            let c = start + duration * (i as i64 + 1) / (n + 1);
            b.add(kind, c - len / 2, c + len / 2);
        }
    }
    // A few isolated gateway errors away from every incident.
    let mut rng = root.fork(5);
    let n_bg = if duration < 120_000 {
        0
    } else {
        3 + (duration / 7_200_000).min(20)
    };
    let kinds = [UpErr::Premature, UpErr::TimedOut, UpErr::Reset];
    for j in 0..n_bg {
        // Up to 50 draws for an instant at least one incident length away
        // from every incident.
        let t = (0..50).find_map(|_| {
            let t = start + 30_000 + rng.below((duration - 60_000).max(1) as u64) as i64;
            let far = plan
                .incidents
                .iter()
                .all(|inc| t < inc.window.0 - 2 * len || t > inc.window.1 + 2 * len);
            far.then_some(t)
        });
        let Some(t) = t else { continue };
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
            bytes: if e.status() == 504 { 167 } else { 157 },
            rt_ms,
            err: Some(e),
            incident: None,
        });
    }
    plan.sort();

    let mut w = World::new(cfg, plan.incidents.len())?;
    let mean_gap_us = (1e6 / cfg.rate).max(1.0);
    let mut t_us = start as f64 * 1000.0;
    let (mut ri, mut fi, mut si, mut ki) = (0, 0, 0, 0);
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
            };
            w.request(&r, p.incident, false)?;
            ri += 1;
        }
        while fi < plan.fpm.len() && plan.fpm[fi].0 <= upto {
            let (lt, body) = &plan.fpm[fi];
            w.fpm.buf.push(b'[');
            w.fpm.buf.extend_from_slice(w.st_fpm.get(*lt));
            w.fpm.buf.extend_from_slice(b"] ");
            w.fpm.buf.extend_from_slice(body);
            w.fpm.buf.push(b'\n');
            w.fpm.end_line()?;
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
    ] {
        o.flush()?;
    }
    Ok(truth(cfg, &w, &plan, start, end))
}

fn map<K: ToString, V: Copy + Into<Value>>(m: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::Object(
        m.into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect(),
    )
}

fn truth(cfg: &Config, w: &World, plan: &Plan, start: i64, end: i64) -> Value {
    let z = cfg.zone;
    let mut incidents = Vec::new();
    let mut sums = crate::incidents::Known::default();
    for (inc, c) in plan.incidents.iter().zip(&w.inc) {
        let (cause, verdict, handoff) = inc.kind.diagnosis();
        let k = &inc.known;
        let mut paths: Vec<_> = c.paths.iter().collect();
        paths.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top = paths
            .first()
            .map(|((p, a), n)| json!({"path": p, "action": a, "count": n}));
        let gw: u64 = c.status.values().sum();
        sums.max_children_reached += k.max_children_reached;
        sums.slow_requests += k.slow_requests;
        sums.execution_timeouts += k.execution_timeouts;
        sums.restarts += k.restarts;
        sums.slowlog_traces += k.slowlog_traces;
        sums.oom_kills += k.oom_kills;
        sums.segfaults += k.segfaults;
        for (s, n) in &k.child_signals {
            *sums.child_signals.entry(s).or_default() += n;
        }
        incidents.push(json!({
            "kind": inc.kind.name(),
            "cause": cause,
            "verdict": verdict,
            "handoff": handoff,
            "start": c.first.map(|t| rfc3339(z, t)),
            "end": c.first.map(|_| rfc3339(z, c.last)),
            "gateway_errors": gw,
            "status_502": c.status.get(&502).copied().unwrap_or(0),
            "status_504": c.status.get(&504).copied().unwrap_or(0),
            "upstream_errors": map(c.upstream.iter().map(|(k, v)| (k, *v))),
            "top_path": top,
            "culprit": k.culprit.map(|(name, call)| json!({"kind": "plugin", "name": name, "call": call})),
            "action": k.action,
            "module": k.module,
            "fpm": {
                "max_children_reached": k.max_children_reached,
                "child_signals": map(k.child_signals.iter().map(|(k, v)| (k, *v))),
                "slow_requests": k.slow_requests,
                "execution_timeouts": k.execution_timeouts,
                "restarts": k.restarts,
            },
            "slowlog_traces": k.slowlog_traces,
            "kernel": {"oom_kills": k.oom_kills, "segfaults": k.segfaults},
        }));
    }
    let requests: u64 = w.status.values().sum();
    json!({
        "schema": "baton.truth.v1",
        "seed": cfg.seed,
        "tz": cfg.zone_name,
        "access_format": match cfg.access_format {
            AccessFormat::Combined => "combined",
            AccessFormat::Timing => "timing",
            AccessFormat::Json => "json",
        },
        "start": rfc3339(z, start),
        "end": rfc3339(z, end),
        "rate": cfg.rate,
        "incidents": incidents,
        "background": {"gateway_errors": w.background_gw},
        "totals": {
            "requests": requests,
            "status": map(w.status.iter().map(|(k, v)| (k, *v))),
            "upstream_errors": map(UpErr::ALL.iter().zip(w.upstream).filter(|(_, n)| *n > 0).map(|(e, n)| (e.kind(), n))),
            "upstream_warnings": w.upstream_warnings,
            "malformed": map(MALFORMED.iter().zip(w.malformed)),
            "fpm": {
                "max_children_reached": sums.max_children_reached,
                "child_signals": map(sums.child_signals.iter().map(|(k, v)| (k, *v))),
                "slow_requests": sums.slow_requests,
                "execution_timeouts": sums.execution_timeouts,
                "restarts": sums.restarts,
            },
            "slowlog": {"traces": sums.slowlog_traces},
            "kernel": {"oom_kills": sums.oom_kills, "segfaults": sums.segfaults},
            "lines": {
                "access.log": w.access.lines,
                "error.log": w.error.lines,
                "php-fpm.log": w.fpm.lines,
                "www-slow.log": w.slow.lines,
                "kern.log": w.kern.lines,
            },
            "bytes": {"access.log": w.access.total()},
        },
    })
}
