//! Pulling history that exists only upstream into the store (conversations
//! from before the gateway, or made elsewhere with the same upstream user).
//!
//! - `POST /v1/sync` (`X-API-Key`): every known user — chat-page visitors and
//!   conversation owners. One user's failure is reported in `errors` and does
//!   not stop the others; each conversation is imported in its own
//!   transaction, and importing twice adds nothing.
//! - `POST /v1/sync/me`: the chat token's user (`Authorization: Bearer`, or
//!   `?token=` as in the seed).
//!
//! Only upstreams that keep conversations ([`crate::upstream::UpstreamHistory`])
//! have anything to import; other systems are listed in `skipped`, never as
//! errors.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use sdk::SyncResponse;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{ServerKey, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::Identity;
use crate::scope::Permission;
use crate::state::AppState;
use crate::store::{ImportCounts, ImportedConversation, ImportedTurn};
use crate::upstream::{RouteKey, UpstreamConversation, UpstreamError, UpstreamMessage};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sync", post(sync_all))
        .route("/v1/sync/me", post(sync_me))
}

async fn sync_all(State(state): State<AppState>, key: ServerKey) -> ApiResult<Json<SyncResponse>> {
    key.require(Permission::Sync)?;
    let mut out = SyncResponse::default();
    let targets = state.store.sync_targets().await?;
    // A key limited to some systems syncs only those.
    for who in targets
        .into_iter()
        .filter(|who| key.0.systems.covers(who.system.as_str()))
    {
        match sync_user(&state, &who).await {
            Ok(None) => {
                let system = who.system.as_str().to_owned();
                if !out.skipped.contains(&system) {
                    out.skipped.push(system);
                }
            }
            Ok(Some(counts)) => {
                out.conversations_synced += counts.conversations;
                out.messages_synced += counts.messages;
            }
            Err(e) => {
                e.log();
                out.errors.push(format!("{who}: {}", e.public_message()));
            }
        }
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn sync_me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<SyncResponse>> {
    let token = bearer_token(&headers)
        .or(q.token.as_deref())
        .ok_or(ApiError::MissingCredentials)?;
    let who = state.auth.verify_token(token)?;
    let mut out = SyncResponse::default();
    match sync_user(&state, &who).await? {
        Some(counts) => {
            out.conversations_synced = counts.conversations;
            out.messages_synced = counts.messages;
        }
        None => out.skipped.push(who.system.as_str().to_owned()),
    }
    Ok(Json(out))
}

/// What was imported for `who`; `None` when the system's upstream keeps no
/// conversations.
async fn sync_user(state: &AppState, who: &Identity) -> ApiResult<Option<ImportCounts>> {
    let upstream = state
        .upstreams
        .resolve(&RouteKey::system(&who.system))
        .ok_or(ApiError::NotConfigured)?;
    // An upstream without history of its own has nothing to import: the
    // system is skipped, which is not an error.
    let Some(history) = upstream.history() else {
        tracing::debug!(system = %who.system, kind = upstream.kind(), "no upstream history to sync");
        return Ok(None);
    };
    let user = who.upstream_user();
    let mut total = ImportCounts::default();
    for conversation in history.list_conversations(&user).await? {
        let turns = match history.list_messages(&user, &conversation.id).await {
            Ok(turns) => turns,
            // Deleted between the two calls.
            Err(UpstreamError::ConversationGone) => continue,
            Err(e) => return Err(e.into()),
        };
        let turns: Vec<ImportedTurn> = turns.into_iter().map(imported_turn).collect();
        let counts = state
            .store
            .import_conversation(
                who,
                &imported_conversation(conversation),
                &turns,
                OffsetDateTime::now_utc(),
            )
            .await?;
        total.conversations += counts.conversations;
        total.messages += counts.messages;
    }
    Ok(Some(total))
}

fn imported_conversation(c: UpstreamConversation) -> ImportedConversation {
    ImportedConversation {
        id: c.id,
        name: c.name,
        created_at: c.created_at,
    }
}

fn imported_turn(m: UpstreamMessage) -> ImportedTurn {
    ImportedTurn {
        id: m.id,
        query: m.query,
        answer: m.answer,
        created_at: m.created_at,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::config::{Config, EnvVars};
    use crate::upstream::{Reply, ReplyStream, Upstream, UpstreamRequest, Upstreams};

    /// Answers, but keeps no conversations of its own (like a webhook).
    struct Stateless;

    #[async_trait]
    impl Upstream for Stateless {
        fn kind(&self) -> &'static str {
            "stateless"
        }

        async fn reply(&self, _req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
            Ok(Reply::default())
        }

        async fn stream(&self, _req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
            Err(UpstreamError::StreamCut)
        }
    }

    #[tokio::test]
    async fn a_system_whose_upstream_keeps_no_history_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = crate::store::open(&url).await.unwrap();
        let config = Config::from_env(&EnvVars::from_pairs([
            (
                "CHAT_GATEWAY_JWT_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("CHAT_GATEWAY_API_KEY", "key-one-0123456789"),
        ]))
        .unwrap();
        let app =
            crate::App::from_parts(config, store, Upstreams::single(Arc::new(Stateless))).unwrap();
        let who = Identity::parse("hooked", "u").unwrap();
        let counts = sync_user(app.state(), &who).await.unwrap();
        assert_eq!(counts, None, "skipped, not an empty import");
    }
}
