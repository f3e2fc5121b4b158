//! Steps on the chat page shared by the tests. Every wait polls the DOM
//! until a condition holds (or fails after a deadline).

use std::path::PathBuf;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{js, wait_js};

/// Where screenshots go: `test-artifacts/` at the workspace root.
pub(crate) fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("test-artifacts")
}

/// Open a chat URL and wait until the page script has started (it removes
/// the token from the address bar first thing).
pub(crate) async fn open(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    wait_js(
        c,
        "the page script to start",
        "return document.readyState === 'complete' && !location.search.includes('token=') \
         && !!document.getElementById('composer-input');",
    )
    .await;
}

/// Type `text` into the composer and press Enter.
pub(crate) async fn send(c: &Client, text: &str) {
    let input = c.find(Locator::Id("composer-input")).await.unwrap();
    input.send_keys(text).await.unwrap();
    input.send_keys("\u{E007}").await.unwrap();
}

/// Wait until `n` replies are finished and Send is usable again.
pub(crate) async fn wait_replies(c: &Client, n: usize) {
    wait_js(
        c,
        &format!("{n} finished replies"),
        &format!(
            "return document.querySelectorAll('.msg-assistant.done').length === {n} \
             && !document.getElementById('send-btn').disabled;"
        ),
    )
    .await;
}

/// Text of the `i`-th reply (0-based).
pub(crate) async fn reply_text(c: &Client, i: usize) -> String {
    let v = js(
        c,
        &format!(
            "const r = document.querySelectorAll('.msg-assistant .bubble')[{i}]; \
             return r ? r.innerText : null;"
        ),
    )
    .await;
    v.as_str().unwrap_or_default().to_owned()
}

/// Texts of the user's messages on screen.
pub(crate) async fn user_texts(c: &Client) -> Vec<String> {
    strings(
        &js(
            c,
            "return [...document.querySelectorAll('.msg-user .msg-text')].map(e => e.textContent);",
        )
        .await,
    )
}

/// Titles in the conversation list.
pub(crate) async fn conversation_titles(c: &Client) -> Vec<String> {
    strings(
        &js(
            c,
            "return [...document.querySelectorAll('#conv-list .conv-title')].map(e => e.textContent);",
        )
        .await,
    )
}

/// Press keys together on whatever has focus (no element is focused by
/// the press itself), e.g. `[Key::Shift, Key::Tab]`.
pub(crate) async fn press(c: &Client, keys: &[Key]) {
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys {
        actions = actions.then(KeyAction::Down {
            value: (*key).into(),
        });
    }
    for key in keys.iter().rev() {
        actions = actions.then(KeyAction::Up {
            value: (*key).into(),
        });
    }
    c.perform_actions(actions).await.unwrap();
}

/// The id (or class) of the focused element.
pub(crate) async fn focused(c: &Client) -> String {
    let v = js(
        c,
        "const a = document.activeElement; return a.id || a.className;",
    )
    .await;
    v.as_str().unwrap_or_default().to_owned()
}

/// Click the element matching `css`.
pub(crate) async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Every button, field and link without an accessible name (should be none).
pub(crate) async fn unlabelled_controls(c: &Client) -> Vec<String> {
    strings(
        &js(
            c,
            "const out = []; \
             for (const e of document.querySelectorAll('button, select, textarea, input, a[href]')) { \
               if (e.closest('[hidden]') || e.closest('dialog:not([open])')) continue; \
               const name = (e.getAttribute('aria-label') || '').trim() \
                 || (e.labels && e.labels.length ? e.labels[0].textContent.trim() : '') \
                 || e.textContent.trim(); \
               if (!name) out.push(e.outerHTML.slice(0, 120)); \
             } \
             return out;",
        )
        .await,
    )
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect()
}
