//! The `conv1x1` command line tool as a library, so that tests and fuzz targets can call its
//! parts (notably [`npy::read_f32_array`]) directly.

pub mod args;
pub mod bench;
pub mod cpu;
pub mod engine;
pub mod format;
pub mod info;
pub mod measure;
pub mod npy;
pub mod peers;
pub mod pool;
pub mod report;
pub mod results;
pub mod rng;
pub mod run;
pub mod verify;

use std::io::Write;

use args::{Cli, Command};

/// Runs a parsed command line, writing its normal output to `out` (progress bars, notes and
/// nothing else go to stderr).
pub fn execute(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match &cli.command {
        Command::Info(a) => info::run(a, out),
        Command::Bench(a) => bench::run(a, out),
        Command::Report(a) => report::run(a, out),
        Command::Run(a) => run::run(a, out),
        Command::Verify(a) => verify::run(a, out),
    }?;
    out.flush()?;
    Ok(())
}
