//! The earlier turns sent to upstreams that keep no conversation of their
//! own (an OpenAI-compatible API): read from the gateway's store with one
//! query, then cut to the upstream's [`HistoryWindow`].
//!
//! Only complete turns go: a user message answered by a complete reply. A
//! failed or cut turn is left out, since the model never saw it whole and
//! the user usually asked again.

use sdk::{MessageStatus, Role};

use crate::store::MessageRecord;
use crate::upstream::{HistoryWindow, PriorTurn};

/// Messages to read for `window`: two per turn, and some slack for the
/// failed turns that are skipped.
pub(super) fn messages_to_read(window: HistoryWindow) -> u32 {
    u32::try_from(window.max_turns.saturating_mul(2).saturating_add(8)).unwrap_or(u32::MAX)
}

/// The complete turns in `messages` (oldest first), the newest that fit
/// `window`.
pub(super) fn prior_turns(messages: &[MessageRecord], window: HistoryWindow) -> Vec<PriorTurn> {
    let mut pairs: Vec<(&MessageRecord, &MessageRecord)> = messages
        .windows(2)
        .filter_map(|pair| match pair {
            [question, answer]
                if question.role == Role::User
                    && answer.role == Role::Assistant
                    && question.status == MessageStatus::Complete
                    && answer.status == MessageStatus::Complete =>
            {
                Some((question, answer))
            }
            _ => None,
        })
        .collect();
    let keep_from = pairs.len().saturating_sub(window.max_turns);
    pairs.drain(..keep_from);
    let mut chars: usize = pairs
        .iter()
        .map(|(q, a)| q.content.chars().count() + a.content.chars().count())
        .sum();
    let mut first = 0;
    while chars > window.max_chars && first < pairs.len() {
        let (q, a) = pairs[first];
        chars -= q.content.chars().count() + a.content.chars().count();
        first += 1;
    }
    pairs[first..]
        .iter()
        .flat_map(|(q, a)| {
            [
                PriorTurn {
                    role: Role::User,
                    content: q.content.clone(),
                },
                PriorTurn {
                    role: Role::Assistant,
                    content: a.content.clone(),
                },
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn message(role: Role, content: &str, status: MessageStatus) -> MessageRecord {
        MessageRecord {
            id: content.to_owned(),
            conversation_id: "c".to_owned(),
            role,
            content: content.to_owned(),
            status,
            upstream_message_id: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn contents(turns: &[PriorTurn]) -> Vec<&str> {
        turns.iter().map(|t| t.content.as_str()).collect()
    }

    const ALL: HistoryWindow = HistoryWindow {
        max_turns: 100,
        max_chars: 100_000,
    };

    #[test]
    fn only_complete_turns_are_sent() {
        use MessageStatus::{Complete, Failed, Incomplete};
        let messages = [
            message(Role::User, "q1", Complete),
            message(Role::Assistant, "a1", Complete),
            message(Role::User, "q2 failed", Failed),
            message(Role::User, "q3", Complete),
            message(Role::Assistant, "a3 cut", Incomplete),
            message(Role::User, "q4", Complete),
            message(Role::Assistant, "a4", Complete),
        ];
        assert_eq!(
            contents(&prior_turns(&messages, ALL)),
            ["q1", "a1", "q4", "a4"]
        );
        let roles: Vec<Role> = prior_turns(&messages, ALL).iter().map(|t| t.role).collect();
        assert_eq!(
            roles,
            [Role::User, Role::Assistant, Role::User, Role::Assistant]
        );
    }

    #[test]
    fn the_newest_turns_that_fit_are_kept() {
        let messages: Vec<MessageRecord> = (1..=5)
            .flat_map(|i| {
                [
                    message(Role::User, &format!("q{i}"), MessageStatus::Complete),
                    message(Role::Assistant, &format!("a{i}"), MessageStatus::Complete),
                ]
            })
            .collect();
        let two = HistoryWindow {
            max_turns: 2,
            max_chars: 1000,
        };
        assert_eq!(
            contents(&prior_turns(&messages, two)),
            ["q4", "a4", "q5", "a5"]
        );
        // Each turn is 4 characters: 9 allow two of them.
        let chars = HistoryWindow {
            max_turns: 10,
            max_chars: 9,
        };
        assert_eq!(
            contents(&prior_turns(&messages, chars)),
            ["q4", "a4", "q5", "a5"]
        );
        let none = HistoryWindow {
            max_turns: 0,
            max_chars: 1000,
        };
        assert!(prior_turns(&messages, none).is_empty());
    }
}
