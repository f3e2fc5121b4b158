//! The widget in a real browser: mount, open, the iframe URL, Esc, error and
//! Retry, destroy; and the Yew component (feature `yew`), which renders the
//! same widget its own way. Runs in headless Chromium through
//! `wasm-bindgen-test` (`widget/test-browser.sh`, with and without the
//! feature); on other targets this file is empty.
#![cfg(target_arch = "wasm32")]
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

/// A chat link the iframe may load: nothing listens there, which is fine.
const CHAT_LINK: &str = "http://127.0.0.1:9/chat?token=t-123";

fn config(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

/// A `getToken` that answers `{url: CHAT_LINK}` (or rejects) and counts calls.
fn get_token(fail: bool, calls: Rc<Cell<u32>>) -> Function {
    let closure = Closure::<dyn Fn(JsValue) -> Promise>::new(move |_lang: JsValue| {
        calls.set(calls.get() + 1);
        if fail {
            Promise::reject(&js_sys::Error::new("nope"))
        } else {
            Promise::resolve(&config(&[("url", JsValue::from_str(CHAT_LINK))]))
        }
    });
    closure.into_js_value().unchecked_into()
}

fn shadow() -> Option<ShadowRoot> {
    web_sys::window()?
        .document()?
        .query_selector("[data-tz-chat-widget]")
        .ok()??
        .shadow_root()
}

fn find(selector: &str) -> Option<Element> {
    shadow()?.query_selector(selector).ok()?
}

/// Wait (at most 5 s) until `selector` matches inside the widget.
async fn wait_for(selector: &str) -> Element {
    for _ in 0..250 {
        if let Some(element) = find(selector) {
            return element;
        }
        TimeoutFuture::new(20).await;
    }
    panic!("{selector} did not appear in the widget");
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..250 {
        if condition() {
            return;
        }
        TimeoutFuture::new(20).await;
    }
    panic!("timed out waiting until {what}");
}

fn click(element: &Element) {
    element.dyn_ref::<HtmlElement>().unwrap().click();
}

fn press_escape(element: &Element) {
    let init = KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    init.set_composed(true);
    element
        .dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
}

#[wasm_bindgen_test]
async fn opens_loads_the_chat_page_and_closes_with_escape() {
    let calls = Rc::new(Cell::new(0));
    let handle = widget::mount(
        &JsValue::NULL,
        &config(&[
            ("getToken", get_token(false, calls.clone()).into()),
            ("lang", JsValue::from_str("ko")),
        ]),
    )
    .unwrap();
    let launcher = wait_for(".launcher").await;
    assert_eq!(launcher.get_attribute("aria-label").unwrap(), "채팅 열기");
    assert_eq!(launcher.get_attribute("aria-expanded").unwrap(), "false");
    assert!(
        find("iframe").is_none(),
        "nothing is loaded before the first open"
    );
    assert_eq!(calls.get(), 0);

    click(&launcher);
    let frame = wait_for("iframe").await;
    assert_eq!(calls.get(), 1);
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let parent: String = form_urlencoded::byte_serialize(origin.as_bytes()).collect();
    assert_eq!(
        frame.get_attribute("src").unwrap(),
        format!("http://127.0.0.1:9/chat?token=t-123&embed=1&lang=ko&parent={parent}")
    );
    assert_eq!(frame.get_attribute("title").unwrap(), "채팅");
    assert_eq!(
        frame.get_attribute("referrerpolicy").unwrap(),
        "no-referrer"
    );
    assert!(handle.is_open());
    assert_eq!(launcher.get_attribute("aria-expanded").unwrap(), "true");
    assert!(find(".panel.open").is_some());

    let panel = find(".panel").unwrap();
    assert_eq!(panel.get_attribute("role").unwrap(), "dialog");
    assert_eq!(
        panel.get_attribute("aria-labelledby").unwrap(),
        "tz-chat-title"
    );
    assert_eq!(
        find("#tz-chat-title").unwrap().text_content().unwrap(),
        "채팅"
    );

    // Esc on the close button closes the panel; the iframe stays.
    press_escape(&find(".close").unwrap());
    wait_until("the panel closed", || !handle.is_open()).await;
    assert!(find(".panel.open").is_none());
    assert!(find("iframe").is_some(), "the conversation stays loaded");

    handle.set_language("ja").unwrap();
    wait_until("the launcher speaks Japanese", || {
        find(".launcher")
            .and_then(|l| l.get_attribute("aria-label"))
            .as_deref()
            == Some("チャットを開く")
    })
    .await;

    handle.destroy();
    wait_until("destroy removed the widget", || shadow().is_none()).await;
}

#[wasm_bindgen_test]
async fn a_failing_token_source_shows_the_reason_and_retry_asks_again() {
    let calls = Rc::new(Cell::new(0));
    let handle = widget::mount(
        &JsValue::NULL,
        &config(&[
            ("getToken", get_token(true, calls.clone()).into()),
            ("lang", JsValue::from_str("en")),
            ("open", JsValue::TRUE),
        ]),
    )
    .unwrap();
    let retry = wait_for(".retry").await;
    let status = find(".status").unwrap().text_content().unwrap();
    assert!(status.contains("Could not load chat token."), "{status}");
    assert!(status.contains("getToken failed: nope"), "{status}");
    assert_eq!(retry.text_content().unwrap(), "Retry");
    assert_eq!(calls.get(), 1);

    click(&retry);
    wait_until("getToken was called again", || calls.get() == 2).await;
    wait_for(".retry").await;
    handle.destroy();
    wait_until("destroy removed the widget", || shadow().is_none()).await;
}

#[wasm_bindgen_test]
fn a_bad_config_throws() {
    assert!(widget::mount(&JsValue::NULL, &config(&[])).is_err());
    assert!(
        widget::mount(
            &JsValue::from_str("#no-such-element"),
            &config(&[("tokenUrl", JsValue::from_str("/t"))])
        )
        .is_err()
    );
}

#[cfg(feature = "yew")]
#[wasm_bindgen_test]
async fn the_yew_component_opens_from_its_control_and_closes_with_escape() {
    let calls = Rc::new(Cell::new(0));
    let config = widget::RawConfig {
        get_token: Some(get_token(false, calls.clone())),
        lang: Some("en".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let control = widget::WidgetControl::default();
    let events = Rc::new(std::cell::RefCell::new(Vec::new()));
    let on_event = {
        let events = events.clone();
        yew::Callback::from(move |e: widget::WidgetEvent| events.borrow_mut().push(e))
    };
    let anchor = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .create_element("div")
        .unwrap();
    let props = widget::ChatWidgetProps {
        config,
        on_event,
        control: Some(control.clone()),
        container: None,
    };
    let app = yew::Renderer::<widget::ChatWidget>::with_root_and_props(anchor, props).render();
    control.open();
    let frame = wait_for("iframe").await;
    assert_eq!(calls.get(), 1);
    assert_eq!(frame.get_attribute("title").unwrap(), "Chat");
    let launcher = find(".launcher").unwrap();
    assert_eq!(launcher.get_attribute("aria-expanded").unwrap(), "true");
    assert_eq!(launcher.get_attribute("aria-label").unwrap(), "Close");
    assert!(control.snapshot().open);

    press_escape(&find(".close").unwrap());
    wait_until("the panel closed", || !control.snapshot().open).await;
    assert!(find(".panel.open").is_none());
    assert!(events.borrow().contains(&widget::WidgetEvent::Closed));

    app.destroy();
    wait_until("destroy removed the widget", || shadow().is_none()).await;
}
