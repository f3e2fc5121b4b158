//! Conversations: listing, paging, rename, delete, sync from the upstream,
//! and the operator cache endpoints.

use serde_json::json;

use crate::support::{API_KEY, Gateway, code, json_of};

async fn new_conversation(gw: &Gateway, user: &str, text: &str) -> String {
    let (status, body) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": user, "message": text}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["conversation_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn listing_is_newest_first_and_pages() {
    let gw = Gateway::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(new_conversation(&gw, "p", &format!("topic {i}")).await);
    }
    let all = gw.conversations("drillquiz", "p").await;
    let names: Vec<_> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["topic 4", "topic 3", "topic 2", "topic 1", "topic 0"]
    );
    let resp = gw
        .get(&format!(
            "/v1/conversations?system_id=drillquiz&user_id=p&limit=2&before={}",
            all[1].id
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let page: Vec<sdk::Conversation> = resp.json().await.unwrap();
    assert_eq!(
        page.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["topic 2", "topic 1"]
    );
    assert!(
        gw.conversations("drillquiz", "someone-else")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn messages_can_be_rendered_to_html() {
    let gw = Gateway::start().await;
    let id = new_conversation(&gw, "h", "**bold** <script>alert(1)</script>").await;
    let resp = gw
        .get(&format!(
            "/v1/conversations/{id}/messages?system_id=drillquiz&user_id=h&html=true"
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let messages: Vec<sdk::Message> = resp.json().await.unwrap();
    assert!(messages[0].html.is_none(), "user messages are text");
    let html = messages[1].html.as_deref().unwrap();
    assert!(
        html.contains("<strong>bold</strong>") && !html.contains("<script"),
        "{html}"
    );
}

#[tokio::test]
async fn rename_changes_our_title_and_the_upstream_name() {
    let gw = Gateway::start().await;
    let id = new_conversation(&gw, "r", "first question").await;
    let resp = gw
        .http
        .patch(format!("{}/v1/conversations/{id}", gw.url))
        .header("X-API-Key", API_KEY)
        .json(&json!({"name": "  Exam prep  ", "system_id": "drillquiz", "user_id": "r"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Exam prep");
    assert_eq!(
        gw.conversations("drillquiz", "r").await[0].name,
        "Exam prep"
    );
    let upstream: serde_json::Value = gw
        .http
        .get(format!("{}/v1/conversations?user=drillquiz_r", gw.fake_url))
        .bearer_auth(crate::support::FAKE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(upstream["data"][0]["name"], "Exam prep");

    let resp = gw
        .http
        .patch(format!("{}/v1/conversations/{id}", gw.url))
        .header("X-API-Key", API_KEY)
        .json(&json!({"name": " ", "system_id": "drillquiz", "user_id": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn delete_removes_the_conversation_here_and_upstream() {
    let gw = Gateway::start().await;
    let keep = new_conversation(&gw, "d", "keep me").await;
    let gone = new_conversation(&gw, "d", "delete me").await;
    let bearer = format!("Bearer {}", gw.token("drillquiz", "d"));
    let del = |id: String| {
        gw.http
            .delete(format!("{}/v1/conversations/{id}", gw.url))
            .header("Authorization", bearer.clone())
            .send()
    };
    let resp = del(gone.clone()).await.unwrap();
    assert_eq!(resp.status(), 204);
    let left = gw.conversations("drillquiz", "d").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, keep);
    assert_eq!(gw.fake.conversation_count("drillquiz_d"), 1);
    let resp = gw
        .get(&format!("/v1/conversations/{gone}/messages"))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (status, body) = json_of(del(gone).await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (404, "conversation_not_found")
    );
    // Another user cannot delete it.
    let other = format!("Bearer {}", gw.token("drillquiz", "intruder"));
    let resp = gw
        .http
        .delete(format!("{}/v1/conversations/{keep}", gw.url))
        .header("Authorization", other)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(gw.conversations("drillquiz", "d").await.len(), 1);
}

#[tokio::test]
async fn sync_imports_upstream_history_once() {
    let gw = Gateway::start().await;
    let long: Vec<(String, String)> = (0..150)
        .map(|i| (format!("q{i}"), format!("a{i}")))
        .collect();
    let long_refs: Vec<(&str, &str)> = long.iter().map(|(q, a)| (q.as_str(), a.as_str())).collect();
    gw.fake.add_conversation(
        "drillquiz_7",
        "Old chat",
        &[("What is Rust?", "A language.")],
    );
    gw.fake
        .add_conversation("drillquiz_7", "Long chat", &long_refs);

    // The user syncs with their chat token (as the seed's /v1/sync/me?token=).
    let token = gw.token("drillquiz", "7");
    let resp = gw
        .post(&format!("/v1/sync/me?token={token}"))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversations_synced"], 2);
    assert_eq!(body["messages_synced"], 302);

    let listed = gw.conversations("drillquiz", "7").await;
    let long_chat = listed.iter().find(|c| c.name == "Long chat").unwrap();
    let resp = gw
        .get(&format!(
            "/v1/conversations/{}/messages?system_id=drillquiz&user_id=7&limit=500",
            long_chat.id
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let messages: Vec<sdk::Message> = resp.json().await.unwrap();
    assert_eq!(messages.len(), 300, "every page of the upstream was read");
    assert_eq!(messages[0].content, "q0");
    assert_eq!(messages[299].content, "a149");

    // Operators sync everyone; nothing is imported twice.
    let (status, body) = json_of(
        gw.post("/v1/sync")
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"conversations_synced": 0, "messages_synced": 0, "errors": []})
    );

    // The imported conversation continues upstream.
    let (status, reply) = gw
        .chat(
            json!({"system_id": "drillquiz", "user_id": "7", "message": "More?",
                     "conversation_id": long_chat.id}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(gw.fake.chats().last().unwrap().conversation_id.is_some());

    let resp = gw.post("/v1/sync").send().await.unwrap();
    assert_eq!(resp.status(), 401, "sync needs an API key");
}

#[tokio::test]
async fn operators_search_the_stored_history() {
    let gw = Gateway::start().await;
    new_conversation(&gw, "op1", "first").await;
    let second = new_conversation(&gw, "op2", "second").await;
    let search = |query: &'static str| {
        gw.get(&format!("/v1/cache/conversations?{query}"))
            .header("X-API-Key", API_KEY)
            .send()
    };
    let all: Vec<sdk::Conversation> = search("system_id=drillquiz")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|c| c.user_id.as_str()).collect::<Vec<_>>(),
        ["op2", "op1"]
    );
    let one: Vec<sdk::Conversation> = search("system_id=DrillQuiz&user_id=op1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    // The days the rows were written on, taken from the rows themselves:
    // "today" read from the clock would be the next day after midnight.
    let first_day = all.iter().map(|c| c.created_at.date()).min().unwrap();
    let last_day = all.iter().map(|c| c.created_at.date()).max().unwrap();
    let day_before = first_day.previous_day().unwrap();
    let path = format!(
        "/v1/cache/conversations?system_id=drillquiz&from_date={first_day}&to_date={last_day}"
    );
    let in_range: Vec<sdk::Conversation> = gw
        .get(&path)
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(in_range.len(), 2, "to_date includes the whole day");
    let path = format!("/v1/cache/conversations?to_date={day_before}");
    let none: Vec<sdk::Conversation> = gw
        .get(&path)
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());
    let (status, err) = json_of(search("from_date=21/11/2026").await.unwrap()).await;
    assert_eq!((status.as_u16(), code(&err)), (422, "validation_failed"));

    let resp = gw
        .get(&format!("/v1/cache/conversations/{second}/messages"))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let messages: Vec<sdk::Message> = resp.json().await.unwrap();
    assert_eq!(messages.len(), 2);

    let bearer = format!("Bearer {}", gw.token("drillquiz", "op1"));
    let resp = gw
        .get("/v1/cache/conversations")
        .header("Authorization", bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a chat token is not an operator key");
}
