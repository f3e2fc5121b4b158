//! The `axum-site` example in a real headless Chromium: sign in, open the
//! widget the site serves with `ChatRoutes`, send a message, and see the
//! answer of a real gateway (in-process, demo upstream), stored under the
//! site's system id and the signed-in user.
//!
//! Also: the root README's "Add chat to your axum site" code is the
//! example's, verbatim.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (the test fails
//! naming them when missing).

#![expect(
    clippy::expect_used,
    reason = "the shared browser helpers fail the test at a failed set-up step"
)]

#[path = "../../gateway/tests/support/browser.rs"]
mod browser;

use std::process::Stdio;
use std::time::Duration;

use browser::{BrowserOptions, js, wait_for_js, wait_js, with_browser};
use fantoccini::Locator;
use sdk::Client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SECRET: &str = "axum-site-tests-secret-0123456789abcdef";
const API_KEY: &str = "axum-site-tests-key-0123456789";

#[test]
fn the_readme_shows_the_example_code() {
    let source = include_str!("../src/bin/axum_site.rs");
    let readme = include_str!("../../README.md");
    let (_, rest) = source
        .split_once("    // [README: add chat to your axum site]\n")
        .expect("the start marker in axum_site.rs");
    let (block, _) = rest
        .split_once("    // [end of the README block]")
        .expect("the end marker in axum_site.rs");
    let code: Vec<&str> = block
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect();
    let fenced = format!("```rust\n{}\n```", code.join("\n"));
    assert!(
        readme.contains(&fenced),
        "README.md must show the code of examples/src/bin/axum_site.rs between its markers:\n{fenced}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_through_the_widget_the_site_serves() {
    // The site's port first: the gateway must allow its origin.
    let site_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site_origin = format!("http://127.0.0.1:{site_port}");

    let gateway = testkit::TestGateway::builder()
        .upstream(testkit::Upstream::Demo)
        .secret(SECRET)
        .api_key(API_KEY)
        .env("CHAT_GATEWAY_DEMO_DELAY_MS", "5")
        .env("ALLOWED_CHAT_TOKEN_ORIGINS", site_origin.clone())
        .start()
        .await
        .unwrap();
    let gateway_url = gateway.url().to_owned();

    let mut site = Command::new(env!("CARGO_BIN_EXE_axum-site"))
        .env_clear()
        .env("CHAT_GATEWAY_URL", &gateway_url)
        .env("CHAT_GATEWAY_JWT_SECRET", SECRET)
        .env("SITE_LISTEN", format!("127.0.0.1:{site_port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let first = BufReader::new(site.stdout.take().unwrap())
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("the site printed nothing");
    assert_eq!(first, format!("open {site_origin}/"));

    let frame_gateway = gateway_url.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{site_origin}/login?name=alice"))
            .await
            .unwrap();
        wait_js(
            &c,
            "the signed-in page",
            "const p = document.getElementById('signed-in'); return !!p && p.textContent.includes('alice');",
        )
        .await;
        wait_js(
            &c,
            "the widget's launcher",
            "const h = document.querySelector('[data-tz-chat-widget]'); \
             return !!h && !!h.shadowRoot && !!h.shadowRoot.querySelector('.launcher');",
        )
        .await;

        let host = c.find(Locator::Css("[data-tz-chat-widget]")).await.unwrap();
        let root = host.shadow_root().await.unwrap();
        root.find(Locator::Css(".launcher"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let src = wait_for_js(
            &c,
            "the chat page in the widget",
            "const f = document.querySelector('[data-tz-chat-widget]').shadowRoot.querySelector('iframe.frame'); \
             return !!window.tzChat && window.tzChat.isReady && f && f.getAttribute('src');",
            Duration::from_secs(20),
        )
        .await;
        let src = src.as_str().unwrap().to_owned();
        assert!(src.starts_with(&format!("{frame_gateway}/chat?token=")), "{src}");

        let frame = root.find(Locator::Css("iframe.frame")).await.unwrap();
        frame.enter_frame().await.unwrap();
        wait_js(
            &c,
            "the chat page's composer",
            "return document.readyState === 'complete' && !!document.getElementById('composer-input');",
        )
        .await;
        let input = c.find(Locator::Id("composer-input")).await.unwrap();
        input.click().await.unwrap();
        input.send_keys("Hello from my axum site").await.unwrap();
        input.send_keys("\u{E007}").await.unwrap();
        let reply = wait_for_js(
            &c,
            "the answer",
            "const done = document.querySelectorAll('.msg-assistant.done'); \
             return done.length === 1 && done[0].querySelector('.bubble').innerText;",
            Duration::from_secs(20),
        )
        .await;
        assert!(
            reply.as_str().unwrap().contains("Hello from my axum site"),
            "{reply}"
        );
        let mine = js(
            &c,
            "return [...document.querySelectorAll('.msg-user .msg-text')].map(e => e.textContent);",
        )
        .await;
        assert_eq!(mine, serde_json::json!(["Hello from my axum site"]));
    })
    .await;

    // The gateway stored it under the site's system id and the visitor.
    let user = Client::with_api_key(&gateway_url, API_KEY)
        .unwrap()
        .user("my-site", "alice");
    let conversations = user.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    let messages = user.messages(&conversations[0].id).await.unwrap();
    assert_eq!(messages[0].content, "Hello from my axum site");
    assert_eq!(messages.len(), 2);

    site.kill().await.unwrap();
}
