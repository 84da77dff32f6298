//! Small shared words: log bytes as names, upstream addresses, and the status a gateway error stands for.

use baton_logparse::fpm::slowlog::CallKind;
use baton_logparse::nginx::error::UpstreamKind;
use baton_logparse::text::escape;
use baton_logparse::{Event, EventKind};

use crate::model::Cause;

/// Log bytes as a string for names (paths, slugs): invalid UTF-8 shown as
/// `\xHH`.
pub fn lossy(b: &[u8]) -> String {
    escape(b)
}

/// The upstream address as nginx tried it, without the scheme nginx adds
/// (`fastcgi://`, `http://`) and without a request path glued to it.
pub(crate) fn trim_upstream(u: &[u8]) -> &[u8] {
    let u = u.strip_prefix(b"fastcgi://").unwrap_or(u);
    let u = u.strip_prefix(b"http://").unwrap_or(u);
    let u = u.strip_prefix(b"https://").unwrap_or(u);
    // `unix:/run/php/php8.2-fpm.sock:` keeps its path; an address with a
    // request path (`127.0.0.1:9996/proxy/health`) loses the path.
    let u = if u.starts_with(b"unix:") {
        u
    } else {
        match u.iter().position(|b| *b == b'/') {
            Some(i) => &u[..i],
            None => u,
        }
    };
    u.strip_suffix(b":").unwrap_or(u)
}

/// The status a gateway error stands for: the access log's, or for an
/// upstream error standing alone, 504 for timeouts and 502 otherwise.
pub(crate) fn status_of(e: &Event) -> Option<u16> {
    match e.kind {
        Some(EventKind::UpstreamError) => Some(match e.upstream_kind {
            Some(UpstreamKind::TimedOut | UpstreamKind::ConnectTimedOut) => 504,
            _ => 502,
        }),
        _ => e.status,
    }
}

/// A php-fpm process (kernel lines name the process).
pub(crate) fn is_php(e: &Event) -> bool {
    e.detail()
        .process
        .as_deref()
        .is_some_and(|p| p.starts_with(b"php"))
}

/// The latency cause of a call kind.
pub(crate) fn latency_cause(call: &str) -> Cause {
    match call {
        c if c == CallKind::ExternalCall.as_str() => Cause::ExternalCall,
        c if c == CallKind::Database.as_str() => Cause::Database,
        _ => Cause::SlowScript,
    }
}

/// `1 trace`, `3 traces`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_lose_scheme_and_glued_paths() {
        assert_eq!(
            trim_upstream(b"fastcgi://unix:/run/php/php8.2-fpm.sock:"),
            b"unix:/run/php/php8.2-fpm.sock"
        );
        assert_eq!(
            trim_upstream(b"fastcgi://127.0.0.1:9999"),
            b"127.0.0.1:9999"
        );
        assert_eq!(
            trim_upstream(b"http://127.0.0.1:9996/proxy/health"),
            b"127.0.0.1:9996"
        );
    }
}
