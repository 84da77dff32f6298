//! `baton-gen`: writes a consistent nginx / PHP-FPM / kernel log set for one
//! WordPress/WooCommerce site, with injected incidents whose causes are
//! known, and `truth.json` saying what was injected.
//!
//! Output (in `--out DIR`): `access.log`, `error.log`, `php-fpm.log`,
//! `www-slow.log`, `kern.log` (`dmesg -T`), `truth.json`. The same options
//! and seed give byte-identical files on every machine.

mod clock;
mod incidents;
mod logs;
mod model;
mod num;
mod rng;
mod stream;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use crate::clock::Zone;
use crate::incidents::Kind;
use crate::logs::AccessFormat;

#[derive(Parser, Debug)]
#[command(
    name = "baton-gen",
    about = "Generate a consistent nginx/PHP-FPM/kernel log set with known incidents"
)]
struct Opts {
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First instant (RFC 3339).
    #[arg(long, default_value = "2026-11-24T08:00:00Z")]
    start: String,
    /// Zone of the logs' local times: UTC, +01:00, -0500 or an IANA name.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// How long the logs cover: 90s, 30m, 2h, 1d, 1h30m.
    #[arg(long, default_value = "2h")]
    duration: String,
    /// Background requests per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Target access-log size (e.g. 500M, 1G); sets the duration.
    #[arg(long)]
    size: Option<String>,
    /// Incidents to inject, comma-separated (default all); `none` for none.
    #[arg(long)]
    incidents: Option<String>,
    /// Fraction of background access lines replaced by malformed ones.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Access-log format: combined, timing or json.
    #[arg(long, default_value = "combined")]
    access_format: String,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn parse_duration(s: &str) -> anyhow::Result<i64> {
    let mut total = 0i64;
    let mut n = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => bail!("bad duration {s:?}"),
        };
        let v: i64 = n.parse().with_context(|| format!("bad duration {s:?}"))?;
        total += v * unit;
        n.clear();
    }
    if !n.is_empty() {
        total += n.parse::<i64>()?;
    }
    if total <= 0 {
        bail!("duration must be positive: {s:?}");
    }
    Ok(total * 1000)
}

fn parse_size(s: &str) -> anyhow::Result<u64> {
    let (num, mult) = match s.trim_end_matches(['B', 'b', 'i']).chars().last() {
        Some('K' | 'k') => (&s[..s.find(['K', 'k']).unwrap()], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.find(['M', 'm']).unwrap()], 1 << 20),
        Some('G' | 'g') => (&s[..s.find(['G', 'g']).unwrap()], 1 << 30),
        _ => (s, 1),
    };
    let v: f64 = num.parse().with_context(|| format!("bad size {s:?}"))?;
    if v <= 0.0 {
        bail!("size must be positive: {s:?}");
    }
    Ok((v * mult as f64) as u64)
}

fn config(o: Opts) -> anyhow::Result<stream::Config> {
    let start = chrono::DateTime::parse_from_rfc3339(&o.start)
        .with_context(|| format!("bad --start {:?} (RFC 3339 expected)", o.start))?
        .timestamp_millis();
    let zone = Zone::parse(&o.tz)?;
    let incidents = match o.incidents.as_deref() {
        None | Some("all") => Kind::ALL.to_vec(),
        Some("none") | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| Kind::parse(k.trim()).with_context(|| format!("unknown incident kind {k:?}")))
            .collect::<anyhow::Result<_>>()?,
    };
    let access_format = match o.access_format.as_str() {
        "combined" => AccessFormat::Combined,
        "timing" => AccessFormat::Timing,
        "json" => AccessFormat::Json,
        f => bail!("unknown --access-format {f:?} (combined, timing, json)"),
    };
    if !(o.rate > 0.0 && o.rate.is_finite()) {
        bail!("--rate must be positive");
    }
    if !(0.0..=1.0).contains(&o.malformed_rate) {
        bail!("--malformed-rate must be within 0..1");
    }
    Ok(stream::Config {
        seed: o.seed,
        start,
        zone,
        zone_name: o.tz,
        duration: parse_duration(&o.duration)?,
        rate: o.rate,
        size: o.size.as_deref().map(parse_size).transpose()?,
        incidents,
        malformed_rate: o.malformed_rate,
        access_format,
        out: Some(o.out),
    })
}

fn run(o: Opts) -> anyhow::Result<()> {
    let cfg = config(o)?;
    let dir = cfg.out.clone().expect("set");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let truth = stream::run(&cfg)?;
    let mut s = serde_json::to_string_pretty(&truth)?;
    s.push('\n');
    std::fs::write(dir.join("truth.json"), s)?;
    Ok(())
}

fn main() -> ExitCode {
    let o = match Opts::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton-gen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("2h").unwrap(), 7_200_000);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("90").unwrap(), 90_000);
        assert!(parse_duration("2x").is_err());
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
    }
}
