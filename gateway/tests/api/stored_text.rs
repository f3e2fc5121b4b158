//! Text the store cannot keep (a NUL character, which PostgreSQL refuses)
//! is a 422 on both stores, and a rename refused that way never reaches the
//! upstream.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway};

use crate::support::{API_KEY, FAKE_KEY, code, json_of};

const OWNER: &str = "system_id=s&user_id=u";

async fn call(gw: &TestGateway, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", gw.url()))
        .header("X-API-Key", API_KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let (status, body) = json_of(req.send().await.unwrap()).await;
    (status.as_u16(), body)
}

/// The conversation names the fake Dify keeps for the user.
async fn upstream_names(gw: &TestGateway) -> Vec<String> {
    let user = gateway::identity::Identity::parse("s", "u")
        .unwrap()
        .upstream_user();
    let listed: Value = reqwest::Client::new()
        .get(format!("{}/v1/conversations", gw.fake_url().unwrap()))
        .query(&[("user", user.as_str()), ("limit", "100")])
        .bearer_auth(FAKE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn nul_is_refused_before_anything_is_changed(gw: &TestGateway) {
    let (status, started) = call(
        gw,
        Method::POST,
        "/v1/chat",
        Some(json!({"system_id": "s", "user_id": "u", "message": "hello"})),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let conversation = started["conversation_id"].as_str().unwrap().to_owned();
    let names = upstream_names(gw).await;
    assert_eq!(names.len(), 1, "the fake Dify keeps the conversation");

    let owner = json!({"system_id": "s", "user_id": "u"});
    let with = |extra: Value| {
        let mut body = owner.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/chat".into(),
            Some(with(json!({"message": "a\u{0}b"}))),
        ),
        (
            Method::POST,
            "/v1/chat".into(),
            Some(with(
                json!({"message": "hi", "conversation_id": format!("{conversation}\u{0}")}),
            )),
        ),
        (
            Method::POST,
            "/v1/chat".into(),
            Some(with(json!({
                "message": "hi",
                "conversation_id": conversation,
                "retry_message_id": "m\u{0}",
            }))),
        ),
        (
            Method::PATCH,
            format!("/v1/conversations/{conversation}"),
            Some(with(json!({"name": "re\u{0}named"}))),
        ),
        (
            Method::GET,
            format!("/v1/conversations?{OWNER}&before=%00"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/conversations/{conversation}/messages?{OWNER}&before=%00"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/conversations/a%00b/messages?{OWNER}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/conversations/a%00b?{OWNER}"),
            None,
        ),
        (
            Method::GET,
            "/v1/cache/conversations?user_id=u%00".into(),
            None,
        ),
        (
            Method::GET,
            "/v1/cache/conversations?before=%00".into(),
            None,
        ),
        (
            Method::GET,
            format!("/v1/cache/conversations/{conversation}/messages?before=%00"),
            None,
        ),
    ];
    for (method, path, body) in cases {
        let (status, answer) = call(gw, method.clone(), &path, body.clone()).await;
        assert_eq!(
            (status, code(&answer)),
            (422, "validation_failed"),
            "{method} {path} {body:?}: {answer}"
        );
    }
    assert_eq!(upstream_names(gw).await, names, "nothing renamed upstream");
    let (status, listed) = call(
        gw,
        Method::GET,
        &format!("/v1/conversations/{conversation}/messages?{OWNER}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "only the first turn is stored: {listed}"
    );
}

#[tokio::test]
async fn nul_characters_are_refused_on_sqlite() {
    let gw = TestGateway::builder()
        .api_key(API_KEY)
        .start()
        .await
        .unwrap();
    nul_is_refused_before_anything_is_changed(&gw).await;
}

#[tokio::test]
async fn nul_characters_are_refused_on_postgres() {
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let gw = TestGateway::builder()
        .api_key(API_KEY)
        .database(Database::Url(postgres.url()))
        .start()
        .await
        .unwrap();
    nul_is_refused_before_anything_is_changed(&gw).await;
}
