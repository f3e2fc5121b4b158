//! The front page (`/`) in Chromium: each of the five languages (by
//! parameter and by the browser's language), axe-core's WCAG 2.1 AA checks
//! signed out and signed in, at 1280 px and 390 px; signed out it names no
//! system, signed in as an admin it lists the systems with their upstream
//! kinds and health (a fake Dify that answers, one that does not).

use fantoccini::{Client, Locator};
use gateway::operators::Role;
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};

use crate::browser::{
    BrowserOptions, assert_accessible, js, save_screenshot, set_viewport, wait_js, with_browser,
};
use crate::page::artifacts;
use crate::server::TestGateway;

const PASSWORD: &str = "a long front page password";
const LANGS: [&str; 5] = ["en", "es", "ko", "zh", "ja"];

/// A gateway with two systems of their own: `alphasys` behind a fake Dify,
/// `betasys` behind an address nothing listens on.
async fn gateway_with_systems() -> TestGateway {
    let options = FakeOptions::default();
    let key = options.api_key.clone();
    let fake = FakeDify::new(options);
    let up = fake.spawn().await.unwrap();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // The fake keeps serving after `fake` is dropped, until the test ends.
    TestGateway::start(&[
        ("DIFY_ALPHASYS_BASE_URL", up.as_str()),
        ("DIFY_ALPHASYS_API_KEY", key.as_str()),
        ("DIFY_BETASYS_BASE_URL", down.as_str()),
        ("DIFY_BETASYS_API_KEY", key.as_str()),
    ])
    .await
}

async fn sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/admin/login")).await.unwrap();
    let field = |css: &'static str| c.find(Locator::Css(css));
    field("input[name=email]")
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    field("input[name=password]")
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    field("form button").await.unwrap().click().await.unwrap();
    wait_js(c, "signed in", "return location.pathname === '/admin';").await;
}

async fn open(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    // The entry module ran: it shows the Copy buttons.
    wait_js(
        c,
        "the front page's script",
        "return document.querySelector('.front-copy:not([hidden])');",
    )
    .await;
}

/// The page's headings, in order.
async fn headings(c: &Client) -> Vec<String> {
    let found = js(
        c,
        "return [...document.querySelectorAll('main h1, main h2, main h3, svg title')].map(h => h.textContent.trim());",
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// Whether the page is wider than the window (something would scroll
/// sideways).
async fn overflows(c: &Client) -> Value {
    js(
        c,
        "return document.documentElement.scrollWidth > window.innerWidth;",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_has_its_own_headings_and_passes_axe_signed_out() {
    let gw = gateway_with_systems().await;
    let base = gw.base.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        open(&c, &format!("{base}/?lang=en")).await;
        let english = headings(&c).await;
        assert_eq!(english.len(), 7, "{english:?}");
        for lang in LANGS {
            open(&c, &format!("{base}/?lang={lang}")).await;
            assert_eq!(js(&c, "return document.documentElement.lang;").await, lang);
            let current = js(&c, "return document.querySelector('.front-langs [aria-current=page]').getAttribute('hreflang');").await;
            assert_eq!(current, lang);
            let shown = headings(&c).await;
            assert_eq!(shown.len(), english.len(), "{lang}: {shown:?}");
            if lang != "en" {
                for (heading, en) in shown.iter().zip(&english) {
                    assert_ne!(heading, en, "{lang}: a heading is still English");
                }
            }
            // Signed out: no system is named, not even in the markup.
            let html = c.source().await.unwrap().to_lowercase();
            assert!(!html.contains("alphasys") && !html.contains("betasys"), "{lang}");
            assert!(!html.contains("systems-heading"), "{lang}");
            assert_eq!(overflows(&c).await, json!(false), "{lang} at 1280 px");
        }
        for lang in ["en", "ko"] {
            open(&c, &format!("{base}/?lang={lang}")).await;
            assert_accessible(&c, &format!("the front page in {lang}, signed out")).await;
        }
        save_screenshot(&c, &artifacts(), "front-wide").await;

        // The language links switch the page, by keyboard too.
        open(&c, &format!("{base}/?lang=en")).await;
        let link = c.find(Locator::Css(".front-langs a[hreflang=ja]")).await.unwrap();
        link.send_keys("\u{E007}").await.unwrap(); // Enter
        wait_js(&c, "Japanese", "return document.documentElement.lang === 'ja';").await;

        // 390 px: nothing scrolls sideways, and it still passes.
        set_viewport(&c, 390, 844).await;
        open(&c, &format!("{base}/?lang=es")).await;
        assert_eq!(overflows(&c).await, json!(false), "390 px");
        assert_accessible(&c, "the front page at 390 px").await;
        save_screenshot(&c, &artifacts(), "front-narrow").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_language_picks_the_page_language() {
    let gw = TestGateway::start(&[]).await;
    let base = gw.base.clone();
    with_browser(BrowserOptions::default().lang("zh-CN"), move |c| async move {
        open(&c, &format!("{base}/")).await;
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "zh");
        // The demo answers the `demo` system here, so the page offers it.
        let demo = wait_js(&c, "the demo link", "return document.getElementById('demo-link')?.href;").await;
        c.find(Locator::Id("demo-link")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the chat page", "return location.pathname === '/chat' && document.getElementById('composer-input');").await;
        assert!(demo.as_str().unwrap().contains("/chat?token="), "{demo}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_an_admin_sees_each_system_with_its_upstream_and_health() {
    let gw = gateway_with_systems().await;
    gw.add_operator("ada@example.com", Role::Admin, PASSWORD)
        .await;
    let base = gw.base.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        sign_in(&c, &base, "ada@example.com").await;
        open(&c, &format!("{base}/?lang=ja")).await;
        let rows = js(
            &c,
            "return [...document.querySelectorAll('.front-systems tbody tr')].map(tr => [
                tr.dataset.system || null,
                tr.querySelector('.front-kind')?.textContent ?? null,
                tr.querySelector('[data-health]')?.dataset.health ?? null,
                tr.querySelector('[data-health]')?.textContent ?? null]);",
        )
        .await;
        assert_eq!(
            rows,
            json!([
                ["alphasys", "dify", "reachable", "接続可能"],
                ["betasys", "dify", "unreachable", "接続不可"],
                [null, "demo", "reachable", "接続可能"]
            ])
        );
        let who = js(
            &c,
            "return document.querySelector('.front-who strong').textContent;",
        )
        .await;
        assert_eq!(who, "ada@example.com");
        assert_accessible(&c, "the front page in Japanese, signed in").await;
        open(&c, &format!("{base}/?lang=es")).await;
        assert_accessible(&c, "the front page in Spanish, signed in").await;
        set_viewport(&c, 390, 844).await;
        open(&c, &format!("{base}/?lang=ko")).await;
        assert_eq!(overflows(&c).await, json!(false), "signed in at 390 px");
        assert_accessible(&c, "the front page signed in at 390 px").await;
        save_screenshot(&c, &artifacts(), "front-signed-in-narrow").await;
    })
    .await;
}
