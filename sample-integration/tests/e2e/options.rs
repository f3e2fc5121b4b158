//! CoinTutor's other options, all on the same backend: a link that opens
//! the chat in a new tab, a redirect, and a plain iframe. Each reaches the
//! gateway's chat page as the signed-in user.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::browser::{BrowserOptions, save_screenshot, wait_js, with_browser};
use crate::harness;

/// Wait for the gateway's full chat page and return its header text.
async fn chat_page_header(c: &fantoccini::Client) -> String {
    let header = wait_js(
        c,
        "the gateway's chat page",
        "const t = document.querySelector('.topbar'); \
         return document.readyState === 'complete' && !!t && !!document.getElementById('composer-input') && t.innerText;",
    )
    .await;
    header.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_redirect_and_iframe_open_the_chat_as_the_signed_in_user() {
    let sample = harness::start(&[]).await;
    let site = sample.site_url().to_owned();
    let gateway = sample.gateway_url().to_owned();
    with_browser(BrowserOptions::default(), move |c| async move {
        harness::sign_in(&c, &site, "dave", "/cointutor").await;

        // Link: a new tab, through the backend's redirect.
        let home = c.window().await.unwrap();
        c.find(Locator::Id("open-link")).await.unwrap().click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let tab = loop {
            let windows = c.windows().await.unwrap();
            if let Some(w) = windows.into_iter().find(|w| *w != home) {
                break w;
            }
            assert!(Instant::now() < deadline, "the link opened no tab");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        c.switch_to_window(tab).await.unwrap();
        let header = chat_page_header(&c).await;
        assert!(header.contains("dave") && header.contains("cointutor"), "{header}");
        assert!(c.current_url().await.unwrap().as_str().starts_with(&gateway));
        c.close_window().await.unwrap();
        c.switch_to_window(home).await.unwrap();

        // Redirect: the page asks /api/chat-url and goes there.
        c.find(Locator::Id("redirect-btn")).await.unwrap().click().await.unwrap();
        let header = chat_page_header(&c).await;
        assert!(header.contains("dave") && header.contains("cointutor"), "{header}");
        c.back().await.unwrap();

        // Iframe: the embed layout inside the site's page.
        c.goto(&format!("{site}/cointutor/iframe")).await.unwrap();
        let frame = wait_js(&c, "the iframe's chat URL", "const f = document.getElementById('chat-frame'); return f && f.getAttribute('src');").await;
        assert!(frame.as_str().unwrap().contains("embed=1"), "{frame}");
        c.find(Locator::Id("chat-frame")).await.unwrap().enter_frame().await.unwrap();
        // The compact layout: no conversation sidebar.
        wait_js(&c, "the embedded chat page", "return !!document.getElementById('composer-input') && !document.getElementById('sidebar');").await;
        c.enter_parent_frame().await.unwrap();
        save_screenshot(&c, &harness::artifacts(), "sample-cointutor-iframe").await;

        // Home, signed in.
        c.goto(&format!("{site}/")).await.unwrap();
        wait_js(&c, "the home page", "return document.readyState === 'complete' && !!document.getElementById('signed-in-user');").await;
        save_screenshot(&c, &harness::artifacts(), "sample-home").await;
    })
    .await;
    sample.stop().await.unwrap();
}
