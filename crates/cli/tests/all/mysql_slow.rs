//! The MySQL / MariaDB slow query log through the binary: detection,
//! `mysql_slow` in `baton stats`, `mysql_slow_query` rows in `baton
//! events`, on the real MariaDB capture of testdata/mysql-slow.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const LOG: &str = "testdata/mysql-slow/mariadb-10.11.log";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn stats_count_every_line_and_the_fingerprints() {
    let doc: Value = serde_json::from_str(&baton(&["stats", "--format", "json", LOG])).unwrap();
    let f = &doc["files"][0];
    assert_eq!(f["format"], "mysql-slow");
    assert_eq!(
        (f["lines"].as_u64(), f["parsed"].as_u64()),
        (Some(132), Some(132))
    );
    assert_eq!(f["skipped"], 0);
    assert_eq!(f["first_time"], "2026-12-05T20:03:54+00:00");
    let m = &doc["mysql_slow"];
    assert_eq!(m["queries"], 10);
    let by = m["by_fingerprint"].as_object().unwrap();
    assert_eq!(by.len(), 7);
    assert_eq!(by["select sleep(?)"], 4);
    assert_eq!(
        by["select customer, sum(total) from orders where status in (?+) group by customer order by sleep(?)"],
        1
    );
    assert_eq!(by["update orders set total = ? where id = ?"], 1);
    let text = baton(&["stats", LOG]);
    assert!(
        text.contains(
            "MySQL slow queries: 10 (7 fingerprints); most time: select sleep(?) x4 7.7 s"
        ),
        "{text}"
    );
}

#[test]
fn events_are_slow_queries_with_their_fields() {
    let out = baton(&["events", LOG]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r["kind"] == "mysql_slow_query"));
    assert!(rows.iter().all(|r| r["format"] == "mysql-slow"));
    // SELECT SLEEP(2), started 20:03:54 (SET timestamp), logged when it
    // finished.
    let r = &rows[0];
    assert_eq!(r["time"], "2026-12-05T20:03:56.000333Z");
    assert_eq!(r["line"], 5);
    assert_eq!(r["seconds"], 2.000333);
    assert_eq!(r["call"], "database");
    assert_eq!(r["message"], "SELECT SLEEP(2)");
    assert_eq!(r["fields"]["fingerprint"], "select sleep(?)");
    assert_eq!(r["fields"]["rows_sent"], 1);
    // The GROUP BY over shop.orders.
    let r = &rows[1];
    assert_eq!(r["line"], 16);
    assert_eq!(r["fields"]["db"], "shop");
    assert_eq!(r["fields"]["table"], "orders");
    assert_eq!(r["fields"]["rows_examined"], 21000);
    assert_eq!(r["fields"]["lock_seconds"], 0.001397);
    // The query that waited 2.49 s on LOCK TABLES.
    let locked = rows
        .iter()
        .find(|r| r["fields"]["lock_seconds"].as_f64() > Some(2.0))
        .expect("the locked query");
    assert_eq!(locked["seconds"], 3.094746);
    assert_eq!(
        locked["fields"]["fingerprint"],
        "select sleep(?), count(*) from orders where status = ?"
    );
    // The wp_options full scans after the restart.
    assert_eq!(
        rows.iter()
            .filter(|r| r["fields"]["table"] == "wp_options")
            .count(),
        2
    );
}
