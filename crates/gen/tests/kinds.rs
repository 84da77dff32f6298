//! Every incident kind, the background noise, the journal form and the
//! Cloudflare log, read back with baton's own parsers and checked against
//! `truth.json` and against each other (every gateway error has its
//! error-log line, every edge error its origin story).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use baton_logparse::cloudflare::{CloudflareParser, EdgeSummary, ray_id_of_cf_ray};
use baton_logparse::fpm::slowlog::{SlowlogParser, SlowlogSummary};
use baton_logparse::fpm::{FpmEvent, FpmLogParser, FpmSummary};
use baton_logparse::journal::{JournalParser, JournalSummary};
use baton_logparse::kernel::{KernelParser, KernelSummary};
use baton_logparse::scan::{ScanOptions, Sink, scan_slice};
use baton_logparse::{
    AccessSummary, ErrorParser, ErrorSummary, Level, Loc, RecordParser, Tally, UpstreamClass, Zone,
    detect,
};
use serde_json::Value;

fn generate(name: &str, args: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let st = Command::new(env!("CARGO_BIN_EXE_baton-gen"))
        .args(args)
        .arg("--out")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "baton-gen {args:?} failed");
    dir
}

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap()
}

fn truth(dir: &Path) -> Value {
    serde_json::from_slice(&read(dir, "truth.json")).unwrap()
}

/// Every kind, with the edge log, in the timing format (it carries `cn=`
/// and `cfray=` for the joins).
const FULL: [&str; 11] = [
    "--duration",
    "4h",
    "--rate",
    "2",
    "--seed",
    "11",
    "--cloudflare",
    "--access-format",
    "timing",
    "--incidents",
    "all",
];

fn full() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| generate("kinds-full", &FULL))
}

fn sequential() -> ScanOptions {
    ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    }
}

/// Collects what `f` keeps of each record, in file order.
struct Collect<T, F> {
    items: Vec<T>,
    f: F,
}

impl<P, T, F> Sink<P> for Collect<T, F>
where
    P: RecordParser,
    T: Send,
    F: for<'a> Fn(P::Record<'a>) -> Option<T> + Send + Copy,
{
    fn record(&mut self, r: P::Record<'_>, _: Loc) {
        if let Some(t) = (self.f)(r) {
            self.items.push(t);
        }
    }
    fn append(&mut self, later: Self, _: u64) {
        self.items.extend(later.items);
    }
}

fn collect<P, T, F>(buf: &[u8], p: &P, f: F) -> (Vec<T>, Tally)
where
    P: RecordParser + Sync,
    T: Send,
    F: for<'a> Fn(P::Record<'a>) -> Option<T> + Send + Sync + Copy,
{
    let (c, t) = scan_slice(buf, 0, p, &sequential(), &|| Collect {
        items: Vec::new(),
        f,
    });
    (c.items, t)
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp()
}

#[derive(Debug)]
struct Acc {
    t: i64,
    status: u16,
    conn: u64,
    path: String,
    ray: Option<String>,
}

fn access(dir: &Path) -> (Vec<Acc>, Tally) {
    let buf = read(dir, "access.log");
    let p = detect(&buf).access.expect("an access log");
    collect(&buf, &p, |r: baton_logparse::AccessRecord<'_>| {
        Some(Acc {
            t: r.time?.unix_secs(),
            status: r.status?,
            conn: r.connection.unwrap_or(0),
            path: s(r.path.unwrap_or(b"")),
            ray: r.cf_ray.map(|c| s(ray_id_of_cf_ray(c))),
        })
    })
}

#[derive(Debug)]
struct Err {
    t: i64,
    conn: u64,
    level: Level,
    kind: Option<&'static str>,
    warn: bool,
    fatal: bool,
    message: String,
}

fn errors(dir: &Path) -> (Vec<Err>, Tally) {
    let buf = read(dir, "error.log");
    collect(
        &buf,
        &ErrorParser::new(Zone::UTC),
        |r: baton_logparse::ErrorRecord<'_>| {
            Some(Err {
                t: r.time.unix_secs(),
                conn: r.connection.unwrap_or(0),
                level: r.level,
                kind: match r.upstream_class {
                    UpstreamClass::Error(k) => Some(k.as_str()),
                    _ => None,
                },
                warn: r.upstream_class == UpstreamClass::Warning,
                fatal: r.php.is_some_and(|p| p.level == b"Fatal error"),
                message: s(r.message),
            })
        },
    )
}

/// `(time, is max_children)` of each php-fpm record.
fn fpm_times(dir: &Path) -> Vec<(i64, bool)> {
    let buf = read(dir, "php-fpm.log");
    let (v, t) = collect(
        &buf,
        &FpmLogParser::new(Zone::UTC),
        |r: baton_logparse::fpm::FpmRecord<'_>| {
            Some((
                r.time?.unix_secs(),
                matches!(r.event, FpmEvent::MaxChildrenReached { .. }),
            ))
        },
    );
    assert_eq!(t.skipped(), 0);
    v
}

#[derive(Debug)]
struct Edge {
    t: i64,
    status: u16,
    origin: Option<u16>,
    path: String,
    ray: String,
}

fn edges(dir: &Path) -> (Vec<Edge>, Tally) {
    let buf = read(dir, "cloudflare.log");
    collect(
        &buf,
        &CloudflareParser::new(),
        |r: baton_logparse::cloudflare::EdgeRecord<'_>| {
            Some(Edge {
                t: r.time?.unix_secs(),
                status: r.edge_status?,
                origin: r.origin_status,
                path: s(r.path?),
                ray: s(r.ray_id?),
            })
        },
    )
}

fn incident<'a>(t: &'a Value, kind: &str) -> &'a Value {
    t["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} incident"))
}

/// `[start, end]` of an incident, in unix seconds.
fn window(inc: &Value) -> (i64, i64) {
    (secs(&inc["start"]), secs(&inc["end"]))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect()
}

#[test]
fn every_kind_is_present_with_the_contract_names() {
    let t = truth(full());
    let want = [
        ("capacity", "max_children", "capacity", "nginx -> php-fpm"),
        (
            "external_call",
            "external_call",
            "latency",
            "php-fpm -> external API",
        ),
        ("database", "database", "latency", "php-fpm -> mysql"),
        (
            "fpm_restart",
            "fpm_restart",
            "connectivity",
            "nginx -> php-fpm",
        ),
        (
            "socket_permission",
            "socket_permission",
            "connectivity",
            "nginx -> php-fpm",
        ),
        ("segfault", "segfault", "crash", "php-fpm worker"),
        ("oom_kill", "oom_kill", "crash", "php-fpm worker"),
        (
            "request_flood",
            "request_flood",
            "capacity",
            "nginx -> php-fpm",
        ),
        ("fpm_down", "fpm_down", "connectivity", "nginx -> php-fpm"),
        (
            "backlog_full",
            "backlog_full",
            "capacity",
            "nginx -> php-fpm",
        ),
        (
            "no_live_upstreams",
            "no_live_upstreams",
            "connectivity",
            "nginx -> upstream",
        ),
        (
            "buffer_config",
            "buffer_config",
            "connectivity",
            "nginx -> php-fpm",
        ),
        ("slow_script", "slow_script", "latency", "php-fpm"),
        ("fatal_error", "fatal_error", "crash", "php-fpm worker"),
        ("edge_only", "edge_only", "edge", "edge -> origin"),
    ];
    let incs = t["incidents"].as_array().unwrap();
    assert_eq!(incs.len(), want.len());
    for (inc, (kind, cause, verdict, handoff)) in incs.iter().zip(want) {
        assert_eq!(inc["kind"], kind);
        assert_eq!(inc["cause"], cause);
        assert_eq!(inc["verdict"], verdict);
        assert_eq!(inc["handoff"], handoff);
        let errors = u(&inc["gateway_errors"]) + u(&inc["edge_gateway_errors"]);
        assert!(errors > 0, "{kind} made no gateway error");
        assert!(inc["top_path"]["path"].is_string(), "{kind}");
    }
    // In time order, at least 10 min apart.
    for pair in incs.windows(2) {
        let gap = secs(&pair[1]["start"]) - secs(&pair[0]["end"]);
        assert!(
            gap >= 600,
            "{} and {} {gap} s apart",
            pair[0]["kind"],
            pair[1]["kind"]
        );
    }
}

#[test]
fn every_file_parses_and_counts_match_truth() {
    let d = full();
    let t = truth(d);
    let tot = &t["totals"];
    let lines = counts(&tot["lines"]);

    let buf = read(d, "access.log");
    let p = detect(&buf).access.unwrap();
    let (a, at) = scan_slice(&buf, 0, &p, &sequential(), &AccessSummary::default);
    assert_eq!(at.skipped(), 0);
    assert_eq!(at.lines, lines["access.log"]);
    assert_eq!(a.requests, u(&tot["requests"]));
    let status: BTreeMap<String, u64> = a
        .status()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(status, counts(&tot["status"]));

    let buf = read(d, "error.log");
    let (e, et) = scan_slice(
        &buf,
        0,
        &ErrorParser::new(Zone::UTC),
        &sequential(),
        &ErrorSummary::default,
    );
    assert_eq!(et.skipped(), 0);
    assert_eq!(et.lines, lines["error.log"]);
    let up: BTreeMap<String, u64> = e
        .upstream_errors()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.as_str().to_string(), n))
        .collect();
    assert_eq!(up, counts(&tot["upstream_errors"]));
    assert_eq!(e.upstream_warnings, u(&tot["upstream_warnings"]));

    let buf = read(d, "php-fpm.log");
    let (f, ft) = scan_slice(
        &buf,
        0,
        &FpmLogParser::new(Zone::UTC),
        &sequential(),
        &FpmSummary::default,
    );
    assert_eq!(ft.skipped(), 0);
    assert_eq!(ft.lines, lines["php-fpm.log"]);
    check_fpm(&f, &tot["fpm"]);

    let buf = read(d, "www-slow.log");
    let (sl, st) = scan_slice(
        &buf,
        0,
        &SlowlogParser::new(Zone::UTC),
        &sequential(),
        &SlowlogSummary::default,
    );
    // php-fpm writes a blank line before each trace.
    assert_eq!(
        st.skipped(),
        st.skipped_for(baton_logparse::SkipReason::Empty)
    );
    assert_eq!(st.skipped(), sl.traces);
    assert_eq!(st.lines, lines["www-slow.log"]);
    assert_eq!(sl.traces, u(&tot["slowlog"]["traces"]));

    let buf = read(d, "kern.log");
    let (k, kt) = scan_slice(
        &buf,
        0,
        &KernelParser::new(Zone::UTC).with_year(2026),
        &sequential(),
        &KernelSummary::default,
    );
    assert_eq!(kt.skipped(), 0);
    assert_eq!(kt.lines, lines["kern.log"]);
    assert_eq!(k.oom_kills, u(&tot["kernel"]["oom_kills"]));
    assert_eq!(k.segfaults, u(&tot["kernel"]["segfaults"]));
    // The mysqld kill is background: every other victim is php-fpm.
    assert_eq!(u(&t["background"]["kernel"]["oom_kills"]), 1);
    assert_eq!(k.oom_kills_php_fpm + 1, k.oom_kills);

    let buf = read(d, "cloudflare.log");
    let (c, ct) = scan_slice(
        &buf,
        0,
        &CloudflareParser::new(),
        &sequential(),
        &EdgeSummary::default,
    );
    assert_eq!(ct.skipped(), 0);
    assert_eq!(ct.lines, lines["cloudflare.log"]);
    let edge = &tot["edge"];
    assert_eq!(c.requests, u(&edge["requests"]));
    assert_eq!(c.gateway_errors, u(&edge["gateway_errors"]));
    let st: BTreeMap<String, u64> = c.status.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(st, counts(&edge["status"]));
    let os: BTreeMap<String, u64> = c
        .origin_status
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(os, counts(&edge["origin_status"]));
}

fn check_fpm(f: &FpmSummary, want: &Value) {
    assert_eq!(f.max_children_reached, u(&want["max_children_reached"]));
    assert_eq!(f.seems_busy, u(&want["seems_busy"]));
    assert_eq!(f.slow_requests, u(&want["slow_requests"]));
    assert_eq!(f.execution_timeouts, u(&want["execution_timeouts"]));
    assert_eq!(f.restarts, u(&want["restarts"]));
    assert_eq!(f.php_fatal_errors, u(&want["php_fatal_errors"]));
    let signals: BTreeMap<String, u64> = f.child_signals.clone().into_iter().collect();
    assert_eq!(signals, counts(&want["child_signals"]));
    assert!(u(&want["child_exits"]) > 0, "routine child exits expected");
}

#[test]
fn every_gateway_error_has_its_error_line_at_the_same_instant() {
    let d = full();
    let (acc, _) = access(d);
    let (err, _) = errors(d);
    let mut by_conn: HashMap<u64, Vec<&Err>> = HashMap::new();
    for e in &err {
        by_conn.entry(e.conn).or_default().push(e);
    }
    let mut n = 0;
    for a in acc.iter().filter(|a| matches!(a.status, 502 | 504)) {
        let lines = by_conn.get(&a.conn).map(Vec::as_slice).unwrap_or(&[]);
        let kinds: Vec<&str> = lines
            .iter()
            .filter(|e| e.t == a.t)
            .filter_map(|e| e.kind)
            .collect();
        assert!(!kinds.is_empty(), "no upstream error for {a:?}");
        let last = *kinds.last().unwrap();
        if a.status == 504 {
            assert_eq!(last, "timed_out", "{a:?}");
        } else {
            assert_ne!(last, "timed_out", "{a:?}");
        }
        n += 1;
    }
    assert!(n > 300, "{n} gateway errors");
    // And no upstream error without its request (500s from PHP fatals too).
    let conns: HashMap<u64, u16> = acc.iter().map(|a| (a.conn, a.status)).collect();
    for e in err.iter().filter(|e| e.kind.is_some()) {
        let st = conns.get(&e.conn).copied();
        assert!(matches!(st, Some(500 | 502 | 504)), "{e:?} answered {st:?}");
    }
}

/// Errors of the incident's window, with a margin.
fn in_window<T>(v: &[T], t: impl Fn(&T) -> i64, w: (i64, i64), margin: i64) -> Vec<&T> {
    v.iter()
        .filter(|x| (w.0 - margin..=w.1 + margin).contains(&t(x)))
        .collect()
}

#[test]
fn fpm_down_leaves_the_fpm_log_silent() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "fpm_down");
    let w = window(inc);
    let fpm = fpm_times(d);
    assert!(in_window(&fpm, |x| x.0, w, 60).is_empty());
    let kinds = counts(&inc["upstream_errors"]);
    assert!(
        kinds
            .keys()
            .all(|k| k == "connect_refused" || k == "connect_enoent")
    );
    assert!(kinds["connect_refused"] > 0 && kinds["connect_enoent"] > 0);
    let (err, _) = errors(d);
    let got = in_window(&err, |e| e.t, w, 0)
        .into_iter()
        .filter(|e| e.kind.is_some())
        .count() as u64;
    assert_eq!(got, kinds.values().sum::<u64>());
}

#[test]
fn backlog_full_has_no_max_children_and_many_paths() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "backlog_full");
    let w = window(inc);
    let fpm = fpm_times(d);
    assert!(in_window(&fpm, |x| x.0, w, 120).iter().all(|x| !x.1));
    assert_eq!(u(&inc["fpm"]["max_children_reached"]), 0);
    let kinds = counts(&inc["upstream_errors"]);
    assert_eq!(
        kinds.keys().collect::<Vec<_>>(),
        ["connect_eagain", "timed_out"]
    );
    let (acc, _) = access(d);
    let gw: Vec<_> = in_window(&acc, |a| a.t, w, 0)
        .into_iter()
        .filter(|a| matches!(a.status, 502 | 504))
        .collect();
    let mut paths: HashMap<&str, u64> = HashMap::new();
    for a in &gw {
        *paths.entry(&a.path).or_default() += 1;
    }
    assert!(paths.len() >= 8, "{paths:?}");
    assert!(
        paths.values().all(|&n| n * 3 < gw.len() as u64),
        "{paths:?}"
    );
}

#[test]
fn no_live_upstreams_follows_servers_marked_down() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "no_live_upstreams");
    let w = window(inc);
    let (err, _) = errors(d);
    let win = in_window(&err, |e| e.t, w, 0);
    let first_live = win
        .iter()
        .position(|e| e.kind == Some("no_live_upstreams"))
        .expect("no live upstreams lines");
    let disabled = win[..first_live]
        .iter()
        .filter(|e| {
            e.warn
                && e.message
                    .starts_with("upstream server temporarily disabled")
        })
        .count();
    assert_eq!(disabled, 2, "both servers marked down first");
    assert!(win.iter().all(|e| {
        e.kind
            .is_none_or(|k| k == "no_live_upstreams" || k == "connect_refused")
    }));
    assert!(
        win.iter()
            .filter(|e| e.kind.is_some())
            .all(|e| e.level == Level::Error)
    );
    assert_eq!(inc["top_path"]["path"], "/api/stock");
}

#[test]
fn buffer_config_is_one_path_too_big_header() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "buffer_config");
    assert_eq!(
        counts(&inc["upstream_errors"])
            .into_iter()
            .collect::<Vec<_>>(),
        [("too_big_header".to_string(), u(&inc["gateway_errors"]))]
    );
    assert_eq!(inc["top_path"]["path"], "/my-account/");
    assert_eq!(inc["top_path"]["count"], inc["gateway_errors"]);
    assert_eq!(u(&inc["status_504"]), 0);
}

#[test]
fn slow_script_traces_block_in_a_theme_cpu() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "slow_script");
    assert_eq!(inc["culprit"]["kind"], "theme");
    assert_eq!(inc["culprit"]["call"], "cpu");
    let w = window(inc);
    let buf = read(d, "www-slow.log");
    let (traces, _) = collect(
        &buf,
        &SlowlogParser::new(Zone::UTC),
        |r: baton_logparse::fpm::slowlog::SlowlogRecord<'_>| {
            let c = r.culprit?;
            Some((
                r.time.unix_secs(),
                c.kind.as_str(),
                s(c.name),
                c.call.as_str(),
            ))
        },
    );
    let win = in_window(&traces, |x| x.0, w, 60);
    assert_eq!(win.len() as u64, u(&inc["slowlog_traces"]));
    for (_, kind, name, call) in win {
        assert_eq!(*kind, "theme");
        assert_eq!(name, inc["culprit"]["name"].as_str().unwrap());
        assert_eq!(*call, "cpu");
    }
}

#[test]
fn fatal_error_precedes_every_premature_close() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "fatal_error");
    let w = window(inc);
    let (err, _) = errors(d);
    let win = in_window(&err, |e| e.t, w, 0);
    let closes: Vec<_> = win
        .iter()
        .filter(|e| e.kind == Some("premature_close"))
        .collect();
    assert_eq!(closes.len() as u64, u(&inc["status_502"]));
    for c in closes {
        assert!(
            // PHP's stderr passed on: a PHP message, not an upstream
            // error (CONTRACT).
            win.iter()
                .any(|e| e.conn == c.conn && e.fatal && e.kind.is_none()),
            "no PHP fatal before {c:?}"
        );
    }
    assert!(u(&inc["fpm"]["php_fatal_errors"]) >= u(&inc["status_502"]));
}

#[test]
fn edge_only_errors_have_a_healthy_origin() {
    let d = full();
    let t = truth(d);
    let inc = incident(&t, "edge_only");
    assert_eq!(u(&inc["gateway_errors"]), 0);
    let w = window(inc);
    let (acc, _) = access(d);
    let (edge, et) = edges(d);
    assert_eq!(et.skipped(), 0);
    assert!(
        in_window(&acc, |a| a.t, w, 30)
            .iter()
            .all(|a| !matches!(a.status, 502 | 504))
    );
    let errs: Vec<_> = in_window(&edge, |e| e.t, w, 0)
        .into_iter()
        .filter(|e| e.status >= 520)
        .collect();
    assert_eq!(errs.len() as u64, u(&inc["edge_gateway_errors"]));
    let by_ray: HashMap<&str, &Acc> = acc
        .iter()
        .filter_map(|a| Some((a.ray.as_deref()?, a)))
        .collect();
    let (mut answered, mut unseen) = (0, 0);
    for e in errs {
        match e.origin {
            Some(st) => {
                let a = by_ray[e.ray.as_str()];
                assert_eq!((a.status, st), (200, 200));
                assert_eq!(a.path, e.path);
                answered += 1;
            }
            None => {
                assert!(!by_ray.contains_key(e.ray.as_str()));
                unseen += 1;
            }
        }
    }
    assert!(answered > 0 && unseen > 0);
    // Every origin request has its edge line, joined by Ray ID.
    let rays: HashMap<&str, &Edge> = edge.iter().map(|e| (e.ray.as_str(), e)).collect();
    for a in &acc {
        let e = rays[a.ray.as_deref().expect("cfray on every line")];
        assert_eq!(e.origin, Some(a.status));
    }
}

#[test]
fn edge_only_needs_cloudflare() {
    let out = Command::new(env!("CARGO_BIN_EXE_baton-gen"))
        .args(["--incidents", "edge_only", "--out"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-edge"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cloudflare"));
    // And the default list leaves it out without --cloudflare.
    let d = generate("default-kinds", &["--rate", "1", "--duration", "3h"]);
    let t = truth(&d);
    let kinds: Vec<&str> = t["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 14);
    assert!(!kinds.contains(&"edge_only"));
    assert!(!d.join("cloudflare.log").exists());
}

#[test]
fn too_short_for_the_incidents_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_baton-gen"))
        .args(["--duration", "40m", "--out"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("too-short"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
}

#[test]
fn journal_form_holds_the_same_fpm_events() {
    let args = [
        "--duration",
        "3h",
        "--rate",
        "1",
        "--seed",
        "12",
        "--incidents",
        "all",
    ];
    let file = generate("fpm-file", &args);
    let journal = generate(
        "fpm-journal",
        &[&args[..], &["--fpm-log", "journal"]].concat(),
    );
    assert!(!journal.join("php-fpm.log").exists());
    // The other logs are the same bytes.
    for f in ["access.log", "error.log", "www-slow.log", "kern.log"] {
        assert!(read(&file, f) == read(&journal, f), "{f} differs");
    }
    let buf = read(&journal, "php-fpm.journal");
    let det = detect(&buf);
    assert_eq!(det.format, baton_logparse::Format::Journal);
    let mut p = JournalParser::new(Zone::UTC, 2026);
    if let Some(form) = det.journal_form {
        p = p.with_form(form);
    }
    let (j, jt) = scan_slice(&buf, 0, &p, &sequential(), &JournalSummary::default);
    assert_eq!(jt.skipped(), 0);
    let t = truth(&journal);
    assert_eq!(jt.lines, u(&t["totals"]["lines"]["php-fpm.journal"]));
    check_fpm(&j.fpm, &t["totals"]["fpm"]);
    // systemd's stop and start around the restart.
    assert_eq!(j.units.stopping, 1);
    assert_eq!(j.units.started, 1);
    // php-fpm lines carry the master's pid, the new one after the restart.
    let (pids, _) = collect(&buf, &p, |r: baton_logparse::journal::JournalRecord<'_>| {
        (r.identifier == b"php-fpm8.2").then_some(r.pid?)
    });
    let mut distinct = pids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "one master, then its successor");
    let ft = truth(&file);
    assert_eq!(ft["totals"]["fpm"], t["totals"]["fpm"]);
}

#[test]
fn main_format_carries_x_forwarded_for() {
    let d = generate(
        "main-format",
        &[
            "--duration",
            "20m",
            "--rate",
            "2",
            "--incidents",
            "none",
            "--access-format",
            "main",
            "--cloudflare",
        ],
    );
    let buf = read(&d, "access.log");
    let p = detect(&buf).access.unwrap();
    assert_eq!(p.variant(), "main");
    let (v, tally) = collect(&buf, &p, |r: baton_logparse::AccessRecord<'_>| {
        Some(r.x_forwarded_for? == r.remote_addr?)
    });
    assert_eq!(tally.skipped(), 0);
    assert_eq!(v.len() as u64, tally.lines);
    assert!(v.iter().all(|&same| same));
}

#[test]
fn background_noise_stays_out_of_incidents() {
    let d = full();
    let t = truth(d);
    let bg = &t["background"];
    assert!(u(&bg["fpm"]["child_exits"]) > 0);
    assert!(u(&bg["kernel"]["noise_lines"]) > 0);
    assert_eq!(bg["kernel"]["oom_victims"][0], "mysqld");
    // The mysqld kill is 5 min or more from every incident's errors.
    let buf = read(d, "kern.log");
    let (kills, _) = collect(
        &buf,
        &KernelParser::new(Zone::UTC).with_year(2026),
        |r: baton_logparse::kernel::KernelRecord<'_>| {
            let m = r.message;
            (m.starts_with(b"Out of memory: Killed process")
                && m.windows(8).any(|w| w == b"(mysqld)"))
            .then(|| r.time.map(|t| t.unix_secs()))
            .flatten()
        },
    );
    assert_eq!(kills.len(), 1);
    for inc in t["incidents"].as_array().unwrap() {
        let (a, z) = window(inc);
        assert!(kills[0] < a - 300 || kills[0] > z + 300, "{}", inc["kind"]);
    }
}
