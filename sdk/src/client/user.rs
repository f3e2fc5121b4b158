//! One end user's side of the API: chat (blocking and streamed), and the
//! user's conversations and messages.
//!
//! Invariant: a [`UserClient`] always knows whose data it touches. From an
//! API-key client it names the user explicitly on every call (query string or
//! body); from a bearer-token client the token names the user and no ids are
//! sent, so a call can never reach another user's history.

use std::sync::Arc;

use reqwest::Method;

use super::error::Error;
use super::query::{MessagesQuery, Page};
use super::stream::ChatStream;
use super::transport::{self, Core, id_segment};
use crate::{
    ChatRequest, ChatResponse, Conversation, FeedbackRequest, FeedbackResponse, Message, Rating,
    RenameRequest,
};

/// The request header that makes a chat request safe to retry.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The API of one end user: from [`Client::user`](crate::Client::user)
/// (API key) or [`Client::me`](crate::Client::me) (the user's own token).
/// Cheap to clone.
///
/// ```no_run
/// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
/// let user = client.user("cointutor", "42");
/// let reply = user.chat(tz_chat_sdk::ChatRequest::new("What is a stop-loss order?")).await?;
/// let history = user.messages(&reply.conversation_id).await?;
/// assert_eq!(history.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UserClient {
    core: Arc<Core>,
    owner: Option<Owner>,
}

/// The user an API-key client acts for.
#[derive(Debug, Clone)]
struct Owner {
    system_id: String,
    user_id: String,
}

impl std::fmt::Debug for UserClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("UserClient");
        s.field("base_url", &self.core.base_url());
        match &self.owner {
            Some(o) => s
                .field("system_id", &o.system_id)
                .field("user_id", &o.user_id),
            None => s.field("user", &"named by the bearer token"),
        };
        s.finish()
    }
}

impl UserClient {
    pub(crate) fn named(core: Arc<Core>, system_id: String, user_id: String) -> Self {
        Self {
            core,
            owner: Some(Owner { system_id, user_id }),
        }
    }

    pub(crate) fn by_token(core: Arc<Core>) -> Self {
        Self { core, owner: None }
    }

    /// Send a message and wait for the whole answer (`POST /v1/chat`).
    ///
    /// Leave `system_id`/`user_id` of the request empty: this view fills
    /// them in. Ids that name another user are refused before sending.
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let first = user.chat(tz_chat_sdk::ChatRequest::new("Hello")).await?;
    /// let next = user
    ///     .chat(tz_chat_sdk::ChatRequest::new("Tell me more").in_conversation(&first.conversation_id))
    ///     .await?;
    /// println!("{}", next.answer);
    /// # Ok(()) }
    /// ```
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, Error> {
        self.send_chat(request, None).await
    }

    /// [`chat`](Self::chat) under an `Idempotency-Key`, so the request can
    /// be retried safely (after a timeout or a dropped connection): a retry
    /// with the same key and request within 24 hours gets the first
    /// answer again instead of a second turn. `key` is 1 to 255 visible
    /// ASCII characters, new for each message (a UUID, say). While the
    /// first request still runs a retry fails with
    /// [`ErrorCode::IdempotencyKeyInFlight`](crate::ErrorCode::IdempotencyKeyInFlight)
    /// (status 409); the same key with another request with
    /// [`ErrorCode::IdempotencyKeyReused`](crate::ErrorCode::IdempotencyKeyReused).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let key = "order-42-question-1";
    /// let request = tz_chat_sdk::ChatRequest::new("Where is my parcel?");
    /// let reply = match user.chat_idempotent(request.clone(), key).await {
    ///     Err(e) if e.is_timeout() => user.chat_idempotent(request, key).await?,
    ///     other => other?,
    /// };
    /// println!("{}", reply.answer);
    /// # Ok(()) }
    /// ```
    pub async fn chat_idempotent(
        &self,
        request: ChatRequest,
        key: &str,
    ) -> Result<ChatResponse, Error> {
        self.send_chat(request, Some(key)).await
    }

    async fn send_chat(
        &self,
        request: ChatRequest,
        key: Option<&str>,
    ) -> Result<ChatResponse, Error> {
        let mut body = self.own(request)?;
        body.stream = false;
        let mut req = self
            .core
            .request(Method::POST, &["v1", "chat"])?
            .json(&body);
        if let Some(key) = key {
            req = req.header(IDEMPOTENCY_KEY, key);
        }
        transport::json(req).await
    }

    /// Send a message and stream the answer as it is written
    /// (`POST /v1/chat` with `"stream": true`).
    ///
    /// Errors before the answer starts (a refused request, an unknown
    /// conversation, an upstream that is down) come back here as
    /// [`Error::Api`]; later failures arrive as a final
    /// [`StreamEvent::Error`](crate::StreamEvent::Error).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let mut stream = user.chat_stream(tz_chat_sdk::ChatRequest::new("Hello")).await?;
    /// while let Some(event) = stream.next_event().await {
    ///     if let tz_chat_sdk::StreamEvent::Delta { text } = event? {
    ///         print!("{text}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, Error> {
        self.send_chat_stream(request, None).await
    }

    /// [`chat_stream`](Self::chat_stream) under an `Idempotency-Key` (see
    /// [`chat_idempotent`](Self::chat_idempotent)): a retry of a stream
    /// that ended streams the stored answer again, with the same ids.
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let request = tz_chat_sdk::ChatRequest::new("Hello");
    /// let reply = user.chat_stream_idempotent(request, "hello-1").await?.into_response().await?;
    /// println!("{}", reply.answer);
    /// # Ok(()) }
    /// ```
    pub async fn chat_stream_idempotent(
        &self,
        request: ChatRequest,
        key: &str,
    ) -> Result<ChatStream, Error> {
        self.send_chat_stream(request, Some(key)).await
    }

    async fn send_chat_stream(
        &self,
        request: ChatRequest,
        key: Option<&str>,
    ) -> Result<ChatStream, Error> {
        let mut body = self.own(request)?;
        body.stream = true;
        let mut req = self
            .core
            .stream_request(Method::POST, &["v1", "chat"])?
            .json(&body);
        if let Some(key) = key {
            req = req.header(IDEMPOTENCY_KEY, key);
        }
        transport::event_stream(req).await
    }

    /// Reattach to an answer whose stream was lost
    /// (`GET /v1/conversations/{id}/messages/{message_id}/stream`), from the
    /// last event id seen ([`ChatStream::last_event_id`]; `None`: from the
    /// start of the answer). The stream yields the text the client lacks as
    /// one [`Delta`](crate::StreamEvent::Delta), then the answer's further
    /// events, then its `end` or `error` — on any replica of the gateway.
    /// It has no `start` event; `message_id` is `start`'s.
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let mut stream = user.chat_stream(tz_chat_sdk::ChatRequest::new("Hello")).await?;
    /// let mut ids = None;
    /// while let Some(event) = stream.next_event().await {
    ///     match event {
    ///         Ok(tz_chat_sdk::StreamEvent::Start { conversation_id, message_id, .. }) => {
    ///             ids = Some((conversation_id, message_id));
    ///         }
    ///         Ok(_) => {}
    ///         Err(_) => break, // the connection was lost
    ///     }
    /// }
    /// if let (Some((conversation, message)), Some(last)) = (ids, stream.last_event_id()) {
    ///     let rest = user.resume_stream(&conversation, &message, Some(last)).await?;
    ///     # let _ = rest;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn resume_stream(
        &self,
        conversation_id: &str,
        message_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<ChatStream, Error> {
        let conversation = id_segment("conversation id", conversation_id)?;
        let message = id_segment("message id", message_id)?;
        let mut req = self
            .core
            .stream_request(
                Method::GET,
                &[
                    "v1",
                    "conversations",
                    conversation,
                    "messages",
                    message,
                    "stream",
                ],
            )?
            .query(&self.owner_query());
        if let Some(last) = last_event_id {
            let value = reqwest::header::HeaderValue::from_str(last).map_err(|_| {
                Error::InvalidInput(format!("{last:?} cannot be sent as Last-Event-ID"))
            })?;
            req = req.header("last-event-id", value);
        }
        transport::event_stream(req).await
    }

    /// The user's conversations, most recently active first (the newest 100;
    /// see [`conversations_page`](Self::conversations_page)).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// for c in user.conversations().await? {
    ///     println!("{} {}", c.updated_at, c.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn conversations(&self) -> Result<Vec<Conversation>, Error> {
        self.conversations_page(&Page::new()).await
    }

    /// One page of the user's conversations (`GET /v1/conversations`).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let first = user.conversations_page(&tz_chat_sdk::Page::new().limit(20)).await?;
    /// if let Some(last) = first.last() {
    ///     let older = user.conversations_page(&tz_chat_sdk::Page::new().limit(20).before(&last.id)).await?;
    /// #   let _ = older;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn conversations_page(&self, page: &Page) -> Result<Vec<Conversation>, Error> {
        let mut query = self.owner_query();
        page.append_to(&mut query);
        let req = self
            .core
            .request(Method::GET, &["v1", "conversations"])?
            .query(&query);
        transport::json(req).await
    }

    /// The messages of one conversation, oldest first (the newest 200; see
    /// [`messages_with`](Self::messages_with)).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// for m in user.messages("0193a5e2-…").await? {
    ///     println!("{}: {}", m.role.as_str(), m.content);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<Message>, Error> {
        self.messages_with(conversation_id, &MessagesQuery::new())
            .await
    }

    /// Messages of one conversation, with paging and optional HTML
    /// (`GET /v1/conversations/{id}/messages`).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let page = user.messages_with("0193a5e2-…", &tz_chat_sdk::MessagesQuery::new().limit(50).html()).await?;
    /// # let _ = page;
    /// # Ok(()) }
    /// ```
    pub async fn messages_with(
        &self,
        conversation_id: &str,
        query: &MessagesQuery,
    ) -> Result<Vec<Message>, Error> {
        let id = id_segment("conversation id", conversation_id)?;
        let mut params = self.owner_query();
        query.append_to(&mut params);
        let req = self
            .core
            .request(Method::GET, &["v1", "conversations", id, "messages"])?
            .query(&params);
        transport::json(req).await
    }

    /// Rename a conversation (`PATCH /v1/conversations/{id}`); returns it
    /// with its new name.
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let renamed = user.rename("0193a5e2-…", "Exam prep").await?;
    /// assert_eq!(renamed.name, "Exam prep");
    /// # Ok(()) }
    /// ```
    pub async fn rename(&self, conversation_id: &str, name: &str) -> Result<Conversation, Error> {
        let id = id_segment("conversation id", conversation_id)?;
        let body = RenameRequest {
            name: name.to_owned(),
            system_id: self.owner.as_ref().map(|o| o.system_id.clone()),
            user_id: self.owner.as_ref().map(|o| o.user_id.clone()),
        };
        let req = self
            .core
            .request(Method::PATCH, &["v1", "conversations", id])?
            .json(&body);
        transport::json(req).await
    }

    /// Delete a conversation, upstream and in the gateway's store
    /// (`DELETE /v1/conversations/{id}`).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// user.delete("0193a5e2-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, conversation_id: &str) -> Result<(), Error> {
        let id = id_segment("conversation id", conversation_id)?;
        let req = self
            .core
            .request(Method::DELETE, &["v1", "conversations", id])?
            .query(&self.owner_query());
        transport::no_content(req).await
    }

    /// Rate an assistant message (`POST /v1/messages/{id}/feedback`):
    /// `Some` rating with an optional comment, or `None` to clear. Returns
    /// what is stored now. Another user's message, or none, is
    /// [`ErrorCode::NotFound`](crate::ErrorCode::NotFound); a user message is
    /// [`ErrorCode::ValidationFailed`](crate::ErrorCode::ValidationFailed).
    ///
    /// ```no_run
    /// # async fn run(user: tz_chat_sdk::UserClient) -> Result<(), tz_chat_sdk::Error> {
    /// let stored = user.feedback("0193a5e2-…", Some(tz_chat_sdk::Rating::Like), Some("Clear, thanks")).await?;
    /// assert!(stored.feedback.is_some());
    /// user.feedback("0193a5e2-…", None, None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn feedback(
        &self,
        message_id: &str,
        rating: Option<Rating>,
        comment: Option<&str>,
    ) -> Result<FeedbackResponse, Error> {
        let id = id_segment("message id", message_id)?;
        let body = FeedbackRequest {
            rating,
            comment: comment.map(str::to_owned),
            system_id: self.owner.as_ref().map(|o| o.system_id.clone()),
            user_id: self.owner.as_ref().map(|o| o.user_id.clone()),
        };
        let req = self
            .core
            .request(Method::POST, &["v1", "messages", id, "feedback"])?
            .json(&body);
        transport::json(req).await
    }

    /// `system_id`/`user_id` for the query string (API-key callers only).
    fn owner_query(&self) -> Vec<(&'static str, String)> {
        match &self.owner {
            Some(o) => vec![
                ("system_id", o.system_id.clone()),
                ("user_id", o.user_id.clone()),
            ],
            None => Vec::new(),
        }
    }

    /// Fill in, or check, the identity fields of a chat request.
    fn own(&self, mut request: ChatRequest) -> Result<ChatRequest, Error> {
        let Some(owner) = &self.owner else {
            return Ok(request);
        };
        let clash =
            |given: &Option<String>, ours: &str| given.as_deref().is_some_and(|g| g != ours);
        if clash(&request.system_id, &owner.system_id) || clash(&request.user_id, &owner.user_id) {
            return Err(Error::InvalidInput(format!(
                "the request names another user than {}/{}; leave system_id and user_id empty",
                owner.system_id, owner.user_id
            )));
        }
        request.system_id = Some(owner.system_id.clone());
        request.user_id = Some(owner.user_id.clone());
        Ok(request)
    }
}
