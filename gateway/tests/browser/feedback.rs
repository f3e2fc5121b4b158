//! Thumbs up and down on answers: keyboard reachable, `aria-pressed`, a
//! second click clears, the rating survives a reload, labels follow the
//! language.

use fantoccini::key::Key;

use crate::browser::{BrowserOptions, js, save_screenshot, wait_js, with_browser};
use crate::page::{self, artifacts, press, wait_replies};
use crate::server::TestGateway;

/// `aria-pressed` of the first answer's (like, dislike) buttons.
async fn pressed(c: &fantoccini::Client) -> (String, String) {
    let v = js(
        c,
        "const b = [...document.querySelectorAll('.msg-assistant')[0].querySelectorAll('.rate-btn')]; \
         return b.map(e => e.getAttribute('aria-pressed'));",
    )
    .await;
    let s = page::strings(&v);
    (s[0].clone(), s[1].clone())
}

/// The stored rating of the conversation's answer (`null` when none).
async fn stored_rating(gw: &TestGateway, token: &str) -> serde_json::Value {
    let conversations = gw.conversations(token).await;
    let id = conversations[0]["id"].as_str().unwrap();
    let messages = gw.messages(token, id).await;
    messages[1]["feedback"]["rating"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_rated_with_the_keyboard_and_cleared_by_a_second_press() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "rater");
    let url = gw.chat_url(&token, "lang=en");
    let reload = gw.chat_url(&token, "lang=ko");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        page::send(&c, "Rate this").await;
        wait_replies(&c, 1).await;
        let labels = page::strings(
            &js(&c, "return [...document.querySelectorAll('.rate-btn')].map(b => b.getAttribute('aria-label'));").await,
        );
        assert_eq!(labels, ["Good answer", "Bad answer"]);
        assert_eq!(pressed(&c).await, ("false".into(), "false".into()));

        // Keyboard: focus the thumbs-up, press Enter.
        js(&c, "document.querySelector(\".rate-btn[data-rating='like']\").focus(); return true;").await;
        press(&c, &[Key::Enter]).await;
        wait_js(&c, "the like to be stored", "return document.querySelector(\".rate-btn[data-rating='like']\").getAttribute('aria-pressed') === 'true';").await;
        let gw_ref = &gw;
        let token_ref = &token;
        wait_stored(gw_ref, token_ref, serde_json::json!("like")).await;

        // Tab moves on to the thumbs-down; Space switches the rating.
        press(&c, &[Key::Tab]).await;
        let focused = js(&c, "return document.activeElement.dataset.rating;").await;
        assert_eq!(focused, "dislike");
        press(&c, &[Key::Space]).await;
        wait_js(&c, "dislike pressed", "return document.querySelector(\".rate-btn[data-rating='dislike']\").getAttribute('aria-pressed') === 'true';").await;
        assert_eq!(pressed(&c).await, ("false".into(), "true".into()));
        wait_stored(gw_ref, token_ref, serde_json::json!("dislike")).await;
        save_screenshot(&c, &artifacts(), "feedback-disliked").await;

        // After a reload (in Korean) the stored rating shows, relabelled.
        page::open(&c, &reload).await;
        page::click(&c, "#conv-list .conv .conv-open").await;
        wait_replies(&c, 1).await;
        assert_eq!(pressed(&c).await, ("false".into(), "true".into()));
        let label = js(&c, "return document.querySelector(\".rate-btn[data-rating='dislike']\").getAttribute('aria-label');").await;
        assert_eq!(label, "아쉬운 답변");

        // A second click on the pressed one clears it.
        page::click(&c, ".rate-btn[data-rating='dislike']").await;
        wait_js(&c, "nothing pressed", "return !document.querySelector(\".rate-btn[aria-pressed='true']\");").await;
        wait_stored(gw_ref, token_ref, serde_json::Value::Null).await;
        assert!(page::unlabelled_controls(&c).await.is_empty());
    })
    .await;
}

/// Poll the API until the answer's stored rating is `expected`.
async fn wait_stored(gw: &TestGateway, token: &str, expected: serde_json::Value) {
    for _ in 0..200 {
        if stored_rating(gw, token).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the stored rating never became {expected}");
}
