//! DrillQuiz's seed-compatible widget: the API key is in the page (and only
//! there), an anonymous visitor chats under an id of their browser's own
//! that survives a reload, a signed-in visitor under their name, and the
//! gateway keeps the two histories apart (and none under `anonymous`).

use sdk::Role;

use crate::browser::{BrowserOptions, js, save_screenshot, wait_js, with_browser};
use crate::harness::{self, artifacts};
use crate::widget::{self, enter_chat, press_launcher, send, wait_replies, wait_until};

/// Open the widget, send `text` in it and wait for the reply.
async fn chat_once(c: &fantoccini::Client, text: &str) {
    widget::wait_mounted(c).await;
    press_launcher(c).await;
    wait_until(c, "the chat page", "w.open && w.ready && w.frame !== null").await;
    enter_chat(c).await;
    send(c, text).await;
    let reply = wait_replies(c, 1).await;
    assert!(reply.contains(text), "{reply}");
    c.enter_parent_frame().await.unwrap();
}

/// The user id the page says the visitor chats as.
async fn chatting_as(c: &fantoccini::Client) -> String {
    let id = wait_js(
        c,
        "the chat user on the page",
        "const e = document.getElementById('drillquiz-user'); return e && e.textContent !== '…' && e.textContent;",
    )
    .await;
    id.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_and_signed_in_visitors_chat_under_their_own_ids() {
    let sample = harness::start(&[]).await;
    let site = sample.site_url().to_owned();
    let api_key = sample.api_key().to_owned();
    let anonymous = with_browser_value(move |c| async move {
        // Anonymous: the risk is spelled out, the key is in the page.
        c.goto(&format!("{site}/drillquiz")).await.unwrap();
        let risk = js(
            &c,
            "return document.getElementById('risk-heading').textContent;",
        )
        .await;
        assert!(risk.as_str().unwrap().contains("API key"), "{risk}");
        let in_page = js(
            &c,
            "return document.querySelector('script[data-api-key]').dataset.apiKey;",
        )
        .await;
        assert_eq!(in_page, api_key.as_str());
        let id = chatting_as(&c).await;
        assert!(
            id.starts_with("anonymous-") && id.len() == "anonymous-".len() + 24,
            "{id}"
        );
        let note = js(
            &c,
            "return document.getElementById('anonymous-note').textContent;",
        )
        .await;
        assert!(
            note.as_str()
                .unwrap()
                .contains("shared a single chat history"),
            "{note}"
        );
        chat_once(&c, "Which keyword makes a binding mutable?").await;
        wait_until(&c, "the panel at rest", "w.open && w.settled").await;
        save_screenshot(&c, &artifacts(), "sample-drillquiz-anonymous").await;

        // The same browser keeps its id.
        c.refresh().await.unwrap();
        assert_eq!(chatting_as(&c).await, id);

        // Signed in: the user's name.
        harness::sign_in(&c, &site, "bob", "/drillquiz").await;
        assert_eq!(chatting_as(&c).await, "bob");
        chat_once(&c, "Explain shadowing").await;
        wait_until(&c, "the panel at rest", "w.open && w.settled").await;
        save_screenshot(&c, &artifacts(), "sample-drillquiz-widget").await;
        id
    })
    .await;

    let gw = sample.gateway_url();
    let key = sample.api_key();
    let bob = harness::stored(gw, key, "drillquiz", "bob").await;
    assert_eq!(bob.len(), 1, "{bob:?}");
    assert_eq!(
        harness::turns(&bob[0])[0],
        (Role::User, "Explain shadowing".to_owned())
    );
    let theirs = harness::stored(gw, key, "drillquiz", &anonymous).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(
        harness::turns(&theirs[0])[0],
        (
            Role::User,
            "Which keyword makes a binding mutable?".to_owned()
        )
    );
    assert!(
        harness::stored(gw, key, "drillquiz", "anonymous")
            .await
            .is_empty()
    );
    sample.stop().await.unwrap();
}

/// [`with_browser`] for a body that returns a value.
async fn with_browser_value<F, Fut, T>(body: F) -> T
where
    F: FnOnce(fantoccini::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    with_browser(BrowserOptions::default(), move |c| async move {
        let _ = tx.send(body(c).await);
    })
    .await;
    rx.await.unwrap()
}
