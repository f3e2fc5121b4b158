//! [`ConversationStore`] on SQLite: listings and lookups on the readers,
//! renames and deletes on the writer.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::reads::{self, Search};
use super::{SqliteStore, writes};
use crate::identity::Identity;
use crate::store::{
    ConversationFilter, ConversationRecord, ConversationStore, MessageRecord, PageRequest, Scope,
    StoreError, to_millis,
};

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let (owner, limit, before) = (owner.clone(), page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| reads::list_conversations(conn, &owner, limit, before.as_deref()))
            .await
    }

    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let search = Search {
            system_id: filter.system_id.map(str::to_owned),
            user_id: filter.user_id.map(str::to_owned),
            from: filter.from,
            to: filter.to,
            limit: filter.limit,
            before: filter.before.map(str::to_owned),
        };
        self.readers
            .read(move |conn| reads::search_conversations(conn, &search))
            .await
    }

    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let (scope, id) = (super::owned(scope), id.to_owned());
        self.readers
            .read(move |conn| reads::get_conversation(conn, &scope, &id))
            .await
    }

    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        let (scope, id) = (super::owned(scope), conversation_id.to_owned());
        let (limit, before) = (page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| reads::list_messages(conn, &scope, &id, limit, before.as_deref()))
            .await
    }

    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let (owner, id, title, at) = (
            owner.clone(),
            id.to_owned(),
            title.to_owned(),
            to_millis(at),
        );
        self.writer
            .write(move |conn| writes::rename(conn, &owner, &id, &title, at))
            .await
    }

    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError> {
        let (owner, id) = (owner.clone(), id.to_owned());
        self.writer
            .write(move |conn| writes::delete(conn, &owner, &id))
            .await
    }
}
