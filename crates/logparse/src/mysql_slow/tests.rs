use super::*;
use crate::scan::{ScanOptions, scan_slice};

/// A query's facts as the tests compare them.
type Row = (
    u64,
    u32,
    i64,
    f64,
    f64,
    u64,
    u64,
    Option<bool>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
);

#[derive(Default)]
struct Keep {
    rows: Vec<Row>,
    times: u64,
    preambles: Vec<(u64, Vec<u8>)>,
}

impl Sink<MysqlSlowParser> for Keep {
    fn record(&mut self, r: SlowEntry<'_>, loc: Loc) {
        match r {
            SlowEntry::Query(q) => self.rows.push((
                loc.line,
                loc.lines,
                q.time.map_or(0, |t| t.unix_secs()),
                q.query_time,
                q.lock_time,
                q.rows_sent,
                q.rows_examined,
                q.full_scan,
                q.db.map(<[u8]>::to_vec),
                q.table().map(<[u8]>::to_vec),
                fingerprint_string(q.statement),
            )),
            SlowEntry::Time(_) => self.times += 1,
            SlowEntry::Preamble { version } => self.preambles.push((loc.line, version.to_vec())),
        }
    }
    fn append(&mut self, later: Keep, shift: u64) {
        self.rows.extend(later.rows.into_iter().map(|mut r| {
            r.0 += shift;
            r
        }));
        self.times += later.times;
        self.preambles
            .extend(later.preambles.into_iter().map(|(l, v)| (l + shift, v)));
    }
}

/// MariaDB 10.11's real slow log (`testdata/mysql-slow/PROVENANCE.md`),
/// every value read by hand from the file.
#[test]
fn real_mariadb_log() {
    let log = include_bytes!("../../../../testdata/mysql-slow/mariadb-10.11.log");
    for chunk in [1 << 20, 200] {
        let opts = ScanOptions {
            chunk_size: chunk,
            ..ScanOptions::default()
        };
        let (k, tally) = scan_slice(
            log,
            0,
            &MysqlSlowParser::new(Zone::UTC),
            &opts,
            &Keep::default,
        );
        assert_eq!((tally.lines, tally.parsed, tally.skipped()), (132, 132, 0));
        assert_eq!(k.times, 8);
        let v = b"10.11.19-MariaDB-0+deb12u1-log (Debian 12)".to_vec();
        assert_eq!(k.preambles, [(1, v.clone()), (86, v)]);
        let s = |x: &str| Some(x.as_bytes().to_vec());
        let want: Vec<Row> = vec![
            (5, 10, 1796501034, 2.000333, 0.0, 1, 0, None, None, None, "select sleep(?)".into()),
            (16, 14, 1796501037, 1.082921, 0.001397, 500, 21000, Some(true), s("shop"), s("orders"),
             "select customer, sum(total) from orders where status in (?+) group by customer order by sleep(?)".into()),
            (31, 10, 1796501038, 3.000255, 0.0, 1, 0, None, s("shop"), None, "select sleep(?)".into()),
            (41, 12, 1796501038, 3.094746, 2.492378, 1, 20000, Some(true), s("shop"), s("orders"),
             "select sleep(?), count(*) from orders where status = ?".into()),
            (54, 10, 1796501042, 2.000245, 0.0, 1, 0, None, s("shop"), None, "select sleep(?)".into()),
            (64, 10, 1796501042, 1.482918, 0.001595, 0, 1, None, s("shop"), s("orders"),
             "update orders set total = ? where id = ?".into()),
            (75, 11, 1796501044, 1.000295, 0.0, 1, 0, None, s("wp"), None, "select sleep(?), ?, ?, ?".into()),
            (90, 10, 1796501052, 0.700312, 0.0, 1, 0, None, None, None, "select sleep(?)".into()),
            (101, 14, 1796501064, 1.051242, 0.000143, 1, 100000, Some(true), s("wp"), s("wp_options"),
             "select count(distinct sha2(concat(option_value, option_name), ?)) from wp_options where autoload <> ?".into()),
            (116, 17, 1796501068, 0.914040, 0.000171, 10, 100010, Some(true), s("wp"), s("wp_options"),
             "select option_name, sha2(concat(option_value, option_name), ?) as h from wp_options where autoload = ? order by h limit ?".into()),
        ];
        assert_eq!(k.rows, want, "chunk {chunk}");
    }
    // The summary's digests: `select sleep(?)` four times.
    let (sum, _) = scan_slice(
        log,
        0,
        &MysqlSlowParser::new(Zone::UTC),
        &ScanOptions::default(),
        &MysqlSlowSummary::default,
    );
    assert_eq!((sum.queries, sum.starts, sum.by_digest.len()), (10, 2, 7));
    let top = sum.top(20);
    assert_eq!(top[0].fingerprint, "select sleep(?)");
    assert_eq!(top[0].count, 4);
    assert!((top[0].total_seconds - 7.701145).abs() < 1e-9);
    assert_eq!(top[0].max_seconds, 3.000255);
}

/// MySQL 8.0's shape, written from its manual: ISO `# Time:`, `Id:` on the
/// `User@Host` line, one space before `Rows_sent`, `use` only on change.
#[test]
fn mysql_8_entries() {
    let log = b"/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
Time                 Id Command    Argument
# Time: 2026-11-24T11:17:44.512301Z
# User@Host: wp[wp] @ localhost []  Id:    12
# Query_time: 42.000123  Lock_time: 0.000010 Rows_sent: 512  Rows_examined: 180000
use wordpress;
SET timestamp=1795519022;
SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes';
# Time: 2026-11-24T11:18:01.000100Z
# User@Host: wp[wp] @ localhost []  Id:    13
# Query_time: 0.9  Lock_time: 0.5 Rows_sent: 0  Rows_examined: 3
SET timestamp=1795519080;
UPDATE `wordpress`.`wp_options`
   SET option_value = 'a:1:{s:1:\\\"x\\\";}'
 WHERE option_name IN ('cron', 'rewrite_rules', \"x\");
# Time: 2026-11-24T11:18:02.000100Z
# User@Host: wp[wp] @ localhost []  Id:    14
# Query_time: 0.7  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 1
SELECT /* hint */ 1;
";
    let opts = ScanOptions::default();
    let (k, tally) = scan_slice(
        log,
        0,
        &MysqlSlowParser::new(Zone::Fixed(3600)),
        &opts,
        &Keep::default,
    );
    assert_eq!((tally.lines, tally.parsed), (20, 20));
    assert_eq!(k.preambles[0].1, b"8.0.36 (MySQL Community Server - GPL)");
    let s = |x: &str| Some(x.as_bytes().to_vec());
    let want: Vec<Row> = vec![
        (
            5,
            5,
            1795519022,
            42.000123,
            0.00001,
            512,
            180000,
            None,
            s("wordpress"),
            s("wp_options"),
            "select option_name, option_value from wp_options where autoload = ?".into(),
        ),
        (
            11,
            6,
            1795519080,
            0.9,
            0.5,
            0,
            3,
            None,
            None,
            s("wp_options"),
            "update `wordpress`.`wp_options` set option_value = ? where option_name in (?+)".into(),
        ),
        // No `SET timestamp`: the `# Time:` before it.
        (
            18,
            3,
            1795519082,
            0.7,
            0.0,
            1,
            1,
            None,
            None,
            None,
            "select ?".into(),
        ),
    ];
    assert_eq!(k.rows, want);
}

#[test]
fn mariadb_time_is_local() {
    let mut p = MysqlSlowParser::new(Zone::Fixed(3600));
    let SlowEntry::Time(t) = p.parse(b"# Time: 261124  9:05:01").unwrap() else {
        panic!()
    };
    assert_eq!(t.to_rfc3339(), "2026-11-24T09:05:01+01:00");
}

#[test]
fn skips_say_why() {
    let mut p = MysqlSlowParser::new(Zone::UTC);
    assert_eq!(
        p.parse(b"SELECT 1;").unwrap_err(),
        SkipReason::OrphanContinuation
    );
    assert_eq!(
        p.parse(b"# Time: yesterday").unwrap_err(),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        p.parse(b"# User@Host: a[a] @ b []\nSELECT 1;").unwrap_err(),
        SkipReason::Truncated
    );
    assert_eq!(
        p.parse(b"# User@Host: a[a] @ b []\n# Query_time: x  Lock_time: 0\nSELECT 1;")
            .unwrap_err(),
        SkipReason::BadField
    );
}

#[test]
fn fingerprints() {
    let cases: [(&str, &str); 8] = [
        (
            "SELECT  *\n FROM t WHERE a = 'x''y' AND b = \"q\\\"\"",
            "select * from t where a = ? and b = ?",
        ),
        (
            "select * from t where id in (1, 2,3) limit 10",
            "select * from t where id in (?+) limit ?",
        ),
        (
            "INSERT INTO wp_postmeta (post_id, meta_key) VALUES (12, 'k')",
            "insert into wp_postmeta (post_id, meta_key) values (?+)",
        ),
        (
            "SELECT a1, t2.c FROM t2 WHERE x = -5 AND y=0x1F",
            "select a1, t2.c from t2 where x = ? and y=?",
        ),
        ("SELECT 1 -- trailing\n , 2.5e-3", "select ?, ?"),
        ("select f(1)", "select f(?)"),
        ("", ""),
        ("'unterminated", "?"),
    ];
    for (sql, want) in cases {
        assert_eq!(fingerprint_string(sql.as_bytes()), want, "{sql}");
        // The digest hashes the fingerprint, not the statement.
        assert_eq!(digest(sql.as_bytes()), digest(want.as_bytes()), "{sql}");
    }
    assert_eq!(digest(b"SELECT 1"), digest(b"select   2"));
    assert_ne!(digest(b"SELECT 1"), digest(b"SELECT 1 FROM t"));
    assert_eq!(
        table_of(b"DELETE FROM `db`.`wp_x` WHERE 1"),
        Some(&b"wp_x"[..])
    );
    assert_eq!(
        table_of(b"SELECT 'from x' FROM (SELECT 1) d JOIN t2"),
        Some(&b"t2"[..])
    );
    assert_eq!(table_of(b"SELECT SLEEP(2)"), None);
}

#[test]
fn detected_from_content_without_stealing_others() {
    use crate::detect::{Format, detect};
    let log = include_bytes!("../../../../testdata/mysql-slow/mariadb-10.11.log");
    assert_eq!(detect(log).format, Format::MysqlSlow);
    let mysql8 = concat!(
        "# Time: 2026-11-24T11:17:02.123456Z\n",
        "# User@Host: wp[wp] @ localhost []  Id:    12\n",
        "# Query_time: 42.000123  Lock_time: 0.000010 Rows_sent: 512  Rows_examined: 180000\n",
        "SET timestamp=1795519022;\n",
        "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes';\n",
    );
    assert_eq!(detect(mysql8.as_bytes()).format, Format::MysqlSlow);
    assert_eq!(Format::from_name("mysql-slow"), Some(Format::MysqlSlow));
    // The others keep theirs.
    let php = include_bytes!("../../../../testdata/php-error/debug.log");
    assert_eq!(detect(php).format, Format::PhpError);
    let fpm = b"[24-Nov-2026 11:16:51] NOTICE: fpm is running, pid 31544\n[24-Nov-2026 11:16:51] NOTICE: ready to handle connections\n";
    assert_eq!(detect(fpm).format, Format::FpmLog);
    let slowlog = concat!(
        "\n[24-Nov-2026 11:17:02]  [pool www] pid 1234\n",
        "script_filename = /var/www/html/index.php\n",
        "[0x00007f] mysqli_query() /var/www/html/wp-includes/class-wpdb.php:2351\n",
        "[0x00007e] query() /var/www/html/wp-includes/option.php:300\n",
    );
    assert_eq!(detect(slowlog.as_bytes()).format, Format::FpmSlowlog);
    let err = b"2026/11/24 11:17:02 [error] 812#812: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"x\"\n";
    assert_eq!(detect(err).format, Format::NginxError);
}

#[test]
fn events_are_logged_when_the_query_finished() {
    use crate::event::{EventKind, from_mysql_slow};
    let mut p = MysqlSlowParser::new(Zone::UTC);
    let rec = concat!(
        "# User@Host: wp[wp] @ localhost []  Id:    12\n",
        "# Query_time: 42.000123  Lock_time: 0.000010 Rows_sent: 512  Rows_examined: 180000\n",
        "use wordpress;\n",
        "SET timestamp=1795519022;\n",
        "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes';",
    );
    let SlowEntry::Query(q) = p.parse(rec.as_bytes()).unwrap() else {
        panic!()
    };
    let e = from_mysql_slow(&q, 7);
    assert_eq!(e.kind, Some(EventKind::MysqlSlowQuery));
    assert_eq!(e.time.unwrap().unix_us, 1_795_519_064_000_123);
    assert_eq!(e.start().unwrap().unix_us, 1_795_519_022_000_000);
    assert_eq!(e.seconds, Some(42.000123));
    let f = e.detail().query.as_ref().unwrap();
    assert_eq!(
        &*f.fingerprint,
        "select option_name, option_value from wp_options where autoload = ?"
    );
    assert_eq!(f.table.as_deref(), Some(&b"wp_options"[..]));
    assert_eq!(f.db.as_deref(), Some(&b"wordpress"[..]));
    assert_eq!((f.rows_examined, f.rows_sent), (180000, 512));
    assert_eq!(
        &*e.text,
        b"SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'"
    );
}

/// Found by `cargo fuzz run mysql_slow` (`fuzz/regressions/mysql_slow/`):
/// a `SET timestamp=` of 17 digits overflowed microseconds since the
/// epoch; past the year 9999 it is now a bad timestamp.
#[test]
fn fuzz_set_timestamp_overflow() {
    let buf = include_bytes!("../../../../fuzz/regressions/mysql_slow/set-timestamp-overflow");
    for zone in [Zone::UTC, Zone::Tz(chrono_tz::Europe::Berlin)] {
        let p = MysqlSlowParser::new(zone);
        let ((), t) = scan_slice(buf, 0, &p, &ScanOptions::default(), &|| ());
        assert_eq!(t.lines, t.parsed + t.skipped());
        assert!(t.skipped_for(SkipReason::BadTimestamp) >= 1, "{t:?}");
    }
    let mut p = MysqlSlowParser::new(Zone::UTC);
    let rec = |ts: &str| {
        format!(
            "# User@Host: wp[wp] @ localhost []\n# Query_time: 1.0  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 1\nSET timestamp={ts};\nSELECT 1;"
        )
    };
    assert_eq!(
        p.parse(rec("17965011796501042").as_bytes()).err(),
        Some(SkipReason::BadTimestamp)
    );
    let last = rec("253402300799");
    let SlowEntry::Query(q) = p.parse(last.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(q.time.unwrap().to_rfc3339(), "9999-12-31T23:59:59+00:00");
}
