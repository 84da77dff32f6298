//! Each check fires on a configuration with its mistake and on none
//! without it; Debian's stock configuration fires exactly three.

use super::*;
use baton_logparse::config::{fpm, nginx};

const NGINX: &str = r#"user www-data;
http {
    log_format t '$remote_addr [$time_local] "$request" $status $request_id';
    access_log /var/log/nginx/access.log t;
    server {
        server_name a.example;
        location ~ \.php$ {
            fastcgi_pass unix:/run/php/www.sock;
            fastcgi_read_timeout 65;
        }
    }
}
"#;

const FPM: &str = "[global]
error_log = /var/log/php-fpm.log
[www]
user = www-data
group = www-data
listen = /run/php/www.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 10
request_terminate_timeout = 60
request_slowlog_timeout = 5
slowlog = /var/log/www.slow
php_admin_value[memory_limit] = 128M
";

const GB: u64 = 1 << 30;

fn facts(n: &str, f: &str, memory: Option<u64>) -> ConfigFacts {
    let n = nginx::parse(n.as_bytes(), "nginx.conf");
    let f = fpm::parse(f.as_bytes(), "www.conf");
    ConfigFacts {
        memory_bytes: memory,
        ..ConfigFacts::from_parsed(&[&n], &[&f])
    }
}

fn checks(n: &str, f: &str, memory: Option<u64>, edge: bool) -> Vec<&'static str> {
    check(&facts(n, f, memory), edge)
        .into_iter()
        .map(|c| c.check)
        .collect()
}

fn found(n: &str, f: &str) -> Vec<ConfigFinding> {
    check(&facts(n, f, Some(4 * GB)), false)
}

#[test]
fn a_sound_configuration_has_no_findings() {
    assert_eq!(checks(NGINX, FPM, Some(4 * GB), true), Vec::<&str>::new());
}

#[test]
fn fastcgi_pass_mismatch() {
    let n = NGINX.replace("unix:/run/php/www.sock", "unix:/run/php/php8.2-fpm.sock");
    let f = found(&n, FPM);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "fastcgi_pass_mismatch");
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(
        f[0].text,
        "nginx passes PHP requests to unix:/run/php/php8.2-fpm.sock (server a.example, location ~ \\.php$), where no php-fpm pool listens: the pools listen on /run/php/www.sock (www); every such request fails with 502 (connect() failed)"
    );
    let at: Vec<(&str, u32)> = f[0]
        .refs
        .iter()
        .map(|r| (r.file.as_str(), r.line))
        .collect();
    assert_eq!(at, [("nginx.conf", 8), ("www.conf", 6)]);
    // TCP: a pool on every address matches localhost; a remote host is
    // not this machine's to judge.
    let tcp = NGINX.replace("unix:/run/php/www.sock", "localhost:9000");
    let any = FPM.replace("/run/php/www.sock", "9000");
    assert_eq!(checks(&tcp, &any, None, false), Vec::<&str>::new());
    let other = FPM.replace("/run/php/www.sock", "127.0.0.1:9001");
    assert_eq!(checks(&tcp, &other, None, false), ["fastcgi_pass_mismatch"]);
    let remote = NGINX.replace("unix:/run/php/www.sock", "10.0.0.5:9000");
    assert_eq!(checks(&remote, &other, None, false), Vec::<&str>::new());
}

#[test]
fn socket_access() {
    let n = NGINX.replace("user www-data;", "user nginx;");
    let f = found(&n, FPM);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "socket_access");
    assert_eq!(
        f[0].text,
        "nginx runs as nginx:nginx, but pool www's socket /run/php/www.sock is www-data:www-data 0660: nginx cannot connect to it unless nginx is a member of group www-data; requests fail with 502 (13: Permission denied) (server a.example, location ~ \\.php$)"
    );
    let lines: Vec<u32> = f[0].refs.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 6, 7, 8]);
    // The group lets it in; so does a mode open to all, or an ACL.
    assert!(
        checks(
            &n.replace("user nginx;", "user nginx www-data;"),
            FPM,
            None,
            false
        )
        .is_empty()
    );
    let open = format!("{FPM}listen.mode = 0666\n");
    assert!(checks(&n, &open, None, false).is_empty());
    let acl = format!("{FPM}listen.acl_users = www-data,nginx\n");
    assert!(checks(&n, &acl, None, false).is_empty());
    let acl_other = format!("{FPM}listen.acl_users = apache\n");
    assert_eq!(checks(&n, &acl_other, None, false), ["socket_access"]);
    // Owner-only mode: the group no longer helps.
    let owner_only = format!("{FPM}listen.mode = 0600\n");
    let g = NGINX.replace("user www-data;", "user nginx www-data;");
    assert_eq!(checks(&g, &owner_only, None, false), ["socket_access"]);
}

#[test]
fn static_pool_silent() {
    let f = found(NGINX, &FPM.replace("pm = dynamic", "pm = static"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "static_pool_silent");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].text
            .starts_with("pool www is pm = static with 10 workers:")
    );
    let lines: Vec<u32> = f[0].refs.iter().map(|r| r.line).collect();
    assert_eq!(lines, [9, 10]);
}

#[test]
fn slowlog_off() {
    let none = FPM.replace("slowlog = /var/log/www.slow\n", "");
    assert_eq!(checks(NGINX, &none, None, false), ["slowlog_off"]);
    let zero = FPM.replace(
        "request_slowlog_timeout = 5",
        "request_slowlog_timeout = 0s",
    );
    let f = found(NGINX, &zero);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].text,
        "pool www has request_slowlog_timeout = 0 (off): slow requests leave no stack trace, so a latency incident cannot name the plugin, query or call behind it; set slowlog and request_slowlog_timeout (e.g. 5s)"
    );
    let lines: Vec<u32> = f[0].refs.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 13, 12]);
}

#[test]
fn timeout_order() {
    let slow = NGINX.replace("fastcgi_read_timeout 65;", "");
    // nginx's default 60 s is not above 60 s.
    assert!(checks(&slow, FPM, None, false).is_empty());
    let n = NGINX.replace("fastcgi_read_timeout 65;", "fastcgi_read_timeout 300s;");
    let f = found(&n, FPM);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].text,
        "nginx waits 300 s for pool www (fastcgi_read_timeout, server a.example, location ~ \\.php$), which kills requests after 60 s (request_terminate_timeout): nginx holds connections open for requests php-fpm already killed; keep fastcgi_read_timeout only a little above request_terminate_timeout"
    );
    let at: Vec<(&str, u32)> = f[0]
        .refs
        .iter()
        .map(|r| (r.file.as_str(), r.line))
        .collect();
    assert_eq!(at, [("nginx.conf", 9), ("www.conf", 11)]);
    // No request_terminate_timeout at all.
    let none = FPM.replace("request_terminate_timeout = 60\n", "");
    let f = found(NGINX, &none);
    assert_eq!(f.len(), 1);
    assert!(f[0].text.starts_with("pool www has no request_terminate_timeout: a stuck request holds its worker until nginx gives up (65 s)"));
    // Behind Cloudflare, above its 100 s.
    let cf = NGINX
        .replace("fastcgi_read_timeout 65;", "fastcgi_read_timeout 120;")
        .replace("http {", "http {\n    real_ip_header CF-Connecting-IP;");
    let long = FPM.replace(
        "request_terminate_timeout = 60",
        "request_terminate_timeout = 150",
    );
    let f = found(&cf, &long);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].text
            .starts_with("behind Cloudflare, nginx waits 120 s")
    );
    // Cloudflare logs read say the same.
    let plain = NGINX.replace("fastcgi_read_timeout 65;", "fastcgi_read_timeout 120;");
    assert_eq!(checks(&plain, &long, None, true), ["timeout_order"]);
    assert!(checks(&plain, &long, None, false).is_empty());
}

#[test]
fn backlog_small() {
    let f = found(NGINX, &format!("{FPM}listen.backlog = 64\n"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].check, "backlog_small");
    assert_eq!(f[0].refs[0].line, 15);
    assert!(checks(NGINX, &format!("{FPM}listen.backlog = 511\n"), None, false).is_empty());
    assert!(checks(NGINX, &format!("{FPM}listen.backlog = -1\n"), None, false).is_empty());
}

#[test]
fn max_children_memory() {
    let big = FPM
        .replace("pm.max_children = 10", "pm.max_children = 20")
        .replace("128M", "256M");
    let f = check(&facts(NGINX, &big, Some(4 * GB)), false);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].text,
        "pool www: pm.max_children 20 × memory_limit 256M = 5G of workers at the limit, above the machine's 4G: under load the kernel's OOM killer ends workers mid-request (502); lower pm.max_children to 16 or lower memory_limit"
    );
    assert!(check(&facts(NGINX, &big, Some(8 * GB)), false).is_empty());
    // Memory unknown: no finding.
    assert!(check(&facts(NGINX, &big, None), false).is_empty());
}

#[test]
fn request_id_missing() {
    let n = NGINX.replace(" $request_id'", "'");
    let f = found(&n, FPM);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].check, "request_id_missing");
    assert_eq!(f[0].refs[0].line, 4);
    // nginx's default: the combined format.
    let default = NGINX.replace("    access_log /var/log/nginx/access.log t;\n", "");
    assert_eq!(checks(&default, FPM, None, false), ["request_id_missing"]);
}

#[test]
fn debian_stock_fires_exactly_three() {
    let n = nginx::parse(
        include_bytes!("../../../../testdata/config/nginx-stock.txt"),
        "nginx.txt",
    );
    let f = fpm::parse(
        include_bytes!("../../../../testdata/config/fpm-stock.txt"),
        "fpm.txt",
    );
    let facts = ConfigFacts::from_parsed(&[&n], &[&f]);
    let found = check(&facts, false);
    let names: Vec<&str> = found.iter().map(|c| c.check).collect();
    assert_eq!(
        names,
        ["slowlog_off", "timeout_order", "request_id_missing"]
    );
    let at: Vec<Vec<(&str, u32)>> = found
        .iter()
        .map(|c| c.refs.iter().map(|r| (r.file.as_str(), r.line)).collect())
        .collect();
    assert_eq!(
        at,
        [
            vec![("fpm.txt", 20), ("fpm.txt", 49)],
            vec![("fpm.txt", 20), ("fpm.txt", 51)],
            vec![("/etc/nginx/nginx.conf", 40)],
        ]
    );
}

#[test]
fn the_layout_fires_its_deliberate_mistakes() {
    let n = nginx::parse(
        include_bytes!("../../../../testdata/config/nginx-layout.txt"),
        "nginx-layout.txt",
    );
    let f = fpm::parse(
        include_bytes!("../../../../testdata/config/fpm-layout.txt"),
        "fpm-layout.txt",
    );
    let facts = ConfigFacts::from_parsed(&[&n], &[&f]);
    let found = check(&facts, false);
    let names: Vec<&str> = found.iter().map(|c| c.check).collect();
    assert_eq!(
        names,
        [
            "fastcgi_pass_mismatch",
            "socket_access",
            "slowlog_off",
            "timeout_order",
            "timeout_order",
            "timeout_order",
            "backlog_small",
            "static_pool_silent",
        ],
        "{found:#?}"
    );
    assert!(
        found[0]
            .text
            .starts_with("nginx passes PHP requests to 127.0.0.1:9000 (server shop.example.com")
    );
}
