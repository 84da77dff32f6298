//! php-fpm: its own log and its slowlog.
//!
//! # The php-fpm log
//!
//! The master's `error_log` file ([`FpmLogParser`], format and framing in
//! its docs) holds lines such as
//!
//! ```text
//! [24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544
//! [24-Nov-2026 11:17:02] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it
//! [24-Nov-2026 11:17:45] WARNING: [pool www] child 31660 exited on signal 11 (SIGSEGV) after 48.610558 seconds from start
//! ```
//!
//! The message after the level is typed by [`classify`], which the journal
//! and syslog readers share: `[pool www] server reached ...` is
//! [`FpmEvent::MaxChildrenReached`], whatever carried it. [`FpmSummary`]
//! counts the events (the `fpm` section of `baton stats`) and tells the
//! master's restarts from its reloads.
//!
//! Messages recognized ([`FpmEvent`]):
//!
//! | event | message |
//! | --- | --- |
//! | `MaxChildrenReached` | `[pool P] server reached pm.max_children setting (N), consider raising it` (ondemand: `max_children setting (N)`) |
//! | `SeemsBusy` | `[pool P] seems busy (...), spawning N children, there are N idle, and N total children` |
//! | `ChildStarted` | `[pool P] child N started` |
//! | `ChildExited` | `[pool P] child N exited with code C after S seconds from start`, `... exited on signal N (SIGNAME[ - core dumped]) after ...` |
//! | `SlowRequest` | `[pool P] child N, script 'F' (request: "M URI") executing too slow (S sec), logging` |
//! | `ExecutionTimeout` | `[pool P] child N, script 'F' (request: "M URI") execution timed out (S sec), terminating` |
//! | `Master` | `fpm is running, pid N`, `ready to handle connections`, `Terminating ...`, `Finishing ...`, `exiting, bye-bye!`, `Reloading in progress ...`, `reloading: execvp(...)` |
//! | `StartupFailure` | `unable to bind listening socket for address 'A': ...`, `FPM initialization failed` |
//! | `WorkerOutput` | `[pool P] child N said into stderr: "..."` (or `stdout`), and undecorated worker output |
//! | `Other` | anything else, with its level |

mod events;
mod fpm_log;
mod fpm_summary;
pub mod slowlog;
#[cfg(test)]
mod tests;

pub use events::{
    ChildExit, DebugOrigin, ExitStatus, FpmEvent, FpmLevel, Master, OutputStream, SlowRequest,
    StartupFailure, WorkerOutput, classify, signal_name, split_debug_prefix,
};
pub use fpm_log::{FpmLogParser, FpmRecord, is_entry_start, split_header};
pub use fpm_summary::{CycleKind, FpmSummary, MasterCycle};
