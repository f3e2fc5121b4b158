//! `chat-gateway operator …`: the operators who sign in to `/admin`.
//! Passwords are read from the terminal, or from standard input with
//! `--password-stdin`; never from an argument.

use anyhow::Context as _;
use clap::Subcommand;

use crate::config::Config;
use crate::operators::{Role, accounts};

/// `chat-gateway operator …`.
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
