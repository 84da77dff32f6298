//! Configuration parsers on real `nginx -T` and `php-fpm -tt` captures
//! (testdata/config/PROVENANCE.md), against values read by hand.

use baton_logparse::SkipReason;
use baton_logparse::config::{ConfigFacts, Ref, fpm, nginx};
use baton_logparse::detect::{Format, detect};

const NGINX_STOCK: &[u8] = include_bytes!("../../../../testdata/config/nginx-stock.txt");
const NGINX_LAYOUT: &[u8] = include_bytes!("../../../../testdata/config/nginx-layout.txt");
const FPM_STOCK: &[u8] = include_bytes!("../../../../testdata/config/fpm-stock.txt");
const FPM_LAYOUT: &[u8] = include_bytes!("../../../../testdata/config/fpm-layout.txt");

fn r(file: &str, line: u32) -> Option<Ref> {
    Some(Ref {
        file: file.to_string(),
        line,
    })
}

#[test]
fn nginx_stock_dump() {
    let c = nginx::parse(NGINX_STOCK, "nginx.txt");
    let t = &c.tally;
    assert_eq!(t.lines, 278);
    assert_eq!(t.lines, t.parsed + t.skipped());
    // Only blank lines are skipped.
    assert_eq!(t.skipped(), t.skipped_for(SkipReason::Empty));
    let files: Vec<&str> = c.sections.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "/etc/nginx/nginx.conf",
            "/etc/nginx/mime.types",
            "/etc/nginx/sites-enabled/default"
        ]
    );
    let f = nginx::facts(&[&c]);
    assert_eq!(f.user.value, "www-data");
    assert_eq!(f.user.at, r("/etc/nginx/nginx.conf", 1));
    assert_eq!(f.error_logs[0].value, "/var/log/nginx/error.log");
    assert_eq!(f.error_logs[0].at, r("/etc/nginx/nginx.conf", 4));
    assert!(f.log_formats.is_empty());
    assert_eq!(f.servers.len(), 1);
    let s = &f.servers[0];
    assert_eq!(s.names, ["_"]);
    assert_eq!(s.listen, ["80 default_server", "[::]:80 default_server"]);
    assert_eq!(s.at, r("/etc/nginx/sites-enabled/default", 21).unwrap());
    // The PHP location is commented out in the stock site.
    assert!(s.fastcgi.is_empty());
    let logs: Vec<(&str, &str)> = f
        .access_logs()
        .map(|l| (l.path.as_str(), l.format.as_str()))
        .collect();
    assert_eq!(logs, [("/var/log/nginx/access.log", "combined")]);
    assert!(f.real_ip_header.is_none());
    assert_eq!(detect(NGINX_STOCK).format, Format::NginxConfig);
}

#[test]
fn nginx_layout_dump() {
    let c = nginx::parse(NGINX_LAYOUT, "nginx-layout.txt");
    let t = &c.tally;
    assert_eq!(t.lines, 203);
    assert_eq!(t.skipped(), t.skipped_for(SkipReason::Empty));
    let f = nginx::facts(&[&c]);
    let nginx_conf = "/tmp/layout/nginx/nginx.conf";
    assert_eq!(
        (f.user.value.as_str(), f.group.value.as_str()),
        ("nginx", "nginx")
    );
    assert_eq!(f.log_formats.len(), 1);
    assert_eq!(f.log_formats[0].name, "traced");
    assert!(f.log_formats[0].format.ends_with("id=$request_id"));
    assert!(
        f.log_formats[0]
            .format
            .starts_with("$remote_addr - $remote_user [$time_local] \"$request\" $status")
    );
    assert_eq!(f.log_formats[0].at, r(nginx_conf, 14).unwrap());
    assert_eq!(f.real_ip_header.as_ref().unwrap().value, "CF-Connecting-IP");
    assert_eq!(f.set_real_ip_from.len(), 2);
    assert_eq!(f.upstreams[0].name, "php_pool");
    let names: Vec<&str> = f.servers.iter().map(|s| s.names[0].as_str()).collect();
    assert_eq!(names, ["blog.example.com", "shop.example.com"]);
    assert_eq!(f.servers[0].names[1], "www.blog.example.com");

    let blog = &f.servers[0].fastcgi;
    assert_eq!(blog.len(), 1);
    assert_eq!(blog[0].location, "~ \\.php$");
    assert_eq!(blog[0].pass.value, "php_pool");
    assert_eq!(
        blog[0].pass.at,
        r("/tmp/layout/nginx/sites-enabled/blog", 8)
    );
    let targets: Vec<&str> = blog[0].targets.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(targets, ["unix:/run/php/www.sock", "127.0.0.1:9001"]);
    assert_eq!(blog[0].read_timeout.value, 300.0);
    assert_eq!(blog[0].read_timeout.at, r(nginx_conf, 24));
    // From the snippet included in the location.
    assert_eq!(blog[0].connect_timeout.value, 5.0);
    assert_eq!(
        blog[0].connect_timeout.at,
        r("/tmp/layout/nginx/snippets/php.conf", 5)
    );
    assert_eq!(blog[0].send_timeout.value, 60.0);
    assert_eq!(blog[0].send_timeout.at, None);
    assert_eq!(blog[0].buffers.value, (16, 16 << 10));
    assert_eq!(blog[0].buffer_size.value, 32 << 10);
    assert_eq!(blog[0].access_logs[0].format, "traced");

    let shop = &f.servers[1].fastcgi;
    assert_eq!(shop[0].pass.value, "127.0.0.1:9000");
    assert_eq!(shop[0].targets[0].value, "127.0.0.1:9000");
    assert_eq!(shop[0].read_timeout.value, 90.0);
    assert_eq!(
        shop[0].read_timeout.at,
        r("/tmp/layout/nginx/sites-enabled/shop", 14)
    );
    assert_eq!(
        shop[0].access_logs[0].path,
        "/var/log/nginx/shop.access.log"
    );
    assert_eq!(shop[0].access_logs[0].format, "combined");
}

#[test]
fn nginx_plain_files_resolve_includes_by_their_tails() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/config/layout/nginx/"
    );
    let read = |p: &str| {
        let path = format!("{dir}{p}");
        nginx::parse(&std::fs::read(&path).unwrap(), &path)
    };
    let files = [
        read("nginx.conf"),
        read("fastcgi.conf"),
        read("sites-enabled/blog"),
        read("sites-enabled/shop"),
        read("snippets/php.conf"),
    ];
    for c in &files {
        assert_eq!(c.tally.lines, c.tally.parsed + c.tally.skipped());
        assert_eq!(c.tally.skipped(), c.tally.skipped_for(SkipReason::Empty));
    }
    let refs: Vec<&nginx::NginxConfig> = files.iter().collect();
    let f = nginx::facts(&refs);
    assert_eq!(f.servers.len(), 2);
    let blog = &f.servers[0].fastcgi[0];
    assert_eq!(blog.read_timeout.value, 300.0);
    assert_eq!(blog.connect_timeout.value, 5.0);
    assert_eq!(blog.targets.len(), 2);
    assert_eq!(
        detect(&std::fs::read(format!("{dir}nginx.conf")).unwrap()).format,
        Format::NginxConfig
    );
    assert_eq!(
        detect(&std::fs::read(format!("{dir}sites-enabled/shop")).unwrap()).format,
        Format::NginxConfig
    );
}

#[test]
fn fpm_stock_dump() {
    let c = fpm::parse(FPM_STOCK, "fpm.txt");
    assert!(c.dump);
    // php-fpm ends its dump with an empty line.
    assert_eq!(
        (c.tally.lines, c.tally.parsed, c.tally.skipped()),
        (63, 62, 1)
    );
    assert_eq!(c.tally.skipped_for(SkipReason::Empty), 1);
    let f = fpm::facts(&[&c]);
    assert_eq!(
        f.error_log.as_ref().unwrap().value,
        "/var/log/php8.2-fpm.log"
    );
    assert_eq!(f.error_log.as_ref().unwrap().at, r("fpm.txt", 3));
    // `log_level = unknown value` in the dump: unset.
    assert_eq!(f.log_level, None);
    assert_eq!(f.pools.len(), 1);
    let p = &f.pools[0];
    assert_eq!(p.name, "www");
    assert_eq!(p.at, r("fpm.txt", 20).unwrap());
    assert_eq!(p.listen.as_ref().unwrap().value, "/run/php/php8.2-fpm.sock");
    assert_eq!(p.listen.as_ref().unwrap().at, r("fpm.txt", 24));
    assert_eq!(p.listen_backlog.as_ref().unwrap().value, -1);
    assert_eq!(p.listen_owner.as_ref().unwrap().value, "www-data");
    assert_eq!(p.listen_group.as_ref().unwrap().value, "www-data");
    assert_eq!(p.listen_mode, None);
    assert_eq!(p.mode(), 0o660);
    assert_eq!(p.listen_acl_users, None);
    assert_eq!(p.pm.as_ref().unwrap().value, "dynamic");
    assert_eq!(p.max_children.as_ref().unwrap().value, 5);
    assert_eq!(p.start_servers.as_ref().unwrap().value, 2);
    assert_eq!(p.min_spare_servers.as_ref().unwrap().value, 1);
    assert_eq!(p.max_spare_servers.as_ref().unwrap().value, 3);
    assert_eq!(p.slowlog, None);
    assert_eq!(p.request_slowlog_timeout.as_ref().unwrap().value, 0.0);
    assert_eq!(p.request_terminate_timeout.as_ref().unwrap().value, 0.0);
    assert_eq!(p.memory_limit, None);
    assert!(!p.catch_workers_output.as_ref().unwrap().value);
    assert!(p.decorate_workers_output.as_ref().unwrap().value);
    assert_eq!(detect(FPM_STOCK).format, Format::FpmConfig);
}

#[test]
fn fpm_layout_dump_and_files() {
    let c = fpm::parse(FPM_LAYOUT, "fpm-layout.txt");
    assert_eq!((c.tally.lines, c.tally.parsed), (107, 106));
    let f = fpm::facts(&[&c]);
    assert_eq!(f.log_level.as_ref().unwrap().value, "NOTICE");
    let names: Vec<&str> = f.pools.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["shop", "www"]);
    let (shop, www) = (&f.pools[0], &f.pools[1]);
    assert_eq!(shop.listen.as_ref().unwrap().value, "127.0.0.1:9001");
    assert!(!shop.listens_on_socket());
    assert_eq!(shop.listen_backlog.as_ref().unwrap().value, 64);
    assert_eq!(shop.listen_owner, None);
    assert_eq!(shop.pm.as_ref().unwrap().value, "static");
    assert_eq!(shop.max_children.as_ref().unwrap().value, 8);
    assert_eq!(
        shop.request_terminate_timeout.as_ref().unwrap().value,
        120.0
    );
    assert_eq!(shop.memory_limit.as_ref().unwrap().value, 512 << 20);
    assert_eq!(
        shop.memory_limit.as_ref().unwrap().at,
        r("fpm-layout.txt", 61)
    );
    assert!(www.listens_on_socket());
    assert_eq!(www.mode(), 0o660);
    assert_eq!(www.max_children.as_ref().unwrap().value, 20);
    assert_eq!(
        www.slowlog.as_ref().unwrap().value,
        "/var/log/php-fpm/www.slow.log"
    );
    assert_eq!(www.request_slowlog_timeout.as_ref().unwrap().value, 5.0);
    assert_eq!(www.request_terminate_timeout.as_ref().unwrap().value, 60.0);
    assert_eq!(www.memory_limit.as_ref().unwrap().value, 256 << 20);
    assert_eq!(
        www.memory_limit.as_ref().unwrap().at,
        r("fpm-layout.txt", 104)
    );

    // The same configuration as files.
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/config/layout/fpm/"
    );
    let files: Vec<fpm::FpmConfig> = ["php-fpm.conf", "pool.d/shop.conf", "pool.d/www.conf"]
        .iter()
        .map(|p| {
            let b = std::fs::read(format!("{dir}{p}")).unwrap();
            assert_eq!(detect(&b).format, Format::FpmConfig, "{p}");
            fpm::parse(&b, p)
        })
        .collect();
    for c in &files {
        assert!(!c.dump);
        assert_eq!(c.tally.skipped(), 0, "{}", c.file);
    }
    let refs: Vec<&fpm::FpmConfig> = files.iter().collect();
    let g = fpm::facts(&refs);
    assert_eq!(g.pools.len(), 2);
    assert_eq!(g.pools[1].max_children.as_ref().unwrap().value, 20);
    assert_eq!(
        g.pools[1].max_children.as_ref().unwrap().at,
        r("pool.d/www.conf", 9)
    );
    assert_eq!(g.pools[0].listen_owner, None);
    let all = ConfigFacts::from_parsed(&[], &refs);
    assert!(all.nginx.is_none() && all.fpm.is_some());
}

#[test]
fn logs_are_not_configurations() {
    let fpm_log = b"[24-Nov-2026 11:16:52] NOTICE: fpm is running, pid 3399\n[24-Nov-2026 11:16:52] NOTICE: ready to handle connections\n";
    assert_eq!(detect(fpm_log).format, Format::FpmLog);
}

/// Found by `cargo fuzz run nginx_config` (`fuzz/regressions/nginx_config/`),
/// both out of memory: a dump whose same-named sections include each
/// other from inside `location` blocks made the walk visit exponentially
/// many directives; and a long `access_log` list (spliced through
/// includes) was copied into every one of very many servers. A walk now
/// visits at most a fixed number of directives, each block keeps at most
/// 32 access logs and every copy is charged; a real configuration is far
/// below both.
#[test]
fn fuzz_includes_inside_blocks_do_not_explode() {
    let inputs: [&[u8]; 2] = [
        include_bytes!("../../../../fuzz/regressions/nginx_config/includes-inside-blocks-explode"),
        include_bytes!("../../../../fuzz/regressions/nginx_config/server-access-logs-cloned"),
    ];
    for buf in inputs {
        let started = std::time::Instant::now();
        let c = nginx::parse(buf, "fuzz.conf");
        let t = &c.tally;
        assert_eq!(t.lines, t.parsed + t.skipped());
        let physical = buf.iter().filter(|&&b| b == b'\n').count() as u64
            + u64::from(buf.last().is_some_and(|&b| b != b'\n'));
        assert_eq!(t.lines, physical);
        let f = nginx::facts(&[&c]);
        assert!(f.directives <= 200_000, "{}", f.directives);
        let copies: usize = f.servers.iter().map(|s| s.access_logs.len()).sum::<usize>()
            + f.fastcgi().map(|(_, l)| l.access_logs.len()).sum::<usize>();
        assert!(copies <= 200_000, "{copies}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
