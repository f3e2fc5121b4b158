//! What the operator console reads: conversations by filter and search
//! words, their messages with each answer's metrics, usage per day, and the
//! retention purge.
//!
//! Search is a case-insensitive substring match of every word (Latin
//! letters fold by ASCII case), the same on both stores: SQLite answers words
//! of three characters or more from an FTS5 trigram index and shorter words
//! with `LIKE`; PostgreSQL uses `ILIKE`, which its `pg_trgm` index serves.
//! A conversation matches when one of its messages holds every word.

mod sql;
pub(crate) mod usage;

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

pub(crate) use self::sql::{Arg, Dialect, Where, like_pattern};
use super::feedback::FeedbackRecord;
use super::{ConversationRecord, MessageRecord, PageRequest, StoreError};

/// The most search words a query uses; more are ignored.
pub const MAX_WORDS: usize = 8;

/// What an answer cost, measured by the gateway when the turn ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnMetrics {
    /// From asking the upstream to the end of the answer.
    pub latency_ms: Option<u32>,
    /// From asking the upstream to the first text of the answer.
    pub ttft_ms: Option<u32>,
    /// As reported by the upstream.
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// Conversations having a message in this state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Failed,
    Incomplete,
}

impl StatusFilter {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Failed => "failed",
            StatusFilter::Incomplete => "incomplete",
        }
    }
}

/// The words of a search, trimmed, de-duplicated and at most [`MAX_WORDS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchWords(Vec<String>);

impl SearchWords {
    /// Split `q` at white space.
    pub fn parse(q: &str) -> Self {
        let mut words: Vec<String> = Vec::new();
        for w in q.split_whitespace() {
            if words.len() == MAX_WORDS {
                break;
            }
            if !words.iter().any(|seen| seen.eq_ignore_ascii_case(w)) {
                words.push(w.to_owned());
            }
        }
        Self(words)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// The byte ranges of `text` where a word occurs (ASCII case folded, as
    /// the stores match), sorted and without overlaps: what to highlight.
    pub fn find_in(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let folded = text.to_ascii_lowercase();
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        for word in &self.0 {
            let needle = word.to_ascii_lowercase();
            let mut from = 0;
            while let Some(at) = folded[from..].find(&needle) {
                let start = from + at;
                ranges.push(start..start + needle.len());
                from = start + needle.len();
            }
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// Which conversations the console lists, exports or charts.
#[derive(Debug, Clone, Default)]
pub struct ConsoleFilter {
    /// The systems the viewer may see; `None`: every system.
    pub systems: Option<Vec<String>>,
    pub system_id: Option<String>,
    /// Only conversations bound to this named agent.
    pub agent: Option<String>,
    pub user_id: Option<String>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created before.
    pub to: Option<OffsetDateTime>,
    pub status: Option<StatusFilter>,
    /// Only conversations with an answer rated this way.
    pub feedback: Option<FeedbackFilter>,
    /// Only conversations with a message holding every word.
    pub words: SearchWords,
}

/// Conversations having an answer with feedback of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackFilter {
    /// Liked or disliked.
    Any,
    Liked,
    Disliked,
    /// Feedback with a comment, whatever the rating.
    Commented,
}

impl FeedbackFilter {
    /// `any`, `liked`, `disliked` or `commented` (the query parameter).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "any" => Some(Self::Any),
            "liked" => Some(Self::Liked),
            "disliked" => Some(Self::Disliked),
            "commented" => Some(Self::Commented),
            _ => None,
        }
    }

    /// The condition on the feedback row `fb` (the stored spellings are
    /// those of `message_feedback.rating`).
    fn condition(self) -> &'static str {
        match self {
            Self::Any => "",
            Self::Liked => " AND fb.rating = 'like'",
            Self::Disliked => " AND fb.rating = 'dislike'",
            Self::Commented => " AND fb.comment IS NOT NULL AND fb.comment <> ''",
        }
    }
}

/// A conversation as the console lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleConversation {
    pub record: ConversationRecord,
    /// The named agent it is bound to (`None`: the system's own upstream).
    pub agent: Option<String>,
    pub messages: u64,
    /// With search words: the first message holding them all.
    pub hit: Option<MessageRecord>,
}

/// A message with its answer's metrics (none on user messages).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleMessage {
    pub record: MessageRecord,
    pub metrics: TurnMetrics,
    /// The user's rating of an answer, if any.
    pub feedback: Option<FeedbackRecord>,
}

/// Use of one system's agent (`None`: its own upstream) on one UTC day.
/// Conversations count by the day they started; everything else by the day
/// of the message. Percentiles are nearest-rank over the day's answers
/// that recorded the metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyUsage {
    pub day: Date,
    pub system_id: String,
    pub agent: Option<String>,
    pub conversations: u64,
    pub messages: u64,
    /// Distinct users who wrote or were answered that day.
    pub active_users: u64,
    /// Messages stored as `failed`.
    pub failures: u64,
    pub latency_p50_ms: Option<u32>,
    pub latency_p95_ms: Option<u32>,
    pub ttft_p50_ms: Option<u32>,
    pub ttft_p95_ms: Option<u32>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What the operator console reads. See the module docs.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Conversations matching `filter`, newest first (by creation);
    /// `page.before` is the id of one already listed.
    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError>;

    /// One conversation, if it matches `filter` (the viewer's systems).
    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError>;

    /// How many conversations match `filter`.
    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError>;

    /// Every message of these conversations with its metrics: conversation
    /// by conversation in the order of `conversation_ids`, each in order.
    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError>;

    /// Use per day, system and agent. `from`/`to` bound the messages' (and
    /// started conversations') time; the other filters pick conversations.
    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError>;

    /// Messages stored but not yet in the search index (found all the same,
    /// only more slowly): SQLite indexes in the background; PostgreSQL as it
    /// writes, so it has none.
    async fn search_backlog(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// Put `messages` (grouped by conversation, each in order) in the order of
/// `conversation_ids`.
pub(crate) fn in_listing_order(
    conversation_ids: &[String],
    messages: Vec<ConsoleMessage>,
) -> Vec<ConsoleMessage> {
    let rank: std::collections::HashMap<&str, usize> = conversation_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut messages = messages;
    // A stable sort keeps each conversation's messages in their order.
    messages.sort_by_key(|m| {
        rank.get(m.record.conversation_id.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    });
    messages
}

/// The UTC day `n` days after 1970-01-01.
pub(crate) fn day_from_number(n: i64) -> Date {
    let epoch = time::macros::date!(1970 - 01 - 01).to_julian_day();
    i32::try_from(n)
        .ok()
        .and_then(|n| Date::from_julian_day(epoch + n).ok())
        .unwrap_or(time::macros::date!(1970 - 01 - 01))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_deduplicated_and_capped() {
        let w = SearchWords::parse("  Hello  hello 세계\tworld ");
        assert_eq!(w.words(), ["Hello", "세계", "world"]);
        let many = SearchWords::parse("a b c d e f g h i j k");
        assert_eq!(many.words().len(), MAX_WORDS);
        assert!(SearchWords::parse("   ").is_empty());
    }

    #[test]
    fn hits_are_found_case_insensitively_and_merged() {
        let w = SearchWords::parse("ell LLO 서울");
        let text = "Hello 서울에서 hello";
        let ranges = w.find_in(text);
        let found: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(found, ["ello", "서울", "ello"]);
    }

    #[test]
    fn day_numbers_are_days_since_the_epoch() {
        assert_eq!(day_from_number(1), time::macros::date!(1970 - 01 - 02));
        // 2026-12-01T00:00:00Z is 1_796_083_200 s after the epoch.
        assert_eq!(
            day_from_number(1_796_083_200 / 86_400),
            time::macros::date!(2026 - 12 - 01)
        );
    }
}
