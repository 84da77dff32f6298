use super::*;

fn parse(rec: &[u8]) -> SlowlogRecord<'_> {
    SlowlogParser::new(Zone::UTC).parse(rec).unwrap()
}

fn skip(rec: &[u8]) -> SkipReason {
    SlowlogParser::new(Zone::UTC).parse(rec).unwrap_err()
}

fn time(s: &str) -> Timestamp {
    crate::time::parse_iso8601(s.as_bytes()).unwrap()
}

fn culprit<'a>(kind: CodeKind, name: &'a str, call: CallKind, frame: &'a str) -> Culprit<'a> {
    Culprit {
        kind,
        name: name.as_bytes(),
        call,
        frame: frame.as_bytes(),
    }
}

/// Frames as `(addr, function, file, line, kind, name)` with text fields as
/// strings.
fn frames(r: &SlowlogRecord<'_>) -> Vec<(u64, String, String, u32, CodeKind, String)> {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    r.frames()
        .map(|f| (f.addr, s(f.function), s(f.file), f.line, f.kind, s(f.name)))
        .collect()
}

fn fr(
    addr: u64,
    function: &str,
    file: &str,
    line: u32,
    kind: CodeKind,
    name: &str,
) -> (u64, String, String, u32, CodeKind, String) {
    (addr, function.into(), file.into(), line, kind, name.into())
}

const LAB_PLUGIN: &str = "[24-Nov-2026 11:16:57]  [pool www] pid 31545
script_filename = /var/www/shop/public/slow.php
[0x00007fcb18a132c0] usleep() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:3
[0x00007fcb18a13240] rb_fetch_remote_rates() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:7
[0x00007fcb18a131c0] rb_build_report() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:11
[0x00007fcb18a13150] render() /var/www/shop/public/slow.php:5
[0x00007fcb18a130a0] handle_request() /var/www/shop/public/slow.php:6";

#[test]
fn lab_plugin_trace_exact() {
    let r = parse(LAB_PLUGIN.as_bytes());
    let body_at = LAB_PLUGIN.find("[0x").unwrap();
    assert_eq!(
        r,
        SlowlogRecord {
            time: time("2026-11-24T11:16:57Z"),
            pool: b"www",
            pid: 31545,
            script_filename: Some(b"/var/www/shop/public/slow.php"),
            frames_text: &LAB_PLUGIN.as_bytes()[body_at..],
            frame_count: 5,
            wp_root: Some(b"/var/www/shop/public/"),
            truncated: false,
            dump_failed: false,
            culprit: Some(culprit(
                CodeKind::Plugin,
                "report-builder",
                CallKind::Sleep,
                "usleep() /var/www/shop/public/wp-content/plugins/report-builder/report-builder.php:3"
            )),
        }
    );
    let rb = "/var/www/shop/public/wp-content/plugins/report-builder/report-builder.php";
    let slow = "/var/www/shop/public/slow.php";
    assert_eq!(
        frames(&r),
        [
            fr(
                0x7fcb18a132c0,
                "usleep",
                rb,
                3,
                CodeKind::Plugin,
                "report-builder"
            ),
            fr(
                0x7fcb18a13240,
                "rb_fetch_remote_rates",
                rb,
                7,
                CodeKind::Plugin,
                "report-builder"
            ),
            fr(
                0x7fcb18a131c0,
                "rb_build_report",
                rb,
                11,
                CodeKind::Plugin,
                "report-builder"
            ),
            fr(
                0x7fcb18a13150,
                "render",
                slow,
                5,
                CodeKind::Other,
                "slow.php"
            ),
            fr(
                0x7fcb18a130a0,
                "handle_request",
                slow,
                6,
                CodeKind::Other,
                "slow.php"
            ),
        ]
    );
}

#[test]
fn lab_stall_and_hog_traces_are_not_wordpress() {
    let r = parse(
        b"[24-Nov-2026 11:17:45]  [pool www] pid 31660\n\
script_filename = /var/www/shop/public/stall.php\n\
[0x00007fcb18a13080] sleep() /var/www/shop/public/stall.php:3",
    );
    assert_eq!(r.time, time("2026-11-24T11:17:45Z"));
    assert_eq!((r.pool, r.pid, r.frame_count), (&b"www"[..], 31660, 1));
    assert_eq!(r.wp_root, None);
    assert!(!r.truncated);
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Other,
            "/var/www/shop/public/stall.php",
            CallKind::Sleep,
            "sleep() /var/www/shop/public/stall.php:3"
        ))
    );
    let r = parse(
        b"[24-Nov-2026 11:17:59]  [pool www] pid 32570\n\
script_filename = /var/www/shop/public/hog.php\n\
[0x00007fcb18a160b0] usleep() /var/www/shop/public/hog.php:5",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Other,
            "/var/www/shop/public/hog.php",
            CallKind::Sleep,
            "usleep() /var/www/shop/public/hog.php:5"
        ))
    );
    assert_eq!(
        r.script_filename,
        Some(&b"/var/www/shop/public/hog.php"[..])
    );
}

#[test]
fn lab_ondemand_pool() {
    let rec = LAB_PLUGIN
        .replace("[pool www] pid 31545", "[pool ondemand] pid 32286")
        .replace("11:16:57", "11:17:33");
    let r = parse(rec.as_bytes());
    assert_eq!(r.pool, b"ondemand");
    assert_eq!(r.pid, 32286);
    assert_eq!(r.time, time("2026-11-24T11:17:33Z"));
    assert_eq!(r.culprit.unwrap().name, b"report-builder");
}

#[test]
fn curl_through_requests_from_a_plugin_is_an_external_call_of_the_plugin() {
    let r = parse(
        b"[26-Dec-2025 14:01:22]  [pool www] pid 22031
script_filename = /var/www/example.com/public/wp-admin/admin-ajax.php
[0x00007f4c8b8f2a30] curl_exec() /var/www/example.com/public/wp-includes/Requests/src/Transport/Curl.php:204
[0x00007f4c8b8f29a0] request() /var/www/example.com/public/wp-includes/Requests/src/Requests.php:469
[0x00007f4c8b8f2880] request() /var/www/example.com/public/wp-includes/class-wp-http.php:400
[0x00007f4c8b8f2790] get() /var/www/example.com/public/wp-includes/http.php:179
[0x00007f4c8b8f26d0] wp_remote_get() /var/www/example.com/public/wp-content/plugins/some-plugin/api.php:88
[0x00007f4c8b8f2600] call_external_api() /var/www/example.com/public/wp-content/plugins/some-plugin/ajax.php:12
[0x00007f4c8b8f2500] do_action() /var/www/example.com/public/wp-admin/admin-ajax.php:192",
    );
    assert_eq!(r.time, time("2025-12-26T14:01:22Z"));
    assert_eq!(r.wp_root, Some(&b"/var/www/example.com/public/"[..]));
    assert_eq!(r.frame_count, 7);
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Plugin,
            "some-plugin",
            CallKind::ExternalCall,
            "wp_remote_get() /var/www/example.com/public/wp-content/plugins/some-plugin/api.php:88"
        ))
    );
    let kinds: Vec<(CodeKind, String)> = r
        .frames()
        .map(|f| (f.kind, String::from_utf8_lossy(f.name).into_owned()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                CodeKind::Core,
                "wp-includes/Requests/src/Transport/Curl.php".into()
            ),
            (
                CodeKind::Core,
                "wp-includes/Requests/src/Requests.php".into()
            ),
            (CodeKind::Core, "wp-includes/class-wp-http.php".into()),
            (CodeKind::Core, "wp-includes/http.php".into()),
            (CodeKind::Plugin, "some-plugin".into()),
            (CodeKind::Plugin, "some-plugin".into()),
            (CodeKind::Core, "wp-admin/admin-ajax.php".into()),
        ]
    );
}

const ALLOPTIONS: &str = "[24-Nov-2026 11:20:00]  [pool www] pid 4000
script_filename = /srv/wp/index.php
[0x00007f0000000600] mysqli_query() /srv/wp/wp-includes/class-wpdb.php:2349
[0x00007f0000000500] _do_query() /srv/wp/wp-includes/class-wpdb.php:2263
[0x00007f0000000400] query() /srv/wp/wp-includes/class-wpdb.php:3110
[0x00007f0000000300] get_results() /srv/wp/wp-includes/option.php:295
[0x00007f0000000200] wp_load_alloptions() /srv/wp/wp-includes/option.php:161
[0x00007f0000000100] get_option() /srv/wp/wp-settings.php:532
[0x00007f00000000a0] require_once() /srv/wp/wp-config.php:96
[0x00007f0000000090] require_once() /srv/wp/wp-load.php:50
[0x00007f0000000080] require_once() /srv/wp/wp-blog-header.php:13
[0x00007f0000000070] require() /srv/wp/index.php:17";

#[test]
fn mysqli_from_wp_load_alloptions_is_database_in_core() {
    let r = parse(ALLOPTIONS.as_bytes());
    assert_eq!(r.wp_root, Some(&b"/srv/wp/"[..]));
    assert_eq!(r.frame_count, 10);
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Core,
            "wp-includes/class-wpdb.php",
            CallKind::Database,
            "mysqli_query() /srv/wp/wp-includes/class-wpdb.php:2349"
        ))
    );
    let names: Vec<String> = r
        .frames()
        .map(|f| {
            assert_eq!(f.kind, CodeKind::Core, "{f:?}");
            String::from_utf8_lossy(f.name).into_owned()
        })
        .collect();
    assert_eq!(
        names[4..],
        [
            "wp-includes/option.php",
            "wp-settings.php",
            "wp-config.php",
            "wp-load.php",
            "wp-blog-header.php",
            "index.php"
        ]
    );
}

#[test]
fn theme_functions_php() {
    let r = parse(
        b"[24-Nov-2026 11:20:01]  [pool www] pid 4001
script_filename = /srv/wp/index.php
[0x00007f0000000300] preg_replace_callback() /srv/wp/wp-content/themes/storefront-child/functions.php:214
[0x00007f0000000200] apply_filters() /srv/wp/wp-includes/class-wp-hook.php:324
[0x00007f0000000100] require_once() /srv/wp/wp-settings.php:600",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Theme,
            "storefront-child",
            CallKind::Cpu,
            "preg_replace_callback() /srv/wp/wp-content/themes/storefront-child/functions.php:214"
        ))
    );
}

#[test]
fn mu_plugins_single_file_and_directory() {
    let r = parse(
        b"[24-Nov-2026 11:20:02]  [pool www] pid 4002
script_filename = /srv/wp/index.php
[0x00007f0000000300] file_put_contents() /srv/wp/wp-content/mu-plugins/audit-log.php:40
[0x00007f0000000100] do_action() /srv/wp/wp-settings.php:500",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::MuPlugin,
            "audit-log",
            CallKind::FileIo,
            "file_put_contents() /srv/wp/wp-content/mu-plugins/audit-log.php:40"
        ))
    );
    let r = parse(
        b"[24-Nov-2026 11:20:02]  [pool www] pid 4002
script_filename = /srv/wp/index.php
[0x00007f0000000300] flock() /srv/wp/wp-content/mu-plugins/site-tools/lock.php:9",
    );
    let c = r.culprit.unwrap();
    assert_eq!(
        (c.kind, c.name, c.call),
        (CodeKind::MuPlugin, &b"site-tools"[..], CallKind::FileIo)
    );
}

#[test]
fn plugin_bundled_vendor_belongs_to_the_plugin() {
    let r = parse(
        b"[24-Nov-2026 11:20:03]  [pool www] pid 4003
script_filename = /srv/wp/wp-cron.php
[0x00007f0000000500] curl_multi_exec() /srv/wp/wp-content/plugins/mailer-sync/vendor/guzzlehttp/guzzle/src/Handler/CurlMultiHandler.php:159
[0x00007f0000000400] tick() /srv/wp/wp-content/plugins/mailer-sync/vendor/guzzlehttp/promises/src/Promise.php:248
[0x00007f0000000300] sync() /srv/wp/wp-content/plugins/mailer-sync/src/Sync.php:77
[0x00007f0000000200] do_action_ref_array() /srv/wp/wp-cron.php:191",
    );
    assert_eq!(r.wp_root, Some(&b"/srv/wp/"[..]));
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Plugin,
            "mailer-sync",
            CallKind::ExternalCall,
            "curl_multi_exec() /srv/wp/wp-content/plugins/mailer-sync/vendor/guzzlehttp/guzzle/src/Handler/CurlMultiHandler.php:159"
        ))
    );
    assert_eq!(r.frames().last().unwrap().kind, CodeKind::Core);
}

#[test]
fn plugins_mu_is_not_plugins() {
    let r = parse(
        b"[24-Nov-2026 11:20:04]  [pool www] pid 4004
script_filename = /srv/wp/index.php
[0x00007f0000000300] usleep() /srv/wp/wp-content/plugins-mu/x/x.php:3
[0x00007f0000000100] include() /srv/wp/wp-settings.php:400",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Other,
            "wp-content/plugins-mu/x/x.php",
            CallKind::Sleep,
            "usleep() /srv/wp/wp-content/plugins-mu/x/x.php:3"
        ))
    );
}

#[test]
fn local_file_put_contents_from_a_plugin_is_file_io() {
    let r = parse(
        b"[24-Nov-2026 11:20:05]  [pool www] pid 4005
script_filename = /srv/wp/wp-admin/admin-ajax.php
[0x00007f0000000300] file_put_contents() /srv/wp/wp-content/plugins/cache-warmer/writer.php:52
[0x00007f0000000200] cw_flush() /srv/wp/wp-content/plugins/cache-warmer/cache-warmer.php:18",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Plugin,
            "cache-warmer",
            CallKind::FileIo,
            "file_put_contents() /srv/wp/wp-content/plugins/cache-warmer/writer.php:52"
        ))
    );
}

#[test]
fn streams_transport_file_get_contents_is_external() {
    let r = parse(
        b"[24-Nov-2026 11:20:06]  [pool www] pid 4006
script_filename = /srv/wp/index.php
[0x00007f0000000300] fread() /srv/wp/wp-includes/class-wp-http-streams.php:260
[0x00007f0000000200] request() /srv/wp/wp-includes/class-wp-http.php:400
[0x00007f0000000100] wp_remote_post() /srv/wp/wp-content/themes/shop/inc/crm.php:31",
    );
    let c = r.culprit.unwrap();
    assert_eq!(
        (c.kind, c.name, c.call),
        (CodeKind::Theme, &b"shop"[..], CallKind::ExternalCall)
    );
}

#[test]
fn pdo_execute_in_a_laravel_app_culprit_outside_vendor() {
    let r = parse(
        b"[24-Nov-2026 11:20:07]  [pool app.example.com] pid 4007
script_filename = /var/www/app/public/index.php
[0x00007f0000000500] execute() /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php:414
[0x00007f0000000400] runQueryCallback() /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php:753
[0x00007f0000000300] get() /var/www/app/app/Http/Controllers/ReportController.php:42
[0x00007f0000000200] {closure}() /var/www/app/vendor/laravel/framework/src/Illuminate/Routing/Pipeline.php:141
[0x00007f0000000100] handle() /var/www/app/public/index.php:51",
    );
    assert_eq!(r.pool, b"app.example.com");
    assert_eq!(r.wp_root, None);
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Other,
            "/var/www/app/app/Http/Controllers/ReportController.php",
            CallKind::Database,
            "get() /var/www/app/app/Http/Controllers/ReportController.php:42"
        ))
    );
    let f: Vec<(CodeKind, String)> = r
        .frames()
        .map(|f| (f.kind, String::from_utf8_lossy(f.name).into_owned()))
        .collect();
    assert_eq!(f[0], (CodeKind::Core, "laravel/framework".into()));
    assert_eq!(
        f[4],
        (CodeKind::Other, "/var/www/app/public/index.php".into())
    );
}

#[test]
fn vendor_only_trace_is_core() {
    let r = parse(
        b"[24-Nov-2026 11:20:08]  [pool www] pid 4008
script_filename = /var/www/app/bin/worker.php
[0x00007f0000000500] stream_select() /var/www/app/vendor/react/event-loop/src/StreamSelectLoop.php:290",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Core,
            "react/event-loop",
            CallKind::ExternalCall,
            "stream_select() /var/www/app/vendor/react/event-loop/src/StreamSelectLoop.php:290"
        ))
    );
}

#[test]
fn unknown_frames_are_passed_over() {
    let r = parse(
        b"[24-Nov-2026 11:20:09]  [pool www] pid 4009
script_filename = /srv/wp/index.php
[0x00007f0000000300] ???() unknown:0
[0x00007f0000000200] array_map() /srv/wp/wp-content/plugins/p/p.php:9",
    );
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Plugin,
            "p",
            CallKind::Cpu,
            "array_map() /srv/wp/wp-content/plugins/p/p.php:9"
        ))
    );
    assert_eq!(
        frames(&r)[0],
        fr(
            0x7f0000000300,
            "???",
            "unknown",
            0,
            CodeKind::Other,
            "unknown"
        )
    );
}

#[test]
fn truncated_traces_are_kept_and_marked() {
    // Header only.
    let r = parse(b"[24-Nov-2026 11:20:10]  [pool www] pid 4010");
    assert_eq!(
        r,
        SlowlogRecord {
            time: time("2026-11-24T11:20:10Z"),
            pool: b"www",
            pid: 4010,
            script_filename: None,
            frames_text: b"",
            frame_count: 0,
            wp_root: None,
            truncated: true,
            dump_failed: false,
            culprit: None,
        }
    );
    // Header and script, no frame.
    let r =
        parse(b"[24-Nov-2026 11:20:10]  [pool www] pid 4010\nscript_filename = /srv/wp/index.php");
    assert_eq!(r.script_filename, Some(&b"/srv/wp/index.php"[..]));
    assert!(r.truncated);
    assert_eq!((r.frame_count, r.culprit), (0, None));
    // Cut in the middle of a frame line: the whole frames before it count.
    let rec = b"[24-Nov-2026 11:20:11]  [pool www] pid 4011
script_filename = /srv/wp/index.php
[0x00007f0000000300] usleep() /srv/wp/wp-content/plugins/p/p.php:3
[0x00007f0000000200] p_run() /srv/wp/wp-cont";
    let r = parse(rec);
    assert!(r.truncated && !r.dump_failed);
    assert_eq!(r.frame_count, 1);
    assert_eq!(r.frames().count(), 1);
    assert_eq!(
        r.culprit,
        Some(culprit(
            CodeKind::Plugin,
            "p",
            CallKind::Sleep,
            "usleep() /srv/wp/wp-content/plugins/p/p.php:3"
        ))
    );
    // Cut inside the address.
    let r = parse(b"[24-Nov-2026 11:20:11]  [pool www] pid 4011\n[0x00007f00");
    assert!(r.truncated);
    assert_eq!((r.script_filename, r.frame_count), (None, 0));
    // php-fpm could not finish.
    let r = parse(
        b"[24-Nov-2026 11:20:12]  [pool www] pid 4012
script_filename = /srv/wp/index.php
[0x00007f0000000300] usleep() /srv/wp/wp-content/plugins/p/p.php:3
+++ dump failed",
    );
    assert!(r.truncated && r.dump_failed);
    assert_eq!(r.frame_count, 1);
}

#[test]
fn pool_names_with_dots_spaces_and_brackets() {
    for (line, pool) in [
        (
            "[24-Nov-2026 11:20:13]  [pool shop.example.com] pid 7",
            "shop.example.com",
        ),
        ("[24-Nov-2026 11:20:13]  [pool a] pid b] pid 7", "a] pid b"),
        ("[24-Nov-2026 11:20:13] [pool my pool] pid 7", "my pool"),
    ] {
        let r = parse(line.as_bytes());
        assert_eq!((r.pool, r.pid), (pool.as_bytes(), 7), "{line}");
    }
}

#[test]
fn debug_level_microseconds_and_zone() {
    let mut p = SlowlogParser::new(Zone::Fixed(3600));
    let r = p
        .parse(b"[24-Nov-2026 11:20:14.123456]  [pool www] pid 9")
        .unwrap();
    assert_eq!(r.time.to_rfc3339(), "2026-11-24T11:20:14.123456+01:00");
    let tz: Zone = "Europe/Berlin".parse().unwrap();
    let r = SlowlogParser::new(tz)
        .parse(b"[01-Jul-2026 12:00:00]  [pool www] pid 9")
        .unwrap();
    assert_eq!(r.time.to_rfc3339(), "2026-07-01T12:00:00+02:00");
}

#[test]
fn crlf_lines() {
    let rec = LAB_PLUGIN.replace('\n', "\r\n");
    let r = parse(rec.as_bytes());
    assert_eq!(
        r.script_filename,
        Some(&b"/var/www/shop/public/slow.php"[..])
    );
    assert_eq!(r.frame_count, 5);
    assert!(!r.truncated);
    assert_eq!(frames(&r)[4].2, "/var/www/shop/public/slow.php");
}

#[test]
fn skip_reasons() {
    assert_eq!(
        skip(b"[0x00007f0000000300] usleep() /a.php:3"),
        SkipReason::OrphanContinuation
    );
    assert_eq!(
        skip(b"script_filename = /a.php"),
        SkipReason::OrphanContinuation
    );
    assert_eq!(skip(b"+++ dump failed"), SkipReason::OrphanContinuation);
    assert_eq!(skip(b"[24-Nov-20"), SkipReason::Truncated);
    assert_eq!(skip(b"[24-Nov-2026 11:20:1"), SkipReason::Truncated);
    assert_eq!(skip(b"[24-Nov-2026 11:20:14.12"), SkipReason::Truncated);
    assert_eq!(skip(b"[24-Nov-2026 11:20:14]  [po"), SkipReason::Truncated);
    assert_eq!(
        skip(b"[24-Nov-2026 11:20:14]  [pool www] pi"),
        SkipReason::Truncated
    );
    assert_eq!(
        skip(b"[24-Nov-2026 11:20:14]  [pool www] pid "),
        SkipReason::Truncated
    );
    assert_eq!(
        skip(b"[31-Nov-2026 11:20:14]  [pool www] pid 1"),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        skip(b"[24-Non-2026 11:20:14]  [pool www] pid 1"),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        skip(b"[24-Nov-2026 25:20:14]  [pool www] pid 1"),
        SkipReason::BadTimestamp
    );
    assert_eq!(
        skip(b"[24-Nov-2026 11:20:14]  [pool www] pid x1"),
        SkipReason::BadField
    );
    assert_eq!(
        skip(b"[24-Nov-2026 11:20:14]  [pool www] pid 99999999999"),
        SkipReason::BadField
    );
    // The php-fpm log itself is not a slowlog.
    assert_eq!(
        skip(b"[24-Nov-2026 11:17:00] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it"),
        SkipReason::Unrecognized
    );
    assert_eq!(skip(b"hello"), SkipReason::Unrecognized);
    assert_eq!(skip(b""), SkipReason::Unrecognized);
}

#[test]
fn framing_questions() {
    let p = SlowlogParser::new(Zone::UTC);
    assert!(p.is_record_start(b"[24-Nov-2026 11:16:57]  [pool www] pid 1"));
    assert!(p.is_record_start(b"[24-No"));
    assert!(!p.is_record_start(b"[0x00007fcb18a132c0] usleep() /a.php:3"));
    assert!(!p.is_record_start(b""));
    let head = b"[24-Nov-2026 11:16:57]  [pool www] pid 1";
    assert!(p.continues(head, b"script_filename = /a.php"));
    assert!(p.continues(head, b"[0x00007fcb18a132c0] usleep() /a.php:3"));
    assert!(p.continues(head, b"+++ dump failed"));
    assert!(!p.continues(head, b""));
    assert!(!p.continues(head, b"garbage"));
    let two = b"[24-Nov-2026 11:16:57]  [pool www] pid 1\nscript_filename = /a.php";
    assert!(!p.continues(two, b"script_filename = /b.php"));
    assert!(p.continues(two, b"[0x1] f() /a.php:1"));
    // Blank lines stand alone and are skipped as empty by the driver.
    assert!(!p.continues(b"", b"[0x1] f() /a.php:1"));
    // Orphan frames stay together.
    assert!(p.continues(b"[0x1] f() /a.php:1", b"[0x2] g() /a.php:2"));
}

#[test]
fn summary_counts_by_culprit() {
    use crate::scan::{ScanOptions, scan_slice};
    let input = format!(
        "\n{LAB_PLUGIN}\n\n{ALLOPTIONS}\n\n[24-Nov-2026 11:20:10]  [pool www] pid 4010\n\n\
[24-Nov-2026 11:20:04]  [pool www] pid 4004\n\
[0x00007f0000000300] usleep() /srv/wp/wp-content/themes/t/functions.php:3\n\
[0x00007f0000000300] usleep() /srv/wp/wp-content/mu-plugins/m.php:3\n"
    );
    let (s, t) = scan_slice(
        input.as_bytes(),
        0,
        &SlowlogParser::new(Zone::UTC),
        &ScanOptions::default(),
        &SlowlogSummary::default,
    );
    assert_eq!(t.lines, 27);
    assert_eq!(t.parsed, 23);
    assert_eq!(t.skipped_for(SkipReason::Empty), 4);
    assert_eq!(s.traces, 4);
    assert_eq!(
        s.by_plugin.into_iter().collect::<Vec<_>>(),
        [(b"report-builder".to_vec(), 1)]
    );
    assert_eq!(
        s.by_theme.into_iter().collect::<Vec<_>>(),
        [(b"t".to_vec(), 1)]
    );
    assert!(s.by_mu_plugin.is_empty());
    assert_eq!((s.core, s.other, s.unattributed, s.truncated), (1, 0, 1, 1));
    assert_eq!(s.calls, [0, 1, 2, 0, 0]);
    assert_eq!(s.range.first, Some(time("2026-11-24T11:16:57Z")));
    assert_eq!(s.range.last, Some(time("2026-11-24T11:20:10Z")));
}

#[test]
fn summary_merge_adds() {
    let mut a = SlowlogSummary::default();
    let mut p = SlowlogParser::new(Zone::UTC);
    a.record(
        p.parse(LAB_PLUGIN.as_bytes()).unwrap(),
        Loc {
            offset: 0,
            line: 1,
            lines: 7,
        },
    );
    let mut b = a.clone();
    b.record(
        p.parse(ALLOPTIONS.as_bytes()).unwrap(),
        Loc {
            offset: 0,
            line: 1,
            lines: 12,
        },
    );
    a.merge(&b);
    assert_eq!(a.traces, 3);
    assert_eq!(a.by_plugin.get(&b"report-builder"[..]), Some(&2));
    assert_eq!(a.core, 1);
    assert_eq!(a.calls(), [(CallKind::Database, 1), (CallKind::Sleep, 2)]);
    assert_eq!(a.range.last, Some(time("2026-11-24T11:20:00Z")));
}
