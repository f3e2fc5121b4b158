//! The sample site end to end, in a real headless Chromium: sign in, the
//! widget (localized shell while loading, a streamed reply in its iframe,
//! Esc inside the iframe closes it, reopen, language switch, an expired
//! token replaced without the user noticing), CoinTutor's link, redirect
//! and iframe options, DrillQuiz's seed-compatible widget for signed-in and
//! anonymous visitors, and what the gateway stored, checked through its API
//! with the SDK.
//!
//! Needs the built widget (`widget/build.sh`; the tests fail saying so when
//! it is missing) and `/usr/bin/chromium` + `/usr/bin/chromedriver` (Debian
//! packages `chromium` and `chromium-driver`; the tests fail naming them).
//! The gateway and the site run in the test process on free ports.
//! Screenshots go to `test-artifacts/` at the workspace root.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

#[path = "../../../gateway/tests/support/browser.rs"]
mod browser;
mod harness;
mod widget;

mod cointutor;
mod drillquiz;
mod expiry;
mod options;
