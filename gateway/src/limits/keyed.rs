//! One limit with one bucket per key (GCRA, from `governor`), and what a
//! refusal says.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Rate;

/// A request over a limit: which policy, and when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The policy's name in the `RateLimit` headers (`user`, `api_key`,
    /// `token_mint`).
    pub policy: &'static str,
    /// The rate refused.
    pub rate: Rate,
    /// How long until one more request would be allowed (at least 1 s).
    pub retry_after: Duration,
}

/// A rate limit keyed by `K`.
pub(super) struct Keyed<K: Hash + Eq + Clone> {
    policy: &'static str,
    rate: Rate,
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    pub(super) fn new(policy: &'static str, rate: Rate) -> Self {
        // `Rate::parse` refuses zero counts and bursts; 1 stands in anyway.
        let count = rate.count.max(1);
        let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
        let every = (rate.period / count).max(Duration::from_nanos(1));
        let quota = Quota::with_period(every)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            policy,
            rate,
            limiter: DefaultKeyedRateLimiter::dashmap(quota),
        }
    }

    /// Take one request from `key`'s bucket.
    pub(super) fn check(&self, key: &K) -> Result<(), Refusal> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Refusal {
                policy: self.policy,
                rate: self.rate,
                retry_after: round_up_secs(wait),
            }
        })
    }

    /// Drop the buckets that are full again (they hold no information).
    pub(super) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// `d` rounded up to whole seconds, at least one.
fn round_up_secs(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_next_is_refused_with_a_wait() {
        let rate = Rate {
            count: 2,
            period: Duration::from_secs(3600),
            burst: 3,
        };
        let limit = Keyed::new("user", rate);
        for _ in 0..3 {
            assert!(limit.check(&"a").is_ok());
        }
        let refusal = limit.check(&"a").unwrap_err();
        assert_eq!(refusal.policy, "user");
        // One request comes back every 30 minutes.
        assert!(
            refusal.retry_after > Duration::from_secs(25 * 60)
                && refusal.retry_after <= Duration::from_secs(30 * 60),
            "{refusal:?}"
        );
        assert!(limit.check(&"b").is_ok(), "keys do not share buckets");
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(
            round_up_secs(Duration::from_millis(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            round_up_secs(Duration::from_millis(2001)),
            Duration::from_secs(3)
        );
        assert_eq!(round_up_secs(Duration::ZERO), Duration::from_secs(1));
    }
}
