//! Any events at all: the correlator never panics, accounts for every
//! gateway error once, and orders incidents by start.

use baton_correlate::{Coverage, Input, Options, analyze};
use baton_logparse::event::MasterStep;
use baton_logparse::fpm::slowlog::CallKind;
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::summary::TimeRange;
use baton_logparse::{Event, EventKind, Timestamp, Traffic, Zone};
use proptest::prelude::*;

fn event() -> impl Strategy<Value = Event> {
    (
        prop::option::weighted(0.95, -4_000i64..4_000),
        0usize..EventKind::ALL.len(),
        prop::option::of(prop::sample::select(vec![200u16, 499, 502, 504, 520, 522])),
        prop::option::of(0usize..UpstreamKind::ALL.len()),
        prop::option::of(1u32..20),
        prop::option::of(prop::sample::select(vec!["SIGSEGV", "SIGKILL", "SIGTERM"])),
        prop::option::of(prop::sample::select(vec![
            "/",
            "/a",
            "/wp-admin/admin-ajax.php",
        ])),
        prop::option::of(-1e12f64..1e12),
        (
            0u8..4,
            0u8..5,
            prop::option::of(prop::sample::select(vec!["php-fpm8.2", "mysqld"])),
        ),
    )
        .prop_map(
            |(t, k, status, up, pid, signal, path, seconds, (step, call, process))| Event {
                detail: baton_logparse::event::Detail {
                    signal: signal.map(Into::into),
                    plugin: Some(b"p"[..].into()),
                    process: process.map(|p| p.as_bytes().into()),
                    ..Default::default()
                }
                .boxed(),
                time: t.map(|t| Timestamp::from_unix(1_795_514_400 + t, 0)),
                kind: Some(EventKind::ALL[k]),
                status,
                upstream_kind: up.map(|u| UpstreamKind::ALL[u]),
                pid,
                path: path.map(|p| p.as_bytes().into()),
                client: Some(b"10.0.0.1"[..].into()),
                seconds,
                step: Some(
                    [
                        MasterStep::Stop,
                        MasterStep::Start,
                        MasterStep::Ready,
                        MasterStep::Reload,
                    ][step as usize],
                ),
                call: Some(CallKind::ALL[call as usize]),
                code: Some(baton_logparse::fpm::slowlog::CodeKind::Plugin),
                ..Event::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn never_panics_and_accounts_for_every_gateway_error(
        events in prop::collection::vec(event(), 0..300),
        zone in prop::sample::select(vec![0i32, 3600, -18000, 19800]),
        window_s in 1u32..600,
    ) {
        let mut window = TimeRange::default();
        for e in &events {
            if let Some(t) = e.time {
                window.add(t);
            }
        }
        let input = Input {
            events,
            files: vec!["a".into()],
            traffic: Traffic::default(),
            access_ranges: vec![window],
            window,
            requests: 0,
            coverage: Coverage { access: true, error: true, ..Coverage::default() },
            config: Default::default(),
        };
        let opts = Options { zone: Zone::Fixed(zone), window_s, ..Options::default() };
        let a = analyze(&input, &opts);
        let in_incidents: u64 = a.incidents.iter().map(|i| i.gateway_errors).sum();
        let edge_only = a.timeline.iter().map(|m| m.edge).sum::<u64>();
        prop_assert_eq!(in_incidents + a.background.gateway_errors, a.totals.gateway_errors + edge_only);
        for w in a.incidents.windows(2) {
            prop_assert!(w[0].start.unix_us <= w[1].start.unix_us);
        }
        for i in &a.incidents {
            prop_assert!((0.0..=1.0).contains(&i.confidence));
            prop_assert_eq!(i.verdict, i.cause.verdict());
            prop_assert!(i.status_502 + i.status_504 <= i.gateway_errors);
        }
    }
}
