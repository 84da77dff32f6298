//! The verdict rules on hand-built event sets: one scenario per cause of
//! the playbook, each asserting verdict, cause, time range, top path and
//! culprit.

use baton_correlate::model::Analysis;
use baton_correlate::{Cause, Coverage, Input, Options, Verdict, analyze};
use baton_logparse::event::{MasterStep, Minute, PathCount};
use baton_logparse::fpm::slowlog::{CallKind, CodeKind};
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::summary::TimeRange;
use baton_logparse::{Event, EventKind, Timestamp, Traffic};

/// 2026-11-24T10:00:00Z.
const T0: i64 = 1_795_514_400;

fn at(t: i64, kind: EventKind) -> Event {
    Event {
        time: Some(Timestamp::from_unix(T0 + t, 0)),
        kind: Some(kind),
        ..Event::default()
    }
}

fn text(s: &str) -> Option<baton_logparse::event::Text> {
    Some(s.as_bytes().into())
}

/// A gateway error in the access log and, when `kind` is given, its
/// upstream error in the error log at the same instant.
fn failure(
    out: &mut Vec<Event>,
    t: i64,
    status: u16,
    path: &str,
    client: usize,
    kind: Option<UpstreamKind>,
) {
    let client = format!("10.0.0.{client}");
    out.push(Event {
        status: Some(status),
        path: text(path),
        client: text(&client),
        host: text("shop.example.com"),
        file: 0,
        line: out.len() as u64 + 1,
        ..at(t, EventKind::Request)
    });
    if let Some(k) = kind {
        out.push(Event {
            upstream_kind: Some(k),
            path: text(path),
            client: text(&client),
            upstream: text("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
            file: 1,
            line: out.len() as u64 + 1,
            ..at(t, EventKind::UpstreamError)
        });
    }
}

fn fpm(t: i64, kind: EventKind) -> Event {
    Event {
        file: 2,
        pool: text("www"),
        ..at(t, kind)
    }
}

fn child_exit(t: i64, pid: u32, signal: &str) -> Event {
    Event {
        detail: baton_logparse::event::Detail {
            signal: Some(signal.into()),
            ..Default::default()
        }
        .boxed(),
        pid: Some(pid),
        ..fpm(t, EventKind::FpmChildExit)
    }
}

fn trace(t: i64, plugin: &str, call: CallKind) -> Event {
    Event {
        detail: baton_logparse::event::Detail {
            plugin: text(plugin),
            frame: text(&format!(
                "curl_exec() /var/www/wp-content/plugins/{plugin}/api.php:88"
            )),
            ..Default::default()
        }
        .boxed(),
        file: 3,
        pid: Some(4242),
        code: Some(CodeKind::Plugin),
        call: Some(call),
        ..fpm(t, EventKind::SlowlogTrace)
    }
}

/// Steady traffic: `rps` requests a second over two hours from T0 - 1 h,
/// spread over a few paths, plus `extra` requests per minute on one path
/// between `from` and `to` seconds.
fn traffic(rps: u64, extra: Option<(&str, &str, u64, i64, i64)>) -> Traffic {
    let mut t = Traffic::default();
    for m in (T0 - 3600) / 60..(T0 + 3600) / 60 {
        let per = rps * 60;
        let mut minute = Minute {
            requests: per,
            static_requests: per / 4,
            ..Minute::default()
        };
        for (i, p) in ["/", "/shop/", "/cart/", "/checkout/"].iter().enumerate() {
            minute.top.push(PathCount::new(
                p.as_bytes(),
                b"",
                per * 3 / 4 / 4 + i as u64,
            ));
        }
        if let Some((path, action, n, from, to)) = extra
            && m * 60 >= T0 + from - 60
            && m * 60 <= T0 + to
        {
            minute.requests += n;
            minute
                .top
                .push(PathCount::new(path.as_bytes(), action.as_bytes(), n));
        }
        t.minutes.insert(m, minute);
    }
    t
}

fn run(events: Vec<Event>, coverage: Coverage, traffic: Traffic) -> Analysis {
    let mut window = TimeRange::default();
    window.add(Timestamp::from_unix(T0 - 3600, 0));
    window.add(Timestamp::from_unix(T0 + 3600, 0));
    let mut access = TimeRange::default();
    if coverage.access {
        access = window;
    }
    let input = Input {
        events,
        files: [
            "access.log",
            "error.log",
            "php-fpm.log",
            "www-slow.log",
            "kern.log",
            "cf.log",
        ]
        .map(String::from)
        .to_vec(),
        requests: traffic.minutes.values().map(|m| m.requests).sum(),
        traffic,
        access_ranges: vec![access],
        window,
        coverage,
        config: Default::default(),
    };
    analyze(&input, &Options::default())
}

fn full() -> Coverage {
    Coverage {
        access: true,
        error: true,
        fpm: true,
        slowlog: true,
        kernel: true,
        edge: false,
    }
}

fn only(a: &Analysis) -> &baton_correlate::Incident {
    assert_eq!(a.incidents.len(), 1, "incidents: {:#?}", a.incidents);
    &a.incidents[0]
}

const PATHS: [&str; 5] = ["/", "/shop/", "/cart/", "/checkout/", "/my-account/"];

#[test]
fn pool_saturation_is_capacity_max_children() {
    let mut ev = Vec::new();
    ev.push(fpm(-2, EventKind::FpmMaxChildren));
    for i in 0..40 {
        let kind = if i % 3 == 0 {
            UpstreamKind::TimedOut
        } else {
            UpstreamKind::ConnectEagain
        };
        let status = if kind == UpstreamKind::TimedOut {
            504
        } else {
            502
        };
        let path = PATHS[if i % 2 == 0 { 1 } else { i % 5 }];
        failure(&mut ev, i as i64 * 5, status, path, i, Some(kind));
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::MaxChildren)
    );
    assert_eq!(i.start.to_string(), "2026-11-24T10:00:00+00:00");
    assert_eq!(i.end.to_string(), "2026-11-24T10:03:15+00:00");
    assert_eq!(i.top_paths[0].path, "/shop/");
    assert_eq!(i.fpm.max_children_reached, 1);
    assert_eq!(a.joins.matched_upstream_error, 40);
    assert!(i.next_steps.iter().any(|s| s.contains("pm.max_children")));
}

#[test]
fn static_pool_backlog_full_alone_is_capacity() {
    let mut ev = Vec::new();
    for i in 0..20 {
        failure(
            &mut ev,
            i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::BacklogFull)
    );
}

#[test]
fn slow_plugin_external_calls_are_latency_naming_the_plugin() {
    let mut ev = Vec::new();
    for i in 0..30 {
        ev.push(trace(i * 6 - 55, "acme-shipping", CallKind::ExternalCall));
    }
    ev.push(trace(10, "other-plugin", CallKind::Database));
    // The pool saturates too: a few backlog-full errors on other paths.
    ev.push(fpm(30, EventKind::FpmMaxChildren));
    for i in 0..24 {
        let (path, kind, status) = if i % 6 == 5 {
            ("/shop/", UpstreamKind::ConnectEagain, 502)
        } else {
            ("/wp-admin/admin-ajax.php", UpstreamKind::TimedOut, 504)
        };
        failure(&mut ev, i * 5, status, path, i as usize, Some(kind));
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Latency, Cause::ExternalCall)
    );
    assert_eq!(i.handoff, "php-fpm -> external API");
    assert_eq!(i.culprits[0].name, "acme-shipping");
    assert_eq!(i.culprits[0].call.as_deref(), Some("external_call"));
    assert_eq!(i.top_paths[0].path, "/wp-admin/admin-ajax.php");
    assert!(
        i.contributing_causes.contains(&Cause::MaxChildren),
        "{:?}",
        i.contributing_causes
    );
    assert!(
        i.next_steps
            .iter()
            .all(|s| !s.starts_with("Size `pm.max_children`"))
    );
}

#[test]
fn database_stall_is_latency_database() {
    let mut ev = Vec::new();
    for i in 0..12 {
        ev.push(trace(i * 10 - 30, "woo-filter", CallKind::Database));
    }
    for i in 0..15 {
        failure(
            &mut ev,
            i * 8,
            504,
            "/shop/",
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!((i.verdict, i.cause), (Verdict::Latency, Cause::Database));
    assert_eq!(i.handoff, "php-fpm -> mysql");
}

#[test]
fn refused_during_a_restart_is_fpm_restart_and_without_one_fpm_down() {
    let build = |restart: bool| {
        let mut ev = Vec::new();
        if restart {
            ev.push(Event {
                step: Some(MasterStep::Stop),
                ..fpm(0, EventKind::FpmRestart)
            });
            ev.push(Event {
                step: Some(MasterStep::Start),
                ..fpm(25, EventKind::FpmRestart)
            });
        }
        for i in 0..30 {
            let k = if i < 5 {
                UpstreamKind::ConnectRefused
            } else {
                UpstreamKind::ConnectEnoent
            };
            failure(&mut ev, i, 502, PATHS[i as usize % 5], i as usize, Some(k));
        }
        run(ev, full(), traffic(20, None))
    };
    let a = build(true);
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Connectivity, Cause::FpmRestart)
    );
    assert_eq!(i.fpm.restarts, 1);
    assert!(i.next_steps[0].contains("graceful reload"));
    let a = build(false);
    assert_eq!(only(&a).cause, Cause::FpmDown);
}

#[test]
fn permission_denied_is_socket_permission() {
    let mut ev = Vec::new();
    for i in 0..50 {
        failure(
            &mut ev,
            i,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Connectivity, Cause::SocketPermission)
    );
    assert!(i.next_steps[0].contains("listen.owner"));
}

#[test]
fn resets_with_sigsegv_children_are_a_segfault_and_with_oom_kills_an_oom_kill() {
    let mut ev = Vec::new();
    for i in 0..6u32 {
        let t = i as i64 * 20;
        failure(
            &mut ev,
            t,
            502,
            "/product/x/",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
        ev.push(child_exit(t, 1000 + i, "SIGSEGV"));
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!((i.verdict, i.cause), (Verdict::Crash, Cause::Segfault));
    assert_eq!(i.fpm.child_signals.get("SIGSEGV"), Some(&6));

    let mut ev = Vec::new();
    for i in 0..4u32 {
        let t = i as i64 * 30;
        failure(
            &mut ev,
            t,
            502,
            "/wp-admin/admin-ajax.php",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
        ev.push(child_exit(t, 2000 + i, "SIGKILL"));
        // dmesg -T clocks drift: the kill is logged 3 minutes off, and the
        // pid joins it.
        ev.push(Event {
            detail: baton_logparse::event::Detail {
                process: text("php-fpm8.2"),
                ..Default::default()
            }
            .boxed(),
            pid: Some(2000 + i),
            file: 4,
            ..at(t + 180, EventKind::KernelOomKill)
        });
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!((i.verdict, i.cause), (Verdict::Crash, Cause::OomKill));
    assert_eq!(i.fpm.oom_kills, 4);
    assert!(
        i.next_steps
            .iter()
            .any(|s| s.starts_with("Do not raise pm.max_children"))
    );
}

#[test]
fn a_sigterm_after_an_execution_timeout_is_no_crash() {
    let mut ev = Vec::new();
    for i in 0..8u32 {
        let t = i as i64 * 10;
        failure(
            &mut ev,
            t,
            502,
            "/export/",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
        ev.push(Event {
            pid: Some(3000 + i),
            path: text("/export/"),
            ..fpm(t, EventKind::FpmExecutionTimeout)
        });
        ev.push(child_exit(t, 3000 + i, "SIGTERM"));
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_ne!(i.verdict, Verdict::Crash);
}

#[test]
fn an_oom_kill_of_mysqld_is_memory_pressure_not_an_fpm_crash() {
    let mut ev = Vec::new();
    for i in 0..6 {
        failure(
            &mut ev,
            i * 10,
            502,
            "/shop/",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    ev.push(Event {
        detail: baton_logparse::event::Detail {
            process: text("mysqld"),
            ..Default::default()
        }
        .boxed(),
        pid: Some(812),
        ..at(5, EventKind::KernelOomKill)
    });
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_ne!(i.cause, Cause::OomKill);
    assert_eq!(i.fpm.oom_kills, 0);
    assert!(i.evidence.iter().any(|e| e.contains("memory pressure")));
}

#[test]
fn an_admin_ajax_flood_is_request_flood_with_its_action() {
    let mut ev = Vec::new();
    ev.push(fpm(0, EventKind::FpmMaxChildren));
    for i in 0..60 {
        let kind = if i % 2 == 0 {
            UpstreamKind::ConnectEagain
        } else {
            UpstreamKind::TimedOut
        };
        let mut before = ev.len();
        failure(
            &mut ev,
            i * 2,
            if i % 2 == 0 { 502 } else { 504 },
            "/wp-admin/admin-ajax.php",
            i as usize,
            Some(kind),
        );
        while before < ev.len() {
            ev[before].action = text("live_search");
            before += 1;
        }
    }
    let t = traffic(
        20,
        Some(("/wp-admin/admin-ajax.php", "live_search", 900, 0, 120)),
    );
    let i = &run(ev, full(), t).incidents[0];
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::RequestFlood)
    );
    assert_eq!(i.top_paths[0].action.as_deref(), Some("live_search"));
    assert!(i.request_rate.incident_rps > 1.5 * i.request_rate.background_rps);
    assert!(i.evidence.iter().any(|e| e.contains("action=live_search")));
}

#[test]
fn edge_errors_with_a_healthy_origin_are_edge_only() {
    let mut ev = Vec::new();
    for i in 0..10 {
        ev.push(Event {
            detail: baton_logparse::event::Detail {
                ray_id: text(&format!("8c0ffee{i:04}")),
                ..Default::default()
            }
            .boxed(),
            status: Some(if i % 2 == 0 { 502 } else { 522 }),
            origin_status: if i % 2 == 0 { Some(200) } else { None },
            path: text("/"),
            file: 5,
            ..at(i * 3, EventKind::EdgeRequest)
        });
    }
    let cov = Coverage {
        edge: true,
        ..full()
    };
    let a = run(ev, cov, traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause, i.handoff),
        (Verdict::Edge, Cause::EdgeOnly, "edge -> origin")
    );
    assert_eq!(a.totals.edge_gateway_errors, 10);
}

#[test]
fn without_edge_logs_a_quiet_origin_names_the_edge_logs() {
    let a = run(Vec::new(), full(), traffic(20, None));
    assert!(a.incidents.is_empty());
    assert!(
        a.warnings.iter().any(|w| w.contains("Cloudflare Logpush")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn one_off_errors_are_background_and_two_failures_ten_minutes_apart_are_two() {
    let mut ev = Vec::new();
    for t in [-3000, -1500, 2000, 3000] {
        failure(&mut ev, t, 502, "/", 1, Some(UpstreamKind::ResetByPeer));
    }
    for i in 0..10 {
        failure(
            &mut ev,
            i * 2,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
        failure(
            &mut ev,
            600 + i * 2,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    assert_eq!(a.incidents.len(), 2);
    assert_eq!(a.background.gateway_errors, 4);
    assert_eq!(
        a.incidents[1].start.to_string(),
        "2026-11-24T10:10:00+00:00"
    );
}

#[test]
fn thin_evidence_is_unknown_and_names_the_missing_logs() {
    let mut ev = Vec::new();
    for i in 0..10 {
        failure(&mut ev, i * 3, 502, "/", i as usize, None);
    }
    let cov = Coverage {
        access: true,
        ..Coverage::default()
    };
    let i = &run(ev, cov, traffic(20, None)).incidents[0];
    assert_eq!((i.verdict, i.cause), (Verdict::Unknown, Cause::Unknown));
    assert!(i.next_steps.iter().any(|s| s.contains("error log")));
    assert!(i.next_steps.iter().any(|s| s.contains("php-fpm log")));
}

#[test]
fn a_504_counts_from_its_request_start() {
    // 60 s requests: the max_children line 70 s before the log lines is
    // within the default 60 s window of their starts.
    let mut ev = vec![fpm(-70, EventKind::FpmMaxChildren)];
    for i in 0..10 {
        failure(
            &mut ev,
            i,
            504,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
        let n = ev.len();
        ev[n - 2].seconds = Some(60.0);
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.fpm.max_children_reached, 1);
}

// Episodes, phases, first causes and background findings (issue 15).

fn master(t: i64, step: MasterStep) -> Event {
    Event {
        step: Some(step),
        ..fpm(t, EventKind::FpmRestart)
    }
}

fn classes(i: &baton_correlate::Incident) -> Vec<&'static str> {
    i.phases.iter().map(|p| p.class.as_str()).collect()
}

#[test]
fn a_permission_change_between_two_restarts_is_one_incident_in_three_phases() {
    let mut ev = vec![
        master(-1, MasterStep::Stop),
        master(2, MasterStep::Start),
        master(299, MasterStep::Stop),
        master(302, MasterStep::Start),
    ];
    let mut n = 0;
    let mut at_ = |ev: &mut Vec<Event>, t: i64, k: UpstreamKind| {
        n += 1;
        failure(ev, t, 502, PATHS[n % 5], n, Some(k));
    };
    for t in 0..7 {
        at_(&mut ev, t / 3, UpstreamKind::ConnectRefused);
    }
    for t in 3..299 {
        at_(&mut ev, t, UpstreamKind::ConnectEacces);
    }
    for t in 0..3 {
        at_(&mut ev, 300 + t / 2, UpstreamKind::ConnectRefused);
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(i.cause, Cause::SocketPermission);
    assert_eq!(classes(i), ["refused", "permission", "refused"]);
    assert_eq!(
        i.phases
            .iter()
            .map(|p| p.gateway_errors)
            .collect::<Vec<_>>(),
        [7, 296, 3]
    );
    assert!(i.contributing_causes.contains(&Cause::FpmRestart));
}

#[test]
fn a_deploy_restarting_php_fpm_three_times_is_one_incident() {
    let mut ev = Vec::new();
    for (k, start) in [0i64, 150, 330].into_iter().enumerate() {
        ev.push(master(start - 1, MasterStep::Stop));
        ev.push(master(start + 4, MasterStep::Start));
        for j in 0..5 {
            failure(
                &mut ev,
                start + j,
                502,
                "/",
                k * 10 + j as usize,
                Some(UpstreamKind::ConnectRefused),
            );
        }
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Connectivity, Cause::FpmRestart)
    );
    assert_eq!(i.gateway_errors, 15);
    assert_eq!(i.fpm.restarts, 3);
}

/// Background slowlog traces of several plugins every few minutes over the
/// two hours, so that "above its background" means something.
fn background_traces(ev: &mut Vec<Event>) {
    let plugins = [
        ("wordpress-seo", CallKind::Cpu),
        ("woo-filters", CallKind::Database),
        ("mailer", CallKind::ExternalCall),
    ];
    let mut t = -3500;
    let mut k = 0;
    while t < 3500 {
        if !(-300..=900).contains(&t) {
            let (p, c) = plugins[k % 3];
            ev.push(trace(t, p, c));
        }
        t += 311;
        k += 1;
    }
}

#[test]
fn a_slow_database_that_saturates_the_pool_is_latency_with_saturation_contributing() {
    let mut ev = Vec::new();
    background_traces(&mut ev);
    // The plugin's queries slow down first, then the pool fills: mostly
    // errno 11 502s over many paths, some 504s.
    for i in 0..25 {
        ev.push(trace(i * 10 - 60, "woo-filters", CallKind::Database));
    }
    ev.push(fpm(40, EventKind::FpmMaxChildren));
    for i in 0..40 {
        let (kind, status) = if i % 5 == 4 {
            (UpstreamKind::TimedOut, 504)
        } else {
            (UpstreamKind::ConnectEagain, 502)
        };
        failure(
            &mut ev,
            45 + i * 4,
            status,
            PATHS[i as usize % 5],
            i as usize,
            Some(kind),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!((i.verdict, i.cause), (Verdict::Latency, Cause::Database));
    assert_eq!(i.culprits[0].name, "woo-filters");
    assert!(i.contributing_causes.contains(&Cause::MaxChildren));
    assert!(i.evidence.iter().any(|e| e.contains("background rate")));
}

#[test]
fn a_saturated_pool_with_the_slowlog_at_its_background_is_capacity() {
    let mut ev = Vec::new();
    background_traces(&mut ev);
    ev.push(trace(30, "wordpress-seo", CallKind::Cpu));
    ev.push(fpm(40, EventKind::FpmMaxChildren));
    for i in 0..40 {
        failure(
            &mut ev,
            45 + i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::MaxChildren)
    );
    assert!(
        i.ruled_out.iter().any(|r| r.verdict == Verdict::Latency),
        "{:?}",
        i.ruled_out
    );
}

#[test]
fn lone_segfaults_each_hour_are_one_background_finding_not_incidents() {
    let mut ev = Vec::new();
    for (k, t) in [-3000i64, -1200, 600, 2400].into_iter().enumerate() {
        let pid = 9000 + k as u32;
        ev.push(child_exit(t, pid, "SIGSEGV"));
        failure(
            &mut ev,
            t,
            502,
            "/product/x/",
            k,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    assert_eq!(a.background.gateway_errors, 4);
    let f = &a.background.findings[0];
    assert_eq!((f.cause, f.count), (Cause::Segfault, 4));
    assert_eq!(f.pids.len(), 4);
    assert!(
        f.evidence[0].contains("segfaulted 4 times"),
        "{:?}",
        f.evidence
    );
    assert!(f.next_steps.iter().any(|s| s.contains("reliability")));
}

#[test]
fn two_distinct_failures_three_minutes_apart_are_two_incidents() {
    let mut ev = Vec::new();
    for j in 0..8 {
        ev.push(child_exit(j * 5, 7000 + j as u32, "SIGSEGV"));
        failure(
            &mut ev,
            j * 5,
            502,
            "/product/x/",
            j as usize,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    ev.push(fpm(210, EventKind::FpmMaxChildren));
    for j in 0..30 {
        failure(
            &mut ev,
            215 + j * 3,
            502,
            PATHS[j as usize % 5],
            20 + j as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    assert_eq!(a.incidents.len(), 2, "{:#?}", a.incidents);
    assert_eq!(a.incidents[0].cause, Cause::Segfault);
    assert_eq!(a.incidents[1].cause, Cause::MaxChildren);
    // Evidence belongs to one incident: the crashes stay with the first.
    assert!(a.incidents[1].fpm.child_signals.is_empty());
    assert_eq!(a.incidents[1].fpm.max_children_reached, 1);
    assert_eq!(a.incidents[0].fpm.max_children_reached, 0);
}

#[test]
fn the_next_incident_does_not_repeat_the_evidence_of_the_previous_one() {
    let mut ev = Vec::new();
    ev.push(child_exit(2, 7100, "SIGSEGV"));
    ev.push(child_exit(4, 7101, "SIGSEGV"));
    for j in 0..6 {
        failure(
            &mut ev,
            j,
            502,
            "/a/",
            j as usize,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    // 30 s later, on another socket, refused: a different failure whose
    // 60 s lead-in reaches back over the crashes.
    for j in 0..6 {
        let n = ev.len();
        failure(
            &mut ev,
            30 + j,
            502,
            "/b/",
            10 + j as usize,
            Some(UpstreamKind::ConnectRefused),
        );
        ev[n + 1].upstream = text("fastcgi://127.0.0.1:9999");
    }
    let a = run(ev, full(), traffic(20, None));
    assert_eq!(a.incidents.len(), 2, "{:#?}", a.incidents);
    let second = &a.incidents[1];
    assert_eq!(second.cause, Cause::FpmDown);
    assert!(second.fpm.child_signals.is_empty(), "{:?}", second.fpm);
    assert!(
        second
            .next_steps
            .iter()
            .any(|s| s.contains("`127.0.0.1:9999`"))
    );
}

#[test]
fn ruled_out_says_why_each_other_verdict_does_not_hold() {
    let mut ev = Vec::new();
    for i in 0..20 {
        failure(
            &mut ev,
            i * 3,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    let by: Vec<Verdict> = i.ruled_out.iter().map(|r| r.verdict).collect();
    assert!(by.contains(&Verdict::Crash), "{:?}", i.ruled_out);
    assert!(by.contains(&Verdict::Capacity), "{:?}", i.ruled_out);
    assert!(by.contains(&Verdict::Latency), "{:?}", i.ruled_out);
    assert!(!by.contains(&Verdict::Connectivity));
    let cap = i
        .ruled_out
        .iter()
        .find(|r| r.verdict == Verdict::Capacity)
        .unwrap();
    assert!(
        cap.why.contains("never reached pm.max_children"),
        "{}",
        cap.why
    );
    assert!(cap.why.contains("1.0x the background"), "{}", cap.why);
}

#[test]
fn a_reload_just_before_the_first_error_is_named_as_what_changed() {
    let mut ev = vec![Event {
        step: Some(MasterStep::Reload),
        text: b"NOTICE: Reloading in progress ...".as_slice().into(),
        ..fpm(-40, EventKind::FpmReload)
    }];
    for i in 0..10 {
        failure(
            &mut ev,
            i * 2,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
    }
    // nginx marking the upstream failed is a consequence, logged as the
    // failures begin: not a change.
    ev.push(Event {
        text: b"upstream server temporarily disabled while connecting to upstream"
            .as_slice()
            .into(),
        ..at(-1, EventKind::UpstreamWarning)
    });
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.changes.len(), 1, "{:?}", i.changes);
    assert_eq!(i.changes[0].seconds_before_first_error, 40);
    assert_eq!(i.changes[0].file, "php-fpm.log");
}

/// A pasted excerpt: three slowlog traces in one plugin, then php-fpm
/// refusing connections. With no background to compare, nothing shows the
/// traces were more than routine, and slow code does not refuse
/// connections: the refused connects are the incident, without the plugin.
#[test]
fn an_excerpt_s_few_traces_do_not_bear_on_refused_connections() {
    let mut ev: Vec<Event> = (0..3)
        .map(|i| trace(i, "acme-shipping", CallKind::ExternalCall))
        .collect();
    for i in 0..20 {
        ev.push(Event {
            upstream_kind: Some(UpstreamKind::ConnectRefused),
            client: text("203.0.113.9"),
            path: text("/"),
            upstream: text("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
            file: 1,
            line: i as u64 + 1,
            ..at(5 + i, EventKind::UpstreamError)
        });
    }
    let mut window = TimeRange::default();
    window.add(Timestamp::from_unix(T0, 0));
    window.add(Timestamp::from_unix(T0 + 25, 0));
    let input = Input {
        events: ev,
        files: ["paste.log", "error.log", "php-fpm.log", "www-slow.log"]
            .map(String::from)
            .to_vec(),
        window,
        coverage: Coverage {
            error: true,
            slowlog: true,
            ..Coverage::default()
        },
        ..Input::default()
    };
    let a = analyze(&input, &Options::default());
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Connectivity, Cause::FpmDown)
    );
    assert!(i.culprits.is_empty(), "{:#?}", i.culprits);
    assert!(
        !i.contributing_causes.contains(&Cause::ExternalCall),
        "{:?}",
        i.contributing_causes
    );
}

/// Twenty lines of an error log pasted into a ticket: no access log, no
/// background around them.
#[test]
fn a_pasted_excerpt_gets_a_diagnosis_never_an_empty_report() {
    let excerpt = |n: i64| {
        let mut ev = Vec::new();
        for i in 0..n {
            ev.push(Event {
                upstream_kind: Some(UpstreamKind::ConnectRefused),
                client: text("203.0.113.9"),
                path: text("/"),
                upstream: text("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
                file: 1,
                line: i as u64 + 1,
                ..at(i, EventKind::UpstreamError)
            });
        }
        let cov = Coverage {
            error: true,
            ..Coverage::default()
        };
        let mut window = TimeRange::default();
        window.add(Timestamp::from_unix(T0, 0));
        window.add(Timestamp::from_unix(T0 + n, 0));
        let input = Input {
            events: ev,
            files: vec!["paste.log".into(), "error.log".into()],
            window,
            coverage: cov,
            ..Input::default()
        };
        analyze(&input, &Options::default())
    };
    let a = excerpt(20);
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Connectivity, Cause::FpmDown)
    );
    assert_eq!(a.totals.status_502, 20);
    assert_eq!(a.totals.gateway_errors, 20);
    assert!(i.next_steps.iter().any(|s| s.contains("php-fpm log")));
    // One line alone: a finding with its cause, not an empty report.
    let b = excerpt(1);
    assert!(b.incidents.is_empty());
    assert_eq!(b.background.findings.len(), 1);
    assert_eq!(b.background.findings[0].cause, Cause::FpmDown);
}

// Targets named from the incident's own evidence (issue 16): two pools,
// two sockets and two scripts in the window, and only the right one named.

#[test]
fn capacity_names_the_pool_that_reached_its_limit_not_the_first_in_order() {
    let mut ev = vec![
        Event {
            pool: text("ondemand"),
            ..fpm(-30, EventKind::FpmSeemsBusy)
        },
        Event {
            detail: baton_logparse::event::Detail {
                signal: None,
                ..Default::default()
            }
            .boxed(),
            pid: Some(5001),
            pool: text("ondemand"),
            ..fpm(-20, EventKind::FpmChildExit)
        },
        Event {
            detail: baton_logparse::event::Detail {
                number: Some(20),
                ..Default::default()
            }
            .boxed(),
            pool: text("www"),
            ..fpm(0, EventKind::FpmMaxChildren)
        },
    ];
    for i in 0..20 {
        failure(
            &mut ev,
            i * 3,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.cause, Cause::MaxChildren);
    let steps = i.next_steps.join("\n");
    assert!(steps.contains("pool `www`"), "{steps}");
    assert!(!steps.contains("ondemand"), "{steps}");
    assert!(
        i.evidence.iter().any(|e| e.contains("(20) in pool www")),
        "{:?}",
        i.evidence
    );
}

#[test]
fn an_oom_kill_names_what_the_killed_pid_was_serving() {
    let slow = |t: i64, pid: u32, path: &str| Event {
        detail: baton_logparse::event::Detail {
            object: text(&format!("/var/www{path}")),
            ..Default::default()
        }
        .boxed(),
        pid: Some(pid),
        path: text(path),
        ..fpm(t, EventKind::FpmSlowRequest)
    };
    let mut ev = vec![
        slow(-10, 6001, "/stall.php"),
        slow(-8, 6002, "/hog.php"),
        Event {
            detail: baton_logparse::event::Detail {
                process: text("php-fpm8.2"),
                object: text("/system.slice/php8.2-fpm.service"),
                ..Default::default()
            }
            .boxed(),
            pid: Some(6002),
            file: 4,
            ..at(4, EventKind::KernelOomKill)
        },
        child_exit(5, 6002, "SIGKILL"),
    ];
    for i in 0..6 {
        failure(
            &mut ev,
            i,
            502,
            "/hog.php",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.cause, Cause::OomKill);
    let steps = i.next_steps.join("\n");
    assert!(steps.contains("/hog.php"), "{steps}");
    assert!(!steps.contains("/stall.php"), "{steps}");
    assert!(steps.contains("MemoryMax"), "{steps}");
    assert!(!steps.contains("than the box has"), "{steps}");
}

#[test]
fn a_sigkill_with_no_oom_line_is_killed_from_outside_not_an_oom_kill() {
    let mut ev = vec![
        child_exit(1, 6101, "SIGKILL"),
        child_exit(2, 6102, "SIGSEGV"),
        child_exit(3, 6103, "SIGSEGV"),
    ];
    for i in 0..6 {
        failure(
            &mut ev,
            i,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ResetByPeer),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.cause, Cause::Segfault);
    assert!(
        !i.contributing_causes.contains(&Cause::OomKill),
        "{:?}",
        i.contributing_causes
    );
    let said = i.evidence.join("\n");
    assert!(said.contains("3 php-fpm workers died 2 ways"), "{said}");
    assert!(said.contains("with no OOM line"), "{said}");
}

#[test]
fn connectivity_names_the_socket_of_its_own_errors() {
    let mut ev = Vec::new();
    for i in 0..10 {
        let n = ev.len();
        failure(
            &mut ev,
            i * 2,
            502,
            "/",
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
        ev[n + 1].upstream = text("fastcgi://unix:/run/php/shop.sock:");
    }
    // Another socket in the same seconds, failing another way.
    for i in 0..2 {
        let n = ev.len();
        failure(
            &mut ev,
            i * 2 + 1,
            504,
            "/api/",
            50 + i as usize,
            Some(UpstreamKind::TimedOut),
        );
        ev[n + 1].upstream = text("fastcgi://unix:/run/php/api.sock:");
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.cause, Cause::SocketPermission);
    let steps = i.next_steps.join("\n");
    assert!(steps.contains("`unix:/run/php/shop.sock`"), "{steps}");
    assert!(!steps.contains("api.sock"), "{steps}");
}

// The configuration in the diagnosis.

fn run_with_config(
    events: Vec<Event>,
    traffic: Traffic,
    nginx_conf: &str,
    fpm_conf: &str,
    memory: Option<u64>,
) -> Analysis {
    use baton_logparse::config::{ConfigFacts, fpm, nginx};
    let mut window = TimeRange::default();
    window.add(Timestamp::from_unix(T0 - 3600, 0));
    window.add(Timestamp::from_unix(T0 + 3600, 0));
    let n = nginx::parse(nginx_conf.as_bytes(), "/etc/nginx/nginx.conf");
    let f = fpm::parse(fpm_conf.as_bytes(), "/etc/php/8.2/fpm/pool.d/www.conf");
    let input = Input {
        events,
        files: ["access.log", "error.log", "php-fpm.log", "www-slow.log"]
            .map(String::from)
            .to_vec(),
        requests: traffic.minutes.values().map(|m| m.requests).sum(),
        traffic,
        access_ranges: vec![window],
        window,
        coverage: full(),
        config: ConfigFacts {
            memory_bytes: memory,
            memory_source: memory.map(|_| "--memory".to_string()),
            ..ConfigFacts::from_parsed(&[&n], &[&f])
        },
    };
    analyze(&input, &Options::default())
}

const NGINX_CONF: &str = "user nginx;
http {
    server {
        server_name shop.example.com;
        location ~ \\.php$ {
            fastcgi_pass unix:/run/php/php8.2-fpm.sock;
            fastcgi_read_timeout 300;
        }
    }
}
";

const FPM_CONF: &str = "[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = dynamic
pm.max_children = 20
request_terminate_timeout = 60
php_admin_value[memory_limit] = 256M
";

fn saturation() -> Vec<Event> {
    let mut ev = vec![fpm(-2, EventKind::FpmMaxChildren)];
    for i in 0..40 {
        let kind = if i % 3 == 0 {
            UpstreamKind::TimedOut
        } else {
            UpstreamKind::ConnectEagain
        };
        let status = if kind == UpstreamKind::TimedOut {
            504
        } else {
            502
        };
        failure(&mut ev, i as i64 * 5, status, PATHS[i % 5], i, Some(kind));
    }
    ev
}

#[test]
fn capacity_cites_the_pools_settings_and_sizes_it_from_memory() {
    let plain = run(saturation(), full(), traffic(20, None));
    let a = run_with_config(
        saturation(),
        traffic(20, None),
        NGINX_CONF,
        FPM_CONF,
        Some(4 << 30),
    );
    let i = only(&a);
    assert_eq!(i.cause, Cause::MaxChildren);
    let evidence = i.evidence.join("\n");
    assert!(
        evidence.contains(
            "configuration: pool www: pm = dynamic (/etc/php/8.2/fpm/pool.d/www.conf:8), pm.max_children = 20 (/etc/php/8.2/fpm/pool.d/www.conf:9)"
        ),
        "{evidence}"
    );
    assert!(
        i.next_steps[0].starts_with(
            "In pool `www`, `pm.max_children` is 20 with `memory_limit` 256M: 5G of workers at the limit, above the 4G given with --memory: lower `pm.max_children` to 16"
        ),
        "{:?}",
        i.next_steps
    );
    // No slowlog in the pool: latency cannot be ruled out.
    assert!(
        evidence.contains("latency cannot be ruled out: no slowlog (pool www has no slowlog; /etc/php/8.2/fpm/pool.d/www.conf:1)"),
        "{evidence}"
    );
    let before = only(&plain).confidence;
    assert!(i.confidence < before, "{} !< {before}", i.confidence);
    // Timeouts bear on its 504s.
    assert!(
        evidence.contains("nginx waits 300 s (fastcgi_read_timeout (/etc/nginx/nginx.conf:7)); pool www kills requests after 60 s (request_terminate_timeout (/etc/php/8.2/fpm/pool.d/www.conf:10))"),
        "{evidence}"
    );
    assert!(
        i.next_steps.iter().any(|s| s
            .starts_with("`fastcgi_read_timeout` is 300 s and `request_terminate_timeout` 60 s")),
        "{:?}",
        i.next_steps
    );
    // With a slowlog, the capacity verdict keeps its confidence.
    let with_slowlog =
        format!("{FPM_CONF}slowlog = /var/log/www-slow.log\nrequest_slowlog_timeout = 5s\n");
    let a = run_with_config(
        saturation(),
        traffic(20, None),
        NGINX_CONF,
        &with_slowlog,
        None,
    );
    let i = only(&a);
    assert_eq!(i.confidence, before);
    assert!(!i.evidence.join("\n").contains("cannot be ruled out"));
    assert!(
        i.next_steps[0].ends_with(
            "5G of workers at the limit: compare that with the memory PHP may use (`--memory` gives it to baton) before raising `pm.max_children`."
        ),
        "{:?}",
        i.next_steps
    );
}

fn denied() -> Vec<Event> {
    let mut ev = Vec::new();
    for i in 0..50 {
        failure(
            &mut ev,
            i,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEacces),
        );
    }
    ev
}

#[test]
fn permission_cites_the_socket_and_nginx_user_and_socket_access_raises_confidence() {
    let plain = run(denied(), full(), traffic(20, None));
    let a = run_with_config(denied(), traffic(20, None), NGINX_CONF, FPM_CONF, None);
    let i = only(&a);
    assert_eq!(i.cause, Cause::SocketPermission);
    let evidence = i.evidence.join("\n");
    assert!(
        evidence.contains("configuration: pool www's socket /run/php/php8.2-fpm.sock is www-data:www-data 0660 and nginx runs as nginx:nginx (/etc/php/8.2/fpm/pool.d/www.conf:4, /etc/php/8.2/fpm/pool.d/www.conf:5, /etc/php/8.2/fpm/pool.d/www.conf:6, /etc/php/8.2/fpm/pool.d/www.conf:7, /etc/nginx/nginx.conf:1)"),
        "{evidence}"
    );
    assert!(
        evidence
            .contains("the configuration check socket_access agrees: nginx runs as nginx:nginx"),
        "{evidence}"
    );
    assert!(i.confidence > only(&plain).confidence);
    assert!(
        i.next_steps[0].starts_with("nginx runs as `nginx`: in pool `www`"),
        "{:?}",
        i.next_steps
    );
    // A socket nginx may use: facts cited, no raise.
    let open = FPM_CONF.replace("listen.owner = www-data", "listen.owner = nginx");
    let a = run_with_config(denied(), traffic(20, None), NGINX_CONF, &open, None);
    let i = only(&a);
    assert!(!i.evidence.join("\n").contains("socket_access"));
    assert_eq!(i.confidence, only(&plain).confidence);
}

#[test]
fn a_fastcgi_pass_mismatch_raises_a_down_verdict_and_is_cited() {
    let build = || {
        let mut ev = Vec::new();
        for i in 0..30 {
            failure(
                &mut ev,
                i,
                502,
                PATHS[i as usize % 5],
                i as usize,
                Some(UpstreamKind::ConnectEnoent),
            );
        }
        ev
    };
    let plain = run(build(), full(), traffic(20, None));
    let moved = FPM_CONF.replace("php8.2-fpm.sock", "php8.3-fpm.sock");
    let a = run_with_config(build(), traffic(20, None), NGINX_CONF, &moved, None);
    let i = only(&a);
    assert_eq!(i.cause, Cause::FpmDown);
    let evidence = i.evidence.join("\n");
    assert!(
        evidence.contains("configuration: pool www listens on /run/php/php8.3-fpm.sock (/etc/php/8.2/fpm/pool.d/www.conf:4)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("the configuration check fastcgi_pass_mismatch agrees: nginx passes PHP requests to unix:/run/php/php8.2-fpm.sock"),
        "{evidence}"
    );
    assert!(i.confidence > only(&plain).confidence);
    assert!(i.next_steps[0].starts_with("Make nginx's `fastcgi_pass`"));
    // The pool listening where nginx passes: no finding, no raise.
    let a = run_with_config(build(), traffic(20, None), NGINX_CONF, FPM_CONF, None);
    let i = only(&a);
    assert!(!i.evidence.join("\n").contains("fastcgi_pass_mismatch"));
    assert_eq!(i.confidence, only(&plain).confidence);
}

#[test]
fn a_latency_incident_names_both_timeouts() {
    let mut ev = Vec::new();
    for i in 0..30 {
        ev.push(trace(i * 6 - 55, "acme-shipping", CallKind::ExternalCall));
    }
    for i in 0..24 {
        failure(
            &mut ev,
            i * 5,
            504,
            "/wp-admin/admin-ajax.php",
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
    }
    let no_rtt = FPM_CONF.replace("request_terminate_timeout = 60\n", "");
    let a = run_with_config(ev, traffic(20, None), NGINX_CONF, &no_rtt, None);
    let i = only(&a);
    assert_eq!(i.verdict, Verdict::Latency);
    let evidence = i.evidence.join("\n");
    assert!(
        evidence.contains("configuration: nginx waits 300 s (fastcgi_read_timeout (/etc/nginx/nginx.conf:7)); pool www has no request_terminate_timeout (/etc/php/8.2/fpm/pool.d/www.conf:1)"),
        "{evidence}"
    );
    assert!(
        i.next_steps.iter().any(|s| s.starts_with(
            "Set `request_terminate_timeout` in pool `www` a little above the slowest legitimate request and below nginx's `fastcgi_read_timeout` of 300 s"
        )),
        "{:?}",
        i.next_steps
    );
}

/// A MySQL slow-log query logged at `t` (when it finished) after running
/// `secs` seconds.
fn slow_query(t: i64, secs: f64, sql_fp: &str, table: &str, rows: u64) -> Event {
    use baton_logparse::event::QueryFields;
    let digest = sql_fp.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Event {
        detail: baton_logparse::event::Detail {
            query: Some(QueryFields {
                lock_seconds: 0.0,
                rows_examined: rows,
                rows_sent: 10,
                db: text("wordpress"),
                fingerprint: sql_fp.into(),
                digest,
                table: text(table),
            }),
            ..Default::default()
        }
        .boxed(),
        file: 5,
        seconds: Some(secs),
        call: Some(CallKind::Database),
        text: sql_fp.as_bytes().into(),
        ..at(t, EventKind::MysqlSlowQuery)
    }
}

/// The slow log's background: a 0.8 s query every 311 s over two hours
/// (`inside` keeps them during the incident too).
fn background_queries(ev: &mut Vec<Event>, inside: bool) {
    let mut t = -3500;
    while t < 3500 {
        if inside || !(-300..=900).contains(&t) {
            ev.push(slow_query(
                t,
                0.8,
                "select * from wp_postmeta where meta_key = ?",
                "wp_postmeta",
                2000,
            ));
        }
        t += 311;
    }
}

const AUTOLOAD: &str = "select option_name, option_value from wp_options where autoload = ?";

#[test]
fn a_database_stall_seen_only_in_the_mysql_slow_log_is_latency_database_naming_the_table() {
    let mut ev = Vec::new();
    background_queries(&mut ev, false);
    // The autoload query stalls from 30 s before the first 504 on.
    for i in 0..10 {
        ev.push(slow_query(
            12 + i * 10,
            42.0,
            AUTOLOAD,
            "wp_options",
            180_000,
        ));
    }
    for i in 0..15 {
        failure(
            &mut ev,
            i * 8,
            504,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
    }
    let cov = Coverage {
        slowlog: false,
        ..full()
    };
    let queries = ev
        .iter()
        .filter(|e| e.kind == Some(EventKind::MysqlSlowQuery))
        .count() as u64;
    let a = run(ev, cov, traffic(20, None));
    let marked: u64 = a
        .marks
        .iter()
        .filter(|m| m.kind == "slow_query")
        .map(|m| m.count)
        .sum();
    assert_eq!(marked, queries, "every slow query is on the timeline");
    let i = only(&a);
    assert_eq!((i.verdict, i.cause), (Verdict::Latency, Cause::Database));
    assert_eq!(i.handoff, "php-fpm -> mysql");
    let said = i
        .evidence
        .iter()
        .find(|e| e.starts_with("MySQL logged"))
        .unwrap_or_else(|| panic!("{:#?}", i.evidence));
    assert!(said.contains(AUTOLOAD), "{said}");
    assert!(said.contains("10 slow queries"), "{said}");
    assert!(said.contains("table `wp_options`"), "{said}");
    assert!(said.contains("420.0 s in all, at most 42.0 s"), "{said}");
    assert!(said.contains("1800000 rows examined"), "{said}");
    assert!(said.contains("before the first gateway error"), "{said}");
    assert!(
        i.next_steps[0]
            .starts_with("42 s on `wp_options` autoload: look at the size of autoloaded options"),
        "{:#?}",
        i.next_steps
    );
}

#[test]
fn a_slowlog_database_culprit_and_a_slow_query_are_one_sentence() {
    let mut ev = Vec::new();
    for i in 0..12 {
        ev.push(trace(i * 10 - 30, "woo-filter", CallKind::Database));
    }
    for i in 0..6 {
        ev.push(slow_query(i * 15, 30.0, AUTOLOAD, "wp_options", 90_000));
    }
    for i in 0..15 {
        failure(
            &mut ev,
            i * 8,
            504,
            "/shop/",
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!((i.verdict, i.cause), (Verdict::Latency, Cause::Database));
    let joined: Vec<&String> = i
        .evidence
        .iter()
        .filter(|e| e.contains("woo-filter") || e.contains("MySQL logged"))
        .collect();
    assert_eq!(joined.len(), 1, "{:#?}", i.evidence);
    assert!(
        joined[0].contains("while MySQL logged 6 slow queries"),
        "{}",
        joined[0]
    );
    assert!(joined[0].contains("wp_options"), "{}", joined[0]);
}

#[test]
fn slow_queries_at_their_background_level_during_a_saturation_are_not_database() {
    let mut ev = Vec::new();
    background_queries(&mut ev, true);
    ev.push(slow_query(60, 1.5, AUTOLOAD, "wp_options", 3000));
    ev.push(fpm(40, EventKind::FpmMaxChildren));
    for i in 0..40 {
        failure(
            &mut ev,
            45 + i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::MaxChildren)
    );
    assert!(!i.contributing_causes.contains(&Cause::Database));
    assert!(
        !i.evidence.iter().any(|e| e.starts_with("MySQL logged")),
        "{:#?}",
        i.evidence
    );
}

#[test]
fn a_fatal_error_incident_takes_its_plugin_from_the_php_error_log() {
    let mut ev = Vec::new();
    // debug.log: the fatal is in core, its stack trace goes through the
    // plugin (the parser blames the innermost wp-content frame).
    for i in 0..8 {
        ev.push(Event {
            detail: baton_logparse::event::Detail {
                object: text("/var/www/html/wp-includes/class-wp-hook.php"),
                number: Some(324),
                plugin: text("acme-cache"),
                ..Default::default()
            }
            .boxed(),
            file: 6,
            fatal: true,
            php_level: Some(baton_logparse::PhpLevel::Fatal),
            code: Some(CodeKind::Plugin),
            text: b"[24-Nov-2026 10:00:00 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function acme_missing_function() in /var/www/html/wp-includes/class-wp-hook.php:324".as_slice().into(),
            ..at(i * 6, EventKind::PhpMessage)
        });
    }
    // php-fpm logged the same eight in its worker output: one error seen
    // twice is counted once.
    for i in 0..8 {
        ev.push(Event {
            detail: baton_logparse::event::Detail {
                object: text("/var/www/html/wp-content/plugins/acme-cache/acme-cache.php"),
                number: Some(88),
                ..Default::default()
            }
            .boxed(),
            file: 2,
            fatal: true,
            php_level: Some(baton_logparse::PhpLevel::Fatal),
            text: b"WARNING: [pool www] child 31, said into stderr: \"PHP Fatal error:  Uncaught Error: Call to undefined function acme_missing_function()\"".as_slice().into(),
            ..at(i * 6, EventKind::FpmOther)
        });
    }
    // nginx relays nothing: premature closes only.
    for i in 0..8 {
        failure(
            &mut ev,
            i * 6,
            502,
            "/shop/",
            i as usize,
            Some(UpstreamKind::PrematureClose),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!((i.verdict, i.cause), (Verdict::Crash, Cause::FatalError));
    assert_eq!(i.culprits[0].name, "acme-cache", "{:#?}", i.culprits);
    assert_eq!(i.culprits[0].traces, 8, "{:#?}", i.culprits);
    // Its fatal errors are its evidence, not a background finding too.
    assert!(
        a.background.findings.is_empty(),
        "{:#?}",
        a.background.findings
    );
    let marked: u64 = a
        .marks
        .iter()
        .filter(|m| m.kind == "php_fatal")
        .map(|m| m.count)
        .sum();
    // The timeline marks the lines each log wrote.
    assert_eq!(marked, 16);
    assert!(
        i.next_steps[0].contains("acme-cache"),
        "{:#?}",
        i.next_steps
    );
}

/// A PHP fatal error logged by `debug.log` for plugin `slug`, `t` seconds
/// after T0.
fn php_fatal(t: i64, slug: &str, line: i64) -> Event {
    let file = format!("/var/www/html/wp-content/plugins/{slug}/inc/sync.php");
    Event {
        detail: baton_logparse::event::Detail {
            object: text(&file),
            number: Some(line),
            plugin: text(slug),
            ..Default::default()
        }
        .boxed(),
        file: 6,
        line: 100 + t.unsigned_abs(),
        fatal: true,
        php_level: Some(baton_logparse::PhpLevel::Fatal),
        code: Some(CodeKind::Plugin),
        text: format!("PHP Fatal error:  Uncaught TypeError: count(): Argument #1 must be of type Countable in {file}:{line}").into_bytes().into(),
        ..at(t, EventKind::PhpMessage)
    }
}

#[test]
fn recurring_php_fatals_outside_incidents_are_a_background_finding_not_an_incident() {
    // One fatal every ten minutes over the hour, from one plugin, and one
    // from another; no gateway error anywhere (PHP answered 500s).
    let mut ev: Vec<Event> = (0..6)
        .map(|k| php_fatal(-3000 + k * 600, "feed-sync", 41))
        .collect();
    ev.push(php_fatal(120, "old-widget", 7));
    let a = run(ev, full(), traffic(20, None));
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    assert_eq!(
        a.background.findings.len(),
        1,
        "{:#?}",
        a.background.findings
    );
    let f = &a.background.findings[0];
    assert_eq!(
        (f.cause, f.verdict, f.count),
        (Cause::FatalError, Verdict::Crash, 0)
    );
    assert_eq!(f.first.unix_secs(), T0 - 3000);
    assert_eq!(f.last.unix_secs(), T0 + 120);
    assert!(
        f.evidence[0].starts_with("PHP logged 7 fatal errors outside any incident"),
        "{:#?}",
        f.evidence
    );
    assert!(
        f.evidence[1].starts_with("6 fatal errors in plugin `feed-sync`")
            && f.evidence[1].contains("feed-sync/inc/sync.php:41"),
        "{:#?}",
        f.evidence
    );
    assert!(
        f.next_steps[0].contains("`feed-sync`"),
        "{:#?}",
        f.next_steps
    );
    assert_eq!(f.evidence_refs.len(), 6);
    let marked: u64 = a
        .marks
        .iter()
        .filter(|m| m.kind == "php_fatal")
        .map(|m| m.count)
        .sum();
    assert_eq!(marked, 7);
}

#[test]
fn one_php_fatal_alone_is_no_finding() {
    let a = run(
        vec![php_fatal(0, "feed-sync", 41)],
        full(),
        traffic(20, None),
    );
    assert!(
        a.incidents.is_empty() && a.background.findings.is_empty(),
        "{a:#?}"
    );
}

#[test]
fn fatal_errors_of_an_incidents_culprit_just_after_it_are_its_tail_not_background() {
    // An external API stalls `ship-rates` for two minutes: 504s; the
    // workers nginx gave up on fail in PHP 20 to 40 s after the last one
    // (cURL's own timeout). Another plugin's fatals recur in the same
    // minutes: those are background.
    let mut ev = Vec::new();
    for i in 0..12 {
        ev.push(trace(i * 10 - 30, "ship-rates", CallKind::ExternalCall));
    }
    for i in 0..15 {
        failure(
            &mut ev,
            i * 8,
            504,
            "/checkout/",
            i as usize,
            Some(UpstreamKind::TimedOut),
        );
    }
    for k in 0..3 {
        ev.push(php_fatal(132 + k * 10, "ship-rates", 96));
        ev.push(php_fatal(900 + k * 300, "feed-sync", 41));
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Latency, Cause::ExternalCall)
    );
    assert_eq!(i.culprits[0].name, "ship-rates");
    let f: Vec<_> = a
        .background
        .findings
        .iter()
        .filter(|f| f.cause == Cause::FatalError)
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", a.background.findings);
    assert!(
        f[0].evidence[0].starts_with("PHP logged 3 fatal errors"),
        "{:#?}",
        f[0].evidence
    );
    assert!(
        f[0].evidence.iter().all(|e| !e.contains("ship-rates")),
        "{:#?}",
        f[0].evidence
    );
}

/// A lone 504 that waited 60 s, and one slow query of `query_s` that
/// started a second after the request: the cause of the lone failure.
fn lone_timeout_beside_a_query(query_s: f64) -> Cause {
    let mut ev = Vec::new();
    background_queries(&mut ev, false);
    failure(&mut ev, 600, 504, "/shop/", 1, Some(UpstreamKind::TimedOut));
    let n = ev.len() - 2;
    ev[n].seconds = Some(60.0);
    ev.push(slow_query(
        541 + query_s as i64,
        query_s,
        AUTOLOAD,
        "wp_options",
        90_000,
    ));
    let a = run(ev, full(), traffic(20, None));
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    assert_eq!(
        a.background.findings.len(),
        1,
        "{:#?}",
        a.background.findings
    );
    a.background.findings[0].cause
}

#[test]
fn a_query_explains_a_timeout_only_if_it_ran_for_much_of_the_wait() {
    assert_eq!(lone_timeout_beside_a_query(42.0), Cause::Database);
    assert_ne!(lone_timeout_beside_a_query(10.8), Cause::Database);
}

/// A saturated pool (max_children, errno 11 over many paths for 3 minutes)
/// whose slowlog has `database` traces of one plugin during it.
fn saturation_with_database_traces(traces: i64) -> baton_correlate::Incident {
    let mut ev = Vec::new();
    background_traces(&mut ev);
    for k in 0..traces {
        ev.push(trace(60 + k * 40, "related-products", CallKind::Database));
    }
    ev.push(fpm(40, EventKind::FpmMaxChildren));
    for i in 0..45 {
        failure(
            &mut ev,
            45 + i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    only(&a).clone()
}

#[test]
fn two_slow_traces_do_not_make_a_saturated_pool_a_database_incident() {
    // Two database traces in three minutes stand far above the background
    // of such traces, but two are a coincidence, not a pattern: the pool's
    // limit is the first proven broken thing. From three on, the traces
    // are a pattern and the database is blamed.
    let two = saturation_with_database_traces(2);
    assert_eq!(
        (two.verdict, two.cause),
        (Verdict::Capacity, Cause::MaxChildren)
    );
    let three = saturation_with_database_traces(3);
    assert_eq!(
        (three.verdict, three.cause),
        (Verdict::Latency, Cause::Database)
    );
}

#[test]
fn a_lone_error_of_the_same_mode_just_after_an_incident_is_its_end() {
    // Workers segfault every 20 s for 2 min 20 s, then once more 100 s
    // later (past the 90 s chain, inside the 3 min tail), then once 10 min
    // later (background).
    let mut ev = Vec::new();
    let mut crash = |t: i64, k: usize| {
        ev.push(child_exit(t, 9000 + k as u32, "SIGSEGV"));
        failure(
            &mut ev,
            t,
            502,
            PATHS[k % 5],
            k,
            Some(UpstreamKind::ResetByPeer),
        );
    };
    for k in 0..8 {
        crash(k as i64 * 20, k);
    }
    crash(140 + 100, 8);
    crash(240 + 600, 9);
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!((i.verdict, i.cause), (Verdict::Crash, Cause::Segfault));
    assert_eq!(i.gateway_errors, 9);
    assert_eq!(i.end.unix_secs(), T0 + 240);
    assert_eq!(a.background.gateway_errors, 1);
}
#[test]
fn upstream_errors_alone_count_one_gateway_error_per_request() {
    // nginx's error log alone: connection *152 tried two servers for one
    // request, *160 two for another, and *150 one: three requests failed.
    let mut ev = Vec::new();
    for (n, (conn, path, addr)) in [
        (150, "/refused/index.php", "fastcgi://127.0.0.1:9999"),
        (152, "/dead-pool/a.php", "fastcgi://127.0.0.1:9998"),
        (152, "/dead-pool/a.php", "fastcgi://127.0.0.1:9997"),
        (160, "/proxy/health", "http://127.0.0.1:9996/proxy/health"),
        (160, "/proxy/health", "http://[::1]:9995/proxy/health"),
    ]
    .into_iter()
    .enumerate()
    {
        ev.push(Event {
            upstream_kind: Some(UpstreamKind::ConnectRefused),
            connection: Some(conn),
            pid: Some(31577),
            method: text("GET"),
            path: text(path),
            client: text("127.0.0.1"),
            upstream: text(addr),
            file: 1,
            line: n as u64 + 1,
            ..at(0, EventKind::UpstreamError)
        });
    }
    // The same connection asking again a minute later is another request.
    let again = Event {
        time: Some(Timestamp::from_unix(T0 + 60, 0)),
        line: 9,
        ..ev[0].clone()
    };
    ev.push(again);
    let cov = Coverage {
        error: true,
        ..Coverage::default()
    };
    let mut window = TimeRange::default();
    window.add(Timestamp::from_unix(T0, 0));
    window.add(Timestamp::from_unix(T0 + 60, 0));
    let input = Input {
        events: ev,
        files: vec!["access.log".into(), "error.log".into()],
        window,
        coverage: cov,
        ..Input::default()
    };
    let a = analyze(&input, &Options::default());
    assert_eq!(a.totals.gateway_errors, 4);
    assert_eq!(a.totals.status_502, 4);
    let in_incidents: u64 = a.incidents.iter().map(|i| i.gateway_errors).sum();
    assert_eq!(in_incidents + a.background.gateway_errors, 4);
    // The retries stay upstream errors.
    assert_eq!(a.joins.unmatched_error_log, 6);
}

// Two targets in the window: each cause names the one its own evidence
// points at (issue 16).

/// `failure`, with nginx's upstream error sent to `upstream`.
fn failure_to(
    out: &mut Vec<Event>,
    t: i64,
    status: u16,
    path: &str,
    client: usize,
    kind: UpstreamKind,
    upstream: &str,
) {
    let n = out.len();
    failure(out, t, status, path, client, Some(kind));
    out[n + 1].upstream = text(upstream);
}

fn slow_in(t: i64, pool: &str, pid: u32, path: &str) -> Event {
    Event {
        pid: Some(pid),
        path: text(path),
        pool: text(pool),
        ..fpm(t, EventKind::FpmSlowRequest)
    }
}

#[test]
fn a_refused_connect_names_each_address_with_its_count() {
    let mut ev = Vec::new();
    // Three refused connects to :9001, one to :9002.
    for i in 0..4 {
        let to = if i == 2 {
            "fastcgi://127.0.0.1:9002"
        } else {
            "fastcgi://127.0.0.1:9001"
        };
        failure_to(
            &mut ev,
            i,
            502,
            "/",
            i as usize,
            UpstreamKind::ConnectRefused,
            to,
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(i.cause, Cause::FpmDown);
    assert!(
        i.evidence.iter().any(|e| e.starts_with(
            "nginx logged 4 upstream errors `connect_refused` to 127.0.0.1:9001 (3), 127.0.0.1:9002 (1) "
        )),
        "{:#?}",
        i.evidence
    );
    let steps = i.next_steps.join("\n");
    assert!(
        steps.contains("`127.0.0.1:9001` (3 errors), `127.0.0.1:9002` (1 error)"),
        "{steps}"
    );

    // Seven addresses, one error each: a handful named, the rest counted.
    let mut ev = Vec::new();
    for i in 0..7 {
        failure_to(
            &mut ev,
            i,
            502,
            "/",
            i as usize,
            UpstreamKind::ConnectRefused,
            &format!("fastcgi://10.0.1.{i}:9000"),
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let said = only(&a).evidence.join("\n");
    assert!(
        said.contains(
            "`connect_refused` to 10.0.1.0:9000 (1), 10.0.1.1:9000 (1), 10.0.1.2:9000 (1), 10.0.1.3:9000 (1) and 3 more "
        ),
        "{said}"
    );
}

#[test]
fn backlog_full_names_the_pool_of_its_socket_not_the_first_in_order() {
    // Pool `ondemand` is slow on a path that never failed; pool `www`,
    // whose socket overflowed, is slow on the failing path.
    let mut ev = vec![
        slow_in(-20, "ondemand", 7001, "/report/"),
        slow_in(-15, "ondemand", 7002, "/report/"),
        slow_in(-10, "www", 7101, "/shop/"),
    ];
    for i in 0..20 {
        failure_to(
            &mut ev,
            i * 4,
            502,
            "/shop/",
            i as usize,
            UpstreamKind::ConnectEagain,
            "fastcgi://unix:/run/php/php-fpm-www.sock:",
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::BacklogFull)
    );
    assert!(
        i.next_steps[0].starts_with("The listen queue of pool `www` overflowed"),
        "{:#?}",
        i.next_steps
    );
    assert!(!i.next_steps.join("\n").contains("ondemand"));
}

#[test]
fn a_slow_plugin_is_named_from_the_failing_pools_traces_only() {
    let mut ev = Vec::new();
    // Pool www (the failing socket's) blocks in acme-shipping; pool
    // ondemand, more often, in big-report, while its socket answers.
    for i in 0..30 {
        ev.push(trace(i * 6 - 55, "acme-shipping", CallKind::ExternalCall));
    }
    for i in 0..40 {
        ev.push(Event {
            pool: text("ondemand"),
            pid: Some(4343),
            ..trace(i * 4 - 55, "big-report", CallKind::ExternalCall)
        });
    }
    for i in 0..24 {
        failure_to(
            &mut ev,
            i * 5,
            504,
            "/checkout/",
            i as usize,
            UpstreamKind::TimedOut,
            "fastcgi://unix:/run/php/php-fpm-www.sock:",
        );
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Latency, Cause::ExternalCall)
    );
    assert_eq!(i.culprits.len(), 1, "{:#?}", i.culprits);
    assert_eq!(i.culprits[0].name, "acme-shipping");
    assert_eq!(i.culprits[0].traces, 30);
    let steps = i.next_steps.join("\n");
    assert!(steps.contains("plugin `acme-shipping`"), "{steps}");
    assert!(!steps.contains("big-report"), "{steps}");
}

#[test]
fn a_flood_names_the_path_that_carried_the_rise_not_the_most_failing() {
    let mut ev = Vec::new();
    ev.push(fpm(0, EventKind::FpmMaxChildren));
    // Most gateway errors land on /shop/ (its requests queue behind the
    // flood); /wp-login.php carries the rise.
    for i in 0..60 {
        let path = if i % 3 == 0 {
            "/wp-login.php"
        } else {
            "/shop/"
        };
        let kind = if i % 2 == 0 {
            UpstreamKind::ConnectEagain
        } else {
            UpstreamKind::TimedOut
        };
        let status = if i % 2 == 0 { 502 } else { 504 };
        failure(&mut ev, i * 2, status, path, i as usize, Some(kind));
    }
    let t = traffic(20, Some(("/wp-login.php", "", 900, 0, 120)));
    let a = run(ev, full(), t);
    let i = only(&a);
    assert_eq!(
        (i.verdict, i.cause),
        (Verdict::Capacity, Cause::RequestFlood)
    );
    assert_eq!(i.top_paths[0].path, "/shop/");
    assert!(
        i.next_steps[0].starts_with("Name what drives /wp-login.php "),
        "{:#?}",
        i.next_steps
    );
    assert!(
        i.next_steps[1].starts_with("Rate-limit /wp-login.php in nginx"),
        "{:#?}",
        i.next_steps
    );
}

#[test]
fn workers_that_died_several_ways_are_each_named_with_a_step() {
    // pid 8001: OOM-killed at a cgroup's limit while serving /hog.php;
    // pid 8002: SIGSEGV; pid 8003: SIGKILL with no OOM line; pid 8004:
    // cut at request_terminate_timeout.
    let mut ev = vec![
        slow_in(-5, "www", 8001, "/hog.php"),
        slow_in(-5, "www", 8002, "/stall.php"),
        Event {
            detail: baton_logparse::event::Detail {
                process: text("php-fpm8.2"),
                object: text("/system.slice/php8.2-fpm.service"),
                ..Default::default()
            }
            .boxed(),
            pid: Some(8001),
            file: 4,
            line: 500,
            ..at(9, EventKind::KernelOomKill)
        },
        child_exit(2, 8002, "SIGSEGV"),
        child_exit(4, 8003, "SIGKILL"),
        Event {
            pid: Some(8004),
            path: text("/stall.php"),
            ..fpm(6, EventKind::FpmExecutionTimeout)
        },
        child_exit(6, 8004, "SIGTERM"),
        child_exit(9, 8001, "SIGKILL"),
    ];
    for (k, (t, path)) in [
        (0, "/stall.php"),
        (2, "/stall.php"),
        (4, "/"),
        (6, "/stall.php"),
        (9, "/hog.php"),
        (9, "/"),
    ]
    .into_iter()
    .enumerate()
    {
        failure(&mut ev, t, 502, path, k, Some(UpstreamKind::ResetByPeer));
    }
    let a = run(ev, full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(i.cause, Cause::OomKill);
    assert_eq!(
        i.deaths_words().as_deref(),
        Some(
            "4 workers died: 1 OOM-killed (cgroup), 1 SIGSEGV, 1 SIGKILL from outside, 1 request_terminate_timeout"
        )
    );
    let steps = i.next_steps.join("\n");
    assert!(
        steps.contains("Workers also died on SIGSEGV: pid 8002 at 2026-11-24T10:00:02+00:00 (serving /stall.php)"),
        "{steps}"
    );
    assert!(steps.contains("core dump"), "{steps}");
    assert!(
        steps.contains(
            "Find what sent SIGKILL to pid 8003 at 2026-11-24T10:00:04+00:00, with no OOM line"
        ),
        "{steps}"
    );
    assert!(
        steps.contains("php-fpm cut pid 8004 at 2026-11-24T10:00:06+00:00 (serving /stall.php) at `request_terminate_timeout`"),
        "{steps}"
    );
    assert!(steps.contains("`fastcgi_read_timeout`"), "{steps}");

    // The verdict's own death first: the kernel's OOM line of pid 8001,
    // its SIGKILL, the /hog.php request it was serving; then the first
    // gateway error.
    let lines: Vec<(&str, u64)> = i
        .evidence_refs
        .iter()
        .map(|r| (r.file.as_str(), r.line))
        .collect();
    // Eight FPM and kernel events come first, then two lines per
    // failure: the first 502 is access.log:9, the /hog.php one (the fifth)
    // access.log:17.
    assert_eq!(lines[0], ("kern.log", 500), "{lines:?}");
    assert_eq!(lines[1].0, "php-fpm.log", "{lines:?}");
    assert!(
        i.evidence_refs[1]
            .time
            .is_some_and(|t| t.unix_us == (T0 + 9) * 1_000_000)
    );
    assert_eq!(lines[2], ("access.log", 17), "{lines:?}");
    assert_eq!(lines[3], ("access.log", 9), "{lines:?}");
}

// Advice from the playbook, per cause (issue 16, point 7): the knobs an SRE
// would name, and what to collect next when a witness is missing.

#[test]
fn backlog_full_names_listen_backlog_and_somaxconn() {
    let mut ev = Vec::new();
    for i in 0..20 {
        failure(
            &mut ev,
            i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert_eq!(i.cause, Cause::BacklogFull);
    let steps = i.next_steps.join("\n");
    assert!(steps.contains("`listen.backlog`"), "{steps}");
    assert!(steps.contains("`net.core.somaxconn`"), "{steps}");
}

/// An admin-ajax flood on `action`: every failure carries it, and the
/// traffic shows 900 more requests a minute on it.
fn ajax_flood(action: &str) -> baton_correlate::Incident {
    let mut ev = vec![fpm(0, EventKind::FpmMaxChildren)];
    for i in 0..60 {
        let n = ev.len();
        let (status, kind) = match i % 2 {
            0 => (502, UpstreamKind::ConnectEagain),
            _ => (504, UpstreamKind::TimedOut),
        };
        failure(
            &mut ev,
            i * 2,
            status,
            "/wp-admin/admin-ajax.php",
            i as usize,
            Some(kind),
        );
        for e in &mut ev[n..] {
            e.action = text(action);
        }
    }
    let t = traffic(20, Some(("/wp-admin/admin-ajax.php", action, 900, 0, 120)));
    only(&run(ev, full(), t)).clone()
}

#[test]
fn an_admin_ajax_flood_names_its_action_and_never_caches_admin_ajax() {
    for action in ["live_search", "heartbeat"] {
        let i = ajax_flood(action);
        assert_eq!(i.cause, Cause::RequestFlood, "{action}");
        let steps = i.next_steps.join("\n");
        assert!(
            steps.contains(&format!("/wp-admin/admin-ajax.php (action={action})")),
            "{steps}"
        );
        if action == "heartbeat" {
            assert!(steps.contains("Heartbeat interval"), "{steps}");
        }
        // Per-user POSTs: caching them is never the advice.
        for s in &i.next_steps {
            let advises_cache = ["cache it", "Cache ", "cache its", "throttle or cache"]
                .iter()
                .any(|w| s.contains(w));
            assert!(!advises_cache, "{action}: {s}");
        }
    }
}

#[test]
fn a_verdict_reached_without_the_fpm_log_or_slowlog_says_to_collect_them() {
    let mut ev = Vec::new();
    for i in 0..20 {
        failure(
            &mut ev,
            i * 4,
            502,
            PATHS[i as usize % 5],
            i as usize,
            Some(UpstreamKind::ConnectEagain),
        );
    }
    let cov = Coverage {
        access: true,
        error: true,
        ..Coverage::default()
    };
    let i = &run(ev, cov, traffic(20, None)).incidents[0];
    assert_eq!(i.verdict, Verdict::Capacity);
    let confirm = i
        .next_steps
        .iter()
        .find(|s| s.starts_with("To confirm, collect"))
        .unwrap_or_else(|| panic!("{:#?}", i.next_steps));
    assert!(confirm.contains("the php-fpm log"), "{confirm}");
    assert!(confirm.contains("the slowlog"), "{confirm}");
    // A capacity verdict needs no `nginx -T` to be confirmed.
    assert!(!confirm.contains("nginx -T"), "{confirm}");
}

#[test]
fn a_connectivity_verdict_without_nginx_config_asks_for_nginx_t() {
    let a = run(denied(), full(), traffic(20, None));
    let i = only(&a);
    assert_eq!(i.verdict, Verdict::Connectivity);
    assert!(
        i.next_steps
            .iter()
            .any(|s| s.starts_with("To confirm, collect") && s.contains("`nginx -T` output")),
        "{:#?}",
        i.next_steps
    );
    // With nginx's configuration read, nothing more to collect.
    let a = run_with_config(denied(), traffic(20, None), NGINX_CONF, FPM_CONF, None);
    let i = only(&a);
    assert!(
        !i.next_steps.iter().any(|s| s.contains("`nginx -T` output")),
        "{:#?}",
        i.next_steps
    );
}

#[test]
fn one_slow_request_on_one_path_is_said_once_and_at_its_time() {
    let mut ev = saturation();
    ev.push(Event {
        path: text("/slow.php"),
        pid: Some(31545),
        ..fpm(10, EventKind::FpmSlowRequest)
    });
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    let evidence = i.evidence.join("\n");
    assert!(
        evidence.contains(
            "php-fpm logged 1 request `executing too slow` on /slow.php at 2026-11-24T10:00:10+00:00"
        ),
        "{evidence}"
    );
    assert!(!evidence.contains("of them"), "{evidence}");
}

#[test]
fn gateway_errors_all_in_one_second_are_at_that_second() {
    let mut ev = Vec::new();
    for i in 0..6 {
        failure(
            &mut ev,
            0,
            502,
            PATHS[i % 5],
            i,
            Some(UpstreamKind::ConnectRefused),
        );
    }
    let i = &run(ev, full(), traffic(20, None)).incidents[0];
    assert!(
        i.evidence[0].starts_with("6 gateway errors (502 x 6) at 2026-11-24T10:00:00+00:00"),
        "{:#?}",
        i.evidence
    );
}
