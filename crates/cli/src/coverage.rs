//! Which of the inputs read could have shown a gateway error, and over
//! which time: the report never says "no incident" without it.

use baton_correlate::model::{Analysis, Window};
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
        for f in stats.files.iter().filter(|f| holds(&f.summary, format)) {
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

/// Whether a file holds lines of the witness `format`: a mixed stream (a
/// container's stdout and stderr) witnesses as both of the nginx logs it
/// holds.
fn holds(s: &baton_logparse::FileSummary, format: Format) -> bool {
    s.format == format
        || match format {
            Format::NginxAccess => s.access.as_ref().is_some_and(|a| a.requests > 0),
            Format::NginxError => s.error.as_ref().is_some_and(|e| e.entries > 0),
            _ => false,
        }
}

/// Which witness the report's gateway errors were counted from, as the
/// headline says it: the access log, else the error log, else the edge
/// (join.rs counts upstream errors only where no access log covers the
/// time, and edge gateway errors only when no origin log failed them).
/// Told from what was read (`files[].format`) and the joins, so a
/// document read back says the same. `None` when no witness was read.
pub fn counted_from(stats: &Stats, analysis: &Analysis) -> Option<&'static str> {
    let reads = |format| stats.files.iter().any(|f| holds(&f.summary, format));
    let (t, j) = (&analysis.totals, &analysis.joins);
    Some(if reads(Format::NginxAccess) {
        if t.gateway_errors > j.gateway_errors {
            "counted from the access log, and from the error log where no access log covers the time"
        } else {
            "counted from the access log"
        }
    } else if reads(Format::NginxError) {
        "counted from the error log (no access log read)"
    } else if reads(Format::Cloudflare) {
        "counted from the edge (Cloudflare; no nginx log read)"
    } else {
        return None;
    })
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
