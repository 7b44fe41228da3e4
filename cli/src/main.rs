//! `conv1x1`: exit status 0 on success, 2 on a usage error (from clap), 1 on a runtime error
//! with a one-line `error: ...` message.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use conv1x1_cli::args::Cli;

fn main() -> ExitCode {
    // Help, version and usage errors: clap prints them and exits with 0 or 2.
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match conv1x1_cli::execute(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`conv1x1 bench | head`): not an error of ours.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            // `{:#}` joins the context chain on one line: "cannot read input x.npy: No such file".
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
