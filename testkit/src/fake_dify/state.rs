//! What the fake remembers: its users' conversations, the requests it
//! received (for the test to read), and the faults still queued.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use super::{FakeOptions, Fault};

/// A chat request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChat {
    /// The `user` field.
    pub user: String,
    /// The `query` field.
    pub query: String,
    /// The `conversation_id` field, if any.
    pub conversation_id: Option<String>,
    /// The `inputs` field.
    pub inputs: Value,
    /// `blocking` or `streaming`.
    pub response_mode: String,
    /// The HTTP version the request came over.
    pub http_version: axum::http::Version,
    /// The W3C `traceparent` header, if sent.
    pub traceparent: Option<String>,
}

/// A message feedback request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFeedback {
    /// The message id in the path.
    pub message_id: String,
    /// The `user` field.
    pub user: String,
    /// `like`, `dislike`, or `None` for `null` (remove).
    pub rating: Option<String>,
    /// The `content` field, if any.
    pub content: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Turn {
    pub(crate) id: String,
    pub(crate) query: String,
    pub(crate) answer: String,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) turns: Vec<Turn>,
}

#[derive(Debug, Default)]
pub(crate) struct Data {
    /// Conversations per user, oldest first.
    pub(crate) conversations: HashMap<String, Vec<Conversation>>,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) chats: Vec<RecordedChat>,
    pub(crate) stopped: HashSet<String>,
    pub(crate) clock: i64,
    /// Every feedback request, in arrival order.
    pub(crate) feedback_requests: Vec<RecordedFeedback>,
    /// Statuses for the next feedback requests to fail with.
    pub(crate) feedback_faults: VecDeque<u16>,
    /// The rating (and content) each message has now.
    pub(crate) feedback: HashMap<String, (String, Option<String>)>,
}

impl Data {
    /// A strictly increasing fake clock (Unix seconds), so ordering is stable.
    pub(crate) fn tick(&mut self) -> i64 {
        self.clock += 1;
        1_800_000_000 + self.clock
    }
}

pub(crate) struct Inner {
    pub(crate) options: FakeOptions,
    pub(crate) data: Mutex<Data>,
}

impl Inner {
    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        // A panicking test thread must not poison every later request.
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
