//! A post-mortem from paths in a few lines of Rust: prints the
//! `baton.report.v1` JSON document of the logs named on the command line.
//!
//! ```sh
//! cargo run --release --example postmortem -- testdata/sample
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let report = baton::postmortem(&paths, &baton::Options::default());
    for (path, reason) in report.input_errors() {
        eprintln!("postmortem: {path}: {reason}");
    }
    serde_json::to_writer_pretty(std::io::stdout().lock(), &report)?;
    println!();
    Ok(())
}
