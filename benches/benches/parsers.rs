//! criterion benchmarks of each parser over real lines, in MB/s.
//!
//! Inputs are the vendored samples in `testdata/bench/` repeated to about
//! 8 MiB. Every bench checks its answer before it is timed.

use std::hint::black_box;

use baton_logparse::frame::Lines;
use baton_logparse::scan::{ScanOptions, scan_slice};
use baton_logparse::summary::{AccessSummary, ErrorSummary};
use baton_logparse::{AccessParser, ErrorParser, Format, Zone, detect};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ACCESS: &[u8] = include_bytes!("../../testdata/bench/access.combined.sample");
const ERROR: &[u8] = include_bytes!("../../testdata/bench/error.sample");
const UPSTREAM_TIMING: &[u8] = include_bytes!("../../testdata/sample/access.log");
const JSON: &[u8] = include_bytes!("../../testdata/oracle/lab-phaseA.access.json.log");
/// The lab's `upstream_timing` format, as its nginx.conf declares it.
const LOG_FORMAT: &str = concat!(
    r#"'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '"#,
    r#"'"$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" '"#,
    r#"'uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" '"#,
    r#"'us="$upstream_status" rid=$request_id host=$host proto=$server_protocol'"#,
);

/// `sample` repeated to at least `size` bytes, and how many times.
fn repeat(sample: &[u8], size: usize) -> (Vec<u8>, usize) {
    let n = size.div_ceil(sample.len());
    (sample.repeat(n), n)
}

fn sequential() -> ScanOptions {
    ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    }
}

fn framing(c: &mut Criterion) {
    let (data, n) = repeat(ACCESS, 8 << 20);
    let want = 123 * n;
    assert_eq!(Lines::new(&data).count(), want);
    let mut g = c.benchmark_group("framing");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("lines", |b| b.iter(|| Lines::new(black_box(&data)).count()));
    g.finish();
}

fn access(c: &mut Criterion) {
    let mut g = c.benchmark_group("nginx-access");
    let compiled = AccessParser::from_log_format(LOG_FORMAT).expect("log_format compiles");
    for (name, sample, lines, forced) in [
        ("combined", ACCESS, 123usize, None),
        ("upstream_timing", UPSTREAM_TIMING, 97, None),
        ("json", JSON, 97, None),
        ("log_format", UPSTREAM_TIMING, 97, Some(compiled)),
    ] {
        let (data, n) = repeat(sample, 8 << 20);
        let parser: AccessParser = forced.unwrap_or_else(|| {
            let d = detect(&data);
            assert_eq!(d.format, Format::NginxAccess, "{name}");
            d.access.expect("access parser")
        });
        let (sum, tally) = scan_slice(&data, 0, &parser, &sequential(), &AccessSummary::default);
        assert_eq!(tally.lines, (lines * n) as u64, "{name}");
        assert_eq!(sum.requests, tally.parsed, "{name}");
        assert!(tally.parsed * 10 >= tally.lines * 9, "{name}: {tally:?}");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("{name}/1-thread"), |b| {
            b.iter(|| {
                scan_slice(
                    black_box(&data),
                    0,
                    &parser,
                    &sequential(),
                    &AccessSummary::default,
                )
                .1
                .parsed
            })
        });
        g.bench_function(format!("{name}/parallel"), |b| {
            b.iter(|| {
                scan_slice(
                    black_box(&data),
                    0,
                    &parser,
                    &ScanOptions::default(),
                    &AccessSummary::default,
                )
                .1
                .parsed
            })
        });
    }
    g.finish();
}

fn error(c: &mut Criterion) {
    let (data, n) = repeat(ERROR, 8 << 20);
    let parser = ErrorParser::new(Zone::UTC);
    let (sum, tally) = scan_slice(&data, 0, &parser, &sequential(), &ErrorSummary::default);
    assert_eq!(tally.lines, (170 * n) as u64);
    assert!(sum.upstream_errors.iter().sum::<u64>() > 0);
    let mut g = c.benchmark_group("nginx-error");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("1-thread", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&data),
                0,
                &parser,
                &sequential(),
                &ErrorSummary::default,
            )
            .1
            .parsed
        })
    });
    g.bench_function("parallel", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&data),
                0,
                &parser,
                &ScanOptions::default(),
                &ErrorSummary::default,
            )
            .1
            .parsed
        })
    });
    g.finish();
}

const SLOWLOG: &[u8] = include_bytes!("../../testdata/fpm-slowlog/lab/phaseA/www-slow.log");
const DMESG_T: &[u8] = include_bytes!("../../testdata/kernel/lab/phaseA/dmesg-T.txt");
const CLOUDFLARE: &[u8] = include_bytes!("../../testdata/cloudflare/lnav/logfile_cloudflare.1");
const FPM_LOG: &[u8] = include_bytes!("../../testdata/fpm-log/lab/phaseA/php-fpm.log");
const JOURNAL: &[u8] = include_bytes!("../../testdata/journal/journal.phaseB.short.txt");

fn others(c: &mut Criterion) {
    use baton_logparse::cloudflare::{CloudflareParser, EdgeSummary};
    use baton_logparse::fpm::slowlog::{SlowlogParser, SlowlogSummary};
    use baton_logparse::kernel::{KernelParser, KernelSummary};

    // www-slow.log: 12 traces in 80 lines; dmesg -T: one OOM kill in 88
    // lines; lnav's Cloudflare sample: 15 requests (all hand-counted).
    let (slow, n) = repeat(SLOWLOG, 8 << 20);
    let sp = SlowlogParser::new(Zone::UTC);
    let (sum, t) = scan_slice(&slow, 0, &sp, &sequential(), &SlowlogSummary::default);
    assert_eq!((t.lines, sum.traces), (80 * n as u64, 12 * n as u64));
    let (kern, kn) = repeat(DMESG_T, 8 << 20);
    let kp = KernelParser::new(Zone::UTC);
    let (ks, kt) = scan_slice(&kern, 0, &kp, &sequential(), &KernelSummary::default);
    assert_eq!((kt.lines, ks.oom_kills), (88 * kn as u64, kn as u64));
    let (cf, cn) = repeat(CLOUDFLARE, 8 << 20);
    let cp = CloudflareParser::new();
    let (es, ct) = scan_slice(&cf, 0, &cp, &sequential(), &EdgeSummary::default);
    assert_eq!((ct.parsed, es.requests), (15 * cn as u64, 15 * cn as u64));

    use baton_logparse::fpm::{FpmLogParser, FpmSummary};
    use baton_logparse::journal::{JournalParser, JournalSummary};
    // php-fpm.log (phase A): 125 lines, one max_children line; the phase B
    // journal: 179 lines, 62 php-fpm entries (hand-counted).
    let (fpm, fnn) = repeat(FPM_LOG, 8 << 20);
    let fp = FpmLogParser::new(Zone::UTC);
    let (fs, ft) = scan_slice(&fpm, 0, &fp, &sequential(), &FpmSummary::default);
    assert_eq!(
        (ft.lines, fs.max_children_reached),
        (125 * fnn as u64, fnn as u64)
    );
    let (jr, jn) = repeat(JOURNAL, 8 << 20);
    let jp = JournalParser::new(Zone::UTC, 2026);
    let (js, jt) = scan_slice(&jr, 0, &jp, &sequential(), &JournalSummary::default);
    assert_eq!((jt.lines, js.fpm_lines), (179 * jn as u64, 62 * jn as u64));

    let mut g = c.benchmark_group("others/1-thread");
    g.throughput(Throughput::Bytes(fpm.len() as u64));
    g.bench_function("fpm-log", |b| {
        b.iter(|| {
            scan_slice(black_box(&fpm), 0, &fp, &sequential(), &FpmSummary::default)
                .1
                .parsed
        })
    });
    g.throughput(Throughput::Bytes(jr.len() as u64));
    g.bench_function("journal-short", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&jr),
                0,
                &jp,
                &sequential(),
                &JournalSummary::default,
            )
            .1
            .parsed
        })
    });
    g.throughput(Throughput::Bytes(slow.len() as u64));
    g.bench_function("fpm-slowlog", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&slow),
                0,
                &sp,
                &sequential(),
                &SlowlogSummary::default,
            )
            .1
            .parsed
        })
    });
    g.throughput(Throughput::Bytes(kern.len() as u64));
    g.bench_function("kernel-dmesg-T", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&kern),
                0,
                &kp,
                &sequential(),
                &KernelSummary::default,
            )
            .1
            .parsed
        })
    });
    g.throughput(Throughput::Bytes(cf.len() as u64));
    g.bench_function("cloudflare", |b| {
        b.iter(|| {
            scan_slice(black_box(&cf), 0, &cp, &sequential(), &EdgeSummary::default)
                .1
                .parsed
        })
    });
    g.finish();
}

const DEBUG_LOG: &[u8] = include_bytes!("../../testdata/php-error/debug.log");
const MYSQL_SLOW: &[u8] = include_bytes!("../../testdata/mysql-slow/mariadb-10.11.log");

fn witnesses(c: &mut Criterion) {
    use baton_logparse::mysql_slow::{MysqlSlowParser, MysqlSlowSummary};
    use baton_logparse::php_error::{PhpErrorParser, PhpErrorSummary};

    // debug.log (PHP 8.2): 15 entries in 36 lines; the MariaDB 10.11 slow
    // log: 10 queries in 132 lines, `select sleep(?)` 4 of them
    // (hand-counted).
    let (php, pn) = repeat(DEBUG_LOG, 8 << 20);
    let pp = PhpErrorParser::new(Zone::UTC);
    let (ps, pt) = scan_slice(&php, 0, &pp, &sequential(), &PhpErrorSummary::default);
    assert_eq!(
        (pt.lines, pt.parsed, ps.entries),
        (36 * pn as u64, 36 * pn as u64, 15 * pn as u64)
    );
    let (my, mn) = repeat(MYSQL_SLOW, 8 << 20);
    let mp = MysqlSlowParser::new(Zone::UTC);
    let (ms, mt) = scan_slice(&my, 0, &mp, &sequential(), &MysqlSlowSummary::default);
    assert_eq!(
        (mt.lines, mt.parsed, ms.queries),
        (132 * mn as u64, 132 * mn as u64, 10 * mn as u64)
    );
    assert_eq!(ms.by_digest.len(), 7);
    assert_eq!(ms.top(1)[0].fingerprint, "select sleep(?)");

    let mut g = c.benchmark_group("witnesses/1-thread");
    g.throughput(Throughput::Bytes(php.len() as u64));
    g.bench_function("php-error", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&php),
                0,
                &pp,
                &sequential(),
                &PhpErrorSummary::default,
            )
            .1
            .parsed
        })
    });
    g.throughput(Throughput::Bytes(my.len() as u64));
    g.bench_function("mysql-slow", |b| {
        b.iter(|| {
            scan_slice(
                black_box(&my),
                0,
                &mp,
                &sequential(),
                &MysqlSlowSummary::default,
            )
            .1
            .parsed
        })
    });
    g.finish();
}

/// The access sample as Docker's json-file driver writes a container's
/// stdout: one JSON object a line, the line escaped in `log`.
fn docker_json(plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plain.len() * 3 / 2);
    for line in plain.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        out.extend_from_slice(b"{\"log\":\"");
        for &b in line {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b if b < 0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                b => out.push(b),
            }
        }
        out.extend_from_slice(
            b"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-24T11:17:00.123456789Z\"}\n",
        );
    }
    out
}

/// The same access lines plain and inside Docker's json-file envelope,
/// each read from a file the way `baton stats` reads one (the plain file
/// in parallel segments, the enveloped one in parallel segments unwrapped
/// by their workers), and the enveloped one also as a stream unwrapped on
/// the reader thread (how every envelope came off before): MB/s of the
/// container's lines.
fn envelope(c: &mut Criterion) {
    use std::sync::Arc;

    use baton_logparse::envelope::{Envelope, EnvelopeCounts, Unwrap};
    use baton_logparse::scan::{Tally, scan_file, scan_file_unwrapped, scan_reader};

    let (plain, n) = repeat(ACCESS, 32 << 20);
    let wrapped = docker_json(&plain);
    let dir = std::env::temp_dir();
    let plain_path = dir.join(format!("baton-bench-plain-{}", std::process::id()));
    let wrapped_path = dir.join(format!("baton-bench-docker-{}", std::process::id()));
    std::fs::write(&plain_path, &plain).expect("temp file");
    std::fs::write(&wrapped_path, &wrapped).expect("temp file");
    let open = |p: &std::path::Path| std::fs::File::open(p).expect("temp file");
    let p = AccessParser::default();
    let opts = ScanOptions::default();
    let lines = ACCESS.iter().filter(|&&b| b == b'\n').count() as u64 * n as u64;
    let read_plain = || scan_file(&open(&plain_path), &p, &opts, &AccessSummary::default).tally;
    let read_wrapped = || -> Tally {
        let counts = Arc::new(EnvelopeCounts::default());
        let f = open(&wrapped_path);
        let s = scan_file_unwrapped(
            &f,
            Envelope::DockerJson,
            None,
            &counts,
            &p,
            &opts,
            &AccessSummary::default,
        );
        s.tally
    };
    let read_wrapped_stream = || {
        let u = Unwrap::new(
            open(&wrapped_path),
            Envelope::DockerJson,
            Arc::new(EnvelopeCounts::default()),
        );
        scan_reader(u, &p, &opts, &AccessSummary::default).tally
    };
    let (a, b, s) = (read_plain(), read_wrapped(), read_wrapped_stream());
    // The sample holds some malformed lines on purpose: the same ones are
    // skipped inside the envelope.
    assert_eq!(a.lines, lines);
    assert!(a.parsed * 10 > lines * 9);
    assert_eq!(b, s);
    assert_eq!(
        (b.lines, b.parsed, b.skipped()),
        (a.lines, a.parsed, a.skipped())
    );

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("access, plain file", |bch| {
        bch.iter(|| black_box(read_plain().parsed))
    });
    g.bench_function("access, docker json-file", |bch| {
        bch.iter(|| black_box(read_wrapped().parsed))
    });
    g.bench_function("access, docker json-file, stream reader", |bch| {
        bch.iter(|| black_box(read_wrapped_stream().parsed))
    });
    g.finish();
    let _ = std::fs::remove_file(&plain_path);
    let _ = std::fs::remove_file(&wrapped_path);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = framing, access, error, others, witnesses, envelope
}
criterion_main!(benches);
