//! # tz-chat widget
//!
//! A drop-in chat widget for the tz-chat gateway: a launcher button and a
//! panel holding the gateway's chat page (`/chat?token=…&embed=1`) in an
//! iframe. Built with trunk to `widget.js` + `widget_bg.wasm`
//! (see `build.sh` and the README).
//!
//! Two ways to embed it:
//!
//! - **any site**: load the module and call [`mount`] (or let `loader.js` do
//!   it from `data-*` attributes):
//!
//!   ```html
//!   <script type="module">
//!     import init, { mount } from "/tz-chat/widget.js";
//!     await init();
//!     window.chat = mount(null, { tokenUrl: "/api/chat-token", gateway: "https://chat.example.com" });
//!   </script>
//!   ```
//!
//! - **a Yew app**: render `ChatWidget` with a [`WidgetConfig`] (and
//!   optionally a [`WidgetControl`] to open/close it from your own code).
//!   The component is behind the cargo feature `yew` (on by default); the
//!   shipped bundle is built without it, and [`mount`] never uses Yew.
//!
//! Where things are:
//! - [`config`]: the host's configuration and token sources;
//! - [`token`]: token answers, refresh schedule, chat-page URL (pure), and
//!   [`token::fetch`] (the browser requests);
//! - [`state`]: the reducer; [`effects`]: what each state change makes the
//!   browser do; [`bridge`]: the postMessage protocol v1 (pure);
//! - [`json`]: JSON values without `serde` in the wasm (the browser parses);
//! - `components` (feature `yew`): the Yew components; `view` and
//!   `mounted`: the same widget for [`mount`], in direct DOM calls;
//!   `runner`: carries out effects for both; [`dom`]: shadow root, styles,
//!   postMessage and DOM events; [`control`]: the imperative handle;
//!   [`i18n`]: texts the SDK's table lacks.

pub mod bridge;
#[cfg(feature = "yew")]
pub mod components;
pub mod config;
pub mod control;
pub mod dom;
pub mod effects;
pub mod i18n;
mod js_api;
pub mod json;
mod mounted;
mod runner;
pub mod state;
pub mod token;
mod view;

use wasm_bindgen::prelude::*;

/// The bundle's allocator (feature `talc`): less code than dlmalloc.
#[cfg(all(
    feature = "talc",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(feature = "yew")]
pub use components::{ChatWidget, ChatWidgetProps};
pub use config::{ConfigError, RawConfig, TokenSource, WidgetConfig};
pub use control::{Command, Snapshot, WidgetControl};
pub use effects::WidgetEvent;
pub use js_api::ChatHandle;
pub use state::{Action, State};

/// Mount the widget into the page (JavaScript: `mount(target, config)`).
///
/// `target` is an element, a CSS selector, or `null` for `document.body`
/// (the widget is fixed to the bottom right corner either way). `config`:
///
/// | key | meaning |
/// |---|---|
/// | `tokenUrl` | your backend's endpoint answering `{token, expires_at, ui?}` or `{url}` (recommended) |
/// | `getToken` | or a function `(lang) => Promise<answer or token string>` |
/// | `apiKey`, `systemId`, `userId` | or the seed-compatible browser call (unsafe, see README) |
/// | `gateway` | the gateway's base URL (needed unless answers are `{url}`) |
/// | `lang` | `en`, `es`, `ko`, `zh`, `ja`; default: `<html lang>`, then the browser |
/// | `open`, `preload` | start open; fetch the token at mount |
///
/// Throws (a JavaScript `Error`) on an invalid configuration or target.
///
/// ```ignore
/// // JavaScript
/// const chat = mount("#support", { tokenUrl: "/api/chat-token", gateway: "https://chat.example.com" });
/// chat.on("unread", ({ count }) => console.log(count));
/// chat.open();
/// ```
#[wasm_bindgen]
pub fn mount(target: &JsValue, config: &JsValue) -> Result<ChatHandle, JsError> {
    js_api::mount(target, config)
}
