//! Feedback on answers: `POST /v1/messages/{id}/feedback`, listed with the
//! messages, passed to Dify's message feedback API in the background.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, Upstream, code, eventually, json_of};

/// One turn for `drillquiz`/`user`; returns (conversation, user message,
/// assistant message) ids.
async fn turn(gw: &Gateway, user: &str) -> (String, String, String) {
    let (status, body) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": user, "message": "What is a bond?"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let conversation = body["conversation_id"].as_str().unwrap().to_owned();
    let messages = gw.messages("drillquiz", user, &conversation).await;
    assert_eq!(messages.len(), 2);
    (conversation, messages[0].id.clone(), messages[1].id.clone())
}

/// `POST /v1/messages/{id}/feedback` with `user`'s chat token.
async fn rate(gw: &Gateway, user: &str, message: &str, body: Value) -> (StatusCode, Value) {
    let resp = gw
        .post(&format!("/v1/messages/{message}/feedback"))
        .bearer_auth(gw.token("drillquiz", user))
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

#[tokio::test]
async fn feedback_is_stored_listed_and_reaches_dify() {
    let gw = Gateway::start().await;
    let (conversation, _, answer) = turn(&gw, "fb").await;

    let (status, body) = rate(
        &gw,
        "fb",
        &answer,
        json!({"rating": "like", "comment": "  Clear, thanks  "}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message_id"], answer.as_str());
    assert_eq!(body["feedback"]["rating"], "like");
    assert_eq!(body["feedback"]["comment"], "Clear, thanks");

    let messages = gw.messages("drillquiz", "fb", &conversation).await;
    assert_eq!(messages[0].feedback, None, "the question has none");
    let stored = messages[1].feedback.clone().unwrap();
    assert_eq!(stored.rating, sdk::Rating::Like);
    assert_eq!(stored.comment.as_deref(), Some("Clear, thanks"));

    // Dify got it for the same user the turn was sent as, about the answer
    // Dify itself wrote (the fake refuses other users' messages).
    let sent = eventually(|| async { gw.fake.feedback_requests().pop() }).await;
    let chat_user = gw.fake.chats()[0].user.clone();
    assert_eq!(sent.user, chat_user);
    let dify_message = sent.message_id.clone();
    eventually(|| async {
        (gw.fake.feedback_of(&dify_message) == Some(("like".into(), Some("Clear, thanks".into()))))
            .then_some(())
    })
    .await;

    // Changed: the latest wins, here and there.
    let (status, _) = rate(&gw, "fb", &answer, json!({"rating": "dislike"})).await;
    assert_eq!(status, 200);
    let messages = gw.messages("drillquiz", "fb", &conversation).await;
    let latest = messages[1].feedback.clone().unwrap();
    assert_eq!(
        (latest.rating, latest.comment),
        (sdk::Rating::Dislike, None)
    );
    eventually(|| async {
        (gw.fake.feedback_of(&dify_message) == Some(("dislike".into(), None))).then_some(())
    })
    .await;

    // Cleared with null: gone here and there.
    let (status, body) = rate(&gw, "fb", &answer, json!({"rating": null})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["feedback"], Value::Null);
    let messages = gw.messages("drillquiz", "fb", &conversation).await;
    assert_eq!(messages[1].feedback, None);
    eventually(|| async {
        (gw.fake.feedback_requests().last().map(|r| r.rating.clone()) == Some(None)
            && gw.fake.feedback_of(&dify_message).is_none())
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_rates_only_answers() {
    let gw = Gateway::start().await;
    let (_, question, answer) = turn(&gw, "owner").await;

    // Someone else's answer looks exactly like a missing one.
    let (status, theirs) = rate(&gw, "stranger", &answer, json!({"rating": "like"})).await;
    assert_eq!(status, 404, "{theirs}");
    assert_eq!(code(&theirs), "not_found");
    let (status, missing) = rate(
        &gw,
        "owner",
        "0193a5e2-0000-7000-8000-000000000000",
        json!({"rating": "like"}),
    )
    .await;
    assert_eq!(status, 404);
    // The same answer, but for each request's own id.
    let without_id = |mut body: serde_json::Value| {
        body["error"].as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(without_id(theirs), without_id(missing));

    // The user's own message is no answer.
    let (status, body) = rate(&gw, "owner", &question, json!({"rating": "like"})).await;
    assert_eq!((status.as_u16(), code(&body)), (422, "validation_failed"));

    // The rating must be given (null clears), and a comment needs a rating.
    for bad in [
        json!({}),
        json!({"comment": "no rating"}),
        json!({"rating": "love"}),
        json!({"rating": null, "comment": "why"}),
    ] {
        let (status, body) = rate(&gw, "owner", &answer, bad.clone()).await;
        assert_eq!(
            (status.as_u16(), code(&body)),
            (422, "validation_failed"),
            "{bad}"
        );
    }
    let long = "x".repeat(2001);
    let (status, _) = rate(
        &gw,
        "owner",
        &answer,
        json!({"rating": "like", "comment": long}),
    )
    .await;
    assert_eq!(status, 422);

    // Nothing refused was stored, nor sent to Dify.
    assert!(gw.fake.feedback_requests().is_empty());

    // With the API key, the body names the owner.
    let resp = gw
        .post(&format!("/v1/messages/{answer}/feedback"))
        .header("X-API-Key", API_KEY)
        .json(&json!({"rating": "like", "system_id": "drillquiz", "user_id": "stranger"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = gw
        .post(&format!("/v1/messages/{answer}/feedback"))
        .header("X-API-Key", API_KEY)
        .json(&json!({"rating": "like", "system_id": "drillquiz", "user_id": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn dify_failures_are_retried_and_never_fail_the_request() {
    let gw = Gateway::start().await;
    let (_, _, answer) = turn(&gw, "retry").await;
    // More failures than the Dify client's own retries: the background
    // relay tries again later.
    for _ in 0..3 {
        gw.fake.fail_next_feedback(500);
    }
    let (status, body) = rate(&gw, "retry", &answer, json!({"rating": "like"})).await;
    assert_eq!(status, 200, "{body}");
    let requests = eventually(|| async {
        let requests = gw.fake.feedback_requests();
        requests
            .last()
            .is_some_and(|r| gw.fake.feedback_of(&r.message_id).is_some())
            .then_some(requests)
    })
    .await;
    assert!(requests.len() >= 4, "{requests:?}");
}

#[tokio::test]
async fn other_upstreams_keep_feedback_in_the_gateway_only() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let (conversation, _, answer) = turn(&gw, "demo").await;
    let (status, _) = rate(&gw, "demo", &answer, json!({"rating": "dislike"})).await;
    assert_eq!(status, 200);
    let messages = gw.messages("drillquiz", "demo", &conversation).await;
    assert_eq!(
        messages[1].feedback.as_ref().map(|f| f.rating),
        Some(sdk::Rating::Dislike)
    );
}
