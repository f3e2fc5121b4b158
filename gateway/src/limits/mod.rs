//! Rate limits and daily token budgets ([`budget`]).
//!
//! Rate limits: how many turns an end user and an API key may start, and how
//! many chat tokens a client address may mint, per replica.
//!
//! Each limit is a GCRA bucket per key (`governor`): a burst, refilled at a
//! steady rate. Buckets live in this process only, so with N replicas
//! behind a balancer a key gets up to N times the configured rate. A system
//! may override the user and API-key rates
//! (`CHAT_GATEWAY_<SYSTEM>_RATE_USER`, `…_RATE_API_KEY`), with buckets of
//! its own.
//!
//! A refusal is a [`Refusal`] (a domain value); `crate::error` turns it into
//! 429 `rate_limited` with `Retry-After` and the `RateLimit-Policy` /
//! `RateLimit` headers.

pub mod budget;
mod keyed;

use std::collections::HashMap;
use std::net::IpAddr;

use self::keyed::Keyed;
pub use self::keyed::Refusal;
use crate::auth::KeyId;
use crate::config::{Rate, RateLimits, system_env_key};
use crate::identity::Identity;

/// The gateway's rate limits.
pub struct Limiters {
    user: PerSystem<(String, String)>,
    api_key: PerSystem<KeyId>,
    token_mint: Option<Keyed<IpAddr>>,
}

/// A limit with per-system overrides: `None` is "no limit".
struct PerSystem<K: std::hash::Hash + Eq + Clone> {
    global: Option<Keyed<K>>,
    /// Keyed by `system_env_key`.
    systems: HashMap<String, Option<Keyed<K>>>,
}

impl<K: std::hash::Hash + Eq + Clone> PerSystem<K> {
    fn new(
        policy: &'static str,
        global: Option<Rate>,
        overrides: impl Iterator<Item = (String, Option<Rate>)>,
    ) -> Self {
        Self {
            global: global.map(|rate| Keyed::new(policy, rate)),
            systems: overrides
                .map(|(system, rate)| (system, rate.map(|rate| Keyed::new(policy, rate))))
                .collect(),
        }
    }

    fn check(&self, system: &str, key: &K) -> Result<(), Refusal> {
        let limit = match self.systems.get(&system_env_key(system)) {
            Some(own) => own.as_ref(),
            None => self.global.as_ref(),
        };
        limit.map_or(Ok(()), |limit| limit.check(key))
    }

    fn forget_idle(&self) {
        self.global.iter().for_each(Keyed::forget_idle);
        self.systems.values().flatten().for_each(Keyed::forget_idle);
    }
}

impl Limiters {
    /// The limits `rates` configures.
    pub fn new(rates: &RateLimits) -> Self {
        let overrides = |pick: fn(&crate::config::SystemRates) -> Option<Option<Rate>>| {
            rates
                .per_system
                .iter()
                .filter_map(move |(system, own)| pick(own).map(|rate| (system.clone(), rate)))
                .collect::<Vec<_>>()
                .into_iter()
        };
        Self {
            user: PerSystem::new("user", rates.user, overrides(|s| s.user)),
            api_key: PerSystem::new("api_key", rates.api_key, overrides(|s| s.api_key)),
            token_mint: rates.token_mint.map(|rate| Keyed::new("token_mint", rate)),
        }
    }

    /// Admit one turn of `who`, sent with the API key `key` (`None` for a
    /// chat token). The user's bucket is checked first.
    pub fn admit_turn(&self, who: &Identity, key: Option<&KeyId>) -> Result<(), Refusal> {
        let system = who.system.as_str();
        self.user
            .check(system, &(system.to_owned(), who.user.as_str().to_owned()))?;
        match key {
            Some(key) => self.api_key.check(system, key),
            None => Ok(()),
        }
    }

    /// Admit one chat token minted for the client at `addr` (`None` when
    /// the address is unknown, as for requests not from a socket).
    pub fn admit_mint(&self, addr: Option<IpAddr>) -> Result<(), Refusal> {
        match (&self.token_mint, addr) {
            (Some(limit), Some(addr)) => limit.check(&addr),
            _ => Ok(()),
        }
    }

    /// Drop the buckets that are full again, so memory follows the active
    /// keys (run now and then).
    pub fn forget_idle(&self) {
        self.user.forget_idle();
        self.api_key.forget_idle();
        self.token_mint.iter().for_each(Keyed::forget_idle);
    }
}
