//! Direct DOM work: the shadow root the widget lives in, its stylesheet,
//! `postMessage`, host-page events, and reading the page's language.
//!
//! Style isolation: the widget renders inside an open shadow root attached to
//! its own host element, and styles it with a constructable stylesheet
//! (`adoptedStyleSheets`), which a strict `style-src` CSP does not block. No
//! element carries an inline `style` attribute. Only browsers without
//! constructable stylesheets get a `<style>` element instead.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    CssStyleSheet, CustomEvent, CustomEventInit, Document, Element, HtmlElement, HtmlIFrameElement,
    ShadowRoot, ShadowRootInit, ShadowRootMode,
};

use crate::bridge::WidgetMessage;
use crate::effects::WidgetEvent;

/// The widget's stylesheet.
pub const STYLE: &str = include_str!("style.css");

/// Attribute marking the widget's host element in the host page.
pub const HOST_ATTRIBUTE: &str = "data-tz-chat-widget";

/// Prefix of the DOM events dispatched on the host element (`tz-chat:ready`).
pub const EVENT_PREFIX: &str = "tz-chat:";

/// The host element, its shadow root and the element the widget renders into.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowHost {
    /// Placed in the host page (not yet attached when created).
    pub host: Element,
    /// Its shadow root.
    pub root: ShadowRoot,
    /// Inside the shadow root: where the widget's markup goes.
    pub mount: Element,
}

impl ShadowHost {
    /// Create a host element with a styled shadow root.
    pub fn create(document: &Document) -> Result<Self, JsValue> {
        let host = document.create_element("div")?;
        host.set_attribute(HOST_ATTRIBUTE, "")?;
        let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
        adopt_style(document, &root)?;
        let mount = document.create_element("div")?;
        root.append_child(&mount)?;
        Ok(Self { host, root, mount })
    }
}

fn adopt_style(document: &Document, root: &ShadowRoot) -> Result<(), JsValue> {
    match CssStyleSheet::new() {
        Ok(sheet) => {
            sheet.replace_sync(STYLE)?;
            root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        }
        Err(_) => {
            let style = document.create_element("style")?;
            style.set_text_content(Some(STYLE));
            root.append_child(&style)?;
        }
    }
    Ok(())
}

/// Post `message` to the chat page in `frame`, to `origin` only.
pub fn post(frame: &HtmlIFrameElement, message: &WidgetMessage, origin: &str) {
    if let Some(window) = frame.content_window() {
        // A failure means the frame navigated to another origin: the message
        // must not reach it, and there is nobody to tell.
        let _ = window.post_message(&message.to_json().to_js(), origin);
    }
}

/// Dispatch `tz-chat:<name>` on the host element (bubbles, leaves the shadow
/// root), with the event's detail.
pub fn dispatch(host: &Element, event: &WidgetEvent) {
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&event.detail().to_js());
    let name = format!("{EVENT_PREFIX}{}", event.name());
    if let Ok(dom_event) = CustomEvent::new_with_event_init_dict(&name, &init) {
        let _ = host.dispatch_event(&dom_event);
    }
}

/// `location.origin` of the host page.
pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// `<html lang>` of the host page, if set.
pub fn page_lang() -> Option<String> {
    web_sys::window()?
        .document()?
        .document_element()?
        .get_attribute("lang")
}

/// `navigator.languages` (or `navigator.language`).
pub fn browser_langs() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let mut langs: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|l| l.as_string())
        .collect();
    if langs.is_empty() {
        langs.extend(navigator.language());
    }
    langs
}

/// Focus an element if it is one that can take focus.
pub fn focus(element: Option<Element>) {
    if let Some(element) = element.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
        let _ = element.focus();
    }
}
