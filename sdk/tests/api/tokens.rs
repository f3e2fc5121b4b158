//! Chat tokens both ways: the gateway accepts what the SDK mints, the SDK
//! verifies what the gateway mints, and both refuse the same bad tokens.

use std::time::Duration;

use sdk::jwt::{ChatClaims, JwtError, JwtSecret};
use sdk::{ChatLinks, ChatRequest, Client, Error, ErrorCode, Lang};

use crate::harness::{SECRET, TestGateway};

/// The `token` parameter of a chat URL.
fn token_of(url: &str) -> String {
    let query = url.split_once("/chat?").unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn a_chat_url_from_the_sdk_carries_a_token_the_gateway_accepts() {
    let gw = TestGateway::start().await;
    let links = ChatLinks::builder(&gw.url, JwtSecret::new(SECRET))
        .embed(true)
        .lang(Lang::Ko)
        .build()
        .unwrap();
    let url = links.url_for("CoinTutor", "42").unwrap();
    assert!(url.starts_with(&format!("{}/chat?token=", gw.url)), "{url}");
    assert!(url.ends_with("&embed=1&lang=ko"), "{url}");

    let client = Client::with_bearer_token(&gw.url, token_of(&url)).unwrap();
    let reply = client.me().chat(ChatRequest::new("hi")).await.unwrap();
    // The gateway stores the system id lower-cased.
    let theirs = gw.client().user("cointutor", "42");
    assert_eq!(
        theirs.conversations().await.unwrap()[0].id,
        reply.conversation_id
    );
    assert_eq!(client.sync_me().await.unwrap().errors, Vec::<String>::new());
}

#[tokio::test]
async fn a_token_from_the_gateway_verifies_with_chat_links() {
    let gw = TestGateway::start().await;
    let minted = gw
        .client()
        .chat_token("drillquiz", "12345", Some(Lang::Ja))
        .await
        .unwrap();

    let claims = gw.links().verify(&minted.token).unwrap();
    assert_eq!(claims.system_id, "drillquiz");
    assert_eq!(claims.user_id, "12345");
    assert_eq!(Some(claims.exp), minted.expires_at);
    // Written out, not taken from the code the gateway serves them from.
    let ui = minted.ui.expect("lang=ja asks for the widget's texts");
    assert_eq!(
        [ui.title, ui.close, ui.open, ui.token_error, ui.loading],
        [
            "チャット",
            "閉じる",
            "チャットを開く",
            "チャットトークンを読み込めませんでした。",
            "読み込み中...",
        ]
    );
    assert_eq!(
        gw.client()
            .chat_token("drillquiz", "12345", None)
            .await
            .unwrap()
            .ui,
        None
    );

    // And it works as the user's bearer token.
    let me = Client::with_bearer_token(&gw.url, &minted.token)
        .unwrap()
        .me();
    assert!(me.conversations().await.unwrap().is_empty());

    // A backend with another secret refuses it.
    let other = ChatLinks::new(&gw.url, JwtSecret::new("another-secret-another-secret")).unwrap();
    assert_eq!(other.verify(&minted.token), Err(JwtError::BadSignature));
}

#[tokio::test]
async fn issuer_and_audience_must_agree_on_both_sides() {
    let gw = TestGateway::start_with(&[
        ("CHAT_GATEWAY_JWT_ISSUER", "cointutor-backend"),
        ("CHAT_GATEWAY_JWT_AUDIENCE", "tz-chat"),
    ])
    .await;
    let links = ChatLinks::builder(&gw.url, JwtSecret::new(SECRET))
        .issuer("cointutor-backend")
        .audience("tz-chat")
        .build()
        .unwrap();

    let ours = links.token_for("cointutor", "42").unwrap();
    let me = Client::with_bearer_token(&gw.url, ours).unwrap().me();
    assert!(me.conversations().await.unwrap().is_empty());

    let theirs = gw
        .client()
        .chat_token("cointutor", "42", None)
        .await
        .unwrap();
    let claims = links.verify(&theirs.token).unwrap();
    assert_eq!(claims.iss.as_deref(), Some("cointutor-backend"));
    assert_eq!(claims.aud.as_deref(), Some("tz-chat"));

    // A backend that forgot the audience mints tokens the gateway refuses.
    let forgetful = ChatLinks::builder(&gw.url, JwtSecret::new(SECRET))
        .issuer("cointutor-backend")
        .build()
        .unwrap();
    let token = forgetful.token_for("cointutor", "42").unwrap();
    let err = Client::with_bearer_token(&gw.url, token)
        .unwrap()
        .me()
        .conversations()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some(ErrorCode::TokenMalformed));
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_matching_code() {
    let gw = TestGateway::start().await;
    let call = |token: String| {
        let url = gw.url.clone();
        async move {
            Client::with_bearer_token(&url, token)
                .unwrap()
                .me()
                .conversations()
                .await
                .unwrap_err()
        }
    };

    let wrong_secret = ChatLinks::new(&gw.url, JwtSecret::new("not-the-gateways-secret-at-all"))
        .unwrap()
        .token_for("drillquiz", "42")
        .unwrap();
    let err = call(wrong_secret).await;
    assert_eq!(err.code(), Some(ErrorCode::TokenInvalidSignature));
    assert!(err.code().unwrap().is_token_problem());

    let mut claims = ChatClaims::new("drillquiz", "42", Duration::ZERO);
    claims.exp -= 3600;
    let expired = sdk::jwt::mint(&claims, &JwtSecret::new(SECRET)).unwrap();
    let err = call(expired).await;
    assert!(
        matches!(
            &err,
            Error::Api { status: 401, code: ErrorCode::TokenExpired, message, .. } if message == "Token expired"
        ),
        "{err:?}"
    );

    let err = call("not-a-jwt".into()).await;
    assert_eq!(err.code(), Some(ErrorCode::TokenMalformed));
}

#[tokio::test]
async fn chat_token_requests_are_checked() {
    let gw = TestGateway::start_with(&[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    let client = gw.client();

    let err = client.chat_token("drillquiz", "", None).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), Some(ErrorCode::ValidationFailed))
    );
    let err = client.chat_token("other", "1", None).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some(ErrorCode::SystemNotAllowed))
    );
    // The allowlist applies to tokens minted elsewhere too.
    let err = gw
        .user_client("other", "1")
        .me()
        .conversations()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::SystemNotAllowed));
    assert!(client.chat_token("drillquiz", "1", None).await.is_ok());
}

#[test]
fn link_failures_convert_into_the_client_error() {
    // One error type for a handler that mints and calls.
    fn mint(links: &ChatLinks) -> Result<String, Error> {
        Ok(links.url_for("cointutor", "42")?)
    }
    let links = ChatLinks::new("http://127.0.0.1:1", JwtSecret::new(SECRET)).unwrap();
    assert!(mint(&links).is_ok());

    let empty = ChatLinks::new("http://127.0.0.1:1", JwtSecret::new(""));
    let err: Error = empty.unwrap_err().into();
    assert!(matches!(err, Error::Jwt(JwtError::Signing(_))), "{err:?}");
    let err: Error = links.token_for("", "42").unwrap_err().into();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
}
