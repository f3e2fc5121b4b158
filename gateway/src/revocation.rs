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
//!
//! A WebSocket outlives the check of its token at the upgrade: it keeps
//! the token's [`Revocable`] and wakes on every change of the copy
//! ([`Revocations::watch`]), so a socket whose token is revoked is closed
//! within one refresh interval too.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::identity::Identity;
use crate::store::{RevocationList, Store, StoreError};

/// The revocations one replica honours.
#[derive(Debug)]
pub struct Revocations {
    current: RwLock<Revoked>,
    /// Bumped on every change (and every reload), for open sockets.
    changed: watch::Sender<u64>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            current: RwLock::default(),
            changed: watch::Sender::new(0),
        }
    }
}

/// What a verified chat token can be revoked by: its user, `jti` and `iat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocable {
    pub identity: Identity,
    pub jti: Option<String>,
    pub iat: Option<i64>,
}

impl Revocable {
    /// Whether `revocations` now refuse this token.
    pub fn is_revoked(&self, revocations: &Revocations) -> bool {
        revocations.refuses(&self.identity, self.jti.as_deref(), self.iat)
    }
}

#[derive(Debug, Default)]
struct Revoked {
    /// Counts local additions, so a reload that read the store before one
    /// does not drop it (see [`Revocations::replace`]).
    generation: u64,
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

    /// A receiver that sees a new value after every change or reload.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn announce(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Honour a revocation of one token at once (before the next reload).
    pub fn add_token_id(&self, jti: &str) {
        if let Ok(mut current) = self.current.write() {
            current.token_ids.insert(jti.to_owned());
            current.generation += 1;
        }
        self.announce();
    }

    /// Honour a revocation of `who`'s tokens at once.
    pub fn add_user(&self, who: &Identity, issued_before: i64) {
        if let Ok(mut current) = self.current.write() {
            let key = (who.system.as_str().to_owned(), who.user.as_str().to_owned());
            let before = current.users.entry(key).or_insert(issued_before);
            *before = (*before).max(issued_before);
            current.generation += 1;
        }
        self.announce();
    }

    /// A mark to take before reading the store, for [`Self::replace`].
    pub fn generation(&self) -> u64 {
        self.current.read().map_or(0, |c| c.generation)
    }

    /// Replace the copy with `list`, read from the store after
    /// [`Self::generation`] said `read_at`. When revocations were added
    /// locally since, the store may not have had them yet: they are kept,
    /// merged with `list` (the next reload drops what expired).
    pub fn replace(&self, list: RevocationList, read_at: u64) {
        let Ok(mut current) = self.current.write() else {
            return;
        };
        let users = list
            .users
            .into_iter()
            .map(|u| ((u.system_id, u.user_id), u.issued_before));
        if current.generation == read_at {
            current.token_ids = list.token_ids.into_iter().collect();
            current.users = users.collect();
        } else {
            current.token_ids.extend(list.token_ids);
            for (key, before) in users {
                let kept = current.users.entry(key).or_insert(before);
                *kept = (*kept).max(before);
            }
            // Replace outright next time.
            current.generation = current.generation.wrapping_add(1);
        }
        drop(current);
        self.announce();
    }
}

/// Load the store's revocations into `revocations` once.
pub async fn refresh(store: &dyn Store, revocations: &Revocations) -> Result<(), StoreError> {
    let read_at = revocations.generation();
    let list = store.revocations(unix_now()).await?;
    revocations.replace(list, read_at);
    Ok(())
}

/// Reload every `every` (the first time after `every`: start-up loaded
/// them) until `stop` is cancelled. A failed reload keeps the previous copy
/// (and is logged).
pub async fn refresh_every(
    store: Arc<dyn Store>,
    revocations: Arc<Revocations>,
    every: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
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
    fn a_reload_read_before_a_local_revocation_keeps_it() {
        let revocations = Revocations::default();
        let read_at = revocations.generation();
        revocations.add_token_id("local");
        revocations.replace(
            RevocationList {
                token_ids: vec!["stored".into()],
                users: Vec::new(),
            },
            read_at,
        );
        let anyone = who("alice");
        assert!(revocations.refuses(&anyone, Some("local"), None));
        assert!(revocations.refuses(&anyone, Some("stored"), None));
        // A reload that started after it replaces outright.
        let read_at = revocations.generation();
        revocations.replace(RevocationList::default(), read_at);
        assert!(!revocations.refuses(&anyone, Some("local"), None));
    }

    #[test]
    fn a_user_revocation_covers_tokens_issued_up_to_its_moment() {
        let revocations = Revocations::default();
        let read_at = revocations.generation();
        revocations.replace(
            RevocationList {
                token_ids: vec!["j1".into()],
                users: vec![UserRevocation {
                    system_id: "app".into(),
                    user_id: "bob".into(),
                    issued_before: 1_000,
                }],
            },
            read_at,
        );
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

    #[test]
    fn watchers_see_every_change() {
        let revocations = Revocations::default();
        let token = Revocable {
            identity: who("carol"),
            jti: Some("j-carol".into()),
            iat: Some(2_000),
        };
        let mut watcher = revocations.watch();
        assert!(!watcher.has_changed().unwrap());
        revocations.add_token_id("j-other");
        assert!(watcher.has_changed().unwrap());
        watcher.mark_unchanged();
        assert!(!token.is_revoked(&revocations));
        revocations.add_user(&who("carol"), 2_000);
        assert!(watcher.has_changed().unwrap());
        assert!(token.is_revoked(&revocations));
        watcher.mark_unchanged();
        let read_at = revocations.generation();
        revocations.replace(RevocationList::default(), read_at);
        assert!(watcher.has_changed().unwrap(), "a reload is announced too");
    }
}
