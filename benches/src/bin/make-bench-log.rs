//! Builds a large nginx log by repeating real sample lines with shifted
//! timestamps, for the end-to-end benchmark (until the scenario generator
//! exists).
//!
//! ```text
//! make-bench-log access|error SIZE_BYTES OUT SAMPLE...
//! ```
//!
//! Lines of the samples are emitted round-robin; each line's timestamp is
//! replaced by a clock that starts at 2026-11-24 00:00:00 +0000 and advances
//! one second every 200 lines, so times stay monotonic and realistic (many
//! lines per second). Lines without a recognizable timestamp are written
//! as they are, so the output keeps the samples' share of odd lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month, day) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn stamp(kind: &str, t: i64, out: &mut Vec<u8>) {
    let (y, m, d) = civil(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    let (hh, mm, ss) = (s / 3600, s % 3600 / 60, s % 60);
    out.clear();
    if kind == "access" {
        let _ = write!(
            out,
            "{d:02}/{}/{y}:{hh:02}:{mm:02}:{ss:02} +0000",
            MONTHS[m as usize - 1]
        );
    } else {
        let _ = write!(out, "{y}/{m:02}/{d:02} {hh:02}:{mm:02}:{ss:02}");
    }
}

/// The byte range of the line's timestamp, if it has one in place.
fn time_span(kind: &str, line: &[u8]) -> Option<(usize, usize)> {
    if kind == "access" {
        let open = line.iter().position(|&b| b == b'[')?;
        let close = open + 27;
        (line.len() > close && line[close] == b']').then_some((open + 1, close))
    } else {
        (line.len() > 19 && line[4] == b'/' && line[7] == b'/' && line[10] == b' ')
            .then_some((0, 19))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 || !(args[0] == "access" || args[0] == "error") {
        eprintln!("usage: make-bench-log access|error SIZE_BYTES OUT SAMPLE...");
        return ExitCode::from(2);
    }
    let kind = args[0].as_str();
    let Ok(size) = args[1].parse::<u64>() else {
        eprintln!("SIZE_BYTES must be a number of bytes");
        return ExitCode::from(2);
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for path in &args[3..] {
        match std::fs::read(path) {
            Ok(data) => lines.extend(
                data.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| l.to_vec()),
            ),
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(3);
            }
        }
    }
    if lines.is_empty() {
        eprintln!("the samples hold no lines");
        return ExitCode::from(2);
    }
    let file = match File::create(&args[2]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", args[2]);
            return ExitCode::from(3);
        }
    };
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut n = 0u64;
    let start = 1_795_478_400i64; // 2026-11-24T00:00:00Z
    let mut ts = Vec::with_capacity(32);
    let mut last_t = i64::MIN;
    while written < size {
        let line = &lines[(n % lines.len() as u64) as usize];
        let t = start + (n / 200) as i64;
        if t != last_t {
            stamp(kind, t, &mut ts);
            last_t = t;
        }
        let res = match time_span(kind, line) {
            Some((a, b)) => out
                .write_all(&line[..a])
                .and_then(|_| out.write_all(&ts))
                .and_then(|_| out.write_all(&line[b..])),
            None => out.write_all(line),
        }
        .and_then(|_| out.write_all(b"\n"));
        if let Err(e) = res {
            eprintln!("{}: {e}", args[2]);
            return ExitCode::from(3);
        }
        written += line.len() as u64 + 1;
        n += 1;
    }
    if let Err(e) = out.flush() {
        eprintln!("{}: {e}", args[2]);
        return ExitCode::from(3);
    }
    eprintln!("wrote {n} lines, {written} bytes to {}", args[2]);
    ExitCode::SUCCESS
}
