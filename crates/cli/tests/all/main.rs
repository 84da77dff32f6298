//! Every integration test of the `baton` binary and library, in one test
//! binary (one link instead of one per file); each file is a module.

mod accuracy;
mod cli;
mod clocks;
mod config;
mod containers;
mod events;
mod fleet;
mod html;
mod inputs;
mod library;
mod limits;
mod merge;
mod mysql_slow;
mod no_witness;
mod nodes;
mod readme;
mod report;
mod report_text;
