//! The nginx access-log parser: exact records for every variant, and
//! conformance against other projects' expected output and the lab's JSON
//! twin (fixtures in `testdata/nginx-access/`, see its PROVENANCE.md).

use baton_logparse::frame::Lines;
use baton_logparse::scan::{ScanOptions, Sink, scan_slice};
use baton_logparse::time::Timestamp;
use baton_logparse::{AccessParser, AccessRecord, Loc, RecordParser, SkipReason, ValueList};
use proptest::prelude::*;
use serde_json::Value;

macro_rules! fixture {
    ($p:literal) => {
        include_bytes!(concat!("../../../../testdata/nginx-access/", $p))
    };
}

fn parser(name: &str) -> AccessParser {
    AccessParser::from_variant(name).unwrap()
}

fn b(s: &str) -> Option<&[u8]> {
    Some(s.as_bytes())
}

fn t(secs: i64, off: i32) -> Option<Timestamp> {
    Some(Timestamp::from_unix(secs, off))
}

fn text(v: Option<&[u8]>) -> Option<String> {
    v.map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Decodes nginx `escape=default` (`\xHH`) and `escape=json` (`\"`, `\\`,
/// `\uXXXX`, `\t`, ...) into raw bytes, so both renderings of one value
/// compare equal.
fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            let hex = |s: &[u8]| u32::from_str_radix(std::str::from_utf8(s).unwrap(), 16).unwrap();
            match v[i + 1] {
                b'x' if i + 3 < v.len() => {
                    out.push(hex(&v[i + 2..i + 4]) as u8);
                    i += 4;
                }
                b'u' if i + 5 < v.len() => {
                    let c = hex(&v[i + 2..i + 6]);
                    if c < 0x100 {
                        out.push(c as u8);
                    } else {
                        let ch = char::from_u32(c).unwrap();
                        out.extend_from_slice(ch.to_string().as_bytes());
                    }
                    i += 6;
                }
                c => {
                    out.push(match c {
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b'b' => 8,
                        b'f' => 12,
                        c => c,
                    });
                    i += 2;
                }
            }
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

fn unesc(v: Option<&[u8]>) -> Option<Vec<u8>> {
    v.map(unescape)
}

// ---------------------------------------------------------------------
// Every variant, exact records.
// ---------------------------------------------------------------------

#[test]
fn combined_exact() {
    let line = br#"127.0.0.1 - alice [24/Nov/2026:11:16:54 +0100] "GET /ok.php?lang=de&q=a%20b HTTP/1.1" 200 13 "https://ref.example/" "curl/7.88.1""#;
    let r = parser("combined").parse(line).unwrap();
    let want = AccessRecord {
        time: t(1_795_515_414, 3600),
        remote_addr: b("127.0.0.1"),
        remote_user: b("alice"),
        request: b("GET /ok.php?lang=de&q=a%20b HTTP/1.1"),
        method: b("GET"),
        path: b("/ok.php"),
        query: b("lang=de&q=a%20b"),
        protocol: b("HTTP/1.1"),
        status: Some(200),
        body_bytes_sent: Some(13),
        referer: b("https://ref.example/"),
        user_agent: b("curl/7.88.1"),
        ..Default::default()
    };
    assert_eq!(r, want);
}

#[test]
fn combined_leniencies() {
    let mut p = parser("combined");
    // Missing ident field.
    let r = p
        .parse(br#"1.2.3.4 - [29/Jul/2023:10:26:06 -0700] "GET / HTTP/1.1" 200 5 "-" "-""#)
        .unwrap();
    assert_eq!(r.remote_addr, b("1.2.3.4"));
    assert_eq!(r.remote_user, None);
    assert_eq!(r.time, t(1_690_651_566, -25200));
    // X-Forwarded-For list in place of the address, IPv6, unix:.
    let r = p
        .parse(br#"10.0.0.2, 10.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "UA""#)
        .unwrap();
    assert_eq!(r.remote_addr, b("10.0.0.2, 10.0.0.1"));
    let r = p
        .parse(br#"::1 - - [24/Nov/2026:11:16:54 +0000] "GET / HTTP/2.0" 404 16 "-" "curl""#)
        .unwrap();
    assert_eq!(r.remote_addr, b("::1"));
    let r = p
        .parse(br#"unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-""#)
        .unwrap();
    assert_eq!(r.remote_addr, b("unix:"));
    assert_eq!((r.request, r.method, r.path), (b("hello"), None, None));
    // Trailing extra field and garbage after the user agent.
    let r = p
        .parse(br#"172.17.0.1 - alice [01/Apr/2021:12:02:31 +0000] "POST /x HTTP/1.1" 404 153 "-" "UA" "2.75" junk"#)
        .unwrap();
    assert_eq!((r.status, r.user_agent), (Some(404), b("UA")));
    // Common log format: no referer, no agent.
    let r = p
        .parse(br#"127.0.0.1 - frank [13/Jul/2016:10:55:36 +0000] "GET /apache_pb.gif HTTP/1.0" 200 2326"#)
        .unwrap();
    assert_eq!(
        (r.body_bytes_sent, r.referer, r.user_agent),
        (Some(2326), None, None)
    );
    // Empty, dash and binary request lines.
    for (req, raw) in [
        ("\"\"", None),
        ("\"-\"", None),
        (r#""\x16\x03\x01\x02\x00""#, b(r"\x16\x03\x01\x02\x00")),
    ] {
        let line = format!("1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] {req} 400 157 \"-\" \"-\"");
        let r = p.parse(line.as_bytes()).unwrap();
        assert_eq!(
            (r.request, r.method, r.path, r.status),
            (raw, None, None, Some(400)),
            "{line}"
        );
    }
    // Absolute-URI request; HTTP/0.9 request line.
    let r = p
        .parse(br#"1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] "HEAD http://174.138.82.103:80/sql/x/?a=1 HTTP/1.1" 404 0 "-" "-""#)
        .unwrap();
    assert_eq!(
        (r.method, r.path, r.query),
        (b("HEAD"), b("/sql/x/"), b("a=1"))
    );
    let r = p
        .parse(
            br#"202.32.92.47 - - [01/Jun/1995:00:00:59 -0600] "GET /~scottp/publish.html" 200 271"#,
        )
        .unwrap();
    assert_eq!((r.path, r.protocol), (b("/~scottp/publish.html"), None));
}

#[test]
fn combined_skip_reasons() {
    let mut p = parser("combined");
    let cases: [(&[u8], SkipReason); 7] = [
        (
            b"2025/01/03 16:41:26 [error] 31#31: *3 open() failed",
            SkipReason::Unrecognized,
        ),
        (
            b"1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] \"GET / HTTP/1.1\" 2x0 5",
            SkipReason::BadField,
        ),
        (
            b"1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] \"GET / HTTP/1.1\" 200 5x",
            SkipReason::BadField,
        ),
        (
            b"1.2.3.4 - - [29/Jux/2023:10:26:06 -0700] \"GET / HTTP/1.1\" 200 5",
            SkipReason::BadTimestamp,
        ),
        (
            b"172.18.0.1 - - [29/Aug/2023 22:02:58] \"GET / HTTP/1.1\" 200 -",
            SkipReason::BadTimestamp,
        ),
        (
            b"1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozil",
            SkipReason::Truncated,
        ),
        (b"1.2.3.4 - - [29/Jul/2023:10:2", SkipReason::Truncated),
    ];
    for (line, want) in cases {
        assert_eq!(
            p.parse(line),
            Err(want),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn main_exact() {
    let line = br#"172.24.0.2 - alice [03/Jan/2025:16:42:58 +0000] "GET / HTTP/1.1" 200 615 "http://domain.tld/path" "curl/8.11.1" "1.2.3.4, 10.10.1.1""#;
    let r = parser("main").parse(line).unwrap();
    let want = AccessRecord {
        time: t(1_735_922_578, 0),
        remote_addr: b("172.24.0.2"),
        remote_user: b("alice"),
        request: b("GET / HTTP/1.1"),
        method: b("GET"),
        path: b("/"),
        protocol: b("HTTP/1.1"),
        status: Some(200),
        body_bytes_sent: Some(615),
        referer: b("http://domain.tld/path"),
        user_agent: b("curl/8.11.1"),
        x_forwarded_for: b("1.2.3.4, 10.10.1.1"),
        ..Default::default()
    };
    assert_eq!(r, want);
    // `main` needs the field: a combined line ends early.
    assert_eq!(
        parser("main").parse(
            br#"1.2.3.4 - - [03/Jan/2025:16:42:58 +0000] "GET / HTTP/1.1" 200 615 "-" "curl""#
        ),
        Err(SkipReason::Truncated)
    );
}

#[test]
fn vhost_exact() {
    let line = br#"example.com:80 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0" "-""#;
    let r = parser("vhost_main").parse(line).unwrap();
    let want = AccessRecord {
        time: t(1_481_105_107, 3600),
        remote_addr: b("10.0.0.2, 10.0.0.1, 127.0.0.1"),
        host: b("example.com"),
        server_port: Some(80),
        request: b("GET /ocelot HTTP/1.1"),
        method: b("GET"),
        path: b("/ocelot"),
        protocol: b("HTTP/1.1"),
        status: Some(200),
        body_bytes_sent: Some(571),
        user_agent: b("Mozilla/5.0"),
        ..Default::default()
    };
    assert_eq!(r, want);
    let r = parser("vhost_combined")
        .parse(
            br#"[::1]:8443 ::1 - - [24/Nov/2026:11:16:54 +0000] "GET / HTTP/2.0" 200 3 "-" "curl""#,
        )
        .unwrap();
    assert_eq!(
        (r.host, r.server_port, r.remote_addr),
        (b("[::1]"), Some(8443), b("::1"))
    );
    // No host in front: not this variant.
    assert_eq!(
        parser("vhost_combined").parse(
            br#"1.2.3.4 - - [24/Nov/2026:11:16:54 +0000] "GET / HTTP/2.0" 200 3 "-" "curl""#
        ),
        Err(SkipReason::Unrecognized)
    );
}

#[test]
fn key_value_exact() {
    let line = br#"::1 - - [24/Nov/2026:11:18:02 +0000] "GET /mixed/ok.php HTTP/1.1" 200 13 "-" "curl/7.88.1" rt=0.012 uct="-, 0.000" uht="-, 0.004" urt="0.000, 0.004" ua="unix:/tmp/a.sock, unix:/tmp/b.sock" us="502, 200" rid=0a1b host=[::1] proto=HTTP/1.1 cn=42 pid=7 cf_ray=8a1b-FRA scheme=https zone=eu"#;
    let r = parser("combined_kv").parse(line).unwrap();
    let mut extras = baton_logparse::nginx::access::Extras::default();
    extras.push(b"zone", b"eu");
    let want = AccessRecord {
        time: t(1_795_519_082, 0),
        remote_addr: b("::1"),
        request: b("GET /mixed/ok.php HTTP/1.1"),
        method: b("GET"),
        path: b("/mixed/ok.php"),
        protocol: b("HTTP/1.1"),
        status: Some(200),
        body_bytes_sent: Some(13),
        user_agent: b("curl/7.88.1"),
        request_time_ms: Some(12),
        upstream_connect_time: Some(ValueList(b"-, 0.000")),
        upstream_header_time: Some(ValueList(b"-, 0.004")),
        upstream_response_time: Some(ValueList(b"0.000, 0.004")),
        upstream_addr: Some(ValueList(b"unix:/tmp/a.sock, unix:/tmp/b.sock")),
        upstream_status: Some(ValueList(b"502, 200")),
        request_id: b("0a1b"),
        host: b("[::1]"),
        connection: Some(42),
        pid: Some(7),
        cf_ray: b("8a1b-FRA"),
        scheme: b("https"),
        extras,
        ..Default::default()
    };
    assert_eq!(r, want);
    assert_eq!(r.upstream_status.unwrap().last(), b("200"));
    assert_eq!(
        parser("combined_kv")
            .parse(br#"::1 - - [24/Nov/2026:11:18:02 +0000] "GET / HTTP/1.1" 200 13 "-" "c" rt=x"#),
        Err(SkipReason::BadField)
    );
}

#[test]
fn json_exact() {
    let line = br#"{"time_iso8601":"2026-11-24T11:16:54+01:00","msec":1795515414.058,"remote_addr":"127.0.0.1","remote_user":"","request":"GET /ok.php?a=1 HTTP/1.1","status":"502","body_bytes_sent":13,"request_time":0.250,"http_user_agent":"Mozilla \"q\" \\b\u0009","upstream_status":"502, 200","nested":{"a":[1,"}"]},"x":null}"#;
    let r = parser("json").parse(line).unwrap();
    let mut extras = baton_logparse::nginx::access::Extras::default();
    extras.push(b"nested", br#"{"a":[1,"}"]}"#);
    extras.push(b"x", b"");
    let want = AccessRecord {
        time: Some(Timestamp {
            unix_us: 1_795_515_414_058_000,
            offset_s: 3600,
        }),
        remote_addr: b("127.0.0.1"),
        request: b("GET /ok.php?a=1 HTTP/1.1"),
        method: b("GET"),
        path: b("/ok.php"),
        query: b("a=1"),
        protocol: b("HTTP/1.1"),
        status: Some(502),
        body_bytes_sent: Some(13),
        request_time_ms: Some(250),
        user_agent: b(r#"Mozilla \"q\" \\b\u0009"#),
        upstream_status: Some(ValueList(b"502, 200")),
        extras,
        ..Default::default()
    };
    assert_eq!(r, want);
    let mut p = parser("json");
    assert_eq!(p.parse(br#"{"status":200,"#), Err(SkipReason::Truncated));
    assert_eq!(p.parse(br#"{"status" 200}"#), Err(SkipReason::BadJson));
    assert_eq!(p.parse(br#"{"status":200} x"#), Err(SkipReason::BadJson));
    assert_eq!(
        p.parse(br#"{"EdgeResponseStatus":502}"#),
        Err(SkipReason::Unrecognized)
    );
    assert_eq!(p.parse(b"not json"), Err(SkipReason::Unrecognized));
    assert_eq!(p.parse(br#"{"status":"2000"}"#), Err(SkipReason::BadField));
}

#[test]
fn log_format_exact() {
    let mut p = AccessParser::from_log_format(
        r#"log_format t escape=default '$host:$server_port $remote_addr [$time_local] "$request_method ${request_uri} $server_protocol" '
                    '$status $bytes_sent $request_time $connection $pid "$http_cf_ray" $scheme $ssl_protocol $server_name '
                    '$upstream_addr $upstream_status $msec $geoip_country';"#,
    )
    .unwrap();
    assert_eq!(p.variant(), "custom");
    let line = br#"shop.example:443 10.0.0.9 [24/Nov/2026:11:16:54 +0000] "POST /api/x?y=1 HTTP/2.0" 504 187 60.001 812 3101 "8a1b2c-FRA" https TLSv1.3 shop 10.0.0.1:9000, 10.0.0.2:9000 : unix:/run/fpm.sock 502, 504 : 504 1795519014.250 DE"#;
    let r = p.parse(line).unwrap();
    let mut extras = baton_logparse::nginx::access::Extras::default();
    extras.push(b"geoip_country", b"DE");
    let want = AccessRecord {
        time: Some(Timestamp {
            unix_us: 1_795_519_014_250_000,
            offset_s: 0,
        }),
        host: b("shop.example"),
        server_port: Some(443),
        remote_addr: b("10.0.0.9"),
        method: b("POST"),
        path: b("/api/x"),
        query: b("y=1"),
        protocol: b("HTTP/2.0"),
        status: Some(504),
        bytes_sent: Some(187),
        request_time_ms: Some(60_001),
        connection: Some(812),
        pid: Some(3101),
        cf_ray: b("8a1b2c-FRA"),
        scheme: b("https"),
        ssl_protocol: b("TLSv1.3"),
        server_name: b("shop"),
        upstream_addr: Some(ValueList(
            b"10.0.0.1:9000, 10.0.0.2:9000 : unix:/run/fpm.sock",
        )),
        upstream_status: Some(ValueList(b"502, 504 : 504")),
        extras,
        ..Default::default()
    };
    assert_eq!(r, want);
    let addrs: Vec<&[u8]> = r.upstream_addr.unwrap().iter().collect();
    assert_eq!(
        addrs,
        [
            &b"10.0.0.1:9000"[..],
            b"10.0.0.2:9000",
            b"unix:/run/fpm.sock"
        ]
    );
    // Skip reasons.
    assert_eq!(p.parse(&line[..60]), Err(SkipReason::Truncated));
    assert_eq!(p.parse(b"garbage"), Err(SkipReason::Unrecognized));
    let bad_port = br#"shop.example:4x3 10.0.0.9 [24/Nov/2026:11:16:54 +0000] "POST /api/x?y=1 HTTP/2.0" 504 187 60.001 812 3101 "-" https - shop - - 1795519014.250 DE"#;
    assert_eq!(p.parse(bad_port), Err(SkipReason::BadField));
    let bad_time = br#"shop.example:443 10.0.0.9 [24/Nov/2026:11:16:54 +0000 ] "POST /api/x?y=1 HTTP/2.0" 504 187 60.001 812 3101 "-" https - shop - - 1795519014.250 DE"#;
    assert_eq!(p.parse(bad_time), Err(SkipReason::BadTimestamp));
    // Bad format strings.
    assert!(AccessParser::from_log_format("$status$body_bytes_sent").is_err());
    assert!(AccessParser::from_log_format("").is_err());
}

#[test]
fn log_format_escape_json() {
    let mut p = AccessParser::from_log_format(
        r#"log_format j escape=json '{"ua":"$http_user_agent","status":$status}';"#,
    )
    .unwrap();
    let r = p
        .parse(br#"{"ua":"a \"q\",\"status\":1 \\","status":499}"#)
        .unwrap();
    assert_eq!(r.user_agent, b(r#"a \"q\",\"status\":1 \\"#));
    assert_eq!(r.status, Some(499));
}

#[test]
fn detection_picks_the_most_specific_variant() {
    let cases: [(&[u8], &str, usize); 6] = [
        (fixture!("lab/phaseA/access.combined.log"), "combined", 97),
        (fixture!("lab/phaseA/access.main.log"), "main", 97),
        (
            fixture!("lab/phaseA/access.upstream_timing.log"),
            "combined_kv",
            97,
        ),
        (fixture!("lab/phaseA/access.json.log"), "json", 97),
        (fixture!("beats/test-with-host.log"), "vhost_combined", 10),
        (fixture!("beats/access.log"), "combined", 13),
    ];
    for (data, name, n) in cases {
        let (p, got) = AccessParser::detect(data).unwrap();
        assert_eq!((p.variant(), got), (name, n));
    }
    assert!(AccessParser::detect(b"2025/01/03 16:41:26 [error] 31#31: *3 x\n").is_none());
    assert!(AccessParser::detect(b"").is_none());
}

// ---------------------------------------------------------------------
// The lab: four renderings of the same requests; JSON is the oracle.
// ---------------------------------------------------------------------

const LAB_UPSTREAM_TIMING: &str = r#"log_format upstream_timing '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" '
                    'uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" '
                    'us="$upstream_status" rid=$request_id host=$host proto=$server_protocol';"#;

fn lines(data: &[u8]) -> Vec<&[u8]> {
    Lines::new(data).map(|(_, l)| l).collect()
}

fn lab_phase(combined: &[u8], main: &[u8], timing: &[u8], json: &[u8], n: usize) {
    // The log_format in the lab's nginx.conf is the one the lines came from.
    let conf = std::str::from_utf8(fixture!("lab/nginx.conf")).unwrap();
    let start = conf.find("log_format upstream_timing").unwrap();
    let end = start + conf[start..].find(';').unwrap() + 1;
    assert_eq!(&conf[start..end], LAB_UPSTREAM_TIMING);
    let mut plan = AccessParser::from_log_format(&conf[start..end]).unwrap();
    let (mut detected, _) = AccessParser::detect(timing).unwrap();
    assert_eq!(detected.variant(), "combined_kv");
    let (mut pc, mut pm, mut pj) = (parser("combined"), parser("main"), parser("json"));
    let (c, m, u, j) = (lines(combined), lines(main), lines(timing), lines(json));
    assert_eq!((c.len(), m.len(), u.len(), j.len()), (n, n, n, n));
    for i in 0..n {
        let jr = pj.parse(j[i]).unwrap();
        let cr = pc.parse(c[i]).unwrap();
        let mr = pm.parse(m[i]).unwrap();
        let ur = detected.parse(u[i]).unwrap();
        let ur2 = plan.parse(u[i]).unwrap();
        assert_eq!(ur, ur2, "line {}: detection and log_format disagree", i + 1);
        let jt = jr.time.unwrap();
        for r in [&cr, &mr, &ur] {
            let ctx = format!("line {}", i + 1);
            let rt = r.time.unwrap();
            assert_eq!(
                (rt.unix_secs(), rt.offset_s),
                (jt.unix_secs(), jt.offset_s),
                "{ctx}"
            );
            assert_eq!(r.remote_addr, jr.remote_addr, "{ctx}");
            assert_eq!(r.remote_user, jr.remote_user, "{ctx}");
            assert_eq!(unesc(r.request), unesc(jr.request), "{ctx}");
            assert_eq!(unesc(r.method), unesc(jr.method), "{ctx}");
            assert_eq!(unesc(r.path), unesc(jr.path), "{ctx}");
            assert_eq!(unesc(r.query), unesc(jr.query), "{ctx}");
            assert_eq!(r.status, jr.status, "{ctx}");
            assert_eq!(r.body_bytes_sent, jr.body_bytes_sent, "{ctx}");
            assert_eq!(unesc(r.referer), unesc(jr.referer), "{ctx}");
            assert_eq!(unesc(r.user_agent), unesc(jr.user_agent), "{ctx}");
        }
        assert_eq!(mr.x_forwarded_for, jr.x_forwarded_for, "line {}", i + 1);
        assert_eq!(ur.request_time_ms, jr.request_time_ms, "line {}", i + 1);
        assert_eq!(ur.upstream_addr, jr.upstream_addr, "line {}", i + 1);
        assert_eq!(ur.upstream_status, jr.upstream_status, "line {}", i + 1);
        assert_eq!(
            ur.upstream_response_time,
            jr.upstream_response_time,
            "line {}",
            i + 1
        );
        assert_eq!(ur.request_id, jr.request_id, "line {}", i + 1);
        assert!(
            jr.request_time_ms.is_some() && ur.host.is_some(),
            "line {}",
            i + 1
        );
    }
}

#[test]
fn lab_phase_a_renderings_agree_with_json() {
    lab_phase(
        fixture!("lab/phaseA/access.combined.log"),
        fixture!("lab/phaseA/access.main.log"),
        fixture!("lab/phaseA/access.upstream_timing.log"),
        fixture!("lab/phaseA/access.json.log"),
        97,
    );
}

#[test]
fn lab_phase_c_renderings_agree_with_json() {
    lab_phase(
        fixture!("lab/phaseC/access.combined.log"),
        fixture!("lab/phaseC/access.main.log"),
        fixture!("lab/phaseC/access.upstream_timing.log"),
        fixture!("lab/phaseC/access.json.log"),
        4,
    );
}

#[test]
fn lab_hand_checked_lines() {
    // Hand-written expectations for notable lab lines.
    let c = lines(fixture!("lab/phaseA/access.combined.log"));
    let j = lines(fixture!("lab/phaseA/access.json.log"));
    let mut p = parser("combined");
    let r = p.parse(c[8]).unwrap();
    assert_eq!(r.referer, b(r"https://ref.example/?q=\x22x\x22"));
    assert_eq!(
        unesc(r.user_agent),
        Some(b"Mozilla/5.0 \"quoted\" \\backslash\\ tab\tend".to_vec())
    );
    let r = parser("json").parse(j[8]).unwrap();
    assert_eq!(r.referer, b(r#"https://ref.example/?q=\"x\""#));
    assert_eq!(r.time.unwrap().unix_us, 1_795_519_014_058_000);
    // Every 502/504 of phase A, from the JSON twin.
    let mut pj = parser("json");
    let gateway: usize = j
        .iter()
        .filter(|l| matches!(pj.parse(l).unwrap().status, Some(502 | 504)))
        .count();
    let mut pc = parser("combined");
    let gateway_c: usize = c
        .iter()
        .filter(|l| matches!(pc.parse(l).unwrap().status, Some(502 | 504)))
        .count();
    assert_eq!(gateway, gateway_c);
    let d = lines(fixture!("lab/phaseD/access.upstream_timing.log"));
    let mut pu = AccessParser::from_log_format(LAB_UPSTREAM_TIMING).unwrap();
    assert!(d.iter().all(|l| pu.parse(l).is_ok()));
}

// ---------------------------------------------------------------------
// Peers' expected output.
// ---------------------------------------------------------------------

fn json(data: &[u8]) -> Value {
    serde_json::from_slice(data).unwrap()
}

fn jstr(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// A peer's string value in our terms: `-` and empty are absent.
fn peer(v: &Value) -> Option<String> {
    jstr(v).filter(|s| !s.is_empty() && s != "-")
}

const INGRESS_UPSTREAMINFO: &str = r#"'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id'"#;

#[test]
fn vrl_cases() {
    let cases = json(fixture!("vrl/parse_nginx_log.cases.json"));
    let mut seen = 0;
    for c in cases["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let line = c["line"].as_str().unwrap().as_bytes();
        let e = &c["expected"];
        let mut p = match c["format"].as_str().unwrap() {
            "combined" => parser("combined"),
            "main" => parser("main"),
            "ingress_upstreaminfo" => AccessParser::from_log_format(INGRESS_UPSTREAMINFO).unwrap(),
            _ => continue,
        };
        seen += 1;
        if c.get("expect_error").is_some() {
            assert_eq!(p.parse(line), Err(SkipReason::Unrecognized), "{name}");
            continue;
        }
        let r = p.parse(line).unwrap();
        let get = |a: &str, b: &str| if e[a].is_null() { &e[b] } else { &e[a] };
        assert_eq!(
            text(r.remote_addr),
            peer(get("client", "remote_addr")),
            "{name}"
        );
        assert_eq!(
            text(r.remote_user),
            peer(get("user", "remote_user")),
            "{name}"
        );
        assert_eq!(text(r.request), peer(&e["request"]), "{name}");
        assert_eq!(r.status, e["status"].as_u64().map(|s| s as u16), "{name}");
        let size = get("size", "body_bytes_size").as_u64();
        assert_eq!(r.body_bytes_sent, size, "{name}");
        assert_eq!(
            text(r.referer),
            peer(get("referer", "http_referer")),
            "{name}"
        );
        assert_eq!(
            text(r.user_agent),
            peer(get("agent", "http_user_agent")),
            "{name}"
        );
        assert_eq!(
            text(r.x_forwarded_for),
            peer(&e["http_x_forwarded_for"]),
            "{name}"
        );
        let ts = chrono_secs(e["timestamp"].as_str().unwrap());
        assert_eq!(r.time.unwrap().unix_secs(), ts, "{name}");
        if let Some(rt) = e["request_time"].as_f64() {
            assert_eq!(
                r.request_time_ms,
                Some((rt * 1000.0).round() as u64),
                "{name}"
            );
            assert_eq!(text(r.request_id), peer(&e["req_id"]), "{name}");
            assert_eq!(
                text(r.upstream_addr.map(|v| v.raw())),
                peer(&e["upstream_addr"]),
                "{name}"
            );
            let us = e["upstream_status"].as_u64().map(|s| s.to_string());
            assert_eq!(text(r.upstream_status.map(|v| v.raw())), us, "{name}");
            assert_eq!(
                text(r.extras.get(b"proxy_upstream_name")),
                peer(&e["proxy_upstream_name"]),
                "{name}"
            );
        }
    }
    assert_eq!(seen, 15);
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS(Z|±hh:mm)`.
fn chrono_secs(s: &str) -> i64 {
    baton_logparse::time::parse_iso8601(s.as_bytes())
        .unwrap()
        .unix_secs()
}

#[test]
fn fluentd_cases() {
    // fluentd's regex reads `<remote> <host> <user>`: in nginx terms the
    // second field sits where combined has the ident `-`.
    let cases = json(fixture!("fluentd/test_parser_nginx.cases.json"));
    for c in cases["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let line = c["line"].as_str().unwrap().as_bytes();
        let e = &c["expected"];
        let xff = e.get("http_x_forwarded_for").is_some();
        let r = parser(if xff { "main" } else { "combined" })
            .parse(line)
            .unwrap();
        assert_eq!(text(r.remote_addr), peer(&e["remote"]), "{name}");
        assert_eq!(text(r.remote_user), peer(&e["user"]), "{name}");
        assert_eq!(text(r.method), peer(&e["method"]), "{name}");
        assert_eq!(text(r.path), peer(&e["path"]), "{name}");
        assert_eq!(r.status.map(|s| s.to_string()), peer(&e["code"]), "{name}");
        assert_eq!(
            r.body_bytes_sent.map(|s| s.to_string()),
            peer(&e["size"]),
            "{name}"
        );
        assert_eq!(text(r.referer), peer(&e["referer"]), "{name}");
        assert_eq!(text(r.user_agent), peer(&e["agent"]), "{name}");
        assert_eq!(
            text(r.x_forwarded_for),
            peer(&e["http_x_forwarded_for"]),
            "{name}"
        );
        assert_eq!(
            r.time.unwrap().unix_secs(),
            chrono_secs("2013-02-28T12:00:00+09:00")
        );
    }
}

fn check_datadog(r: &AccessRecord<'_>, e: &Value, name: &str) {
    assert_eq!(
        r.time.unwrap().unix_secs() * 1000,
        e["date_access"].as_i64().unwrap(),
        "{name}"
    );
    assert_eq!(text(r.method), peer(&e["http.method"]), "{name}");
    assert_eq!(
        r.status.map(u64::from),
        e["http.status_code"].as_u64(),
        "{name}"
    );
    assert_eq!(
        r.body_bytes_sent,
        e["network.bytes_written"].as_u64(),
        "{name}"
    );
    assert_eq!(text(r.remote_addr), peer(&e["network.client.ip"]), "{name}");
    assert_eq!(text(r.remote_user), peer(&e["http.auth"]), "{name}");
    assert_eq!(text(r.referer), peer(&e["http.referer"]), "{name}");
    if let Some(ua) = peer(&e["http.useragent"]) {
        assert_eq!(text(r.user_agent), Some(ua), "{name}");
    }
    let url = jstr(&e["http.url"]).unwrap();
    let mut want = text(r.path).unwrap();
    if let Some(q) = text(r.query) {
        want = format!("{want}?{q}");
    }
    assert_eq!(want, url, "{name}");
    let proto = text(r.protocol).unwrap();
    assert_eq!(
        proto.strip_prefix("HTTP/"),
        e["http.version"].as_str(),
        "{name}"
    );
}

#[test]
fn datadog_nginx_cases() {
    let cases = json(fixture!("datadog/nginx_tests.condensed.json"));
    let mut p = parser("combined");
    let mut parsed = 0;
    for (i, c) in cases["tests"].as_array().unwrap().iter().enumerate() {
        let line = c["sample"].as_str().unwrap().as_bytes();
        let e = &c["result"];
        if e["level"].is_string() {
            // Error-log lines are not access lines.
            assert_eq!(p.parse(line), Err(SkipReason::Unrecognized), "case {i}");
            continue;
        }
        let r = p.parse(line).unwrap();
        check_datadog(&r, e, &format!("case {i}"));
        parsed += 1;
    }
    assert_eq!(parsed, 4);
}

#[test]
fn datadog_ingress_cases() {
    // The old ingress-nginx format, then today's upstreaminfo.
    let mut old = AccessParser::from_log_format(
        r#"$remote_addr - [$proxy_add_x_forwarded_for] - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#,
    )
    .unwrap();
    let mut new = AccessParser::from_log_format(
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#,
    )
    .unwrap();
    let mut old_alt = AccessParser::from_log_format(
        r#"$remote_addr - [$proxy_add_x_forwarded_for] - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#,
    )
    .unwrap();
    let mut upstreaminfo = AccessParser::from_log_format(INGRESS_UPSTREAMINFO).unwrap();
    let cases = json(fixture!(
        "datadog/nginx-ingress-controller_tests.condensed.json"
    ));
    let mut parsed = 0;
    for (i, c) in cases["tests"].as_array().unwrap().iter().enumerate() {
        let line = c["sample"].as_str().unwrap().as_bytes();
        let e = &c["result"];
        let name = format!("case {i}");
        if e["level"].is_string() {
            assert_eq!(new.parse(line), Err(SkipReason::Unrecognized), "{name}");
            continue;
        }
        // Three ingress-nginx versions: the old `- [$proxy_add_x_forwarded_for] -`
        // prefix, with or without `[$proxy_alternative_upstream_name]`.
        let alt = line.windows(3).any(|w| w == b"] [");
        let p = match (line.starts_with(b"172.17.0.1 - ["), alt) {
            (true, true) => &mut old_alt,
            (true, false) => &mut old,
            (false, true) => &mut upstreaminfo,
            (false, false) => &mut new,
        };
        let r = match p.parse(line) {
            Ok(r) => r,
            Err(reason) => {
                // The sample without `$req_id` ends before the format does.
                assert!(e["http.request_id"].is_null(), "{name}");
                assert_eq!(reason, SkipReason::Truncated, "{name}");
                continue;
            }
        };
        parsed += 1;
        check_datadog(&r, e, &name);
        assert_eq!(
            r.request_time_ms,
            Some((e["duration"].as_f64().unwrap() / 1e6) as u64),
            "{name}"
        );
        assert_eq!(text(r.request_id), peer(&e["http.request_id"]), "{name}");
        assert_eq!(
            text(r.extras.get(b"proxy_upstream_name")),
            peer(&e["proxy.name"]),
            "{name}"
        );
        // DataDog keeps the first upstream; we keep the whole list.
        let first_status = text(r.upstream_status.and_then(|v| v.iter().next()));
        let want = e["http.upstream_status_code"]
            .as_f64()
            .map(|s| (s as u64).to_string());
        assert_eq!(first_status, want, "{name}");
        let first_addr = text(r.upstream_addr.and_then(|v| v.iter().next()));
        let want = e["network.destination.ip"].as_str().map(|ip| {
            let port = e["network.destination.port"].as_f64().unwrap() as u64;
            format!("{ip}:{port}")
        });
        assert_eq!(first_addr, want, "{name}");
    }
    assert_eq!(parsed, 7);
}

#[test]
fn beats_access_expected() {
    let data = fixture!("beats/test.log");
    let exp = json(fixture!("beats/test.log-expected.condensed.json"));
    let mut p = parser("combined");
    let events = exp["events"].as_array().unwrap();
    let mut n = 0;
    for (off, line) in Lines::new(data) {
        let e = events
            .iter()
            .find(|e| e["log.offset"].as_u64() == Some(off as u64))
            .unwrap();
        let r = p.parse(line).unwrap();
        let name = format!("offset {off}");
        let ts = chrono_secs(e["@timestamp"].as_str().unwrap());
        assert_eq!(r.time.unwrap().unix_secs(), ts, "{name}");
        assert_eq!(
            r.status.map(u64::from),
            e["http.response.status_code"].as_u64(),
            "{name}"
        );
        assert_eq!(
            r.body_bytes_sent,
            e["http.response.body.bytes"].as_u64(),
            "{name}"
        );
        assert_eq!(text(r.method), peer(&e["http.request.method"]), "{name}");
        assert_eq!(
            text(r.path),
            peer(&e["url.original"]).map(|u| u.split('?').next().unwrap().to_owned()),
            "{name}"
        );
        assert_eq!(
            text(r.user_agent),
            peer(&e["user_agent.original"]),
            "{name}"
        );
        assert_eq!(text(r.referer), peer(&e["http.request.referrer"]), "{name}");
        assert_eq!(text(r.remote_user), peer(&e["user.name"]), "{name}");
        // Our remote_addr keeps the list raw; beats splits it.
        let list: Vec<String> = e["nginx.access.remote_ip_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let ours: Vec<String> = text(r.remote_addr)
            .unwrap()
            .split([',', ' ', '"'])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        assert_eq!(ours, list, "{name}");
        n += 1;
    }
    assert_eq!(n, 7);
    // The other two beats files: every line parses; exact values for some.
    let (mut hp, nh) = AccessParser::detect(fixture!("beats/test-with-host.log")).unwrap();
    assert_eq!(nh, 10);
    let l = lines(fixture!("beats/test-with-host.log"));
    assert_eq!(l.len(), 10);
    let find = |p: &str| *l.iter().find(|l| l.starts_with(p.as_bytes())).unwrap();
    let r = hp.parse(find("1.128.3.4:80 ")).unwrap();
    assert_eq!(
        (r.host, r.server_port, r.remote_addr),
        (b("1.128.3.4"), Some(80), b("127.0.0.1"))
    );
    assert_eq!((r.request, r.status), (None, Some(400)));
    let r = hp.parse(find("example.com:80 unix:")).unwrap();
    assert_eq!(
        (r.host, r.remote_addr, r.request, r.method),
        (b("example.com"), b("unix:"), b("hello"), None)
    );
    assert_eq!(
        lines(fixture!("beats/access.log"))
            .iter()
            .filter(|l| p.parse(l).is_ok())
            .count(),
        13
    );
}

#[test]
fn beats_ingress_expected() {
    let data = fixture!("beats/ingress_controller.log");
    let exp = json(fixture!(
        "beats/ingress_controller.log-expected.condensed.json"
    ));
    let mut p = AccessParser::from_log_format(INGRESS_UPSTREAMINFO).unwrap();
    for e in exp["events"].as_array().unwrap() {
        let off = e["log.offset"].as_u64().unwrap() as usize;
        let line = Lines::new(&data[off..]).next().unwrap().1;
        let r = p.parse(line).unwrap();
        let name = format!("offset {off}");
        assert_eq!(
            r.status.map(u64::from),
            e["http.response.status_code"].as_u64(),
            "{name}"
        );
        assert_eq!(
            r.body_bytes_sent,
            e["http.response.body.bytes"].as_u64(),
            "{name}"
        );
        assert_eq!(text(r.method), peer(&e["http.request.method"]), "{name}");
        assert_eq!(text(r.path), peer(&e["url.original"]), "{name}");
        if let Some(rt) = e["nginx.ingress_controller.http.request.time"].as_f64() {
            assert_eq!(
                r.request_time_ms,
                Some((rt * 1000.0).round() as u64),
                "{name}"
            );
        }
        let addrs: Vec<String> = e["nginx.ingress_controller.upstream_address_list"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        if let Some(times) = e["nginx.ingress_controller.upstream.response.time_list"].as_array() {
            let times: Vec<&str> = times.iter().map(|v| v.as_str().unwrap()).collect();
            let ours: Vec<String> = r
                .upstream_response_time
                .unwrap()
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            assert_eq!(ours, times, "{name}");
        }
        let ours: Vec<String> = r
            .upstream_addr
            .map(|v| {
                v.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(ours, addrs, "{name}");
        if !e["nginx.ingress_controller.upstream.name"].is_null() {
            assert_eq!(
                text(
                    r.extras
                        .get(b"proxy_upstream_name")
                        .filter(|v| !v.is_empty())
                ),
                peer(&e["nginx.ingress_controller.upstream.name"]),
                "{name}"
            );
        }
    }
    // Every line of the file, including invalid methods and IPv6 upstreams.
    let ls = lines(data);
    assert_eq!(ls.iter().filter(|l| p.parse(l).is_ok()).count(), ls.len());
}

fn crowdsec(log: &[u8], expected: &[u8], parser_name: &str, want_events: usize) {
    let exp = json(expected);
    let events = exp["s01_parse"][parser_name].as_array().unwrap();
    let mut p = parser("vhost_combined");
    let mut q = parser("combined");
    let mut n = 0;
    for ev in events.iter().filter(|e| e["success"] == Value::Bool(true)) {
        let e = &ev["parsed"];
        // Error-log events reach the same parser: not ours.
        let (Some(msg), true) = (e["message"].as_str(), e["status"].is_string()) else {
            continue;
        };
        let line = Lines::new(log)
            .map(|(_, l)| l)
            .find(|l| *l == msg.as_bytes())
            .unwrap();
        let r = if e["target_fqdn"].is_string() {
            p.parse(line).unwrap()
        } else {
            q.parse(line).unwrap()
        };
        let name = msg.to_owned();
        assert_eq!(text(r.remote_addr), peer(&e["remote_addr"]), "{name}");
        assert_eq!(text(r.remote_user), peer(&e["remote_user"]), "{name}");
        assert_eq!(
            r.status.map(|s| s.to_string()),
            peer(&e["status"]),
            "{name}"
        );
        assert_eq!(
            r.body_bytes_sent.map(|s| s.to_string()),
            peer(&e["body_bytes_sent"]),
            "{name}"
        );
        assert_eq!(text(r.referer), peer(&e["http_referer"]), "{name}");
        assert_eq!(text(r.user_agent), peer(&e["http_user_agent"]), "{name}");
        if let Some(verb) = peer(&e["verb"]) {
            // crowdsec's `request` is the URI.
            assert_eq!(text(r.method), Some(verb), "{name}");
            let mut uri = text(r.path).unwrap_or_default();
            if let Some(q) = text(r.query) {
                uri = format!("{uri}?{q}");
            }
            let want = peer(&e["request"]).unwrap();
            let want = want
                .strip_prefix("http://")
                .map_or(want.clone(), |u| u[u.find('/').unwrap()..].to_owned());
            assert_eq!(uri, want, "{name}");
        } else {
            assert_eq!(text(r.request), peer(&e["request"]), "{name}");
            assert_eq!(r.method, None, "{name}");
        }
        if let Some(host) = peer(&e["target_fqdn"]) {
            assert_eq!(text(r.host), Some(host), "{name}");
        }
        n += 1;
    }
    assert_eq!(n, want_events);
}

#[test]
fn crowdsec_expected() {
    crowdsec(
        fixture!("crowdsec/nginx_http-logs/nginx_http-logs.log"),
        fixture!("crowdsec/nginx_http-logs/parser.assert.s01-parse.json"),
        "crowdsecurity/nginx-logs",
        8,
    );
    crowdsec(
        fixture!("crowdsec/nginx-http-malformed/nginx_http-logs.log"),
        fixture!("crowdsec/nginx-http-malformed/parser.assert.s01-parse.json"),
        "crowdsecurity/nginx-logs",
        12,
    );
}

#[test]
fn not_access_lines_are_skipped_with_a_reason() {
    let mut p = parser("combined");
    // Nginx Proxy Manager's own format and error-log lines.
    for line in lines(fixture!(
        "crowdsec/nginx-proxy-manager-logs/nginx-proxy-manager-logs.log"
    )) {
        let want = if line.starts_with(b"1.2.3.4 ") {
            Ok(())
        } else {
            Err(SkipReason::Unrecognized)
        };
        assert_eq!(
            p.parse(line).map(|_| ()),
            want,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    // The vhost/TLS format `[time] host ip rt "request" ...`: the address
    // prefix is missing.
    for line in lines(fixture!(
        "crowdsec/nginx_http-catch-npm/nginx_http-catch-npm.log"
    )) {
        assert_eq!(p.parse(line).map(|_| ()), Err(SkipReason::Unrecognized));
    }
    // lnav's "bad" log: one line with neither ident nor user.
    let bad = lines(fixture!("lnav/logfile_bad_access_log.0"));
    let got: Vec<Result<(), SkipReason>> = bad.iter().map(|l| p.parse(l).map(|_| ())).collect();
    assert_eq!(got, [Ok(()), Err(SkipReason::Unrecognized), Ok(())]);
}

#[test]
fn lnav_samples() {
    let mut p = parser("combined");
    let r = p
        .parse(lines(fixture!("lnav/logfile_access_log.1"))[0])
        .unwrap();
    assert_eq!(
        (r.request, r.method, r.status, r.body_bytes_sent),
        (None, None, Some(400), Some(0))
    );
    let l0 = lines(fixture!("lnav/logfile_access_log.0"));
    assert!(l0.iter().all(|l| p.parse(l).is_ok()));
    let (mut v, n) = AccessParser::detect(fixture!("lnav/logfile_regexp_access_log.0")).unwrap();
    assert_eq!((v.variant(), n), ("vhost_combined", 2));
    let r = v
        .parse(lines(fixture!("lnav/logfile_regexp_access_log.0"))[0])
        .unwrap();
    assert_eq!(
        (r.host, r.server_port, r.remote_user),
        (b("localhost"), Some(443), b("jsmith"))
    );
    let samples = json(fixture!("lnav/lnav-format-samples.json"));
    let got: Vec<Result<(), SkipReason>> = samples["samples"]["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| p.parse(s.as_str().unwrap().as_bytes()).map(|_| ()))
        .collect();
    use SkipReason::*;
    assert_eq!(
        got,
        [
            Ok(()),
            Ok(()),
            Err(Unrecognized),
            Err(Unrecognized),
            Ok(()),
            Ok(()),
            Ok(()),
            Err(BadTimestamp),
            Ok(())
        ]
    );
}

#[test]
fn ops_agent_expected() {
    // Values transcribed by hand from output_fluentbit.yaml (first three entries).
    let yaml = std::str::from_utf8(fixture!("ops-agent/output_fluentbit.yaml")).unwrap();
    let l = lines(fixture!("ops-agent/input.log"));
    let mut p = parser("combined");
    let want = [
        (
            "127.0.0.1",
            "GET",
            "/index.html",
            200,
            2326,
            None,
            None,
            "2000-10-10T20:55:36",
        ),
        (
            "::1",
            "GET",
            "/",
            200,
            10701,
            None,
            Some("curl/7.64.0"),
            "2021-08-26T16:49:43",
        ),
        (
            "192.168.1.100",
            "GET",
            "/apache_pb.gif",
            200,
            2326,
            Some("http://www.example.com/start.html"),
            Some("Mozilla/4.08 [en] (Win98; I ;Nav)"),
            "2000-10-10T20:55:36",
        ),
    ];
    for (i, (ip, m, url, st, size, rf, ua, ts)) in want.into_iter().enumerate() {
        assert!(yaml.contains(&format!("timestamp: {ts}")));
        let r = p.parse(l[i]).unwrap();
        assert_eq!(text(r.remote_addr).as_deref(), Some(ip));
        assert_eq!(
            (text(r.method).as_deref(), text(r.path).as_deref()),
            (Some(m), Some(url))
        );
        assert_eq!((r.status, r.body_bytes_sent), (Some(st), Some(size)));
        assert_eq!(
            (text(r.referer).as_deref(), text(r.user_agent).as_deref()),
            (rf, ua)
        );
        assert_eq!(r.time.unwrap().unix_secs(), chrono_secs(&format!("{ts}Z")));
    }
    assert!(l.iter().all(|l| p.parse(l).is_ok()));
}

// ---------------------------------------------------------------------
// Never panic; a valid line between garbage parses the same.
// ---------------------------------------------------------------------

#[derive(Default)]
struct Collect(Vec<(u64, String)>);

impl Sink<AccessParser> for Collect {
    fn record(&mut self, r: AccessRecord<'_>, loc: Loc) {
        self.0.push((loc.line, format!("{r:?}")));
    }
    fn append(&mut self, later: Collect, shift: u64) {
        self.0
            .extend(later.0.into_iter().map(|(l, s)| (l + shift, s)));
    }
}

fn all_parsers() -> Vec<AccessParser> {
    let mut v: Vec<AccessParser> = AccessParser::VARIANTS.iter().map(|n| parser(n)).collect();
    v.push(AccessParser::from_log_format(LAB_UPSTREAM_TIMING).unwrap());
    v.push(AccessParser::from_log_format(INGRESS_UPSTREAMINFO).unwrap());
    v.push(
        AccessParser::from_log_format(r#"escape=json '{"r":"$request","s":$status,"x":"$x"}'"#)
            .unwrap(),
    );
    v
}

fn valid_lines() -> Vec<(&'static str, &'static [u8])> {
    let mut v = Vec::new();
    for (name, data) in [
        ("combined", &fixture!("lab/phaseA/access.combined.log")[..]),
        ("main", fixture!("lab/phaseA/access.main.log")),
        (
            "combined_kv",
            fixture!("lab/phaseA/access.upstream_timing.log"),
        ),
        ("json", fixture!("lab/phaseA/access.json.log")),
        ("vhost_combined", fixture!("beats/test-with-host.log")),
    ] {
        for l in lines(data) {
            v.push((name, l));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for mut p in all_parsers() {
            let _ = p.parse(&bytes);
        }
    }

    #[test]
    fn truncated_and_mutated_lines_never_panic(i in 0usize..10_000, cut in 0usize..5000, flip in any::<u8>(), at in 0usize..5000) {
        let lines = valid_lines();
        let (_, line) = lines[i % lines.len()];
        let cut = cut % (line.len() + 1);
        let mut m = line.to_vec();
        if !m.is_empty() {
            let k = at % m.len();
            m[k] = flip;
        }
        for mut p in all_parsers() {
            let _ = p.parse(&line[..cut]);
            let _ = p.parse(&m);
        }
    }

    #[test]
    fn valid_line_between_garbage_parses_the_same(
        i in 0usize..10_000,
        before in proptest::collection::vec(any::<u8>(), 0..200),
        after in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let lines = valid_lines();
        let (name, line) = lines[i % lines.len()];
        let mut p = parser(name);
        let want = format!("{:?}", p.parse(line).unwrap());
        let strip = |v: Vec<u8>| -> Vec<u8> { v.into_iter().filter(|&c| c != b'\n').collect() };
        let mut buf = strip(before);
        buf.push(b'\n');
        buf.extend_from_slice(line);
        buf.push(b'\n');
        buf.extend_from_slice(&strip(after));
        let opts = ScanOptions { parallel: false, ..ScanOptions::default() };
        let (sink, tally): (Collect, _) = scan_slice(&buf, 0, &p, &opts, &Collect::default);
        prop_assert_eq!(tally.lines, tally.parsed + tally.skipped());
        prop_assert!(sink.0.iter().any(|(l, s)| *l == 2 && *s == want));
    }
}
