//! `chat-gateway`: run the gateway, mint a chat URL, or print fresh secrets.

use clap::Parser;
use gateway::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or_default() {
        Command::Serve => gateway::cli::serve().await,
        Command::Token(args) => gateway::cli::token(&args),
        Command::Secrets => gateway::cli::secrets(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-gateway: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
