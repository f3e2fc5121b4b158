//! Asking a [`TokenSource`] for a token, in the browser.
//!
//! The endpoint source is called with the page's cookies (`credentials:
//! same-origin`), the seed-compatible source without any (`omit`) but with
//! `X-API-Key`. Every failure becomes a [`TokenError`]; nothing here panics.

use js_sys::{Function, Promise};
use sdk::Lang;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, RequestMode, Response};

use super::{
    Grant, TokenError, endpoint_url, error_from_response, grant_from_answer, grant_from_body,
    seed_token_url,
};
use crate::config::TokenSource;
use crate::json::Json;

/// Get a token for `lang` from `source`. `gateway` is the configured gateway
/// base URL (needed unless the answer is a chat link).
pub async fn fetch_grant(
    source: &TokenSource,
    gateway: Option<&str>,
    lang: Lang,
) -> Result<Grant, TokenError> {
    match source {
        TokenSource::Endpoint { url } => {
            let body = get(
                &endpoint_url(url, lang),
                None,
                RequestCredentials::SameOrigin,
            )
            .await?;
            grant_from_body(&body, gateway)
        }
        TokenSource::ApiKey {
            api_key,
            system_id,
            user_id,
        } => {
            let user_id = user_id.as_deref().ok_or(TokenError::NoUser)?;
            let gateway = gateway.ok_or(TokenError::NoGateway)?;
            let url = seed_token_url(gateway, system_id, user_id, lang);
            let body = get(&url, Some(api_key), RequestCredentials::Omit).await?;
            grant_from_body(&body, Some(gateway))
        }
        TokenSource::Callback(function) => call_host(function, lang, gateway).await,
    }
}

async fn get(
    url: &str,
    api_key: Option<&str>,
    credentials: RequestCredentials,
) -> Result<String, TokenError> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::Cors);
    init.set_credentials(credentials);
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| network(&e))?;
    let headers = request.headers();
    headers
        .set("Accept", "application/json")
        .map_err(|e| network(&e))?;
    if let Some(key) = api_key {
        headers.set("X-API-Key", key).map_err(|e| network(&e))?;
    }
    let window = web_sys::window().ok_or_else(|| TokenError::Network("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .and_then(|r| r.dyn_into())
        .map_err(|e| network(&e))?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        Ok(text)
    } else {
        Err(error_from_response(response.status(), &text))
    }
}

async fn call_host(
    function: &Function,
    lang: Lang,
    gateway: Option<&str>,
) -> Result<Grant, TokenError> {
    let returned = function
        .call1(&JsValue::NULL, &JsValue::from_str(lang.as_str()))
        .map_err(|e| TokenError::Callback(message_of(&e)))?;
    let answer = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| TokenError::Callback(message_of(&e)))?;
    let answer = Json::from_js(&answer)
        .ok_or_else(|| TokenError::Decode("getToken returned nothing usable".into()))?;
    grant_from_answer(answer, gateway)
}

fn network(error: &JsValue) -> TokenError {
    TokenError::Network(message_of(error))
}

/// The `message` of a thrown JavaScript value, or its string form.
pub(crate) fn message_of(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}
