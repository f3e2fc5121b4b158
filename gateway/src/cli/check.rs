//! `chat-gateway check`: is this deployment usable? The configuration, the
//! database (reached, not changed) and every configured upstream (a cheap
//! probe per kind, see [`crate::upstream::probe`]), as a table.

use std::time::Duration;

use super::Outcome;
use crate::config::{
    Config, ConfiguredTarget, UpstreamTarget, normalise_origin, redact_database_url,
};

/// Longest wait for one upstream.
const UPSTREAM_LIMIT: Duration = Duration::from_secs(5);

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    what: String,
    ok: bool,
    detail: String,
}

/// Run every check; the table is the output, and any failed row fails the
/// command.
pub async fn check() -> anyhow::Result<Outcome> {
    super::init_command_tracing();
    let mut rows = Vec::new();
    let config = match Config::from_process_env() {
        Ok(config) => {
            rows.push(Row {
                what: "configuration".into(),
                ok: true,
                detail: format!(
                    "{} mode",
                    match config.mode {
                        crate::config::Mode::Development => "development",
                        crate::config::Mode::Production => "production",
                    }
                ),
            });
            config
        }
        Err(e) => {
            rows.push(Row {
                what: "configuration".into(),
                ok: false,
                detail: e.0,
            });
            return Ok(table(&rows));
        }
    };
    let database = redact_database_url(&config.database_url);
    rows.push(match crate::store::probe(&config.database_url).await {
        Ok(found) => Row {
            what: "database".into(),
            ok: true,
            detail: format!("{database}: {found}"),
        },
        Err(e) => Row {
            what: "database".into(),
            ok: false,
            detail: format!("{database}: {e}"),
        },
    });
    rows.extend(upstream_rows(&config).await);
    Ok(table(&rows))
}

/// Every configured upstream, probed at once.
async fn upstream_rows(config: &Config) -> Vec<Row> {
    let settings = &config.upstreams;
    let mut targets: Vec<(String, &ConfiguredTarget)> = Vec::new();
    if let Some(shared) = &settings.shared {
        targets.push(("upstream (every system)".into(), shared));
    }
    for (system, target) in &settings.per_system {
        targets.push((format!("upstream {system}"), target));
    }
    for (system, agents) in &settings.agents {
        for (name, agent) in agents {
            targets.push((format!("upstream {system} agent {name}"), &agent.target));
        }
    }
    let mut rows = Vec::new();
    if targets.is_empty() {
        rows.push(match &settings.demo {
            Some(demo) => Row {
                what: "upstream (every system)".into(),
                ok: true,
                detail: format!("demo: {}", demo.source()),
            },
            None => Row {
                what: "upstream".into(),
                ok: false,
                detail: "none configured and the demo is off: every chat would fail".into(),
            },
        });
        return rows;
    }
    let client = match crate::upstream::http::client(settings.timeouts, settings.http2) {
        Ok(client) => client,
        Err(e) => {
            rows.push(Row {
                what: "upstream HTTP client".into(),
                ok: false,
                detail: e.to_string(),
            });
            return rows;
        }
    };
    let probes = targets.iter().map(|(what, configured)| {
        let client = &client;
        async move {
            let target = &configured.target;
            let place = format!("{} {}", target.kind(), where_(target));
            match crate::upstream::probe::probe(client, target, UPSTREAM_LIMIT).await {
                Ok(found) => Row {
                    what: what.clone(),
                    ok: true,
                    detail: format!("{place}: {found}"),
                },
                Err(e) => Row {
                    what: what.clone(),
                    ok: false,
                    detail: format!("{place}: {e} (from {})", configured.source),
                },
            }
        }
    });
    rows.extend(futures::future::join_all(probes).await);
    rows
}

/// The scheme, host and port an upstream is reached at: paths can hold
/// secrets (an n8n webhook's id), so they are not printed.
fn where_(target: &UpstreamTarget) -> String {
    let url = match target {
        UpstreamTarget::Dify(t) => &t.base_url,
        UpstreamTarget::N8n(t) => &t.webhook_url,
        UpstreamTarget::OpenAi(t) => &t.base_url,
    };
    normalise_origin(url).unwrap_or_else(|| "(unparsable URL)".into())
}

/// The table, and whether every row passed.
fn table(rows: &[Row]) -> Outcome {
    let width = rows.iter().map(|r| r.what.len()).max().unwrap_or(0).max(5);
    let mut text = format!("{:<width$}  {:<6}  DETAIL", "CHECK", "RESULT");
    for row in rows {
        let result = if row.ok { "ok" } else { "FAIL" };
        text.push_str(&format!(
            "\n{:<width$}  {result:<6}  {}",
            row.what, row.detail
        ));
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        text.push_str(&format!("\n{failed} problem(s) found"));
    }
    Outcome {
        text: Some(text),
        ok: failed == 0,
    }
}
