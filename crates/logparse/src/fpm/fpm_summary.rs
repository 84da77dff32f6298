//! Counts of php-fpm events (the `fpm` section of `baton stats`), with the
//! master's restarts and reloads told apart across parallel chunks.

use std::collections::BTreeMap;

use crate::frame::Loc;
use crate::php::{PhpCounts, PhpLevel};
use crate::scan::Sink;
use crate::time::TimeRange;
use crate::time::Timestamp;

use super::events::{ExitStatus, FpmEvent, Master, StartupFailure, signal_name};
use super::fpm_log::{FpmLogParser, FpmRecord};

/// Whether a master start was a restart or a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CycleKind {
    /// A master start not preceded by a reload in progress: a cold start,
    /// or a start after a stop (`Terminating ...`, `Finishing ...`,
    /// `exiting, bye-bye!`).
    Restart,
    /// `Reloading in progress ...` → `reloading: execvp(...)` → `fpm is running`.
    Reload,
}

/// One master start (`fpm is running, pid N`) and what led to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterCycle {
    /// Restart or reload.
    pub kind: CycleKind,
    /// When the master began stopping (the first of `Terminating ...`,
    /// `Finishing ...`, `exiting, bye-bye!` before the start) or reloading
    /// (`Reloading in progress ...`, else `reloading: execvp`); `None` for
    /// a cold start (no stop seen before it) or an untimed line.
    pub start: Option<Timestamp>,
    /// When the new master ran (`fpm is running`).
    pub end: Option<Timestamp>,
    /// The new master's pid.
    pub pid: u32,
}

impl MasterCycle {
    /// Microseconds from `start` to `end`, when both are known.
    pub fn gap_us(&self) -> Option<i64> {
        Some(self.end?.unix_us - self.start?.unix_us)
    }
}

/// What the master was doing, as far as this sink's records tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// No lifecycle event seen yet: whatever came before decides.
    #[default]
    Unknown,
    /// Running (or never seen stopping).
    Idle,
    /// Stopping since the first stop event. `inherit`: every lifecycle
    /// event of this sink so far was a stop, so an earlier sink that was
    /// already stopping keeps its start.
    Stopping {
        since: Option<Timestamp>,
        inherit: bool,
    },
    /// Reloading since the first reload event (`inherit` likewise).
    Reloading {
        since: Option<Timestamp>,
        inherit: bool,
    },
}

impl State {
    /// The state after a stop event at `t`.
    fn stop(self, t: Option<Timestamp>) -> State {
        match self {
            State::Stopping { .. } => self,
            State::Unknown => State::Stopping {
                since: t,
                inherit: true,
            },
            _ => State::Stopping {
                since: t,
                inherit: false,
            },
        }
    }

    /// The state after a reload event at `t`.
    fn reload(self, t: Option<Timestamp>) -> State {
        match self {
            State::Reloading { .. } => self,
            State::Unknown => State::Reloading {
                since: t,
                inherit: true,
            },
            _ => State::Reloading {
                since: t,
                inherit: false,
            },
        }
    }

    /// The state reached by running `self`'s events, then `later`'s.
    fn then(self, later: State) -> State {
        match (self, later) {
            (s, State::Unknown) => s,
            (State::Unknown, l) => l,
            (s @ State::Stopping { .. }, State::Stopping { inherit: true, .. }) => s,
            (s @ State::Reloading { .. }, State::Reloading { inherit: true, .. }) => s,
            (_, State::Stopping { since, .. }) => State::Stopping {
                since,
                inherit: false,
            },
            (_, State::Reloading { since, .. }) => State::Reloading {
                since,
                inherit: false,
            },
            (_, State::Idle) => State::Idle,
        }
    }

    /// Whether everything before this state, in this sink, may still be
    /// changed by an earlier sink.
    fn open(self) -> bool {
        matches!(
            self,
            State::Unknown
                | State::Stopping { inherit: true, .. }
                | State::Reloading { inherit: true, .. }
        )
    }

    /// What a master start in this state was.
    fn cycle(self, end: Option<Timestamp>, pid: u32) -> MasterCycle {
        let (kind, start) = match self {
            State::Unknown | State::Idle => (CycleKind::Restart, None),
            State::Stopping { since, .. } => (CycleKind::Restart, since),
            State::Reloading { since, .. } => (CycleKind::Reload, since),
        };
        MasterCycle {
            kind,
            start,
            end,
            pid,
        }
    }
}

/// Counts of php-fpm events: exactly the `fpm` section of
/// `baton.stats.v1`, plus a few more.
///
/// Feed it records of the php-fpm log (it is a [`Sink`] of
/// [`FpmLogParser`]), or events classified elsewhere (the journal) with
/// [`FpmSummary::add_event`], in input order. Restarts and reloads are
/// told apart across parallel chunks: each sink keeps the master's state
/// at its end and its first start unresolved until
/// [`FpmSummary::append_chunk`] learns what came before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FpmSummary {
    /// Records seen.
    pub entries: u64,
    /// `server reached pm.max_children setting (N)` lines.
    pub max_children_reached: u64,
    /// `seems busy` lines.
    pub seems_busy: u64,
    /// Children exiting on a signal, by signal name (`SIGSEGV` → count);
    /// signal exits only. The name is the one FPM printed, else the Linux
    /// name of the number, else `SIG` and the number.
    pub child_signals: BTreeMap<String, u64>,
    /// Every child exit (`exited with code N` and `exited on signal N`).
    pub child_exits: u64,
    /// `executing too slow` lines.
    pub slow_requests: u64,
    /// `execution timed out` lines.
    pub execution_timeouts: u64,
    /// Master starts (`fpm is running, pid N`) that are not part of a
    /// reload.
    pub restarts: u64,
    /// Reloads: master starts after `Reloading in progress ...` /
    /// `reloading: execvp(...)`.
    pub reloads: u64,
    /// `unable to bind listening socket` and `FPM initialization failed`.
    pub startup_failures: u64,
    /// Worker-output records (one per record, however many lines).
    pub worker_output: u64,
    /// Worker output carrying a fatal PHP message (`Fatal error`, memory
    /// exhaustion, the execution time limit).
    pub php_fatal_errors: u64,
    /// Worker output carrying a PHP message, by level (one per record).
    pub php_messages: PhpCounts,
    /// Records without a time (undecorated worker output, or untimed
    /// journal lines).
    pub untimed: u64,
    /// Every master start, in input order.
    pub cycles: Vec<MasterCycle>,
    /// Times seen.
    pub range: TimeRange,
    /// The master's state after the last event.
    state: State,
    /// `cycles[0]` was classified from this sink's own records alone,
    /// with `leading_pre` the state before it: an earlier sink may change
    /// it.
    leading: bool,
    leading_pre: State,
}

impl FpmSummary {
    /// Counts one event at `time` (for callers, such as the journal
    /// reader, that classify php-fpm messages themselves with
    /// [`super::classify`]). Events must come in input order.
    pub fn add_event(&mut self, ev: &FpmEvent<'_>, time: Option<Timestamp>) {
        self.entries += 1;
        match time {
            Some(t) => self.range.add(t),
            None => self.untimed += 1,
        }
        match ev {
            FpmEvent::MaxChildrenReached { .. } => self.max_children_reached += 1,
            FpmEvent::SeemsBusy { .. } => self.seems_busy += 1,
            FpmEvent::ChildExited(e) => {
                self.child_exits += 1;
                if let ExitStatus::Signal { number, name, .. } = e.status {
                    self.count_signal(number, name);
                }
            }
            FpmEvent::SlowRequest(_) => self.slow_requests += 1,
            FpmEvent::ExecutionTimeout(_) => self.execution_timeouts += 1,
            FpmEvent::StartupFailure(StartupFailure::Bind { .. } | StartupFailure::InitFailed) => {
                self.startup_failures += 1
            }
            FpmEvent::WorkerOutput(w) => {
                self.worker_output += 1;
                if let Some(level) = w.php_level() {
                    self.php_messages.add(level);
                    self.php_fatal_errors += (level == PhpLevel::Fatal) as u64;
                }
            }
            FpmEvent::Master(m) => self.master(m, time),
            FpmEvent::ChildStarted { .. } | FpmEvent::Other { .. } => {}
        }
    }

    fn count_signal(&mut self, number: u32, name: &[u8]) {
        let valid = name.len() > 3
            && name.starts_with(b"SIG")
            && name
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'+');
        if valid
            && let Ok(name) = std::str::from_utf8(name)
            && let Some(n) = self.child_signals.get_mut(name)
        {
            *n += 1;
            return;
        }
        let name: String = match (valid, signal_name(number)) {
            (true, _) => String::from_utf8_lossy(name).into_owned(),
            (false, Some(n)) => n.to_owned(),
            (false, None) => format!("SIG{number}"),
        };
        *self.child_signals.entry(name).or_default() += 1;
    }

    fn master(&mut self, m: &Master<'_>, time: Option<Timestamp>) {
        match m {
            Master::Terminating | Master::Finishing | Master::Exiting => {
                self.state = self.state.stop(time);
            }
            Master::ReloadingInProgress | Master::Reloading { .. } => {
                self.state = self.state.reload(time);
            }
            Master::Running { pid } => {
                let c = self.state.cycle(time, *pid);
                if self.cycles.is_empty() && self.state.open() {
                    self.leading = true;
                    self.leading_pre = self.state;
                }
                self.count_cycle(c.kind, 1);
                self.cycles.push(c);
                self.state = State::Idle;
            }
            Master::Ready => {}
        }
    }

    fn count_cycle(&mut self, kind: CycleKind, n: i64) {
        let c = match kind {
            CycleKind::Restart => &mut self.restarts,
            CycleKind::Reload => &mut self.reloads,
        };
        *c = c.wrapping_add_signed(n);
    }

    /// Appends the summary of the part of the same input that follows this
    /// one (a later parallel chunk or block): counts are added, and the
    /// later part's first master start is classified again in the light
    /// of this part's state at its end. [`Sink::append`] calls it.
    pub fn append_chunk(&mut self, mut later: FpmSummary) {
        if later.leading {
            let pre = self.state.then(later.leading_pre);
            let old = later.cycles[0];
            let new = pre.cycle(old.end, old.pid);
            later.count_cycle(old.kind, -1);
            later.count_cycle(new.kind, 1);
            later.cycles[0] = new;
            if self.cycles.is_empty() && pre.open() {
                self.leading = true;
                self.leading_pre = pre;
            }
        }
        self.state = self.state.then(later.state);
        self.add_counts(&later);
        self.cycles.extend(later.cycles);
    }

    /// Moves every time this summary keeps (its range, its cycles and the
    /// master's pending state) by `f`: for readers that re-date a later
    /// chunk, such as the journal after a New Year it could not see.
    pub fn map_times(&mut self, f: impl Fn(Timestamp) -> Timestamp) {
        self.range.first = self.range.first.map(&f);
        self.range.last = self.range.last.map(&f);
        for c in &mut self.cycles {
            c.start = c.start.map(&f);
            c.end = c.end.map(&f);
        }
        for st in [&mut self.state, &mut self.leading_pre] {
            if let State::Stopping { since, .. } | State::Reloading { since, .. } = st {
                *since = since.map(&f);
            }
        }
    }

    /// Adds another input's counts (totals across files; no state is
    /// carried from one input to the next).
    pub fn merge(&mut self, other: &FpmSummary) {
        self.add_counts(other);
        self.cycles.extend_from_slice(&other.cycles);
    }

    fn add_counts(&mut self, o: &FpmSummary) {
        self.entries += o.entries;
        self.max_children_reached += o.max_children_reached;
        self.seems_busy += o.seems_busy;
        for (k, v) in &o.child_signals {
            match self.child_signals.get_mut(k) {
                Some(n) => *n += v,
                None => {
                    self.child_signals.insert(k.clone(), *v);
                }
            }
        }
        self.child_exits += o.child_exits;
        self.slow_requests += o.slow_requests;
        self.execution_timeouts += o.execution_timeouts;
        self.restarts += o.restarts;
        self.reloads += o.reloads;
        self.startup_failures += o.startup_failures;
        self.worker_output += o.worker_output;
        self.php_fatal_errors += o.php_fatal_errors;
        self.php_messages.merge(&o.php_messages);
        self.untimed += o.untimed;
        self.range.merge(o.range);
    }
}

impl Sink<FpmLogParser> for FpmSummary {
    #[inline]
    fn record(&mut self, r: FpmRecord<'_>, _loc: Loc) {
        self.add_event(&r.event, r.time);
    }

    fn append(&mut self, later: FpmSummary, _line_shift: u64) {
        self.append_chunk(later);
    }
}
