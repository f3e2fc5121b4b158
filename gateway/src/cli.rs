//! The `chat-gateway` command line: `serve` (the default), `token`,
//! `secrets` and `operator`.

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use sdk::{ChatUrlOptions, Lang};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::App;
use crate::config::{Config, Mode, VARIABLES};
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
    /// Manage the operators who sign in to /admin (in DATABASE_URL).
    #[command(subcommand)]
    Operator(OperatorCommand),
}

/// `chat-gateway operator …`. Passwords are read from the terminal, or
/// from standard input with `--password-stdin`; never from an argument.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator.
    Add {
        #[arg(long)]
        email: String,
        /// `admin` (everything) or `analyst` (reads its systems).
        #[arg(long, value_parser = ["admin", "analyst"])]
        role: String,
        /// The systems an analyst may read, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        systems: Option<Vec<String>>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set an operator's password (their sessions end).
    Passwd {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an operator (their sessions end).
    Remove {
        #[arg(long)]
        email: String,
    },
    /// List the operators.
    List,
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

fn variables_help() -> String {
    let mut out = String::from("Environment variables (also read from .env):\n");
    for (name, meaning) in VARIABLES {
        out.push_str(&format!("  {name:<44} {meaning}\n"));
    }
    out
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// `chat-gateway serve`.
pub async fn serve() -> anyhow::Result<()> {
    init_tracing();
    let mut config = Config::from_process_env()?;
    // Migrate before listening: probes are refused, not left hanging, until
    // the gateway can serve.
    let store = crate::store::open(&config.database_url).await?;
    let upstreams = crate::upstream::Upstreams::from_settings(&config.upstreams)?;
    let listen = config.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (CHAT_GATEWAY_LISTEN)"))?;
    config.bound_to(listener.local_addr()?);
    let banner = Banner::new(&config);
    let app = App::from_parts(config, store, upstreams)?;
    banner.print(&app);
    app.serve(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// What the start-up banner shows.
struct Banner {
    lines: Vec<String>,
}

impl Banner {
    fn new(config: &Config) -> Self {
        let mut lines = vec![format!(
            "tz-chat gateway on {} ({} mode)",
            config.public_url,
            match config.mode {
                Mode::Development => "development",
                Mode::Production => "production",
            }
        )];
        lines.push(format!(
            "  database:  {}",
            crate::config::redact_database_url(&config.database_url)
        ));
        if config.mode == Mode::Development {
            if let Some(file) = &config.dev.file
                && !config.dev.generated.is_empty()
            {
                lines.push(format!(
                    "  generated: {} (development values, kept in {})",
                    config.dev.generated.join(", "),
                    file.display()
                ));
            }
            match config.api_keys.first() {
                Some(key) => lines.push(format!("  API key:   {key}")),
                None => lines.push("  API key:   none (API-key auth is off)".into()),
            }
            if let Ok(id) = Identity::parse("demo", "guest")
                && let Ok(url) = chat_url(config, &id, Duration::from_secs(86_400), None, false)
            {
                lines.push(format!("  chat page: {url}"));
            }
            if let Some(key) = config.api_keys.first() {
                lines.push(format!(
                    "  try:       curl -s {}/v1/chat -H 'X-API-Key: {key}' -d '{{\"system_id\":\"demo\",\"user_id\":\"guest\",\"message\":\"Hello\"}}'",
                    config.public_url
                ));
            }
        }
        Self { lines }
    }

    #[expect(clippy::print_stdout, reason = "a banner for whoever started it")]
    fn print(&self, app: &App) {
        for line in &self.lines {
            println!("{line}");
        }
        for line in app.state().upstreams.describe() {
            println!("  upstream:  {line}");
        }
    }
}

fn chat_url(
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

/// The password for `operator add`/`passwd`: one line of standard input,
/// or asked twice on the terminal.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Again: ").context("reading the password")?;
    anyhow::ensure!(first == second, "the two passwords differ");
    Ok(first)
}

/// `chat-gateway operator …`: what to print.
pub async fn operator(command: OperatorCommand) -> anyhow::Result<String> {
    use crate::operators::{Role, accounts};
    let config = Config::from_process_env()?;
    let store = crate::store::open(&config.database_url).await?;
    match command {
        OperatorCommand::Add {
            email,
            role,
            systems,
            password_stdin,
        } => {
            let role = Role::parse(&role).context("--role is admin or analyst")?;
            let password = read_password(password_stdin)?;
            let added = accounts::add(&*store, &email, role, systems, &password).await?;
            Ok(format!("added {} ({})", added.email, added.role))
        }
        OperatorCommand::Passwd {
            email,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            accounts::set_password(&*store, &email, &password).await?;
            Ok(format!(
                "password changed for {email}; their sessions ended"
            ))
        }
        OperatorCommand::Remove { email } => {
            accounts::remove(&*store, &email).await?;
            Ok(format!("removed {email}"))
        }
        OperatorCommand::List => {
            let operators = store.list_operators().await?;
            if operators.is_empty() {
                return Ok("no operators (add one with: chat-gateway operator add)".into());
            }
            Ok(operators
                .iter()
                .map(|o| {
                    let systems = o
                        .systems
                        .as_ref()
                        .map_or("all systems".into(), |s| s.join(","));
                    format!("{}\t{}\t{systems}", o.email, o.role)
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// `chat-gateway secrets`: fresh values to print, as `.env` lines.
pub fn secrets() -> String {
    format!(
        "CHAT_GATEWAY_JWT_SECRET={}\nCHAT_GATEWAY_API_KEY={}",
        crate::secrets::jwt_secret(),
        crate::secrets::api_key()
    )
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing open requests");
}
