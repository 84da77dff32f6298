//! Gateway errors and FPM/kernel events per minute, for the timelines.

use std::collections::BTreeMap;

use baton_logparse::event::MasterStep;
use baton_logparse::{EventKind, Traffic};

use crate::index::{Index, S, us};
use crate::model::{Mark, TimelineMinute};
use crate::names::status_of;

fn minute_of(t_us: i64) -> i64 {
    (t_us / S).div_euclid(60) * 60
}

/// Gateway errors per minute.
pub(crate) fn timeline(idx: &Index, gateway: &[usize], traffic: &Traffic) -> Vec<TimelineMinute> {
    let ev = idx.ev;
    let mut m: BTreeMap<i64, TimelineMinute> = BTreeMap::new();
    for &g in gateway {
        let t = minute_of(us(&ev[g]));
        let row = m.entry(t).or_insert_with(|| TimelineMinute {
            t,
            minute: idx.at_us(t * S),
            requests: traffic.minutes.get(&(t / 60)).map_or(0, |x| x.requests),
            ..TimelineMinute::default()
        });
        match (ev[g].kind, status_of(&ev[g])) {
            (Some(EventKind::EdgeRequest), _) => row.edge += 1,
            (_, Some(504)) => row.status_504 += 1,
            _ => row.status_502 += 1,
        }
    }
    m.into_values().collect()
}

/// FPM and kernel events per minute.
pub(crate) fn marks(idx: &Index) -> Vec<Mark> {
    let ev = idx.ev;
    let mut m: BTreeMap<(i64, &'static str), u64> = BTreeMap::new();
    for k in EventKind::ALL {
        for &i in idx.kind(k) {
            let e = &ev[i];
            let kind = match k {
                EventKind::FpmMaxChildren => "max_children",
                EventKind::FpmRestart if e.step == Some(MasterStep::Start) => "restart",
                EventKind::FpmReload if e.step == Some(MasterStep::Reload) => "reload",
                EventKind::FpmChildExit if e.detail().signal.is_some() => "child_signal",
                EventKind::FpmSlowRequest => "slow_request",
                EventKind::FpmExecutionTimeout => "execution_timeout",
                EventKind::KernelOomKill => "oom_kill",
                EventKind::KernelSegfault => "segfault",
                EventKind::MysqlSlowQuery => "slow_query",
                // PHP's own log, or nginx passing on what PHP wrote to
                // stderr: either way a request died in PHP.
                _ if e.fatal => "php_fatal",
                _ => continue,
            };
            *m.entry((minute_of(us(e)), kind)).or_default() += 1;
        }
    }
    m.into_iter()
        .map(|((t, kind), count)| Mark {
            t,
            minute: idx.at_us(t * S),
            kind,
            count,
        })
        .collect()
}
