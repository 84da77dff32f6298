use super::*;
use crate::detect::{Format, detect};
use crate::error::SkipReason;
use crate::scan::{ScanOptions, scan_slice};

const ACCESS: &str =
    r#"10.0.0.1 - - [10/May/2017:06:50:00 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1""#;
const ERROR: &str = r#"2017/05/10 06:50:00 [error] 23#23: *1 connect() to unix:/run/php/php7.0-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.0-fpm.sock:", host: "a""#;
const FASTCGI_OPEN: &str = r#"2017/05/10 06:50:01 [error] 23#23: *2 FastCGI sent in stderr: "PHP message: PHP Warning:  x in /var/www/a.php on line 3"#;
const FASTCGI_REST: &str = r#"PHP message: PHP Warning:  y in /var/www/a.php on line 4" while reading response header from upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.0-fpm.sock:", host: "a""#;

fn scan(input: &str, chunk: usize) -> (MixedSummary, crate::scan::Tally) {
    let d = detect(input.as_bytes());
    assert!(d.mixed, "{d:?}");
    let p = MixedParser::new(Some(d.access.expect("access variant")), Zone::UTC);
    let opts = ScanOptions {
        chunk_size: chunk,
        ..ScanOptions::default()
    };
    scan_slice(input.as_bytes(), 0, &p, &opts, &MixedSummary::default)
}

#[test]
fn each_record_goes_to_its_format() {
    let input =
        format!("{ACCESS}\n{ERROR}\n{FASTCGI_OPEN}\n{FASTCGI_REST}\n{ACCESS}\nnot a log line\n");
    let d = detect(input.as_bytes());
    assert_eq!(d.format, Format::NginxError);
    let (s, t) = scan(&input, 1 << 20);
    assert_eq!((t.lines, t.parsed, t.skipped()), (6, 5, 1));
    assert_eq!(t.skipped_for(SkipReason::Unrecognized), 1);
    assert_eq!((s.access_lines, s.error_lines), (2, 3));
    assert_eq!(s.access.requests, 2);
    assert_eq!(s.access.status_count(502), 2);
    assert_eq!(s.error.entries, 2);
    assert_eq!(s.error.upstream_errors().len(), 1);
    assert_eq!(s.error.fastcgi_stderr, 1);
}

#[test]
fn an_access_line_never_continues_an_open_fastcgi_entry() {
    let input = format!("{ERROR}\n{FASTCGI_OPEN}\n{ACCESS}\n{ACCESS}\n");
    let (s, t) = scan(&input, 1 << 20);
    assert_eq!((t.lines, t.parsed), (4, 4));
    assert_eq!((s.access_lines, s.error_lines), (2, 2));
}

#[test]
fn chunking_does_not_change_the_counts() {
    let mut input = String::new();
    for i in 0..400 {
        input.push_str(if i % 3 == 0 { ERROR } else { ACCESS });
        input.push('\n');
        if i % 50 == 7 {
            input.push_str(FASTCGI_OPEN);
            input.push('\n');
            input.push_str(FASTCGI_REST);
            input.push('\n');
        }
    }
    let (a, ta) = scan(&input, 1 << 20);
    let (b, tb) = scan(&input, 4096);
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    assert_eq!(a.access_lines + a.error_lines, ta.lines);
}

#[test]
fn pure_logs_are_not_mixed() {
    let access = format!("{ACCESS}\n{ACCESS}\n");
    let d = detect(access.as_bytes());
    assert_eq!((d.format, d.mixed), (Format::NginxAccess, false));
    let error = format!("{ERROR}\n{ERROR}\n");
    let d = detect(error.as_bytes());
    assert_eq!((d.format, d.mixed), (Format::NginxError, false));
}
