<?php
require __DIR__ . '/wp-content/plugins/acme-cache/acme-cache.php';
require __DIR__ . '/wp-content/themes/storefront/functions.php';
require __DIR__ . '/wp-includes/class-wp-hook.php';
$what = $argv[1];
if ($what === 'warn') { acme_cache_warm([]); storefront_header(); error_log("acme-cache: warmed 0 keys"); }
if ($what === 'fatal') { apply_filters_cb('acme_cache_explode'); }
if ($what === 'memory') { acme_cache_hog(); }
if ($what === 'dbfatal') { mysqli_report(MYSQLI_REPORT_ALL & ~MYSQLI_REPORT_INDEX); $db = mysqli_connect('localhost', 'root', '', 'wp', 0, '/tmp/mdb/mysql.sock'); mysqli_query($db, 'SELECT * FROM wp_acme_cache'); }
if ($what === 'db') { $db = mysqli_connect('localhost', 'root', '', 'wp', 0, '/tmp/mdb/mysql.sock'); acme_cache_query($db); }
if ($what === 'exception') { throw new RuntimeException("payment gateway returned HTTP 503\nretry later"); }
if ($what === 'timeout') { set_time_limit(1); while (true) {} }
