//! The `hebb` binary: parse the command line, run, map every error to a message and exit code 2
//! (130 for a run stopped with Ctrl-C, whose outputs are complete up to the step reached).

use clap::Parser;

/// Large arrays start at staggered offsets within the page (see `hebb::alloc`).
#[global_allocator]
static ALLOC: hebb::alloc::StaggeredAlloc = hebb::alloc::StaggeredAlloc::new();

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes away (`hebb analyze
    // DIR | head`) instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = hebb::cli::Cli::parse();
    match hebb::cli::execute(cli) {
        Ok(()) => {}
        Err(hebb::Error::Reported { code }) => std::process::exit(code),
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
