//! The `chat-gateway` command line: `serve` (the default), `token`,
//! `secrets`, `operator` (accounts for `/admin`), `export`, and for
//! pipelines `sync`, `migrate` and `check`. Each command returns its output ([`Outcome`]); `main.rs`
//! prints it and turns it into the exit code.

mod check;
pub mod export;
mod operator;
mod serve;
mod sync;

pub use self::check::check;
pub use self::operator::{OperatorCommand, operator};
pub use self::serve::{serve, shutdown_signal};
pub use self::sync::{SyncArgs, migrate, sync};

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use sdk::{ChatUrlOptions, Lang};

use crate::config::{Config, VARIABLES};
use crate::identity::Identity;

/// The tz-chat gateway.
#[derive(Debug, Parser)]
#[command(name = "chat-gateway", version, about, after_help = variables_help())]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Default, Subcommand)]
pub enum Command {
    /// Run the gateway (configured by environment variables and `.env`).
    #[default]
    Serve,
    /// Print a chat URL with a fresh token for one user.
    Token(TokenArgs),
    /// Print fresh values for CHAT_GATEWAY_JWT_SECRET and CHAT_GATEWAY_API_KEY.
    Secrets,
    /// Import upstream history now, for every known user (or some systems'),
    /// then exit (non-zero when a user's upstream failed).
    Sync(SyncArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Check the configuration, the database and every upstream; print a
    /// table and exit non-zero on any problem.
    Check,
    /// Write stored conversations (one line per message) as JSON Lines or CSV.
    Export(export::ExportArgs),
    /// Manage the operators who sign in to /admin (in DATABASE_URL).
    #[command(subcommand)]
    Operator(OperatorCommand),
}

/// What a command leaves for the terminal, and whether it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Printed on standard output.
    pub text: Option<String>,
    /// `false`: the process exits with status 1 after printing `text`.
    pub ok: bool,
}

impl Outcome {
    /// Success with nothing to print.
    pub fn quiet() -> Self {
        Self {
            text: None,
            ok: true,
        }
    }

    /// Success, printing `text`.
    pub fn printed(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ok: true,
        }
    }
}

/// Arguments of `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The client system.
    #[arg(long, default_value = "drillquiz")]
    pub system_id: String,
    /// The end user.
    #[arg(long, default_value = "12345")]
    pub user_id: String,
    /// Token lifetime in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub ttl: u64,
    /// Interface language (en, es, ko, zh, ja).
    #[arg(long)]
    pub lang: Option<String>,
    /// Compact layout, for an iframe.
    #[arg(long)]
    pub embed: bool,
}

/// Logs of the one-off commands: warnings only (unless `RUST_LOG` says
/// otherwise), on standard error, so standard output is the command's own.
fn init_command_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn variables_help() -> String {
    let mut out = String::from("Environment variables (also read from .env):\n");
    for (name, meaning) in VARIABLES {
        out.push_str(&format!("  {name:<44} {meaning}\n"));
    }
    out
}

pub(crate) fn chat_url(
    config: &Config,
    who: &Identity,
    ttl: Duration,
    lang: Option<Lang>,
    embed: bool,
) -> anyhow::Result<String> {
    let auth = crate::auth::Auth::from_config(config)?;
    let (token, _) = auth.mint(who, ttl).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(sdk::chat_url(
        &config.public_url,
        &token,
        &ChatUrlOptions {
            embed,
            lang,
            ..ChatUrlOptions::default()
        },
    ))
}

/// `chat-gateway token`: the chat URL to print.
pub fn token(args: &TokenArgs) -> anyhow::Result<String> {
    let config = Config::from_process_env()?;
    let who = Identity::parse(&args.system_id, &args.user_id)?;
    let lang = match args.lang.as_deref() {
        None => None,
        Some(tag) => Some(
            Lang::from_tag(tag)
                .with_context(|| format!("--lang {tag}: use en, es, ko, zh or ja"))?,
        ),
    };
    let url = chat_url(
        &config,
        &who,
        Duration::from_secs(args.ttl),
        lang,
        args.embed,
    )?;
    Ok(url)
}

/// `chat-gateway secrets`: fresh values to print, as `.env` lines.
pub fn secrets() -> String {
    format!(
        "CHAT_GATEWAY_JWT_SECRET={}\nCHAT_GATEWAY_API_KEY={}\nCHAT_GATEWAY_SECRET_KEY={}",
        crate::secrets::jwt_secret(),
        crate::secrets::api_key(),
        crate::sealing::SecretKey::generate()
    )
}
