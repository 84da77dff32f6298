use super::*;

const LINE_502: &[u8] = br#"{"ClientIP":"198.51.100.23","ClientRequestHost":"api.example.com","ClientRequestMethod":"POST","ClientRequestURI":"/v1/data/ingest","ClientRequestUserAgent":"curl/8.5.0","ClientRequestReferer":"","EdgeEndTimestamp":1712790030100000000,"EdgeResponseBytes":587,"EdgeResponseStatus":502,"EdgeStartTimestamp":1712790015600000000,"RayID":"87a1b2c3d4e5f009","OriginResponseStatus":502,"FirewallMatchesActions":[],"X":{"a":[1,"}"]}}"#;

#[test]
fn integer_nanoseconds_and_statuses() {
    let r = parse_line(LINE_502).unwrap();
    assert_eq!(
        r,
        EdgeRecord {
            time: Some(Timestamp {
                unix_us: 1_712_790_015_600_000,
                offset_s: 0
            }),
            edge_status: Some(502),
            origin_status: Some(502),
            origin_us: None,
            ray_id: Some(b"87a1b2c3d4e5f009"),
            path: None,
            uri: Some(b"/v1/data/ingest"),
            host: Some(b"api.example.com"),
            method: Some(b"POST"),
            client_ip: Some(b"198.51.100.23"),
            edge_server_ip: None,
            origin_ip: None,
        }
    );
    assert!(r.is_gateway_error());
    assert_eq!(r.request_path(), Some(&b"/v1/data/ingest"[..]));
    assert_eq!(
        r.time.unwrap().to_rfc3339(),
        "2024-04-10T23:00:15.600+00:00"
    );
}

#[test]
fn timestamp_units_by_magnitude() {
    let t = |v: &str| {
        let line = format!(r#"{{"RayID":"a","EdgeStartTimestamp":{v}}}"#);
        parse_line(line.as_bytes()).map(|r| r.time.map(|t| (t.unix_us, t.offset_s)))
    };
    assert_eq!(
        t("1712790015600000000"),
        Ok(Some((1_712_790_015_600_000, 0)))
    );
    assert_eq!(t("1712790015600000"), Ok(Some((1_712_790_015_600_000, 0))));
    assert_eq!(t("1712790015600"), Ok(Some((1_712_790_015_600_000, 0))));
    assert_eq!(t("1712790015"), Ok(Some((1_712_790_015_000_000, 0))));
    assert_eq!(t("\"1712790015\""), Ok(Some((1_712_790_015_000_000, 0))));
    assert_eq!(
        t("\"2024-04-10T23:00:15Z\""),
        Ok(Some((1_712_790_015_000_000, 0)))
    );
    assert_eq!(
        t("\"2024-04-11T01:00:15.25+02:00\""),
        Ok(Some((1_712_790_015_250_000, 7200)))
    );
    assert_eq!(t("null"), Ok(None));
    assert_eq!(t("\"yesterday\""), Err(SkipReason::BadTimestamp));
    assert_eq!(t("99999999999999999999"), Err(SkipReason::BadTimestamp));
    assert_eq!(t("-5"), Err(SkipReason::BadTimestamp));
    assert_eq!(t("[1]"), Err(SkipReason::BadTimestamp));
}

#[test]
fn origin_durations_and_fields() {
    let r = parse_line(br#"{"RayID":"8e1f2a3b4c5d6e7f","EdgeStartTimestamp":"2026-11-24T11:18:02Z","EdgeResponseStatus":520,"OriginResponseStatus":0,"OriginResponseDurationMs":1500,"OriginResponseTime":9000000000,"ClientRequestPath":"/wp-admin/admin-ajax.php","ClientRequestURI":"/wp-admin/admin-ajax.php?action=heartbeat","EdgeServerIP":"172.68.1.1","OriginIP":"203.0.113.10","ClientIP":"2001:db8::1"}"#).unwrap();
    assert_eq!(r.edge_status, Some(520));
    assert_eq!(r.origin_status, None);
    assert_eq!(r.origin_us, Some(1_500_000));
    assert_eq!(r.path, Some(&b"/wp-admin/admin-ajax.php"[..]));
    assert_eq!(r.request_path(), Some(&b"/wp-admin/admin-ajax.php"[..]));
    assert_eq!(r.edge_server_ip, Some(&b"172.68.1.1"[..]));
    assert_eq!(r.origin_ip, Some(&b"203.0.113.10"[..]));
    assert_eq!(r.client_ip, Some(&b"2001:db8::1"[..]));
    let r = parse_line(br#"{"RayID":"x","OriginResponseTime":123456789}"#).unwrap();
    assert_eq!(r.origin_us, Some(123_456));
    let r = parse_line(br#"{"RayID":"x","OriginResponseDurationMs":12.5}"#).unwrap();
    assert_eq!(r.origin_us, Some(12_500));
    let r = parse_line(br#"{"RayID":"x","ClientRequestURI":"/a?b=1","OriginIP":""}"#).unwrap();
    assert_eq!(r.request_path(), Some(&b"/a"[..]));
    assert_eq!(r.origin_ip, None);
}

#[test]
fn gateway_statuses() {
    let want: Vec<u16> = (100..600).filter(|&s| is_gateway_status(s)).collect();
    assert_eq!(want, [502, 504, 520, 521, 522, 523, 524, 525, 526]);
    let r = EdgeRecord {
        edge_status: Some(503),
        origin_status: Some(502),
        ..EdgeRecord::default()
    };
    assert!(!r.is_gateway_error());
    assert!(!EdgeRecord::default().is_gateway_error());
}

#[test]
fn rejects() {
    for (line, why) in [
        (
            &br#"{"status":200,"request":"GET / HTTP/1.1"}"#[..],
            SkipReason::Unrecognized,
        ),
        (b"{}", SkipReason::Unrecognized),
        (b"not json", SkipReason::Unrecognized),
        (
            br#"{"RayID":"a","EdgeResponseStatus":"5x2"}"#,
            SkipReason::BadField,
        ),
        (
            br#"{"RayID":"a","EdgeResponseStatus":70000}"#,
            SkipReason::BadField,
        ),
        (
            br#"{"RayID":"a","EdgeResponseStatus":{}}"#,
            SkipReason::BadField,
        ),
        (br#"{"RayID":"a","EdgeResp"#, SkipReason::Truncated),
        (br#"{"RayID":"a\"#, SkipReason::Truncated),
        (br#"{"RayID":"a","X":[1,2"#, SkipReason::Truncated),
        (br#"{"RayID":"a"} x"#, SkipReason::BadJson),
        (br#"{"RayID" "a"}"#, SkipReason::BadJson),
        (br#"{"RayID":"a",}"#, SkipReason::BadJson),
        (br#"{"RayID":"a","X":]}"#, SkipReason::BadJson),
    ] {
        assert_eq!(
            parse_line(line),
            Err(why),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn detection() {
    assert!(looks_like(LINE_502));
    assert!(looks_like(
        br#" {"RayID":"a","EdgeStartTimestamp":"2026-11-24T11:18:02Z"} "#
    ));
    assert!(!looks_like(br#"{"RayID":"a"}"#));
    assert!(!looks_like(br#"{"EdgeResponseStatus":200}"#));
    assert!(!looks_like(br#"{"RayID":"a","EdgeResponseStatus":200"#));
    assert!(!looks_like(
        br#"{"time_iso8601":"2026-11-24T11:16:54+00:00","status":200}"#
    ));
}

#[test]
fn cf_ray_suffix() {
    assert_eq!(
        ray_id_of_cf_ray(b"87a1b2c3d4e5f009-SEA"),
        b"87a1b2c3d4e5f009"
    );
    assert_eq!(ray_id_of_cf_ray(b"87a1b2c3d4e5f009"), b"87a1b2c3d4e5f009");
}

#[test]
fn summary_merge() {
    let mut a = EdgeSummary::default();
    a.add(&parse_line(LINE_502).unwrap());
    a.add(&parse_line(br#"{"RayID":"b","EdgeResponseStatus":522}"#).unwrap());
    a.add(&parse_line(br#"{"RayID":"c","EdgeResponseStatus":200,"OriginResponseStatus":200,"EdgeStartTimestamp":1}"#).unwrap());
    let mut b = EdgeSummary::default();
    b.merge(&a);
    b.merge(&a);
    assert_eq!(b.requests, 6);
    assert_eq!(
        b.status.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        [(200, 2), (502, 2), (522, 2)]
    );
    assert_eq!(
        b.origin_status
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect::<Vec<_>>(),
        [(200, 2), (502, 2)]
    );
    assert_eq!(
        (b.gateway_errors, b.gateway_errors_without_origin, b.untimed),
        (4, 2, 2)
    );
    assert_eq!(b.range.first.unwrap().unix_us, 1_000_000);
    assert_eq!(b.range.last.unwrap().unix_us, 1_712_790_015_600_000);
}
