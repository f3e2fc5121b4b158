//! `chat-gateway export`: the stored conversations as CSV or JSON Lines,
//! straight from the database in `DATABASE_URL`, to standard output or a
//! file. A progress bar is drawn on standard error when it is a terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Config;
use crate::console::date_bound;
use crate::console::export::{Format, export};
use crate::store::console::ConsoleFilter;

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Only this system.
    #[arg(long)]
    pub system: Option<String>,
    /// Conversations started on or after (YYYY-MM-DD, UTC, or RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Conversations started on or before (YYYY-MM-DD includes the day).
    #[arg(long)]
    pub to: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// The filter the arguments name.
pub fn filter_of(args: &ExportArgs) -> anyhow::Result<ConsoleFilter> {
    let bound = |name: &str, raw: &Option<String>, end: bool| {
        raw.as_deref()
            .map(|r| {
                date_bound(r, end).with_context(|| {
                    format!("--{name} {r:?}: expected YYYY-MM-DD or an RFC 3339 timestamp")
                })
            })
            .transpose()
    };
    let system = match &args.system {
        Some(s) => {
            if let Err(e) = sdk::identity::check_system_id(s) {
                bail!("--system: {e}");
            }
            Some(s.to_ascii_lowercase())
        }
        None => None,
    };
    Ok(ConsoleFilter {
        system_id: system,
        from: bound("from", &args.from, false)?,
        to: bound("to", &args.to, true)?,
        ..ConsoleFilter::default()
    })
}

/// Run `export`.
pub async fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let filter = filter_of(args)?;
    let config = Config::from_process_env()?;
    let store = crate::store::open(&config.database_url).await?;
    let total = store.console_count(&filter).await?;
    let format = match args.format {
        ExportFormat::Jsonl => Format::JsonLines,
        ExportFormat::Csv => Format::Csv,
    };
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} conversations ({eta})")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut chunks = std::pin::pin!(export(store, filter, format));
    while let Some(chunk) = chunks.try_next().await? {
        out.write_all(&chunk.bytes)?;
        bar.inc(chunk.conversations);
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(system: Option<&str>, from: Option<&str>, to: Option<&str>) -> ExportArgs {
        ExportArgs {
            format: ExportFormat::Csv,
            system: system.map(Into::into),
            from: from.map(Into::into),
            to: to.map(Into::into),
            output: None,
        }
    }

    #[test]
    fn arguments_become_a_filter() {
        let f = filter_of(&args(
            Some("DrillQuiz"),
            Some("2026-11-01"),
            Some("2026-11-30"),
        ))
        .unwrap();
        assert_eq!(f.system_id.as_deref(), Some("drillquiz"));
        assert_eq!(
            f.to.unwrap() - f.from.unwrap(),
            time::Duration::days(30),
            "--to includes its whole day"
        );
        assert!(filter_of(&args(None, Some("1/11/2026"), None)).is_err());
        assert!(filter_of(&args(Some("no spaces"), None, None)).is_err());
    }
}
