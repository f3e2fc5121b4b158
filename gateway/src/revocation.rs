//! Revoked chat tokens: one token by its `jti`, or every token of a user
//! issued up to a moment.
//!
//! Revocations are stored (so every replica honours them) and checked on
//! every request against an in-memory copy, never the database: each
//! replica reloads the copy every `CHAT_GATEWAY_REVOCATION_REFRESH_SECS`
//! ([`refresh_every`]), and the replica that takes a revocation applies it
//! at once. A token revoked on one replica is therefore refused by all
//! within one refresh interval.
//!
//! A stored revocation is kept as long as a token it revokes could still be
//! valid (the maximum token lifetime), then forgotten.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::identity::Identity;
use crate::store::{RevocationList, Store, StoreError};

/// The revocations one replica honours.
#[derive(Debug, Default)]
pub struct Revocations {
    current: RwLock<Revoked>,
}

#[derive(Debug, Default)]
struct Revoked {
    token_ids: HashSet<String>,
    /// (system, user) → tokens issued at or before these Unix seconds.
    users: HashMap<(String, String), i64>,
}

impl Revocations {
    /// Whether the token of `who` with `jti` and `iat` is revoked. A token
    /// without `iat` counts as issued at the beginning of time.
    pub fn refuses(&self, who: &Identity, jti: Option<&str>, iat: Option<i64>) -> bool {
        let Ok(current) = self.current.read() else {
            return false;
        };
        if jti.is_some_and(|jti| current.token_ids.contains(jti)) {
            return true;
        }
        if current.users.is_empty() {
            return false;
        }
        let key = (who.system.as_str().to_owned(), who.user.as_str().to_owned());
        current
            .users
            .get(&key)
            .is_some_and(|before| iat.unwrap_or(i64::MIN) <= *before)
    }

    /// Honour a revocation of one token at once (before the next reload).
    pub fn add_token_id(&self, jti: &str) {
        if let Ok(mut current) = self.current.write() {
            current.token_ids.insert(jti.to_owned());
        }
    }

    /// Honour a revocation of `who`'s tokens at once.
    pub fn add_user(&self, who: &Identity, issued_before: i64) {
        if let Ok(mut current) = self.current.write() {
            let key = (who.system.as_str().to_owned(), who.user.as_str().to_owned());
            let before = current.users.entry(key).or_insert(issued_before);
            *before = (*before).max(issued_before);
        }
    }

    /// Replace the copy with what the store holds.
    pub fn replace(&self, list: RevocationList) {
        let fresh = Revoked {
            token_ids: list.token_ids.into_iter().collect(),
            users: list
                .users
                .into_iter()
                .map(|u| ((u.system_id, u.user_id), u.issued_before))
                .collect(),
        };
        if let Ok(mut current) = self.current.write() {
            *current = fresh;
        }
    }
}

/// Load the store's revocations into `revocations` once.
pub async fn refresh(store: &dyn Store, revocations: &Revocations) -> Result<(), StoreError> {
    let list = store.revocations(unix_now()).await?;
    revocations.replace(list);
    Ok(())
}

/// Reload every `every` until `stop` is cancelled. A failed reload keeps
/// the previous copy (and is logged).
pub async fn refresh_every(
    store: Arc<dyn Store>,
    revocations: Arc<Revocations>,
    every: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = refresh(store.as_ref(), &revocations).await {
            tracing::warn!(error = %e, "reloading revoked tokens failed; keeping the last list");
        }
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserRevocation;

    fn who(user: &str) -> Identity {
        Identity::parse("app", user).unwrap()
    }

    #[test]
    fn a_user_revocation_covers_tokens_issued_up_to_its_moment() {
        let revocations = Revocations::default();
        revocations.replace(RevocationList {
            token_ids: vec!["j1".into()],
            users: vec![UserRevocation {
                system_id: "app".into(),
                user_id: "bob".into(),
                issued_before: 1_000,
            }],
        });
        assert!(revocations.refuses(&who("alice"), Some("j1"), Some(5_000)));
        assert!(!revocations.refuses(&who("alice"), Some("j2"), Some(5_000)));
        assert!(revocations.refuses(&who("bob"), None, Some(999)));
        assert!(revocations.refuses(&who("bob"), None, Some(1_000)));
        assert!(revocations.refuses(&who("bob"), None, None));
        assert!(!revocations.refuses(&who("bob"), None, Some(1_001)));
        revocations.add_user(&who("bob"), 900);
        assert!(
            revocations.refuses(&who("bob"), None, Some(1_000)),
            "the later moment wins"
        );
        revocations.add_token_id("j2");
        assert!(revocations.refuses(&who("alice"), Some("j2"), None));
    }
}
