//! The `hebb` binary: parse the command line, run, map every error to a message and exit code 2.

use clap::Parser;

fn main() {
    let cli = hebb::cli::Cli::parse();
    if let Err(e) = hebb::cli::execute(cli) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
