<?php
function acme_cache_warm($opts) {
    $n = $opts['keys'] + 1;             // Warning: undefined array key
    return strlen(null) + $n;            // Deprecated: passing null
}
function acme_cache_explode() {
    acme_missing_function();             // Fatal: undefined function
}
function acme_cache_hog() {
    $a = [];
    while (true) { $a[] = str_repeat('x', 1024 * 1024); }
}
function acme_cache_query($db) {
    $q = "SELECT option_value FROM wp_acme_cache WHERE option_name = 'warm'";
    mysqli_report(MYSQLI_REPORT_OFF);
    if (!mysqli_query($db, $q)) {
        $caller = "require('wp-blog-header.php'), require_once('wp-load.php'), require_once('wp-config.php'), require_once('wp-settings.php'), include_once('/tmp/wpsite/wp-content/plugins/acme-cache/acme-cache.php'), do_action('init'), WP_Hook->do_action, WP_Hook->apply_filters, acme_cache_query";
        error_log(sprintf('WordPress database error %1$s for query %2$s made by %3$s', mysqli_error($db), $q, $caller));
    }
}
