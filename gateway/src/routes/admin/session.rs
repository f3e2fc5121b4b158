//! `POST /admin/login`, `POST /admin/logout`, `GET /v1/admin/me`.
//!
//! Sign-in takes an HTML form (`email`, `password`; answered with a
//! redirect to `/admin`, or the login page again with the error) or JSON
//! (answered with who signed in and the session's CSRF token). A request
//! whose `Origin` is not the gateway's own is refused (no sign-in from
//! another site's form).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::extract::{ClientAddr, parse_json};
use crate::operators::sessions::{self, CookiePolicy, Login};
use crate::operators::{Access, Actor, audit};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct Credentials {
    email: String,
    password: String,
}

/// What a JSON sign-in answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SignedIn {
    email: String,
    role: String,
    csrf_token: String,
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Whether a sign-in comes from the gateway's own page (or from no page:
/// a script or `curl`). Browsers say where a request comes from in
/// `Sec-Fetch-Site`; the pages' `no-referrer` policy makes them send
/// `Origin: null` on form posts, so `Origin` decides only without it.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if let Some(site) = value(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    match value(header::ORIGIN) {
        None => true,
        Some(origin) => state.config.public_url.trim_end_matches('/') == origin,
    }
}

fn form_credentials(body: &[u8]) -> Credentials {
    let mut email = String::new();
    let mut password = String::new();
    for (k, v) in form_urlencoded::parse(body) {
        match &*k {
            "email" => email = v.into_owned(),
            "password" => password = v.into_owned(),
            _ => {}
        }
    }
    Credentials { email, password }
}

#[utoipa::path(post, path = "/admin/login", tag = "admin",
    summary = "Operator sign-in: sets the session cookie",
    description = "JSON `{\"email\", \"password\"}` or the sign-in form. Five failures for one account or address in 15 minutes give 429.",
    request_body(content = Credentials, content_type = "application/json"),
    responses((status = 200, description = "Signed in; the session cookie is set", body = SignedIn),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = sdk::ErrorBody)))]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = is_form(&headers);
    let lang = crate::pages::admin_lang(&headers, uri.query());
    let fail = |e: ApiError| {
        if form {
            let mut resp = crate::pages::login_page(lang, Some(&e), e.status());
            if let ApiError::LoginThrottled { retry_after } = e {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            }
            resp
        } else {
            e.into_response()
        }
    };
    if !same_origin(&state, &headers) {
        return fail(ApiError::Forbidden(
            "sign-in is accepted only from the gateway's own pages".into(),
        ));
    }
    let credentials = if form {
        form_credentials(&body)
    } else {
        match parse_json::<Credentials>(&body) {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        }
    };
    let address = address.map(|a| a.to_string()).unwrap_or_default();
    let cookies = CookiePolicy::for_public_url(&state.config.public_url);
    let previous = cookies.read(&headers);
    let outcome = sessions::login(
        &*state.store,
        &credentials.email,
        &credentials.password,
        &address,
        previous.as_deref(),
        OffsetDateTime::now_utc(),
    )
    .await;
    let email = sessions::normalize_email(&credentials.email);
    match outcome {
        Err(e) => fail(e.into()),
        Ok(Login::Throttled { retry_after }) => fail(ApiError::LoginThrottled { retry_after }),
        Ok(Login::Refused) => {
            audit::record(
                &*state.store,
                "anonymous",
                "operator.login_failed",
                &email,
                &address,
            )
            .await;
            fail(ApiError::InvalidCredentials)
        }
        Ok(Login::Success {
            cookie_value,
            csrf_token,
            operator,
        }) => {
            audit::record(
                &*state.store,
                &format!("operator:{}", operator.email),
                "operator.login",
                &operator.email,
                &address,
            )
            .await;
            let mut resp = if form {
                Redirect::to("/admin").into_response()
            } else {
                Json(SignedIn {
                    email: operator.email,
                    role: operator.role,
                    csrf_token,
                })
                .into_response()
            };
            if let Some(cookie) = cookies.set(&cookie_value, state.config.sessions.absolute) {
                resp.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            resp
        }
    }
}

/// Ends the session (its CSRF token is required, as for any change) and
/// sends the browser to the login page.
#[utoipa::path(post, path = "/admin/logout", tag = "admin",
    summary = "End the operator session (on every replica)",
    responses((status = 204, description = "Signed out"), (status = 303, description = "Signed out, back to the sign-in page (form)"),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody)),
    security(("session" = [])))]
pub(super) async fn logout(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cookies = CookiePolicy::for_public_url(&state.config.public_url);
    let Actor::Operator { email, .. } = &access.actor else {
        return Err(ApiError::BadRequest(
            "only an operator session can sign out".into(),
        ));
    };
    if let Some(cookie) = cookies.read(&headers) {
        sessions::logout(&*state.store, &cookie).await?;
    }
    audit::record(
        &*state.store,
        &access.actor_name(),
        "operator.logout",
        email,
        &access.address(),
    )
    .await;
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/admin/login")]).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookies.clear());
    Ok(resp)
}

/// Who is asking.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Me {
    actor: String,
    admin: bool,
    /// `null`: every system.
    systems: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/v1/admin/me", tag = "admin",
    summary = "Who is signed in (or which key), and the CSRF token to send",
    responses((status = 200, description = "The caller", body = Me),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn me(access: Access) -> Json<Me> {
    Json(Me {
        actor: access.actor_name(),
        admin: access.is_admin(),
        systems: access.systems.to_list(),
    })
}
