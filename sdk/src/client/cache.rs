//! Operator reads of the stored history across all users
//! (`/v1/cache/…`, API key only).

use std::sync::Arc;

use reqwest::Method;

use super::error::Error;
use super::query::{CacheQuery, MessagesQuery};
use super::transport::{self, Core, id_segment};
use crate::{Conversation, Message};

/// Search and read every stored conversation, whoever owns it: from
/// [`Client::cache`](crate::Client::cache). For support tools and exports.
///
/// ```no_run
/// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
/// let cache = client.cache();
/// for c in cache.conversations(&tz_chat_sdk::CacheQuery::new().system_id("cointutor")).await? {
///     let messages = cache.messages(&c.id).await?;
///     println!("{}/{}: {} ({} messages)", c.system_id, c.user_id, c.name, messages.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CacheClient {
    core: Arc<Core>,
}

impl std::fmt::Debug for CacheClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheClient")
            .field("base_url", &self.core.base_url())
            .finish()
    }
}

impl CacheClient {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Conversations matching `query`, most recently active first
    /// (`GET /v1/cache/conversations`).
    ///
    /// ```no_run
    /// # async fn run(cache: tz_chat_sdk::CacheClient) -> Result<(), tz_chat_sdk::Error> {
    /// let today = time::OffsetDateTime::now_utc().date();
    /// let active_today = cache.conversations(&tz_chat_sdk::CacheQuery::new().since(today)).await?;
    /// # let _ = active_today;
    /// # Ok(()) }
    /// ```
    pub async fn conversations(&self, query: &CacheQuery) -> Result<Vec<Conversation>, Error> {
        let req = self
            .core
            .request(Method::GET, &["v1", "cache", "conversations"])?
            .query(&query.to_query());
        transport::json(req).await
    }

    /// Every message of one conversation, oldest first (up to 500; see
    /// [`messages_with`](Self::messages_with)).
    ///
    /// ```no_run
    /// # async fn run(cache: tz_chat_sdk::CacheClient) -> Result<(), tz_chat_sdk::Error> {
    /// let messages = cache.messages("0193a5e2-…").await?;
    /// # let _ = messages;
    /// # Ok(()) }
    /// ```
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<Message>, Error> {
        self.messages_with(conversation_id, &MessagesQuery::new())
            .await
    }

    /// Messages of one conversation, with paging and optional HTML
    /// (`GET /v1/cache/conversations/{id}/messages`).
    ///
    /// ```no_run
    /// # async fn run(cache: tz_chat_sdk::CacheClient) -> Result<(), tz_chat_sdk::Error> {
    /// let all = cache.messages_with("0193a5e2-…", &tz_chat_sdk::MessagesQuery::new().limit(5000)).await?;
    /// # let _ = all;
    /// # Ok(()) }
    /// ```
    pub async fn messages_with(
        &self,
        conversation_id: &str,
        query: &MessagesQuery,
    ) -> Result<Vec<Message>, Error> {
        let id = id_segment("conversation id", conversation_id)?;
        let mut params = Vec::new();
        query.append_to(&mut params);
        let req = self
            .core
            .request(
                Method::GET,
                &["v1", "cache", "conversations", id, "messages"],
            )?
            .query(&params);
        transport::json(req).await
    }
}
