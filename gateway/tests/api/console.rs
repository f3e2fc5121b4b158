//! The console's data API: search in Korean, Japanese and English over
//! real turns (blocking and streamed), the transcript with its metrics and
//! highlights, exports equal to the listing, and the usage totals.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, code, json_of};

async fn admin(gw: &Gateway, path: &str) -> (reqwest::StatusCode, Value) {
    json_of(
        gw.get(path)
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn text(gw: &Gateway, path: &str) -> (reqwest::StatusCode, String, String) {
    let resp = gw
        .get(path)
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, resp.text().await.unwrap())
}

fn ids(listing: &Value) -> Vec<String> {
    listing["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn operators_find_read_export_and_chart_conversations() {
    let gw = Gateway::start().await;
    let (status, ko) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": "ko", "message": "서울 날씨 알려줘"}))
        .await;
    assert_eq!(status, 200, "{ko}");
    let ko = ko["conversation_id"].as_str().unwrap().to_owned();
    let events = gw
        .stream(json!({"system_id": "drillquiz", "user_id": "ja", "message": "東京の天気を教えて"}))
        .await;
    let ja = events
        .iter()
        .find_map(|e| match e {
            sdk::StreamEvent::Start {
                conversation_id, ..
            } => Some(conversation_id.clone()),
            _ => None,
        })
        .unwrap();
    let (status, _) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": "en", "message": "reset my password"}))
        .await;
    assert_eq!(status, 200);

    // Only the API key gets in (until operator sessions exist).
    let resp = gw.get("/v1/admin/conversations").send().await.unwrap();
    assert_eq!(resp.status(), 401);

    let (status, all) = admin(&gw, "/v1/admin/conversations?system=drillquiz").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 3);
    assert_eq!(ids(&all).len(), 3);

    // Search: a two-character Korean word, a Japanese one, any-case English.
    let (_, found) = admin(&gw, "/v1/admin/conversations?q=%EB%82%A0%EC%94%A8").await;
    assert_eq!(ids(&found), [ko.as_str()], "날씨");
    assert!(
        found["conversations"][0]["hit"]["snippet"]
            .as_str()
            .unwrap()
            .contains("날씨")
    );
    let (_, found) = admin(&gw, "/v1/admin/conversations?q=%E5%A4%A9%E6%B0%97").await;
    assert_eq!(ids(&found), [ja.as_str()], "天気");
    let (_, found) = admin(&gw, "/v1/admin/conversations?q=PASSWORD&user=en").await;
    assert_eq!(found["total"], 1);
    let (_, found) = admin(&gw, "/v1/admin/conversations?q=password&user=ko").await;
    assert_eq!(found["total"], 0);

    // Bad filters get the one error shape.
    let (status, err) = admin(&gw, "/v1/admin/conversations?status=lost").await;
    assert_eq!((status.as_u16(), code(&err)), (422, "validation_failed"));
    let (status, err) = admin(&gw, "/v1/admin/conversations?from=yesterday").await;
    assert_eq!((status.as_u16(), code(&err)), (422, "validation_failed"));

    // The transcript: metrics measured at turn time, highlights, markdown.
    let (status, t) = admin(
        &gw,
        &format!("/v1/admin/conversations/{ja}?q=%E5%A4%A9%E6%B0%97"),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let messages = t["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let (question, answer) = (&messages[0], &messages[1]);
    assert_eq!(question["role"], "user");
    assert!(question["latency_ms"].is_null());
    assert_eq!(
        question["highlights"],
        json!([[3, 5]]),
        "東京の|天気|を教えて"
    );
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["status"], "complete");
    assert!(answer["latency_ms"].as_u64().is_some(), "{answer}");
    assert!(answer["ttft_ms"].as_u64().unwrap() <= answer["latency_ms"].as_u64().unwrap());
    assert!(
        answer["completion_tokens"].as_u64().unwrap() > 0,
        "the fake reports usage"
    );
    assert!(answer["html"].as_str().unwrap().contains("天気"));
    assert!(!answer["highlights"].as_array().unwrap().is_empty());
    let (_, blocking) = admin(&gw, &format!("/v1/admin/conversations/{ko}")).await;
    assert!(blocking["messages"][1]["latency_ms"].as_u64().is_some());
    assert!(
        blocking["messages"][1]["ttft_ms"].is_null(),
        "no first token when blocking"
    );
    let missing = "01890a5d-ac96-774b-bcce-b302099a8057";
    let (status, err) = admin(&gw, &format!("/v1/admin/conversations/{missing}")).await;
    assert_eq!(
        (status.as_u16(), code(&err)),
        (404, "conversation_not_found")
    );

    // The export holds exactly the listing's conversations and messages.
    let (status, kind, jsonl) = text(&gw, "/v1/admin/export?format=jsonl&system=drillquiz").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/x-ndjson");
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let exported: BTreeSet<&str> = lines
        .iter()
        .map(|l| l["conversation_id"].as_str().unwrap())
        .collect();
    let listed = ids(&all);
    let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    assert_eq!(exported, listed);
    let ja_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["conversation_id"] == ja.as_str())
        .collect();
    assert_eq!(ja_lines[0]["content"], question["content"]);
    assert_eq!(ja_lines[1]["content"], answer["content"]);
    assert_eq!(ja_lines[1]["latency_ms"], answer["latency_ms"]);
    let (status, kind, csv) = text(&gw, "/v1/admin/export?format=csv&q=%EB%82%A0%EC%94%A8").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows.len(),
        3,
        "header and the two messages of one conversation"
    );
    assert!(rows[0].starts_with("conversation_id,"));
    assert!(rows[1].starts_with(&ko));
    let (status, err) = admin(&gw, "/v1/admin/export?format=xlsx").await;
    assert_eq!((status.as_u16(), code(&err)), (422, "validation_failed"));

    // Usage: the totals are those of the turns above.
    let (status, usage) = admin(&gw, "/v1/admin/analytics?system=drillquiz").await;
    assert_eq!(status, 200, "{usage}");
    let sum = |field: &str| {
        usage
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("conversations"), 3);
    assert_eq!(sum("messages"), 6);
    assert_eq!(sum("failures"), 0);
    let exported_tokens: u64 = lines
        .iter()
        .filter_map(|l| l["completion_tokens"].as_u64())
        .sum();
    assert_eq!(sum("completion_tokens"), exported_tokens);
    let (status, kind, csv) = text(&gw, "/v1/admin/analytics?system=drillquiz&format=csv").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"));
    assert_eq!(csv.lines().count(), 1 + usage.as_array().unwrap().len());
    let (status, kind, svg) = text(&gw, "/v1/admin/analytics?format=svg").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "image/svg+xml");
    let charted: u64 = svg
        .split("data-value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(charted, 6, "{svg}");
}

/// A page, its attribute escapes (`&#x2f;`, `&amp;`) undone as a browser
/// would.
async fn page(
    gw: &Gateway,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let resp = gw
        .get(path)
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let html = resp.text().await.unwrap();
    (status, headers, html.replace("&#x2f;", "/"))
}

#[tokio::test]
async fn console_pages_render_the_filter_the_transcript_and_the_chart() {
    let gw = Gateway::start().await;
    for (user, text) in [("ko", "서울 날씨 알려줘"), ("en", "hello there")] {
        let (status, _) = gw
            .chat(json!({"system_id": "drillquiz", "user_id": user, "message": text}))
            .await;
        assert_eq!(status, 200);
    }

    let resp = gw.get("/admin/conversations").send().await.unwrap();
    assert_eq!(resp.status(), 401, "the pages need the key too");

    let (status, headers, html) =
        page(&gw, "/admin/conversations?q=%EB%82%A0%EC%94%A8&lang=ko").await;
    assert_eq!(status, 200, "{html}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(html.contains("<html lang=\"ko\">"));
    assert!(html.contains("<h1>"), "a level-one heading");
    assert!(
        html.contains("찾은 대화: <strong id=\"total\">1</strong>"),
        "{html}"
    );
    assert!(html.contains("<mark>날씨</mark>"), "{html}");
    assert!(
        html.contains("href=\"/v1/admin/export?format=csv&amp;q=%EB%82%A0%EC%94%A8&amp;lang=ko\""),
        "{html}"
    );
    assert!(!html.contains("hello there"), "filtered out");
    let href = html
        .split("href=\"/admin/conversations/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");

    let (status, _, transcript) = page(&gw, &format!("/admin/conversations/{href}")).await;
    assert_eq!(status, 200, "{transcript}");
    assert_eq!(
        transcript.matches("<mark>날씨</mark>").count(),
        2,
        "question and answer"
    );
    assert!(transcript.contains("class=\"latency\""), "{transcript}");
    assert!(
        transcript.contains("<div class=\"markdown\"><p>Echo: 서울 <mark>날씨</mark> 알려줘</p>"),
        "{transcript}"
    );

    for lang in ["en", "es", "ko", "zh", "ja"] {
        let (status, _, html) = page(&gw, &format!("/admin/analytics?lang={lang}")).await;
        assert_eq!(status, 200, "{lang}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert!(html.contains("<svg"), "{lang}");
    }
    let (_, _, html) = page(&gw, "/admin/analytics?system=drillquiz&lang=ja").await;
    assert!(html.contains("日別メッセージ"));
    let charted: u64 = html
        .split("data-value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(charted, 4, "two turns of two messages");

    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/cache", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "/admin/conversations");

    let (status, _, _) = page(&gw, "/admin/conversations?status=lost").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn rated_answers_are_filtered_shown_and_exported() {
    let gw = Gateway::start().await;
    let mut conversations = Vec::new();
    for (user, rating) in [("r1", Some("dislike")), ("r2", Some("like")), ("r3", None)] {
        let (status, body) = gw
            .chat(
                json!({"system_id": "drillquiz", "user_id": user, "message": "What is a coupon?"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let conversation = body["conversation_id"].as_str().unwrap().to_owned();
        let answer = gw.messages("drillquiz", user, &conversation).await[1]
            .id
            .clone();
        if let Some(rating) = rating {
            let resp = gw
                .post(&format!("/v1/messages/{answer}/feedback"))
                .bearer_auth(gw.token("drillquiz", user))
                .json(&json!({"rating": rating, "comment": format!("{rating} because")}))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
        }
        conversations.push((conversation, answer));
    }
    let [(disliked, disliked_answer), (liked, _), _] = conversations.try_into().unwrap();

    let (status, found) = admin(&gw, "/v1/admin/conversations?feedback=disliked").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["total"].clone(), ids(&found)),
        (json!(1), vec![disliked.clone()])
    );
    let (_, found) = admin(&gw, "/v1/admin/conversations?feedback=any").await;
    assert_eq!(ids(&found), [liked.clone(), disliked.clone()]);
    let (_, found) = admin(&gw, "/v1/admin/conversations?feedback=liked").await;
    assert_eq!(ids(&found), [liked]);
    let (status, body) = admin(&gw, "/v1/admin/conversations?feedback=loved").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "validation_failed");

    // The transcript: the rating and comment by the answer, none by the question.
    let (_, transcript) = admin(&gw, &format!("/v1/admin/conversations/{disliked}")).await;
    let messages = transcript["messages"].as_array().unwrap();
    assert_eq!(messages[0]["feedback"], Value::Null);
    assert_eq!(messages[1]["feedback"]["rating"], "dislike");
    assert_eq!(messages[1]["feedback"]["comment"], "dislike because");

    // The export of the same filter: a column and a field.
    let (_, _, jsonl) = text(&gw, "/v1/admin/export?format=jsonl&feedback=disliked").await;
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rated: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l["message_id"].as_str().unwrap(),
                l["feedback"].clone(),
                l["feedback_comment"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rated[1],
        (
            disliked_answer.as_str(),
            json!("dislike"),
            json!("dislike because")
        )
    );
    assert_eq!((rated.len(), rated[0].1.clone()), (2, Value::Null));
    let (_, _, csv) = text(&gw, "/v1/admin/export?format=csv&feedback=disliked").await;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let answer_row: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
    assert_eq!(answer_row[at("feedback")], "dislike");
    assert_eq!(answer_row[at("feedback_comment")], "dislike because");
}
