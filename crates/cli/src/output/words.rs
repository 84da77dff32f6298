//! Numbers in words, shared by the text and HTML reports: thousands
//! separators, plurals, status mixes without zero parts, and shares that
//! say "1 of 6" where a percentage of a handful would mislead.

/// `1,234`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 trace`, `2 traces`, `1,204 gateway errors`: the count with
/// thousands separators and the noun that agrees with it.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// The noun alone: `one` for 1, else `many`.
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The status mix of some gateway errors, zero parts left out:
/// `502 x 5`, `502 x 7, 504 x 1`, or an empty string when both are zero.
/// `times` is the sign between status and count (`x` in text, `×` in
/// HTML).
pub fn statuses(s502: u64, s504: u64, times: &str) -> String {
    let parts: Vec<String> = [(502, s502), (504, s504)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{s} {times} {}", thousands(n)))
        .collect();
    parts.join(", ")
}

/// Below this many, a share is said as `n of total`, not as a percentage.
pub const SMALL_TOTAL: u64 = 20;

/// `n` out of `total` in words: `1 of 6` for a small total, `87%`
/// otherwise (`<1%` rather than a rounded `0%` for a non-zero part).
pub fn share(n: u64, total: u64) -> String {
    if total < SMALL_TOTAL {
        return format!("{} of {}", thousands(n), thousands(total));
    }
    let pct = n as f64 * 100.0 / total as f64;
    if n > 0 && pct < 1.0 {
        "<1%".to_string()
    } else {
        format!("{pct:.0}%")
    }
}

/// A span of seconds: `42s`, `3m42s`, `2h05m`.
pub fn duration(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// How long before an incident's first gateway error something was
/// logged: `24s before the first error`, `at the first error`, or (for a
/// line logged after it) `3s after the first error`.
pub fn before_first_error(secs: i64) -> String {
    match secs {
        0 => "at the first error".to_string(),
        s if s > 0 => format!("{} before the first error", duration(s)),
        s => format!("{} after the first error", duration(-s)),
    }
}

/// The zone line of a report's header: the zone, where it came from, and
/// (when nothing said it: no `--tz`, no offset in any input) that it was
/// assumed and how to set it.
pub fn zone(zone: &str, source: &str) -> String {
    if source == "default UTC" {
        format!(
            "{zone}, assumed: no input carried a UTC offset and no --tz was given \
             (if the logs are in local time, pass --tz, e.g. --tz Europe/Berlin or --tz +01:00)"
        )
    } else {
        format!("{zone} ({source})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_nouns() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7589), "7,589");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(1, "trace", "traces"), "1 trace");
        assert_eq!(count(0, "trace", "traces"), "0 traces");
        assert_eq!(
            count(12_000, "gateway error", "gateway errors"),
            "12,000 gateway errors"
        );
        assert_eq!(noun(1, "file", "files"), "file");
        assert_eq!(noun(2, "file", "files"), "files");
    }

    #[test]
    fn statuses_leave_out_zero_parts() {
        assert_eq!(statuses(5, 0, "x"), "502 x 5");
        assert_eq!(statuses(0, 3, "x"), "504 x 3");
        assert_eq!(statuses(7, 1, "×"), "502 × 7, 504 × 1");
        assert_eq!(statuses(12_345, 0, "x"), "502 x 12,345");
        assert_eq!(statuses(0, 0, "x"), "");
    }

    #[test]
    fn shares_of_a_handful_are_counts() {
        assert_eq!(share(1, 6), "1 of 6");
        assert_eq!(share(19, 19), "19 of 19");
        assert_eq!(share(7, 20), "35%");
        assert_eq!(share(87, 100), "87%");
        assert_eq!(share(1, 1000), "<1%");
        assert_eq!(share(0, 1000), "0%");
    }

    #[test]
    fn durations_and_offsets() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(222), "3m42s");
        assert_eq!(duration(2 * 3600 + 300), "2h05m");
        assert_eq!(before_first_error(24), "24s before the first error");
        assert_eq!(before_first_error(0), "at the first error");
        assert_eq!(before_first_error(-3), "3s after the first error");
    }

    #[test]
    fn an_assumed_zone_says_so() {
        assert_eq!(
            zone("-05:00", "access-log offsets"),
            "-05:00 (access-log offsets)"
        );
        let z = zone("UTC", "default UTC");
        assert!(
            z.starts_with("UTC, assumed: no input carried a UTC offset"),
            "{z}"
        );
        assert!(z.contains("--tz"));
    }
}
