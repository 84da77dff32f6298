//! Which of the inputs read could have shown a gateway error, and over
//! which time: the report never says "no incident" without it.

use baton_correlate::model::Window;
use baton_logparse::summary::TimeRange;
use baton_logparse::{Format, Timestamp};

use crate::stats::Stats;

/// The formats that can witness a gateway error.
const WITNESSES: [(Format, &str); 3] = [
    (Format::NginxAccess, "access log"),
    (Format::NginxError, "error log"),
    (Format::Cloudflare, "Cloudflare log"),
];

/// One kind of witness and the time its logs covered inside the window.
pub struct Witness {
    /// `access log`, `error log`, `Cloudflare log`.
    pub label: &'static str,
    /// The time covered, cut to the window.
    pub range: TimeRange,
}

/// The witnesses read whose time meets the report's window (the window read,
/// already cut to `--since` / `--until`).
pub fn witnesses(stats: &Stats, window: &Window) -> Vec<Witness> {
    let (lo, hi) = (
        window.start.map(|t| t.unix_us),
        window.end.map(|t| t.unix_us),
    );
    let mut out = Vec::new();
    for (format, label) in WITNESSES {
        let mut range = TimeRange::default();
        // A mixed stream (a container's stdout and stderr) witnesses as
        // both of the nginx logs it holds.
        let holds = |s: &baton_logparse::FileSummary| {
            s.format == format
                || match format {
                    Format::NginxAccess => s.access.as_ref().is_some_and(|a| a.requests > 0),
                    Format::NginxError => s.error.as_ref().is_some_and(|e| e.entries > 0),
                    _ => false,
                }
        };
        for f in stats.files.iter().filter(|f| holds(&f.summary)) {
            range.merge(f.summary.range());
        }
        let (Some(first), Some(last)) = (range.first, range.last) else {
            continue;
        };
        if lo.is_some_and(|lo| last.unix_us < lo) || hi.is_some_and(|hi| first.unix_us > hi) {
            continue;
        }
        let clip = |t: Timestamp| Timestamp {
            unix_us: t
                .unix_us
                .max(lo.unwrap_or(i64::MIN))
                .min(hi.unwrap_or(i64::MAX)),
            ..t
        };
        out.push(Witness {
            label,
            range: TimeRange {
                first: Some(clip(first)),
                last: Some(clip(last)),
            },
        });
    }
    out
}

/// `access log 11:16:51–11:18:16, error log 11:16:50–11:18:20`.
pub fn describe(witnesses: &[Witness]) -> String {
    let parts: Vec<String> = witnesses
        .iter()
        .map(|w| {
            let (Some(a), Some(b)) = (w.range.first, w.range.last) else {
                return w.label.to_string();
            };
            let (a, b) = (a.to_rfc3339(), b.to_rfc3339_at(a.offset_s));
            let same_day = a.get(..10) == b.get(..10);
            let clock = |s: &str| s.get(11..19).unwrap_or(s).to_string();
            if same_day {
                format!("{} {} {}–{}", w.label, &a[..10], clock(&a), clock(&b))
            } else {
                format!("{} {a} – {b}", w.label)
            }
        })
        .collect();
    parts.join(", ")
}

/// When no input can show a gateway error over the window, what to say
/// first: what was read, and why it cannot tell.
pub fn no_witness(stats: &Stats, window: &Window, bounded: bool) -> Option<String> {
    if !witnesses(stats, window).is_empty() {
        return None;
    }
    let n = stats.files.len();
    let mut read = match n {
        0 => "read no file".to_string(),
        1 => "read 1 file".to_string(),
        n => format!("read {n} files"),
    };
    if n > 0 {
        let shown: Vec<String> = stats
            .files
            .iter()
            .take(6)
            .map(|f| format!("{} ({})", f.path, f.summary.format.as_str()))
            .collect();
        read.push_str(": ");
        read.push_str(&shown.join(", "));
        if n > 6 {
            read.push_str(&format!(" and {} more", n - 6));
        }
    }
    let any_witness = stats
        .files
        .iter()
        .any(|f| WITNESSES.iter().any(|(w, _)| *w == f.summary.format));
    Some(if any_witness && bounded {
        format!(
            "{read}; no log that can show a gateway error (nginx access log, nginx error log, Cloudflare) covers the window asked for (--since/--until): nothing can be told about it"
        )
    } else {
        format!(
            "{read}; none is a log that can show a gateway error (nginx access log, nginx error log, Cloudflare): no incident can be told, check the paths"
        )
    })
}
