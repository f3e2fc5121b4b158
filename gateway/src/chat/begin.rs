//! Starting a turn: check it, route it, store its question.
//!
//! [`begin`] does it all in that order. A blocking turn that starts a
//! conversation needs nothing stored to be asked, so [`super::ask`] takes the
//! parts apart: it [`plan`]s the turn, stores the question on a task of its
//! own ([`store_in_background`]) and asks the upstream meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::task::JoinHandle;

use super::counted::{system_label, timed_write};
use super::input::{NewConversation, TurnInput, title_of};
use super::{Turn, claim, history, new_id};
use crate::error::{ApiError, ApiResult};
use crate::limits::budget;
use crate::metrics::TurnLabels;
use crate::state::AppState;
use crate::store::{Begin, NewTurn, PageRequest, Scope, TurnStart};
use crate::upstream::{PriorTurn, RouteKey, Upstream, Upstreams};

/// A turn checked and routed; its question is not stored yet.
pub(super) struct Plan {
    input: TurnInput,
    /// The routing table as the turn found it: a change to systems or
    /// agents while it runs does not change its upstream.
    routes: Arc<Upstreams>,
    upstream: Arc<dyn Upstream>,
    message_id: String,
    /// The conversation's id and title, if the turn creates it.
    new_conversation_id: String,
    title: String,
    began: Instant,
}

impl Plan {
    /// Whether the turn starts a conversation without retrying anything:
    /// then nothing stored is read to ask its upstream.
    pub(super) fn starts_conversation(&self) -> bool {
        self.input.conversation_id.is_none() && self.input.retry_of.is_none()
    }

    fn new_turn(&self) -> NewTurn<'_> {
        NewTurn {
            owner: &self.input.identity,
            conversation_id: self.input.conversation_id.as_deref(),
            new_conversation_id: &self.new_conversation_id,
            title: &self.title,
            message_id: &self.message_id,
            content: &self.input.message,
            retry_of: self.input.retry_of.as_deref(),
            agent: self.input.agent.as_deref(),
            at: OffsetDateTime::now_utc(),
        }
    }

    /// What storing the question of a turn that starts a conversation
    /// reports, known before it is stored.
    fn started_here(&self) -> TurnStart {
        TurnStart {
            conversation_id: self.new_conversation_id.clone(),
            upstream_conversation_id: None,
            created: true,
            user_message_id: self.message_id.clone(),
            agent: self.input.agent.clone(),
        }
    }
}

/// Check a turn and find its upstream; nothing is stored.
pub(super) async fn plan(state: &AppState, input: TurnInput) -> ApiResult<Plan> {
    let began = Instant::now();
    if state.shutdown.is_cancelled() {
        return Err(ApiError::ShuttingDown);
    }
    let budgets = &state.config.budgets;
    let now = OffsetDateTime::now_utc();
    if let Err(exhausted) =
        budget::check(state.store.as_ref(), budgets, &input.identity, now).await?
    {
        return Err(ApiError::BudgetExhausted(exhausted));
    }
    let routes = state.catalog.routes();
    if let Some(agent) = &input.agent
        && !routes.has_agent(&input.identity.system, agent)
    {
        return Err(ApiError::AgentNotFound(agent.clone()));
    }
    let route = RouteKey {
        system: &input.identity.system,
        agent: input.agent.as_deref(),
    };
    let upstream = routes
        .resolve(&route)
        .ok_or(ApiError::NotConfigured)?
        .clone();
    if let Some(id) = &input.conversation_id
        && uuid::Uuid::try_parse(id).is_err()
    {
        return Err(ApiError::ConversationNotFound);
    }
    let (new_conversation_id, title) = match &input.new_conversation {
        Some(NewConversation { id, title }) => (
            id.clone(),
            title.clone().unwrap_or_else(|| title_of(&input.message)),
        ),
        None => (new_id(), title_of(&input.message)),
    };
    Ok(Plan {
        input,
        routes,
        upstream,
        message_id: new_id(),
        new_conversation_id,
        title,
        began,
    })
}

/// Resolve the upstream and store the user's message.
pub async fn begin(state: &AppState, input: TurnInput) -> ApiResult<Turn> {
    begin_planned(state, plan(state, input).await?).await
}

/// Store the question of a planned turn, and read what it needs to be asked.
pub(super) async fn begin_planned(state: &AppState, mut plan: Plan) -> ApiResult<Turn> {
    let storing = Instant::now();
    let started = store_question(state, &plan.new_turn()).await?;
    let stored_in = storing.elapsed();
    // A conversation continued without naming an agent stays with the one
    // it started with.
    if plan.input.agent.is_none()
        && let Some(bound) = started.agent.as_deref()
    {
        let key = RouteKey {
            system: &plan.input.identity.system,
            agent: Some(bound),
        };
        match plan.routes.resolve(&key) {
            Some(own) => plan.upstream = own.clone(),
            None => tracing::warn!(
                agent = bound,
                "a conversation's agent is no longer configured; the app's default answers"
            ),
        }
    }
    let mut started = started;
    // Another turn of this conversation may be starting its upstream
    // conversation right now: continue that one rather than start another.
    if started.upstream_conversation_id.is_none()
        && !started.created
        && plan.upstream.history().is_some()
    {
        started.upstream_conversation_id =
            claim::upstream_conversation(state, &started.conversation_id, &started.user_message_id)
                .await?;
    }
    // Stateless upstreams get the conversation's earlier turns: one read of
    // the messages stored before this turn's question.
    let history = match plan.upstream.wants_history() {
        Some(window) if plan.input.conversation_id.is_some() => {
            let earlier = state
                .store
                .list_messages(
                    Scope::Owner(&plan.input.identity),
                    &started.conversation_id,
                    PageRequest {
                        limit: history::messages_to_read(window),
                        before: Some(&started.user_message_id),
                    },
                )
                .await?
                .unwrap_or_default();
            history::prior_turns(&earlier, window)
        }
        _ => Vec::new(),
    };
    Ok(assemble(state, plan, started, history, stored_in))
}

/// The turn of `plan` before its question is stored, and the task storing
/// it. Only for a turn that [`Plan::starts_conversation`]: the turn is what
/// storing the question will report, and has no history to read.
pub(super) fn store_in_background(
    state: &AppState,
    plan: Plan,
) -> (Turn, JoinHandle<ApiResult<TurnStart>>) {
    debug_assert!(plan.starts_conversation());
    let storing = {
        let state = state.clone();
        let owner = plan.input.identity.clone();
        let conversation_id = plan.new_conversation_id.clone();
        let title = plan.title.clone();
        let message_id = plan.message_id.clone();
        let content = plan.input.message.clone();
        let agent = plan.input.agent.clone();
        tokio::spawn(async move {
            let question = NewTurn {
                owner: &owner,
                conversation_id: None,
                new_conversation_id: &conversation_id,
                title: &title,
                message_id: &message_id,
                content: &content,
                retry_of: None,
                agent: agent.as_deref(),
                at: OffsetDateTime::now_utc(),
            };
            store_question(&state, &question).await
        })
    };
    let started = plan.started_here();
    let turn = assemble(state, plan, started, Vec::new(), Duration::ZERO);
    (turn, storing)
}

/// Store the question; what the store refused, as the client's error.
async fn store_question(state: &AppState, question: &NewTurn<'_>) -> ApiResult<TurnStart> {
    match timed_write("begin_turn", state.store.begin_turn(question)).await? {
        Begin::Started(started) => Ok(started),
        Begin::ConversationNotFound => Err(ApiError::ConversationNotFound),
        Begin::RetryTargetNotFound => Err(ApiError::Validation(
            "retry_message_id is not a user message of this conversation".into(),
        )),
        Begin::AgentMismatch(bound) => Err(ApiError::AgentMismatch(
            bound.unwrap_or_else(|| "the app's default".to_owned()),
        )),
    }
}

/// The turn of `plan`, its question stored as `started` says.
fn assemble(
    state: &AppState,
    plan: Plan,
    started: TurnStart,
    history: Vec<PriorTurn>,
    stored_in: Duration,
) -> Turn {
    let input = plan.input;
    let labels = TurnLabels::new(
        &system_label(state, &input.identity.system),
        started.agent.as_deref(),
        plan.upstream.kind(),
    );
    Turn {
        upstream: plan.upstream,
        upstream_user: input.identity.upstream_user(),
        identity: input.identity,
        agent: started.agent,
        upstream_conversation_id: started.upstream_conversation_id,
        conversation_id: started.conversation_id,
        user_message_id: started.user_message_id,
        reply_id: new_id(),
        message: input.message,
        inputs: input.inputs,
        history,
        html: input.html,
        stored_in,
        began: plan.began,
        labels,
    }
}
