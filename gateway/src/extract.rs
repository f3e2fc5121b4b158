//! Request extractors that fail with [`ApiError`], so missing credentials,
//! a malformed body, an oversize body or a bad query string gets the
//! gateway's JSON error shape (never axum's plain-text rejections).
//!
//! The callers ([`Caller`], [`ServerKey`]) are defined in [`crate::auth`],
//! which knows nothing of the application state; their extraction from a
//! request lives here.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::auth::{Auth, Caller, ServerKey, bearer_token};
use crate::console::Viewer;
use crate::error::ApiError;
use crate::operators::Access;
use crate::operators::keys::PREFIX;
use crate::operators::sessions::{self, CSRF_HEADER, CSRF_QUERY, CookiePolicy};
use crate::scope::Grant;
use crate::state::AppState;

/// What an API key may do: a root key (`CHAT_GATEWAY_API_KEY`) everything,
/// a scoped `tzk_` key what it was given; anything else is 401.
pub async fn key_grant(state: &AppState, key: &str) -> Result<Grant, ApiError> {
    if state.auth.is_api_key(key) {
        return Ok(Grant::root());
    }
    if key.starts_with(PREFIX)
        && let Some(grant) = state.keys.grant(key).await?
    {
        return Ok(grant);
    }
    Err(ApiError::InvalidApiKey)
}

/// The grant of the request's `X-API-Key`; `None` when it sends none.
async fn header_grant(state: &AppState, parts: &Parts) -> Option<Result<Grant, ApiError>> {
    let key = Auth::presented_key(&parts.headers)?;
    Some(match key {
        Ok(key) => key_grant(state, key).await,
        Err(e) => Err(e),
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(&parts.headers) {
            return state
                .auth
                .verify_caller(token)
                .map(|(identity, agent)| Caller::User(identity, agent));
        }
        match header_grant(state, parts).await {
            Some(result) => result.map(Caller::Server),
            None => Err(ApiError::MissingCredentials),
        }
    }
}

impl FromRequestParts<AppState> for ServerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match header_grant(state, parts).await {
            Some(result) => result.map(ServerKey),
            None => Err(ApiError::MissingCredentials),
        }
    }
}

/// The client's address: the connection's peer, or, when the peer is one
/// of `CHAT_GATEWAY_TRUSTED_PROXIES`, the last address in `X-Forwarded-For`
/// that is not a trusted proxy. `None` when the request did not come from a
/// socket (in-process calls).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let trusted = &state.config.rates.trusted_proxies;
        Ok(ClientAddr(
            peer.map(|peer| client_address(peer, &parts.headers, trusted)),
        ))
    }
}

/// See [`crate::operators`]: an API key in `X-API-Key`, or an operator
/// session cookie (with its CSRF token on state-changing methods).
impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(address) = ClientAddr::from_request_parts(parts, state).await?;
        if let Some(grant) = header_grant(state, parts).await {
            return Ok(Access::from_grant(grant?, address));
        }
        let cookies = CookiePolicy::for_public_url(&state.config.public_url);
        let cookie = cookies
            .read(&parts.headers)
            .ok_or(ApiError::MissingCredentials)?;
        let now = time::OffsetDateTime::now_utc();
        let (session, operator) =
            sessions::resolve(&*state.store, &cookie, state.config.sessions, now)
                .await?
                .ok_or(ApiError::MissingCredentials)?;
        if !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| query_value(parts.uri.query(), CSRF_QUERY));
            let matches = sent.is_some_and(|sent| {
                use subtle::ConstantTimeEq as _;
                bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes()))
            });
            if !matches {
                return Err(ApiError::CsrfRejected);
            }
        }
        Ok(Access::from_operator(
            &operator,
            session.csrf_token,
            address,
        ))
    }
}

/// One parameter of a query string.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Who sent a request that arrived from `peer`: walk `X-Forwarded-For`
/// from the right (the hop nearest to us) while the sender is a trusted
/// proxy. A malformed entry stops the walk at the proxy that passed it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&client) {
        return client;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(addr) => client = addr,
            Err(_) => break,
        }
        if !trusted.contains(&client) {
            break;
        }
    }
    client
}

/// The console admits what [`Access`] admits (an operator session or an API
/// key), limited to the systems the actor may read: an admin or a root key
/// sees every system, an analyst or a scoped key its own.
impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = Access::from_request_parts(parts, state).await?;
        viewer_of(&access)
    }
}

/// The console's [`Viewer`] for `access` (see its extractor), for pages that
/// also need who is signed in.
pub fn viewer_of(access: &Access) -> Result<Viewer, ApiError> {
    if let crate::operators::Actor::Key(grant) = &access.actor
        && !(grant.allows(crate::scope::Permission::Read)
            || grant.allows(crate::scope::Permission::Admin))
    {
        return Err(ApiError::Forbidden(
            "this API key may not read conversations".into(),
        ));
    }
    Ok(Viewer {
        scope: access.systems.clone(),
    })
}

/// A JSON body. Any `Content-Type` is accepted (so `curl -d` works); the
/// body itself must be JSON.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::PayloadTooLarge {
                    limit: state.config.limits.max_body_bytes,
                }
            }
            other => ApiError::BadRequest(other.body_text()),
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse a JSON body: syntax errors are 400 `invalid_json`, a well-formed
/// body of the wrong shape is 422 `validation_failed` naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidJson(
            "the body is empty; send a JSON object".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        Category::Data => ApiError::Validation(e.to_string()),
        Category::Syntax | Category::Eof | Category::Io => ApiError::InvalidJson(e.to_string()),
    })
}

/// A query string; a bad one is 422 `validation_failed`.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::Validation(e.body_text()))
    }
}

/// Path parameters; a bad one is 404 `not_found` (the resource cannot exist).
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| ApiPath(p))
            .map_err(|_| ApiError::RouteNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only its shape is parsed")]
    struct Body {
        message: String,
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.2".parse().unwrap(),
        );
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The peer is no proxy: the header is the client's word, ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), &headers, &proxies),
            ip("192.0.2.1")
        );
        // Behind the proxies, the nearest untrusted hop is the client (the
        // leftmost entry is whatever the client claimed).
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &proxies),
            ip("198.51.100.7")
        );
        // A proxy that sent no header is the client itself.
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
        headers.insert("x-forwarded-for", "junk".parse().unwrap());
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &proxies),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn syntax_versus_shape() {
        assert!(matches!(
            parse_json::<Body>(b"{\"message\": "),
            Err(ApiError::InvalidJson(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"  "),
            Err(ApiError::InvalidJson(_))
        ));
        match parse_json::<Body>(b"{\"message\": 5}") {
            Err(ApiError::Validation(m)) => assert!(m.contains("invalid type"), "{m}"),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(b"{}") {
            Err(ApiError::Validation(m)) => assert!(m.contains("message"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
