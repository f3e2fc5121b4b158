use super::*;
use crate::ErrorCode;
use time::macros::datetime;

#[test]
fn chat_request_omits_empty_fields() {
    let req = ChatRequest::new("hi");
    assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"message":"hi"}"#);
    let back: ChatRequest = serde_json::from_str(r#"{"message":"hi"}"#).unwrap();
    assert_eq!(back, req);
}

#[test]
fn seed_style_chat_request_parses() {
    let body = r#"{"system_id":"drillquiz","user_id":"12345","message":"Hello",
                   "conversation_id":null,"inputs":{"language":"en"},"future_field":1}"#;
    let req: ChatRequest = serde_json::from_str(body).unwrap();
    assert_eq!(req.system_id.as_deref(), Some("drillquiz"));
    assert_eq!(req.conversation_id, None);
    assert!(!req.stream);
}

#[test]
fn stream_events_round_trip_with_type_tag() {
    let events = vec![
        StreamEvent::Start {
            conversation_id: "c".into(),
            user_message_id: "u".into(),
            message_id: "m".into(),
        },
        StreamEvent::Delta {
            text: "한국어 😀".into(),
        },
        StreamEvent::Replace { text: "x".into() },
        StreamEvent::End {
            conversation_id: "c".into(),
            message_id: "m".into(),
            user_message_id: "u".into(),
            usage: Some(Usage {
                prompt_tokens: 1,
                completion_tokens: 2,
                total_tokens: 3,
            }),
            html: None,
        },
        StreamEvent::Error {
            code: ErrorCode::UpstreamError,
            message: "boom".into(),
            status: 502,
        },
    ];
    for ev in events {
        let json = serde_json::to_string(&ev).unwrap();
        assert!(
            json.contains(&format!(r#""type":"{}""#, ev.name())),
            "{json}"
        );
        let back: StreamEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ev);
    }
}

#[test]
fn timestamps_carry_an_offset() {
    let m = Message {
        id: "m".into(),
        conversation_id: "c".into(),
        role: Role::Assistant,
        content: "x".into(),
        status: MessageStatus::Incomplete,
        created_at: datetime!(2026-11-21 10:14:03.12 UTC),
        html: None,
        feedback: None,
    };
    let json = serde_json::to_string(&m).unwrap();
    assert!(
        json.contains(r#""created_at":"2026-11-21T10:14:03.12Z""#),
        "{json}"
    );
    assert!(json.contains(r#""status":"incomplete""#));
}

#[test]
fn websocket_frames_wrap_the_stream_events() {
    let end = StreamEvent::End {
        conversation_id: "c".into(),
        message_id: "m".into(),
        user_message_id: "u".into(),
        usage: None,
        html: None,
    };
    let frame = ServerFrame::from(end.clone());
    assert!(frame.is_terminal());
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        serde_json::json!({"type": "end",
                           "data": {"conversation_id": "c", "message_id": "m", "user_message_id": "u"}})
    );
    assert_eq!(frame.into_stream_event(), Some(end));

    let refused: ServerFrame = serde_json::from_str(
        r#"{"type":"error","data":{"code":"busy","message":"wait","status":409}}"#,
    )
    .unwrap();
    assert!(matches!(
        refused,
        ServerFrame::Error {
            code: ErrorCode::Busy,
            status: 409,
            conversation_id: None,
            ..
        }
    ));
    assert_eq!(ServerFrame::Pong.into_stream_event(), None);
    assert_eq!(
        serde_json::to_string(&ClientFrame::Stop).unwrap(),
        r#"{"type":"stop"}"#
    );
    let start: ClientFrame =
        serde_json::from_str(r#"{"type":"start_conversation","data":{"agent":"tutor"}}"#).unwrap();
    assert_eq!(
        start,
        ClientFrame::StartConversation {
            title: None,
            agent: Some("tutor".into())
        }
    );
}

#[test]
fn feedback_is_left_out_until_given_and_read_back_when_given() {
    let plain = r#"{"id":"m","conversation_id":"c","role":"assistant","content":"x","status":"complete","created_at":"2026-11-21T10:14:03Z"}"#;
    let m: Message = serde_json::from_str(plain).unwrap();
    assert_eq!(m.feedback, None);
    assert!(!serde_json::to_string(&m).unwrap().contains("feedback"));
    let rated = r#"{"id":"m","conversation_id":"c","role":"assistant","content":"x","status":"complete","created_at":"2026-11-21T10:14:03Z","feedback":{"rating":"dislike","comment":"wrong year","updated_at":"2026-11-21T10:15:00Z"}}"#;
    let m: Message = serde_json::from_str(rated).unwrap();
    let feedback = m.feedback.unwrap();
    assert_eq!(feedback.rating, crate::Rating::Dislike);
    assert_eq!(feedback.comment.as_deref(), Some("wrong year"));
}
