//! `Idempotency-Key` on the chat doors: a retried request is answered with
//! the first one's result instead of a second turn.
//!
//! - A key belongs to a *scope*: the end user of a chat token, or an API
//!   key together with the end user it names. Two callers' keys never meet.
//! - The first request claims the key in the store before the upstream is
//!   called ([`begin`]); a request with the same key and the same body
//!   ([`fingerprint`]) while it runs is refused with 409 and `Retry-After`;
//!   with another body, 422.
//! - When the turn ends the key records its result ([`Held::answered`],
//!   [`Held::refused`]): the turn's ids (the answer is the stored message),
//!   or a refusal sent after the question was stored. A refusal before
//!   anything was stored, or a stream the client left, frees the key
//!   ([`Held`] dropped), so a retry runs afresh.
//! - A finished key is replayed for [`KEEP_FOR`] after it finished; keys
//!   older than that are purged by the next claim of any key.
//! - A key held by a process that died is taken over by the next request
//!   with it: the store ties a running key to its process's liveness, the
//!   rule that fails the process's open turns.

use std::fmt::Write as _;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth::KeyId;
use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::Store;
use crate::store::idempotency::{Claim, KeyClaim, KeyOutcome, KeyRef};

pub use crate::store::idempotency::{KeptAnswer, KeptResult};

/// How long a finished key is replayed.
pub const KEEP_FOR: time::Duration = time::Duration::hours(24);

/// Longest key accepted.
const MAX_LEN: usize = 255;

/// A client's `Idempotency-Key`, checked: 1 to 255 visible ASCII
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Check a header value.
    pub fn parse(raw: &[u8]) -> ApiResult<Self> {
        let visible = |b: &u8| b.is_ascii_graphic();
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.iter().all(visible) {
            return Err(ApiError::IdempotencyKeyInvalid);
        }
        let key = std::str::from_utf8(raw).map_err(|_| ApiError::IdempotencyKeyInvalid)?;
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a key belongs to: the end user, and the API key that spoke for them
/// if one did. A digest, so neither appears in the table.
pub fn scope(identity: &Identity, api_key: Option<&KeyId>) -> String {
    let mut hash = Sha256::new();
    match api_key {
        Some(key) => {
            hash.update(b"key\0");
            hash.update(key.as_bytes());
        }
        None => hash.update(b"token\0"),
    }
    hash.update(identity.system.as_str().as_bytes());
    hash.update(b"\0");
    hash.update(identity.user.as_str().as_bytes());
    hex(&hash.finalize())
}

/// The digest of a request as the gateway reads it: the door and the
/// fields that decide the turn, as canonical JSON (`serde_json` orders
/// object keys), so a retry that spells the same request differently
/// (key order, spacing) is still the same request.
pub fn fingerprint(door: &str, request: &serde_json::Value) -> String {
    let mut hash = Sha256::new();
    hash.update(door.as_bytes());
    hash.update(b"\0");
    hash.update(request.to_string().as_bytes());
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What a keyed request does next.
pub enum Begun {
    /// Run the turn, then record its result on the key.
    Fresh(Held),
    /// Answer with the first request's result.
    Replay(KeptResult),
}

/// Claim `key` in `scope` for a request whose fingerprint is `body_hash`.
pub async fn begin(
    state: &AppState,
    scope: String,
    key: &IdempotencyKey,
    body_hash: &str,
) -> ApiResult<Begun> {
    let at = OffsetDateTime::now_utc();
    let claim = KeyClaim {
        scope: &scope,
        key: key.as_str(),
        body_hash,
        at,
        forget_before: at - KEEP_FOR,
    };
    match state.store.claim_idempotency_key(&claim).await? {
        Claim::Claimed => Ok(Begun::Fresh(Held {
            store: state.store.clone(),
            tasks: state.tasks.clone(),
            scope,
            key: key.as_str().to_owned(),
            armed: true,
        })),
        Claim::Running => Err(ApiError::IdempotencyKeyInFlight),
        Claim::Reused => Err(ApiError::IdempotencyKeyReused),
        Claim::Done(result) => Ok(Begun::Replay(result)),
    }
}

/// A key this request holds. Dropped without a result, it is freed (in the
/// background) so a retry runs afresh.
pub struct Held {
    store: Arc<dyn Store>,
    tasks: tokio_util::task::TaskTracker,
    scope: String,
    key: String,
    armed: bool,
}

impl Held {
    fn key(&self) -> KeyRef<'_> {
        KeyRef {
            scope: &self.scope,
            key: &self.key,
        }
    }

    /// The turn answered; `at` is when (a replay reports it).
    pub async fn answered(
        mut self,
        conversation_id: &str,
        user_message_id: &str,
        message_id: &str,
        at: OffsetDateTime,
    ) {
        let outcome = KeyOutcome::Answered {
            conversation_id,
            user_message_id,
            message_id,
        };
        self.record(&outcome, at).await;
    }

    /// The request was refused after its question was stored, with this
    /// status and body.
    pub async fn refused(mut self, status: u16, body: &str, at: OffsetDateTime) {
        self.record(&KeyOutcome::Refused { status, body }, at).await;
    }

    /// A failure to record is logged: the client has its answer, and a
    /// retry then runs as a new request once this process's key is freed.
    async fn record(&mut self, outcome: &KeyOutcome<'_>, at: OffsetDateTime) {
        match self
            .store
            .finish_idempotency_key(&self.key(), outcome, at)
            .await
        {
            Ok(()) => self.armed = false,
            Err(e) => tracing::warn!(error = %e, "recording an idempotency key's result failed"),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, scope, key) = (self.store.clone(), self.scope.clone(), self.key.clone());
        self.tasks.spawn(async move {
            let freed = store
                .release_idempotency_key(&KeyRef {
                    scope: &scope,
                    key: &key,
                })
                .await;
            if let Err(e) = freed {
                tracing::warn!(error = %e, "freeing an idempotency key failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse(b"order-42/retry:1").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; 256],
            b"two words",
            b"tab\there",
            "caf\u{e9}".as_bytes(),
        ] {
            assert!(
                matches!(
                    IdempotencyKey::parse(bad),
                    Err(ApiError::IdempotencyKeyInvalid)
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn scopes_part_callers() {
        let alice = Identity::parse("shop", "alice").unwrap();
        let bob = Identity::parse("shop", "bob").unwrap();
        let key = KeyId::of("sk-1");
        let other = KeyId::of("sk-2");
        let scopes = [
            scope(&alice, None),
            scope(&bob, None),
            scope(&alice, Some(&key)),
            scope(&alice, Some(&other)),
            scope(&bob, Some(&key)),
        ];
        for (i, a) in scopes.iter().enumerate() {
            for b in &scopes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn a_fingerprint_ignores_spelling_but_not_content() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"message":"hi","stream":true}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "stream": true, "message": "hi" }"#).unwrap();
        let c: serde_json::Value =
            serde_json::from_str(r#"{"message":"hi!","stream":true}"#).unwrap();
        assert_eq!(fingerprint("chat", &a), fingerprint("chat", &b));
        assert_ne!(fingerprint("chat", &a), fingerprint("chat", &c));
        assert_ne!(fingerprint("chat", &a), fingerprint("openai", &a));
    }
}
