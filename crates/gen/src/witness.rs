//! The other witnesses of a set: PHP's error log (`--php-errors`), the
//! MySQL / MariaDB slow query log (`--mysql-slow`) and the configuration
//! as `nginx -T` and `php-fpm8.2 -tt` print it (`--config`).
//!
//! They are derived from the finished plan (its slowlog traces, php-fpm
//! lines, kernel kills and incidents) with random streams of their own, so
//! the other logs of a seed are byte-identical with or without them: what
//! these files add can be compared with the same set read without them.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Datelike, Timelike};
use serde_json::{Value, json};

use crate::clock::{Stamp, Style, Zone};
use crate::incidents::{Plan, TraceNote};
use crate::logs::{AccessFormat, FATAL_FILE, FATAL_LINE};
use crate::model::{DOCROOT, HOST, MAX_CHILDREN, POOL, SOCK};
use crate::rng::Rng;

const MIN: i64 = 60_000;

/// Which witnesses to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Witnesses {
    pub php_errors: bool,
    pub mysql_slow: bool,
    pub config: bool,
}

/// What the witnesses need to know of the set.
pub struct Scene<'a> {
    pub plan: &'a Plan,
    /// Each incident's scenario span (lead-in included).
    pub spans: &'a [(i64, i64)],
    /// How far background failures stay from a span.
    pub margin: i64,
    pub start: i64,
    pub end: i64,
    pub seed: u64,
    pub zone: Zone,
    pub access_format: AccessFormat,
    pub cloudflare: bool,
}

/// What the witnesses wrote: files and line counts, the top-level truth,
/// and per incident the evidence they should contribute.
pub struct Written {
    pub files: Vec<(&'static str, u64)>,
    pub truth: Value,
    pub per_incident: Vec<BTreeMap<&'static str, Value>>,
    /// PHP messages of the PHP error log by level.
    pub php_levels: BTreeMap<&'static str, u64>,
}

/// Each incident's gateway errors' first and last instants (none for an
/// incident the edge alone saw).
fn incident_spans(plan: &Plan) -> Vec<Option<(i64, i64)>> {
    let mut v: Vec<Option<(i64, i64)>> = vec![None; plan.incidents.len()];
    for r in &plan.reqs {
        if let Some(i) = r.incident
            && matches!(r.status, 502 | 504)
        {
            let e = v[i].get_or_insert((r.t, r.t));
            e.0 = e.0.min(r.t);
            e.1 = e.1.max(r.t);
        }
    }
    v
}

/// The incident a request that started at `t` belongs to: the one whose
/// errors run from at most 5 min after it to at most 3 min before it.
fn incident_of(spans: &[Option<(i64, i64)>], t: i64) -> Option<usize> {
    spans
        .iter()
        .position(|s| s.is_some_and(|(a, b)| t >= a - 5 * MIN && t <= b + 3 * MIN))
}

pub fn write(w: Witnesses, sc: &Scene, dir: Option<&Path>) -> anyhow::Result<Written> {
    let root = Rng::new(sc.seed).fork(0x3177_e55e);
    let mut out = Written {
        files: Vec::new(),
        truth: json!({}),
        per_incident: vec![BTreeMap::new(); sc.plan.incidents.len()],
        php_levels: BTreeMap::new(),
    };
    let mut top = serde_json::Map::new();
    if w.mysql_slow {
        let (text, lines, t) = mysql::write(sc, &mut root.fork(1), &mut out.per_incident);
        save(dir, "mysql-slow.log", &text)?;
        out.files.push(("mysql-slow.log", lines));
        top.insert("mysql_slow".into(), t);
    }
    if w.php_errors {
        let (text, lines, t, levels) = php::write(sc, &mut root.fork(2), &mut out.per_incident);
        save(dir, "php-error.log", &text)?;
        out.files.push(("php-error.log", lines));
        top.insert("php_errors".into(), t);
        out.php_levels = levels;
    }
    if w.config {
        let c = config::write(sc, &mut root.fork(3));
        save(dir, "nginx-T.txt", &c.nginx)?;
        save(dir, "php-fpm-tt.txt", &c.fpm)?;
        out.files.push(("nginx-T.txt", count_lines(&c.nginx)));
        out.files.push(("php-fpm-tt.txt", count_lines(&c.fpm)));
        top.insert("config".into(), c.truth);
    }
    out.truth = Value::Object(top);
    Ok(out)
}

fn count_lines(s: &str) -> u64 {
    s.bytes().filter(|&b| b == b'\n').count() as u64
}

fn save(dir: Option<&Path>, name: &str, text: &str) -> anyhow::Result<()> {
    if let Some(d) = dir {
        let p = d.join(name);
        std::fs::write(&p, text).map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
    }
    Ok(())
}

/// Whether `t` is at least `margin` from every span and 3 min from every
/// background gateway error.
fn quiet(sc: &Scene, t: i64, margin: i64) -> bool {
    sc.spans
        .iter()
        .all(|&(s, e)| t < s - margin || t > e + margin)
        && sc
            .plan
            .reqs
            .iter()
            .filter(|r| r.incident.is_none() && r.err.is_some())
            .all(|r| (r.t - t).abs() > 3 * MIN)
}

/// The php-fpm workers `request_terminate_timeout` killed: `(pid, when)`.
fn terminated(plan: &Plan) -> Vec<(u32, i64)> {
    plan.fpm
        .iter()
        .filter_map(|(t, _, body)| {
            let s = std::str::from_utf8(body).ok()?;
            if !s.contains("execution timed out") {
                return None;
            }
            let pid = s.split("child ").nth(1)?.split(',').next()?.parse().ok()?;
            Some((pid, *t))
        })
        .collect()
}

fn was_terminated(kills: &[(u32, i64)], tr: &TraceNote) -> bool {
    kills
        .iter()
        .any(|&(p, t)| p == tr.pid && t >= tr.start + 55_000 && t <= tr.start + 70_000)
}

/// The slow MySQL statement a database culprit runs, by its slug: the
/// statement (literals drawn), its main table, rows examined and sent.
fn db_statement(
    slug: &str,
    modern: bool,
    rng: &mut Rng,
    at: i64,
) -> (String, &'static str, u64, u64) {
    match slug {
        "related-products-booster" => {
            let q = if modern {
                "SELECT option_name, option_value FROM wp_options WHERE autoload IN ( 'yes', 'on', 'auto-on', 'auto' )".to_string()
            } else {
                "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'"
                    .to_string()
            };
            (
                q,
                "wp_options",
                rng.range(180_000, 420_000),
                rng.range(1_800, 6_500),
            )
        }
        "wc-abandoned-cart-pro" => (
            format!(
                "SELECT session_key FROM wp_woocommerce_sessions WHERE session_expiry > {} AND session_value LIKE '%\"cart\";a:{}%'",
                at / 1000,
                rng.range(1, 9)
            ),
            "wp_woocommerce_sessions",
            rng.range(300_000, 900_000),
            rng.range(40, 900),
        ),
        "woo-product-filter" => {
            let color = *rng.pick(&["blue", "black", "green", "red"]);
            let terms: Vec<String> = (0..rng.range(2, 4))
                .map(|_| rng.range(20, 90).to_string())
                .collect();
            (
                format!(
                    "SELECT DISTINCT wp_posts.ID FROM wp_posts INNER JOIN wp_postmeta pm ON pm.post_id = wp_posts.ID INNER JOIN wp_term_relationships tr ON tr.object_id = wp_posts.ID WHERE wp_posts.post_type = 'product' AND wp_posts.post_status = 'publish' AND pm.meta_key = 'attribute_pa_color' AND pm.meta_value IN ('{color}') AND tr.term_taxonomy_id IN ({})",
                    terms.join(",")
                ),
                "wp_posts",
                rng.range(400_000, 1_500_000),
                rng.range(10, 300),
            )
        }
        "sale-countdown-timer" => (
            format!(
                "SELECT SUM(meta_value) FROM wp_postmeta WHERE meta_key = '_stock' AND post_id IN (SELECT object_id FROM wp_term_relationships WHERE term_taxonomy_id = {})",
                rng.range(80, 99)
            ),
            "wp_postmeta",
            rng.range(600_000, 2_000_000),
            1,
        ),
        _ => (
            format!(
                "SELECT * FROM wp_postmeta WHERE meta_key = '_{}_cache'",
                slug.replace('-', "_")
            ),
            "wp_postmeta",
            rng.range(100_000, 600_000),
            rng.range(1, 50),
        ),
    }
}

/// A `wpdb` call chain as `wp_debug_backtrace_summary()` writes it.
fn wp_caller(slug: &str) -> String {
    let tail = match slug {
        "related-products-booster" => {
            "do_action('woocommerce_after_single_product_summary'), WP_Hook->do_action, WP_Hook->apply_filters, RPB\\Widget->render, RPB\\Options\\Store->save_index"
        }
        "wc-abandoned-cart-pro" => {
            "do_action('woocommerce_cart_updated'), WP_Hook->do_action, WP_Hook->apply_filters, ACP_Hooks->on_cart_updated, ACP_Session->sync_sessions"
        }
        "woo-product-filter" => {
            "do_action_ref_array('pre_get_posts'), WP_Hook->do_action, WP_Hook->apply_filters, WPF\\Query->pre_get_posts, WPF\\Filter->store_counts"
        }
        "sale-countdown-timer" => {
            "do_shortcode, preg_replace_callback, do_shortcode_tag, SCT_Timer->shortcode, SCT_Timer->reserve_stock"
        }
        _ => "do_action('init'), WP_Hook->do_action, WP_Hook->apply_filters",
    };
    format!(
        "require('wp-blog-header.php'), require_once('wp-includes/template-loader.php'), include('/var/www/html/wp-content/themes/storefront/single-product.php'), {tail}"
    )
}

/// The `UPDATE` of a database culprit that waits for a row lock.
fn db_update(slug: &str, rng: &mut Rng) -> String {
    match slug {
        "related-products-booster" => format!(
            "UPDATE `wp_options` SET `option_value` = 'a:{}:{{i:0;i:{};}}' WHERE `option_name` = 'rpb_related_index'",
            rng.range(100, 900),
            rng.range(1000, 9999)
        ),
        "wc-abandoned-cart-pro" => format!(
            "UPDATE `wp_woocommerce_sessions` SET `session_expiry` = {} WHERE `session_key` = 't_{:x}'",
            1_795_000_000 + rng.below(1_000_000),
            rng.next_u64() >> 16
        ),
        "sale-countdown-timer" => format!(
            "UPDATE `wp_postmeta` SET `meta_value` = '{}' WHERE `post_id` = {} AND `meta_key` = '_stock'",
            rng.range(0, 40),
            rng.range(1200, 1900)
        ),
        _ => format!(
            "UPDATE `wp_options` SET `option_value` = '{}' WHERE `option_name` = 'wpf_counts_cache'",
            rng.range(1, 99999)
        ),
    }
}

mod mysql {
    use super::*;

    /// One slow query as the server logs it.
    struct Q {
        /// When it started, unix ms.
        start: i64,
        /// Query_time, µs.
        us: u64,
        lock_us: u64,
        rows_sent: u64,
        rows_examined: u64,
        sql: String,
        thread: u64,
    }

    impl Q {
        fn logged(&self) -> i64 {
            self.start + (self.us / 1000) as i64
        }
    }

    /// The server: MySQL 8 or MariaDB 10/11, its version line and the
    /// database.
    struct Server {
        mariadb: bool,
        program: &'static str,
        version: String,
        socket: &'static str,
        db: &'static str,
        user: &'static str,
    }

    fn server(rng: &mut Rng) -> Server {
        let db = *rng.pick(&["wordpress", "wp_shop", "shop"]);
        let user = *rng.pick(&["wp", "wpuser", "shop"]);
        match rng.below(3) {
            0 => Server {
                mariadb: false,
                program: "/usr/sbin/mysqld",
                version: format!(
                    "8.0.{}-0ubuntu0.22.04.{} ((Ubuntu))",
                    rng.range(36, 41),
                    rng.range(1, 3)
                ),
                socket: "/var/run/mysqld/mysqld.sock",
                db,
                user,
            },
            1 => Server {
                mariadb: true,
                program: "/usr/sbin/mariadbd",
                version: format!(
                    "10.11.{}-MariaDB-0+deb12u1-log (Debian 12)",
                    rng.range(6, 11)
                ),
                socket: "/run/mysqld/mysqld.sock",
                db,
                user,
            },
            _ => Server {
                mariadb: true,
                program: "/usr/sbin/mariadbd",
                version: format!(
                    "11.4.{}-MariaDB-ubu2404-log (mariadb.org binary distribution)",
                    rng.range(2, 5)
                ),
                socket: "/run/mysqld/mysqld.sock",
                db,
                user,
            },
        }
    }

    /// Slow statements of the background: cron, the admin's order list,
    /// expired transients.
    fn background_sql(rng: &mut Rng, at: i64) -> (String, u64, u64) {
        let secs = at / 1000;
        let day = |s: i64| {
            let t = DateTime::from_timestamp(s, 0).expect("in range");
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        };
        match rng.below(4) {
            0 => (
                format!(
                    "UPDATE wp_actionscheduler_actions SET claim_id={}, last_attempt_gmt='{}', last_attempt_local='{}' WHERE claim_id = 0 AND scheduled_date_gmt <= '{}' AND status='pending' ORDER BY attempts ASC, scheduled_date_gmt ASC, action_id ASC LIMIT 25",
                    rng.range(10_000, 99_999),
                    day(secs),
                    day(secs),
                    day(secs)
                ),
                rng.range(60_000, 240_000),
                0,
            ),
            1 => (
                format!(
                    "DELETE a, b FROM wp_options a, wp_options b WHERE a.option_name LIKE '_transient_%' AND a.option_name NOT LIKE '_transient_timeout_%' AND b.option_name = CONCAT( '_transient_timeout_', SUBSTRING( a.option_name, 12 ) ) AND b.option_value < {secs}"
                ),
                rng.range(100_000, 400_000),
                0,
            ),
            2 => (
                format!(
                    "SELECT SQL_CALC_FOUND_ROWS wp_posts.ID FROM wp_posts LEFT JOIN wp_postmeta ON ( wp_posts.ID = wp_postmeta.post_id AND wp_postmeta.meta_key = '_sku' ) WHERE 1=1 AND wp_posts.post_type = 'product' AND ((wp_posts.post_status = 'publish')) GROUP BY wp_posts.ID ORDER BY wp_posts.post_date DESC LIMIT {}, 16",
                    16 * rng.below(6)
                ),
                rng.range(80_000, 300_000),
                16,
            ),
            _ => (
                "SELECT t.*, tt.* FROM wp_terms AS t INNER JOIN wp_term_taxonomy AS tt ON t.term_id = tt.term_id WHERE tt.taxonomy IN ('product_cat','product_tag') ORDER BY t.name ASC".to_string(),
                rng.range(30_000, 90_000),
                rng.range(200, 900),
            ),
        }
    }

    pub(super) fn write(
        sc: &Scene,
        rng: &mut Rng,
        per: &mut [BTreeMap<&'static str, Value>],
    ) -> (String, u64, Value) {
        let srv = server(rng);
        let modern = rng.chance(0.5);
        let spans = incident_spans(sc.plan);
        let mut qs: Vec<Q> = Vec::new();
        let mut thread = 40 + rng.below(200);
        // Per incident: the culprit's statement and how many ran.
        let mut by_inc: BTreeMap<usize, (String, &'static str, u64, u64)> = BTreeMap::new();
        for tr in &sc.plan.traces {
            if tr.func != "mysqli_query" {
                continue;
            }
            let Some((_, slug)) = &tr.code else { continue };
            let qstart = tr.start + rng.range(40, 900) as i64;
            let us = if tr.rt_ms >= 59_000 {
                // nginx gave up; the statement ran on.
                rng.range(58_000_000, 110_000_000)
            } else {
                let ran = (tr.start + tr.rt_ms as i64 - qstart).max(5_200) as u64;
                (ran - rng.range(50, 400).min(ran - 5_100)) * 1000 + rng.below(1000)
            };
            let (sql, table, examined, sent) = db_statement(slug, modern, rng, qstart);
            thread += 1 + rng.below(4);
            qs.push(Q {
                start: qstart,
                us,
                lock_us: rng.range(20, 400),
                rows_sent: sent,
                rows_examined: examined,
                sql: sql.clone(),
                thread,
            });
            // The incident's own culprit (a background trace may fall in
            // its lead-in).
            if let Some(i) = incident_of(&spans, tr.start)
                && sc.plan.incidents[i].known.culprit.map(|c| c.1) == Some(slug.as_str())
            {
                let e = by_inc.entry(i).or_insert((sql, table, 0, 0));
                e.2 += 1;
            }
        }
        // Lock waits of the culprit's writes in database incidents: a few
        // UPDATEs time out after innodb_lock_wait_timeout (50 s).
        for (&i, e) in by_inc.iter_mut() {
            let Some((a, b)) = spans[i] else { continue };
            let slug = sc.plan.incidents[i]
                .known
                .culprit
                .map(|c| c.1)
                .unwrap_or("");
            let n = rng.below((e.2 / 6).min(3) + 1);
            for _ in 0..n {
                let t = a + rng.below((b - a).max(1) as u64) as i64 - 50_000;
                let us = 50_000_000 + rng.range(1_000, 90_000);
                thread += 1 + rng.below(4);
                qs.push(Q {
                    start: t,
                    us,
                    lock_us: us - rng.range(200, 900),
                    rows_sent: 0,
                    rows_examined: 0,
                    sql: db_update(slug, rng),
                    thread,
                });
                e.3 += 1;
            }
        }
        // The background: now and then a slow statement of cron or the
        // admin, far from the incidents.
        let mut t = sc.start + rng.range(2 * MIN as u64, 20 * MIN as u64) as i64;
        while t < sc.end - MIN {
            if quiet(sc, t, sc.margin) {
                let (sql, ms, sent) = background_sql(rng, t);
                thread += 1 + rng.below(4);
                qs.push(Q {
                    start: t,
                    us: ms * 1000 / 60 + rng.below(1_000_000) + 1_000_000,
                    lock_us: rng.range(20, 300),
                    rows_sent: sent,
                    rows_examined: rng.range(20_000, 400_000),
                    sql,
                    thread,
                });
            }
            t += rng.range(6 * MIN as u64, 25 * MIN as u64) as i64;
        }
        qs.sort_by_key(|q| (q.logged(), q.thread));
        // The server restarts once: after the kernel OOM-killed mysqld, or
        // before the first query.
        let oom = sc
            .plan
            .kern
            .iter()
            .find(|l| {
                l.1.starts_with(b"Out of memory: Killed process")
                    && l.1.ends_with(b"oom_score_adj:0")
                    && l.1.windows(8).any(|w| w == b"(mysqld)")
            })
            .map(|l| l.0 + rng.range(3_000, 9_000) as i64);
        let mut text = String::new();
        let mut preamble_done = false;
        let mut last_sec = i64::MIN;
        let mut db_written = false;
        let preamble = |text: &mut String| {
            text.push_str(&format!(
                "{}, Version: {}. started with:\nTcp port: 3306  Unix socket: {}\nTime                 Id Command    Argument\n",
                srv.program, srv.version, srv.socket
            ));
        };
        if oom.is_none() {
            preamble(&mut text);
            preamble_done = true;
        }
        let mut per_count: BTreeMap<usize, u64> = BTreeMap::new();
        for q in &qs {
            let logged = q.logged();
            if !preamble_done && oom.is_some_and(|o| o <= logged) {
                preamble(&mut text);
                preamble_done = true;
                db_written = false;
                last_sec = i64::MIN;
            }
            if let Some(i) = incident_of(&spans, q.start)
                && by_inc.contains_key(&i)
            {
                *per_count.entry(i).or_default() += 1;
            }
            let sec = logged.div_euclid(1000);
            if srv.mariadb {
                if sec != last_sec {
                    text.push_str("# Time: ");
                    text.push_str(&mariadb_time(sc.zone, sec));
                    text.push('\n');
                }
                text.push_str(&format!(
                    "# User@Host: {u}[{u}] @ localhost []\n# Thread_id: {}  Schema: {}  QC_hit: No\n",
                    q.thread,
                    srv.db,
                    u = srv.user
                ));
                text.push_str(&format!(
                    "# Query_time: {}  Lock_time: {}  Rows_sent: {}  Rows_examined: {}\n# Rows_affected: {}  Bytes_sent: {}\n",
                    secs6(q.us),
                    secs6(q.lock_us),
                    q.rows_sent,
                    q.rows_examined,
                    u64::from(q.sql.starts_with("UPDATE") || q.sql.starts_with("DELETE")) * rng.range(0, 40),
                    60 + q.rows_sent * rng.range(40, 120)
                ));
            } else {
                let t = DateTime::from_timestamp_millis(logged).expect("in range");
                text.push_str(&format!(
                    "# Time: {:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z\n# User@Host: {u}[{u}] @ localhost []  Id: {:>5}\n",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    (logged.rem_euclid(1000) * 1000) as u64 + rng.below(1000),
                    q.thread,
                    u = srv.user
                ));
                text.push_str(&format!(
                    "# Query_time: {}  Lock_time: {} Rows_sent: {}  Rows_examined: {}\n",
                    secs6(q.us),
                    secs6(q.lock_us),
                    q.rows_sent,
                    q.rows_examined
                ));
            }
            last_sec = sec;
            if !db_written {
                if srv.mariadb {
                    text.push_str(&format!("use `{}`;\n", srv.db));
                } else {
                    text.push_str(&format!("use {};\n", srv.db));
                }
                db_written = true;
            }
            text.push_str(&format!(
                "SET timestamp={};\n{};\n",
                q.start.div_euclid(1000),
                q.sql
            ));
        }
        if !preamble_done {
            preamble(&mut text);
        }
        for (&i, (sql, table, traced, updates)) in &by_inc {
            per[i].insert(
                "mysql_slow",
                json!({
                    "statement": sql,
                    "table": table,
                    "queries": per_count.get(&i).copied().unwrap_or(0),
                    "traced_queries": traced,
                    "lock_waits": updates,
                }),
            );
        }
        let lines = count_lines(&text);
        let truth = json!({
            "file": "mysql-slow.log",
            "server": if srv.mariadb { "mariadb" } else { "mysql" },
            "version": srv.version,
            "db": srv.db,
            "queries": qs.len(),
            "restart_after_oom": oom.is_some(),
        });
        (text, lines, truth)
    }

    fn secs6(us: u64) -> String {
        format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
    }

    /// MariaDB's `# Time:` stamp: `YYMMDD HH:MM:SS` in the server's zone,
    /// the hour padded with a space.
    fn mariadb_time(zone: Zone, sec: i64) -> String {
        let off = zone.offset_at(sec) as i64;
        let t = DateTime::from_timestamp(sec + off, 0).expect("in range");
        format!(
            "{:02}{:02}{:02} {:>2}:{:02}:{:02}",
            t.year() % 100,
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

mod php {
    use super::*;

    /// Background messages: level, text, file under the docroot, line.
    const NOISE: &[(&str, &str, &str, u32)] = &[
        (
            "Deprecated",
            "Creation of dynamic property WC_Product_Simple::$rpb_score is deprecated",
            "wp-content/plugins/related-products-booster/src/Score.php",
            41,
        ),
        (
            "Warning",
            "Undefined array key \"variation_id\"",
            "wp-content/plugins/wc-abandoned-cart-pro/includes/class-acp-session.php",
            174,
        ),
        (
            "Warning",
            "Attempt to read property \"ID\" on null",
            "wp-content/themes/flatsome-child/functions.php",
            233,
        ),
        (
            "Notice",
            "Function _load_textdomain_just_in_time was called <strong>incorrectly</strong>. Translation loading for the <code>woo-product-filter</code> domain was triggered too early. This is usually an indicator for some code in the plugin or theme running too early. Translations should be loaded at the <code>init</code> action or later. Please see <a href=\"https://developer.wordpress.org/advanced-administration/debug/debug-wordpress/\">Debugging in WordPress</a> for more information. (This message was added in version 6.7.0.)",
            "wp-includes/functions.php",
            6114,
        ),
        (
            "Deprecated",
            "strlen(): Passing null to parameter #1 ($string) of type string is deprecated",
            "wp-content/plugins/sale-countdown-timer/inc/class-timer.php",
            57,
        ),
        (
            "Warning",
            "foreach() argument must be of type array|object, null given",
            "wp-content/plugins/shipping-rates-live/includes/class-shipping-method.php",
            88,
        ),
        (
            "Warning",
            "Trying to access array offset on value of type bool",
            "wp-content/plugins/instagram-feed-pro/inc/Feed.php",
            203,
        ),
        (
            "Deprecated",
            "Automatic conversion of false to array is deprecated",
            "wp-content/plugins/newsletter-sync-pro/includes/Subscriber.php",
            96,
        ),
        (
            "Warning",
            "Undefined variable $term",
            "wp-content/plugins/woo-product-filter/classes/Filter.php",
            377,
        ),
    ];

    /// An uncaught exception of an external-call plugin whose cURL call
    /// timed out: message, file and line it was thrown at, stack frames.
    fn curl_exception(slug: &str, ms: u64, rng: &mut Rng) -> (String, String, u32, Vec<String>) {
        let d = DOCROOT;
        match slug {
            "newsletter-sync-pro" => (
                format!(
                    "Uncaught GuzzleHttp\\Exception\\ConnectException: cURL error 28: Operation timed out after {ms} milliseconds with 0 bytes received (see https://curl.haxx.se/libcurl/c/libcurl-errors.html) for https://api.newsletter-sync.io/v3/lists/{}/members",
                    rng.range(1000, 9999)
                ),
                format!(
                    "{d}/wp-content/plugins/newsletter-sync-pro/vendor/guzzlehttp/guzzle/src/Handler/CurlFactory.php"
                ),
                210,
                vec![
                    format!(
                        "{d}/wp-content/plugins/newsletter-sync-pro/vendor/guzzlehttp/guzzle/src/Handler/CurlFactory.php(158): GuzzleHttp\\Handler\\CurlFactory::createRejection(Object(GuzzleHttp\\Handler\\EasyHandle), Array)"
                    ),
                    format!(
                        "{d}/wp-content/plugins/newsletter-sync-pro/includes/Api/Client.php(57): GuzzleHttp\\Client->request('POST', 'lists/4711/memb...', Array)"
                    ),
                    format!(
                        "{d}/wp-content/plugins/newsletter-sync-pro/includes/Subscriber.php(140): NewsletterSync\\Api\\Client->post('lists/4711/memb...', Array)"
                    ),
                    format!(
                        "{d}/wp-includes/class-wp-hook.php(324): NewsletterSync\\Subscriber->sync_subscriber(Object(WP_User))"
                    ),
                ],
            ),
            "instagram-feed-pro" => (
                format!(
                    "Uncaught Exception: Instagram Graph API request failed: cURL error 28: Operation timed out after {ms} milliseconds with 0 out of 0 bytes received"
                ),
                format!("{d}/wp-content/plugins/instagram-feed-pro/inc/Http.php"),
                81,
                vec![
                    format!(
                        "{d}/wp-content/plugins/instagram-feed-pro/inc/Feed.php(152): IFP\\Http->get('https://graph.i...')"
                    ),
                    format!(
                        "{d}/wp-content/plugins/instagram-feed-pro/inc/Widget.php(88): IFP\\Feed->fetch_media(12)"
                    ),
                    format!(
                        "{d}/wp-includes/shortcodes.php(434): IFP\\Widget->render_feed(Array, '', 'instagram-feed')"
                    ),
                ],
            ),
            _ => (
                format!(
                    "Uncaught Shipping_Rates_Live\\Http_Exception: cURL error 28: Operation timed out after {ms} milliseconds with 0 bytes received"
                ),
                format!("{d}/wp-content/plugins/{slug}/includes/class-api-client.php"),
                96,
                vec![
                    format!(
                        "{d}/wp-content/plugins/{slug}/includes/class-api-client.php(142): Shipping_Rates_Live\\Api_Client->send('POST', '/v2/rates', Array)"
                    ),
                    format!(
                        "{d}/wp-content/plugins/{slug}/includes/class-shipping-method.php(61): Shipping_Rates_Live\\Api_Client->request('rates', Array)"
                    ),
                    format!(
                        "{d}/wp-content/plugins/woocommerce/includes/class-wc-shipping.php(361): Shipping_Rates_Live\\Shipping_Method->calculate_shipping(Array)"
                    ),
                    format!(
                        "{d}/wp-content/plugins/woocommerce/includes/class-wc-cart-totals.php(216): WC_Shipping->calculate_shipping(Array)"
                    ),
                ],
            ),
        }
    }

    /// The zone PHP names in the brackets: WordPress's debug.log is
    /// always `UTC` (WordPress sets it); PHP's own error_log uses
    /// `date.timezone`, an IANA name (`Etc/GMT+5` for a whole-hour offset).
    fn bracket_zone(sc: &Scene, rng: &mut Rng) -> (String, Zone) {
        if rng.chance(0.5) {
            return ("UTC".into(), Zone::Fixed(0));
        }
        match sc.zone {
            Zone::Iana(tz) => (tz.name().to_string(), sc.zone),
            Zone::Fixed(0) => ("UTC".into(), sc.zone),
            Zone::Fixed(o) if o % 3600 == 0 => {
                // POSIX's sign: Etc/GMT+5 is five hours west.
                let h = -o / 3600;
                let name = if h > 0 {
                    format!("Etc/GMT+{h}")
                } else {
                    format!("Etc/GMT{h}")
                };
                (name, sc.zone)
            }
            Zone::Fixed(_) => ("UTC".into(), Zone::Fixed(0)),
        }
    }

    pub(super) fn write(
        sc: &Scene,
        rng: &mut Rng,
        per: &mut [BTreeMap<&'static str, Value>],
    ) -> (String, u64, Value, BTreeMap<&'static str, u64>) {
        let (zname, zone) = bracket_zone(sc, rng);
        let spans = incident_spans(sc.plan);
        // (time, level, message lines): the first line after the level.
        let mut es: Vec<(i64, &'static str, String)> = Vec::new();
        let mut inc_fatal: BTreeMap<usize, u64> = BTreeMap::new();
        let mut inc_db: BTreeMap<usize, u64> = BTreeMap::new();
        let d = DOCROOT;
        // The fatal errors php-fpm relayed from its workers' stderr.
        for (t, _, body) in &sc.plan.fpm {
            if body.windows(20).any(|w| w == b"PHP Fatal error:  Al") {
                es.push((
                    *t,
                    "Fatal error",
                    format!(
                        "Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes) in {FATAL_FILE} on line {FATAL_LINE}"
                    ),
                ));
                if let Some(i) = incident_of(&spans, *t) {
                    *inc_fatal.entry(i).or_default() += 1;
                }
            }
        }
        // OOM stories: some exports hit memory_limit before the kernel
        // steps in.
        let oom_share = rng.unit() * 0.5;
        for (t, line) in &sc.plan.kern {
            if !(line.starts_with(b"Out of memory: Killed process")
                && line.windows(12).any(|w| w == b"(php-fpm8.2)"))
            {
                continue;
            }
            if !rng.chance(oom_share) {
                continue;
            }
            let Some(i) = incident_of(&spans, *t) else {
                continue;
            };
            let file = match sc.plan.incidents[i].known.action {
                Some("pmxe_export_products") => (
                    "wp-content/plugins/wp-all-export-pro/classes/XmlExportEngine.php",
                    1157,
                ),
                _ => (
                    "wp-content/plugins/woocommerce/includes/export/abstract-wc-csv-exporter.php",
                    257,
                ),
            };
            let at = *t - rng.range(2_000, 40_000) as i64;
            es.push((
                at,
                "Fatal error",
                format!(
                    "Allowed memory size of 268435456 bytes exhausted (tried to allocate {} bytes) in {d}/{} on line {}",
                    [4096u64, 20480, 65536, 2097152][rng.below(4) as usize],
                    file.0,
                    file.1
                ),
            ));
            *inc_fatal.entry(i).or_default() += 1;
        }
        // Slow requests: the CPU-bound theme runs into max_execution_time
        // (CPU time, so long after nginx gave up); a blocked cURL call
        // throws at its own timeout unless php-fpm killed the worker.
        let kills = terminated(sc.plan);
        let curl_ms = rng.range(70, 90) * 1000;
        for tr in &sc.plan.traces {
            if tr.rt_ms < 59_000 || !rng.chance(0.5) {
                continue;
            }
            let Some((kind, slug)) = &tr.code else {
                continue;
            };
            let i = incident_of(&spans, tr.start);
            match tr.func {
                "imagecopyresampled" | "preg_match_all" if *kind == "theme" => {
                    let (file, line) = if tr.func == "imagecopyresampled" {
                        ("inc/class-thumb-builder.php", 214)
                    } else {
                        ("inc/gallery.php", 91)
                    };
                    es.push((
                        tr.start + rng.range(65_000, 140_000) as i64,
                        "Fatal error",
                        format!(
                            "Maximum execution time of 30 seconds exceeded in {d}/wp-content/themes/{slug}/{file} on line {line}"
                        ),
                    ));
                }
                "curl_exec" if !was_terminated(&kills, tr) => {
                    let ms = curl_ms + rng.below(3);
                    let (msg, file, line, frames) = curl_exception(slug, ms, rng);
                    let mut m = format!("{msg} in {file}:{line}\nStack trace:\n");
                    for (n, f) in frames.iter().enumerate() {
                        m.push_str(&format!("#{n} {f}\n"));
                    }
                    m.push_str(&format!(
                        "#{} {{main}}\n  thrown in {file} on line {line}",
                        frames.len()
                    ));
                    es.push((tr.start + ms as i64 + 20, "Fatal error", m));
                }
                _ => continue,
            }
            if let Some(i) = i {
                *inc_fatal.entry(i).or_default() += 1;
            }
        }
        // Database incidents: WordPress reports its writes that waited
        // too long for a row lock.
        for (i, inc) in sc.plan.incidents.iter().enumerate() {
            let Some((_, slug, Some("database"))) = inc.known.culprit else {
                continue;
            };
            let Some((a, b)) = spans[i] else { continue };
            for _ in 0..rng.range(1, 3) {
                let t = a + rng.below((b - a).max(1) as u64) as i64;
                es.push((
                    t,
                    "",
                    format!(
                        "WordPress database error Lock wait timeout exceeded; try restarting transaction for query {} made by {}",
                        db_update(slug, rng),
                        wp_caller(slug)
                    ),
                ));
                *inc_db.entry(i).or_default() += 1;
            }
        }
        // The background: warnings, notices and deprecations.
        let gap = rng.range(40, 360) * 1000;
        let mut t = sc.start + rng.below(gap) as i64;
        while t < sc.end {
            let &(level, msg, file, line) = rng.pick(NOISE);
            let text = format!("{msg} in {d}/{file} on line {line}");
            // The same code warns a few times in a row.
            for k in 0..rng.range(1, 3) {
                es.push((
                    t + k as i64 * rng.range(50, 900) as i64,
                    level,
                    text.clone(),
                ));
            }
            t += rng.range(gap / 4, gap * 7 / 4) as i64;
        }
        // A rare uncaught error, far from every failure.
        let hours = ((sc.end - sc.start) / 3_600_000).max(1) as u64;
        let mut background_fatals = 0u64;
        for _ in 0..hours {
            if !rng.chance(0.4) {
                continue;
            }
            let t = sc.start + rng.below((sc.end - sc.start) as u64) as i64;
            if !quiet(sc, t, sc.margin) {
                continue;
            }
            let file = format!(
                "{d}/wp-content/plugins/wc-abandoned-cart-pro/includes/class-acp-hooks.php"
            );
            background_fatals += 1;
            es.push((
                t,
                "Fatal error",
                format!(
                    "Uncaught Error: Call to a member function get_id() on null in {file}:73\nStack trace:\n#0 {d}/wp-includes/class-wp-hook.php(324): ACP_Hooks->on_order_status_changed({}, 'pending', 'cancelled')\n#1 {d}/wp-includes/class-wp-hook.php(348): WP_Hook->apply_filters(NULL, Array)\n#2 {d}/wp-includes/plugin.php(517): WP_Hook->do_action(Array)\n#3 {{main}}\n  thrown in {file} on line 73",
                    rng.range(4100, 5000)
                ),
            ));
        }
        es.sort_by_key(|e| e.0);
        let mut st = Stamp::new(zone, Style::Fpm);
        let mut text = String::new();
        let mut levels: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (t, level, msg) in &es {
            text.push('[');
            text.push_str(std::str::from_utf8(st.get(*t)).expect("ascii"));
            text.push(' ');
            text.push_str(&zname);
            text.push_str("] ");
            if level.is_empty() {
                *levels.entry("other").or_default() += 1;
            } else {
                text.push_str("PHP ");
                text.push_str(level);
                text.push_str(":  ");
                let l = match *level {
                    "Fatal error" => "fatal",
                    "Warning" => "warning",
                    "Notice" => "notice",
                    _ => "deprecated",
                };
                *levels.entry(l).or_default() += 1;
            }
            text.push_str(msg);
            text.push('\n');
        }
        for (i, p) in per.iter_mut().enumerate() {
            let (f, db) = (inc_fatal.get(&i), inc_db.get(&i));
            if f.is_some() || db.is_some() {
                p.insert(
                    "php_errors",
                    json!({"fatal": f.copied().unwrap_or(0), "wp_db_errors": db.copied().unwrap_or(0)}),
                );
            }
        }
        let lines = count_lines(&text);
        let truth = json!({
            "file": "php-error.log",
            "zone": zname,
            "entries": es.len(),
            "levels": levels,
            // Fatal errors in no incident: two or more are a finding.
            "background_fatals": background_fatals,
        });
        (text, lines, truth, levels)
    }
}

mod config {
    use super::*;

    pub(super) struct Config {
        pub nginx: String,
        pub fpm: String,
        pub truth: Value,
    }

    /// A pool of the `-tt` dump.
    struct Pool {
        name: String,
        user: String,
        listen: String,
        backlog: i64,
        owner: Option<String>,
        group: Option<String>,
        mode: Option<&'static str>,
        acl_users: Option<String>,
        pm: &'static str,
        max_children: u32,
        start: u32,
        min_spare: u32,
        max_spare: u32,
        slowlog: Option<String>,
        slowlog_timeout: u32,
        terminate: u32,
        memory_limit: &'static str,
        catch_output: bool,
    }

    /// nginx's `log_format` for the set's access-log form.
    fn log_format(f: AccessFormat, cloudflare: bool) -> Option<(&'static str, String)> {
        match f {
            AccessFormat::Combined => None,
            AccessFormat::Main => Some((
                "main",
                "'$remote_addr - $remote_user [$time_local] \"$request\" '\n\t                '$status $body_bytes_sent \"$http_referer\" '\n\t                '\"$http_user_agent\" \"$http_x_forwarded_for\"'".into(),
            )),
            AccessFormat::Timing => Some((
                "timing",
                format!(
                    "'$remote_addr - $remote_user [$time_local] \"$request\" '\n\t                  '$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" '\n\t                  'rt=$request_time uct=\"$upstream_connect_time\" uht=\"$upstream_header_time\" '\n\t                  'urt=\"$upstream_response_time\" ua=\"$upstream_addr\" us=\"$upstream_status\" '\n\t                  'rid=$request_id cn=$connection{}'",
                    if cloudflare { " cfray=$http_cf_ray" } else { "" }
                ),
            )),
            AccessFormat::Json => Some((
                "json_combined",
                format!(
                    "escape=json\n\t  '{{'\n\t    '\"time_iso8601\":\"$time_iso8601\",\"msec\":$msec,'\n\t    '\"remote_addr\":\"$remote_addr\",\"remote_user\":\"$remote_user\",'\n\t    '\"request\":\"$request\",\"status\":$status,\"body_bytes_sent\":$body_bytes_sent,'\n\t    '\"request_time\":$request_time,\"http_referer\":\"$http_referer\",'\n\t    '\"http_user_agent\":\"$http_user_agent\",\"http_x_forwarded_for\":\"$http_x_forwarded_for\",'\n\t    '\"upstream_addr\":\"$upstream_addr\",\"upstream_status\":\"$upstream_status\",'\n\t    '\"upstream_response_time\":\"$upstream_response_time\",\"request_id\":\"$request_id\",'\n\t    {}'\"connection\":$connection'\n\t  '}}'",
                    if cloudflare { "'\"http_cf_ray\":\"$http_cf_ray\",'\n\t    " } else { "" }
                ),
            )),
        }
    }

    const FASTCGI_CONF: &str = "
fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;

fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REQUEST_SCHEME     $scheme;
fastcgi_param  HTTPS              $https if_not_empty;

fastcgi_param  GATEWAY_INTERFACE  CGI/1.1;
fastcgi_param  SERVER_SOFTWARE    nginx/$nginx_version;

fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  REMOTE_PORT        $remote_port;
fastcgi_param  REMOTE_USER        $remote_user;
fastcgi_param  SERVER_ADDR        $server_addr;
fastcgi_param  SERVER_PORT        $server_port;
fastcgi_param  SERVER_NAME        $server_name;

# PHP only, required if PHP was built with --enable-force-cgi-redirect
fastcgi_param  REDIRECT_STATUS    200;
";

    pub(super) fn write(sc: &Scene, rng: &mut Rng) -> Config {
        let plan = sc.plan;
        let has = |needle: &[u8]| {
            plan.fpm
                .iter()
                .any(|l| l.2.windows(needle.len()).any(|w| w == needle))
        };
        let terminations = has(b"execution timed out");
        let max_children = plan.max_children.unwrap_or(MAX_CHILDREN);
        let mut checks: Vec<&'static str> = Vec::new();
        let mut drawn: Vec<&'static str> = Vec::new();

        // nginx's user and a socket that lets it in, in one of the ways
        // distributions do it.
        let rhel_user = rng.chance(0.3);
        let nginx_user = if rhel_user { "nginx" } else { "www-data" };
        let sock_path = SOCK.trim_start_matches("unix:");
        let (owner, group, mode, acl) = match (rhel_user, rng.below(3)) {
            (false, 0) => (Some("www-data"), Some("www-data"), None, None),
            (false, 1) => (Some("www-data"), Some("www-data"), Some("0660"), None),
            (false, _) => (Some("www-data"), Some("www-data"), Some("0666"), None),
            (true, 0) => (Some("nginx"), Some("nginx"), Some("0660"), None),
            (true, 1) => (None, None, None, Some("www-data,nginx")),
            (true, _) => (Some("www-data"), Some("nginx"), Some("0660"), None),
        };
        let small_backlog = rng.chance(0.3);
        if small_backlog {
            drawn.push("backlog_small");
        }
        // Without any `execution timed out` line the pool may have no
        // request_terminate_timeout at all.
        let no_terminate = !terminations && rng.chance(0.5);
        if no_terminate {
            drawn.push("timeout_order");
        }
        let www = Pool {
            name: POOL.into(),
            user: "www-data".into(),
            listen: sock_path.into(),
            backlog: if small_backlog {
                *rng.pick(&[32, 64, 100])
            } else {
                *rng.pick(&[-1, 511, 1024])
            },
            owner: owner.map(str::to_string),
            group: group.map(str::to_string),
            mode,
            acl_users: acl.map(str::to_string),
            // `seems busy` lines: a dynamic pool.
            pm: "dynamic",
            max_children,
            start: 6,
            min_spare: 4,
            max_spare: 12,
            slowlog: Some("/var/log/php8.2-fpm/www-slow.log".into()),
            slowlog_timeout: 5,
            terminate: if no_terminate { 0 } else { 60 },
            memory_limit: "256M",
            catch_output: true,
        };
        let mut pools = vec![www];

        // A second site on the box (staging), which gets no traffic in
        // these logs: where the drawn mistakes that would contradict the
        // shop's own logs live.
        let staging = rng.chance(0.7);
        let mut staging_pass = String::new();
        let mut staging_read = 60;
        if staging {
            let stale = rng.chance(0.35);
            let tcp = rng.chance(0.3);
            let listen = if tcp {
                "127.0.0.1:9001".to_string()
            } else {
                "/run/php/php8.2-fpm-staging.sock".to_string()
            };
            staging_pass = if stale {
                // Left over from before the PHP upgrade.
                if tcp {
                    "127.0.0.1:9000".into()
                } else {
                    "unix:/run/php/php8.1-fpm-staging.sock".into()
                }
            } else if tcp {
                listen.clone()
            } else {
                format!("unix:{listen}")
            };
            if stale {
                drawn.push("fastcgi_pass_mismatch");
            }
            let locked = !stale && !tcp && rng.chance(0.4);
            if locked {
                drawn.push("socket_access");
            }
            let pm_static = rng.chance(0.3);
            if pm_static {
                drawn.push("static_pool_silent");
            }
            let slow_off = rng.chance(0.5);
            if slow_off {
                drawn.push("slowlog_off");
            }
            let terminate = if rng.chance(0.3) {
                drawn.push("timeout_order");
                0
            } else {
                *rng.pick(&[60, 120])
            };
            // An admin raised nginx's wait for a slow import.
            if !stale && terminate > 0 && rng.chance(0.4) {
                staging_read = 300;
                drawn.push("timeout_order");
            } else {
                staging_read = terminate.max(60);
            }
            if sc.cloudflare && staging_read > 100 {
                drawn.push("timeout_order");
            }
            let small = rng.chance(0.25);
            if small {
                drawn.push("backlog_small");
            }
            pools.push(Pool {
                name: "staging".into(),
                user: "staging".into(),
                listen,
                backlog: if small { 16 } else { -1 },
                owner: (!tcp).then(|| "staging".to_string()),
                group: (!tcp).then(|| if locked { "staging" } else { nginx_user }.to_string()),
                mode: (!tcp).then_some("0660"),
                acl_users: None,
                pm: if pm_static { "static" } else { "ondemand" },
                max_children: if pm_static { 4 } else { 8 },
                start: if pm_static { 0 } else { 2 },
                min_spare: if pm_static { 0 } else { 1 },
                max_spare: if pm_static { 0 } else { 3 },
                slowlog: (!slow_off).then(|| "/var/log/php8.2-fpm/staging-slow.log".to_string()),
                slowlog_timeout: if slow_off { 0 } else { 10 },
                terminate,
                memory_limit: "512M",
                catch_output: false,
            });
        }

        // The machine's memory (what `--memory` gives baton): drawn, the
        // check firing when the pools' workers could take more.
        let mem_gb = *rng.pick(&[4u64, 8, 16, 32]);
        if pools.iter().any(|p| {
            let mb: u64 = p.memory_limit.trim_end_matches('M').parse().unwrap_or(0);
            p.max_children as u64 * mb * (1 << 20) > mem_gb << 30
        }) {
            drawn.push("max_children_memory");
        }
        let fmt = log_format(sc.access_format, sc.cloudflare);
        let traced = matches!(sc.access_format, AccessFormat::Timing | AccessFormat::Json);
        if !traced {
            drawn.push("request_id_missing");
        }
        for c in &drawn {
            if !checks.contains(c) {
                checks.push(c);
            }
        }
        checks.sort_unstable();

        let via_upstream = rng.chance(0.4);
        let nginx = nginx_dump(
            sc,
            rng,
            nginx_user,
            fmt.as_ref(),
            via_upstream,
            staging.then_some((staging_pass.as_str(), staging_read)),
        );
        let fpm = fpm_dump(sc, &pools);
        let truth = json!({
            "files": ["nginx-T.txt", "php-fpm-tt.txt"],
            "nginx_user": nginx_user,
            "pools": pools.iter().map(|p| json!({
                "name": p.name, "listen": p.listen, "pm": p.pm,
                "max_children": p.max_children,
                "request_slowlog_timeout": p.slowlog_timeout,
                "request_terminate_timeout": p.terminate,
            })).collect::<Vec<_>>(),
            "memory": format!("{mem_gb}G"),
            "config_findings": checks,
        });
        Config { nginx, fpm, truth }
    }

    fn nginx_dump(
        sc: &Scene,
        rng: &mut Rng,
        user: &str,
        fmt: Option<&(&'static str, String)>,
        via_upstream: bool,
        staging: Option<(&str, u32)>,
    ) -> String {
        let mut s = String::new();
        s.push_str("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n");
        s.push_str("nginx: configuration file /etc/nginx/nginx.conf test is successful\n");
        s.push_str("# configuration file /etc/nginx/nginx.conf:\n");
        s.push_str(&format!(
            "user {user};\nworker_processes auto;\npid /run/nginx.pid;\nerror_log /var/log/nginx/error.log;\ninclude /etc/nginx/modules-enabled/*.conf;\n\nevents {{\n\tworker_connections {};\n\t# multi_accept on;\n}}\n\nhttp {{\n\n\t##\n\t# Basic Settings\n\t##\n\n\tsendfile on;\n\ttcp_nopush on;\n\ttypes_hash_max_size 2048;\n\tserver_tokens off;\n\tclient_max_body_size {}m;\n\n\tinclude /etc/nginx/mime.types;\n\tdefault_type application/octet-stream;\n\n\t##\n\t# Logging Settings\n\t##\n\n",
            *rng.pick(&[768, 1024, 4096]),
            *rng.pick(&[16, 64, 128])
        ));
        match fmt {
            Some((name, text)) => s.push_str(&format!(
                "\tlog_format {name} {text};\n\n\taccess_log /var/log/nginx/access.log {name};\n"
            )),
            None => s.push_str("\taccess_log /var/log/nginx/access.log;\n"),
        }
        s.push_str("\n\t##\n\t# Gzip Settings\n\t##\n\n\tgzip on;\n\n");
        s.push_str(
            "\tinclude /etc/nginx/conf.d/*.conf;\n\tinclude /etc/nginx/sites-enabled/*;\n}\n\n",
        );
        // conf.d: the PHP and API upstreams, Cloudflare's addresses.
        s.push_str("# configuration file /etc/nginx/conf.d/upstreams.conf:\n");
        if via_upstream {
            s.push_str(&format!(
                "upstream php_www {{\n\tserver {SOCK};\n\tkeepalive 8;\n}}\n\n"
            ));
        }
        s.push_str(&format!(
            "upstream {} {{\n\tserver {} max_fails=1 fail_timeout=30s;\n\tserver {} max_fails=1 fail_timeout=30s;\n}}\n\n",
            crate::logs::API_GROUP,
            crate::logs::API_SERVERS[0],
            crate::logs::API_SERVERS[1]
        ));
        if sc.cloudflare {
            s.push_str("# configuration file /etc/nginx/conf.d/cloudflare.conf:\n");
            for r in [
                "173.245.48.0/20",
                "103.21.244.0/22",
                "103.22.200.0/22",
                "141.101.64.0/18",
                "108.162.192.0/18",
                "2400:cb00::/32",
            ] {
                s.push_str(&format!("set_real_ip_from {r};\n"));
            }
            s.push_str("real_ip_header CF-Connecting-IP;\n\n");
        }
        // The shop.
        let pass = if via_upstream {
            "php_www".to_string()
        } else {
            SOCK.to_string()
        };
        let buf = *rng.pick(&["16k", "32k"]);
        s.push_str("# configuration file /etc/nginx/sites-enabled/shop.conf:\n");
        s.push_str(&format!(
            "server {{\n\tlisten 80;\n\tlisten [::]:80;\n\tserver_name {HOST} www.{HOST};\n\troot {DOCROOT};\n\tindex index.php;\n\n\tlocation / {{\n\t\ttry_files $uri $uri/ /index.php?$args;\n\t}}\n\n\tlocation /api/ {{\n\t\tproxy_pass http://{};\n\t\tproxy_next_upstream error timeout;\n\t}}\n\n\tlocation ~ \\.php$ {{\n\t\tinclude snippets/fastcgi-php.conf;\n\t\tfastcgi_pass {pass};\n\t\tfastcgi_read_timeout 60s;\n\t\tfastcgi_buffer_size {buf};\n\t\tfastcgi_buffers 16 16k;\n\t}}\n\n\tlocation ~* \\.(css|js|png|jpg|ico|woff2)$ {{\n\t\texpires 30d;\n\t\taccess_log off;\n\t}}\n\n\tlocation = /xmlrpc.php {{\n\t\tdeny all;\n\t}}\n}}\n\n",
            crate::logs::API_GROUP
        ));
        s.push_str("# configuration file /etc/nginx/snippets/fastcgi-php.conf:\n# regex to split $uri to $fastcgi_script_name and $fastcgi_path\nfastcgi_split_path_info ^(.+?\\.php)(/.*)$;\n\n# Check that the PHP script exists before passing it\ntry_files $fastcgi_script_name =404;\n\n# Bypass the fact that try_files resets $fastcgi_path_info\n# see: http://trac.nginx.org/nginx/ticket/321\nset $path_info $fastcgi_path_info;\nfastcgi_param PATH_INFO $path_info;\n\nfastcgi_index index.php;\ninclude fastcgi.conf;\n\n");
        s.push_str("# configuration file /etc/nginx/fastcgi.conf:\n");
        s.push_str(FASTCGI_CONF);
        s.push('\n');
        if let Some((pass, read)) = staging {
            s.push_str("# configuration file /etc/nginx/sites-enabled/staging.conf:\n");
            s.push_str(&format!(
                "server {{\n\tlisten 80;\n\tserver_name staging.{HOST};\n\troot /var/www/staging;\n\tindex index.php;\n\tauth_basic \"staging\";\n\tauth_basic_user_file /etc/nginx/.htpasswd-staging;\n\taccess_log /var/log/nginx/staging.access.log;\n\n\tlocation / {{\n\t\ttry_files $uri $uri/ /index.php?$args;\n\t}}\n\n\tlocation ~ \\.php$ {{\n\t\tinclude snippets/fastcgi-php.conf;\n\t\tfastcgi_pass {pass};\n\t\tfastcgi_read_timeout {read}s;\n\t}}\n}}\n\n"
            ));
        }
        s
    }

    fn fpm_dump(sc: &Scene, pools: &[Pool]) -> String {
        // `php-fpm8.2 -tt` run after the logs' end.
        let at = sc.end + 7 * MIN;
        let mut st = Stamp::new(sc.zone, Style::Fpm);
        let head = format!(
            "[{}] NOTICE: ",
            std::str::from_utf8(st.get(at)).expect("ascii")
        );
        let mut s = String::new();
        let line = |s: &mut String, text: &str| {
            s.push_str(&head);
            s.push_str(text);
            s.push('\n');
        };
        let kv = |s: &mut String, k: &str, v: &str| {
            let t = format!("\t{k} = {v}");
            s.push_str(&head);
            s.push_str(&t);
            s.push('\n');
        };
        line(&mut s, "[global]");
        for (k, v) in [
            ("pid", "/run/php/php8.2-fpm.pid"),
            ("error_log", "/var/log/php8.2-fpm.log"),
            ("syslog.ident", "php-fpm"),
            ("syslog.facility", "24"),
            ("log_buffering", "yes"),
            ("log_level", "unknown value"),
            ("log_limit", "1024"),
            ("emergency_restart_interval", "0s"),
            ("emergency_restart_threshold", "0"),
            ("process_control_timeout", "0s"),
            ("process.max", "0"),
            ("process.priority", "undefined"),
            ("daemonize", "yes"),
            ("rlimit_files", "0"),
            ("rlimit_core", "0"),
            ("events.mechanism", "epoll"),
            ("systemd_interval", "10s"),
        ] {
            kv(&mut s, k, v);
        }
        line(&mut s, " ");
        // php-fpm dumps its pools in name order.
        let mut order: Vec<&Pool> = pools.iter().collect();
        order.sort_by(|a, b| a.name.cmp(&b.name));
        let u = |o: &Option<String>| o.clone().unwrap_or_else(|| "undefined".into());
        for p in order {
            line(&mut s, &format!("[{}]", p.name));
            let rows: Vec<(&str, String)> = vec![
                ("prefix", "undefined".into()),
                ("user", p.user.clone()),
                ("group", p.user.clone()),
                ("listen", p.listen.clone()),
                ("listen.backlog", p.backlog.to_string()),
                ("listen.acl_users", u(&p.acl_users)),
                ("listen.acl_groups", "undefined".into()),
                ("listen.owner", u(&p.owner)),
                ("listen.group", u(&p.group)),
                ("listen.mode", p.mode.unwrap_or("undefined").into()),
                ("listen.allowed_clients", "undefined".into()),
                ("process.priority", "undefined".into()),
                ("process.dumpable", "no".into()),
                ("pm", p.pm.into()),
                ("pm.max_children", p.max_children.to_string()),
                ("pm.start_servers", p.start.to_string()),
                ("pm.min_spare_servers", p.min_spare.to_string()),
                ("pm.max_spare_servers", p.max_spare.to_string()),
                ("pm.max_spawn_rate", "32".into()),
                ("pm.process_idle_timeout", "10".into()),
                ("pm.max_requests", "500".into()),
                ("pm.status_path", "undefined".into()),
                ("pm.status_listen", "undefined".into()),
                ("ping.path", "undefined".into()),
                ("ping.response", "undefined".into()),
                ("access.log", "undefined".into()),
                ("access.format", "undefined".into()),
                ("slowlog", u(&p.slowlog)),
                ("request_slowlog_timeout", format!("{}s", p.slowlog_timeout)),
                ("request_slowlog_trace_depth", "20".into()),
                ("request_terminate_timeout", format!("{}s", p.terminate)),
                ("request_terminate_timeout_track_finished", "no".into()),
                ("rlimit_files", "0".into()),
                ("rlimit_core", "0".into()),
                ("chroot", "undefined".into()),
                ("chdir", "undefined".into()),
                (
                    "catch_workers_output",
                    if p.catch_output { "yes" } else { "no" }.into(),
                ),
                ("decorate_workers_output", "yes".into()),
                ("clear_env", "yes".into()),
                ("security.limit_extensions", ".php .phar".into()),
                ("php_admin_value[memory_limit]", p.memory_limit.into()),
            ];
            for (k, v) in rows {
                kv(&mut s, k, &v);
            }
            line(&mut s, " ");
        }
        line(
            &mut s,
            "configuration file /etc/php/8.2/fpm/php-fpm.conf test is successful",
        );
        s.push('\n');
        s
    }
}
