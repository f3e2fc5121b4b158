//! The `fake-dify` command: a fake Dify on a port of its own, for trying the
//! gateway's Dify path without Dify, and as the benchmark's upstream.

use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use super::{FakeAnswer, FakeDify, FakeOptions};

/// What `fake-dify` takes on its command line.
#[derive(Debug, Args)]
pub struct FakeDifyArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:5001")]
    pub listen: String,
    /// App key the fake accepts.
    #[arg(long, default_value = "app-fake")]
    pub api_key: String,
    /// Answer with this many words instead of echoing the message.
    #[arg(long)]
    pub words: Option<usize>,
    /// Pause before each streamed word, in milliseconds (with --words).
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Keep no history and skip keep-alive pings (for benchmarks).
    #[arg(long)]
    pub stateless: bool,
}

/// Serve a fake Dify until Ctrl-C or SIGTERM. The first line printed names
/// the `DIFY_BASE_URL` and `DIFY_API_KEY` to give the gateway.
#[expect(clippy::print_stdout, reason = "the command's output is its address")]
pub async fn run(args: &FakeDifyArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second initialisation (when embedded in another command) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let answer = match args.words {
        Some(count) => FakeAnswer::Words {
            count,
            delay: Duration::from_millis(args.delay_ms),
        },
        None => FakeAnswer::Echo,
    };
    let fake = FakeDify::new(FakeOptions {
        api_key: args.api_key.clone(),
        answer,
        record: !args.stateless,
        ping_every: if args.stateless { None } else { Some(3) },
        ..Default::default()
    });
    println!(
        "fake Dify on http://{addr} — point the gateway at it with DIFY_BASE_URL=http://{addr} DIFY_API_KEY={}",
        args.api_key
    );
    fake.serve(listener, gateway::cli::shutdown_signal())
        .await?;
    Ok(())
}
