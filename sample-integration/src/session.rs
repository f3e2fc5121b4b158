//! The demo login: a user name, no password, a session kept in memory and
//! named by an `HttpOnly` cookie.
//!
//! It stands in for a real site's login. What matters for the chat is only
//! that the backend knows who is signed in: CoinTutor's token endpoint reads
//! the user from the session (the browser sends the cookie; page scripts
//! cannot read it), never from anything the page says.
//!
//! Invariants: session ids are 256 random bits; the cookie is `HttpOnly`,
//! `SameSite=Lax` (so other sites cannot post the login or logout forms
//! with it) and `Secure` when the site is served over https; a user name is
//! 1–64 letters, digits, `.`, `_`, `-` or `@`; `next` redirects stay on
//! this site.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::post;
use base64::Engine as _;

use crate::error::SiteError;
use crate::redirect::{is_local_path, see_other};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "sample_session";

/// Signed-in users by session id, and how their cookie is set; clones
/// share the users. The handlers here take it from the site's state
/// (`FromRef`), so this module needs nothing else of the site.
#[derive(Debug, Clone)]
pub(crate) struct Sessions {
    users: Arc<RwLock<HashMap<String, String>>>,
    secure_cookies: bool,
}

impl Sessions {
    /// No one signed in yet; `secure_cookies` when the site is served over
    /// https (the cookie then gets `Secure`).
    pub(crate) fn new(secure_cookies: bool) -> Self {
        Self {
            users: Arc::default(),
            secure_cookies,
        }
    }

    /// Start a session for `user`; its id.
    fn start(&self, user: String) -> Result<String, SiteError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(SiteError::Random)?;
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), user);
        Ok(id)
    }

    /// The user of session `id`.
    fn user(&self, id: &str) -> Option<String> {
        self.users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// End session `id`.
    fn end(&self, id: &str) {
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

/// The signed-in user; requests without one are refused with 401.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    /// The user name (the chat's `user_id`).
    pub(crate) name: String,
}

impl<S> FromRequestParts<S> for SignedIn
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SiteError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SiteError> {
        session_user(&parts.headers, &Sessions::from_ref(state))
            .map(|name| SignedIn { name })
            .ok_or(SiteError::NotSignedIn)
    }
}

/// Whoever is visiting: a signed-in user or nobody in particular.
#[derive(Debug, Clone)]
pub(crate) struct Visitor {
    /// The user name, when signed in.
    pub(crate) user: Option<String>,
}

impl<S> FromRequestParts<S> for Visitor
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(Visitor {
            user: session_user(&parts.headers, &Sessions::from_ref(state)),
        })
    }
}

fn session_user(headers: &HeaderMap, sessions: &Sessions) -> Option<String> {
    session_id(headers).and_then(|id| sessions.user(id))
}

/// The session id in the request's `Cookie` headers.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

pub(crate) fn router<S>() -> Router<S>
where
    Sessions: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
}

/// `POST /login` (form: `username`, `next`): start a session, go to `next`.
async fn login(State(sessions): State<Sessions>, body: String) -> Result<Response, SiteError> {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let name = form.get("username").map(|n| n.trim()).unwrap_or_default();
    let next = form.get("next").map(String::as_str).unwrap_or("/");
    let next = if is_local_path(next) { next } else { "/" };
    let Some(name) = valid_user_name(name) else {
        return Ok(see_other(&format!(
            "/?login=invalid&next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )));
    };
    let id = sessions.start(name.to_owned())?;
    let mut response = see_other(next);
    set_cookie(
        &mut response,
        &format!("{COOKIE}={id}"),
        sessions.secure_cookies,
    );
    Ok(response)
}

/// `POST /logout`: end the session, back to the home page.
async fn logout(State(sessions): State<Sessions>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        sessions.end(id);
    }
    let mut response = see_other("/");
    set_cookie(
        &mut response,
        &format!("{COOKIE}=; Max-Age=0"),
        sessions.secure_cookies,
    );
    response
}

fn set_cookie(response: &mut Response, value: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    if let Ok(v) =
        HeaderValue::from_str(&format!("{value}; Path=/; HttpOnly; SameSite=Lax{secure}"))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `name` if it is a usable user name.
fn valid_user_name(name: &str) -> Option<&str> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert_eq!(valid_user_name("alice"), Some("alice"));
        assert_eq!(valid_user_name("kim.s-1@x_y"), Some("kim.s-1@x_y"));
        for bad in ["", "a b", "<script>", "é", &"x".repeat(65)] {
            assert_eq!(valid_user_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sample_session=abc"),
        );
        assert_eq!(session_id(&headers), Some("abc"));
        let mut other = HeaderMap::new();
        other.append(
            header::COOKIE,
            HeaderValue::from_static("sample_sessionx=abc"),
        );
        assert_eq!(session_id(&other), None);
    }

    #[test]
    fn sessions_start_and_end() {
        let sessions = Sessions::new(false);
        let a = sessions.start("alice".into()).unwrap();
        let b = sessions.start("alice".into()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(sessions.user(&a).as_deref(), Some("alice"));
        sessions.end(&a);
        assert_eq!(sessions.user(&a), None);
        assert_eq!(sessions.user(&b).as_deref(), Some("alice"));
    }
}
