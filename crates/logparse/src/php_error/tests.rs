#![allow(clippy::type_complexity)]

use super::*;

use crate::frame::Lines;
use crate::scan::{ScanOptions, scan_slice};

fn parse(line: &[u8]) -> Result<PhpErrorRecord<'_>, SkipReason> {
    PhpErrorParser::new(Zone::Fixed(3600)).parse(line)
}

#[test]
fn warning_on_line() {
    let r = parse(b"[24-Nov-2026 11:17:02 UTC] PHP Warning:  Undefined variable $x in /var/www/html/wp-content/themes/storefront/functions.php on line 12").unwrap();
    assert_eq!(r.time.to_rfc3339(), "2026-11-24T11:17:02+00:00");
    assert!(r.zone_named);
    assert_eq!(r.level, PhpLevel::Warning);
    assert_eq!(r.level_name, b"Warning");
    assert_eq!(r.text, &b"Undefined variable $x in /var/www/html/wp-content/themes/storefront/functions.php on line 12"[..]);
    assert_eq!(
        r.file,
        Some(&b"/var/www/html/wp-content/themes/storefront/functions.php"[..])
    );
    assert_eq!(r.line, Some(12));
    assert_eq!(r.culprit, Some((CodeKind::Theme, &b"storefront"[..])));
    assert_eq!(r.more, b"");
    assert!(r.wp_db.is_none());
}

#[test]
fn zoneless_uses_the_configured_zone() {
    let r =
        parse(b"[24-Nov-2026 12:17:02] PHP Notice:  Undefined index: y in /srv/a.php on line 3")
            .unwrap();
    assert_eq!(r.time.to_rfc3339(), "2026-11-24T12:17:02+01:00");
    assert_eq!(r.time.unix_secs(), 1_795_519_022);
    assert!(!r.zone_named);
    assert_eq!(r.level, PhpLevel::Notice);
    assert_eq!(r.culprit, None);
}

#[test]
fn fatal_with_stack_trace_is_one_record() {
    let log = b"[24-Nov-2026 11:17:03 Europe/Berlin] PHP Fatal error:  Uncaught Error: Call to undefined function acme_x() in /var/www/html/wp-includes/class-wp-hook.php:324
Stack trace:
#0 /var/www/html/wp-content/plugins/acme/acme.php(40): apply_filters('x')
#1 {main}
  thrown in /var/www/html/wp-includes/class-wp-hook.php on line 324
[24-Nov-2026 11:17:04 UTC] PHP Deprecated:  Function utf8_encode() is deprecated in /srv/b.php on line 9
";
    let mut got = Vec::new();
    #[derive(Default)]
    struct Keep(
        Vec<(
            u64,
            u32,
            PhpLevel,
            Option<Vec<u8>>,
            Option<u32>,
            Option<Vec<u8>>,
        )>,
    );
    impl Sink<PhpErrorParser> for Keep {
        fn record(&mut self, r: PhpErrorRecord<'_>, loc: Loc) {
            self.0.push((
                loc.line,
                loc.lines,
                r.level,
                r.file.map(<[u8]>::to_vec),
                r.line,
                r.culprit.map(|c| c.1.to_vec()),
            ));
        }
        fn append(&mut self, later: Keep, shift: u64) {
            self.0.extend(later.0.into_iter().map(|mut x| {
                x.0 += shift;
                x
            }));
        }
    }
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let (k, tally) = scan_slice(
        log,
        0,
        &PhpErrorParser::new(Zone::UTC),
        &opts,
        &Keep::default,
    );
    got.extend(k.0);
    assert_eq!(tally.lines, 6);
    assert_eq!(tally.parsed, 6);
    assert_eq!(
        got,
        [
            (
                1,
                5,
                PhpLevel::Fatal,
                Some(b"/var/www/html/wp-includes/class-wp-hook.php".to_vec()),
                Some(324),
                Some(b"acme".to_vec())
            ),
            (
                6,
                1,
                PhpLevel::Deprecated,
                Some(b"/srv/b.php".to_vec()),
                Some(9),
                None
            ),
        ]
    );
}

#[test]
fn wordpress_database_error() {
    let r = parse(b"[24-Nov-2026 11:17:04 UTC] WordPress database error Table 'wp.wp_acme_log' doesn't exist for query SELECT id FROM wp_acme_log\n  WHERE x = 1 made by require('wp-blog-header.php'), require_once('wp-load.php'), include_once('/var/www/html/wp-content/plugins/acme-log/acme-log.php'), acme_log_read").unwrap();
    assert_eq!(r.level, PhpLevel::Other);
    let db = r.wp_db.unwrap();
    assert_eq!(db.error, b"Table 'wp.wp_acme_log' doesn't exist");
    assert_eq!(
        db.query,
        Some(&b"SELECT id FROM wp_acme_log\n  WHERE x = 1"[..])
    );
    assert_eq!(
        db.caller,
        Some(&b"require('wp-blog-header.php'), require_once('wp-load.php'), include_once('/var/www/html/wp-content/plugins/acme-log/acme-log.php'), acme_log_read"[..])
    );
    assert_eq!(r.culprit, Some((CodeKind::Plugin, &b"acme-log"[..])));
    assert_eq!(r.file, None);
}

#[test]
fn skips_say_why() {
    assert_eq!(
        parse(b"Stack trace:").unwrap_err(),
        SkipReason::OrphanContinuation
    );
    assert_eq!(
        parse(b"[24-Nov-2026 11:1").unwrap_err(),
        SkipReason::Truncated
    );
    assert_eq!(
        parse(b"[24-Nov-2026 11:17:02 Mars/Olympus] x").unwrap_err(),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        parse(b"[31-Feb-2026 11:17:02 UTC] x").unwrap_err(),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        parse(b"[24-Nov-2026 11:17:02 UTC").unwrap_err(),
        SkipReason::Truncated
    );
    // error_log() output: level other, no file.
    let r = parse(b"[24-Nov-2026 11:17:02 UTC] payment gateway returned 503").unwrap();
    assert_eq!(
        (r.level, r.level_name, r.file),
        (PhpLevel::Other, &b""[..], None)
    );
}

#[test]
fn file_and_line_forms() {
    assert_eq!(
        file_and_line(b"x in y in /a b/c.php on line 7"),
        Some((&b"/a b/c.php"[..], 7))
    );
    assert_eq!(
        file_and_line(b"boom in /a/c.php:70"),
        Some((&b"/a/c.php"[..], 70))
    );
    assert_eq!(file_and_line(b"nothing here"), None);
    assert_eq!(file_and_line(b"in /a.php on line x"), None);
}

/// PHP 8.2's own `error_log` output, with WordPress's database-error line
/// (`testdata/php-error/PROVENANCE.md`), checked by hand.
#[test]
fn real_debug_log() {
    let log = include_bytes!("../../../../testdata/php-error/debug.log");
    #[derive(Default)]
    struct Keep(
        Vec<(
            u64,
            PhpLevel,
            Option<Vec<u8>>,
            Option<u32>,
            Option<Vec<u8>>,
            i32,
        )>,
    );
    impl Sink<PhpErrorParser> for Keep {
        fn record(&mut self, r: PhpErrorRecord<'_>, loc: Loc) {
            self.0.push((
                loc.line,
                r.level,
                r.file
                    .map(|f| f.rsplit(|c| *c == b'/').next().unwrap_or(f).to_vec()),
                r.line,
                r.culprit.map(|c| c.1.to_vec()),
                r.time.offset_s,
            ));
        }
        fn append(&mut self, later: Keep, shift: u64) {
            self.0.extend(later.0.into_iter().map(|mut x| {
                x.0 += shift;
                x
            }));
        }
    }
    for chunk in [1 << 20, 64] {
        let opts = ScanOptions {
            chunk_size: chunk,
            ..ScanOptions::default()
        };
        let (k, tally) = scan_slice(
            log,
            0,
            &PhpErrorParser::new(Zone::UTC),
            &opts,
            &Keep::default,
        );
        assert_eq!((tally.lines, tally.parsed, tally.skipped()), (36, 36, 0));
        let f = |s: &str| Some(s.as_bytes().to_vec());
        let (acme, sf) = (f("acme-cache"), f("storefront"));
        use PhpLevel::*;
        let want = vec![
            (1, Warning, f("acme-cache.php"), Some(3), acme.clone(), 0),
            (2, Deprecated, f("acme-cache.php"), Some(4), acme.clone(), 0),
            (3, Warning, f("functions.php"), Some(3), sf.clone(), 0),
            (4, Fatal, f("functions.php"), Some(4), sf.clone(), 0),
            (9, Fatal, f("acme-cache.php"), Some(7), acme.clone(), 0),
            (15, Fatal, f("acme-cache.php"), Some(11), acme.clone(), 3600),
            (16, Other, None, None, acme.clone(), 0),
            (17, Fatal, f("run.php"), Some(9), None, 0),
            (22, Fatal, f("run.php"), Some(11), None, 0),
            (27, Fatal, f("run.php"), Some(12), None, 0),
            (28, Parse, f("broken.php"), Some(2), None, 0),
            (
                29,
                Warning,
                f("acme-cache.php"),
                Some(3),
                acme.clone(),
                -5 * 3600,
            ),
            (
                30,
                Deprecated,
                f("acme-cache.php"),
                Some(4),
                acme.clone(),
                -5 * 3600,
            ),
            (
                31,
                Warning,
                f("functions.php"),
                Some(3),
                sf.clone(),
                -5 * 3600,
            ),
            (
                32,
                Fatal,
                f("functions.php"),
                Some(4),
                sf.clone(),
                -5 * 3600,
            ),
        ];
        assert_eq!(k.0, want, "chunk {chunk}");
    }
    // The Berlin and New York entries are the same instants as their UTC
    // neighbours: 21:04:51 Berlin is 20:04:51 UTC.
    let mut p = PhpErrorParser::new(Zone::UTC);
    let berlin = Lines::new(log).nth(14).unwrap().1;
    assert_eq!(
        p.parse(berlin).unwrap().time.to_rfc3339(),
        "2026-12-05T21:04:51+01:00"
    );
    assert_eq!(
        p.parse(berlin).unwrap().time.unix_secs() % 86_400,
        20 * 3600 + 4 * 60 + 51
    );
}

#[test]
fn detected_from_content() {
    use crate::detect::{Format, detect};
    let log = include_bytes!("../../../../testdata/php-error/debug.log");
    assert_eq!(detect(log).format, Format::PhpError);
    // php-fpm's own log shares the time's shape, not the rest.
    let fpm = b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544\n[24-Nov-2026 11:16:51] NOTICE: ready to handle connections\n";
    assert_eq!(detect(fpm).format, Format::FpmLog);
    assert_eq!(Format::from_name("php-error"), Some(Format::PhpError));
}
