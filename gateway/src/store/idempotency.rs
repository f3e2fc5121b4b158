//! Idempotency keys of chat requests (see `crate::idempotency` for the
//! rules; these are the records).
//!
//! A key is claimed before the turn calls its upstream: the primary key
//! (scope, key) lets exactly one request win, on any replica. While the
//! winner runs, the row names the process holding it; a key held by a
//! process that is gone (its turns are failed by the same rule, see
//! `0003_open_turns.sql`) is taken over by the next request with it. When
//! the turn ends the row records the turn's ids, or the refusal answered.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;

/// A request's claim on a key.
#[derive(Debug, Clone, Copy)]
pub struct KeyClaim<'a> {
    /// Who may see the result (a digest of the caller and end user).
    pub scope: &'a str,
    /// The client's `Idempotency-Key`.
    pub key: &'a str,
    /// Digest of the canonical request, to tell a retry from a reuse.
    pub body_hash: &'a str,
    pub at: OffsetDateTime,
    /// Keys that finished before this are forgotten first (the purge rides
    /// on claims: there is no other upkeep).
    pub forget_before: OffsetDateTime,
}

/// A key, once claimed.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub scope: &'a str,
    pub key: &'a str,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is this request's: run the turn, then record its result.
    Claimed,
    /// The key was used with another request body.
    Reused,
    /// A live request holds the key and has not finished.
    Running,
    /// The key's request finished: its result.
    Done(KeptResult),
}

/// How a keyed request ended, as a replay needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum KeptResult {
    /// The turn's answer, read back from the stored messages.
    Answered(KeptAnswer),
    /// The request was refused: the status and body sent.
    Refused {
        status: u16,
        body: String,
        finished_at: OffsetDateTime,
    },
}

/// A stored answer a key points to.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptAnswer {
    pub conversation_id: String,
    pub user_message_id: String,
    pub message_id: String,
    pub content: String,
    /// Tokens the upstream reported, if it did.
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub finished_at: OffsetDateTime,
}

/// The result a keyed request records when it ends.
#[derive(Debug, Clone, Copy)]
pub enum KeyOutcome<'a> {
    /// The turn answered; the answer is the stored assistant message.
    Answered {
        conversation_id: &'a str,
        user_message_id: &'a str,
        message_id: &'a str,
    },
    /// The request was refused with this status and body.
    Refused { status: u16, body: &'a str },
}

/// Idempotency keys of chat requests. See the module docs.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claim a key for a request (forgetting keys finished before
    /// `claim.forget_before` first), or say why not.
    async fn claim_idempotency_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StoreError>;

    /// Record how the request holding `key` ended. A key this process no
    /// longer holds is left alone.
    async fn finish_idempotency_key(
        &self,
        key: &KeyRef<'_>,
        outcome: &KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Forget a key this process holds and has not finished (its request
    /// stored nothing worth replaying), so a retry runs afresh.
    async fn release_idempotency_key(&self, key: &KeyRef<'_>) -> Result<(), StoreError>;
}
