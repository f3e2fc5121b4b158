//! `chat-gateway`: run the gateway, or one of its commands (see `cli`).

use clap::Parser;
use gateway::cli::{Cli, Command, Outcome};

#[tokio::main]
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command's output and its error go to the terminal"
)]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or_default() {
        Command::Serve => gateway::cli::serve().await.map(|()| Outcome::quiet()),
        Command::Token(args) => gateway::cli::token(&args).map(Outcome::printed),
        Command::Secrets => Ok(Outcome::printed(gateway::cli::secrets())),
        Command::Sync(args) => gateway::cli::sync(&args).await,
        Command::Migrate => gateway::cli::migrate().await,
        Command::Check => gateway::cli::check().await,
        Command::Export(args) => gateway::cli::export::run(&args)
            .await
            .map(|()| Outcome::quiet()),
        Command::Operator(command) => gateway::cli::operator(command).await.map(Outcome::printed),
    };
    match result {
        Ok(outcome) => {
            if let Some(text) = outcome.text {
                println!("{text}");
            }
            if outcome.ok {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("chat-gateway: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
