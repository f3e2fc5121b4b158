//! Unit tests of token answers, refresh schedule and URLs.

use super::*;

/// A token source's answer, written as JSON.
macro_rules! json {
    ($($t:tt)+) => {
        Json::from(serde_json::json!($($t)+))
    };
}

const GW: Option<&str> = Some("http://127.0.0.1:8088");

fn jwt_with(claims: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(claims))
}

#[test]
fn gateway_style_answer_with_ui() {
    let g = grant_from_answer(
        json!({"token": "a.b.c", "expires_at": 1_900_000_000,
               "ui": {"title": "채팅", "close": "닫기", "open": "채팅 열기",
                      "tokenError": "x", "loading": "y"}}),
        GW,
    )
    .unwrap();
    assert_eq!(g.token, "a.b.c");
    assert_eq!(g.base, "http://127.0.0.1:8088");
    assert_eq!(g.origin(), "http://127.0.0.1:8088");
    assert_eq!(g.ui.unwrap().title, "채팅");
}

#[test]
fn missing_expiry_comes_from_the_jwt() {
    let token = jwt_with(r#"{"system_id":"demo","user_id":"u","exp":1900000123}"#);
    let g = grant_from_answer(json!({ "token": token }), GW).unwrap();
    assert_eq!(g.expires_at, 1_900_000_123);
    let bare = grant_from_answer(Json::String(token), GW).unwrap();
    assert_eq!(bare.expires_at, 1_900_000_123);
    let opaque = grant_from_answer(json!("opaque-token"), GW).unwrap();
    assert_eq!(opaque.expires_at, 0);
}

#[test]
fn chat_url_answer_names_its_gateway() {
    let g = grant_from_answer(
        json!({"url": "https://GW.example.com/tenant/chat?token=abc.def&embed=1"}),
        GW,
    )
    .unwrap();
    assert_eq!(g.base, "https://GW.example.com/tenant");
    assert_eq!(g.origin(), "https://gw.example.com");
    assert_eq!(g.token, "abc.def");
}

#[test]
fn answers_without_a_token_are_errors() {
    assert_eq!(grant_from_answer(json!({}), GW), Err(TokenError::NoToken));
    assert_eq!(
        grant_from_answer(json!({"token": "  "}), GW),
        Err(TokenError::NoToken)
    );
    assert_eq!(
        grant_from_answer(json!({"url": "https://gw/chat?embed=1"}), GW),
        Err(TokenError::NoToken)
    );
    assert!(matches!(
        grant_from_answer(json!([1]), GW),
        Err(TokenError::Decode(m)) if m.contains("an array")
    ));
    assert!(matches!(
        grant_from_body("<html>oops</html>", GW),
        Err(TokenError::Decode(m)) if m.starts_with("not JSON")
    ));
}

#[test]
fn a_bare_token_needs_a_configured_gateway() {
    assert_eq!(
        grant_from_answer(json!({"token": "t"}), None),
        Err(TokenError::NoGateway)
    );
    assert_eq!(
        grant_from_answer(json!("t"), None),
        Err(TokenError::NoGateway)
    );
}

#[test]
fn chat_links_must_point_at_the_chat_page() {
    let err = split_chat_url("https://gw/login?token=secret").unwrap_err();
    assert_eq!(err, TokenError::BadChatUrl("https://gw/login?…".into()));
    assert!(!err.to_string().contains("secret"));
    assert!(split_chat_url("/chat?token=t").is_err());
    assert!(split_chat_url("https://gw/chat").is_err());
    let (base, token) = split_chat_url("http://h:1/chat/?lang=ko&token=x#top").unwrap();
    assert_eq!((base.as_str(), token.as_str()), ("http://h:1", "x"));
}

#[test]
fn error_bodies_of_both_gateways_are_read() {
    let seed = error_from_response(401, r#"{"detail":"API key required"}"#);
    assert_eq!(
        seed,
        TokenError::Http {
            status: 401,
            message: "API key required".into()
        }
    );
    let text = error_from_response(502, "Bad Gateway");
    assert_eq!(text.to_string(), "HTTP 502: Bad Gateway");
    let html = error_from_response(500, "<!doctype html><p>boom</p>");
    assert_eq!(html.to_string(), "HTTP 500: request failed");
}

#[test]
fn refresh_is_scheduled_before_expiry() {
    let now = 1_700_000_000_000.0;
    let exp = |secs: i64| 1_700_000_000 + secs;
    // one hour: a tenth of it is 6 min, capped to 5 min
    assert_eq!(
        refresh_at(now, exp(3600)),
        Some(now + 3_600_000.0 - 300_000.0)
    );
    // ten minutes: a tenth (60 s)
    assert_eq!(refresh_at(now, exp(600)), Some(now + 540_000.0));
    // one minute: at least 10 s early
    assert_eq!(refresh_at(now, exp(60)), Some(now + 50_000.0));
    // already expired by our clock: not sooner than the floor
    assert_eq!(refresh_at(now, exp(-3600)), Some(now + MIN_DELAY_MS));
    assert_eq!(refresh_at(now, 0), None);
}

#[test]
fn frame_src_follows_protocol_v1() {
    let g = Grant {
        token: "a+b".into(),
        expires_at: 0,
        base: "http://127.0.0.1:8088".into(),
        ui: None,
    };
    let src = frame_src(&g, Lang::Ko, "https://shop.example.com");
    assert_eq!(
        src,
        "http://127.0.0.1:8088/chat?token=a%2Bb&embed=1&lang=ko&parent=https%3A%2F%2Fshop.example.com"
    );
}

#[test]
fn grant_debug_hides_the_token() {
    let g = Grant {
        token: "very-secret".into(),
        expires_at: 1,
        base: "https://gw".into(),
        ui: None,
    };
    assert!(!format!("{g:?}").contains("very-secret"));
}

#[test]
fn the_gateways_error_message_wins_over_detail() {
    let body =
        r#"{"error":{"code":"origin_not_allowed","message":"Origin not allowed"},"detail":"old"}"#;
    assert_eq!(
        error_from_response(403, body),
        TokenError::Http {
            status: 403,
            message: "Origin not allowed".into()
        }
    );
}

#[test]
fn badly_typed_answers_say_which_member() {
    assert_eq!(
        grant_from_answer(json!({"token": "t", "expires_at": "soon"}), GW),
        Err(TokenError::Decode(
            "expires_at is not a whole number".into()
        ))
    );
    assert_eq!(
        grant_from_answer(json!({"url": 3}), GW),
        Err(TokenError::Decode("url is not a string".into()))
    );
}
