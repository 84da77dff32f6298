//! `baton`: which handoff failed, and why?
//!
//! The binary is the library's command line ([`baton::cli_main`]): parse
//! the arguments, run the command, print, and map the outcome to the
//! contract's exit codes.

fn main() -> std::process::ExitCode {
    baton::cli_main()
}
