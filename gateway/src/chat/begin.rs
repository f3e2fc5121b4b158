//! Starting a turn: check it, route it, store its question.
//!
//! [`begin`] does it all in that order. Most blocking turns need nothing
//! stored to be asked but the conversation's own row, so [`super::ask`]
//! takes the parts apart: it [`plan`]s the turn, reads that row, stores the
//! question on a task of its own ([`start`]) and asks the upstream meanwhile.

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
    follow_bound_agent(&mut plan, started.agent.as_deref());
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

/// How a blocking turn goes on from its plan ([`start`]).
pub(super) enum Start {
    /// The question is being stored by a task of its own; the upstream can
    /// be asked meanwhile. The turn is what storing it will report.
    Storing(Turn, JoinHandle<ApiResult<TurnStart>>),
    /// The question must be stored before the upstream is asked
    /// ([`begin_planned`]).
    StoreFirst(Plan),
}

/// Start a blocking turn: store its question in the background when nothing
/// but the conversation's own row is needed to ask the upstream — a new
/// conversation, or a continued one whose agent and upstream conversation
/// one read finds. A retry, an upstream conversation another turn may be
/// starting (`claim`), or an upstream that is sent the earlier turns
/// (`history`) needs the question stored first.
pub(super) async fn start(state: &AppState, mut plan: Plan) -> ApiResult<Start> {
    if plan.input.retry_of.is_some() {
        return Ok(Start::StoreFirst(plan));
    }
    let started = match plan.input.conversation_id.clone() {
        None => TurnStart {
            conversation_id: plan.new_conversation_id.clone(),
            upstream_conversation_id: None,
            created: true,
            user_message_id: plan.message_id.clone(),
            agent: plan.input.agent.clone(),
        },
        Some(id) => {
            let route = state
                .store
                .conversation_route(&plan.input.identity, &id)
                .await?
                .ok_or(ApiError::ConversationNotFound)?;
            if plan.input.agent.is_some() && plan.input.agent != route.agent {
                return Err(agent_mismatch(route.agent));
            }
            follow_bound_agent(&mut plan, route.agent.as_deref());
            let claims =
                route.upstream_conversation_id.is_none() && plan.upstream.history().is_some();
            if claims || plan.upstream.wants_history().is_some() {
                return Ok(Start::StoreFirst(plan));
            }
            TurnStart {
                conversation_id: id,
                upstream_conversation_id: route.upstream_conversation_id,
                created: false,
                user_message_id: plan.message_id.clone(),
                agent: route.agent,
            }
        }
    };
    let storing = {
        let state = state.clone();
        let owner = plan.input.identity.clone();
        let conversation_id = plan.input.conversation_id.clone();
        let new_conversation_id = plan.new_conversation_id.clone();
        let title = plan.title.clone();
        let message_id = plan.message_id.clone();
        let content = plan.input.message.clone();
        let agent = plan.input.agent.clone();
        tokio::spawn(async move {
            let question = NewTurn {
                owner: &owner,
                conversation_id: conversation_id.as_deref(),
                new_conversation_id: &new_conversation_id,
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
    let turn = assemble(state, plan, started, Vec::new(), Duration::ZERO);
    Ok(Start::Storing(turn, storing))
}

/// A conversation continued without naming an agent stays with the one it
/// started with.
fn follow_bound_agent(plan: &mut Plan, bound: Option<&str>) {
    let Some(bound) = bound.filter(|_| plan.input.agent.is_none()) else {
        return;
    };
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

fn agent_mismatch(bound: Option<String>) -> ApiError {
    ApiError::AgentMismatch(bound.unwrap_or_else(|| "the app's default".to_owned()))
}

/// Store the question; what the store refused, as the client's error.
async fn store_question(state: &AppState, question: &NewTurn<'_>) -> ApiResult<TurnStart> {
    match timed_write("begin_turn", state.store.begin_turn(question)).await? {
        Begin::Started(started) => Ok(started),
        Begin::ConversationNotFound => Err(ApiError::ConversationNotFound),
        Begin::RetryTargetNotFound => Err(ApiError::Validation(
            "retry_message_id is not a user message of this conversation".into(),
        )),
        Begin::AgentMismatch(bound) => Err(agent_mismatch(bound)),
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
