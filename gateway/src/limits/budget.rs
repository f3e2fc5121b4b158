//! Daily token budgets: how many upstream tokens a system, and each of its
//! end users, may use per UTC day.
//!
//! Use is counted in the store from the usage the upstreams report (a turn
//! whose upstream reports none counts nothing), so every replica sees the
//! same totals. The check runs before a turn is stored or sent upstream; a
//! turn that starts under budget may end over it (the next one is refused).

use std::time::Duration;

use sdk::Usage;
use time::OffsetDateTime;

use crate::config::Budgets;
use crate::identity::Identity;
use crate::store::{Store, StoreError};

/// A budget used up: which one, and how long until it renews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    /// `system` or `user`.
    pub scope: &'static str,
    /// The budget, in tokens per day.
    pub limit: u64,
    /// Until the next UTC midnight (at least 1 s).
    pub retry_after: Duration,
}

/// Whether `who` may start a turn at `now`. `Ok(Err(_))` when a budget is
/// used up.
pub async fn check(
    store: &dyn Store,
    budgets: &Budgets,
    who: &Identity,
    now: OffsetDateTime,
) -> Result<Result<(), Exhausted>, StoreError> {
    if budgets.system_per_day.is_none() && budgets.user_per_day.is_none() {
        return Ok(Ok(()));
    }
    let used = store.token_usage(who, now.date()).await?;
    let over = |scope, limit: Option<u64>, used: u64| {
        limit.filter(|limit| used >= *limit).map(|limit| Exhausted {
            scope,
            limit,
            retry_after: until_midnight(now),
        })
    };
    Ok(
        match over("system", budgets.system_per_day, used.system)
            .or_else(|| over("user", budgets.user_per_day, used.user))
        {
            Some(exhausted) => Err(exhausted),
            None => Ok(()),
        },
    )
}

/// Count a finished turn's `usage` for `who` at `now`, when budgets are on.
pub async fn record(
    store: &dyn Store,
    budgets: &Budgets,
    who: &Identity,
    usage: Option<&Usage>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if budgets.system_per_day.is_none() && budgets.user_per_day.is_none() {
        return Ok(());
    }
    let tokens = usage.map_or(0, tokens_of);
    if tokens == 0 {
        return Ok(());
    }
    store.add_token_usage(who, now.date(), tokens).await
}

/// The tokens a usage report counts: its total, or prompt plus completion
/// when the upstream left the total out.
fn tokens_of(usage: &Usage) -> u64 {
    if usage.total_tokens > 0 {
        usage.total_tokens
    } else {
        usage.prompt_tokens.saturating_add(usage.completion_tokens)
    }
}

/// Time from `now` to the next UTC midnight, rounded up to whole seconds.
pub fn until_midnight(now: OffsetDateTime) -> Duration {
    let now = now.to_offset(time::UtcOffset::UTC);
    let next = now
        .date()
        .next_day()
        .map(|d| d.midnight().assume_utc())
        .unwrap_or(now);
    let secs = (next - now).as_seconds_f64().ceil();
    Duration::from_secs((secs.max(1.0)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn budgets_renew_at_utc_midnight() {
        assert_eq!(
            until_midnight(datetime!(2026-03-01 23:59:30 UTC)),
            Duration::from_secs(30)
        );
        assert_eq!(
            until_midnight(datetime!(2026-03-01 00:00:00 UTC)),
            Duration::from_secs(86_400)
        );
        // An instant given in another offset is the same instant.
        assert_eq!(
            until_midnight(datetime!(2026-03-02 01:00:00 +02:00)),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn a_missing_total_is_the_sum_of_its_parts() {
        let usage = |p, c, t| Usage {
            prompt_tokens: p,
            completion_tokens: c,
            total_tokens: t,
        };
        assert_eq!(tokens_of(&usage(3, 4, 0)), 7);
        assert_eq!(tokens_of(&usage(3, 4, 9)), 9);
    }
}
