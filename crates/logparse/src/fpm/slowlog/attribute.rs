//! Attribution: where a frame's code lives ([`CodeKind`]) and what the
//! innermost call of a trace is doing ([`CallKind`]).
//!
//! Both are decided from bytes the slowlog prints: php-fpm writes each
//! frame as a bare function name (`query()`, never `wpdb->query`) followed
//! by the file and line *of the code that made the call*. So a frame's file
//! says whose code made the call, and the innermost frame's function says
//! what the worker was blocked in.

use memchr::{memchr, memmem, memrchr};

/// Where a frame's code lives: `culprits[].kind` of `CONTRACT.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeKind {
    /// `wp-content/plugins/<slug>/...` (or the single-file plugin
    /// `wp-content/plugins/<slug>.php`), bundled `vendor/` code included.
    Plugin,
    /// `wp-content/mu-plugins/<slug>/...` or `wp-content/mu-plugins/<slug>.php`.
    MuPlugin,
    /// `wp-content/themes/<slug>/...`.
    Theme,
    /// WordPress itself (`wp-includes/`, `wp-admin/`, the root files such as
    /// `wp-settings.php`, `index.php` at the WordPress root), or, in a trace
    /// that is not WordPress, the framework's `/vendor/` tree.
    Core,
    /// Anything else: site scripts, drop-ins (`wp-content/object-cache.php`),
    /// `wp-content/plugins-mu/...`, application code outside `/vendor/`.
    Other,
}

impl CodeKind {
    /// Every kind, in contract order (the order of [`CodeKind::index`]).
    pub const ALL: [CodeKind; 5] = [
        CodeKind::Plugin,
        CodeKind::MuPlugin,
        CodeKind::Theme,
        CodeKind::Core,
        CodeKind::Other,
    ];

    /// The contract's name: `plugin`, `mu_plugin`, `theme`, `core`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Plugin => "plugin",
            CodeKind::MuPlugin => "mu_plugin",
            CodeKind::Theme => "theme",
            CodeKind::Core => "core",
            CodeKind::Other => "other",
        }
    }

    /// A dense index in `0..CodeKind::ALL.len()`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the innermost call of a trace is doing: `culprits[].call` of
/// `CONTRACT.md`. See [`classify_call`] for the exact rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallKind {
    /// Waiting on another server over the network (HTTP API, SMTP, DNS...).
    ExternalCall,
    /// Waiting on the database.
    Database,
    /// Sleeping on purpose (`sleep`, `usleep`, ...).
    Sleep,
    /// Local file or directory I/O.
    FileIo,
    /// Anything else: PHP running its own code.
    Cpu,
}

impl CallKind {
    /// Every class, in contract order (the order of [`CallKind::index`]).
    pub const ALL: [CallKind; 5] = [
        CallKind::ExternalCall,
        CallKind::Database,
        CallKind::Sleep,
        CallKind::FileIo,
        CallKind::Cpu,
    ];

    /// The contract's name: `external_call`, `database`, `sleep`, `file_io`, `cpu`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::ExternalCall => "external_call",
            CallKind::Database => "database",
            CallKind::Sleep => "sleep",
            CallKind::FileIo => "file_io",
            CallKind::Cpu => "cpu",
        }
    }

    /// A dense index in `0..CallKind::ALL.len()`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// WordPress files at the root of an install. All but `index.php` are
/// unmistakably WordPress wherever they sit.
const ROOT_FILES: [&[u8]; 15] = [
    b"index.php",
    b"wp-activate.php",
    b"wp-blog-header.php",
    b"wp-comments-post.php",
    b"wp-config.php",
    b"wp-config-sample.php",
    b"wp-cron.php",
    b"wp-links-opml.php",
    b"wp-load.php",
    b"wp-login.php",
    b"wp-mail.php",
    b"wp-settings.php",
    b"wp-signup.php",
    b"wp-trackback.php",
    b"xmlrpc.php",
];

/// The part of `path` after its last `/`.
#[inline]
fn basename(path: &[u8]) -> &[u8] {
    memrchr(b'/', path).map_or(path, |i| &path[i + 1..])
}

/// Whether `base` is a WordPress root file other than `index.php`.
fn is_distinctive_root_file(base: &[u8]) -> bool {
    base != b"index.php" && ROOT_FILES.contains(&base)
}

/// The first `/wp-content/`, `/wp-includes/` or `/wp-admin/` directory in
/// `path`: its offset (of the leading `/`) and which one.
fn wp_marker(path: &[u8]) -> Option<(usize, Marker)> {
    let mut from = 0;
    while let Some(i) = memmem::find(&path[from..], b"/wp-") {
        let at = from + i;
        let rest = &path[at + 4..];
        if rest.starts_with(b"content/") {
            return Some((at, Marker::Content));
        }
        if rest.starts_with(b"includes/") || rest.starts_with(b"admin/") {
            return Some((at, Marker::CoreDir));
        }
        from = at + 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Content,
    CoreDir,
}

/// The WordPress root that `path` reveals, with its trailing `/`: the
/// directory holding `wp-content/`, `wp-includes/` or `wp-admin/`, or the
/// directory of a WordPress root file such as `wp-settings.php`.
pub fn wp_root_of(path: &[u8]) -> Option<&[u8]> {
    if let Some((at, _)) = wp_marker(path) {
        return Some(&path[..at + 1]);
    }
    let slash = memrchr(b'/', path)?;
    is_distinctive_root_file(&path[slash + 1..]).then(|| &path[..slash + 1])
}

/// Where the code in `file` lives, and its name: the slug for plugins,
/// mu-plugins and themes; for core and other code the path relative to the
/// WordPress root (`wp-includes/class-wpdb.php`, `slow.php`) or, outside it,
/// the whole path; for a framework's `/vendor/` code (traces that are not
/// WordPress) the Composer package (`laravel/framework`).
///
/// `root` is the trace's WordPress root ([`wp_root_of`] of its paths);
/// `None` means the trace is not WordPress.
///
/// ```
/// use baton_logparse::fpm::slowlog::{CodeKind, attribute};
/// let root = Some(&b"/var/www/shop/public/"[..]);
/// let f = b"/var/www/shop/public/wp-content/plugins/acme/vendor/guzzlehttp/guzzle/src/Client.php";
/// assert_eq!(attribute(f, root), (CodeKind::Plugin, &b"acme"[..]));
/// let f = b"/var/www/shop/public/wp-content/plugins-mu/x/x.php";
/// assert_eq!(attribute(f, root), (CodeKind::Other, &b"wp-content/plugins-mu/x/x.php"[..]));
/// ```
pub fn attribute<'a>(file: &'a [u8], root: Option<&[u8]>) -> (CodeKind, &'a [u8]) {
    let relative = |p: &'a [u8]| match root {
        Some(r) if p.len() > r.len() && p.starts_with(r) => &p[r.len()..],
        _ => p,
    };
    match wp_marker(file) {
        Some((at, Marker::Content)) => {
            let rest = &file[at + "/wp-content/".len()..];
            for (dir, kind) in [
                (&b"plugins/"[..], CodeKind::Plugin),
                (b"mu-plugins/", CodeKind::MuPlugin),
                (b"themes/", CodeKind::Theme),
            ] {
                let Some(r) = rest.strip_prefix(dir) else {
                    continue;
                };
                match memchr(b'/', r) {
                    Some(j) if j > 0 => return (kind, &r[..j]),
                    None if kind != CodeKind::Theme => {
                        if let Some(slug) = r.strip_suffix(b".php").filter(|s| !s.is_empty()) {
                            return (kind, slug);
                        }
                    }
                    _ => {}
                }
                break;
            }
            return (CodeKind::Other, &file[at + 1..]);
        }
        Some((at, Marker::CoreDir)) => return (CodeKind::Core, &file[at + 1..]),
        None => {}
    }
    let base = basename(file);
    if ROOT_FILES.contains(&base) {
        let dir = &file[..file.len() - base.len()];
        if is_distinctive_root_file(base) || root == Some(dir) {
            return (CodeKind::Core, base);
        }
    }
    if root.is_none()
        && let Some(v) = memmem::find(file, b"/vendor/")
    {
        let pkg = &file[v + "/vendor/".len()..];
        let end = memchr(b'/', pkg)
            .and_then(|a| memchr(b'/', &pkg[a + 1..]).map(|b| a + 1 + b))
            .unwrap_or(pkg.len());
        return (CodeKind::Core, &pkg[..end]);
    }
    (CodeKind::Other, relative(file))
}

/// ASCII case-insensitive substring test; `needle` is lower case.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether `file` belongs to an HTTP (or SMTP) client layer, whose stream
/// reads and writes are network I/O.
pub fn is_http_layer(file: &[u8]) -> bool {
    const LAYERS: [&[u8]; 7] = [
        b"/class-wp-http",
        b"/class-http.php",
        b"/requests/",
        b"/guzzlehttp/",
        b"/http-client/",
        b"/phpmailer/smtp.php",
        b"/class-smtp.php",
    ];
    LAYERS.iter().any(|l| contains_ci(file, l))
}

/// Whether `file` is a database layer, where a bare `query()` or
/// `execute()` is a database call.
pub fn is_db_layer(file: &[u8]) -> bool {
    let base = basename(file);
    if base.eq_ignore_ascii_case(b"class-wpdb.php")
        || base.eq_ignore_ascii_case(b"wp-db.php")
        || file.ends_with(b"/wp-content/db.php")
        || contains_ci(base, b"pdo")
    {
        return true;
    }
    const LAYERS: [&[u8]; 4] = [b"/database/", b"/dbal/", b"/db/", b"/pdo/"];
    LAYERS.iter().any(|l| contains_ci(file, l))
}

/// Classifies the innermost frame of a trace from its function and the file
/// that called it (case-insensitive on the function name):
///
/// - `sleep`: `sleep`, `usleep`, `time_nanosleep`, `time_sleep_until`.
/// - `external_call`: `curl_exec`, every `curl_multi_*`, `fsockopen`,
///   `pfsockopen`, `stream_select`, every `stream_socket_*` and `socket_*`,
///   `ftp_*`, `ldap_*`, DNS lookups (`gethostbyname`, `gethostbynamel`,
///   `dns_get_record`, `checkdnsrr`, `getmxrr`), `SoapClient`'s
///   `__doRequest`/`__soapCall`; and the stream functions
///   `file_get_contents`, `fopen`, `fread`, `fgets`, `fgetc`, `fwrite`,
///   `fputs`, `feof`, `stream_get_contents`, `stream_get_line` **when the
///   calling file is an HTTP/SMTP client layer** ([`is_http_layer`]:
///   `class-wp-http*.php`, `class-http.php`, a `Requests/` directory,
///   `guzzlehttp/`, `http-client/`, PHPMailer's `SMTP.php`,
///   `class-smtp.php`). The slowlog never shows arguments, so a plugin that
///   calls `file_get_contents('https://...')` itself is classified
///   `file_io`: a URL cannot be told from a path.
/// - `database`: every `mysqli_*`, `mysql_*`, `pg_*`, `sqlsrv_*`, `oci_*`,
///   `odbc_*`, `db2_*`, `sqlite_*` function; and PDO/mysqli methods printed
///   bare (`query`, `real_query`, `multi_query`, `execute`, `exec`,
///   `prepare`, `fetch`, `fetchAll`, `fetchColumn`, `next_result`,
///   `store_result`, `connect`, `real_connect`, `beginTransaction`,
///   `commit`, `rollBack`, `__construct`) **when the calling file is a
///   database layer** ([`is_db_layer`]: `class-wpdb.php`, `wp-db.php`, the
///   `wp-content/db.php` drop-in, a file whose name holds `pdo`, or a
///   `database/`, `dbal/`, `db/` or `pdo/` directory).
/// - `file_io`: local file and directory functions (`fopen`, `fread`,
///   `fwrite`, `fgets`, `file_get_contents`, `file_put_contents`, `flock`,
///   `file`, `readfile`, `copy`, `rename`, `unlink`, `scandir`, `glob`,
///   `stat`, `filemtime`, `file_exists`, `gzopen`, ... see the source list).
/// - `cpu`: anything else (user functions, `preg_*`, image functions,
///   `[INCLUDE_OR_EVAL]`, `???`).
///
/// ```
/// use baton_logparse::fpm::slowlog::{CallKind, classify_call};
/// let curl = b"/w/wp-includes/Requests/src/Transport/Curl.php";
/// assert_eq!(classify_call(b"curl_exec", curl), CallKind::ExternalCall);
/// assert_eq!(classify_call(b"query", b"/w/wp-includes/class-wpdb.php"), CallKind::Database);
/// assert_eq!(classify_call(b"query", b"/w/wp-content/themes/t/functions.php"), CallKind::Cpu);
/// assert_eq!(classify_call(b"file_get_contents", b"/w/wp-includes/class-wp-http-streams.php"), CallKind::ExternalCall);
/// assert_eq!(classify_call(b"file_get_contents", b"/w/wp-content/plugins/p/p.php"), CallKind::FileIo);
/// ```
pub fn classify_call(function: &[u8], file: &[u8]) -> CallKind {
    let mut buf = [0u8; 32];
    if function.len() > buf.len() {
        return CallKind::Cpu;
    }
    let name = &mut buf[..function.len()];
    name.copy_from_slice(function);
    name.make_ascii_lowercase();
    let name: &[u8] = name;
    match name {
        b"sleep" | b"usleep" | b"time_nanosleep" | b"time_sleep_until" => return CallKind::Sleep,
        b"curl_exec" | b"fsockopen" | b"pfsockopen" | b"stream_select" | b"gethostbyname"
        | b"gethostbynamel" | b"dns_get_record" | b"checkdnsrr" | b"getmxrr" | b"__dorequest"
        | b"__soapcall" => return CallKind::ExternalCall,
        _ => {}
    }
    const NET_PREFIXES: [&[u8]; 5] = [
        b"curl_multi_",
        b"stream_socket_",
        b"socket_",
        b"ftp_",
        b"ldap_",
    ];
    if NET_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return CallKind::ExternalCall;
    }
    const DB_PREFIXES: [&[u8]; 8] = [
        b"mysqli_", b"mysql_", b"pg_", b"sqlsrv_", b"oci_", b"odbc_", b"db2_", b"sqlite_",
    ];
    if DB_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return CallKind::Database;
    }
    match name {
        b"query" | b"real_query" | b"multi_query" | b"execute" | b"exec" | b"prepare"
        | b"fetch" | b"fetchall" | b"fetchcolumn" | b"next_result" | b"store_result"
        | b"connect" | b"real_connect" | b"begintransaction" | b"commit" | b"rollback"
        | b"__construct"
            if is_db_layer(file) =>
        {
            return CallKind::Database;
        }
        b"file_get_contents"
        | b"fopen"
        | b"fread"
        | b"fgets"
        | b"fgetc"
        | b"fwrite"
        | b"fputs"
        | b"feof"
        | b"stream_get_contents"
        | b"stream_get_line"
            if is_http_layer(file) =>
        {
            return CallKind::ExternalCall;
        }
        _ => {}
    }
    match name {
        b"fopen"
        | b"fread"
        | b"fwrite"
        | b"fputs"
        | b"fgets"
        | b"fgetc"
        | b"fgetcsv"
        | b"fputcsv"
        | b"fscanf"
        | b"fpassthru"
        | b"fflush"
        | b"fsync"
        | b"fdatasync"
        | b"fclose"
        | b"flock"
        | b"ftruncate"
        | b"fseek"
        | b"fstat"
        | b"feof"
        | b"file"
        | b"file_get_contents"
        | b"file_put_contents"
        | b"readfile"
        | b"copy"
        | b"rename"
        | b"unlink"
        | b"mkdir"
        | b"rmdir"
        | b"touch"
        | b"tempnam"
        | b"tmpfile"
        | b"scandir"
        | b"glob"
        | b"opendir"
        | b"readdir"
        | b"closedir"
        | b"dir"
        | b"filesize"
        | b"filemtime"
        | b"fileperms"
        | b"file_exists"
        | b"is_file"
        | b"is_dir"
        | b"is_readable"
        | b"is_writable"
        | b"is_writeable"
        | b"stat"
        | b"lstat"
        | b"realpath"
        | b"chmod"
        | b"chown"
        | b"move_uploaded_file"
        | b"stream_get_contents"
        | b"stream_copy_to_stream"
        | b"disk_free_space"
        | b"parse_ini_file"
        | b"md5_file"
        | b"sha1_file"
        | b"hash_file"
        | b"gzopen"
        | b"gzread"
        | b"gzwrite"
        | b"gzfile"
        | b"readgzfile" => CallKind::FileIo,
        _ => CallKind::Cpu,
    }
}
