//! Issue 19, honesty: a format whose parser accepts a sample's records
//! but draws no event from them, while another format draws events from
//! the same records, is a detection mistake (the upstream error and the
//! SIGKILL inside `docker logs -t` and CRI lines once vanished that way,
//! read as a journal). For every sample in `testdata/` and the issue's
//! pasted lines: when detection's format gives no event, no other format
//! gives one either. (`unknown` and the configurations are let be: see
//! [`mistakes`].)

use std::io::Cursor;
use std::path::{Path, PathBuf};

use baton_logparse::detect::{DETECT_BYTES, Detected, detect, detect_as};
use baton_logparse::summary::{Source, TimeConfig, summarize};
use baton_logparse::{AccessParser, Collect, Format, ScanOptions, Zone};

/// The pasted lines (as in the CLI's containers tests).
const PASTED: [(&str, &str); 5] = [
    (
        "docker logs -t",
        "2017-05-10T06:50:00.434167704Z 2017/05/10 06:50:00 [error] 23#23: *423240 connect() to unix:/var/run/php-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 172.17.0.1, server: localhost, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/var/run/php-fpm.sock:\", host: \"localhost\"\n",
    ),
    (
        "cri",
        "2023-11-06T21:09:49.65381919Z stderr F [06-Nov-2023 21:09:49] WARNING: [pool www] child 132 exited on signal 9 (SIGKILL) after 1017.285544 seconds from start\n",
    ),
    (
        "compose access",
        "server_1  | 128.14.209.162 - - [04/Jun/2020:10:11:12 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"Mozilla/5.0\"\n",
    ),
    (
        "compose fpm",
        "wordpress_1  | [04-Jun-2020 10:11:12] WARNING: [pool www] child 132 exited on signal 9 (SIGKILL) after 1017.285544 seconds from start\n",
    ),
    (
        "syslog",
        "Nov 24 11:17:00 vm nginx[123]: 2026/11/24 11:17:00 [error] 23#23: *1 connect() to unix:/run/php/php-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php-fpm.sock:\", host: \"a\"\nNov 24 11:21:49 vm php-fpm:  [WARNING] fpm_children_bury(), line 252: [pool www] child 14226 exited on signal 15 (SIGTERM) after 7189.199345 seconds from start\n",
    ),
];

/// How many events reading `bytes` as `detected` gives.
fn events(bytes: &[u8], detected: &Detected) -> usize {
    let time = TimeConfig {
        zone: Zone::UTC,
        year: Some(2026),
        boot_time: None,
    };
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let collect = Collect {
        events: true,
        all_requests: true,
        all_edge: true,
        // PHP messages below `parse` are not events the report reads (a
        // `php-fpm -tt` dump's NOTICE lines read as PHP messages of no
        // level).
        all_php: false,
        defer_text: false,
    };
    let source = Source::Stream(Box::new(Cursor::new(bytes.to_vec())));
    summarize(source, detected, &time, &opts, collect)
        .events
        .len()
}

/// What `--as format` would read.
fn forced(sample: &[u8], format: Format) -> Detected {
    let mut d = detect_as(sample, format);
    if format == Format::NginxAccess && d.access.is_none() {
        d.access = Some(AccessParser::default());
    }
    d
}

/// The mistakes in one sample: formats that draw events from it when the
/// detected one draws none.
fn mistakes(name: &str, bytes: &[u8]) -> Vec<String> {
    let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
    let detected = detect(sample);
    // `unknown` picks no parser: every line is counted skipped, in plain
    // sight. A configuration gives facts, not events.
    if matches!(
        detected.format,
        Format::Unknown | Format::NginxConfig | Format::FpmConfig
    ) || events(bytes, &detected) > 0
    {
        return Vec::new();
    }
    Format::READABLE
        .iter()
        .filter(|f| **f != detected.format)
        .filter_map(|&f| {
            let n = events(bytes, &forced(sample, f));
            (n > 0).then(|| {
                format!(
                    "{name}: detected {} with no event, {f} gives {n}",
                    detected.format
                )
            })
        })
        .collect()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn detection_never_hides_the_events_another_format_sees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut all = Vec::new();
    files(&root, &mut all);
    assert!(all.len() > 100, "{} samples", all.len());
    let mut found = Vec::new();
    for p in &all {
        let bytes = std::fs::read(p).unwrap();
        let name = p.strip_prefix(&root).unwrap().display().to_string();
        found.extend(mistakes(&name, &bytes));
    }
    for (name, text) in PASTED {
        found.extend(mistakes(name, text.as_bytes()));
        // And each pasted line does give its event.
        let d = detect(text.as_bytes());
        assert!(events(text.as_bytes(), &d) > 0, "{name}: {d:?}");
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
