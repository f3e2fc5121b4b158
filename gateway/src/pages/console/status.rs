//! `GET /admin/status`: housekeeping at a glance. The retention policy
//! (`CHAT_GATEWAY_RETENTION_DAYS`) and its last purges, the scheduled sync
//! (`CHAT_GATEWAY_SYNC_EVERY`) with its last rounds as the store recorded
//! them (any replica), and this replica's own round counts.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{i18n, page, read_query, when};
use crate::error::ApiError;
use crate::extract::viewer_of;
use crate::operators::Access;
use crate::state::AppState;
use crate::store::housekeeping::{RetentionRun, SyncRoundRecord};

/// Runs and rounds shown of each.
const SHOWN: u32 = 20;

#[derive(Debug, Serialize)]
struct PurgeRow {
    ran_at: String,
    replica: String,
    cutoff: String,
    conversations: u64,
    messages: u64,
}

impl From<RetentionRun> for PurgeRow {
    fn from(r: RetentionRun) -> Self {
        Self {
            ran_at: when(r.ran_at),
            replica: r.replica,
            cutoff: when(r.cutoff),
            conversations: r.purged.conversations,
            messages: r.purged.messages,
        }
    }
}

#[derive(Debug, Serialize)]
struct RoundRow {
    started: String,
    replica: String,
    finished: bool,
    /// How long it ran, once finished.
    duration: String,
    conversations: Option<u64>,
    messages: Option<u64>,
    errors: Option<u64>,
}

impl From<SyncRoundRecord> for RoundRow {
    fn from(r: SyncRoundRecord) -> Self {
        let took = r
            .finished_at
            .map(|end| Duration::try_from(end - r.started_at).unwrap_or_default());
        Self {
            started: when(r.started_at),
            replica: r.replica,
            finished: took.is_some(),
            duration: took.map(shown_duration).unwrap_or_default(),
            conversations: r.conversations,
            messages: r.messages,
            errors: r.errors,
        }
    }
}

/// A duration to the millisecond (`1s 250ms`), at least `0ms`.
fn shown_duration(d: Duration) -> String {
    let ms = Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if ms.is_zero() {
        return "0ms".to_owned();
    }
    humantime::format_duration(ms).to_string()
}

pub(super) async fn status(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (_, lang) = read_query(raw.as_deref(), &headers)?;
    viewer_of(&access)?;
    let texts = i18n::console(lang);
    let purges: Vec<PurgeRow> = state
        .store
        .retention_runs(SHOWN)
        .await?
        .into_iter()
        .map(PurgeRow::from)
        .collect();
    let rounds: Vec<RoundRow> = state
        .store
        .sync_rounds(SHOWN)
        .await?
        .into_iter()
        .map(RoundRow::from)
        .collect();
    let retention_policy = match state.config.retention {
        Some(keep) => texts
            .page
            .retention_policy
            .replace("{days}", &keep.whole_days().to_string()),
        None => texts.page.retention_off.to_owned(),
    };
    let sync_policy = match state.config.sync_every {
        Some(every) => texts
            .page
            .sync_policy
            .replace("{every}", &humantime::format_duration(every).to_string()),
        None => texts.page.sync_off.to_owned(),
    };
    let here = state.sync.snapshot();
    Ok(page(
        "console_status.html",
        lang,
        &access,
        context! {
            t => Serde(texts),
            retention_policy => retention_policy,
            purges => Serde(purges),
            sync_policy => sync_policy,
            rounds => Serde(rounds),
            here => context! {
                rounds_run => here.rounds_run,
                rounds_skipped => here.rounds_skipped,
                rounds_failed => here.rounds_failed,
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_shown_to_the_millisecond() {
        assert_eq!(shown_duration(Duration::from_micros(1_250_400)), "1s 250ms");
        assert_eq!(shown_duration(Duration::from_micros(300)), "0ms");
        assert_eq!(shown_duration(Duration::from_secs(61)), "1m 1s");
    }
}
