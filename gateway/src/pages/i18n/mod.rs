//! Every text of the chat page and its error pages, in the five supported
//! languages (en, es, ko, zh, ja), one file per language.
//!
//! The seed page's strings (`placeholder`, `send`, `empty`, `emptyFull`,
//! `errorList`, `errorMessages`, `errorSend`, `sendNew`) are kept word for
//! word; the rest are texts for controls the seed did not have. The page
//! gets all tables at once (as JSON, keys in camelCase) so it can switch
//! language without a reload. `{name}` in a text is filled in by the page.

mod en;
mod es;
mod ja;
mod ko;
mod zh;

use sdk::Lang;
use serde::Serialize;

/// The texts of the chat page in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageTexts {
    /// Document title.
    pub chat: &'static str,
    /// Composer placeholder (seed).
    pub placeholder: &'static str,
    /// Composer label for assistive technology.
    pub message: &'static str,
    /// Composer hint about Enter and Shift+Enter.
    pub hint: &'static str,
    /// Send button (seed).
    pub send: &'static str,
    /// Stop button.
    pub stop: &'static str,
    /// Empty state in embed mode (seed).
    pub empty: &'static str,
    /// Empty state in full mode (seed).
    pub empty_full: &'static str,
    /// Loading the conversation list failed (seed).
    pub error_list: &'static str,
    /// Loading messages failed (seed).
    pub error_messages: &'static str,
    /// Sending failed (seed).
    pub error_send: &'static str,
    /// "New conversation" button (seed `sendNew`).
    pub new_conversation: &'static str,
    /// Sidebar heading.
    pub conversations: &'static str,
    /// Embed-mode menu of recent conversations.
    pub recent: &'static str,
    /// The conversation list is empty.
    pub no_conversations: &'static str,
    /// Title of a conversation without a name.
    pub untitled: &'static str,
    /// A reply the user stopped.
    pub stopped: &'static str,
    /// A stored reply that was cut short.
    pub incomplete: &'static str,
    /// A stored user message that got no answer.
    pub not_answered: &'static str,
    /// Retry button.
    pub retry: &'static str,
    /// Typing indicator.
    pub typing: &'static str,
    /// Live-region prefix for a finished reply.
    pub new_reply: &'static str,
    /// Label of the user's messages.
    pub you: &'static str,
    /// Label of the assistant's messages.
    pub assistant: &'static str,
    /// Label of the message list.
    pub messages: &'static str,
    /// Rename action.
    pub rename: &'static str,
    /// Rename dialog heading.
    pub rename_title: &'static str,
    /// Name field.
    pub name: &'static str,
    /// Save button.
    pub save: &'static str,
    /// Cancel button.
    pub cancel: &'static str,
    /// Delete action.
    pub delete: &'static str,
    /// Delete dialog heading.
    pub delete_title: &'static str,
    /// Delete dialog text; `{name}` is the conversation's title.
    pub delete_body: &'static str,
    /// Renaming failed.
    pub error_rename: &'static str,
    /// Deleting failed.
    pub error_delete: &'static str,
    /// The current conversation no longer exists; a new one was started.
    pub conversation_gone: &'static str,
    /// `rate_limited`.
    pub error_busy: &'static str,
    /// Upstream, database or gateway unavailable.
    pub error_unavailable: &'static str,
    /// The network request failed.
    pub error_network: &'static str,
    /// The message was refused as too long.
    pub error_too_long: &'static str,
    /// The chat token expired.
    pub expired: &'static str,
    /// Inside a widget: waiting for a fresh token.
    pub expired_reconnecting: &'static str,
    /// Outside a widget: how to get a fresh token.
    pub expired_reopen: &'static str,
    /// The link has no token.
    pub missing_token: &'static str,
    /// The token is not valid.
    pub invalid_token: &'static str,
    /// The token's system is not allowed.
    pub not_allowed: &'static str,
    /// Heading of the error pages.
    pub error_heading: &'static str,
    /// What to do on an error page.
    pub error_help: &'static str,
    /// Language selector label.
    pub language: &'static str,
    /// Close button.
    pub close: &'static str,
    /// Skip link to the composer.
    pub skip_to_composer: &'static str,
    /// Prefix of the user's identity in the header.
    pub signed_in_as: &'static str,
    /// Loading indicator.
    pub loading: &'static str,
}

/// The texts for `lang`.
pub(super) fn texts(lang: Lang) -> &'static PageTexts {
    match lang {
        Lang::En => &en::TEXTS,
        Lang::Es => &es::TEXTS,
        Lang::Ko => &ko::TEXTS,
        Lang::Zh => &zh::TEXTS,
        Lang::Ja => &ja::TEXTS,
    }
}

/// The name of each language in itself, for the language selector.
pub(super) fn endonym(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Es => "Español",
        Lang::Ko => "한국어",
        Lang::Zh => "中文",
        Lang::Ja => "日本語",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &PageTexts) -> Vec<(String, String)> {
        match serde_json::to_value(t).unwrap() {
            serde_json::Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
                .collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn seed_strings_are_kept() {
        assert_eq!(texts(Lang::En).placeholder, "Type a message...");
        assert_eq!(texts(Lang::Ko).send, "전송");
        assert_eq!(texts(Lang::Ja).error_send, "送信に失敗しました。");
        assert_eq!(texts(Lang::Es).new_conversation, "Nueva conversación");
        assert_eq!(texts(Lang::Zh).empty_full, "开始新对话或从列表中选择。");
    }

    #[test]
    fn every_language_translates_every_text() {
        let en = values(texts(Lang::En));
        for lang in Lang::ALL {
            let t = values(texts(lang));
            for ((key, value), (_, english)) in t.iter().zip(&en) {
                assert!(!value.trim().is_empty(), "{lang}.{key} is empty");
                assert_eq!(
                    value.contains("{name}"),
                    english.contains("{name}"),
                    "{lang}.{key} placeholders"
                );
            }
            if lang != Lang::En {
                let same = t.iter().zip(&en).filter(|(a, b)| a.1 == b.1).count();
                // A few words ("Chat") are the same in Spanish.
                assert!(same <= 2, "{lang}: {same} texts are still English");
            }
        }
    }
}
