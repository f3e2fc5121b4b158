//! Embed mode (the widget's iframe, ~380×520) and narrow screens.

use crate::browser::{BrowserOptions, js, save_screenshot, set_viewport, wait_js, with_browser};
use crate::page::{self, artifacts};
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_mode_offers_new_and_recent_conversations() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "widget-user");
    let url = gw.chat_url(&token, "embed=1&lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        set_viewport(&c, 380, 520).await;
        page::open(&c, &url).await;
        let layout = js(
            &c,
            "return { w: innerWidth, h: innerHeight, sidebar: !!document.getElementById('sidebar'), \
                      empty: document.getElementById('empty-state').innerText.trim(), \
                      scrolls: document.documentElement.scrollWidth > innerWidth };",
        )
        .await;
        assert_eq!((layout["w"].as_u64(), layout["h"].as_u64()), (Some(380), Some(520)), "{layout}");
        assert_eq!(layout["sidebar"], false);
        assert_eq!(layout["empty"], "Type a message.");
        assert_eq!(layout["scrolls"], false, "the page is wider than the iframe");
        assert!(page::unlabelled_controls(&c).await.is_empty(), "{:?}", page::unlabelled_controls(&c).await);

        page::send(&c, "First question").await;
        page::wait_replies(&c, 1).await;
        page::click(&c, "#new-btn").await;
        wait_js(&c, "an empty new conversation", "return !document.getElementById('empty-state').hidden && document.querySelectorAll('.msg').length === 0;").await;
        page::send(&c, "Second question").await;
        page::wait_replies(&c, 1).await;

        page::click(&c, "#recent-btn").await;
        wait_js(&c, "the recent list", "return !document.getElementById('recent-panel').hidden && document.querySelectorAll('#conv-list .conv').length === 2;").await;
        assert_eq!(page::conversation_titles(&c).await, ["Second question", "First question"]);
        page::click(&c, "#conv-list .conv:nth-child(2) .conv-open").await;
        wait_js(&c, "the first conversation", "return document.getElementById('recent-panel').hidden && document.querySelectorAll('.msg-assistant.done').length === 1;").await;
        assert_eq!(page::user_texts(&c).await, ["First question"]);

        page::send(&c, "And some markdown, please").await;
        page::wait_replies(&c, 2).await;
        save_screenshot(&c, &artifacts(), "chat-embed").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_conversations_are_in_a_drawer() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "mobile-user");
    gw.chat(&token, "An earlier question").await;
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        set_viewport(&c, 390, 760).await;
        page::open(&c, &url).await;
        let closed = js(&c, "return getComputedStyle(document.getElementById('sidebar')).visibility;").await;
        assert_eq!(closed, "hidden");
        assert_eq!(js(&c, "return document.documentElement.scrollWidth <= innerWidth;").await, true);
        page::send(&c, "Hi from a phone").await;
        page::wait_replies(&c, 1).await;
        save_screenshot(&c, &artifacts(), "chat-mobile").await;

        page::click(&c, "#menu-btn").await;
        wait_js(&c, "the open drawer", "return getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('menu-btn').getAttribute('aria-expanded') === 'true';").await;
        wait_js(&c, "two conversations", "return document.querySelectorAll('#conv-list .conv').length === 2;").await;
        page::click(&c, "#conv-list .conv:nth-child(2) .conv-open").await;
        wait_js(&c, "the earlier conversation, drawer closed", "return !document.body.classList.contains('drawer-open') && document.querySelectorAll('.msg-assistant.done').length === 1;").await;
        assert_eq!(page::user_texts(&c).await, ["An earlier question"]);
    })
    .await;
}
