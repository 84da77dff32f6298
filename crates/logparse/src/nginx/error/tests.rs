use proptest::prelude::*;

use super::*;

fn parse(line: &[u8]) -> ErrorRecord<'_> {
    ErrorParser::new(Zone::UTC).parse(line).unwrap()
}

/// Every field of a record, the context parsed: what the tests spell out.
#[derive(Debug, PartialEq)]
struct Full<'a> {
    time: Timestamp,
    level: Level,
    pid: u32,
    tid: u64,
    connection: Option<u64>,
    message: &'a [u8],
    errno: Option<u16>,
    phase: Option<Phase>,
    upstream_class: UpstreamClass,
    context: Context<'a>,
    php: Option<PhpMessage<'a>>,
}

/// `line` parsed, with its context.
fn full(line: &[u8]) -> Full<'_> {
    let r = parse(line);
    Full {
        time: r.time,
        level: r.level,
        pid: r.pid,
        tid: r.tid,
        connection: r.connection,
        message: r.message,
        errno: r.errno,
        phase: r.phase,
        upstream_class: r.upstream_class,
        context: r.context(),
        php: r.php,
    }
}

/// The record every field of which a test spells out.
#[allow(clippy::too_many_arguments)]
fn rec<'a>(
    time: &str,
    level: Level,
    pid: u32,
    tid: u64,
    connection: Option<u64>,
    message: &'a str,
    errno: Option<u16>,
    phase: Option<Phase>,
    upstream_class: UpstreamClass,
    ctx: [Option<&'a str>; 6],
) -> Full<'a> {
    let [client, server, request, upstream, host, referrer] = ctx.map(|v| v.map(str::as_bytes));
    Full {
        time: crate::time::parse_iso8601(time.as_bytes()).unwrap(),
        level,
        pid,
        tid,
        connection,
        message: message.as_bytes(),
        errno,
        phase,
        upstream_class,
        context: Context {
            client,
            server,
            request,
            upstream,
            host,
            referrer,
        },
        php: None,
    }
}

const LAB_UPSTREAM: &str = "fastcgi://unix:/tmp/lab/php-fpm-www.sock:";

#[test]
fn connect_refused() {
    let l = br#"2026/11/24 11:18:04 [error] 31577#31577: *150 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /refused/index.php HTTP/1.1", upstream: "fastcgi://127.0.0.1:9999", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:18:04+00:00",
            Level::Error,
            31577,
            31577,
            Some(150),
            "connect() failed (111: Connection refused) while connecting to upstream",
            Some(111),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::ConnectRefused),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /refused/index.php HTTP/1.1"),
                Some("fastcgi://127.0.0.1:9999"),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn connect_eagain() {
    let l = br#"2026/11/24 11:17:00 [error] 31577#31577: *58 connect() to unix:/tmp/lab/php-fpm-www.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /slow.php?s=4&n=11 HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:17:00+00:00",
            Level::Error,
            31577,
            31577,
            Some(58),
            "connect() to unix:/tmp/lab/php-fpm-www.sock failed (11: Resource temporarily unavailable) while connecting to upstream",
            Some(11),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::ConnectEagain),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /slow.php?s=4&n=11 HTTP/1.1"),
                Some(LAB_UPSTREAM),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn connect_enoent_is_logged_at_crit() {
    let l = br#"2026/11/24 11:18:04 [crit] 31577#31577: *148 connect() to unix:/tmp/lab/php-fpm-missing.sock failed (2: No such file or directory) while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /missing-socket/index.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-missing.sock:", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:18:04+00:00",
            Level::Crit,
            31577,
            31577,
            Some(148),
            "connect() to unix:/tmp/lab/php-fpm-missing.sock failed (2: No such file or directory) while connecting to upstream",
            Some(2),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::ConnectEnoent),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /missing-socket/index.php HTTP/1.1"),
                Some("fastcgi://unix:/tmp/lab/php-fpm-missing.sock:"),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn connect_eacces() {
    let l = br#"2024/03/02 08:00:01 [crit] 812#812: *9 connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com""#;
    assert_eq!(
        full(l),
        rec(
            "2024-03-02T08:00:01+00:00",
            Level::Crit,
            812,
            812,
            Some(9),
            "connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream",
            Some(13),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::ConnectEacces),
            [
                Some("203.0.113.7"),
                Some("example.com"),
                Some("GET /index.php HTTP/1.1"),
                Some("fastcgi://unix:/run/php/php8.2-fpm.sock:"),
                Some("example.com"),
                None
            ]
        )
    );
}

#[test]
fn connect_timed_out() {
    let l = br#"2024/03/02 08:00:02 [error] 812#812: *10 upstream timed out (110: Connection timed out) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.0.5:8080/api", host: "example.com""#;
    assert_eq!(
        full(l),
        rec(
            "2024-03-02T08:00:02+00:00",
            Level::Error,
            812,
            812,
            Some(10),
            "upstream timed out (110: Connection timed out) while connecting to upstream",
            Some(110),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::ConnectTimedOut),
            [
                Some("203.0.113.7"),
                Some("example.com"),
                Some("GET /api HTTP/1.1"),
                Some("http://10.0.0.5:8080/api"),
                Some("example.com"),
                None
            ]
        )
    );
}

#[test]
fn timed_out_reading_header() {
    let l = br#"2026/11/24 11:17:40 [error] 31577#31577: *138 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /timeout/x?s=5 HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:17:40+00:00",
            Level::Error,
            31577,
            31577,
            Some(138),
            "upstream timed out (110: Connection timed out) while reading response header from upstream",
            Some(110),
            Some(Phase::ReadingHeader),
            UpstreamClass::Error(UpstreamKind::TimedOut),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /timeout/x?s=5 HTTP/1.1"),
                Some("fastcgi://unix:/tmp/lab/php-fpm-www.sock"),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn premature_close_while_sending_to_client() {
    let l = br#"2018/05/29 15:35:33 [error] 50#50: *5340036 upstream prematurely closed connection while sending to client, client: 188.162.213.93, server: example.com, request: "GET /backend/api/ HTTP/2.0", upstream: "http://172.19.0.8:80/backend/api", host: "example.com", referrer: "https://example.com/event""#;
    assert_eq!(
        full(l),
        rec(
            "2018-05-29T15:35:33+00:00",
            Level::Error,
            50,
            50,
            Some(5340036),
            "upstream prematurely closed connection while sending to client",
            None,
            Some(Phase::SendingToClient),
            UpstreamClass::Error(UpstreamKind::PrematureClose),
            [
                Some("188.162.213.93"),
                Some("example.com"),
                Some("GET /backend/api/ HTTP/2.0"),
                Some("http://172.19.0.8:80/backend/api"),
                Some("example.com"),
                Some("https://example.com/event")
            ]
        )
    );
}

/// A client that went away and a WAF denying the response are logged while
/// sending to client with the request's `upstream:`; neither is a failed
/// handoff (a 502 nobody saw), where the upstream closing early is.
#[test]
fn sending_to_client_is_upstream_only_when_nginx_says_the_upstream_failed() {
    let gone = br#"2026/11/24 11:20:19 [error] 6155#6155: *5 writev() failed (32: Broken pipe) while sending to client, client: 10.0.0.7, server: shop.example.test, request: "GET /big.csv HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.example.test""#;
    let r = full(gone);
    assert_eq!((r.errno, r.phase), (Some(32), Some(Phase::SendingToClient)));
    assert_eq!(r.upstream_class, UpstreamClass::None);
    // testdata/nginx-error/crowdsec/modsecurity-logs-nginx, line 8 (phase 4:
    // the response body, after the upstream answered).
    let waf = std::fs::read(
        "../../testdata/nginx-error/crowdsec/modsecurity-logs-nginx/modsecurity-logs-nginx.log",
    )
    .expect("crowdsec sample");
    let line = waf.split(|&b| b == b'\n').nth(7).expect("line 8");
    assert!(line.windows(23).any(|w| w == b"Access denied with code"));
    let r = full(line);
    assert_eq!(r.phase, Some(Phase::SendingToClient));
    assert_eq!(r.upstream_class, UpstreamClass::None);
}

#[test]
fn reset_by_peer_ipv6_client_and_referrer() {
    let l = br#"2026/11/24 11:20:19 [error] 6155#6155: *5 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: ::1, server: shop.example.test, request: "GET /crash.php?menu=main HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "[::1]:8080", referrer: "https://shop.example.test/menu""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:20:19+00:00",
            Level::Error,
            6155,
            6155,
            Some(5),
            "recv() failed (104: Connection reset by peer) while reading response header from upstream",
            Some(104),
            Some(Phase::ReadingHeader),
            UpstreamClass::Error(UpstreamKind::ResetByPeer),
            [
                Some("::1"),
                Some("shop.example.test"),
                Some("GET /crash.php?menu=main HTTP/1.1"),
                Some(LAB_UPSTREAM),
                Some("[::1]:8080"),
                Some("https://shop.example.test/menu")
            ]
        )
    );
    for call in ["readv()", "writev()", "send()"] {
        let l = format!(
            "2026/11/24 11:20:19 [error] 6155#6155: *5 {call} failed (104: Connection reset by peer) while sending request to upstream, client: ::1, server: s, request: \"POST / HTTP/1.1\", upstream: \"http://[::1]:81/\", host: \"h\""
        );
        let r = ErrorParser::new(Zone::UTC).parse(l.as_bytes()).unwrap();
        assert_eq!(
            (r.upstream_class, r.phase, r.errno),
            (
                UpstreamClass::Error(UpstreamKind::ResetByPeer),
                Some(Phase::SendingRequest),
                Some(104)
            ),
            "{call}"
        );
    }
}

#[test]
fn no_live_upstreams() {
    let l = br#"2026/11/24 11:18:04 [error] 31577#31577: *155 no live upstreams while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /dead-pool/b.php HTTP/1.1", upstream: "fastcgi://php_dead_pool", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:18:04+00:00",
            Level::Error,
            31577,
            31577,
            Some(155),
            "no live upstreams while connecting to upstream",
            None,
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::NoLiveUpstreams),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /dead-pool/b.php HTTP/1.1"),
                Some("fastcgi://php_dead_pool"),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn too_big_header() {
    let l = br#"2026/11/24 11:16:55 [error] 31577#31577: *38 upstream sent too big header while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /bigheader.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2026-11-24T11:16:55+00:00",
            Level::Error,
            31577,
            31577,
            Some(38),
            "upstream sent too big header while reading response header from upstream",
            None,
            Some(Phase::ReadingHeader),
            UpstreamClass::Error(UpstreamKind::TooBigHeader),
            [
                Some("127.0.0.1"),
                Some("shop.example.test"),
                Some("GET /bigheader.php HTTP/1.1"),
                Some(LAB_UPSTREAM),
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
}

#[test]
fn other_upstream_error_no_route() {
    let l = br#"2022/04/15 08:16:13 [error] 7164#7164: *20 connect() failed (113: No route to host) while connecting to upstream, client: 10.244.0.0, server: test.local, request: "GET / HTTP/2.0", upstream: "http://127.0.0.1:80/""#;
    assert_eq!(
        full(l),
        rec(
            "2022-04-15T08:16:13+00:00",
            Level::Error,
            7164,
            7164,
            Some(20),
            "connect() failed (113: No route to host) while connecting to upstream",
            Some(113),
            Some(Phase::Connecting),
            UpstreamClass::Error(UpstreamKind::Other),
            [
                Some("10.244.0.0"),
                Some("test.local"),
                Some("GET / HTTP/2.0"),
                Some("http://127.0.0.1:80/"),
                None,
                None
            ]
        )
    );
}

#[test]
fn upstream_warnings() {
    let l = br#"2026/11/24 11:18:04 [warn] 31577#31577: *152 upstream server temporarily disabled while connecting to upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /dead-pool/a.php HTTP/1.1", upstream: "fastcgi://127.0.0.1:9998", host: "127.0.0.1:8080""#;
    let r = parse(l);
    assert_eq!(r.upstream_class, UpstreamClass::Warning);
    assert_eq!(r.phase, Some(Phase::Connecting));
    // Empty `server: ,`, `host: ""` and `referrer: ""`.
    let l = br#"2023/09/08 13:50:28 [warn] 3#3: *531 an upstream response is buffered to a temporary file /var/lib/nginx/tmp/fastcgi/6/03/0000000036 while reading upstream, client: 10.224.1.1, server: , request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "", referrer: """#;
    assert_eq!(
        full(l),
        rec(
            "2023-09-08T13:50:28+00:00",
            Level::Warn,
            3,
            3,
            Some(531),
            "an upstream response is buffered to a temporary file /var/lib/nginx/tmp/fastcgi/6/03/0000000036 while reading upstream",
            None,
            Some(Phase::ReadingUpstream),
            UpstreamClass::Warning,
            [
                Some("10.224.1.1"),
                Some(""),
                Some("GET / HTTP/1.1"),
                Some("fastcgi://127.0.0.1:9000"),
                Some(""),
                Some("")
            ]
        )
    );
}

#[test]
fn upstream_lines_below_warn_are_not_classified() {
    let l = br#"2022/05/30 20:56:22 [info] 3134#0: *99247 epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too (104: Connection reset by peer) while reading upstream, client: 10.244.0.0, server: example.org, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php-fpm/php8.3-fpm.sock:", host: "example:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2022-05-30T20:56:22+00:00",
            Level::Info,
            3134,
            0,
            Some(99247),
            "epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too (104: Connection reset by peer) while reading upstream",
            Some(104),
            Some(Phase::ReadingUpstream),
            UpstreamClass::None,
            [
                Some("10.244.0.0"),
                Some("example.org"),
                Some("GET / HTTP/1.1"),
                Some("fastcgi://unix:/run/php-fpm/php8.3-fpm.sock:"),
                Some("example:8080"),
                None
            ]
        )
    );
}

#[test]
fn lines_without_connection() {
    let r = full(b"2021/06/17 19:25:59 [notice] 133309#133309: signal process started");
    assert_eq!(
        r,
        rec(
            "2021-06-17T19:25:59+00:00",
            Level::Notice,
            133309,
            133309,
            None,
            "signal process started",
            None,
            None,
            UpstreamClass::None,
            [None; 6]
        )
    );
    let r = parse(b"2026/11/24 11:18:16 [alert] 31575#0: worker process 31577 exited on signal 9");
    assert_eq!(
        (r.level, r.pid, r.tid, r.connection, r.message),
        (
            Level::Alert,
            31575,
            0,
            None,
            &b"worker process 31577 exited on signal 9"[..]
        )
    );
    let r = parse(
        b"2026/11/24 11:18:16 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)",
    );
    assert_eq!(
        (
            r.level,
            r.pid,
            r.tid,
            r.connection,
            r.errno,
            r.upstream_class
        ),
        (Level::Emerg, 1, 1, None, Some(98), UpstreamClass::None)
    );
    assert_eq!(
        r.message,
        b"bind() to 0.0.0.0:80 failed (98: Address already in use)"
    );
}

#[test]
fn messages_with_commas() {
    let l = br#"2022/05/30 20:56:22 [error] 7164#7164: *38068741 delaying requests, excess: 50.416, by zone "api_access_token", client: 10.244.0.0, server: test.local, request: "GET / HTTP/2.0", host: "127.0.0.1:8080""#;
    assert_eq!(
        full(l),
        rec(
            "2022-05-30T20:56:22+00:00",
            Level::Error,
            7164,
            7164,
            Some(38068741),
            r#"delaying requests, excess: 50.416, by zone "api_access_token""#,
            None,
            None,
            UpstreamClass::None,
            [
                Some("10.244.0.0"),
                Some("test.local"),
                Some("GET / HTTP/2.0"),
                None,
                Some("127.0.0.1:8080"),
                None
            ]
        )
    );
    // A `, client: ` inside the message that is not followed by the
    // context's structure stays in the message.
    let l = br#"2024/01/01 00:00:00 [error] 1#1: *2 bad thing, client: said no, client: 192.0.2.1, server: a"#;
    let r = parse(l);
    assert_eq!(r.message, b"bad thing, client: said no");
    assert_eq!(
        (r.client(), r.server()),
        (Some(&b"192.0.2.1"[..]), Some(&b"a"[..]))
    );
}

#[test]
fn quoted_values_hold_commas_and_quotes() {
    let l = br#"2024/01/01 00:00:00 [error] 1#1: *2 open() "/x" failed (2: No such file or directory), client: 192.0.2.1, server: a, request: "GET /a, b"c\" HTTP/1.1", host: "h", referrer: "http://r/?q=1, 2""#;
    let r = parse(l);
    assert_eq!(r.request(), Some(&br#"GET /a, b"c\" HTTP/1.1"#[..]));
    assert_eq!(r.host(), Some(&b"h"[..]));
    assert_eq!(r.referrer(), Some(&b"http://r/?q=1, 2"[..]));
    // A value cut short runs to the end.
    let l = br#"2024/01/01 00:00:00 [error] 1#1: *2 x, client: 192.0.2.1, server: a, request: "GET /trunc"#;
    assert_eq!(parse(l).request(), Some(&b"GET /trunc"[..]));
}

#[test]
fn ssl_handshake_context_without_request() {
    let l = b"2018/05/29 18:54:03 [crit] 50#50: *5411664 SSL_do_handshake() failed (SSL: error:1417D18C:SSL routines:tls_process_client_hello:version too low) while SSL handshaking, client: 208.93.213.176, server: 0.0.0.0:443";
    let r = parse(l);
    assert_eq!(
        (
            r.client(),
            r.server(),
            r.request(),
            r.errno,
            r.phase,
            r.upstream_class
        ),
        (
            Some(&b"208.93.213.176"[..]),
            Some(&b"0.0.0.0:443"[..]),
            None,
            None,
            Some(Phase::Other),
            UpstreamClass::None
        )
    );
}

const FATAL: &[u8] = b"2026/11/24 11:16:55 [error] 31577#31577: *32 FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function plugin_function_that_does_not_exist() in /var/www/shop/public/fatal.php:3\nStack trace:\n#0 {main}\n  thrown in /var/www/shop/public/fatal.php on line 3\" while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: \"GET /fatal.php HTTP/1.1\", upstream: \"fastcgi://unix:/tmp/lab/php-fpm-www.sock:\", host: \"127.0.0.1:8080\"";

#[test]
fn fastcgi_multi_line_entry() {
    let mut want = rec(
        "2026-11-24T11:16:55+00:00",
        Level::Error,
        31577,
        31577,
        Some(32),
        "FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function plugin_function_that_does_not_exist() in /var/www/shop/public/fatal.php:3\nStack trace:\n#0 {main}\n  thrown in /var/www/shop/public/fatal.php on line 3\" while reading response header from upstream",
        None,
        Some(Phase::ReadingHeader),
        UpstreamClass::None,
        [
            Some("127.0.0.1"),
            Some("shop.example.test"),
            Some("GET /fatal.php HTTP/1.1"),
            Some(LAB_UPSTREAM),
            Some("127.0.0.1:8080"),
            None,
        ],
    );
    want.php = Some(PhpMessage {
        level: b"Fatal error",
        text: b"Uncaught Error: Call to undefined function plugin_function_that_does_not_exist()",
        file: Some(b"/var/www/shop/public/fatal.php"),
        line: Some(3),
    });
    assert_eq!(full(FATAL), want);
    let r = parse(FATAL);
    assert!(r.fastcgi_stderr);
    assert_eq!(r.php_level(), Some(crate::php::PhpLevel::Fatal));
    assert_eq!(r.php_counts.total(), 1);

    // Framing: the first line opens the quote, the middle lines continue it,
    // and the line that closes it ends the entry.
    let p = ErrorParser::new(Zone::UTC);
    let lines: Vec<&[u8]> = FATAL.split(|&b| b == b'\n').collect();
    assert!(p.is_record_start(lines[0]));
    for i in 1..lines.len() {
        assert!(!p.is_record_start(lines[i]), "{i}");
        let head_end: usize = lines[..i].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
        assert!(p.continues(&FATAL[..head_end], lines[i]), "{i}");
    }
    // Nothing continues a closed entry.
    assert!(!p.continues(FATAL, b"Stack trace:"));
    assert!(!p.continues(b"2026/11/24 11:16:55 [info] 1#1: *1 client closed", b" x"));
}

#[test]
fn fastcgi_stderr_is_never_an_upstream_error() {
    use crate::php::PhpLevel;
    // PHP's words mention a timeout and an errno; nginx's do not.
    let l = br#"2026/11/24 11:16:55 [error] 31577#31577: *36 FastCGI sent in stderr: "PHP message: PHP Warning:  upstream timed out (110: Connection timed out) while connecting to upstream in /var/www/a.php on line 7" while reading response header from upstream, client: 127.0.0.1, server: s, request: "GET /a.php HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "h""#;
    let r = parse(l);
    assert_eq!(
        (r.upstream_class, r.errno, r.phase, r.fastcgi_stderr),
        (UpstreamClass::None, None, Some(Phase::ReadingHeader), true)
    );
    assert_eq!(
        r.php,
        Some(PhpMessage {
            level: b"Warning",
            text: b"upstream timed out (110: Connection timed out) while connecting to upstream",
            file: Some(b"/var/www/a.php"),
            line: Some(7),
        })
    );
    assert_eq!(r.php_counts.non_zero(), [(PhpLevel::Warning, 1)]);
    // Not even when nginx's words after the payload name a kind, nor at
    // `crit`: the contract's rule holds whatever the level and phase.
    let l = br#"2026/11/24 11:16:55 [crit] 1#1: *3 FastCGI sent in stderr: "PHP message: boom" while reading upstream, upstream prematurely closed connection while reading upstream, client: 127.0.0.1, server: s, request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "h""#;
    let r = parse(l);
    assert_eq!(
        (r.upstream_class, r.php_level()),
        (UpstreamClass::None, Some(PhpLevel::Other))
    );
    // No PHP message: "Primary script unknown" counts as one of level
    // `other`, with no message kept.
    let l = br#"2026/11/24 11:16:54 [error] 31577#31577: *23 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /wp-login-missing.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "127.0.0.1:8080""#;
    let r = parse(l);
    assert_eq!(
        (r.upstream_class, r.php, r.php_counts.non_zero()),
        (UpstreamClass::None, None, vec![(PhpLevel::Other, 1)])
    );
    // A message without the `PHP Level:` prefix, and several joined by `; `.
    let l = br#"2026/11/24 11:16:55 [error] 31577#31577: *36 FastCGI sent in stderr: "PHP message: app error_log(): payment gateway returned HTTP 503; PHP message: second" while reading response header from upstream, client: 127.0.0.1, server: s"#;
    let r = parse(l);
    assert_eq!(
        r.php,
        Some(PhpMessage {
            level: b"",
            text: b"app error_log(): payment gateway returned HTTP 503",
            file: None,
            line: None,
        })
    );
    assert_eq!(r.php_counts.non_zero(), [(PhpLevel::Other, 2)]);
    // The bare `PHP Level:` form (no `PHP message: ` tag).
    let l = br#"2026/11/24 11:16:55 [error] 1#1: *3 FastCGI sent in stderr: "PHP Parse error:  syntax error, unexpected '}' in /srv/wp-content/themes/t/functions.php on line 12" while reading response header from upstream, client: 127.0.0.1, server: s"#;
    let r = parse(l);
    assert_eq!(r.php_level(), Some(PhpLevel::Parse));
    assert_eq!(
        r.php.and_then(|p| p.file),
        Some(&b"/srv/wp-content/themes/t/functions.php"[..])
    );
}

#[test]
fn fastcgi_stderr_counts_every_php_message_and_keeps_the_most_severe() {
    use crate::php::PhpLevel;
    // The lab's `warn.php`: two warnings and a deprecation joined by `; `.
    let l = br#"2026/11/24 11:16:55 [error] 31577#31577: *30 FastCGI sent in stderr: "PHP message: PHP Warning:  Undefined array key "missing_key" in /var/www/shop/public/warn.php on line 3; PHP message: PHP Deprecated:  legacy plugin hook 'wp_head' is deprecated, use 'wp_body_open' in /var/www/shop/public/warn.php on line 4; PHP message: PHP Warning:  Undefined variable $undefined_variable in /var/www/shop/public/warn.php on line 5" while reading response header from upstream, client: 127.0.0.1, server: shop.example.test, request: "GET /warn.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/lab/php-fpm-www.sock:", host: "127.0.0.1:8080""#;
    let r = parse(l);
    assert_eq!(
        r.php_counts.non_zero(),
        [(PhpLevel::Warning, 2), (PhpLevel::Deprecated, 1)]
    );
    assert_eq!(
        r.php,
        Some(PhpMessage {
            level: b"Warning",
            text: br#"Undefined array key "missing_key""#,
            file: Some(b"/var/www/shop/public/warn.php"),
            line: Some(3),
        })
    );
    // A notice, then a fatal error: the fatal one is kept, whatever its
    // place.
    let l = br#"2026/11/24 11:16:55 [error] 1#1: *9 FastCGI sent in stderr: "PHP message: PHP Notice:  Undefined index: x in /srv/wp-content/plugins/a/a.php on line 9; PHP message: PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes) in /srv/wp-content/plugins/b/b.php on line 88; PHP message: PHP Fatal error:  second in /c.php on line 1" while reading upstream, client: 1.2.3.4, server: s"#;
    let r = parse(l);
    assert_eq!(
        r.php_counts.non_zero(),
        [(PhpLevel::Fatal, 2), (PhpLevel::Notice, 1)]
    );
    let php = r.php.unwrap();
    assert!(php.is_fatal());
    assert_eq!(
        (php.file, php.line),
        (Some(&b"/srv/wp-content/plugins/b/b.php"[..]), Some(88))
    );
    // Messages on the lines that continue the entry (the quote never
    // closes here: nginx cut it).
    let l = b"2019/10/30 23:26:34 [error] 205860#205860: *180289 FastCGI sent in stderr: \"PHP message: PHP Deprecated:  a in /x.php on line 1\nPHP message: PHP Warning:  b in /y.php on line 2\r\nPHP message: PHP Notice:  c";
    let r = parse(l);
    assert_eq!(
        r.php_counts.non_zero(),
        [
            (PhpLevel::Warning, 1),
            (PhpLevel::Notice, 1),
            (PhpLevel::Deprecated, 1)
        ]
    );
    assert_eq!(
        (r.php.unwrap().file, r.php.unwrap().line),
        (Some(&b"/y.php"[..]), Some(2))
    );
}

#[test]
fn skip_reasons() {
    let mut p = ErrorParser::new(Zone::UTC);
    let cases: [(&[u8], SkipReason); 11] = [
        (b"Stack trace:", SkipReason::OrphanContinuation),
        (b"#0 {main}", SkipReason::OrphanContinuation),
        (
            b"  thrown in /a.php on line 3\"",
            SkipReason::OrphanContinuation,
        ),
        (
            b"127.0.0.1 - - [24/Nov/2026:11:16:54 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
            SkipReason::Unrecognized,
        ),
        (b"2026/11/24 11:1", SkipReason::Truncated),
        (b"2026/11/24 11:16:54", SkipReason::Truncated),
        (b"2026/11/24 11:16:54 [err", SkipReason::Truncated),
        (
            b"2026/13/24 11:16:54 [error] 1#1: x",
            SkipReason::BadTimestamp,
        ),
        (b"2026/11/24 11:16:54 [fatal] 1#1: x", SkipReason::BadField),
        (b"2026/11/24 11:16:54 [error] x#1: y", SkipReason::BadField),
        (
            b"2026/11/24 11:16:54 [error] 99999999999#1: y",
            SkipReason::BadField,
        ),
    ];
    for (line, want) in cases {
        assert_eq!(
            p.parse(line).err(),
            Some(want),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn raw_binary_request_line() {
    let l = b"2026/11/24 11:18:06 [info] 31577#31577: *170 client sent invalid method while reading client request line, client: 127.0.0.1, server: shop.example.test, request: \"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03r\x94o\xc1\x8d>:\x9e,\x9b\xbbF\"";
    let r = parse(l);
    assert_eq!(
        r.request(),
        Some(&b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03r\x94o\xc1\x8d>:\x9e,\x9b\xbbF"[..])
    );
    assert_eq!(
        r.message,
        b"client sent invalid method while reading client request line"
    );
}

#[test]
fn zone_resolution() {
    let line = b"2026/03/08 01:59:59 [error] 1#1: *1 x, client: 192.0.2.1, server: a";
    let after = b"2026/03/08 03:00:00 [error] 1#1: *2 x, client: 192.0.2.1, server: a";
    let at = |zone: &str, l: &[u8]| {
        let mut p = ErrorParser::new(zone.parse().unwrap());
        p.parse(l).unwrap().time.to_rfc3339()
    };
    assert_eq!(at("UTC", line), "2026-03-08T01:59:59+00:00");
    assert_eq!(at("+01:00", line), "2026-03-08T01:59:59+01:00");
    // America/New_York springs forward at 02:00 on 2026-03-08.
    assert_eq!(at("America/New_York", line), "2026-03-08T01:59:59-05:00");
    assert_eq!(at("America/New_York", after), "2026-03-08T03:00:00-04:00");
    let mut p = ErrorParser::new("America/New_York".parse().unwrap());
    let a = p.parse(line).unwrap().time;
    let b = p.parse(after).unwrap().time;
    assert_eq!(b.unix_secs() - a.unix_secs(), 1);
    // The minute cache does not leak across dates.
    let c = p
        .parse(b"2026/03/09 03:00:00 [error] 1#1: *2 x")
        .unwrap()
        .time;
    assert_eq!(c.unix_secs() - b.unix_secs(), 86_400);
}

#[test]
fn entry_start_shape() {
    assert!(is_entry_start(b"2026/11/24 11:16:54 [info] 1#1: x"));
    assert!(is_entry_start(b"2026/11/24 11:16:54 [notice] 1#1: x"));
    assert!(!is_entry_start(b"2026/11/24 11:16:54 [infox] 1#1: x"));
    assert!(!is_entry_start(b"2026/11/24 1x:16:54 [info] 1#1: x"));
    assert!(!is_entry_start(b"Stack trace:"));
}

/// The first index where `needle` starts in `h`, by brute force.
fn naive_find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// What the record's message, errno, phase, class and context are by
/// the rules of the module docs, read with brute-force searches: the
/// oracle of the parser's anchored fast paths.
fn naive<'a>(
    level: Level,
    body: &'a [u8],
) -> (
    &'a [u8],
    Option<u16>,
    Option<Phase>,
    UpstreamClass,
    Context<'a>,
) {
    let f = Finders::new();
    let (mut message, mut context) = (body, Context::default());
    for at in 0..body.len() {
        if body[at..].starts_with(b", client: ") && client_end(&body[at + 10..]).is_some() {
            (message, context) = (&body[..at], Context::parse(&body[at + 10..]));
            break;
        }
    }
    let (words, fastcgi) = match message.strip_prefix(FASTCGI) {
        Some(rest) => (split_payload(&f, rest).1, true),
        None => (message, false),
    };
    let errno = (0..words.len()).find_map(|i| match digits_u64(&words[i..]) {
        Some((n, [b':', b' ', ..])) if i > 0 && words[i - 1] == b'(' => u16::try_from(n).ok(),
        _ => None,
    });
    let action = (0..words.len())
        .rev()
        .find(|&i| words[i..].starts_with(b" while "))
        .map(|i| &words[i + 7..]);
    let phase = action.map(Phase::from_action);
    let upstream_phase = match phase {
        Some(Phase::Other) => naive_find(action.unwrap(), b"upstream").is_some(),
        Some(Phase::SendingToClient) | None => false,
        _ => true,
    };
    // Sending to client, the context's upstream counts only when the words
    // name the upstream.
    let context_counts =
        phase != Some(Phase::SendingToClient) || naive_find(words, b"upstream").is_some();
    // FastCGI stderr is PHP's, never an upstream error.
    let class = if fastcgi || !(upstream_phase || context_counts && context.upstream.is_some()) {
        UpstreamClass::None
    } else {
        match level {
            Level::Debug | Level::Info | Level::Notice => UpstreamClass::None,
            Level::Warn => UpstreamClass::Warning,
            _ => UpstreamClass::Error(upstream_kind(&f, words, errno, phase)),
        }
    };
    (message, errno, phase, class, context)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classification_agrees_with_brute_force(
        level in 0usize..8,
        parts in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(vec![
                    "connect() failed", " (111: Connection refused)", "(11: ", "(70000: x)",
                    "(", "w", ",", ", ", " while ", "while ", " while connecting to upstream",
                    " while reading upstream", " while sending to client", " while SSL handshaking",
                    "upstream timed out", "no live upstreams", "upstream prematurely closed",
                    ", client: 1.2.3.4", ", client: a b", ", server: s", ", server: ",
                    ", request: \"GET /, upstream: \\\"x\\\" HTTP/1.1\"", ", upstream: \"u\"",
                    ", upstream:", ", host: \"h\"", "FastCGI sent in stderr: \"", "\" while ",
                    "\"", "client 127.0.0.1 closed keepalive connection", "upstream sent too big header",
                    ", client: 1.2.3.4, server: s", ", client: ::1, server: , upstream: \"u\"",
                    ", client: ::1, server: x, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://u\", host: \"h\"",
                ]).prop_map(|s| s.as_bytes().to_vec()),
                "[a-z (),:\"w0-9]{0,12}".prop_map(String::into_bytes),
            ],
            0..12,
        ),
    ) {
        const LEVELS: [&str; 8] = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"];
        let body: Vec<u8> = parts.concat();
        let mut line = format!("2026/11/24 11:18:04 [{}] 1#1: *7 ", LEVELS[level]).into_bytes();
        line.extend_from_slice(&body);
        let r = parse(&line);
        let (message, errno, phase, class, context) = naive(r.level, &body);
        prop_assert_eq!(
            (r.message, r.errno, r.phase, r.upstream_class, r.context()),
            (message, errno, phase, class, context)
        );
    }
}

/// [`is_entry_start`] by the letter of its docs.
fn naive_entry_start(line: &[u8]) -> bool {
    let shape = line.len() >= 19
        && line[..19].iter().zip(SHAPE).all(|(&c, &s)| {
            if s == b'0' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
    let level = [
        "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
    ]
    .iter()
    .any(|l| {
        line.get(21..)
            .unwrap_or_default()
            .starts_with(format!("{l}] ").as_bytes())
    });
    line.len() >= 27 && shape && line[19] == b' ' && line[20] == b'[' && level
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn entry_start_agrees_with_its_definition(
        level in proptest::sample::select(vec!["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg", "eme", "er"]),
        edits in proptest::collection::vec((0usize..40, any::<u8>()), 0..3),
        len in 0usize..48,
    ) {
        let mut line = format!("2026/11/24 11:16:54 [{level}] 1#1: *5 x").into_bytes();
        for (at, b) in edits {
            if let Some(c) = line.get_mut(at) {
                // Mostly near misses: digits, separators and level letters.
                *c = [b, b'0' + b % 10, b'/', b':', b' ', b'[', b']', b'e', b'r', b'.', b';', b'!'][(b % 12) as usize];
            }
        }
        line.truncate(len);
        prop_assert_eq!(is_entry_start(&line), naive_entry_start(&line));
        prop_assert_eq!(timestamp_shape(&line), line.len() >= 19 && naive_entry_start(&[&line[..19], &b" [info] "[..]].concat()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn digits_agree_with_the_byte_loop(s in "[0-9]{0,22}[ :#*a/\u{80}\u{ff}]{0,3}[0-9]{0,3}") {
        // Also every prefix, so the short and long paths both run.
        let s = s.as_bytes();
        for n in 0..=s.len() {
            prop_assert_eq!(digits_u64(&s[..n]), digits_u64_loop(&s[..n]));
        }
    }
}
