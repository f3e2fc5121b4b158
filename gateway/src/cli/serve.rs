//! `chat-gateway serve`: the start-up banner and the stop signals.

use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use super::chat_url;
use crate::App;
use crate::config::{Config, Mode};
use crate::identity::Identity;

/// `chat-gateway serve`.
pub async fn serve() -> anyhow::Result<()> {
    let mut config = Config::from_process_env()?;
    let _logs = crate::logs::init(config.observability.log_format)?;
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
        for line in app.state().catalog.routes().describe() {
            println!("  upstream:  {line}");
        }
    }
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
