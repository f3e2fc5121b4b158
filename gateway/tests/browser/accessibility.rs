//! axe-core on the chat page in each of its states, against WCAG 2.1 AA:
//! empty, with a conversation (rated answers included), the sidebar's
//! rename dialog, the error page, every language, embed mode and a narrow
//! screen.

use crate::browser::{BrowserOptions, assert_accessible, set_viewport, wait_js, with_browser};
use crate::page::{self, wait_replies};
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_page_passes_axe_in_every_state() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "a11y");
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        assert_accessible(&c, "the empty chat page").await;

        page::send(&c, "Tell me about **bonds** and `yields`").await;
        wait_replies(&c, 1).await;
        page::send(&c, "And a list?").await;
        wait_replies(&c, 2).await;
        page::click(&c, ".msg-assistant .rate-btn[data-rating='like']").await;
        wait_js(
            &c,
            "a pressed thumbs-up",
            "return document.querySelector(\".rate-btn[aria-pressed='true']\");",
        )
        .await;
        assert_accessible(&c, "a conversation with a rated answer").await;

        page::click(&c, "#conv-list .conv [data-role='rename']").await;
        wait_js(
            &c,
            "the rename dialog",
            "return document.getElementById('rename-dialog').open;",
        )
        .await;
        assert_accessible(&c, "the rename dialog").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_passes_axe() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "a11y-lang");
    gw.chat(&token, "A question answered in every language")
        .await;
    let urls: Vec<_> = ["en", "es", "ko", "zh", "ja"]
        .iter()
        .map(|lang| {
            (
                *lang,
                gw.chat_url(&gw.token("drillquiz", "a11y-lang"), &format!("lang={lang}")),
            )
        })
        .collect();
    with_browser(BrowserOptions::default(), move |c| async move {
        for (lang, url) in urls {
            page::open(&c, &url).await;
            page::click(&c, "#conv-list .conv .conv-open").await;
            wait_replies(&c, 1).await;
            let shown = crate::browser::js(&c, "return document.documentElement.lang;").await;
            assert_eq!(shown, lang);
            assert_accessible(&c, &format!("a conversation in {lang}")).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_mode_narrow_screens_and_the_error_page_pass_axe() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "a11y-embed");
    let embed = gw.chat_url(&token, "embed=1&lang=en");
    let narrow = gw.chat_url(&gw.token("drillquiz", "a11y-narrow"), "lang=en");
    let broken = gw.chat_url(&gw.expired_token("drillquiz", "a11y-late"), "lang=ja");
    with_browser(BrowserOptions::default(), move |c| async move {
        set_viewport(&c, 380, 520).await;
        page::open(&c, &embed).await;
        assert_accessible(&c, "the embedded chat, empty").await;
        page::send(&c, "Hello from the widget").await;
        wait_replies(&c, 1).await;
        page::click(&c, "#recent-btn").await;
        wait_js(
            &c,
            "the recent list",
            "return !document.getElementById('recent-panel').hidden;",
        )
        .await;
        assert_accessible(&c, "the embedded chat with its recent list").await;

        set_viewport(&c, 360, 740).await;
        page::open(&c, &narrow).await;
        page::click(&c, "#menu-btn").await;
        wait_js(
            &c,
            "the conversation drawer",
            "return document.getElementById('menu-btn').getAttribute('aria-expanded') === 'true';",
        )
        .await;
        assert_accessible(&c, "a narrow screen with the drawer open").await;

        set_viewport(&c, 1280, 800).await;
        c.goto(&broken).await.unwrap();
        wait_js(
            &c,
            "the error page",
            "return document.readyState === 'complete' && document.querySelector('.error-card');",
        )
        .await;
        assert_accessible(&c, "the error page (expired token, Japanese)").await;
    })
    .await;
}
