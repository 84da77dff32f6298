//! Builders for the stages' unit tests: hand-built log lines at seconds
//! from [`T0`], the way the rule tests in `tests/all/rules.rs` build them.
//!
//! Files (the `file` index of each event): 0 access log, 1 nginx error
//! log, 2 php-fpm log, 3 slowlog, 4 kernel log, 5 PHP error log.

use baton_logparse::event::{Detail, MasterStep, Text};
use baton_logparse::fpm::slowlog::{CallKind, CodeKind};
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::{Event, EventKind, Timestamp, Zone};

use crate::index::{Index, S};
use crate::input::Coverage;
use crate::model::{Cause, FpmEvidence, Incident, RequestRate};

/// 2026-11-24T10:00:00Z.
pub(crate) const T0: i64 = 1_795_514_400;

/// `t` seconds after [`T0`], in microseconds (the stages' clock).
pub(crate) fn us_at(t: i64) -> i64 {
    (T0 + t) * S
}

/// `t` seconds after [`T0`], as a UTC timestamp.
pub(crate) fn ts(t: i64) -> Timestamp {
    Timestamp::from_unix(T0 + t, 0)
}

pub(crate) fn text(s: &str) -> Option<Text> {
    Some(s.into())
}

/// An event of `kind` logged `t` seconds after [`T0`].
pub(crate) fn at(t: i64, kind: EventKind) -> Event {
    Event {
        time: Some(ts(t)),
        kind: Some(kind),
        ..Event::default()
    }
}

/// An access-log line with `status` on `path` from client `10.0.0.<client>`.
pub(crate) fn request(t: i64, status: u16, path: &str, client: u8) -> Event {
    Event {
        status: Some(status),
        path: text(path),
        client: text(&format!("10.0.0.{client}")),
        host: text("shop.example.com"),
        file: 0,
        ..at(t, EventKind::Request)
    }
}

/// An nginx error-log upstream error of `kind` for the same request, on
/// the default pool's socket.
pub(crate) fn upstream(t: i64, kind: UpstreamKind, path: &str, client: u8) -> Event {
    Event {
        upstream_kind: Some(kind),
        path: text(path),
        client: text(&format!("10.0.0.{client}")),
        upstream: text("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
        file: 1,
        ..at(t, EventKind::UpstreamError)
    }
}

/// A php-fpm log line of pool `www`.
pub(crate) fn fpm(t: i64, kind: EventKind) -> Event {
    Event {
        file: 2,
        pool: text("www"),
        ..at(t, kind)
    }
}

/// `child <pid> exited on signal <signal>`.
pub(crate) fn child_exit(t: i64, pid: u32, signal: &str) -> Event {
    Event {
        detail: Detail {
            signal: Some(signal.into()),
            ..Default::default()
        }
        .boxed(),
        pid: Some(pid),
        ..fpm(t, EventKind::FpmChildExit)
    }
}

/// The php-fpm master stopping or starting.
pub(crate) fn master(t: i64, step: MasterStep) -> Event {
    Event {
        step: Some(step),
        ..fpm(t, EventKind::FpmRestart)
    }
}

/// A slowlog trace blocked in `plugin` on `call`.
pub(crate) fn trace(t: i64, plugin: &str, call: CallKind) -> Event {
    Event {
        detail: Detail {
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

/// A kernel line of `kind` about `process` (pid `pid`); `t = None` for raw
/// `dmesg` without a clock.
pub(crate) fn kernel(t: Option<i64>, kind: EventKind, pid: u32, process: &str) -> Event {
    Event {
        time: t.map(ts),
        kind: Some(kind),
        file: 4,
        pid: Some(pid),
        detail: Detail {
            process: text(process),
            ..Default::default()
        }
        .boxed(),
        ..Event::default()
    }
}

/// The events numbered by line within their file, as a reader numbers them.
pub(crate) fn numbered(mut ev: Vec<Event>) -> Vec<Event> {
    for (n, e) in ev.iter_mut().enumerate() {
        e.line = n as u64 + 1;
    }
    ev
}

/// The index over `ev`, times shown in UTC.
pub(crate) fn index(ev: &[Event]) -> Index<'_> {
    Index::new(ev, Zone::UTC)
}

/// Every log read but the edge's.
pub(crate) fn full() -> Coverage {
    Coverage {
        access: true,
        error: true,
        fpm: true,
        slowlog: true,
        kernel: true,
        edge: false,
    }
}

/// An incident with nothing in it yet but its cause and time: for the
/// stages that read an incident written before them.
pub(crate) fn blank_incident(cause: Cause, start: i64, end: i64) -> Incident {
    Incident {
        id: 1,
        node: None,
        start: ts(start),
        end: ts(end),
        gateway_errors: 0,
        status_502: 0,
        status_504: 0,
        status_499: 0,
        verdict: cause.verdict(),
        cause,
        contributing_causes: Vec::new(),
        confidence: 0.9,
        handoff: cause.handoff(),
        request_rate: RequestRate::default(),
        hosts: Vec::new(),
        pools: Vec::new(),
        upstreams: Vec::new(),
        top_paths: Vec::new(),
        upstream_errors: Default::default(),
        fpm: FpmEvidence::default(),
        culprits: Vec::new(),
        evidence: Vec::new(),
        evidence_refs: Vec::new(),
        next_steps: Vec::new(),
        phases: Vec::new(),
        ruled_out: Vec::new(),
        changes: Vec::new(),
    }
}
