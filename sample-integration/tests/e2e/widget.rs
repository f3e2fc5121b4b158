//! The widget as a user meets it: its launcher and panel (in the host page,
//! inside the widget's shadow root) and the chat page in its iframe. Every
//! wait polls what is on screen until a condition holds.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{js, wait_for_js, wait_js};

/// JavaScript: what the widget shows right now, or `null` before it is
/// mounted. `open` is what the eye sees (the panel's computed visibility);
/// `settled`: the open or close animation is over.
const SHOWN: &str = "
    const host = document.querySelector('[data-tz-chat-widget]');
    const root = host && host.shadowRoot;
    const panel = root && root.querySelector('#tz-chat-panel');
    if (!panel) return null;
    const launcher = root.querySelector('.launcher');
    const status = root.querySelector('.status');
    const banner = root.querySelector('.banner');
    const frame = root.querySelector('iframe.frame');
    return {
      open: getComputedStyle(panel).visibility === 'visible',
      settled: getComputedStyle(panel).opacity === (panel.classList.contains('open') ? '1' : '0'),
      title: root.querySelector('.title').textContent,
      close: root.querySelector('.close').getAttribute('aria-label'),
      launcher: launcher.getAttribute('aria-label'),
      expanded: launcher.getAttribute('aria-expanded'),
      status: status ? status.textContent : null,
      banner: banner ? banner.textContent : null,
      frame: frame ? frame.getAttribute('src') : null,
      ready: !!(window.tzChat && window.tzChat.isReady),
      focus: root.activeElement ? root.activeElement.className : null,
    };";

/// What the widget shows (see [`SHOWN`]).
pub(crate) async fn shown(c: &Client) -> Value {
    js(c, SHOWN).await
}

/// Wait until the widget is mounted.
pub(crate) async fn wait_mounted(c: &Client) -> Value {
    wait_js(
        c,
        "the widget's launcher",
        &format!("return (function() {{ {SHOWN} }})();"),
    )
    .await
}

/// Wait until `condition` (JavaScript over `w`, the widget as [`shown`]
/// reports it) holds; return what the widget showed then.
pub(crate) async fn wait_until(c: &Client, what: &str, condition: &str) -> Value {
    wait_for_js(
        c,
        what,
        &format!("const w = (function() {{ {SHOWN} }})(); return w && ({condition}) ? w : null;"),
        Duration::from_secs(20),
    )
    .await
}

/// Press the launcher.
pub(crate) async fn press_launcher(c: &Client) {
    let host = c.find(Locator::Css("[data-tz-chat-widget]")).await.unwrap();
    let root = host.shadow_root().await.unwrap();
    root.find(Locator::Css(".launcher"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Move into the chat page in the widget's iframe (leave with
/// `c.enter_parent_frame()`).
pub(crate) async fn enter_chat(c: &Client) {
    let host = c.find(Locator::Css("[data-tz-chat-widget]")).await.unwrap();
    let root = host.shadow_root().await.unwrap();
    let frame = root.find(Locator::Css("iframe.frame")).await.unwrap();
    frame.enter_frame().await.unwrap();
    wait_js(
        c,
        "the chat page's script",
        "return document.readyState === 'complete' && !!document.getElementById('composer-input') \
         && !location.search.includes('token=');",
    )
    .await;
}

/// In the chat page: type `text` and press Enter.
pub(crate) async fn send(c: &Client, text: &str) {
    let input = c.find(Locator::Id("composer-input")).await.unwrap();
    input.click().await.unwrap();
    input.send_keys(text).await.unwrap();
    input.send_keys("\u{E007}").await.unwrap();
}

/// In the chat page: wait until `n` replies are finished and Send is usable
/// again; the text of the last one.
pub(crate) async fn wait_replies(c: &Client, n: usize) -> String {
    let text = wait_for_js(
        c,
        &format!("{n} finished replies"),
        &format!(
            "const done = document.querySelectorAll('.msg-assistant.done'); \
             return done.length === {n} && !document.getElementById('send-btn').disabled \
               && done[{n} - 1].querySelector('.bubble').innerText;"
        ),
        Duration::from_secs(20),
    )
    .await;
    text.as_str().unwrap().to_owned()
}

/// In the chat page: the user's messages on screen.
pub(crate) async fn user_texts(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll('.msg-user .msg-text')].map(e => e.textContent);",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// Press Escape on whatever has focus.
pub(crate) async fn press_escape(c: &Client) {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down {
            value: Key::Escape.into(),
        })
        .then(KeyAction::Up {
            value: Key::Escape.into(),
        });
    c.perform_actions(actions).await.unwrap();
}
