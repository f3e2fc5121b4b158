//! # sample-integration
//!
//! The reference site a product team copies from. One process runs the
//! tz-chat gateway (demo upstream, SQLite) and, next to it, a small site
//! that plays the seed gateway's two client systems:
//!
//! - **CoinTutor** (recommended): a demo login, and a backend that mints
//!   short-lived chat tokens with the SDK (`GET /api/chat-token`,
//!   `GET /api/chat-url`). Its pages show the widget — three lines of HTML —
//!   and the seed's other options: a link (new tab), a redirect, an iframe.
//! - **DrillQuiz** (seed-compatible): the widget asks the gateway's
//!   `/v1/chat-token` with an API key in the page, for the signed-in user or
//!   a per-browser anonymous id. Unsafe by design; the page says why.
//!
//! Where things are:
//! - [`config`]: the variables (`SAMPLE_*`, and defaults for the gateway's);
//! - [`launch`]: binds, starts and stops the gateway and the site together;
//! - [`site`]: the site's router and security headers;
//! - `state`: the state the handlers share, built from [`SiteSettings`];
//! - `session`: the demo login (an `HttpOnly` session cookie);
//! - `cointutor`, `drillquiz`: the two client systems' routes and pages;
//! - `pages`: templates, the shared layout, the home page, `/static/`;
//! - `redirect`: `303` answers and the check that they stay on the site;
//! - [`widget_files`]: the built widget under `/tz-chat/`;
//! - `error`: how a failed request answers.
//!
//! The modules form no cycle: `site` uses every route module; the route
//! modules use `state`; `state` holds the session table and the widget
//! files, whose routes take them through `FromRef` instead of `state`.
//!
//! Tests start everything in-process with [`Sample::start`] on free ports.

mod cointutor;
pub mod config;
mod drillquiz;
mod error;
pub mod launch;
mod pages;
mod redirect;
mod session;
pub mod site;
mod state;
pub mod widget_files;

pub use config::SampleConfig;
pub use launch::{LaunchError, Sample};
pub use site::{SiteSettings, router};

/// CoinTutor's system id at the gateway.
pub const COINTUTOR: &str = cointutor::SYSTEM_ID;
/// DrillQuiz's system id at the gateway.
pub const DRILLQUIZ: &str = drillquiz::SYSTEM_ID;
/// The name of the site's session cookie.
pub const SESSION_COOKIE: &str = session::COOKIE;
