//! `chat-gateway`: run the gateway, mint a chat URL, or print fresh secrets.

use clap::Parser;
use gateway::cli::{Cli, Command};

#[tokio::main]
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command's output and its error go to the terminal"
)]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or_default() {
        Command::Serve => gateway::cli::serve().await.map(|()| None),
        Command::Token(args) => gateway::cli::token(&args).map(Some),
        Command::Secrets => Ok(Some(gateway::cli::secrets())),
        Command::Operator(command) => gateway::cli::operator(command).await.map(Some),
    };
    match result {
        Ok(output) => {
            if let Some(text) = output {
                println!("{text}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chat-gateway: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
