//! Messy incidents: episodes as they cascade on a real shop, each of a
//! shape drawn from the seed (intensity, duration, errno mix, how far the
//! pool saturates, how much traffic rises), placed at drawn distances, with
//! a background of its own (slow traces of various plugins at a low rate,
//! lone segfaults about once an hour).
//!
//! What the truth says of each one is what an SRE reading these logs would
//! conclude by `CONTRACT.md`'s definitions: the first broken thing is the
//! cause, a change of failure mode is a phase, a lone failure is
//! background. The shapes keep that conclusion unambiguous by
//! construction: a clear dominant path, same-cause incidents at least
//! 20 min apart, restarts that refuse more than they miss when the phase
//! sequence says `refused`, exact errno shares.

use crate::incidents::{Builder, Diag, Frames, Incident, Kind, Known, Outage, fpm, seconds};
use crate::logs::UpErr;
use crate::model::{self, DOCROOT, HUMAN_PATHS, POOL, Route};
use crate::rng::Rng;

const MIN: i64 = 60_000;
/// Incidents of one cause are at least this far apart.
pub const SAME_CAUSE_GAP: i64 = 20 * MIN;
/// Background gateway errors stay this far from every incident.
pub const BG_MARGIN: i64 = 10 * MIN;

const UNIT: &str = "php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager";

/// A plugin whose call blocks: its slowlog stack and the request it
/// serves most.
#[derive(Clone)]
pub struct Culprit {
    pub name: &'static str,
    /// `database` or `external_call` (the contract's `call`).
    pub call: &'static str,
    pub frames: Frames,
    /// `METHOD /path` the plugin slows most.
    pub dominant: &'static str,
}

fn wpdb(v: &mut Frames, last: &'static str) {
    v.push(("mysqli_query", "wp-includes/class-wpdb.php:2351".into()));
    v.push(("_do_query", "wp-includes/class-wpdb.php:2265".into()));
    v.push(("query", "wp-includes/class-wpdb.php:2144".into()));
    v.push((last, "wp-includes/class-wpdb.php:3128".into()));
}

fn tail(v: &mut Frames) {
    v.push(("do_action", "wp-includes/class-wp-hook.php:324".into()));
    v.push(("require", "index.php:17".into()));
}

/// Database culprits: a plugin's query on `wp_options` (autoloaded rows).
fn db_culprit(i: u64) -> Culprit {
    let mut f = Vec::new();
    if i.is_multiple_of(2) {
        let p = "related-products-booster";
        wpdb(&mut f, "get_results");
        f.push((
            "load_autoloaded",
            format!("wp-content/plugins/{p}/src/Options/Store.php:64"),
        ));
        f.push((
            "render",
            format!("wp-content/plugins/{p}/src/Widget.php:118"),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "database",
            frames: f,
            dominant: "GET /shop/",
        }
    } else {
        let p = "wc-abandoned-cart-pro";
        wpdb(&mut f, "get_col");
        f.push((
            "sync_sessions",
            format!("wp-content/plugins/{p}/includes/class-acp-session.php:211"),
        ));
        f.push((
            "on_cart_updated",
            format!("wp-content/plugins/{p}/includes/class-acp-hooks.php:48"),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "database",
            frames: f,
            dominant: "GET /cart/",
        }
    }
}

/// External-call culprits: a shipping-rates API or a newsletter API.
fn ext_culprit(i: u64, dominant: Option<&'static str>) -> Culprit {
    let mut f: Frames = Vec::new();
    if i.is_multiple_of(2) {
        let p = "shipping-rates-live";
        f.push((
            "curl_exec",
            format!("wp-content/plugins/{p}/includes/class-api-client.php:88"),
        ));
        f.push((
            "request",
            format!("wp-content/plugins/{p}/includes/class-api-client.php:142"),
        ));
        f.push((
            "get_live_rates",
            format!("wp-content/plugins/{p}/includes/class-shipping-method.php:61"),
        ));
        f.push((
            "calculate_shipping_for_package",
            "wp-content/plugins/woocommerce/includes/class-wc-shipping.php:361".into(),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "external_call",
            frames: f,
            dominant: dominant.unwrap_or("GET /cart/"),
        }
    } else {
        let p = "newsletter-sync-pro";
        f.push((
            "curl_exec",
            format!("wp-content/plugins/{p}/includes/Api/Client.php:57"),
        ));
        f.push((
            "post",
            format!("wp-content/plugins/{p}/includes/Api/Client.php:31"),
        ));
        f.push((
            "sync_subscriber",
            format!("wp-content/plugins/{p}/includes/Subscriber.php:140"),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "external_call",
            frames: f,
            dominant: dominant.unwrap_or("GET /my-account/"),
        }
    }
}

/// The campaign landing page's widget.
fn widget(i: u64) -> Culprit {
    let mut f: Frames = Vec::new();
    if i.is_multiple_of(2) {
        let p = "sale-countdown-timer";
        wpdb(&mut f, "get_var");
        f.push((
            "remaining_stock",
            format!("wp-content/plugins/{p}/inc/class-timer.php:96"),
        ));
        f.push((
            "shortcode",
            format!("wp-content/plugins/{p}/inc/class-timer.php:40"),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "database",
            frames: f,
            dominant: "GET /black-friday-sale/",
        }
    } else {
        let p = "instagram-feed-pro";
        f.push((
            "curl_exec",
            format!("wp-content/plugins/{p}/inc/Http.php:73"),
        ));
        f.push((
            "fetch_media",
            format!("wp-content/plugins/{p}/inc/Feed.php:152"),
        ));
        f.push((
            "render_feed",
            format!("wp-content/plugins/{p}/inc/Widget.php:88"),
        ));
        tail(&mut f);
        Culprit {
            name: p,
            call: "external_call",
            frames: f,
            dominant: "GET /black-friday-sale/",
        }
    }
}

/// Slow requests of the background: plugins that are sometimes slow,
/// each with its own call (the incidents' culprits among them, so that
/// "above its background" means something).
fn background_culprit(i: u64) -> Frames {
    let mut f: Frames = Vec::new();
    match i % 7 {
        0 => return db_culprit(0).frames,
        1 => return ext_culprit(0, None).frames,
        2 => return ext_culprit(1, None).frames,
        3 => {
            f.push((
                "preg_replace_callback",
                "wp-content/plugins/wordpress-seo/src/presenters/schema-presenter.php:41".into(),
            ));
            f.push((
                "present",
                "wp-content/plugins/wordpress-seo/src/integrations/front-end-integration.php:402"
                    .into(),
            ));
        }
        4 => {
            f.push((
                "file_put_contents",
                "wp-content/plugins/wp-super-cache/wp-cache-phase2.php:2210".into(),
            ));
            f.push((
                "wp_cache_ob_callback",
                "wp-content/plugins/wp-super-cache/wp-cache-phase2.php:1971".into(),
            ));
        }
        5 => {
            f.push((
                "curl_exec",
                "wp-content/plugins/woocommerce-payments/includes/wc-payment-api/class-wc-payments-http.php:104"
                    .into(),
            ));
            f.push((
                "remote_request",
                "wp-content/plugins/woocommerce-payments/includes/wc-payment-api/class-wc-payments-api-client.php:2019"
                    .into(),
            ));
        }
        _ => return db_culprit(1).frames,
    }
    tail(&mut f);
    f
}

/// Where a scenario's errors land.
#[derive(Clone, Copy)]
pub enum Paths {
    /// `METHOD /path` with this share, the rest over the site.
    Dominant(&'static str, f64),
    /// The site's own mix of PHP requests.
    Site,
}

/// A shape parameter, recorded in the truth.
type Shape = Vec<(&'static str, f64)>;

fn cause_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::SegfaultThenCapacity => &["segfault", "max_children"],
        Kind::CampaignWidget => &["database", "external_call"],
        k => match k.diagnosis().0 {
            "database" => &["database"],
            "external_call" => &["external_call"],
            "oom_kill" => &["oom_kill"],
            "fpm_restart" => &["fpm_restart"],
            "socket_permission" => &["socket_permission"],
            "max_children" => &["max_children"],
            "segfault" => &["segfault"],
            "request_flood" => &["request_flood"],
            "fpm_down" => &["fpm_down"],
            "backlog_full" => &["backlog_full"],
            "no_live_upstreams" => &["no_live_upstreams"],
            "buffer_config" => &["buffer_config"],
            "slow_script" => &["slow_script"],
            "fatal_error" => &["fatal_error"],
            _ => &["edge_only"],
        },
    }
}

/// The longest a scenario may last, its lead-in included.
fn max_len(kind: Kind) -> i64 {
    match kind {
        Kind::OomAfterRaise => 34 * MIN,
        Kind::SegfaultThenCapacity => 24 * MIN,
        Kind::DeployWindow => 14 * MIN,
        k if k.is_scenario() => 22 * MIN,
        _ => 13 * MIN,
    }
}

/// The messy plan of a seed: one scenario chosen by the seed (so that 9
/// consecutive seeds cover every scenario), the others shuffled, one of
/// the classic kinds mixed in now and then.
pub fn default_kinds(seed: u64, rng: &mut Rng, cloudflare: bool) -> Vec<Kind> {
    let n = Kind::SCENARIOS.len();
    let first = Kind::SCENARIOS[(seed % n as u64) as usize];
    let mut rest: Vec<Kind> = Kind::SCENARIOS
        .into_iter()
        .filter(|&k| k != first)
        .collect();
    for i in (1..rest.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rest.swap(i, j);
    }
    if rng.chance(0.5) {
        let classic: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|&k| cloudflare || k != Kind::EdgeOnly)
            .collect();
        let k = *rng.pick(&classic);
        let at = rng.below(3) as usize;
        rest.insert(at.min(rest.len()), k);
    }
    let mut v = vec![first];
    v.extend(rest);
    v
}

/// What [`schedule`] placed.
pub struct Placed {
    /// Each scenario's span, lead-in included: `(start, end)`.
    pub spans: Vec<(i64, i64)>,
}

impl Builder<'_> {
    fn begin(&mut self) {
        self.idx = self.plan.incidents.len();
        self.phase = 0;
    }

    fn finish(&mut self, kind: Kind, known: Known, diag: Diag) {
        self.plan.incidents.push(Incident {
            kind,
            known,
            diag: Some(diag),
        });
    }

    /// `n` instants over `[s, e)`, sorted, none more than `max_gap` from
    /// the previous one (nor from `s`).
    fn paced(&mut self, s: i64, e: i64, n: u64, max_gap: i64) -> Vec<i64> {
        let mut v = self.times(s, e, n);
        let mut prev = s;
        for t in v.iter_mut() {
            if *t - prev > max_gap {
                *t = prev + self.rng.range(max_gap as u64 / 2, max_gap as u64) as i64;
            }
            prev = *t;
        }
        v
    }

    fn next_phase(&mut self) {
        self.phase += 1;
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.unit()
    }

    /// A PHP request of the site's own mix.
    fn site_path(&mut self) -> (&'static str, String) {
        let w = model::weights(HUMAN_PATHS);
        loop {
            let spec = &HUMAN_PATHS[w.pick(&mut self.rng)];
            if spec.route != Route::Php {
                continue;
            }
            let mut out = Vec::new();
            model::fill(&mut out, spec.template, &mut self.rng);
            return (spec.method, String::from_utf8(out).expect("ASCII"));
        }
    }

    fn pick(&mut self, p: Paths) -> (&'static str, String) {
        match p {
            Paths::Dominant(d, share) if self.rng.chance(share) => {
                let (m, path) = d.split_once(' ').expect("METHOD /path");
                (if m == "POST" { "POST" } else { "GET" }, path.to_string())
            }
            _ => self.site_path(),
        }
    }

    /// `n` gateway errors over `[s, e)`, exactly `round(share * n)` of each
    /// kind of `mix` (the first kind takes the remainder), each with the
    /// response time nginx logs for it. Timeouts of a slow call get its
    /// trace (`traces`: the culprit and the share of timeouts traced).
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        s: i64,
        e: i64,
        n: u64,
        mix: &[(UpErr, f64)],
        paths: Paths,
        traces: Option<(&Culprit, f64)>,
        k: &mut Known,
    ) {
        let mut kinds = Vec::with_capacity(n as usize);
        for &(err, share) in &mix[1..] {
            let c = (share * n as f64).round() as u64;
            kinds.extend(std::iter::repeat_n(err, c as usize));
        }
        kinds.truncate(n as usize);
        while (kinds.len() as u64) < n {
            kinds.push(mix[0].0);
        }
        for i in (1..kinds.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            kinds.swap(i, j);
        }
        // In a mix, no run of four timeouts: a run like that would pass
        // for a timeout phase of its own.
        if mix.len() > 1 {
            for i in 3..kinds.len() {
                if kinds[i - 3..=i].iter().all(|&k| k == UpErr::TimedOut)
                    && let Some(j) = (i + 1..kinds.len())
                        .chain(0..i.saturating_sub(3))
                        .find(|&j| kinds[j] != UpErr::TimedOut)
                {
                    kinds.swap(i, j);
                }
            }
        }
        let times = self.times(s, e, n);
        for (j, (t, err)) in times.into_iter().zip(kinds).enumerate() {
            let (m, p) = self.pick(paths);
            let rt = match err {
                UpErr::TimedOut => 60_000 + self.rng.below(5),
                UpErr::Reset | UpErr::Premature => self.rng.range(40, 3000),
                _ => self.rng.below(3),
            };
            if err == UpErr::TimedOut
                && let Some((c, share)) = traces
                && self.rng.chance(share)
            {
                let (ci, pid) = self.pool.child(&mut self.rng);
                self.slow_trace(t - rt as i64 + 5000, pid, m, &p, &c.frames, k, rt);
                // request_terminate_timeout (60 s) fires just after nginx
                // gave up, for some of them.
                if c.call == "external_call" && j % 4 == 0 {
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
                    self.exit(t + 41, ci, pid, ("SIGTERM", 15), k);
                }
            }
            self.req(t, m, p, err, rt);
        }
    }

    /// Slow requests that still made it (200 after 6–40 s), each traced.
    fn slow_ok(&mut self, s: i64, e: i64, n: u64, c: &Culprit, paths: Paths, k: &mut Known) {
        for t in self.times(s, e, n) {
            let (m, p) = self.pick(paths);
            let rt = self.rng.range(6_000, 40_000);
            let (_, pid) = self.pool.child(&mut self.rng);
            self.slow_trace(t - rt as i64 + 5000, pid, m, &p, &c.frames, k, rt);
            self.ok(t, m, p, rt);
        }
    }

    /// Extra successful requests: a traffic rise of `rps` over `[s, e)`.
    fn rise(&mut self, s: i64, e: i64, rps: f64, paths: Paths, slow: bool) {
        let n = (rps * (e - s) as f64 / 1000.0) as u64;
        for t in self.times(s, e, n) {
            let (m, p) = self.pick(paths);
            let rt = if slow {
                self.rng.range(300, 9_000)
            } else {
                self.rng.range(60, 1_200)
            };
            self.ok(t, m, p, rt);
        }
    }

    /// The pool at `pm.max_children`, `n` times over `[s, e)`, after a
    /// `seems busy`.
    fn saturation_lines(&mut self, s: i64, e: i64, n: u64, k: &mut Known) {
        let total = self.pool.max_children - 4;
        fpm(
            self.plan,
            self.pool.master,
            s - 2500,
            format!(
                "WARNING: [pool {POOL}] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and {total} total children"
            ),
        );
        k.seems_busy += 1;
        for j in 0..n {
            let t = s - 1500 + (j as i64) * (e - s) / n as i64;
            self.max_children(t, k);
        }
    }

    /// One php-fpm stop/start at `t0`: refused for `refused` ms while the
    /// master terminates, the socket missing for `missing` ms until the
    /// new master listens. Every PHP request fails meanwhile; `per_s`
    /// more errors a second are injected on `paths`. Returns when it is
    /// back.
    fn restart(
        &mut self,
        t0: i64,
        refused: i64,
        missing: i64,
        per_s: f64,
        paths: Paths,
        k: &mut Known,
    ) -> i64 {
        let switch = t0 + refused;
        let back = switch + missing;
        fpm(self.plan, 0, t0 - 3, format!("Stopping {UNIT}..."));
        fpm(
            self.plan,
            self.pool.master,
            t0,
            "NOTICE: Terminating ...".into(),
        );
        fpm(
            self.plan,
            self.pool.master,
            switch - 1,
            "NOTICE: exiting, bye-bye!".into(),
        );
        fpm(
            self.plan,
            0,
            switch,
            "php8.2-fpm.service: Deactivated successfully.".into(),
        );
        fpm(self.plan, 0, switch, format!("Stopped {UNIT}."));
        self.pool.master += 1000 + self.rng.below(500) as u32;
        let m = self.pool.master;
        fpm(self.plan, 0, back - 40, format!("Starting {UNIT}..."));
        fpm(
            self.plan,
            m,
            back,
            format!("NOTICE: fpm is running, pid {m}"),
        );
        fpm(
            self.plan,
            m,
            back + 1,
            "NOTICE: ready to handle connections".into(),
        );
        fpm(
            self.plan,
            m,
            back + 1,
            "NOTICE: systemd monitor interval set to 10000ms".into(),
        );
        fpm(self.plan, 0, back + 2, format!("Started {UNIT}."));
        for (i, c) in self.pool.children.iter_mut().enumerate() {
            *c = m + 1 + i as u32;
        }
        self.pool.next = m + 100;
        k.restarts += 1;
        self.plan.outages.push(Outage {
            start: t0,
            end: back,
            route: Route::Php,
            path: None,
            switch,
            first: UpErr::Refused,
            then: UpErr::Enoent,
            incident: self.idx,
            phase: self.phase,
        });
        let n_ref = ((per_s * refused as f64 / 1000.0).round() as u64).max(2);
        let n_miss = (per_s * missing as f64 / 1000.0).round() as u64;
        for (a, b, n, err) in [
            (t0, switch, n_ref, UpErr::Refused),
            (switch, back, n_miss, UpErr::Enoent),
        ] {
            if b > a {
                for t in self.times(a, b, n) {
                    let (m, p) = self.pick(paths);
                    let rt = self.rng.below(2);
                    self.req(t, m, p, err, rt);
                }
            }
        }
        back
    }

    /// A quick restart that refuses more than it misses (a `refused`
    /// phase by construction).
    fn quick_restart(&mut self, t0: i64, paths: Paths, k: &mut Known) -> i64 {
        let refused = self.rng.range(2_000, 4_000) as i64;
        let missing = self.rng.range(0, 500) as i64;
        let per_s = self.uniform(2.0, 4.0);
        self.restart(t0, refused, missing, per_s, paths, k)
    }

    /// Background slow requests over `[s, e)`: one every 4–12 min, of
    /// various plugins, each answered 200 after 5–14 s.
    pub fn background_traces(&mut self, s: i64, e: i64, bg: &mut Known) {
        let mut t = s + self.rng.range(MIN as u64, 8 * MIN as u64) as i64;
        while t < e {
            let down = self
                .plan
                .outages
                .iter()
                .any(|o| o.route == Route::Php && o.start - 20_000 <= t && t < o.end + 20_000);
            if down {
                t += self.rng.range(4 * MIN as u64, 12 * MIN as u64) as i64;
                continue;
            }
            let frames = background_culprit(self.rng.below(7));
            let (m, p) = self.site_path();
            let rt = self.rng.range(5_300, 14_000);
            let (_, pid) = self.pool.child(&mut self.rng);
            self.slow_trace(t - rt as i64 + 5000, pid, m, &p, &frames, bg, rt);
            let bytes = self.rng.range(900, 60000);
            self.plan.reqs.push(crate::incidents::PReq {
                t,
                method: m,
                path: p,
                status: 200,
                bytes,
                rt_ms: rt,
                err: None,
                incident: None,
                api: false,
                edge: None,
                phase: 0,
            });
            t += self.rng.range(4 * MIN as u64, 12 * MIN as u64) as i64;
        }
    }

    /// One lone segfault: the kernel line, the child's SIGSEGV exit, one
    /// 502 (reset or premature close). Background.
    pub fn lone_segfault(&mut self, t: i64, bg: &mut Known) {
        let (ci, pid) = self.pool.child(&mut self.rng);
        self.segfault_lines(t, ci, pid, "opcache.so", bg);
        let (m, p) = self.site_path();
        let err = if self.rng.chance(0.6) {
            UpErr::Reset
        } else {
            UpErr::Premature
        };
        let rt = self.rng.range(40, 3000);
        self.plan.reqs.push(crate::incidents::PReq {
            t,
            method: m,
            path: p,
            status: err.status(),
            bytes: err.bytes(),
            rt_ms: rt,
            err: Some(err),
            incident: None,
            api: false,
            edge: None,
            phase: 0,
        });
    }

    fn segfault_lines(&mut self, t: i64, ci: usize, pid: u32, module: &str, k: &mut Known) {
        let ip = 0x7f3a_1c28_0000u64 + self.rng.below(0x8c000);
        let sp = 0x7ffd_5e00_0000u64 + self.rng.below(0xff_ffff);
        let cpu = self.rng.below(2);
        self.plan.kern.push((
            t,
            format!(
                "php-fpm8.2[{pid}]: segfault at 0 ip {ip:016x} sp {sp:016x} error 4 in {module}[7f3a1c280000+8c000] likely on CPU {cpu} (core {cpu}, socket 0)"
            )
            .into_bytes(),
        ));
        k.segfaults += 1;
        self.exit(t + 1, ci, pid, ("SIGSEGV", 11), k);
    }

    /// A slow dependency pins the workers: optionally a timeout phase,
    /// then the pool saturated (EAGAIN 502s and some 504s over many
    /// paths), maybe an admin's restart in the middle. Latency, with the
    /// saturation contributing. Returns the span's end.
    fn cascade(&mut self, kind: Kind, at: i64, c: Culprit, bg_rps: f64) -> i64 {
        self.begin();
        let mut k = Known {
            culprit: Some(("plugin", c.name, Some(c.call))),
            ..Known::default()
        };
        let mut shape: Shape = Vec::new();
        let mut contributing = vec!["max_children"];
        let share = self.uniform(0.3, 0.5);
        let paths = Paths::Dominant(c.dominant, share);
        // The dependency slows down: slow-but-successful requests first.
        let lead = self.rng.range(60_000, 150_000) as i64;
        let s = at + lead;
        let n_lead = self.rng.range(3, 8);
        self.slow_ok(at, s, n_lead, &c, paths, &mut k);
        let mut t = s;
        if self.rng.chance(0.6) {
            let d = self.rng.range(MIN as u64, 4 * MIN as u64) as i64;
            let per_min = self.uniform(3.0, 10.0);
            let n = ((per_min * d as f64 / MIN as f64) as u64).max(6);
            self.fail(
                t,
                t + d,
                n,
                &[(UpErr::TimedOut, 1.0)],
                paths,
                Some((&c, 0.85)),
                &mut k,
            );
            shape.push(("timeout_minutes", d as f64 / MIN as f64));
            t += d;
            self.next_phase();
        }
        let d = self.rng.range(3 * MIN as u64, 14 * MIN as u64) as i64;
        let per_min = self.uniform(8.0, 50.0);
        let eagain = self.uniform(0.5, 0.85);
        let levels = self.rng.range(2, 6);
        let sat_end = t + d;
        let restart_at = self
            .rng
            .chance(0.3)
            .then(|| t + d * self.rng.range(35, 65) as i64 / 100);
        let mut seg = vec![(t, sat_end)];
        if let Some(r) = restart_at {
            seg = vec![(t, r), (r, sat_end)];
        }
        for (i, &(a, b)) in seg.iter().enumerate() {
            let mut a = a;
            if i == 1 {
                self.next_phase();
                a = self.quick_restart(a, Paths::Dominant("GET /", 0.5), &mut k) + 5_000;
                contributing.push("fpm_restart");
                self.next_phase();
            }
            let lines = (levels / seg.len() as u64).max(1);
            self.saturation_lines(a, b, lines, &mut k);
            let n = ((per_min * (b - a) as f64 / MIN as f64) as u64).max(10);
            self.fail(
                a,
                b,
                n,
                &[(UpErr::Eagain, eagain), (UpErr::TimedOut, 1.0 - eagain)],
                paths,
                Some((&c, 0.7)),
                &mut k,
            );
        }
        // Slow successes all along, and a little more traffic than usual.
        let n_ok = (d / 20_000) as u64;
        self.slow_ok(s, sat_end, n_ok, &c, paths, &mut k);
        let rise = self.uniform(0.0, 0.3);
        self.rise(at, sat_end, rise * bg_rps, Paths::Site, true);
        shape.extend([
            ("saturation_minutes", d as f64 / MIN as f64),
            ("errors_per_min", per_min),
            ("eagain_share", eagain),
            ("dominant_share", share),
            ("max_children_lines", levels as f64),
            ("traffic_rise", 1.0 + rise),
        ]);
        let (cause, verdict, handoff) = if c.call == "database" {
            Kind::Database.diagnosis()
        } else {
            Kind::ExternalCall.diagnosis()
        };
        self.finish(
            kind,
            k,
            Diag {
                cause,
                verdict,
                handoff,
                contributing,
                shape,
            },
        );
        sat_end
    }

    /// The shipping API hangs at checkout: `/checkout/` times out, and
    /// with some seeds the pool saturates behind it.
    fn checkout_hang(&mut self, at: i64, variant: u64) -> i64 {
        self.begin();
        let c = ext_culprit(variant * 2, Some("GET /checkout/"));
        let mut k = Known {
            culprit: Some(("plugin", c.name, Some(c.call))),
            ..Known::default()
        };
        let mut contributing = Vec::new();
        let checkout = Paths::Dominant("GET /checkout/", 0.9);
        let d = self.rng.range(3 * MIN as u64, 12 * MIN as u64) as i64;
        let per_min = self.uniform(3.0, 12.0);
        let n = ((per_min * d as f64 / MIN as f64) as u64).max(10);
        let s = at + 40_000;
        self.slow_ok(at, s, 3, &c, checkout, &mut k);
        let saturates = self.rng.chance(0.5);
        let mut end = s + d;
        self.fail(
            s,
            end,
            n,
            &[(UpErr::TimedOut, 1.0)],
            checkout,
            Some((&c, 0.9)),
            &mut k,
        );
        let mut shape: Shape = vec![
            ("timeout_minutes", d as f64 / MIN as f64),
            ("errors_per_min", per_min),
        ];
        if saturates {
            // The hung checkouts hold every worker: the rest of the site
            // gets EAGAIN, /checkout/ still times out (and stays on top).
            self.next_phase();
            let d2 = self.rng.range(2 * MIN as u64, 6 * MIN as u64) as i64;
            let n_to = ((per_min * d2 as f64 / MIN as f64) as u64).max(6);
            let n_ea = n_to + self.rng.range(2, n_to.max(3));
            let levels = self.rng.range(1, 4);
            self.saturation_lines(end, end + d2, levels, &mut k);
            self.fail(
                end,
                end + d2,
                n_to,
                &[(UpErr::TimedOut, 1.0)],
                checkout,
                Some((&c, 0.9)),
                &mut k,
            );
            self.fail(
                end,
                end + d2,
                n_ea,
                &[(UpErr::Eagain, 1.0)],
                Paths::Site,
                None,
                &mut k,
            );
            end += d2;
            contributing.push("max_children");
            shape.push(("saturation_minutes", d2 as f64 / MIN as f64));
        }
        self.finish(
            Kind::CheckoutHang,
            k,
            Diag {
                cause: "external_call",
                verdict: "latency",
                handoff: "php-fpm -> external API",
                contributing,
                shape,
            },
        );
        end
    }

    /// `pm.max_children` reached a few times, raised by a reload, then the
    /// box runs out of memory: OOM kills of workers, resets, slower
    /// requests.
    fn oom_after_raise(&mut self, at: i64) -> i64 {
        self.begin();
        let mut k = Known::default();
        let mut pre = Known::default();
        // Reached at the old setting: warnings, no gateway error.
        let busy = self.rng.range(2, 4);
        let mut t = at;
        for _ in 0..busy {
            self.max_children(t, &mut pre);
            t += self.rng.range(40_000, 120_000) as i64;
        }
        let reload = at + self.rng.range(5 * MIN as u64, 9 * MIN as u64) as i64;
        let m = self.pool.master;
        let raised = self.pool.max_children + 8 * self.rng.range(2, 3) as u32;
        fpm(
            self.plan,
            m,
            reload,
            "NOTICE: Reloading in progress ...".into(),
        );
        k.reloads += 1;
        fpm(
            self.plan,
            m,
            reload + 2,
            "NOTICE: reloading: execvp(\"/usr/sbin/php-fpm8.2\", {\"/usr/sbin/php-fpm8.2\", \"--nodaemonize\", \"--fpm-config\", \"/etc/php/8.2/fpm/php-fpm.conf\"})".into(),
        );
        fpm(
            self.plan,
            m,
            reload + 40,
            "NOTICE: using inherited socket fd=8, \"/run/php/php8.2-fpm.sock\"".into(),
        );
        fpm(
            self.plan,
            m,
            reload + 41,
            format!("NOTICE: fpm is running, pid {m}"),
        );
        fpm(
            self.plan,
            m,
            reload + 42,
            "NOTICE: ready to handle connections".into(),
        );
        for _ in self.pool.max_children..raised {
            self.pool.next += 2;
            self.pool.children.push(self.pool.next);
        }
        self.pool.max_children = raised;
        self.plan.max_children = Some(raised);
        // Memory runs out as the extra workers fill up.
        let s = reload + self.rng.range(3 * MIN as u64, 8 * MIN as u64) as i64;
        let d = self.rng.range(4 * MIN as u64, 14 * MIN as u64) as i64;
        // Kills at least every 2 min while it lasts (one episode, no lull
        // that could pass for a recovery).
        let kills = ((d as f64 / MIN as f64) * self.uniform(1.0, 2.5)) as u64;
        const ACTIONS: [&str; 2] = ["wc_export_orders", "pmxe_export_products"];
        let action = ACTIONS[self.rng.below(2) as usize];
        k.action = Some(action);
        let dominant: &'static str = if action == ACTIONS[0] {
            "GET /wp-admin/admin-ajax.php?action=wc_export_orders&format=csv"
        } else {
            "GET /wp-admin/admin-ajax.php?action=pmxe_export_products"
        };
        let paths = Paths::Dominant(dominant, 0.6);
        for t in self.paced(s, s + d, kills.max(6), 2 * MIN) {
            self.oom_kill(t, &mut k);
            let (m, p) = self.pick(paths);
            let err = if self.rng.chance(0.7) {
                UpErr::Reset
            } else {
                UpErr::Premature
            };
            let rt = self.rng.range(5_000, 25_000);
            self.req(t, m, p, err, rt);
        }
        // Swapping: everything slower, nothing failing for it.
        let n_slow = (d / 15_000) as u64;
        for t in self.times(s, s + d, n_slow) {
            let (m, p) = self.site_path();
            let rt = self.rng.range(3_000, 12_000);
            self.ok(t, m, p, rt);
        }
        k.max_children_reached += pre.max_children_reached;
        self.finish(
            Kind::OomAfterRaise,
            k,
            Diag {
                cause: "oom_kill",
                verdict: "crash",
                handoff: "php-fpm worker",
                contributing: Vec::new(),
                shape: vec![
                    ("minutes", d as f64 / MIN as f64),
                    ("oom_kills", kills as f64),
                    ("max_children_raised_to", raised as f64),
                ],
            },
        );
        s + d
    }

    /// A deploy restarting php-fpm 3 to 6 times over about 10 minutes:
    /// one incident.
    fn deploy_window(&mut self, at: i64) -> i64 {
        self.begin();
        let mut k = Known::default();
        let n = self.rng.range(3, 6);
        let mut t = at;
        let paths = Paths::Dominant("GET /", 0.5);
        let mut end = at;
        // One deploy script, one way of restarting: every restart of the
        // window refuses longer than the socket is missing, or the other
        // way round (so that its phases are one class, by construction).
        let refusing = self.rng.chance(0.5);
        let lull_max = (4 * MIN).min(12 * MIN / (n as i64 - 1));
        for i in 0..n {
            if i > 0 {
                t += self.rng.range(MIN as u64, lull_max as u64) as i64;
                self.next_phase();
            }
            let long = self.rng.range(2_500, 4_000) as i64;
            let short = self.rng.range(100, 500) as i64;
            let (refused, missing) = if refusing {
                (long, short)
            } else {
                (short, long)
            };
            let per_s = self.uniform(1.5, 4.0);
            end = self.restart(t, refused, missing, per_s, paths, &mut k);
            t = end;
        }
        self.finish(
            Kind::DeployWindow,
            k,
            Diag {
                cause: "fpm_restart",
                verdict: "connectivity",
                handoff: "nginx -> php-fpm",
                contributing: Vec::new(),
                shape: vec![
                    ("restarts", n as f64),
                    ("minutes", (end - at) as f64 / MIN as f64),
                ],
            },
        );
        end
    }

    /// A deploy changes the socket's owner: restart (refused), permission
    /// denied for minutes, restart at the fix (refused). One incident.
    fn permission_deploy(&mut self, at: i64) -> i64 {
        self.begin();
        let mut k = Known::default();
        let paths = Paths::Dominant("GET /", 0.5);
        let a = self.quick_restart(at, paths, &mut k);
        self.next_phase();
        let d = self.rng.range(4 * MIN as u64, 15 * MIN as u64) as i64;
        let b = a + d;
        self.plan.outages.push(Outage {
            start: a,
            end: b,
            route: Route::Php,
            path: None,
            switch: a,
            first: UpErr::Eacces,
            then: UpErr::Eacces,
            incident: self.idx,
            phase: self.phase,
        });
        let per_min = self.uniform(3.0, 15.0);
        let n = ((per_min * d as f64 / MIN as f64) as u64).max(8);
        self.fail(a, b, n, &[(UpErr::Eacces, 1.0)], paths, None, &mut k);
        self.next_phase();
        let end = self.quick_restart(b, paths, &mut k);
        self.finish(
            Kind::PermissionDeploy,
            k,
            Diag {
                cause: "socket_permission",
                verdict: "connectivity",
                handoff: "nginx -> php-fpm",
                contributing: vec!["fpm_restart"],
                shape: vec![("permission_minutes", d as f64 / MIN as f64)],
            },
        );
        end
    }

    /// Traffic several-fold over the whole site, the pool saturated, the
    /// slowlog at its background level. Returns the end.
    /// `first_error`: when the saturation starts (else after a drawn
    /// ramp from `at`).
    fn surge(&mut self, kind: Kind, at: i64, bg_rps: f64, first_error: Option<i64>) -> i64 {
        self.begin();
        let mut k = Known::default();
        let mut contributing = Vec::new();
        let factor = self.uniform(3.0, 6.0);
        let ramp = self.rng.range(MIN as u64, 2 * MIN as u64) as i64;
        let d = self.rng.range(5 * MIN as u64, 15 * MIN as u64) as i64;
        let s = first_error.unwrap_or(at + ramp);
        let (at, e) = (s - ramp, s + d);
        self.rise(at, s, (factor - 1.0) * bg_rps / 2.0, Paths::Site, false);
        self.rise(s, e + MIN, (factor - 1.0) * bg_rps, Paths::Site, true);
        let per_min = self.uniform(10.0, 50.0);
        let eagain = self.uniform(0.5, 0.85);
        let levels = self.rng.range(2, 6);
        self.saturation_lines(s, e, levels, &mut k);
        // The site's mix, the home page a little ahead (the campaign or
        // the mention links there).
        let paths = Paths::Dominant("GET /", 0.25);
        let mix = [(UpErr::Eagain, eagain), (UpErr::TimedOut, 1.0 - eagain)];
        if self.rng.chance(0.3) {
            let r = s + d * self.rng.range(35, 65) as i64 / 100;
            let n1 = ((per_min * (r - s) as f64 / MIN as f64) as u64).max(10);
            self.fail(s, r, n1, &mix, paths, None, &mut k);
            self.next_phase();
            let back = self.quick_restart(r, Paths::Dominant("GET /", 0.5), &mut k) + 5_000;
            self.next_phase();
            let n2 = ((per_min * (e - back) as f64 / MIN as f64) as u64).max(10);
            self.fail(back, e, n2, &mix, paths, None, &mut k);
            contributing.push("fpm_restart");
        } else {
            let n = ((per_min * d as f64 / MIN as f64) as u64).max(12);
            self.fail(s, e, n, &mix, paths, None, &mut k);
        }
        let shape = vec![
            ("traffic_factor", factor),
            ("minutes", d as f64 / MIN as f64),
            ("errors_per_min", per_min),
            ("eagain_share", eagain),
            ("max_children_lines", levels as f64),
        ];
        self.finish(
            kind,
            k,
            Diag {
                cause: "max_children",
                verdict: "capacity",
                handoff: "nginx -> php-fpm",
                contributing,
                shape,
            },
        );
        e
    }

    /// A campaign brings traffic to a landing page whose widget is slow:
    /// latency with the widget as culprit, saturation contributing.
    fn campaign(&mut self, at: i64, bg_rps: f64, variant: u64) -> i64 {
        self.begin();
        let c = widget(variant);
        let mut k = Known {
            culprit: Some(("plugin", c.name, Some(c.call))),
            ..Known::default()
        };
        let factor = self.uniform(2.0, 4.0);
        let landing = Paths::Dominant(c.dominant, 0.5);
        let d = self.rng.range(5 * MIN as u64, 15 * MIN as u64) as i64;
        let s = at + self.rng.range(MIN as u64, 2 * MIN as u64) as i64;
        let e = s + d;
        self.rise(at, e, (factor - 1.0) * bg_rps, landing, true);
        self.slow_ok(at, s, 4, &c, landing, &mut k);
        let per_min = self.uniform(8.0, 40.0);
        let eagain = self.uniform(0.45, 0.75);
        let levels = self.rng.range(2, 5);
        self.saturation_lines(s, e, levels, &mut k);
        let n = ((per_min * d as f64 / MIN as f64) as u64).max(12);
        self.fail(
            s,
            e,
            n,
            &[(UpErr::Eagain, eagain), (UpErr::TimedOut, 1.0 - eagain)],
            Paths::Dominant(c.dominant, 0.55),
            Some((&c, 0.85)),
            &mut k,
        );
        self.slow_ok(s, e, (d / 15_000) as u64, &c, landing, &mut k);
        let (cause, verdict, handoff) = if c.call == "database" {
            Kind::Database.diagnosis()
        } else {
            Kind::ExternalCall.diagnosis()
        };
        self.finish(
            Kind::CampaignWidget,
            k,
            Diag {
                cause,
                verdict,
                handoff,
                contributing: vec!["max_children"],
                shape: vec![
                    ("traffic_factor", factor),
                    ("minutes", d as f64 / MIN as f64),
                    ("errors_per_min", per_min),
                    ("eagain_share", eagain),
                ],
            },
        );
        e
    }

    /// A burst of segfaults, a return to the background, and 3 minutes
    /// later a capacity saturation: two incidents.
    fn segfault_then_capacity(&mut self, at: i64, bg_rps: f64) -> i64 {
        self.begin();
        let mut k = Known {
            module: Some("opcache.so"),
            ..Known::default()
        };
        let d = self.rng.range(2 * MIN as u64, 5 * MIN as u64) as i64;
        let n = self.rng.range(8, 16);
        let paths = Paths::Dominant("GET /product/espresso-grinder-x2/", 0.6);
        for t in self.paced(at, at + d, n, 2 * MIN) {
            let (ci, pid) = self.pool.child(&mut self.rng);
            self.segfault_lines(t, ci, pid, "opcache.so", &mut k);
            let (m, p) = self.pick(paths);
            let err = if self.rng.chance(0.7) {
                UpErr::Reset
            } else {
                UpErr::Premature
            };
            let rt = self.rng.range(40, 3000);
            self.req(t, m, p, err, rt);
        }
        let last = self
            .plan
            .reqs
            .iter()
            .filter(|r| r.incident == Some(self.idx))
            .map(|r| r.t)
            .max()
            .unwrap_or(at + d);
        self.finish(
            Kind::SegfaultThenCapacity,
            k,
            Diag {
                cause: "segfault",
                verdict: "crash",
                handoff: "php-fpm worker",
                contributing: Vec::new(),
                shape: vec![("segfaults", n as f64), ("minutes", d as f64 / MIN as f64)],
            },
        );
        // The gap is between the last error of the one and the first of
        // the other; the surge's ramp has no errors.
        let gap = self.rng.range(170_000, 200_000) as i64;
        self.surge(Kind::SegfaultThenCapacity, last, bg_rps, Some(last + gap))
    }
}

/// Builds `kinds` one after the other from `start` on, at drawn gaps, as
/// long as they fit before `end`; routine noise and background slow
/// traces fill the time between. `strict`: every kind must fit.
#[allow(clippy::too_many_arguments)]
pub fn schedule(
    b: &mut Builder,
    kinds: &[Kind],
    start: i64,
    end: i64,
    bg_rps: f64,
    strict: bool,
    noise_margin: i64,
    bg: &mut Known,
) -> anyhow::Result<Placed> {
    let mut rng = b.rng.fork(0x3e55);
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let mut last_of: Vec<(&'static str, i64)> = Vec::new();
    let mut cursor = start + rng.range(12 * MIN as u64, 22 * MIN as u64) as i64;
    let mut quiet_from = start;
    let mut traces_from = start;
    for &kind in kinds {
        let mut at = cursor;
        for c in cause_of(kind) {
            for &(lc, t) in &last_of {
                if lc == *c {
                    at = at.max(t + SAME_CAUSE_GAP + rng.range(0, 3 * MIN as u64) as i64);
                }
            }
        }
        if at + max_len(kind) > end - 5 * MIN {
            if strict {
                anyhow::bail!(
                    "the duration is too short for {}: give more time, or fewer --incidents",
                    kind.name()
                );
            }
            continue;
        }
        b.noise(quiet_from, at - noise_margin, bg);
        b.background_traces(traces_from, at, bg);
        traces_from = at;
        let first = b.plan.incidents.len();
        let variant = rng.below(2);
        let e = match kind {
            Kind::CascadeDatabase => b.cascade(kind, at, db_culprit(variant), bg_rps),
            Kind::CascadeExternal => b.cascade(kind, at, ext_culprit(variant, None), bg_rps),
            Kind::OomAfterRaise => b.oom_after_raise(at),
            Kind::CheckoutHang => b.checkout_hang(at, variant),
            Kind::DeployWindow => b.deploy_window(at),
            Kind::PermissionDeploy => b.permission_deploy(at),
            Kind::SegfaultThenCapacity => b.segfault_then_capacity(at, bg_rps),
            Kind::TrafficSurge => b.surge(kind, at, bg_rps, None),
            Kind::CampaignWidget => b.campaign(at, bg_rps, variant),
            k => {
                let len = rng.range(3 * MIN as u64, 12 * MIN as u64) as i64;
                b.add(k, at, at + len);
                if matches!(k, Kind::Capacity | Kind::RequestFlood | Kind::BacklogFull) {
                    break_timeout_runs(b, first);
                }
                at + len
            }
        };
        for inc in &b.plan.incidents[first..] {
            let cause = inc
                .diag
                .as_ref()
                .map_or(inc.kind.diagnosis().0, |d| d.cause);
            last_of.push((cause, e));
        }
        clarify_top_paths(b, first);
        spans.push((at, e));
        quiet_from = e + noise_margin;
        cursor = e + rng.range(10 * MIN as u64, 22 * MIN as u64) as i64;
    }
    b.noise(quiet_from, end, bg);
    b.background_traces(traces_from, end, bg);
    Ok(Placed { spans })
}

/// The classic saturation kinds draw each error's errno by a coin: in the
/// messy plan, no run of four timeouts is left in their mix (it would
/// pass for a timeout phase of its own).
fn break_timeout_runs(b: &mut Builder, idx: usize) {
    let mut at: Vec<usize> = (0..b.plan.reqs.len())
        .filter(|&i| b.plan.reqs[i].incident == Some(idx) && b.plan.reqs[i].err.is_some())
        .collect();
    at.sort_by_key(|&i| b.plan.reqs[i].t);
    let timed = |b: &Builder, i: usize| b.plan.reqs[i].err == Some(UpErr::TimedOut);
    for n in 3..at.len() {
        if at[n - 3..=n].iter().all(|&i| timed(b, i))
            && let Some(m) = (n + 1..at.len()).find(|&m| !timed(b, at[m]))
        {
            let (i, j) = (at[n], at[m]);
            let (ei, ej) = (b.plan.reqs[i].err, b.plan.reqs[j].err);
            let (ri, rj) = (b.plan.reqs[i].rt_ms, b.plan.reqs[j].rt_ms);
            for (x, e, rt) in [(i, ej, rj), (j, ei, ri)] {
                let r = &mut b.plan.reqs[x];
                let e = e.expect("an error");
                r.err = Some(e);
                r.status = e.status();
                r.bytes = e.bytes();
                r.rt_ms = rt;
            }
        }
    }
}

/// Makes each new incident's top path clear: when the most frequent path
/// of its injected gateway errors is not ahead of the next by at least a
/// tenth (and 3), errors of the other paths take the top one until it is.
fn clarify_top_paths(b: &mut Builder, first: usize) {
    for idx in first..b.plan.incidents.len() {
        let key = |p: &str| {
            let (path, q) = p.split_once('?').unwrap_or((p, ""));
            let action = q
                .split('&')
                .find_map(|kv| kv.strip_prefix("action="))
                .filter(|_| path.ends_with("admin-ajax.php"));
            format!("{path}?{}", action.unwrap_or(""))
        };
        let mut counts: std::collections::BTreeMap<String, (u64, String, &'static str)> =
            Default::default();
        for r in b.plan.reqs.iter().filter(|r| {
            r.incident == Some(idx) && matches!(r.status, 502 | 504) && r.edge.is_none()
        }) {
            let e = counts
                .entry(key(&r.path))
                .or_insert((0, r.path.clone(), r.method));
            e.0 += 1;
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        if v.len() < 2 {
            continue;
        }
        let (top_key, (top, top_path, top_method)) = v[0].clone();
        let second = v[1].1.0;
        let need = second + (second / 10).max(3);
        if top >= need {
            continue;
        }
        let mut missing = need - top;
        for r in b.plan.reqs.iter_mut() {
            if missing == 0 {
                break;
            }
            if r.incident == Some(idx)
                && matches!(r.status, 502 | 504)
                && r.edge.is_none()
                && key(&r.path) != top_key
            {
                r.path = top_path.clone();
                r.method = top_method;
                missing -= 1;
            }
        }
    }
}

/// Lone segfaults, about one an hour, at least [`BG_MARGIN`] from every
/// span and 3 min from one another and from `avoid`.
pub fn place_lone_segfaults(
    b: &mut Builder,
    spans: &[(i64, i64)],
    start: i64,
    end: i64,
    avoid: &[i64],
    bg: &mut Known,
) -> Vec<i64> {
    let mut rng = b.rng.fork(0x5e9f);
    let hours = ((end - start) as f64 / 3_600_000.0).round().max(1.0) as u64;
    let mut placed: Vec<i64> = Vec::new();
    for _ in 0..hours {
        let t = (0..200).find_map(|_| {
            let t = start + MIN + rng.below((end - start - 2 * MIN).max(1) as u64) as i64;
            let far = spans
                .iter()
                .all(|&(s, e)| t < s - BG_MARGIN || t > e + BG_MARGIN)
                && placed.iter().chain(avoid).all(|&o| (t - o).abs() > 3 * MIN);
            far.then_some(t)
        });
        if let Some(t) = t {
            placed.push(t);
        }
    }
    placed.sort_unstable();
    for &t in &placed {
        b.lone_segfault(t, bg);
    }
    placed
}
