//! postMessage protocol v1 between the widget and the gateway's chat page.
//!
//! Page → widget (posted with target origin = the host page's origin):
//! `{"source":"tz-chat","version":1,"type":"ready"}`, `…"type":"token-expired"`,
//! `…"type":"reply","conversation_id":"…"` and `…"type":"close"` (Esc pressed
//! in the page when nothing of the page's own used it).
//!
//! Widget → page (posted with target origin = the gateway's origin, never
//! `"*"`): `{"source":"tz-chat-widget","version":1,"type":"token","token":"…"}`
//! and `…"type":"lang","lang":"ko"`.
//!
//! Invariant: a message is acted on only if [`is_trusted`] holds (its
//! `event.origin` is the gateway's origin and `event.source` is the widget's
//! own iframe) and [`parse_page_message`] accepts it. This module is pure;
//! the `message` listener and `postMessage` calls are in [`crate::dom`].

use sdk::Lang;

use crate::json::Json;

/// `source` of messages from the chat page.
pub const PAGE_SOURCE: &str = "tz-chat";
/// `source` of messages from the widget.
pub const WIDGET_SOURCE: &str = "tz-chat-widget";
/// The protocol version both sides speak.
pub const VERSION: u64 = 1;

/// A message from the chat page (its `type`: `ready`, `token-expired`,
/// `reply`, `close`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMessage {
    /// The page has loaded and listens for messages.
    Ready,
    /// The page's token expired: send a new one.
    TokenExpired,
    /// An answer finished.
    Reply {
        /// The conversation it belongs to (empty when not given).
        conversation_id: String,
    },
    /// Esc was pressed inside the page (where the widget's own key handler
    /// cannot see it): close the panel.
    Close,
}

/// A message to the chat page (its `type`: `token`, `lang`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidgetMessage {
    /// A fresh chat token.
    Token {
        /// The token.
        token: String,
    },
    /// The interface language changed.
    Lang {
        /// The new language.
        lang: Lang,
    },
}

impl WidgetMessage {
    /// The message as posted, with `source` and `version`.
    ///
    /// ```
    /// use widget::json::Json;
    ///
    /// let m = widget::bridge::WidgetMessage::Lang { lang: sdk::Lang::Ko };
    /// assert_eq!(
    ///     m.to_json().to_text(),
    ///     r#"{"source":"tz-chat-widget","version":1,"type":"lang","lang":"ko"}"#
    /// );
    /// ```
    pub fn to_json(&self) -> Json {
        let envelope = |kind: &str, key: &str, value: &str| {
            Json::object([
                ("source", Json::from(WIDGET_SOURCE)),
                ("version", Json::Number(VERSION as f64)),
                ("type", Json::from(kind)),
                (key, Json::from(value)),
            ])
        };
        match self {
            WidgetMessage::Token { token } => envelope("token", "token", token),
            WidgetMessage::Lang { lang } => envelope("lang", "lang", lang.as_str()),
        }
    }
}

/// Why a posted message was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// Not an object with `"source": "tz-chat"` (another script's message).
    #[error("not a tz-chat message")]
    Foreign,
    /// A tz-chat message of another protocol version.
    #[error("unsupported protocol version {0}")]
    Version(String),
    /// A type this widget does not know (newer page): ignored.
    #[error("unknown message: {0}")]
    Unknown(String),
}

/// Whether a `message` event may be acted on: it must come from the gateway's
/// origin and from the widget's own iframe window.
///
/// ```
/// use widget::bridge::is_trusted;
///
/// assert!(is_trusted("https://gw.example.com", "https://gw.example.com", true));
/// assert!(!is_trusted("https://evil.example", "https://gw.example.com", true));
/// assert!(!is_trusted("https://gw.example.com", "https://gw.example.com", false));
/// ```
pub fn is_trusted(event_origin: &str, gateway_origin: &str, from_our_frame: bool) -> bool {
    from_our_frame && !gateway_origin.is_empty() && event_origin == gateway_origin
}

/// Read a message posted by the chat page (`event.data`, as JSON).
///
/// ```
/// use widget::bridge::{parse_page_message, PageMessage};
/// use widget::json::Json;
///
/// let data = Json::parse(r#"{"source": "tz-chat", "version": 1, "type": "reply", "conversation_id": "c1"}"#).unwrap();
/// let m = parse_page_message(&data);
/// assert_eq!(m, Ok(PageMessage::Reply { conversation_id: "c1".into() }));
/// ```
pub fn parse_page_message(data: &Json) -> Result<PageMessage, BridgeError> {
    if data.get("source").and_then(Json::as_str) != Some(PAGE_SOURCE) {
        return Err(BridgeError::Foreign);
    }
    match data.get("version") {
        Some(v) if v.as_i64() == Some(VERSION as i64) => {}
        other => {
            return Err(BridgeError::Version(
                other.map_or_else(|| "none".to_owned(), Json::to_text),
            ));
        }
    }
    let unknown = || {
        BridgeError::Unknown(
            data.get("type")
                .map_or_else(|| "no type".to_owned(), Json::to_text),
        )
    };
    match data
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(unknown)?
    {
        "ready" => Ok(PageMessage::Ready),
        "token-expired" => Ok(PageMessage::TokenExpired),
        "reply" => match data.get("conversation_id") {
            None => Ok(PageMessage::Reply {
                conversation_id: String::new(),
            }),
            Some(Json::String(id)) => Ok(PageMessage::Reply {
                conversation_id: id.clone(),
            }),
            Some(_) => Err(unknown()),
        },
        "close" => Ok(PageMessage::Close),
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn every_page_message_of_v1() {
        let ok = |v: Value| parse_page_message(&Json::from(v));
        assert_eq!(
            ok(json!({"source": "tz-chat", "version": 1, "type": "ready"})),
            Ok(PageMessage::Ready)
        );
        assert_eq!(
            ok(json!({"source": "tz-chat", "version": 1, "type": "token-expired"})),
            Ok(PageMessage::TokenExpired)
        );
        assert_eq!(
            ok(json!({"source": "tz-chat", "version": 1, "type": "reply",
                      "conversation_id": "0193", "extra": true})),
            Ok(PageMessage::Reply {
                conversation_id: "0193".into()
            })
        );
        assert_eq!(
            ok(json!({"source": "tz-chat", "version": 1, "type": "close"})),
            Ok(PageMessage::Close)
        );
    }

    #[test]
    fn foreign_and_future_messages_are_refused() {
        let err = |v: Value| parse_page_message(&Json::from(v)).unwrap_err();
        assert_eq!(err(json!("tz-chat")), BridgeError::Foreign);
        assert_eq!(
            err(json!({"source": "tz-chat-widget", "version": 1, "type": "token"})),
            BridgeError::Foreign
        );
        assert_eq!(
            err(json!({"source": "tz-chat", "type": "ready"})),
            BridgeError::Version("none".into())
        );
        assert_eq!(
            err(json!({"source": "tz-chat", "version": "1", "type": "ready"})),
            BridgeError::Version("\"1\"".into())
        );
        assert_eq!(
            err(json!({"source": "tz-chat", "version": 1, "type": "typing"})),
            BridgeError::Unknown("\"typing\"".into())
        );
        // Only the page speaks `close`; a widget-sourced one is not for us,
        // and neither is one of another version.
        assert_eq!(
            err(json!({"source": "tz-chat-widget", "version": 1, "type": "close"})),
            BridgeError::Foreign
        );
        assert_eq!(
            err(json!({"source": "tz-chat", "version": 2, "type": "close"})),
            BridgeError::Version("2".into())
        );
    }

    #[test]
    fn widget_messages_are_exactly_v1() {
        let token = WidgetMessage::Token {
            token: "a.b.c".into(),
        };
        assert_eq!(
            token.to_json(),
            Json::from(
                json!({"source": "tz-chat-widget", "version": 1, "type": "token", "token": "a.b.c"})
            )
        );
        let lang = WidgetMessage::Lang { lang: Lang::Zh };
        assert_eq!(
            lang.to_json(),
            Json::from(
                json!({"source": "tz-chat-widget", "version": 1, "type": "lang", "lang": "zh"})
            )
        );
    }

    #[test]
    fn a_reply_with_a_non_string_id_is_not_taken() {
        assert_eq!(
            parse_page_message(&Json::from(
                json!({"source": "tz-chat", "version": 1, "type": "reply", "conversation_id": 7})
            )),
            Err(BridgeError::Unknown("\"reply\"".into()))
        );
    }

    #[test]
    fn languages_are_posted_as_the_sdk_serialises_them() {
        for lang in Lang::ALL {
            let posted = WidgetMessage::Lang { lang }.to_json();
            assert_eq!(
                posted.get("lang"),
                Some(&Json::from(serde_json::to_value(lang).unwrap()))
            );
        }
    }

    #[test]
    fn trust_needs_origin_and_frame() {
        assert!(!is_trusted("", "", true));
        assert!(!is_trusted(
            "http://127.0.0.1:8088",
            "http://127.0.0.1:8089",
            true
        ));
        assert!(!is_trusted("null", "http://127.0.0.1:8088", true));
    }
}
