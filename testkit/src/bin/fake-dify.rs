//! `fake-dify`: a fake Dify Service API on a local port, for trying the
//! gateway's Dify path without Dify.
//!
//! ```text
//! cargo run -p testkit --bin fake-dify
//! ```

use clap::Parser;
use testkit::fake_dify::command::{FakeDifyArgs, run};

/// A local fake Dify (for trying the gateway's Dify path without Dify).
#[derive(Debug, Parser)]
#[command(name = "fake-dify", version, about)]
struct Cli {
    #[command(flatten)]
    args: FakeDifyArgs,
}

#[tokio::main]
#[expect(clippy::print_stderr, reason = "why the command failed")]
async fn main() -> std::process::ExitCode {
    match run(&Cli::parse().args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-dify: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
