//! The progress bar on standard error: bytes read of the inputs' total,
//! rate and time left.
//!
//! The scans never touch the bar. Regular files and plain streams advance
//! one shared counter once per segment or block
//! ([`baton_logparse::ScanOptions::progress`]); compressed inputs are
//! measured by their decoders' counts of compressed bytes
//! ([`baton_logparse::ByteCount`]), against their size on disk. A thread
//! of its own reads those counters about ten times a second on a terminal
//! (once a second on a pipe) and draws with `indicatif`.
//!
//! On a terminal the bar is redrawn in place and cleared when the reading
//! is done, before any output or error is printed. On a pipe (only with
//! `--progress`) it writes one plain line per second and a last one with
//! the totals, so that a log of the run keeps them.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use baton_logparse::ByteCount;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::config;

/// What the drawing thread reads.
#[derive(Debug, Default)]
struct Counters {
    /// Bytes consumed by the scans of uncompressed inputs.
    plain: Arc<AtomicU64>,
    /// The compressed inputs' decoders.
    compressed: Mutex<Vec<ByteCount>>,
    /// Inputs read to their end (or to their failure).
    files_done: AtomicUsize,
    /// Set when the reading is over.
    stop: AtomicBool,
}

impl Counters {
    fn position(&self) -> u64 {
        let compressed: u64 = match self.compressed.lock() {
            Ok(c) => c.iter().map(ByteCount::get).sum(),
            Err(_) => 0,
        };
        self.plain.load(Ordering::Relaxed) + compressed
    }
}

/// A progress bar being drawn; [`Bar::finish`] (or dropping it) stops it.
pub struct Bar {
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// The size of the inputs to read, for the bar's total.
#[derive(Debug, Clone, Copy, Default)]
pub struct Total {
    /// Bytes on disk (compressed inputs count their compressed size);
    /// `None` when an input's size is unknown (standard input, a pipe).
    pub bytes: Option<u64>,
    /// How many inputs.
    pub files: usize,
}

/// Whether to draw: never with `--quiet`, always with `--progress`, else
/// only when standard error is a terminal.
pub fn wanted(mode: config::Progress, stderr_is_terminal: bool) -> bool {
    match mode {
        config::Progress::Never => false,
        config::Progress::Always => true,
        config::Progress::Auto => stderr_is_terminal,
    }
}

impl Bar {
    /// Starts drawing the progress of reading `total`, if `mode` and
    /// standard error call for it.
    pub fn start(mode: config::Progress, total: Total) -> Option<Bar> {
        let terminal = std::io::stderr().is_terminal();
        if !wanted(mode, terminal) {
            return None;
        }
        let counters = Arc::new(Counters::default());
        let lines = Lines::new(Duration::from_secs(1));
        let (target, every) = if terminal {
            (
                ProgressDrawTarget::stderr_with_hz(10),
                Duration::from_millis(100),
            )
        } else {
            (
                ProgressDrawTarget::term_like(Box::new(lines.clone())),
                Duration::from_secs(1),
            )
        };
        let bar = ProgressBar::with_draw_target(total.bytes, target);
        bar.set_style(style(terminal, total.bytes.is_some()));
        let files = total.files;
        bar.set_message(format!("0/{files} files"));
        let c = counters.clone();
        let thread = std::thread::Builder::new()
            .name("baton-progress".to_string())
            .spawn(move || {
                let update = |bar: &ProgressBar| {
                    bar.set_position(c.position());
                    let done = c.files_done.load(Ordering::Relaxed);
                    bar.set_message(format!("{done}/{files} files"));
                };
                while !c.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(every);
                    if c.stop.load(Ordering::Acquire) {
                        break;
                    }
                    update(&bar);
                }
                if terminal {
                    bar.finish_and_clear();
                } else {
                    update(&bar);
                    bar.set_style(done_style(total.bytes.is_some()));
                    lines.last_line();
                    bar.finish();
                }
            })
            .ok()?;
        Some(Bar {
            counters,
            thread: Some(thread),
        })
    }

    /// The counter that scans of uncompressed inputs advance.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counters.plain.clone()
    }

    /// Counts a compressed input's decoder, whose compressed bytes read
    /// measure its progress.
    pub fn watch(&self, count: ByteCount) {
        if let Ok(mut c) = self.counters.compressed.lock() {
            c.push(count);
        }
    }

    /// One input is being read: it counts as done when the guard drops.
    pub fn reading(&self) -> Reading<'_> {
        Reading(self)
    }

    /// Stops drawing: on a terminal the bar is cleared; on a pipe its last
    /// line stays. Returns once the bar is off the screen.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.counters.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// An input being read (see [`Bar::reading`]).
pub struct Reading<'a>(&'a Bar);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.0.counters.files_done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop();
    }
}

fn style(terminal: bool, known_total: bool) -> ProgressStyle {
    let template = match (terminal, known_total) {
        (true, true) => {
            "{binary_bytes:>10} / {binary_total_bytes:<10} [{wide_bar}] {binary_bytes_per_sec:>12}  ETA {eta:>3}  {msg}"
        }
        (true, false) => "{binary_bytes:>10} read  {binary_bytes_per_sec:>12}  {msg}",
        (false, true) => {
            "baton: progress: {binary_bytes} of {binary_total_bytes} ({percent}%), {binary_bytes_per_sec}, ETA {eta}, {msg}"
        }
        (false, false) => "baton: progress: {binary_bytes} read, {binary_bytes_per_sec}, {msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The pipe's last line: what was read, in how long.
fn done_style(known_total: bool) -> ProgressStyle {
    let template = if known_total {
        "baton: progress: read {binary_bytes} of {binary_total_bytes} in {elapsed}, {binary_bytes_per_sec}, {msg}"
    } else {
        "baton: progress: read {binary_bytes} in {elapsed}, {binary_bytes_per_sec}, {msg}"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A draw target for standard error when it is not a terminal: a draw
/// becomes one plain line (no cursor movement, no padding), at most one
/// per `every`, and the last one after [`Lines::last_line`].
#[derive(Debug, Clone)]
struct Lines(Arc<LinesState>);

#[derive(Debug)]
struct LinesState {
    line: Mutex<String>,
    /// When the last line was written (the start, before any).
    last: Mutex<Instant>,
    every: Duration,
    /// Write the next draw whenever it comes.
    last_line: AtomicBool,
}

impl Lines {
    fn new(every: Duration) -> Lines {
        Lines(Arc::new(LinesState {
            line: Mutex::new(String::new()),
            last: Mutex::new(Instant::now()),
            every,
            last_line: AtomicBool::new(false),
        }))
    }

    fn with_line(&self, f: impl FnOnce(&mut String)) {
        if let Ok(mut l) = self.0.line.lock() {
            f(&mut l);
        }
    }

    /// The next draw is the final one: write it.
    fn last_line(&self) {
        self.0.last_line.store(true, Ordering::Release);
    }

    /// Whether a draw now is written.
    fn due(&self) -> bool {
        if self.0.last_line.load(Ordering::Acquire) {
            return true;
        }
        let Ok(mut last) = self.0.last.lock() else {
            return false;
        };
        let now = Instant::now();
        if now.duration_since(*last) < self.0.every {
            return false;
        }
        *last = now;
        true
    }
}

impl TermLike for Lines {
    fn width(&self) -> u16 {
        200
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)?;
        self.flush()
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.with_line(|l| l.push_str(s.trim_start_matches('\r')));
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        let mut out = String::new();
        self.with_line(|l| {
            out = l.trim_end().to_string();
            l.clear();
        });
        if out.is_empty() || !self.due() {
            return Ok(());
        }
        let mut err = std::io::stderr().lock();
        writeln!(err, "{out}")?;
        err.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_on_a_terminal_by_default_never_when_quiet() {
        use config::Progress::*;
        assert!(wanted(Auto, true));
        assert!(!wanted(Auto, false));
        assert!(wanted(Always, false));
        assert!(wanted(Always, true));
        assert!(!wanted(Never, true));
        assert!(!wanted(Never, false));
    }

    #[test]
    fn lines_target_writes_a_line_per_period_and_the_last() {
        let l = Lines::new(Duration::from_secs(3600));
        l.write_str("\rbaton: progress: 1 KiB   ").unwrap();
        l.with_line(|s| assert_eq!(s, "baton: progress: 1 KiB   "));
        assert!(!l.due(), "within the period");
        l.flush().unwrap();
        l.with_line(|s| assert!(s.is_empty()));
        l.last_line();
        assert!(l.due());
        let l = Lines::new(Duration::ZERO);
        assert!(l.due());
    }
}
