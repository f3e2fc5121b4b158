//! Daily token budgets, counted from the usage the upstream reports: a user
//! or system over budget gets 429 `budget_exhausted` until UTC midnight,
//! before anything is stored or sent upstream.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, Upstream, code, json_of};

fn body(user: &str, message: &str) -> Value {
    json!({"system_id": "drillquiz", "user_id": user, "message": message})
}

/// Seconds from now to the next UTC midnight.
fn to_midnight() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    86_400 - now % 86_400
}

async fn refused(gw: &Gateway, body: Value) -> Value {
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Within a few seconds of midnight (the clock moved while asking).
    let expected = to_midnight();
    assert!(
        retry.abs_diff(expected) <= 5 || retry.abs_diff(expected + 86_400) <= 5,
        "Retry-After {retry}, midnight in {expected}"
    );
    let (status, error) = json_of(resp).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&error), "budget_exhausted", "{error}");
    error
}

#[tokio::test]
async fn a_user_over_the_daily_budget_waits_until_midnight() {
    // Each fake Dify answer ("Echo: …") reports a few tokens: the first
    // turn fits in 5, the second starts over it.
    let gw = Gateway::with(
        Upstream::Dify(Default::default()),
        &[("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_USER", "5")],
    )
    .await;
    let (status, first) = gw.chat(body("alice", "one two three")).await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first["usage"]["total_tokens"].as_u64().unwrap() >= 5,
        "{first}"
    );
    let chats = gw.fake.chats().len();
    refused(&gw, body("alice", "again")).await;
    // Streamed, too: refused before the stream starts.
    let mut streamed = body("alice", "again");
    streamed["stream"] = json!(true);
    refused(&gw, streamed).await;
    assert_eq!(gw.fake.chats().len(), chats, "nothing reached the upstream");
    assert_eq!(
        gw.messages(
            "drillquiz",
            "alice",
            first["conversation_id"].as_str().unwrap()
        )
        .await
        .len(),
        2
    );
    // Another user has a budget of their own.
    assert_eq!(gw.chat(body("bob", "hi")).await.0, 200);
}

#[tokio::test]
async fn a_system_budget_is_shared_by_its_users() {
    const BUDGET: u64 = 20;
    let gw = Gateway::with(
        Upstream::Dify(Default::default()),
        &[("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_SYSTEM", "20")],
    )
    .await;
    // Turns of ever new users, streamed and blocking, until the system's
    // reported use reaches the budget: each is admitted while under it.
    let mut used = 0;
    let mut turns = 0;
    while used < BUDGET {
        let user = format!("u{turns}");
        let usage = if turns % 2 == 0 {
            let mut streamed = body(&user, "one two three");
            streamed["stream"] = json!(true);
            match gw.stream(streamed).await.last() {
                Some(sdk::StreamEvent::End { usage: Some(u), .. }) => u.total_tokens,
                other => panic!("{other:?}"),
            }
        } else {
            let (status, reply) = gw.chat(body(&user, "one two three")).await;
            assert_eq!(status, 200, "{reply}");
            reply["usage"]["total_tokens"].as_u64().unwrap()
        };
        assert!(usage > 0);
        used += usage;
        turns += 1;
    }
    assert!(turns >= 2, "the budget spans several users' turns");
    let error = refused(&gw, body("newcomer", "hi")).await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("system"),
        "{error}"
    );
    let other = json!({"system_id": "other-app", "user_id": "u1", "message": "hi"});
    assert_eq!(
        gw.chat(other).await.0,
        200,
        "other systems are not held back"
    );
}
