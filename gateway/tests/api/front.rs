//! The front page (`/`) against a running gateway: the step-2 snippet is a
//! request that mints a token here, a signed-out page names no system, and
//! the upstream health behind the signed-in page is one round of probes per
//! 30 s (concurrent readers share a round; a catalog change starts a new
//! one).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Request;
use axum::middleware::{self, Next};
use gateway::catalog::Health;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use testkit::{TestGateway, Upstream};

/// The text of the element `id` of an HTML page, entities decoded.
fn element_text(html: &str, id: &str) -> String {
    let open = format!("id=\"{id}\">");
    let start = html.find(&open).map(|i| i + open.len()).unwrap();
    let end = start + html[start..].find("</").unwrap();
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A fake Dify on a free port that counts the requests it gets.
async fn counted_dify() -> (String, Arc<AtomicUsize>) {
    let fake = FakeDify::new(FakeOptions::default());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = fake
        .router()
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, hits)
}

/// A loopback address nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test]
async fn the_step_two_snippet_mints_a_token_at_this_gateway() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .start()
        .await
        .unwrap();
    let page = reqwest::get(format!("{}/?lang=ko", gw.url()))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let snippet = element_text(&html, "snippet-2");

    // The snippet is `curl -H "<header>" "<url>"`: run that request.
    let quoted: Vec<&str> = snippet.split('"').skip(1).step_by(2).collect();
    let (name, value) = quoted[0].split_once(": ").unwrap();
    assert_eq!(name, "X-API-Key", "{snippet}");
    assert_eq!(value, "$CHAT_GATEWAY_API_KEY", "{snippet}");
    let url = quoted[1];
    assert!(url.starts_with(&format!("{}/", gw.url())), "{snippet}");
    let resp = reqwest::Client::new()
        .get(url)
        .header(name, gw.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{snippet}");
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["expires_at"].as_i64().unwrap() > 0, "{body}");

    // The token opens the chat page of step 3.
    let chat = element_text(&html, "snippet-3");
    let link = chat.split('"').nth(1).unwrap().replace("TOKEN", token);
    let opened = reqwest::get(&link).await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK, "{link}");
}

#[tokio::test]
async fn signed_out_the_page_names_no_system_and_probes_nothing() {
    let (dify, hits) = counted_dify().await;
    let down = closed_port().await;
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("DIFY_SECRETSYSTEM_BASE_URL", dify.as_str())
        .env("DIFY_SECRETSYSTEM_API_KEY", "app-fake")
        .env("DIFY_HIDDENSYSTEM_BASE_URL", down.as_str())
        .env("DIFY_HIDDENSYSTEM_API_KEY", "app-fake")
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for extra in [None, Some(("X-API-Key", gw.api_key().to_owned()))] {
        let mut request = client.get(gw.url());
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        let html = request.send().await.unwrap().text().await.unwrap();
        let lower = html.to_lowercase();
        assert!(!lower.contains("secretsystem"), "{html}");
        assert!(!lower.contains("hiddensystem"), "{html}");
        assert!(!html.contains("systems-heading"), "{html}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a visitor made the gateway probe"
    );
}

#[tokio::test]
async fn health_is_one_round_of_probes_until_it_is_stale_or_the_catalog_changes() {
    let (dify, hits) = counted_dify().await;
    let down = closed_port().await;
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("DIFY_UP_BASE_URL", dify.as_str())
        .env("DIFY_UP_API_KEY", "app-fake")
        .env("DIFY_DOWN_BASE_URL", down.as_str())
        .env("DIFY_DOWN_API_KEY", "app-fake")
        .env(
            "CHAT_GATEWAY_SECRET_KEY",
            gateway::sealing::SecretKey::generate(),
        )
        .start()
        .await
        .unwrap();
    let catalog = gw.state().catalog.clone();

    // Two readers at once share one round: one probe of the fake.
    let (first, second) = tokio::join!(catalog.health(), catalog.health());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let state_of = |systems: &[gateway::catalog::SystemHealth], id: Option<&str>| {
        let system = systems
            .iter()
            .find(|s| s.system.as_deref() == id)
            .unwrap_or_else(|| panic!("{id:?} in {systems:?}"));
        system
            .routes
            .iter()
            .map(|r| (r.kind, r.health))
            .collect::<Vec<_>>()
    };
    assert_eq!(state_of(&first, Some("up")), [("dify", Health::Reachable)]);
    assert_eq!(
        state_of(&first, Some("down")),
        [("dify", Health::Unreachable)]
    );
    assert_eq!(state_of(&first, None), [("demo", Health::Reachable)]);

    // Within the round's lifetime nothing is probed again.
    let again = catalog.health().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // A system added at runtime swaps the routing table: a new round.
    let created = reqwest::Client::new()
        .post(format!("{}/v1/admin/systems", gw.url()))
        .header("X-API-Key", gw.api_key())
        .json(&json!({"id": "added", "display_name": "Added"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let agent = reqwest::Client::new()
        .post(format!("{}/v1/admin/systems/added/agents", gw.url()))
        .header("X-API-Key", gw.api_key())
        .json(&json!({"id": "helper", "kind": "dify", "url": dify, "credential": "app-fake"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        agent.status(),
        StatusCode::CREATED,
        "{}",
        agent.text().await.unwrap()
    );
    let after = catalog.health().await.unwrap();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "the old and the new Dify route, once each"
    );
    assert_eq!(
        state_of(&after, Some("added")),
        [("dify", Health::Reachable), ("dify", Health::Reachable)]
    );
    assert_eq!(gateway::catalog::FRESH_FOR.as_secs(), 30);
}
