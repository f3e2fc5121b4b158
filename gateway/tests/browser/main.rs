//! The chat page in a real headless Chromium: streaming, stop, history,
//! markdown sanitising, languages, IME, tokens, embed mode and the widget's
//! postMessage protocol, ratings of answers, and axe-core's WCAG 2.1 AA
//! checks of every page state.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`); the tests fail, naming them, when they
//! are missing. Screenshots go to `test-artifacts/` at the workspace root.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

#[path = "../support/browser.rs"]
mod browser;
mod page;
mod server;

mod accessibility;
mod admin;
mod admin_systems;
mod agents;
mod console;
mod conversations;
mod docs;
mod embed;
mod feedback;
mod front;
mod language;
mod sending;
mod tokens;
