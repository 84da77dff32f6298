//! php-fpm: its own log and its slowlog.

pub mod slowlog;
