use super::*;
use baton_logparse::EventKind;
use baton_logparse::event::MasterStep;
use baton_logparse::nginx::error::UpstreamKind;

fn at(secs: i64) -> Option<Timestamp> {
    Some(Timestamp::from_unix(secs, 0))
}

fn table() -> Table {
    Table {
        sources: vec![
            Source {
                path: "logs/access.log".into(),
                format: Format::NginxAccess,
                node: "local".into(),
            },
            Source {
                path: "logs/php-fpm.log".into(),
                format: Format::FpmLog,
                node: "local".into(),
            },
        ],
        zone: Zone::Fixed(-5 * 3600),
        incidents: Incidents::from_spans([(1, 1_000 * 1_000_000, 1_100 * 1_000_000)]),
    }
}

pub(crate) fn sample_events() -> Vec<Event> {
    vec![
        Event {
            time: at(1_050),
            file: 0,
            line: 3,
            kind: Some(EventKind::Request),
            status: Some(502),
            method: Some(b"GET".as_slice().into()),
            path: Some(b"/a\xffb".as_slice().into()),
            client: Some(b"10.0.0.1".as_slice().into()),
            seconds: Some(1.5),
            connection: Some(42),
            origin_status: Some(502),
            upstream: Some(b"unix:/run/php.sock".as_slice().into()),
            text: b"10.0.0.1 - - \"GET /a\xffb\" 502\tx".as_slice().into(),
            ..Event::default()
        },
        Event {
            detail: baton_logparse::event::Detail {
                number: Some(5),
                ..Default::default()
            }
            .boxed(),
            time: at(990),
            file: 1,
            line: 9,
            kind: Some(EventKind::FpmMaxChildren),
            pool: Some(b"www".as_slice().into()),
            text: b"WARNING: [pool www] server reached pm.max_children setting (5)"
                .as_slice()
                .into(),
            ..Event::default()
        },
        Event {
            time: at(1_100),
            file: 1,
            line: 12,
            kind: Some(EventKind::FpmRestart),
            step: Some(MasterStep::Stop),
            text: b"NOTICE: Terminating ...".as_slice().into(),
            ..Event::default()
        },
        Event {
            time: None,
            file: 7,
            line: 1,
            kind: Some(EventKind::UpstreamError),
            upstream_kind: Some(UpstreamKind::ConnectRefused),
            fatal: true,
            text: b"connect() failed".as_slice().into(),
            ..Event::default()
        },
    ]
}

#[test]
fn rows_carry_every_column() {
    let t = table();
    let ev = sample_events();
    let r = t.row(&ev[0]);
    assert_eq!(r.time.as_deref(), Some("1970-01-01T00:17:30Z"));
    assert_eq!(r.local_time.as_deref(), Some("1969-12-31T19:17:30-05:00"));
    assert_eq!(r.file.as_deref(), Some("logs/access.log"));
    assert_eq!(r.format, Some("nginx-access"));
    assert_eq!(r.kind, "request");
    assert_eq!(r.status, Some(502));
    assert_eq!(r.path.as_deref(), Some("/a\\xffb"));
    assert_eq!(r.incident_id, Some(1));
    assert_eq!(r.message, "10.0.0.1 - - \"GET /a\\xffb\" 502\\tx");
    assert_eq!(
        r.fields.to_json(),
        r#"{"connection":42,"upstream":"unix:/run/php.sock","origin_status":502}"#
    );
    let json = serde_json::to_value(&r).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = COLUMNS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "every column, nothing else");
    let texts = r.texts();
    assert_eq!(texts[3].as_deref(), Some("local"));
    assert_eq!(texts[4].as_deref(), Some("3"));
    assert_eq!(texts[19].as_deref(), Some("1.5"));
    assert_eq!(texts[13], None);

    // No source, no time: nulls, not a panic.
    let r = t.row(&ev[3]);
    assert_eq!((r.time, r.file, r.format), (None, None, None));
    assert_eq!(r.upstream_kind, Some("connect_refused"));
    assert_eq!(r.fields.to_json(), r#"{"fatal":true}"#);
    assert_eq!(t.row(&ev[2]).fields.to_json(), r#"{"step":"stop"}"#);
    assert_eq!(t.row(&ev[1]).fields.to_json(), r#"{"number":5}"#);
}

#[test]
fn incidents_by_span() {
    let inc = Incidents::from_spans([(2, 500, 600), (1, 100, 200), (3, 600, 700)]);
    assert_eq!(inc.len(), 3);
    let id = |us: i64| {
        inc.id_at(Some(Timestamp {
            unix_us: us,
            offset_s: 0,
        }))
    };
    assert_eq!(id(99), None);
    assert_eq!(id(100), Some(1));
    assert_eq!(id(200), Some(1));
    assert_eq!(id(201), None);
    assert_eq!(id(550), Some(2));
    assert_eq!(id(600), Some(2), "touching spans: the earlier wins");
    assert_eq!(id(650), Some(3));
    assert_eq!(id(701), None);
    assert_eq!(inc.id_at(None), None);
    assert!(Incidents::default().is_empty());
}

#[test]
fn sorted_by_time_then_file_and_line() {
    let mut ev = sample_events();
    ev.push(Event {
        time: at(1_050),
        file: 0,
        line: 1,
        ..Event::default()
    });
    sort_events(&mut ev);
    let order: Vec<(u32, u64)> = ev.iter().map(|e| (e.file, e.line)).collect();
    assert_eq!(order, [(1, 9), (0, 1), (0, 3), (1, 12), (7, 1)]);
}

#[test]
fn utc_is_z_suffixed_with_its_precision() {
    assert_eq!(
        utc(Timestamp {
            unix_us: 1_500_000,
            offset_s: 3600
        }),
        "1970-01-01T00:00:01.500Z"
    );
}

#[cfg(feature = "polars")]
mod frame {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn dataframe_columns_and_types() {
        let mut ev = sample_events();
        sort_events(&mut ev);
        let df = events_to_dataframe(&ev, &table()).unwrap();
        assert_eq!(df.height(), 4);
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(
            df.column("time").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        for (name, ty) in [
            ("line", DataType::Int64),
            ("pid", DataType::Int64),
            ("status", DataType::Int32),
            ("incident_id", DataType::Int32),
            ("seconds", DataType::Float64),
            ("fields", DataType::String),
            ("kind", DataType::String),
        ] {
            assert_eq!(df.column(name).unwrap().dtype(), &ty, "{name}");
        }
        let time = df.column("time").unwrap();
        assert_eq!(time.null_count(), 1);
        let ids: Vec<Option<i32>> = df
            .column("incident_id")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [None, Some(1), Some(1), None]);
    }

    #[test]
    fn parquet_round_trip() {
        let mut ev = sample_events();
        // More than one row group.
        for i in 0..(crate::polars_frame::BATCH + 10) {
            ev.push(Event {
                time: at(2_000 + i as i64),
                line: 100 + i as u64,
                kind: Some(EventKind::Request),
                status: Some(200),
                ..Event::default()
            });
        }
        sort_events(&mut ev);
        let t = table();
        let mut buf = Vec::new();
        write_parquet(&ev, &t, &mut buf).unwrap();
        let back = ParquetReader::new(std::io::Cursor::new(buf))
            .finish()
            .unwrap();
        let want = events_to_dataframe(&ev, &t).unwrap();
        assert_eq!(back.schema(), want.schema());
        assert!(back.equals_missing(&want), "{back:?}\n{want:?}");

        // No rows: the schema alone.
        let mut buf = Vec::new();
        write_parquet(&[], &t, &mut buf).unwrap();
        let back = ParquetReader::new(std::io::Cursor::new(buf))
            .finish()
            .unwrap();
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), want.schema());
    }
}

#[test]
fn an_event_never_takes_another_nodes_incident() {
    let (a, b) = (1_000 * 1_000_000, 1_100 * 1_000_000);
    let mut inc = Incidents::from_spans([(1, a, b), (2, a, b)]);
    inc.nodes.insert(1, "web1".into());
    inc.nodes.insert(2, "web2".into());
    let t = Some(Timestamp::from_unix(1_050, 0));
    assert_eq!(inc.id_at_node(t, Some("web2")), Some(2));
    assert_eq!(inc.id_at_node(t, Some("web1")), Some(1));
    assert_eq!(inc.id_at_node(t, Some("db1")), None);
    assert_eq!(inc.id_at(t), Some(1));
}
