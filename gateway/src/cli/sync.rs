//! `chat-gateway sync` (a one-off import of upstream history) and
//! `chat-gateway migrate`.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Outcome;
use crate::config::{Config, redact_database_url};
use crate::identity::SystemId;
use crate::upstream::Upstreams;

/// Arguments of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this system's users (repeat for several).
    #[arg(long = "system", value_name = "SYSTEM_ID")]
    pub systems: Vec<String>,
}

/// `chat-gateway sync`: import, report, and fail when any user's upstream
/// failed. A progress bar is drawn on standard error when it is a terminal.
pub async fn sync(args: &SyncArgs) -> anyhow::Result<Outcome> {
    super::init_command_tracing();
    let systems = args
        .systems
        .iter()
        .map(|s| SystemId::parse(s).map_err(|e| anyhow::anyhow!("--system {s:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = Config::from_process_env()?;
    let store = crate::store::open(&config.database_url).await?;
    let upstreams = Upstreams::from_settings(&config.upstreams)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} syncing users {pos}/{len} [{bar:30}] {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let report = crate::sync::run(store.as_ref(), &upstreams, &systems, &mut |done, total| {
        bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
        bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
    })
    .await?;
    bar.finish_and_clear();
    let mut text = format!(
        "synced {} users: {} conversations and {} messages imported",
        report.users, report.imported.conversations, report.imported.messages
    );
    if !report.skipped.is_empty() {
        let _ = write!(
            text,
            "\nskipped (upstream keeps no history): {}",
            report.skipped.join(", ")
        );
    }
    for (who, e) in &report.errors {
        let _ = write!(text, "\nfailed: {who}: {e}");
    }
    Ok(Outcome {
        text: Some(text),
        ok: report.errors.is_empty(),
    })
}

/// `chat-gateway migrate`: bring the schema up to date (what `serve` does
/// before listening) and exit.
pub async fn migrate() -> anyhow::Result<Outcome> {
    super::init_command_tracing();
    let config = Config::from_process_env()?;
    crate::store::open(&config.database_url).await?;
    Ok(Outcome::printed(format!(
        "database schema up to date: {}",
        redact_database_url(&config.database_url)
    )))
}
