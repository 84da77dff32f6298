//! criterion benchmark of the correlator alone: events in, analysis out.
//!
//! The input is a fixed, built-in day of one site: 20 requests a second,
//! a lone 502 every 17 minutes, background slowlog traces every 5
//! minutes, and one incident an hour cycling through four stories (a pool
//! saturating, a slow external API, segfaulting workers, a php-fpm
//! restart), each with the php-fpm, slowlog and kernel lines that tell it.
//! The bench checks the answer (24 incidents with their verdicts, the lone
//! failures in the background) before it is timed.

use std::hint::black_box;

use baton_correlate::{Cause, Coverage, Input, Options, analyze};
use baton_logparse::event::{MasterStep, Minute, PathCount};
use baton_logparse::fpm::slowlog::{CallKind, CodeKind};
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::summary::TimeRange;
use baton_logparse::{Event, EventKind, Timestamp, Traffic};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// 2026-11-24T00:00:00Z.
const DAY: i64 = 1_795_478_400;
const PATHS: [&str; 6] = [
    "/",
    "/shop/",
    "/cart/",
    "/checkout/",
    "/my-account/",
    "/product/tee/",
];

fn at(t: i64, kind: EventKind, file: u32) -> Event {
    Event {
        time: Some(Timestamp::from_unix(DAY + t, 0)),
        kind: Some(kind),
        file,
        ..Event::default()
    }
}

fn text(s: &str) -> Option<baton_logparse::event::Text> {
    Some(s.as_bytes().into())
}

/// An access-log gateway error and its error-log line.
fn failure(ev: &mut Vec<Event>, t: i64, status: u16, n: usize, kind: UpstreamKind) {
    let (path, client) = (
        PATHS[n % PATHS.len()],
        format!("10.1.{}.{}", n / 250, n % 250),
    );
    ev.push(Event {
        status: Some(status),
        path: text(path),
        client: text(&client),
        line: ev.len() as u64 + 1,
        ..at(t, EventKind::Request, 0)
    });
    ev.push(Event {
        upstream_kind: Some(kind),
        path: text(path),
        client: text(&client),
        upstream: text("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
        line: ev.len() as u64 + 1,
        ..at(t, EventKind::UpstreamError, 1)
    });
}

fn fpm(t: i64, kind: EventKind) -> Event {
    Event {
        pool: text("www"),
        ..at(t, kind, 2)
    }
}

fn trace(t: i64, plugin: &str, call: CallKind, pid: u32) -> Event {
    Event {
        detail: baton_logparse::event::Detail {
            plugin: text(plugin),
            frame: text(&format!(
                "curl_exec() /var/www/html/wp-content/plugins/{plugin}/api.php:88"
            )),
            ..Default::default()
        }
        .boxed(),
        file: 3,
        pid: Some(pid),
        code: Some(CodeKind::Plugin),
        call: Some(call),
        ..fpm(t, EventKind::SlowlogTrace)
    }
}

/// The day's events, and the verdict of each hour's incident.
fn day() -> (Input, Vec<Cause>) {
    let mut ev = Vec::new();
    let mut want = Vec::new();
    let mut n = 0usize;
    // Background: a lone failure every 17 minutes, slow traces of three
    // plugins every 5 minutes, both kept off the incidents' hours' second
    // quarter.
    let quiet = |t: i64| !(900..=2400).contains(&t.rem_euclid(3600));
    for t in (300..86_400).step_by(1020).filter(|&t| quiet(t)) {
        n += 1;
        failure(&mut ev, t, 502, n, UpstreamKind::PrematureClose);
    }
    let bg = [
        ("seo-suite", CallKind::Cpu),
        ("woo-filters", CallKind::Database),
        ("mailer", CallKind::ExternalCall),
    ];
    for (k, t) in (150..86_400).step_by(300).filter(|&t| quiet(t)).enumerate() {
        let (p, c) = bg[k % 3];
        ev.push(trace(t, p, c, 7000 + k as u32));
    }
    for h in 0..24i64 {
        let t0 = h * 3600 + 1200;
        match h % 4 {
            0 => {
                // The pool saturates.
                ev.push(fpm(t0 - 5, EventKind::FpmMaxChildren));
                for i in 0..60 {
                    n += 1;
                    failure(&mut ev, t0 + i * 4, 502, n, UpstreamKind::ConnectEagain);
                }
                want.push(Cause::MaxChildren);
            }
            1 => {
                // A slow external API pins the workers: traces, then timeouts.
                for i in 0..20 {
                    ev.push(trace(
                        t0 - 60 + i * 10,
                        "ship-rates",
                        CallKind::ExternalCall,
                        8000 + i as u32,
                    ));
                }
                for i in 0..60 {
                    n += 1;
                    failure(&mut ev, t0 + i * 4, 504, n, UpstreamKind::TimedOut);
                }
                want.push(Cause::ExternalCall);
            }
            2 => {
                // Workers segfault.
                for i in 0..30 {
                    let pid = 9000 + (h * 100 + i) as u32;
                    ev.push(Event {
                        detail: baton_logparse::event::Detail {
                            signal: Some("SIGSEGV".into()),
                            ..Default::default()
                        }
                        .boxed(),
                        pid: Some(pid),
                        ..fpm(t0 + i * 8, EventKind::FpmChildExit)
                    });
                    n += 1;
                    failure(&mut ev, t0 + i * 8, 502, n, UpstreamKind::ResetByPeer);
                }
                want.push(Cause::Segfault);
            }
            _ => {
                // php-fpm restarted: refused connects while it was down.
                ev.push(Event {
                    step: Some(MasterStep::Stop),
                    ..fpm(t0 - 1, EventKind::FpmRestart)
                });
                ev.push(Event {
                    step: Some(MasterStep::Start),
                    ..fpm(t0 + 25, EventKind::FpmRestart)
                });
                for i in 0..25 {
                    n += 1;
                    failure(&mut ev, t0 + i, 502, n, UpstreamKind::ConnectRefused);
                }
                want.push(Cause::FpmRestart);
            }
        }
    }
    let mut traffic = Traffic::default();
    for m in 0..1440i64 {
        let mut minute = Minute {
            requests: 1200,
            static_requests: 300,
            ..Minute::default()
        };
        for (i, p) in PATHS.iter().enumerate() {
            minute
                .top
                .push(PathCount::new(p.as_bytes(), b"", 150 - i as u64));
        }
        traffic.minutes.insert(DAY / 60 + m, minute);
    }
    let mut window = TimeRange::default();
    window.add(Timestamp::from_unix(DAY, 0));
    window.add(Timestamp::from_unix(DAY + 86_399, 0));
    let input = Input {
        events: ev,
        files: ["access.log", "error.log", "php-fpm.log", "www-slow.log"]
            .map(String::from)
            .to_vec(),
        requests: traffic.minutes.values().map(|m| m.requests).sum(),
        traffic,
        access_ranges: vec![window],
        window,
        coverage: Coverage {
            access: true,
            error: true,
            fpm: true,
            slowlog: true,
            kernel: false,
            edge: false,
        },
        config: Default::default(),
    };
    (input, want)
}

fn correlator(c: &mut Criterion) {
    let (input, want) = day();
    let opts = Options::default();
    let a = analyze(&input, &opts);
    let got: Vec<Cause> = a.incidents.iter().map(|i| i.cause).collect();
    assert_eq!(got, want, "the day's incidents");
    assert!(
        a.background.gateway_errors > 40,
        "the lone failures stay background"
    );
    let mut g = c.benchmark_group("correlator");
    g.throughput(Throughput::Elements(input.events.len() as u64));
    g.bench_function("a day, 24 incidents", |b| {
        b.iter(|| analyze(black_box(&input), &opts))
    });
    g.finish();
}

criterion_group!(benches, correlator);
criterion_main!(benches);
