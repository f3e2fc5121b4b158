//! One authenticated socket: its frames in, its turn's events out, one turn
//! at a time (the conversations it reserved are in `conversations`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use sdk::{ChatRequest, ClientFrame, ServerFrame, StreamEvent};
use serde_json::{Map, Value};
use tokio::time::{Instant, interval_at, timeout};

use super::auth::{Credentials, await_auth};
use super::conversations::SocketConversations;
use super::frames::{self, Read};
use crate::auth::KeyId;
use crate::chat::{self, TurnEvents, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::revocation::Revocable;
use crate::state::AppState;

/// How often the gateway pings an open socket (proxies close quiet ones).
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a close waits for the client's answering close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

type Incoming = SplitStream<WebSocket>;
type Starting = Pin<Box<dyn Future<Output = ApiResult<TurnEvents>> + Send>>;

/// The socket's turn, if one runs.
enum Running {
    Idle,
    /// Storing the message and reaching the upstream.
    Starting {
        turn: Starting,
        /// `stop` arrived meanwhile.
        stop: bool,
        /// The conversation it writes to, when the client named one.
        conversation_id: Option<String>,
    },
    Streaming {
        events: TurnEvents,
        /// From the `start` event: conversation and user message.
        ids: Option<(String, String)>,
    },
}

/// How a running turn moved on.
enum Progress {
    Started(ApiResult<TurnEvents>),
    Event(Option<StreamEvent>),
}

impl Running {
    async fn progress(&mut self) -> Progress {
        match self {
            Running::Idle => std::future::pending().await,
            Running::Starting { turn, .. } => Progress::Started(turn.as_mut().await),
            Running::Streaming { events, .. } => Progress::Event(events.next().await),
        }
    }
}

struct Session {
    state: AppState,
    identity: Identity,
    /// The agent the chat token pins: every turn goes to it.
    pinned: Option<String>,
    /// The API key the socket was opened with, if any (rate limits).
    key: Option<KeyId>,
    out: SplitSink<WebSocket, Message>,
    conversations: SocketConversations,
    running: Running,
}

/// Whether the socket stays open after a step.
#[derive(PartialEq, Eq)]
enum Next {
    Continue,
    Close(u16, &'static str),
    /// The client is gone.
    Gone,
}

/// Serve one socket until it closes.
pub(super) async fn run(state: AppState, socket: WebSocket, credentials: Credentials) {
    let (mut out, mut incoming) = socket.split();
    let (mut key, mut revocable) = (None, None);
    let identity = match credentials {
        Credentials::Verified(identity, pinned, token) => {
            revocable = Some(token);
            Ok((identity, pinned))
        }
        Credentials::ForServer(identity, server_key) => {
            key = Some(server_key);
            Ok((identity, None))
        }
        Credentials::Refused(e) => Err(Some(e)),
        Credentials::Later => {
            await_auth(&state, &mut incoming)
                .await
                .map(|(identity, pinned, token)| {
                    revocable = Some(token);
                    (identity, pinned)
                })
        }
    };
    let (identity, pinned) = match identity {
        Ok(verified) => verified,
        Err(None) => return,
        Err(Some(e)) => {
            let _ = out.send(frames::message(&frames::error(&e))).await;
            close(out, incoming, close_code::POLICY, "authentication failed").await;
            return;
        }
    };
    let mut session = Session {
        state: state.clone(),
        out,
        conversations: SocketConversations::default(),
        running: Running::Idle,
        identity,
        pinned,
        key,
    };
    let ready = ServerFrame::Ready {
        system_id: session.identity.system.as_str().to_owned(),
        user_id: session.identity.user.as_str().to_owned(),
    };
    // A chat token revoked while the socket is open closes it: every change
    // to the revocations this replica honours wakes the socket to check.
    let mut revocations = state.auth.revocations().watch();
    let mut next = session.send(&ready).await;
    let mut ping = interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    while next == Next::Continue {
        let idle = matches!(session.running, Running::Idle);
        next = tokio::select! {
            changed = revocations.changed(), if revocable.is_some() => match changed {
                Ok(()) => session.unless_revoked(revocable.as_ref()).await,
                // The revocations live as long as the gateway.
                Err(_) => Next::Continue,
            },
            () = session.state.draining.cancelled(), if idle => Next::Close(close_code::AWAY, "the gateway is restarting"),
            () = session.state.shutdown.cancelled(), if idle => Next::Close(close_code::AWAY, "the gateway is restarting"),
            progress = session.running.progress() => session.progress(progress).await,
            message = incoming.next() => match session.unless_revoked(revocable.as_ref()).await {
                Next::Continue => session.receive(message).await,
                closing => closing,
            },
            _ = ping.tick() => match session.out.send(Message::Ping(Bytes::new())).await {
                Ok(()) => Next::Continue,
                Err(_) => Next::Gone,
            },
        };
    }
    // Dropping a running turn's events tells its pump the client is gone:
    // the partial answer is stored as incomplete. A turn still starting is
    // let finish starting (so its question is settled like any other) and
    // then dropped the same way.
    let Session { out, running, .. } = session;
    if let Running::Starting { turn, .. } = running {
        state.tasks.spawn(async move { drop(turn.await) });
    }
    if let Next::Close(code, reason) = next {
        close(out, incoming, code, reason).await;
    }
}

/// Say why the socket closes, then wait (briefly) for the client's close so
/// the frame is not lost to a connection reset.
async fn close(
    mut out: SplitSink<WebSocket, Message>,
    mut incoming: Incoming,
    code: u16,
    reason: &'static str,
) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if out.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = timeout(CLOSE_WAIT, async {
        while let Some(Ok(message)) = incoming.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

impl Session {
    /// Close the socket (after a `token_revoked` error frame) if its chat
    /// token is revoked now.
    async fn unless_revoked(&mut self, token: Option<&Revocable>) -> Next {
        if !token.is_some_and(|t| t.is_revoked(self.state.auth.revocations())) {
            return Next::Continue;
        }
        match self.send(&frames::error(&ApiError::TokenRevoked)).await {
            Next::Continue => Next::Close(close_code::POLICY, "the chat token was revoked"),
            gone => gone,
        }
    }

    async fn send(&mut self, frame: &ServerFrame) -> Next {
        match self.out.send(frames::message(frame)).await {
            Ok(()) => Next::Continue,
            Err(_) => Next::Gone,
        }
    }

    async fn refuse(&mut self, error: &ApiError) -> Next {
        self.send(&frames::error(error)).await
    }

    /// After a turn: close when the gateway is stopping.
    fn after_turn(&self) -> Next {
        if self.state.draining.is_cancelled() || self.state.shutdown.is_cancelled() {
            Next::Close(close_code::AWAY, "the gateway is restarting")
        } else {
            Next::Continue
        }
    }

    async fn receive(&mut self, message: Option<Result<Message, axum::Error>>) -> Next {
        match frames::read(message, self.state.config.limits.max_body_bytes) {
            Read::Frame(Ok(frame)) => self.handle(frame).await,
            Read::Frame(Err(e)) => self.refuse(&e).await,
            Read::Control => Next::Continue,
            Read::Close(code, reason) => Next::Close(code, reason),
            Read::Gone => Next::Gone,
        }
    }

    async fn handle(&mut self, frame: ClientFrame) -> Next {
        match frame {
            ClientFrame::Ping => self.send(&ServerFrame::Pong).await,
            ClientFrame::Auth { .. } => {
                self.refuse(&ApiError::BadRequest(
                    "this socket is already authenticated".into(),
                ))
                .await
            }
            ClientFrame::StartConversation { title, agent } => {
                match self.conversations.reserve(title, agent) {
                    Ok(conversation_id) => {
                        self.send(&ServerFrame::ConversationStarted { conversation_id })
                            .await
                    }
                    Err(e) => self.refuse(&e).await,
                }
            }
            ClientFrame::SendMessage {
                conversation_id,
                content,
                inputs,
            } => self.start_turn(conversation_id, content, inputs).await,
            ClientFrame::Stop => self.stop(None).await,
            ClientFrame::EndConversation { conversation_id } => {
                self.conversations.end(&conversation_id);
                let next = self.stop(Some(&conversation_id)).await;
                if next != Next::Continue {
                    return next;
                }
                self.send(&ServerFrame::ConversationEnded { conversation_id })
                    .await
            }
        }
    }

    async fn start_turn(
        &mut self,
        conversation_id: Option<String>,
        content: String,
        inputs: Option<Map<String, Value>>,
    ) -> Next {
        if !matches!(self.running, Running::Idle) {
            return self.refuse(&ApiError::Busy).await;
        }
        if self.state.draining.is_cancelled() {
            return self.refuse(&ApiError::ShuttingDown).await;
        }
        if let Err(refusal) = self
            .state
            .limits
            .admit_turn(&self.identity, self.key.as_ref())
        {
            return self.refuse(&ApiError::RateLimited(refusal)).await;
        }
        let request = ChatRequest {
            message: content,
            conversation_id: conversation_id.clone(),
            inputs,
            ..ChatRequest::default()
        };
        let mut input = match TurnInput::from_request(
            &self.state.config.limits,
            self.identity.clone(),
            request,
        ) {
            Ok(input) => input,
            Err(e) => return self.refuse(&e).await,
        };
        self.conversations.direct(&mut input);
        input.agent = match (&self.pinned, input.agent.take()) {
            (Some(pinned), Some(named)) if *pinned != named => {
                return self.refuse(&ApiError::IdentityMismatch).await;
            }
            (Some(pinned), _) => Some(pinned.clone()),
            (None, named) => named,
        };
        let state = self.state.clone();
        self.running = Running::Starting {
            turn: Box::pin(async move {
                let turn = chat::begin(&state, input).await?;
                chat::stream(&state, turn).await
            }),
            stop: false,
            conversation_id,
        };
        Next::Continue
    }

    /// Stop the running turn (only if it writes to `conversation`, when
    /// given).
    async fn stop(&mut self, conversation: Option<&str>) -> Next {
        let ids = match &mut self.running {
            Running::Idle => return Next::Continue,
            Running::Starting {
                stop,
                conversation_id,
                ..
            } => {
                if conversation.is_none() || conversation == conversation_id.as_deref() {
                    *stop = true;
                }
                return Next::Continue;
            }
            Running::Streaming { ids, .. } => {
                if conversation.is_some_and(|c| ids.as_ref().is_none_or(|(id, _)| id != c)) {
                    return Next::Continue;
                }
                ids.take()
            }
        };
        // Dropping the events stores the answer so far as incomplete.
        self.running = Running::Idle;
        self.stopped(ids).await
    }

    async fn stopped(&mut self, ids: Option<(String, String)>) -> Next {
        let error = match ids {
            Some((conversation_id, message_id)) => ApiError::Turn {
                error: Box::new(ApiError::Stopped),
                conversation_id,
                message_id,
            },
            None => ApiError::Stopped,
        };
        match self.refuse(&error).await {
            Next::Continue => self.after_turn(),
            other => other,
        }
    }

    async fn progress(&mut self, progress: Progress) -> Next {
        match progress {
            Progress::Started(started) => {
                let Running::Starting {
                    stop,
                    conversation_id,
                    ..
                } = std::mem::replace(&mut self.running, Running::Idle)
                else {
                    return Next::Continue;
                };
                let stored = matches!(started, Ok(_) | Err(ApiError::Turn { .. }));
                if stored && let Some(id) = conversation_id {
                    self.conversations.written(id);
                }
                match started {
                    Ok(events) if stop => {
                        drop(events);
                        self.stopped(None).await
                    }
                    Ok(events) => {
                        self.running = Running::Streaming { events, ids: None };
                        Next::Continue
                    }
                    Err(e) => match self.refuse(&e).await {
                        Next::Continue => self.after_turn(),
                        other => other,
                    },
                }
            }
            Progress::Event(None) => {
                self.running = Running::Idle;
                self.after_turn()
            }
            Progress::Event(Some(event)) => {
                if let (
                    StreamEvent::Start {
                        conversation_id,
                        user_message_id,
                        ..
                    },
                    Running::Streaming { ids, .. },
                ) = (&event, &mut self.running)
                {
                    *ids = Some((conversation_id.clone(), user_message_id.clone()));
                }
                let terminal = event.is_terminal();
                let next = self.send(&ServerFrame::from(event)).await;
                if !terminal || next != Next::Continue {
                    return next;
                }
                self.running = Running::Idle;
                self.after_turn()
            }
        }
    }
}
