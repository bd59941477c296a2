//! The `hebb` binary: parse the command line, run, map every error to a message and exit code 2
//! (130 for a run stopped with Ctrl-C, whose outputs are complete up to the step reached).

use clap::Parser;

fn main() {
    let cli = hebb::cli::Cli::parse();
    match hebb::cli::execute(cli) {
        Ok(()) => {}
        Err(e @ hebb::Error::Interrupted { .. }) => {
            eprintln!("{e}");
            std::process::exit(130);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
