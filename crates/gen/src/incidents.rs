//! The incidents: for each kind, the requests that fail, the upstream error
//! each one gets, and the php-fpm, slowlog and kernel lines that explain
//! them, all placed on one UTC timeline.

use std::collections::BTreeMap;

use crate::logs::{FATAL_FILE, FATAL_LINE, UpErr};
use crate::model::{DOCROOT, MAX_CHILDREN, POOL, PRODUCTS, Route};
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
    FpmDown,
    BacklogFull,
    NoLiveUpstreams,
    BufferConfig,
    SlowScript,
    FatalError,
    EdgeOnly,
    // Messy scenarios (`crate::messy`): cascades and episodes of several
    // phases, drawn shapes.
    CascadeDatabase,
    CascadeExternal,
    OomAfterRaise,
    CheckoutHang,
    DeployWindow,
    PermissionDeploy,
    SegfaultThenCapacity,
    TrafficSurge,
    CampaignWidget,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Capacity,
        Kind::ExternalCall,
        Kind::Database,
        Kind::FpmRestart,
        Kind::SocketPermission,
        Kind::Segfault,
        Kind::OomKill,
        Kind::RequestFlood,
        Kind::FpmDown,
        Kind::BacklogFull,
        Kind::NoLiveUpstreams,
        Kind::BufferConfig,
        Kind::SlowScript,
        Kind::FatalError,
        Kind::EdgeOnly,
    ];

    /// The messy scenarios, each one incident (two for
    /// `segfault_then_capacity`) of drawn shape.
    pub const SCENARIOS: [Kind; 9] = [
        Kind::CascadeDatabase,
        Kind::CascadeExternal,
        Kind::OomAfterRaise,
        Kind::CheckoutHang,
        Kind::DeployWindow,
        Kind::PermissionDeploy,
        Kind::SegfaultThenCapacity,
        Kind::TrafficSurge,
        Kind::CampaignWidget,
    ];

    pub fn is_scenario(self) -> bool {
        Kind::SCENARIOS.contains(&self)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::CascadeDatabase => "cascade_database",
            Kind::CascadeExternal => "cascade_external_call",
            Kind::OomAfterRaise => "oom_after_raise",
            Kind::CheckoutHang => "checkout_hang",
            Kind::DeployWindow => "deploy_window",
            Kind::PermissionDeploy => "permission_deploy",
            Kind::SegfaultThenCapacity => "segfault_then_capacity",
            Kind::TrafficSurge => "traffic_surge",
            Kind::CampaignWidget => "campaign_widget",
            Kind::Capacity => "capacity",
            Kind::ExternalCall => "external_call",
            Kind::Database => "database",
            Kind::FpmRestart => "fpm_restart",
            Kind::SocketPermission => "socket_permission",
            Kind::Segfault => "segfault",
            Kind::OomKill => "oom_kill",
            Kind::RequestFlood => "request_flood",
            Kind::FpmDown => "fpm_down",
            Kind::BacklogFull => "backlog_full",
            Kind::NoLiveUpstreams => "no_live_upstreams",
            Kind::BufferConfig => "buffer_config",
            Kind::SlowScript => "slow_script",
            Kind::FatalError => "fatal_error",
            Kind::EdgeOnly => "edge_only",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .chain(Kind::SCENARIOS)
            .find(|k| k.name() == s)
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
            Kind::FpmDown => ("fpm_down", "connectivity", "nginx -> php-fpm"),
            Kind::BacklogFull => ("backlog_full", "capacity", "nginx -> php-fpm"),
            Kind::NoLiveUpstreams => ("no_live_upstreams", "connectivity", "nginx -> upstream"),
            Kind::BufferConfig => ("buffer_config", "connectivity", "nginx -> php-fpm"),
            Kind::SlowScript => ("slow_script", "latency", "php-fpm"),
            Kind::FatalError => ("fatal_error", "crash", "php-fpm worker"),
            Kind::EdgeOnly => ("edge_only", "edge", "edge -> origin"),
            Kind::CascadeDatabase => Kind::Database.diagnosis(),
            Kind::CascadeExternal | Kind::CheckoutHang => Kind::ExternalCall.diagnosis(),
            Kind::OomAfterRaise => Kind::OomKill.diagnosis(),
            Kind::DeployWindow => Kind::FpmRestart.diagnosis(),
            Kind::PermissionDeploy => Kind::SocketPermission.diagnosis(),
            Kind::SegfaultThenCapacity => Kind::Segfault.diagnosis(),
            Kind::TrafficSurge => Kind::Capacity.diagnosis(),
            // The widget's call decides (database or external_call).
            Kind::CampaignWidget => Kind::Database.diagnosis(),
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
    /// Proxied to the inventory API rather than PHP-FPM.
    pub api: bool,
    /// What the edge answered instead of the origin's status (an edge
    /// error on a request the origin answered).
    pub edge: Option<u16>,
    /// The incident's phase segment it belongs to (see [`Incident`]).
    pub phase: u8,
}

/// A request only the edge saw: it failed before reaching the origin.
pub struct EdgeOnly {
    /// When the edge received it, unix ms.
    pub t: i64,
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub incident: usize,
}

/// A window in which every request of a route (and path, when given)
/// fails the same way.
pub struct Outage {
    pub start: i64,
    pub end: i64,
    /// `Route::Php` or `Route::Api`.
    pub route: Route,
    /// Only this path (without its query).
    pub path: Option<&'static str>,
    /// Before this instant the error is `first`, after it `then`.
    pub switch: i64,
    pub first: UpErr,
    pub then: UpErr,
    pub incident: usize,
    pub phase: u8,
}

/// Which error a failing request of a [`Storm`] gets: `(error, weight)`.
pub type Mix = &'static [(UpErr, u32)];

/// A window in which a share of a route's background requests fail, each
/// with an error drawn from `errs` (a failure-heavy day's long incidents,
/// `crate::heavy`): the failures are drawn as the stream goes, so they
/// cost no memory however many they are.
pub struct Storm {
    pub start: i64,
    pub end: i64,
    /// `Route::Php` or `Route::Api`.
    pub route: Route,
    /// The share of the route's requests in the window that fail.
    pub share: f64,
    pub errs: Mix,
    pub incident: usize,
}

impl Storm {
    /// The error of one failing request, from a uniform draw in `0..1`.
    pub fn pick(&self, x: f64) -> UpErr {
        let total: u32 = self.errs.iter().map(|e| e.1).sum();
        let mut at = x * total as f64;
        for &(e, w) in self.errs {
            if at < w as f64 {
                return e;
            }
            at -= w as f64;
        }
        self.errs[self.errs.len() - 1].0
    }

    /// The share of its failures that are gateway errors (502/504).
    pub fn gateway_share(&self) -> f64 {
        let total: u32 = self.errs.iter().map(|e| e.1).sum();
        let gw: u32 = self
            .errs
            .iter()
            .filter(|e| matches!(e.0.status(), 502 | 504))
            .map(|e| e.1)
            .sum();
        gw as f64 / total as f64
    }
}

/// What the generator knows about an incident besides its requests.
#[derive(Default, Clone)]
pub struct Known {
    /// `(kind, name, call)` of the code behind it.
    pub culprit: Option<(&'static str, &'static str, Option<&'static str>)>,
    pub php_fatal_errors: u64,
    pub seems_busy: u64,
    pub child_exits: u64,
    pub kernel_lines: u64,
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
    pub reloads: u64,
}

/// A diagnosis that differs from the kind's own (messy scenarios: the
/// second incident of a pair, contributing causes).
#[derive(Clone, Default)]
pub struct Diag {
    pub cause: &'static str,
    pub verdict: &'static str,
    pub handoff: &'static str,
    pub contributing: Vec<&'static str>,
    /// The drawn shape, for the record.
    pub shape: Vec<(&'static str, f64)>,
}

/// An injected incident. Its gateway errors carry a phase segment number
/// (`PReq::phase`, `Outage::phase`) in time order; the truth classes each
/// segment from the errors written and merges neighbours of one class.
pub struct Incident {
    pub kind: Kind,
    pub known: Known,
    pub diag: Option<Diag>,
}

/// Everything injected, each list in time order once sorted.
#[derive(Default)]
pub struct Plan {
    pub reqs: Vec<PReq>,
    /// `(time, master pid or 0 for systemd, message)`.
    pub fpm: Vec<(i64, u32, Vec<u8>)>,
    pub slow: Vec<(i64, Vec<u8>)>,
    pub kern: Vec<(i64, Vec<u8>)>,
    pub edge_only: Vec<EdgeOnly>,
    pub outages: Vec<Outage>,
    /// A failure-heavy day's storms (`crate::heavy`), in time order.
    pub storms: Vec<Storm>,
    pub incidents: Vec<Incident>,
    /// Every slowlog trace written, for the witnesses derived from them
    /// (`crate::witness`); noting them draws nothing from the plan's rng.
    pub traces: Vec<TraceNote>,
    /// `pm.max_children` after the last reload that changed it.
    pub max_children: Option<u32>,
}

/// What a slowlog trace says about its request: when the request started
/// and ended, its worker, the innermost frame and the plugin or theme.
#[derive(Clone, Debug)]
pub struct TraceNote {
    /// Request start, unix ms (the trace is taken 5 s later).
    pub start: i64,
    /// The request's response time as nginx logged it (ms).
    pub rt_ms: u64,
    pub pid: u32,
    /// The innermost frame's function (`mysqli_query`, `curl_exec`).
    pub func: &'static str,
    /// `plugin` or `theme`, and its slug, from the first frame under
    /// `wp-content/`.
    pub code: Option<(&'static str, String)>,
}

impl Plan {
    pub fn sort(&mut self) {
        self.reqs.sort_by_key(|r| r.t);
        self.fpm.sort_by_key(|l| l.0);
        self.slow.sort_by_key(|l| l.0);
        self.kern.sort_by_key(|l| l.0);
        self.edge_only.sort_by_key(|l| l.t);
        self.outages.sort_by_key(|o| o.start);
        self.storms.sort_by_key(|o| o.start);
    }
}

/// Incidents are at least this far apart (last error of one to first of
/// the next), in milliseconds.
pub const MIN_GAP: i64 = 600_000;

const EXT_PLUGIN: &str = "shipping-rates-live";
const DB_PLUGIN: &str = "woo-product-filter";
const FLOOD_ACTION: &str = "wpls_live_search";
const OOM_ACTION: &str = "wc_export_orders";
const SEGV_MODULE: &str = "opcache.so";
const SLOW_THEME: &str = "flatsome-child";
const FATAL_PLUGIN: &str = "pdf-invoices-pro";

/// FPM children and the master, whose pids change as workers die.
pub(crate) struct Pool {
    pub(crate) master: u32,
    pub(crate) children: Vec<u32>,
    pub(crate) next: u32,
    /// `pm.max_children` (raised by the OOM story's reload).
    pub(crate) max_children: u32,
}

impl Pool {
    pub(crate) fn child(&self, rng: &mut Rng) -> (usize, u32) {
        let i = rng.below(self.children.len() as u64) as usize;
        (i, self.children[i])
    }
    pub(crate) fn respawn(&mut self, i: usize) -> u32 {
        self.next += rng_step(self.next);
        self.children[i] = self.next;
        self.next
    }
}

fn rng_step(n: u32) -> u32 {
    1 + n % 7
}

/// A slowlog stack: `(function, file:line)` from the innermost frame.
pub(crate) type Frames = Vec<(&'static str, String)>;

pub struct Builder<'a> {
    pub(crate) rng: Rng,
    pub(crate) plan: &'a mut Plan,
    pub(crate) pool: Pool,
    pub(crate) idx: usize,
    /// The phase segment of the requests `req` adds.
    pub(crate) phase: u8,
}

/// A php-fpm log line logged by master `pid` (0: a systemd line, written
/// only in the journal form).
pub(crate) fn fpm(plan: &mut Plan, pid: u32, t: i64, body: String) {
    plan.fpm.push((t, pid, body.into_bytes()));
}

pub(crate) fn seconds(us: u64) -> String {
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
                max_children: MAX_CHILDREN,
            },
            idx: 0,
            phase: 0,
        }
    }

    /// A fleet's node: the pool's pids drawn from `rng` (the same on every
    /// node) instead of the incidents' own draw.
    pub fn same_pids(&mut self, mut rng: Rng) {
        let master = 800 + rng.below(200) as u32;
        self.pool.master = master;
        self.pool.children = (0..MAX_CHILDREN).map(|i| master + 3 + i * 2).collect();
        self.pool.next = master + 200;
    }

    pub(crate) fn req(
        &mut self,
        t: i64,
        method: &'static str,
        path: String,
        err: UpErr,
        rt_ms: u64,
    ) {
        self.plan.reqs.push(PReq {
            t,
            method,
            path,
            status: err.status(),
            bytes: err.bytes(),
            rt_ms,
            err: Some(err),
            incident: Some(self.idx),
            api: err.api(),
            edge: None,
            phase: self.phase,
        });
    }

    pub(crate) fn ok(&mut self, t: i64, method: &'static str, path: String, rt_ms: u64) {
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
            api: false,
            edge: None,
            phase: self.phase,
        });
    }

    pub(crate) fn times(&mut self, s: i64, e: i64, n: u64) -> Vec<i64> {
        let mut v: Vec<i64> = (0..n)
            .map(|_| s + self.rng.below((e - s).max(1) as u64) as i64)
            .collect();
        v.sort_unstable();
        v
    }

    /// A dominant path with a spread of others, as errors cluster.
    pub(crate) fn path(&mut self, dominant: &str, share: f64) -> (&'static str, String) {
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

    /// A request anywhere on the site (saturation hits every PHP path).
    pub(crate) fn spread(&mut self) -> (&'static str, String) {
        const PATHS: &[(&str, &str)] = &[
            ("GET", "/"),
            ("GET", "/shop/"),
            ("GET", "/cart/"),
            ("GET", "/checkout/"),
            ("GET", "/my-account/"),
            ("GET", "/product-category/kitchen/"),
            ("GET", "/product-category/audio/"),
            ("GET", "/wp-json/wc/store/v1/cart"),
            ("POST", "/?wc-ajax=get_refreshed_fragments"),
            ("POST", "/wp-admin/admin-ajax.php?action=heartbeat"),
            ("GET", "/blog/shipping-update/"),
        ];
        if self.rng.chance(0.35) {
            let p = self.rng.pick(PRODUCTS);
            return ("GET", format!("/product/{p}/"));
        }
        let (m, p) = *self.rng.pick(PATHS);
        (m, p.to_string())
    }

    fn api_path(&mut self) -> String {
        format!("/api/stock?sku={}", self.rng.pick(PRODUCTS))
    }

    /// Routine lines between incidents, none of them a failure: children
    /// recycled (`exited with code 0`), an occasional `seems busy`, kernel
    /// chatter. Counted into `bg`.
    pub fn noise(&mut self, from: i64, to: i64, bg: &mut Known) {
        let mut t = from + self.rng.range(20_000, 200_000) as i64;
        while t < to {
            let (i, pid) = self.pool.child(&mut self.rng);
            let up = self.rng.range(300_000_000, 3_000_000_000);
            fpm(
                self.plan,
                self.pool.master,
                t,
                format!(
                    "NOTICE: [pool {POOL}] child {pid} exited with code 0 after {} seconds from start",
                    seconds(up)
                ),
            );
            let new = self.pool.respawn(i);
            fpm(
                self.plan,
                self.pool.master,
                t + 1,
                format!("NOTICE: [pool {POOL}] child {new} started"),
            );
            bg.child_exits += 1;
            t += self.rng.range(90_000, 420_000) as i64;
        }
        // About one `seems busy` an hour, at a random instant.
        let busy = (to - from) as f64 / 3_600_000.0;
        if self.rng.chance(busy.min(1.0)) {
            let t = from + self.rng.below((to - from).max(1) as u64) as i64;
            let spawn = [8, 16][self.rng.below(2) as usize];
            fpm(
                self.plan,
                self.pool.master,
                t,
                format!(
                    "WARNING: [pool {POOL}] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning {spawn} children, there are 0 idle, and {} total children",
                    MAX_CHILDREN / 2 + self.rng.below(4) as u32
                ),
            );
            bg.seems_busy += 1;
        }
        let mut t = from + self.rng.range(10_000, 300_000) as i64;
        while t < to {
            let line = if self.rng.chance(0.9) {
                format!(
                    "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:3a:1c:07:fe:54:00:9e:22:41:08:00 SRC={}.{}.{}.{} DST=203.0.113.10 LEN=40 TOS=0x00 PREC=0x00 TTL={} ID={} PROTO=TCP SPT={} DPT={} WINDOW=1024 RES=0x00 SYN URGP=0",
                    self.rng.range(23, 197),
                    self.rng.below(256),
                    self.rng.below(256),
                    self.rng.range(1, 254),
                    self.rng.range(40, 250),
                    self.rng.below(65536),
                    self.rng.range(1024, 65535),
                    [22, 23, 3389, 5432, 6379, 8080][self.rng.below(6) as usize]
                )
            } else {
                let took = self.rng.range(2501, 4000);
                format!(
                    "perf: interrupt took too long ({took} > {}), lowering kernel.perf_event_max_sample_rate to {}",
                    took - self.rng.range(1, 200),
                    self.rng.range(40, 80) * 1000
                )
            };
            self.plan.kern.push((t, line.into_bytes()));
            bg.kernel_lines += 1;
            t += self.rng.range(60_000, 900_000) as i64;
        }
    }

    /// The kernel OOM-killing `mysqld`: memory pressure on the host, not an
    /// incident of the web stack.
    pub fn mysqld_oom(&mut self, t: i64, bg: &mut Known) {
        let pid = 700 + self.rng.below(100);
        let anon = self.rng.range(1_800_000, 2_400_000);
        let lines = [
            "mysqld invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0".to_string(),
            format!("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/mysql.service,task=mysqld,pid={pid},uid=110"),
            format!(
                "Out of memory: Killed process {pid} (mysqld) total-vm:{}kB, anon-rss:{anon}kB, file-rss:0kB, shmem-rss:0kB, UID:110 pgtables:{}kB oom_score_adj:0",
                anon + 900_000,
                self.rng.range(4000, 6000)
            ),
        ];
        for l in lines {
            self.plan.kern.push((t, l.into_bytes()));
        }
        bg.oom_kills += 1;
    }

    pub(crate) fn max_children(&mut self, t: i64, known: &mut Known) {
        fpm(
            self.plan,
            self.pool.master,
            t,
            format!(
                "WARNING: [pool {POOL}] server reached pm.max_children setting ({}), consider raising it",
                self.pool.max_children
            ),
        );
        known.max_children_reached += 1;
    }

    /// A kernel OOM kill of a php-fpm child 20 ms before `t` (the
    /// kernel's three lines) and the child's SIGKILL exit at `t`.
    pub(crate) fn oom_kill(&mut self, t: i64, k: &mut Known) {
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
        self.exit(t, ci, pid, ("SIGKILL", 9), k);
    }

    pub(crate) fn exit(
        &mut self,
        t: i64,
        i: usize,
        pid: u32,
        sig: (&'static str, u32),
        known: &mut Known,
    ) {
        let up = self.rng.range(30_000_000, 900_000_000);
        fpm(
            self.plan,
            self.pool.master,
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
            self.pool.master,
            t + 2,
            format!("NOTICE: [pool {POOL}] child {new} started"),
        );
    }

    /// A slow request: `executing too slow`, the tracing notices and its
    /// slowlog trace, `timeout` after the request started; `rt_ms`: the
    /// request's response time.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn slow_trace(
        &mut self,
        t: i64,
        pid: u32,
        method: &str,
        path: &str,
        frames: &[(&'static str, String)],
        known: &mut Known,
        rt_ms: u64,
    ) {
        let code = frames.iter().find_map(|(_, loc)| {
            let rest = loc.strip_prefix("wp-content/")?;
            let (kind, rest) = rest.split_once('/')?;
            let slug = rest.split('/').next()?;
            let kind = match kind {
                "plugins" => "plugin",
                "themes" => "theme",
                _ => return None,
            };
            Some((kind, slug.to_string()))
        });
        self.plan.traces.push(TraceNote {
            start: t - 5000,
            rt_ms,
            pid,
            func: frames.first().map_or("", |f| f.0),
            code,
        });
        let us = 5_000_000 + self.rng.below(90_000);
        fpm(
            self.plan,
            self.pool.master,
            t,
            format!(
                "WARNING: [pool {POOL}] child {pid}, script '{DOCROOT}/index.php' (request: \"{method} {path}\") executing too slow ({} sec), logging",
                seconds(us)
            ),
        );
        fpm(
            self.plan,
            self.pool.master,
            t,
            format!("NOTICE: child {pid} stopped for tracing"),
        );
        fpm(
            self.plan,
            self.pool.master,
            t,
            format!("NOTICE: about to trace {pid}"),
        );
        fpm(
            self.plan,
            self.pool.master,
            t,
            format!("NOTICE: finished trace of {pid}"),
        );
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
        self.phase = 0;
        let mut k = Known::default();
        let len = e - s;
        match kind {
            Kind::Capacity => {
                fpm(
                    self.plan,
                    self.pool.master,
                    s - 1500,
                    format!(
                        "WARNING: [pool {POOL}] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and {} total children",
                        MAX_CHILDREN - 4
                    ),
                );
                k.seems_busy += 1;
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
            Kind::ExternalCall | Kind::Database | Kind::SlowScript => {
                let ext = kind == Kind::ExternalCall;
                let (frames, alt, dominant): (Frames, Frames, &str) = match kind {
                    Kind::ExternalCall => {
                        let plugin = EXT_PLUGIN;
                        k.culprit = Some(("plugin", plugin, Some("external_call")));
                        let f = vec![
                            (
                                "curl_exec",
                                format!(
                                    "wp-content/plugins/{plugin}/includes/class-api-client.php:88"
                                ),
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
                        ];
                        (f.clone(), f, "POST /checkout/")
                    }
                    Kind::Database => {
                        let plugin = DB_PLUGIN;
                        k.culprit = Some(("plugin", plugin, Some("database")));
                        let f = vec![
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
                        ];
                        (f.clone(), f, "GET /shop/?filter_color=blue&filter_size=m")
                    }
                    _ => {
                        // A child theme resizing gallery images on every
                        // product page view, and a regex over the product
                        // description: PHP itself is busy.
                        let theme = SLOW_THEME;
                        k.culprit = Some(("theme", theme, Some("cpu")));
                        let tail = |v: &mut Vec<(&str, String)>| {
                            v.push((
                                "flatsome_child_product_gallery",
                                format!("wp-content/themes/{theme}/functions.php:402"),
                            ));
                            v.push(("do_action", "wp-includes/class-wp-hook.php:324".into()));
                            v.push(("require", "index.php:17".into()));
                        };
                        let mut f = vec![
                            (
                                "imagecopyresampled",
                                format!(
                                    "wp-content/themes/{theme}/inc/class-thumb-builder.php:214"
                                ),
                            ),
                            (
                                "resize_to",
                                format!(
                                    "wp-content/themes/{theme}/inc/class-thumb-builder.php:131"
                                ),
                            ),
                            (
                                "build_gallery",
                                format!("wp-content/themes/{theme}/inc/gallery.php:58"),
                            ),
                        ];
                        tail(&mut f);
                        let mut g = vec![
                            (
                                "preg_match_all",
                                format!("wp-content/themes/{theme}/inc/gallery.php:91"),
                            ),
                            (
                                "collect_inline_images",
                                format!("wp-content/themes/{theme}/inc/gallery.php:77"),
                            ),
                            (
                                "build_gallery",
                                format!("wp-content/themes/{theme}/inc/gallery.php:61"),
                            ),
                        ];
                        tail(&mut g);
                        (f, g, "GET /product/espresso-grinder-x2/")
                    }
                };
                let n = (len / 4000).clamp(10, 60) as u64;
                for (j, t) in self.times(s, e, n).into_iter().enumerate() {
                    let (m, p) = self.path(dominant, 0.8);
                    let rt = 60_000 + self.rng.below(5);
                    let (ci, pid) = self.pool.child(&mut self.rng);
                    let fr = if self.rng.chance(0.3) { &alt } else { &frames };
                    self.slow_trace(t - rt as i64 + 5000, pid, m, &p, fr, &mut k, rt);
                    // FPM's request_terminate_timeout (60 s) fires just after
                    // nginx gave up on the request.
                    if ext && j % 3 == 0 {
                        let us = 60_000_000 + self.rng.range(5_000, 90_000);
                        fpm(
                            self.plan,
                            self.pool.master,
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
                    let fr = if self.rng.chance(0.3) { &alt } else { &frames };
                    self.slow_trace(t - rt as i64 + 5000, pid, m, &p, fr, &mut k, rt);
                    self.ok(t, m, p, rt);
                }
            }
            Kind::FpmDown => {
                // The master is gone without a word in its log: the socket
                // refuses, then disappears.
                let a = s + len / 8;
                let b = a + (len * 3 / 4).clamp(10_000, 240_000);
                let switch = a + (b - a) / 3;
                self.plan.outages.push(Outage {
                    start: a,
                    end: b,
                    switch,
                    first: UpErr::Refused,
                    then: UpErr::Enoent,
                    incident: self.idx,
                    route: Route::Php,
                    path: None,
                    phase: 0,
                });
                for t in self.times(a, b, ((b - a) / 600) as u64) {
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
            Kind::BacklogFull => {
                // A `pm = static` pool: no max_children line, only the
                // backlog overflowing and queued requests timing out,
                // spread over the whole site.
                let n = (len / 2500).clamp(16, 120) as u64;
                for t in self.times(s, e, n) {
                    let (m, p) = self.spread();
                    if self.rng.chance(0.6) {
                        let rt = self.rng.below(3);
                        self.req(t, m, p, UpErr::Eagain, rt);
                    } else {
                        let rt = 60_000 + self.rng.below(5);
                        self.req(t, m, p, UpErr::TimedOut, rt);
                    }
                }
            }
            Kind::NoLiveUpstreams => {
                // Both inventory API servers go down: each cycle of
                // fail_timeout (30 s) starts with one request refused by
                // both (and both marked down), then `no live upstreams`.
                let a = s + len / 8;
                let b = a + (len * 3 / 4).clamp(20_000, 240_000);
                self.plan.outages.push(Outage {
                    start: a + 1,
                    end: b,
                    switch: a,
                    first: UpErr::NoLive,
                    then: UpErr::NoLive,
                    incident: self.idx,
                    route: Route::Api,
                    path: None,
                    phase: 0,
                });
                let mut c = a;
                while c < b {
                    let p = self.api_path();
                    self.req(c, "GET", p, UpErr::Failover, 1);
                    c += 30_000;
                }
                for t in self.times(a + 1, b, ((b - a) / 1000) as u64) {
                    if (t - a) % 30_000 == 0 {
                        continue;
                    }
                    let p = self.api_path();
                    self.req(t, "GET", p, UpErr::NoLive, 0);
                }
            }
            Kind::BufferConfig => {
                // A plugin update makes /my-account/ send a cookie per
                // recently viewed product: headers beyond
                // fastcgi_buffer_size.
                self.plan.outages.push(Outage {
                    start: s,
                    end: e,
                    switch: s,
                    first: UpErr::TooBig,
                    then: UpErr::TooBig,
                    incident: self.idx,
                    route: Route::Php,
                    path: Some("/my-account/"),
                    phase: 0,
                });
                let n = (len / 3000).clamp(12, 60) as u64;
                for t in self.times(s, e, n) {
                    let rt = self.rng.range(40, 400);
                    self.req(t, "GET", "/my-account/".into(), UpErr::TooBig, rt);
                }
            }
            Kind::FatalError => {
                k.culprit = Some(("plugin", FATAL_PLUGIN, None));
                let n = (len / 4000).clamp(10, 50) as u64;
                for t in self.times(s, e, n) {
                    let order = 4100 + self.rng.below(900);
                    let (m, p) = self.path(&format!("GET /my-account/invoice/?order={order}"), 0.8);
                    let (_, pid) = self.pool.child(&mut self.rng);
                    let rt = self.rng.range(800, 6_000);
                    fpm(
                        self.plan,
                        self.pool.master,
                        t,
                        format!(
                            "WARNING: [pool {POOL}] child {pid} said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes) in {FATAL_FILE} on line {FATAL_LINE}\""
                        ),
                    );
                    k.php_fatal_errors += 1;
                    let err = if self.rng.chance(0.75) {
                        UpErr::FatalClose
                    } else {
                        UpErr::Fatal500
                    };
                    self.req(t, m, p, err, rt);
                }
            }
            Kind::EdgeOnly => {
                // The origin firewall drops part of the edge's address
                // ranges (522, never seen by nginx), and the edge rejects
                // some answers the origin logged as 200 (520).
                let n = (len / 2000).clamp(20, 150) as u64;
                for t in self.times(s, e, n) {
                    let (m, p) = self.path("GET /shop/", 0.5);
                    if self.rng.chance(0.7) {
                        self.plan.edge_only.push(EdgeOnly {
                            t,
                            method: m,
                            path: p,
                            status: 522,
                            incident: self.idx,
                        });
                    } else {
                        let rt = self.rng.range(60, 600);
                        let bytes = self.rng.range(900, 60000);
                        self.plan.reqs.push(PReq {
                            t: t + rt as i64,
                            method: m,
                            path: p,
                            status: 200,
                            bytes,
                            rt_ms: rt,
                            err: None,
                            incident: Some(self.idx),
                            api: false,
                            edge: Some(520),
                            phase: 0,
                        });
                    }
                }
            }
            Kind::FpmRestart => {
                let t0 = s + len / 8;
                let down = (len / 2).clamp(5_000, 30_000);
                const UNIT: &str = "php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager";
                fpm(self.plan, 0, t0 - 3, format!("Stopping {UNIT}..."));
                fpm(
                    self.plan,
                    self.pool.master,
                    t0,
                    "NOTICE: Terminating ...".into(),
                );
                fpm(
                    self.plan,
                    0,
                    t0 + 160,
                    "php8.2-fpm.service: Deactivated successfully.".into(),
                );
                fpm(self.plan, 0, t0 + 160, format!("Stopped {UNIT}."));
                fpm(
                    self.plan,
                    self.pool.master,
                    t0 + 150,
                    "NOTICE: exiting, bye-bye!".into(),
                );
                let back = t0 + down;
                self.pool.master += 1000 + self.rng.below(500) as u32;
                let m = self.pool.master;
                fpm(self.plan, 0, back - 40, format!("Starting {UNIT}..."));
                fpm(
                    self.plan,
                    self.pool.master,
                    back,
                    format!("NOTICE: fpm is running, pid {m}"),
                );
                fpm(self.plan, 0, back + 2, format!("Started {UNIT}."));
                fpm(
                    self.plan,
                    self.pool.master,
                    back + 1,
                    "NOTICE: ready to handle connections".into(),
                );
                fpm(
                    self.plan,
                    self.pool.master,
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
                    route: Route::Php,
                    path: None,
                    phase: 0,
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
                    route: Route::Php,
                    path: None,
                    phase: 0,
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
                    self.oom_kill(t, &mut k);
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
            _ => unreachable!("{} is a scenario: built by crate::messy", kind.name()),
        }
        self.plan.incidents.push(Incident {
            kind,
            known: k,
            diag: None,
        });
    }
}
