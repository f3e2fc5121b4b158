//! `CHAT_GATEWAY_SYNC_EVERY`: the gateway imports upstream history by
//! itself, with no request asking for it.

use std::time::Duration;

use gateway::identity::Identity;

use crate::support::{Gateway, Upstream};

#[tokio::test]
async fn history_made_upstream_appears_without_a_sync_request() {
    let gw = Gateway::with(
        Upstream::Dify(testkit::fake_dify::FakeOptions::default()),
        &[("CHAT_GATEWAY_SYNC_EVERY", "1s")],
    )
    .await;
    // The user opens the chat page once (so the gateway knows them), then
    // talks to the app somewhere else.
    let token = gw.token("shop", "ada");
    let page = gw
        .get(&format!("/chat?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let upstream_user = Identity::parse("shop", "ada").unwrap().upstream_user();
    gw.fake
        .add_conversation(&upstream_user, "Made elsewhere", &[("Hi", "Hello")]);

    // Rounds start every second; a loaded machine may take a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let titles: Vec<String> = gw
            .conversations("shop", "ada")
            .await
            .into_iter()
            .map(|c| c.name)
            .collect();
        if titles == ["Made elsewhere"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not imported by the schedule: {titles:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn metrics_show_the_scheduled_sync() {
    let mut gw = Gateway::with(
        Upstream::Dify(testkit::fake_dify::FakeOptions::default()),
        &[("CHAT_GATEWAY_SYNC_EVERY", "1s")],
    )
    .await;
    let token = gw.token("shop", "grace");
    let page = gw
        .get(&format!("/chat?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let upstream_user = Identity::parse("shop", "grace").unwrap().upstream_user();
    gw.fake
        .add_conversation(&upstream_user, "Made elsewhere", &[("Hi", "Hello")]);

    // A round that imported the conversation shows in /metrics.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let text = gw
            .get("/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let value = |kind: &str| -> f64 {
            let prefix = format!("chat_gateway_scheduled_sync{{kind=\"{kind}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(-1.0)
        };
        if value("rounds_run") >= 1.0 && value("total_messages") >= 2.0 {
            assert!(value("last_started") > 1.7e9, "{text}");
            assert!(value("last_duration_seconds") >= 0.0, "{text}");
            assert_eq!(value("last_errors"), 0.0, "{text}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no imported round in /metrics:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    gw.stop().await;
}
