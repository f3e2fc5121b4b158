//! "Test" on a system or agent: one message through the real upstream
//! path, nothing stored.

use serde_json::Map;

use super::Catalog;
use crate::identity::Identity;
use crate::upstream::{RouteKey, TurnContext, UpstreamError, UpstreamRequest};

/// The user a probe speaks as (and a test chat link is minted for).
pub const PROBE_USER: &str = "admin-test";

/// What a probe found.
#[derive(Debug)]
pub struct ProbeOutcome {
    /// The upstream's kind (`openai`, `n8n`, …).
    pub kind: &'static str,
    /// The answer, or the upstream's error.
    pub answer: Result<String, UpstreamError>,
}

impl Catalog {
    /// Send `message` as [`PROBE_USER`] of `who.system` to the upstream
    /// that would answer it (of `agent`, when given). `None` when no
    /// upstream would.
    pub async fn probe(
        &self,
        who: &Identity,
        agent: Option<&str>,
        message: &str,
    ) -> Option<ProbeOutcome> {
        let routes = self.routes();
        let upstream = routes
            .resolve(&RouteKey {
                system: &who.system,
                agent,
            })?
            .clone();
        let conversation = uuid::Uuid::now_v7().to_string();
        let message_id = uuid::Uuid::now_v7().to_string();
        let user = who.upstream_user();
        let inputs = Map::new();
        let request = UpstreamRequest {
            user: &user,
            query: message,
            conversation_id: None,
            inputs: &inputs,
            history: &[],
            turn: TurnContext {
                system_id: &who.system,
                user_id: &who.user,
                conversation_id: &conversation,
                message_id: &message_id,
                agent,
                language: None,
            },
        };
        let answer = upstream.reply(&request).await.map(|reply| reply.answer);
        Some(ProbeOutcome {
            kind: upstream.kind(),
            answer,
        })
    }
}
