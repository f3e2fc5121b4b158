//! Reading client frames and writing server frames (the JSON inside
//! WebSocket text messages; the types are the SDK's).

use axum::extract::ws::{Message, close_code};
use sdk::{ClientFrame, ServerFrame};
use serde_json::{Value, json};

use crate::error::ApiError;

/// Frame types that carry no data.
const BARE: &[&str] = &["ping", "stop"];
/// Frame types with data.
const WITH_DATA: &[&str] = &[
    "auth",
    "start_conversation",
    "send_message",
    "end_conversation",
];

/// What one WebSocket message from the client amounts to.
pub(super) enum Read {
    /// A client frame, or why its text is not one.
    Frame(Result<ClientFrame, ApiError>),
    /// A ping or a pong: nothing to answer.
    Control,
    /// The socket closes, with this code and reason.
    Close(u16, &'static str),
    /// The client is gone.
    Gone,
}

/// Read one message of at most `max_bytes` (the body limit).
pub(super) fn read(message: Option<Result<Message, axum::Error>>, max_bytes: usize) -> Read {
    const TOO_BIG: Read = Read::Close(close_code::SIZE, "frame larger than the body limit");
    match message {
        None | Some(Ok(Message::Close(_))) => Read::Gone,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Read::Control,
        Some(Ok(Message::Binary(_))) => {
            Read::Close(close_code::UNSUPPORTED, "binary frames are not accepted")
        }
        Some(Ok(Message::Text(text))) if text.len() > max_bytes => TOO_BIG,
        Some(Ok(Message::Text(text))) => Read::Frame(parse(&text)),
        Some(Err(e)) => {
            let too_big = e
                .into_inner()
                .downcast_ref::<tokio_tungstenite::tungstenite::Error>()
                .is_some_and(|e| matches!(e, tokio_tungstenite::tungstenite::Error::Capacity(_)));
            if too_big { TOO_BIG } else { Read::Gone }
        }
    }
}

/// Parse one text message. The fields may sit in `data` (the documented
/// form) or beside `type` (`{"type":"auth","token":"…"}`).
fn parse(text: &str) -> Result<ClientFrame, ApiError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::BadRequest(
            "a frame is a JSON object with a \"type\"".into(),
        ));
    };
    let Some(Value::String(kind)) = fields.remove("type") else {
        return Err(ApiError::BadRequest(
            "a frame needs a string \"type\"".into(),
        ));
    };
    if BARE.contains(&kind.as_str()) {
        return serde_json::from_value(json!({ "type": kind }))
            .map_err(|e| ApiError::Validation(e.to_string()));
    }
    if !WITH_DATA.contains(&kind.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "unknown frame type {kind:?}; expected one of {}",
            [WITH_DATA, BARE].concat().join(", ")
        )));
    }
    let data = match fields.remove("data") {
        Some(Value::Object(data)) => data,
        None | Some(Value::Null) => fields,
        Some(_) => {
            return Err(ApiError::Validation(
                "\"data\" must be a JSON object".into(),
            ));
        }
    };
    serde_json::from_value(json!({ "type": kind, "data": Value::Object(data) }))
        .map_err(|e| ApiError::Validation(format!("{kind}: {e}")))
}

/// A frame as a text message.
pub(super) fn message(frame: &ServerFrame) -> Message {
    let text = serde_json::to_string(frame).unwrap_or_else(|_| "{}".to_owned());
    Message::Text(text.into())
}

/// The `error` frame for `error` (turn ids included when it has them).
pub(super) fn error(error: &ApiError) -> ServerFrame {
    error.log();
    let (conversation_id, message_id) = match error {
        ApiError::Turn {
            conversation_id,
            message_id,
            ..
        } => (Some(conversation_id.clone()), Some(message_id.clone())),
        _ => (None, None),
    };
    ServerFrame::Error {
        code: error.code(),
        message: error.public_message().into_owned(),
        status: error.status().as_u16(),
        conversation_id,
        message_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_nested_or_flat() {
        let nested = parse(r#"{"type":"auth","data":{"token":"t"}}"#).unwrap();
        let flat = parse(r#"{"type":"auth","token":"t"}"#).unwrap();
        assert_eq!(nested, flat);
        assert_eq!(nested, ClientFrame::Auth { token: "t".into() });
        assert_eq!(
            parse(r#"{"type":"start_conversation"}"#).unwrap(),
            ClientFrame::StartConversation {
                title: None,
                agent: None
            }
        );
        assert_eq!(
            parse(r#"{"type":"ping","data":{}}"#).unwrap(),
            ClientFrame::Ping
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        assert!(matches!(parse("{"), Err(ApiError::InvalidJson(_))));
        assert!(matches!(parse("[1]"), Err(ApiError::BadRequest(_))));
        match parse(r#"{"type":"dance"}"#) {
            Err(ApiError::BadRequest(m)) => assert!(m.contains("dance"), "{m}"),
            other => panic!("{other:?}"),
        }
        match parse(r#"{"type":"send_message","data":{}}"#) {
            Err(ApiError::Validation(m)) => assert!(m.contains("content"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
