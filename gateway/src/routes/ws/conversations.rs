//! The conversations one socket knows about: those `start_conversation`
//! reserved and nobody has written to yet, and the agents of those it
//! started.
//!
//! A reservation only holds an id on this socket: the store gets the
//! conversation with its first message (as with `POST /v1/chat`), so a
//! conversation nobody writes in leaves nothing behind. Another socket
//! cannot use a reservation; once the first message is stored, the
//! conversation is an ordinary one, open to all of the user's sockets.

use std::collections::HashMap;

use crate::chat::{self, NewConversation, TurnInput};
use crate::error::ApiError;

/// Longest conversation title accepted in `start_conversation`.
const MAX_TITLE_CHARS: usize = 200;

/// A conversation reserved by `start_conversation`.
struct Reserved {
    title: Option<String>,
    agent: Option<String>,
}

#[derive(Default)]
pub(super) struct SocketConversations {
    reserved: HashMap<String, Reserved>,
    /// Agents of conversations started on this socket.
    agents: HashMap<String, String>,
}

impl SocketConversations {
    /// Reserve an id for a conversation titled `title` (blank: from its
    /// first message) with `agent`; the id.
    pub(super) fn reserve(
        &mut self,
        title: Option<String>,
        agent: Option<String>,
    ) -> Result<String, ApiError> {
        let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if title
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS)
        {
            return Err(ApiError::Validation(format!(
                "title is longer than {MAX_TITLE_CHARS} characters"
            )));
        }
        let conversation_id = chat::new_id();
        let agent = agent.filter(|a| !a.is_empty());
        self.reserved
            .insert(conversation_id.clone(), Reserved { title, agent });
        Ok(conversation_id)
    }

    /// Point `input` at what its conversation id means on this socket: a
    /// reserved conversation is created by this turn, with the reservation's
    /// title and agent; one started here keeps its agent.
    pub(super) fn direct(&self, input: &mut TurnInput) {
        let Some(id) = &input.conversation_id else {
            return;
        };
        if let Some(reserved) = self.reserved.get(id) {
            input.new_conversation = Some(NewConversation {
                id: id.clone(),
                title: reserved.title.clone(),
            });
            input.agent.clone_from(&reserved.agent);
            input.conversation_id = None;
        } else if let Some(agent) = self.agents.get(id) {
            input.agent = Some(agent.clone());
        }
    }

    /// A turn's question was stored in `conversation_id`: a reservation of
    /// it is an ordinary conversation now.
    pub(super) fn written(&mut self, conversation_id: String) {
        if let Some(Reserved {
            agent: Some(agent), ..
        }) = self.reserved.remove(&conversation_id)
        {
            self.agents.insert(conversation_id, agent);
        }
    }

    /// Forget `conversation_id`.
    pub(super) fn end(&mut self, conversation_id: &str) {
        self.reserved.remove(conversation_id);
        self.agents.remove(conversation_id);
    }
}
