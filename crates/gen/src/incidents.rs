//! The incidents: for each kind, the requests that fail, the upstream error
//! each one gets, and the php-fpm, slowlog and kernel lines that explain
//! them, all placed on one UTC timeline.

use std::collections::BTreeMap;

use crate::logs::UpErr;
use crate::model::{DOCROOT, MAX_CHILDREN, POOL};
use crate::rng::Rng;

/// The incident kinds the generator injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Capacity,
    ExternalCall,
    Database,
    FpmRestart,
    SocketPermission,
    Segfault,
    OomKill,
    RequestFlood,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Capacity,
        Kind::ExternalCall,
        Kind::Database,
        Kind::FpmRestart,
        Kind::SocketPermission,
        Kind::Segfault,
        Kind::OomKill,
        Kind::RequestFlood,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Capacity => "capacity",
            Kind::ExternalCall => "external_call",
            Kind::Database => "database",
            Kind::FpmRestart => "fpm_restart",
            Kind::SocketPermission => "socket_permission",
            Kind::Segfault => "segfault",
            Kind::OomKill => "oom_kill",
            Kind::RequestFlood => "request_flood",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// `(cause, verdict, handoff)` per CONTRACT.
    pub fn diagnosis(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Capacity => ("max_children", "capacity", "nginx -> php-fpm"),
            Kind::ExternalCall => ("external_call", "latency", "php-fpm -> external API"),
            Kind::Database => ("database", "latency", "php-fpm -> mysql"),
            Kind::FpmRestart => ("fpm_restart", "connectivity", "nginx -> php-fpm"),
            Kind::SocketPermission => ("socket_permission", "connectivity", "nginx -> php-fpm"),
            Kind::Segfault => ("segfault", "crash", "php-fpm worker"),
            Kind::OomKill => ("oom_kill", "crash", "php-fpm worker"),
            Kind::RequestFlood => ("request_flood", "capacity", "nginx -> php-fpm"),
        }
    }
}

/// A request the plan injects (it also fixes the background requests that
/// fall into an outage).
pub struct PReq {
    pub t: i64,
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub bytes: u64,
    pub rt_ms: u64,
    pub err: Option<UpErr>,
    pub incident: Option<usize>,
}

/// A window in which every PHP request fails at connect.
pub struct Outage {
    pub start: i64,
    pub end: i64,
    /// Before this instant the error is `first`, after it `then`.
    pub switch: i64,
    pub first: UpErr,
    pub then: UpErr,
    pub incident: usize,
}

/// What the generator knows about an incident besides its requests.
#[derive(Default, Clone)]
pub struct Known {
    pub culprit: Option<(&'static str, &'static str)>,
    pub action: Option<&'static str>,
    pub module: Option<&'static str>,
    pub max_children_reached: u64,
    pub child_signals: BTreeMap<&'static str, u64>,
    pub slow_requests: u64,
    pub execution_timeouts: u64,
    pub restarts: u64,
    pub slowlog_traces: u64,
    pub oom_kills: u64,
    pub segfaults: u64,
}

pub struct Incident {
    pub kind: Kind,
    pub window: (i64, i64),
    pub known: Known,
}

/// Everything injected, each list in time order once sorted.
#[derive(Default)]
pub struct Plan {
    pub reqs: Vec<PReq>,
    pub fpm: Vec<(i64, Vec<u8>)>,
    pub slow: Vec<(i64, Vec<u8>)>,
    pub kern: Vec<(i64, Vec<u8>)>,
    pub outages: Vec<Outage>,
    pub incidents: Vec<Incident>,
}

impl Plan {
    pub fn sort(&mut self) {
        self.reqs.sort_by_key(|r| r.t);
        self.fpm.sort_by_key(|l| l.0);
        self.slow.sort_by_key(|l| l.0);
        self.kern.sort_by_key(|l| l.0);
        self.outages.sort_by_key(|o| o.start);
    }
}

const EXT_PLUGIN: &str = "shipping-rates-live";
const DB_PLUGIN: &str = "woo-product-filter";
const FLOOD_ACTION: &str = "wpls_live_search";
const OOM_ACTION: &str = "wc_export_orders";
const SEGV_MODULE: &str = "opcache.so";

/// FPM children and the master, whose pids change as workers die.
struct Pool {
    master: u32,
    children: Vec<u32>,
    next: u32,
}

impl Pool {
    fn child(&self, rng: &mut Rng) -> (usize, u32) {
        let i = rng.below(self.children.len() as u64) as usize;
        (i, self.children[i])
    }
    fn respawn(&mut self, i: usize) -> u32 {
        self.next += rng_step(self.next);
        self.children[i] = self.next;
        self.next
    }
}

fn rng_step(n: u32) -> u32 {
    1 + n % 7
}

pub struct Builder<'a> {
    rng: Rng,
    plan: &'a mut Plan,
    pool: Pool,
    idx: usize,
}

fn fpm(plan: &mut Plan, t: i64, body: String) {
    plan.fpm.push((t, body.into_bytes()));
}

fn seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

impl<'a> Builder<'a> {
    pub fn new(rng: Rng, plan: &'a mut Plan) -> Builder<'a> {
        let mut rng = rng;
        let master = 800 + rng.below(200) as u32;
        let children = (0..MAX_CHILDREN).map(|i| master + 3 + i * 2).collect();
        Builder {
            rng,
            plan,
            pool: Pool {
                master,
                children,
                next: master + 200,
            },
            idx: 0,
        }
    }

    fn req(&mut self, t: i64, method: &'static str, path: String, err: UpErr, rt_ms: u64) {
        self.plan.reqs.push(PReq {
            t,
            method,
            path,
            status: err.status(),
            bytes: if err.status() == 504 { 167 } else { 157 },
            rt_ms,
            err: Some(err),
            incident: Some(self.idx),
        });
    }

    fn ok(&mut self, t: i64, method: &'static str, path: String, rt_ms: u64) {
        let bytes = self.rng.range(900, 60000);
        self.plan.reqs.push(PReq {
            t,
            method,
            path,
            status: 200,
            bytes,
            rt_ms,
            err: None,
            incident: Some(self.idx),
        });
    }

    fn times(&mut self, s: i64, e: i64, n: u64) -> Vec<i64> {
        let mut v: Vec<i64> = (0..n)
            .map(|_| s + self.rng.below((e - s).max(1) as u64) as i64)
            .collect();
        v.sort_unstable();
        v
    }

    /// A dominant path with a spread of others, as errors cluster.
    fn path(&mut self, dominant: &str, share: f64) -> (&'static str, String) {
        const OTHERS: &[(&str, &str)] = &[
            ("GET", "/"),
            ("GET", "/cart/"),
            ("GET", "/my-account/"),
            ("GET", "/product-category/kitchen/"),
            ("GET", "/wp-json/wc/store/v1/cart"),
        ];
        if self.rng.chance(share) {
            let (m, p) = dominant.split_once(' ').unwrap();
            (if m == "POST" { "POST" } else { "GET" }, p.to_string())
        } else {
            let (m, p) = *self.rng.pick(OTHERS);
            (m, p.to_string())
        }
    }

    fn max_children(&mut self, t: i64, known: &mut Known) {
        fpm(
            self.plan,
            t,
            format!(
                "WARNING: [pool {POOL}] server reached pm.max_children setting ({MAX_CHILDREN}), consider raising it"
            ),
        );
        known.max_children_reached += 1;
    }

    fn exit(&mut self, t: i64, i: usize, pid: u32, sig: (&'static str, u32), known: &mut Known) {
        let up = self.rng.range(30_000_000, 900_000_000);
        fpm(
            self.plan,
            t,
            format!(
                "WARNING: [pool {POOL}] child {pid} exited on signal {} ({}) after {} seconds from start",
                sig.1,
                sig.0,
                seconds(up)
            ),
        );
        *known.child_signals.entry(sig.0).or_default() += 1;
        let new = self.pool.respawn(i);
        fpm(
            self.plan,
            t + 2,
            format!("NOTICE: [pool {POOL}] child {new} started"),
        );
    }

    /// A slow request: `executing too slow`, the tracing notices and its
    /// slowlog trace, `timeout` after the request started.
    fn slow_trace(
        &mut self,
        t: i64,
        pid: u32,
        method: &str,
        path: &str,
        frames: &[(&str, String)],
        known: &mut Known,
    ) {
        let us = 5_000_000 + self.rng.below(90_000);
        fpm(
            self.plan,
            t,
            format!(
                "WARNING: [pool {POOL}] child {pid}, script '{DOCROOT}/index.php' (request: \"{method} {path}\") executing too slow ({} sec), logging",
                seconds(us)
            ),
        );
        fpm(
            self.plan,
            t,
            format!("NOTICE: child {pid} stopped for tracing"),
        );
        fpm(self.plan, t, format!("NOTICE: about to trace {pid}"));
        fpm(self.plan, t, format!("NOTICE: finished trace of {pid}"));
        let mut body =
            format!("  [pool {POOL}] pid {pid}\nscript_filename = {DOCROOT}/index.php\n");
        let mut addr = 0x7f3a_1c21_3000u64 + (self.rng.below(0x100) << 12) + 0x2c0;
        for (func, loc) in frames {
            body.push_str(&format!("[0x0000{addr:012x}] {func}() {DOCROOT}/{loc}\n"));
            addr -= 0x80;
        }
        self.plan.slow.push((t, body.into_bytes()));
        known.slow_requests += 1;
        known.slowlog_traces += 1;
    }

    pub fn add(&mut self, kind: Kind, s: i64, e: i64) {
        self.idx = self.plan.incidents.len();
        let mut k = Known::default();
        let len = e - s;
        match kind {
            Kind::Capacity => {
                fpm(
                    self.plan,
                    s - 1500,
                    format!(
                        "WARNING: [pool {POOL}] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and {} total children",
                        MAX_CHILDREN - 4
                    ),
                );
                for j in 0..3 {
                    self.max_children(s - 1000 + j * len / 3, &mut k);
                }
                let n = (len / 3000).clamp(12, 80) as u64;
                for t in self.times(s, e, n) {
                    let (m, p) = self.path("GET /shop/", 0.45);
                    if self.rng.chance(0.6) {
                        let rt = self.rng.below(3);
                        self.req(t, m, p, UpErr::Eagain, rt);
                    } else {
                        let rt = 60_000 + self.rng.below(5);
                        self.req(t, m, p, UpErr::TimedOut, rt);
                    }
                }
            }
            Kind::ExternalCall | Kind::Database => {
                let ext = kind == Kind::ExternalCall;
                let plugin = if ext { EXT_PLUGIN } else { DB_PLUGIN };
                k.culprit = Some((plugin, if ext { "external_call" } else { "database" }));
                let frames: Vec<(&str, String)> = if ext {
                    vec![
                        (
                            "curl_exec",
                            format!("wp-content/plugins/{plugin}/includes/class-api-client.php:88"),
                        ),
                        (
                            "request",
                            format!(
                                "wp-content/plugins/{plugin}/includes/class-api-client.php:142"
                            ),
                        ),
                        (
                            "get_live_rates",
                            format!(
                                "wp-content/plugins/{plugin}/includes/class-shipping-method.php:61"
                            ),
                        ),
                        (
                            "calculate_shipping",
                            format!(
                                "wp-content/plugins/{plugin}/includes/class-shipping-method.php:37"
                            ),
                        ),
                        (
                            "calculate_shipping_for_package",
                            "wp-content/plugins/woocommerce/includes/class-wc-shipping.php:361"
                                .into(),
                        ),
                        ("apply_filters", "wp-includes/class-wp-hook.php:324".into()),
                        ("require", "index.php:17".into()),
                    ]
                } else {
                    vec![
                        ("mysqli_query", "wp-includes/class-wpdb.php:2351".into()),
                        ("_do_query", "wp-includes/class-wpdb.php:2265".into()),
                        ("query", "wp-includes/class-wpdb.php:2144".into()),
                        ("get_col", "wp-includes/class-wpdb.php:3054".into()),
                        (
                            "get_filtered_ids",
                            format!("wp-content/plugins/{plugin}/classes/Filter.php:412"),
                        ),
                        (
                            "pre_get_posts",
                            format!("wp-content/plugins/{plugin}/classes/Query.php:97"),
                        ),
                        ("do_action_ref_array", "wp-includes/plugin.php:565".into()),
                        ("require", "index.php:17".into()),
                    ]
                };
                let dominant = if ext {
                    "POST /checkout/"
                } else {
                    "GET /shop/?filter_color=blue&filter_size=m"
                };
                let n = (len / 4000).clamp(10, 60) as u64;
                for (j, t) in self.times(s, e, n).into_iter().enumerate() {
                    let (m, p) = self.path(dominant, 0.8);
                    let rt = 60_000 + self.rng.below(5);
                    let (ci, pid) = self.pool.child(&mut self.rng);
                    self.slow_trace(t - rt as i64 + 5000, pid, m, &p, &frames, &mut k);
                    // FPM's request_terminate_timeout (60 s) fires just after
                    // nginx gave up on the request.
                    if ext && j % 3 == 0 {
                        let us = 60_000_000 + self.rng.range(5_000, 90_000);
                        fpm(
                            self.plan,
                            t + 40,
                            format!(
                                "WARNING: [pool {POOL}] child {pid}, script '{DOCROOT}/index.php' (request: \"{m} {p}\") execution timed out ({} sec), terminating",
                                seconds(us)
                            ),
                        );
                        k.execution_timeouts += 1;
                        self.exit(t + 41, ci, pid, ("SIGTERM", 15), &mut k);
                    }
                    self.req(t, m, p, UpErr::TimedOut, rt);
                }
                // Slow requests that still made it.
                for t in self.times(s, e, n / 2) {
                    let (m, p) = self.path(dominant, 0.8);
                    let rt = self.rng.range(6_000, 40_000);
                    let (_, pid) = self.pool.child(&mut self.rng);
                    self.slow_trace(t - rt as i64 + 5000, pid, m, &p, &frames, &mut k);
                    self.ok(t, m, p, rt);
                }
            }
            Kind::FpmRestart => {
                let t0 = s + len / 8;
                let down = (len / 2).clamp(5_000, 30_000);
                fpm(self.plan, t0, "NOTICE: Terminating ...".into());
                fpm(self.plan, t0 + 150, "NOTICE: exiting, bye-bye!".into());
                let back = t0 + down;
                self.pool.master += 1000 + self.rng.below(500) as u32;
                let m = self.pool.master;
                fpm(self.plan, back, format!("NOTICE: fpm is running, pid {m}"));
                fpm(
                    self.plan,
                    back + 1,
                    "NOTICE: ready to handle connections".into(),
                );
                fpm(
                    self.plan,
                    back + 1,
                    "NOTICE: systemd monitor interval set to 10000ms".into(),
                );
                for (i, c) in self.pool.children.iter_mut().enumerate() {
                    *c = m + 1 + i as u32;
                }
                self.pool.next = m + 100;
                k.restarts = 1;
                let switch = t0 + (down / 5).min(1500);
                self.plan.outages.push(Outage {
                    start: t0,
                    end: back,
                    switch,
                    first: UpErr::Refused,
                    then: UpErr::Enoent,
                    incident: self.idx,
                });
                for t in self.times(t0, back, (down / 500) as u64) {
                    let (m, p) = self.path("GET /", 0.5);
                    let err = if t < switch {
                        UpErr::Refused
                    } else {
                        UpErr::Enoent
                    };
                    let rt = self.rng.below(2);
                    self.req(t, m, p, err, rt);
                }
            }
            Kind::SocketPermission => {
                let (a, b) = (s + len / 8, s + len / 8 + (len / 2).clamp(5_000, 120_000));
                self.plan.outages.push(Outage {
                    start: a,
                    end: b,
                    switch: a,
                    first: UpErr::Eacces,
                    then: UpErr::Eacces,
                    incident: self.idx,
                });
                for t in self.times(a, b, ((b - a) / 700) as u64) {
                    let (m, p) = self.path("GET /", 0.5);
                    let rt = self.rng.below(2);
                    self.req(t, m, p, UpErr::Eacces, rt);
                }
            }
            Kind::Segfault => {
                k.module = Some(SEGV_MODULE);
                let n = (len / 10_000).clamp(8, 16) as u64;
                for t in self.times(s, e, n) {
                    let (ci, pid) = self.pool.child(&mut self.rng);
                    let ip = 0x7f3a_1c28_0000u64 + self.rng.below(0x8c000);
                    let sp = 0x7ffd_5e00_0000u64 + self.rng.below(0xff_ffff);
                    let cpu = self.rng.below(2);
                    self.plan.kern.push((
                        t,
                        format!(
                            "php-fpm8.2[{pid}]: segfault at 0 ip {ip:016x} sp {sp:016x} error 4 in {SEGV_MODULE}[7f3a1c280000+8c000] likely on CPU {cpu} (core {cpu}, socket 0)"
                        )
                        .into_bytes(),
                    ));
                    k.segfaults += 1;
                    self.exit(t + 1, ci, pid, ("SIGSEGV", 11), &mut k);
                    let (m, p) = self.path("GET /product/espresso-grinder-x2/", 0.6);
                    let err = if self.rng.chance(0.7) {
                        UpErr::Reset
                    } else {
                        UpErr::Premature
                    };
                    let rt = self.rng.range(40, 3000);
                    self.req(t, m, p, err, rt);
                }
            }
            Kind::OomKill => {
                k.action = Some(OOM_ACTION);
                let n = (len / 30_000).clamp(4, 8) as u64;
                for t in self.times(s, e, n) {
                    let (ci, pid) = self.pool.child(&mut self.rng);
                    let anon = self.rng.range(900_000, 1_400_000);
                    let vm = anon + self.rng.range(1_000_000, 1_300_000);
                    let lines = [
                        "php-fpm8.2 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0".to_string(),
                        format!("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid={pid},uid=33"),
                        format!(
                            "Out of memory: Killed process {pid} (php-fpm8.2) total-vm:{vm}kB, anon-rss:{anon}kB, file-rss:{}kB, shmem-rss:{}kB, UID:33 pgtables:{}kB oom_score_adj:0",
                            self.rng.range(4000, 9000),
                            self.rng.range(200, 900),
                            self.rng.range(2500, 4000)
                        ),
                    ];
                    for l in lines {
                        self.plan.kern.push((t - 20, l.into_bytes()));
                    }
                    k.oom_kills += 1;
                    self.exit(t, ci, pid, ("SIGKILL", 9), &mut k);
                    let dominant =
                        format!("GET /wp-admin/admin-ajax.php?action={OOM_ACTION}&format=csv");
                    let (m, p) = self.path(&dominant, 0.75);
                    let rt = self.rng.range(5_000, 25_000);
                    self.req(t, m, p, UpErr::Reset, rt);
                }
            }
            Kind::RequestFlood => {
                k.action = Some(FLOOD_ACTION);
                let secs = (len / 1000).max(1) as u64;
                let n = (secs * 6).min(20_000);
                let sat = s + len / 4;
                for j in 0..3 {
                    self.max_children(sat + j * (e - sat) / 3, &mut k);
                }
                for t in self.times(s, e, n) {
                    let term = self
                        .rng
                        .pick(&["shoe", "grinder", "mug", "earbuds", "linen"]);
                    let p = format!("/wp-admin/admin-ajax.php?action={FLOOD_ACTION}&term={term}");
                    if t >= sat && self.rng.chance(0.2) {
                        if self.rng.chance(0.6) {
                            let rt = self.rng.below(3);
                            self.req(t, "POST", p, UpErr::Eagain, rt);
                        } else {
                            let rt = 60_000 + self.rng.below(5);
                            self.req(t, "POST", p, UpErr::TimedOut, rt);
                        }
                    } else {
                        let rt = self.rng.range(200, 3000);
                        self.ok(t, "POST", p, rt);
                    }
                }
            }
        }
        self.plan.incidents.push(Incident {
            kind,
            window: (s, e),
            known: k,
        });
    }
}
