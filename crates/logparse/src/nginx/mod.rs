//! nginx: the access log (any `log_format`, JSON) and the error log.

pub mod access;
pub mod error;
pub mod summary;
