//! Chat on an axum site in one call: [`ChatRoutes::router`] serves the chat
//! widget's files (built into this crate, nothing to copy) and a token
//! endpoint that mints a chat token for the signed-in user of your site.
//!
//! ```
//! use axum::Router;
//! use axum::extract::FromRequestParts;
//! use axum::http::{StatusCode, request::Parts};
//! use tz_chat_sdk::ChatLinks;
//! use tz_chat_sdk::axum::ChatRoutes;
//! use tz_chat_sdk::jwt::JwtSecret;
//!
//! /// Your own login: whatever tells who is signed in.
//! struct SignedIn { id: String }
//! # impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
//! #     type Rejection = StatusCode;
//! #     async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, StatusCode> {
//! #         Err(StatusCode::UNAUTHORIZED)
//! #     }
//! # }
//!
//! let links = ChatLinks::new("https://chat.example.com", JwtSecret::new("the-shared-secret"))?;
//! let chat = ChatRoutes::new(links, "my-site")?;
//! let app: Router = Router::new().merge(chat.router(|user: SignedIn| user.id));
//! // and in your pages:
//! assert!(chat.script_tag().contains(r#"data-token-url="/tz-chat/token""#));
//! # Ok::<(), tz_chat_sdk::LinkError>(())
//! ```
//!
//! The routes, all under [`MOUNT`] (`/tz-chat`):
//!
//! | route | what | `Cache-Control` |
//! |---|---|---|
//! | `GET /tz-chat/loader.js` | the script your pages load | `public, max-age=300` |
//! | `GET /tz-chat/<version>/widget.js`, `…/widget_bg.wasm` | the widget, under a name that changes with its content | `public, max-age=31536000, immutable` |
//! | `GET /tz-chat/widget.js`, `/tz-chat/widget_bg.wasm` | the same files under stable names, for `mount()` | `no-cache` (an `ETag` makes revalidation cheap) |
//! | `GET /tz-chat/token?lang=ko` | `{token, expires_at, ui}` for the signed-in user | `no-store` |
//!
//! Invariants: only these files are served (nothing from the request reaches
//! a file system); `.wasm` goes out as `application/wasm` (browsers refuse
//! to stream-compile anything else); the token endpoint answers only after
//! your extractor accepted the request, and its errors have the gateway's
//! JSON error shape, which the widget shows. The files are not compressed
//! here: put `tower_http::compression::CompressionLayer` on your app (the
//! widget is about 400 KB, 160 KB gzipped).

mod files;
mod token;

use ::axum::Router;
use ::axum::extract::{FromRequestParts, RawQuery};
use ::axum::routing::get;

use crate::{ChatLinks, LinkError, identity};

/// Where the routes are: the widget's files and its token endpoint.
pub const MOUNT: &str = "/tz-chat";

/// The widget's routes for one site (one `system_id` at the gateway).
///
/// Cheap to clone.
///
/// ```
/// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
/// let chat = tz_chat_sdk::axum::ChatRoutes::new(links, "my-site")?;
/// assert!(tz_chat_sdk::axum::ChatRoutes::new(chat.links().clone(), "my site").is_err());
/// # Ok::<(), tz_chat_sdk::LinkError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChatRoutes {
    links: ChatLinks,
    system_id: String,
}

impl ChatRoutes {
    /// Routes minting tokens with `links` for the users of `system_id` (the
    /// name your site has at the gateway: letters, digits, `-`, `_`, `.`).
    /// Fails on a system id the gateway would refuse.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let chat = tz_chat_sdk::axum::ChatRoutes::new(links, "my-site")?;
    /// assert_eq!(chat.system_id(), "my-site");
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn new(links: ChatLinks, system_id: impl Into<String>) -> Result<Self, LinkError> {
        let system_id = system_id.into();
        identity::check_system_id(&system_id).map_err(LinkError::InvalidId)?;
        Ok(Self { links, system_id })
    }

    /// The system id tokens are minted for.
    pub fn system_id(&self) -> &str {
        &self.system_id
    }

    /// The links the tokens are minted with.
    pub fn links(&self) -> &ChatLinks {
        &self.links
    }

    /// The HTML your pages add (before `</body>`) to show the chat: three
    /// lines, pointing at these routes and at the gateway.
    ///
    /// ```
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// let chat = tz_chat_sdk::axum::ChatRoutes::new(links, "my-site")?;
    /// assert_eq!(
    ///     chat.script_tag(),
    ///     r#"<script type="module" src="/tz-chat/loader.js"
    ///         data-token-url="/tz-chat/token"
    ///         data-gateway="https://chat.example.com"></script>"#
    /// );
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn script_tag(&self) -> String {
        format!(
            "<script type=\"module\" src=\"{MOUNT}/loader.js\"\n        \
             data-token-url=\"{MOUNT}/token\"\n        \
             data-gateway=\"{}\"></script>",
            html_attribute(self.links.base_url())
        )
    }

    /// The routes (see the [module docs](self)), to
    /// [`merge`](Router::merge) into your app.
    ///
    /// `user_id` names the signed-in user from `U`, an extractor of your
    /// app (your session, your login): return the user's id, or `None` when
    /// nobody is signed in (the endpoint then answers 401). When `U` itself
    /// rejects the request, its rejection is the answer.
    ///
    /// ```
    /// # use axum::{Router, extract::FromRequestParts, http::{StatusCode, request::Parts}};
    /// # struct Session { user: Option<String> }
    /// # impl<S: Send + Sync> FromRequestParts<S> for Session {
    /// #     type Rejection = StatusCode;
    /// #     async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, StatusCode> { Ok(Session { user: None }) }
    /// # }
    /// # let links = tz_chat_sdk::ChatLinks::new("https://chat.example.com", tz_chat_sdk::jwt::JwtSecret::new("s3cret"))?;
    /// # let chat = tz_chat_sdk::axum::ChatRoutes::new(links, "my-site")?;
    /// // A session that may have nobody signed in:
    /// let app: Router = Router::new().merge(chat.router(|session: Session| session.user));
    /// # Ok::<(), tz_chat_sdk::LinkError>(())
    /// ```
    pub fn router<S, U, F, R>(&self, user_id: F) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        U: FromRequestParts<S> + Send + 'static,
        F: Fn(U) -> R + Clone + Send + Sync + 'static,
        R: Into<Option<String>>,
    {
        let links = self.links.clone();
        let system_id = self.system_id.clone();
        let token = move |user: U, RawQuery(query): RawQuery| {
            let user = user_id(user).into();
            let answer = token::answer(&links, &system_id, user.as_deref(), query.as_deref());
            std::future::ready(answer)
        };
        Router::new()
            .route(&format!("{MOUNT}/token"), get(token))
            .merge(files::router())
    }
}

/// `value` escaped for a double-quoted HTML attribute.
fn html_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
