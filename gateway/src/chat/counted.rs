//! How turns are counted in [`crate::metrics`]: their outcome and times,
//! their store writes, and a `system` label that stays bounded.

use std::future::Future;
use std::time::{Duration, Instant};

use super::Turn;
use crate::identity::SystemId;
use crate::metrics::{self, TurnOutcome, TurnTimes};
use crate::state::AppState;

impl Turn {
    /// Count the turn in the metrics: it ended with `outcome` after the
    /// upstream took `upstream` (its first text after `first_token`).
    pub(super) fn count(
        &self,
        outcome: TurnOutcome,
        upstream: Duration,
        first_token: Option<Duration>,
    ) {
        metrics::turn(
            &self.labels,
            outcome,
            TurnTimes {
                total: self.began.elapsed(),
                upstream,
                first_token,
            },
        );
    }
}

/// The `system` label of a turn (or an import): the system's id when the configuration
/// names it (in `ALLOWED_SYSTEM_IDS` or with an upstream or agents of its
/// own), else `other`, so that client-chosen ids cannot grow the metrics.
pub fn system_label(state: &AppState, system: &SystemId) -> String {
    let allowed = state
        .config
        .allowed_system_ids
        .as_ref()
        .is_some_and(|ids| ids.contains(system.as_str()));
    if allowed || state.catalog.routes().names_system(system) {
        system.as_str().to_owned()
    } else {
        metrics::OTHER_SYSTEM.to_owned()
    }
}

/// Run a store write, timing it in the metrics as `operation`.
pub(super) async fn timed_write<T>(operation: &'static str, write: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = write.await;
    metrics::store_write(operation, started.elapsed());
    result
}
