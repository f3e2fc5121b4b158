//! The behaviour every [`Store`] implementation must have. Each backend's
//! tests call [`run`] on a fresh, empty store (and [`concurrent_turns`] on
//! another). The cases live in one file per feature; the shared steps that
//! seed them (a turn begun, an answer stored) in `seed`.

mod agents;
mod console_feedback;
mod conversations;
pub(crate) mod crashes;
mod feedback;
pub(crate) mod idempotency;
mod imports;
mod limits;
mod listings;
mod live;
mod operators;
mod races;
mod search;
mod seed;
mod systems;
mod turns;
mod usage;

use std::sync::Arc;

use sdk::{MessageStatus, Role};
use time::{Duration, OffsetDateTime};

use self::seed::{ALL, Turn, answer, id, start, t0, who};
use super::*;
use crate::identity::Identity;

/// Run every contract check against `store`, which must be empty.
pub(crate) async fn run(store: &dyn Store) {
    store.ping().await.unwrap();
    conversations::turns_and_outcomes(store).await;
    conversations::ownership_is_enforced(store).await;
    listings::order_and_pages(store).await;
    listings::rename_and_delete(store).await;
    conversations::deleted_while_answering(store).await;
    conversations::retrying_a_failed_message(store).await;
    imports::visits_and_sync_targets(store).await;
    imports::import_is_idempotent(store).await;
    listings::operator_search(store).await;
    agents::a_conversation_is_bound_to_its_agent(store).await;
    turns::the_earliest_open_turn_starts_the_upstream_conversation(store).await;
    turns::a_conversations_route_is_read_for_its_owner_only(store).await;
    turns::a_sync_completes_turns_a_crash_cut(store).await;
    feedback::feedback_on_answers(store).await;
    live::partials_until_the_turn_finishes(store).await;
    limits::revocations_are_kept_until_their_time(store).await;
    limits::token_use_adds_up_per_day(store).await;
    systems::systems_and_agents_round_trip(store).await;
    operators::operators_and_sessions(store).await;
    operators::failed_logins_are_counted_per_account_and_address(store).await;
    operators::keys_and_audit(store).await;
    console_feedback::the_feedback_filter_and_the_transcript(store).await;
    console_feedback::sync_rounds_are_recorded(store).await;
    idempotency::a_key_has_one_winner_and_keeps_its_result(store).await;
    // Last: it ends with a retention purge.
    search::console(store).await;
}

/// Concurrent writes, as several replicas (or several tasks of one) make
/// them: turns in one conversation, imports of one upstream conversation,
/// and imports racing live turns. Nothing lost, nothing duplicated, no
/// write fails. `store` must be empty.
pub(crate) async fn concurrent_turns(store: Arc<dyn Store>) {
    races::turns_in_one_conversation(store.clone()).await;
    races::imports_of_one_conversation(store.clone()).await;
    races::imports_racing_live_turns(store).await;
}
