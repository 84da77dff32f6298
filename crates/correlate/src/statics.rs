//! Reading back the fixed names of a `baton.report.v1` document (a
//! handoff, a mark's kind, a configuration check) as the `&'static str`s
//! the model holds: a name outside the contract's lists is an error, as
//! it is no document baton wrote.

use serde::de::{Deserialize, Deserializer, Error};

/// A fixed name of the model (`&'static str`), spelled as an alias so
/// that serde's derive does not borrow it from the input.
pub type Name = &'static str;

/// The kinds of [`crate::model::Mark`].
pub const MARK_KINDS: [&str; 10] = [
    "max_children",
    "restart",
    "reload",
    "child_signal",
    "slow_request",
    "execution_timeout",
    "oom_kill",
    "segfault",
    "slow_query",
    "php_fatal",
];

/// The contract's configuration checks.
pub const CHECKS: [&str; 8] = [
    "fastcgi_pass_mismatch",
    "socket_access",
    "static_pool_silent",
    "slowlog_off",
    "timeout_order",
    "backlog_small",
    "max_children_memory",
    "request_id_missing",
];

/// `d`'s string when it is one of `names` (as that `&'static str`), else
/// an error naming `what`.
pub(crate) fn one_of<'de, D: Deserializer<'de>>(
    d: D,
    what: &str,
    names: impl IntoIterator<Item = &'static str>,
) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    names
        .into_iter()
        .find(|n| *n == s)
        .ok_or_else(|| D::Error::custom(format!("unknown {what} {s:?}")))
}

/// A mark's `kind`.
pub fn mark_kind<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, "mark kind", MARK_KINDS)
}

/// A configuration finding's `check`.
pub fn check<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, "configuration check", CHECKS)
}
