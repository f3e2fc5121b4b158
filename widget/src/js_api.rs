//! The plain-JavaScript API: `mount(target, config)` and the handle it
//! returns (`open`, `close`, `toggle`, `setLanguage`, `setUser`,
//! `setTokenSource`, `on`, `off`, `destroy`).
//!
//! This module only translates between JavaScript values and the widget's
//! Rust types; the widget itself is [`crate::mounted::Mounted`] (direct DOM
//! calls, no Yew), driven through a [`WidgetControl`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::Element;

use crate::config::{ConfigError, RawConfig, normalise_base_url, parse_lang};
use crate::control::{Command, WidgetControl};
use crate::effects::WidgetEvent;
use crate::mounted::Mounted;

type Listeners = Rc<RefCell<HashMap<String, Vec<Function>>>>;

/// A mounted widget, as returned by `mount()`.
#[wasm_bindgen(js_name = ChatWidgetHandle)]
pub struct ChatHandle {
    control: WidgetControl,
    listeners: Listeners,
    widget: RefCell<Option<Mounted>>,
}

/// Mount the widget. `target` is an element, a CSS selector, or
/// `null`/`undefined` for `document.body`; `config` is described in the
/// crate README.
pub(crate) fn mount(target: &JsValue, config: &JsValue) -> Result<ChatHandle, JsError> {
    let config = raw_config(config)?.validate()?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsError::new("no document"))?;
    let container = resolve_target(&document, target)?;
    let control = WidgetControl::default();
    let listeners = Listeners::default();
    let on_event = {
        let listeners = listeners.clone();
        Rc::new(move |event: &WidgetEvent| notify(&listeners, event))
    };
    let widget = Mounted::new(&container, config, control.clone(), on_event)
        .map_err(|_| JsError::new("cannot create the widget's elements"))?;
    Ok(ChatHandle {
        control,
        listeners,
        widget: RefCell::new(Some(widget)),
    })
}

#[wasm_bindgen(js_class = ChatWidgetHandle)]
impl ChatHandle {
    /// Open the panel (fetching a token the first time).
    pub fn open(&self) {
        self.control.open();
    }

    /// Close the panel (the conversation stays loaded).
    pub fn close(&self) {
        self.control.close();
    }

    /// Open if closed, close if open.
    pub fn toggle(&self) {
        self.control.toggle();
    }

    /// Switch the language: `en`, `es`, `ko`, `zh` or `ja` (region tags
    /// accepted). Throws on other languages.
    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(&self, lang: &str) -> Result<(), JsError> {
        self.control.set_lang(parse_lang(lang)?);
        Ok(())
    }

    /// Call on sign-in (`setUser("id")`) and sign-out (`setUser(null)`): the
    /// widget forgets the token and the chat page. With the `apiKey` source
    /// the id becomes the `user_id` sent to the gateway.
    #[wasm_bindgen(js_name = setUser)]
    pub fn set_user(&self, user: Option<String>) {
        let user = user.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        self.control.send(Command::SetUser(user));
    }

    /// Use another token source: an object with `tokenUrl`, `getToken`, or
    /// `apiKey` + `systemId` (+ `userId`), and optionally `gateway`. Resets
    /// the widget like `setUser`.
    #[wasm_bindgen(js_name = setTokenSource)]
    pub fn set_token_source(&self, source: &JsValue) -> Result<(), JsError> {
        let mut raw = raw_config(source)?;
        let gateway = raw
            .gateway
            .take()
            .filter(|g| !g.trim().is_empty())
            .map(|g| normalise_base_url(&g))
            .transpose()?;
        // Validate the source against the new gateway when given; an apiKey
        // source without one keeps the current gateway.
        raw.gateway = gateway.clone().or_else(|| Some("http://localhost".into()));
        let source = raw.validate()?.source;
        self.control.send(Command::SetSource { source, gateway });
        Ok(())
    }

    /// Listen to `ready`, `opened`, `closed`, `error` (`{reason}`) or
    /// `unread` (`{count}`); the listener gets the detail object.
    pub fn on(&self, event: &str, listener: Function) {
        self.listeners
            .borrow_mut()
            .entry(event.to_owned())
            .or_default()
            .push(listener);
    }

    /// Stop listening.
    pub fn off(&self, event: &str, listener: &Function) {
        if let Some(list) = self.listeners.borrow_mut().get_mut(event) {
            list.retain(|l| l != listener);
        }
    }

    /// Whether the panel is open.
    #[wasm_bindgen(getter, js_name = isOpen)]
    pub fn is_open(&self) -> bool {
        self.control.snapshot().open
    }

    /// Replies received while the panel was closed.
    #[wasm_bindgen(getter)]
    pub fn unread(&self) -> u32 {
        self.control.snapshot().unread
    }

    /// Whether the chat page has said it is ready.
    #[wasm_bindgen(getter, js_name = isReady)]
    pub fn is_ready(&self) -> bool {
        self.control.snapshot().ready
    }

    /// Remove the widget from the page and stop its timers and listeners.
    pub fn destroy(&self) {
        if let Some(widget) = self.widget.borrow_mut().take() {
            widget.destroy();
        }
        self.listeners.borrow_mut().clear();
    }
}

fn notify(listeners: &Listeners, event: &WidgetEvent) {
    // Clone the list first: a listener may call on()/off().
    let list = listeners.borrow().get(event.name()).cloned();
    let detail = event.detail().to_js();
    for listener in list.into_iter().flatten() {
        // A throwing listener must not stop the others.
        let _ = listener.call1(&JsValue::NULL, &detail);
    }
}

fn resolve_target(document: &web_sys::Document, target: &JsValue) -> Result<Element, JsError> {
    if target.is_null() || target.is_undefined() {
        return document
            .body()
            .map(Element::from)
            .ok_or_else(|| ConfigError::BadTarget("document has no body".into()).into());
    }
    if let Some(selector) = target.as_string() {
        return document
            .query_selector(&selector)
            .ok()
            .flatten()
            .ok_or_else(|| ConfigError::BadTarget(selector).into());
    }
    target
        .clone()
        .dyn_into::<Element>()
        .map_err(|_| ConfigError::BadTarget("not an element or selector".into()).into())
}

/// Read the documented keys of a JavaScript config object.
fn raw_config(config: &JsValue) -> Result<RawConfig, ConfigError> {
    if !config.is_object() {
        return Err(ConfigError::NotAnObject);
    }
    let get =
        |key: &str| Reflect::get(config, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| get(key).as_string();
    let flag = |key: &str| {
        let v = get(key);
        v.as_bool()
            .or_else(|| {
                v.as_string()
                    .map(|s| matches!(s.as_str(), "" | "true" | "1" | "yes"))
            })
            .unwrap_or(false)
    };
    Ok(RawConfig {
        gateway: text("gateway"),
        token_url: text("tokenUrl"),
        get_token: get("getToken").dyn_into::<Function>().ok(),
        api_key: text("apiKey"),
        system_id: text("systemId"),
        user_id: text("userId"),
        lang: text("lang"),
        open: flag("open"),
        preload: flag("preload"),
    })
}
