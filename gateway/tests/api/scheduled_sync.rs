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
