//! Reading the SDK's wire types from [`Json`] by hand, so that `serde` stays
//! out of the wasm. The SDK's types stay the one definition of the format:
//! the tests below feed these readers what `serde` writes for those types,
//! so a renamed or added field fails them.

use sdk::{ChatTokenResponse, UiTexts};

use super::TokenError;
use crate::json::Json;

/// A `/v1/chat-token` body (`token`, optional `expires_at` and `ui`), read
/// as `serde` reads [`ChatTokenResponse`]: unknown members are ignored and a
/// `null` optional member counts as absent.
pub(super) fn chat_token_response(body: &Json) -> Result<ChatTokenResponse, TokenError> {
    let token = match body.get("token") {
        None => return Err(TokenError::NoToken),
        Some(token) => token
            .as_str()
            .ok_or_else(|| not_a("token", "string"))?
            .to_owned(),
    };
    let expires_at = match body.get("expires_at") {
        None | Some(Json::Null) => None,
        Some(n) => Some(
            n.as_i64()
                .ok_or_else(|| not_a("expires_at", "whole number"))?,
        ),
    };
    let ui = match body.get("ui") {
        None | Some(Json::Null) => None,
        Some(ui) => Some(ui_texts(ui)?),
    };
    Ok(ChatTokenResponse {
        token,
        expires_at,
        ui,
    })
}

/// The `ui` object: [`UiTexts`], every text required.
fn ui_texts(ui: &Json) -> Result<UiTexts, TokenError> {
    let text = |key: &'static str| {
        ui.get(key)
            .and_then(Json::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_a(key, "string in ui"))
    };
    Ok(UiTexts {
        title: text("title")?,
        close: text("close")?,
        open: text("open")?,
        token_error: text("tokenError")?,
        loading: text("loading")?,
    })
}

/// `error.message` of the gateway's error body ([`sdk::ErrorBody`]).
pub(super) fn error_message(body: &Json) -> Option<&str> {
    body.get("error")?.get("message")?.as_str()
}

/// `detail`: the seed gateway's error body (also in the gateway's).
pub(super) fn error_detail(body: &Json) -> Option<&str> {
    body.get("detail")?.as_str()
}

fn not_a(key: &str, what: &str) -> TokenError {
    TokenError::Decode(format!("{key} is not a {what}"))
}

#[cfg(test)]
mod tests {
    use sdk::{ErrorBody, ErrorCode, Lang};
    use serde_json::json;

    use super::*;

    /// What `serde` writes for the SDK's type, as the browser would hand it over.
    fn wire(value: &impl serde::Serialize) -> Json {
        Json::from(serde_json::to_value(value).unwrap())
    }

    #[test]
    fn reads_every_field_serde_writes() {
        for lang in Lang::ALL {
            let full = ChatTokenResponse {
                token: "a.b.c".into(),
                expires_at: Some(1_900_000_000),
                ui: Some(UiTexts::for_lang(lang)),
            };
            assert_eq!(chat_token_response(&wire(&full)), Ok(full));
        }
        let bare = ChatTokenResponse {
            token: "t".into(),
            expires_at: None,
            ui: None,
        };
        assert_eq!(chat_token_response(&wire(&bare)), Ok(bare));
    }

    #[test]
    fn accepts_and_refuses_what_serde_does() {
        let read = |v: serde_json::Value| {
            let ours = chat_token_response(&Json::from(v.clone()));
            let serde = serde_json::from_value::<ChatTokenResponse>(v);
            assert_eq!(ours.is_ok(), serde.is_ok(), "{ours:?} vs {serde:?}");
            ours
        };
        read(json!({"token": "t", "expires_at": null, "ui": null, "extra": [1]})).unwrap();
        assert_eq!(read(json!({})), Err(TokenError::NoToken));
        assert!(read(json!({"token": 5})).is_err());
        assert!(read(json!({"token": "t", "expires_at": "soon"})).is_err());
        assert!(read(json!({"token": "t", "expires_at": 1.5})).is_err());
        assert!(read(json!({"token": "t", "ui": {"title": "only"}})).is_err());
    }

    #[test]
    fn reads_the_gateways_error_body() {
        let body = wire(&ErrorBody::new(ErrorCode::TokenExpired, "Token expired"));
        assert_eq!(error_message(&body), Some("Token expired"));
        assert_eq!(error_detail(&body), Some("Token expired"));
    }
}
