//! `baton-gen`: writes a consistent nginx / PHP-FPM / kernel log set for one
//! WordPress/WooCommerce site, with injected incidents whose causes are
//! known, and `truth.json` saying what was injected.
//!
//! Output (in `--out DIR`): `access.log`, `error.log`, `php-fpm.log` (or
//! `php-fpm.journal`), `www-slow.log`, `kern.log` (`dmesg -T`),
//! `cloudflare.log` (with `--cloudflare`), `php-error.log`
//! (`--php-errors`), `mysql-slow.log` (`--mysql-slow`), `nginx-T.txt` and
//! `php-fpm-tt.txt` (`--config`), `truth.json`. The same options
//! and seed give byte-identical files on every machine.

mod clock;
mod container;
mod fleet;
mod heavy;
mod incidents;
mod logs;
mod messy;
mod model;
mod num;
mod rng;
mod stream;
mod witness;

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
    about = "Generate a consistent nginx/PHP-FPM/kernel/Cloudflare log set with known incidents",
    after_help = "Incident kinds: capacity, external_call, database, fpm_restart, socket_permission, \
segfault, oom_kill, request_flood, fpm_down, backlog_full, no_live_upstreams, buffer_config, \
slow_script, fatal_error, edge_only. The default list is every kind in that order, without \
edge_only unless --cloudflare is given (edge_only needs the edge's log). Messy scenarios \
(--messy draws them per seed, or name them in --incidents): cascade_database, \
cascade_external_call, oom_after_raise, checkout_hang, deploy_window, permission_deploy, \
segfault_then_capacity, traffic_surge, campaign_widget. Incidents are spread \
evenly, at least 10 min apart: 14 need 2h35m or more, 15 need 2h46m (--size stretches the time and lowers \
the rate when needed).\n\nBackground: routine php-fpm child recycling and an occasional \
`seems busy`, kernel firewall/perf lines, one OOM kill of mysqld far from any incident (when \
a quiet stretch of 10 min or more exists), and a few isolated 502/504s (one an hour or \
more with --heavy)."
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
    #[arg(long, default_value = "4h")]
    duration: String,
    /// Background requests per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Target access-log size (e.g. 500M, 1G); sets the duration (made
    /// long enough for the incidents' spacing, at a lower rate, if needed).
    #[arg(long)]
    size: Option<String>,
    /// Incidents to inject, comma-separated, in time order; `all` (the
    /// default: see below) or `none`.
    #[arg(long)]
    incidents: Option<String>,
    /// Fraction of background access lines replaced by malformed ones.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Access-log format: combined, main (combined + "$http_x_forwarded_for"),
    /// timing (combined + rt= uct= uht= urt= ua= us= rid= cn=, and cfray=
    /// with --cloudflare) or json.
    #[arg(long, default_value = "combined")]
    access_format: String,
    /// Write cloudflare.log (Logpush http_requests JSON lines) for every
    /// request, with the Ray ID in the access log where the format has room.
    #[arg(long)]
    cloudflare: bool,
    /// php-fpm messages: `file` (php-fpm.log) or `journal` (php-fpm.journal,
    /// `journalctl -o short-iso` lines, systemd's unit lines included).
    #[arg(long, default_value = "file")]
    fpm_log: String,
    /// The messy plan: scenarios drawn per seed (cascades, deploy windows,
    /// surges, two close incidents...), shapes drawn per incident, lone
    /// segfaults and background slow traces. With --incidents, those kinds
    /// in that order, spaced by the messy rules.
    #[arg(long)]
    messy: bool,
    /// A failure-heavy day: 24 h in which about 1 % of the requests are
    /// gateway errors (502/504), in 5 to 8 incidents of 30 to 90 min of
    /// kinds drawn per seed (capacity, external_call, database, segfault,
    /// oom_kill, backlog_full, buffer_config, slow_script, fatal_error),
    /// each with its usual php-fpm, slowlog and kernel evidence, and about
    /// one lone 502/504 an hour besides. --size sets the rate (the day
    /// stays 24 h), else --rate does.
    #[arg(long, conflicts_with_all = ["duration", "incidents", "messy", "nodes"])]
    heavy: bool,
    /// Also write php-error.log: PHP's error_log (WordPress's debug.log
    /// form): background warnings, notices and deprecations, the fatal
    /// errors of the crash and timeout stories (memory exhausted, maximum
    /// execution time, uncaught exceptions with stack traces) and
    /// WordPress database errors in database incidents.
    #[arg(long)]
    php_errors: bool,
    /// Also write mysql-slow.log (MySQL 8 or MariaDB 10/11, drawn per
    /// seed): the statements the database traces wait in, lock waits,
    /// background slow statements, a server start preamble.
    #[arg(long)]
    mysql_slow: bool,
    /// Also write nginx-T.txt and php-fpm-tt.txt (`nginx -T`, `php-fpm8.2
    /// -tt`) consistent with the logs, with mistakes drawn per seed; the
    /// checks they should raise go to truth.json's `config_findings`.
    #[arg(long)]
    config: bool,
    /// Write the containers' streams in a runtime's envelope instead of
    /// access.log, error.log and php-fpm.log: `docker` (json-file, one
    /// file per container), `cri` (containerd's pod logs) or `compose`
    /// (`docker compose logs`, both services in compose.log).
    #[arg(long)]
    container: Option<String>,
    /// A fleet of N web nodes behind one load balancer: one folder per
    /// node (`web1/`, `web2/`, ...) under --out, each a full log set with
    /// its own background (connection numbers and pids collide across
    /// nodes, as on real machines), and incidents drawn per seed: the
    /// shared database or external API stalling on several nodes within a
    /// minute or so, a rolling deploy restarting php-fpm node after node,
    /// and incidents of one node alone. `truth.json` per node, and the
    /// fleet's `truth.json` (fleet incidents, their nodes, the first node,
    /// what they share) at the top. --size is each node's.
    #[arg(long, value_name = "N")]
    nodes: Option<usize>,
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
        None if o.messy || o.heavy => Vec::new(),
        None | Some("all") => Kind::ALL
            .into_iter()
            .filter(|&k| o.cloudflare || k != Kind::EdgeOnly)
            .collect(),
        Some("none") | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                Kind::parse(k.trim()).with_context(|| {
                    let all: Vec<_> = Kind::ALL
                        .iter()
                        .chain(&Kind::SCENARIOS)
                        .map(|k| k.name())
                        .collect();
                    format!("unknown incident kind {k:?} (one of {})", all.join(", "))
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let access_format = match o.access_format.as_str() {
        "combined" => AccessFormat::Combined,
        "main" => AccessFormat::Main,
        "timing" => AccessFormat::Timing,
        "json" => AccessFormat::Json,
        f => bail!("unknown --access-format {f:?} (combined, main, timing, json)"),
    };
    let fpm_journal = match o.fpm_log.as_str() {
        "file" => false,
        "journal" => true,
        f => bail!("unknown --fpm-log {f:?} (file, journal)"),
    };
    if incidents.contains(&Kind::EdgeOnly) && !o.cloudflare {
        bail!(
            "edge_only needs the edge's log: add --cloudflare (or leave edge_only out of --incidents)"
        );
    }
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
        cloudflare: o.cloudflare,
        fpm_journal,
        messy: o.messy,
        heavy: o.heavy,
        witnesses: witness::Witnesses {
            php_errors: o.php_errors,
            mysql_slow: o.mysql_slow,
            config: o.config,
        },
        out: Some(o.out),
        ids_seed: None,
        placed: None,
    })
}

fn run(o: Opts) -> anyhow::Result<()> {
    let runtime = match o.container.as_deref() {
        None => None,
        Some(r) => Some(
            container::Runtime::parse(r)
                .with_context(|| format!("unknown --container {r:?} (docker, cri, compose)"))?,
        ),
    };
    if runtime.is_some() && o.fpm_log != "file" {
        bail!("--container writes php-fpm's stderr: it needs --fpm-log file");
    }
    let nodes = o.nodes;
    if nodes.is_some() && (o.messy || o.incidents.is_some()) {
        bail!("--nodes draws every node's incidents itself: leave out --messy and --incidents");
    }
    let mut cfg = config(o)?;
    let dir = cfg.out.clone().expect("set");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(n) = nodes {
        cfg.incidents.clear();
        return fleet::run(&cfg, n, |c| write_set(c, runtime));
    }
    write_set(&cfg, runtime).map(|_| ())
}

/// Writes one log set and its `truth.json` into `cfg.out`; returns the
/// truth.
fn write_set(
    cfg: &stream::Config,
    runtime: Option<container::Runtime>,
) -> anyhow::Result<serde_json::Value> {
    let dir = cfg.out.clone().expect("set");
    let mut truth = stream::run(cfg)?;
    if let Some(rt) = runtime {
        let files = container::wrap(&dir, rt, cfg.zone, "php-fpm.log", cfg.seed)?;
        let lines: serde_json::Map<String, serde_json::Value> =
            files.into_iter().map(|(f, n)| (f, n.into())).collect();
        truth["container"] = serde_json::json!({"runtime": rt.name(), "lines": lines});
    }
    let mut s = serde_json::to_string_pretty(&truth)?;
    s.push('\n');
    std::fs::write(dir.join("truth.json"), s)?;
    Ok(truth)
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
