//! Every integration test of `baton-logparse`, in one test binary (one
//! link instead of one per file); each file is a module.

mod access;
mod cloudflare;
mod config;
mod drain;
mod error_log;
mod fpm_log;
mod garbage;
mod honesty;
mod journal;
mod kernel;
mod long_lines;
mod scan;
mod slowlog;
