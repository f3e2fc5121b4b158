//! `GET /openapi.json`: the OpenAPI 3.1 document of the HTTP API, generated
//! from the handlers' `#[utoipa::path]` attributes and the SDK's wire types
//! (so it cannot drift from what the code does), and the security schemes
//! callers use. The interactive page reading it is `/docs` (see
//! [`crate::pages`]).
//!
//! A route added to a router without an entry here fails the test
//! `openapi::every_route_is_documented`.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tz-chat gateway",
        description = "One chat API in front of LLM back ends (Dify, n8n, OpenAI-compatible), \
            with every conversation stored centrally. Errors share one JSON shape \
            (`ErrorBody`: `error.code` for programs, `error.message` for people); the \
            OpenAI-compatible door answers in OpenAI's error shape instead.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        super::chat::send,
        super::ws::upgrade,
        super::agents::list,
        super::openai::completions,
        super::openai::models,
        super::chat_token::chat_token,
        super::conversations::list,
        super::conversations::messages,
        super::conversations::rename,
        super::conversations::delete,
        super::resume::reattach,
        super::resume::stop,
        super::cache::conversations,
        super::cache::messages,
        super::sync::sync_all,
        super::sync::sync_me,
        super::feedback::give,
        super::tokens::revoke,
        super::health::health,
        super::health::ready,
        super::metrics::scrape,
    ),
    components(schemas(sdk::ClientFrame, sdk::ServerFrame, sdk::ErrorCode)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "chat", description = "Send messages and receive answers: JSON, SSE or WebSocket"),
        (name = "openai", description = "The OpenAI-compatible door, for existing OpenAI clients"),
        (name = "tokens", description = "Chat tokens for end users"),
        (name = "history", description = "Stored conversations and messages, and upstream sync"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "admin", description = "Operators, scoped keys, the audit log, systems and agents"),
        (name = "console", description = "Browse, search, export and chart stored conversations"),
    ),
)]
struct ApiDoc;

/// The ways a caller proves who it is.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                crate::auth::API_KEY_HEADER,
                "A server's API key. The end user is named by `system_id` and `user_id`.",
            ))),
        );
        components.add_security_scheme(
            "chat_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An end user's chat token (HS256 JWT naming `system_id` and `user_id`).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::operators::sessions::SECURE_COOKIE,
                "An operator's session (`/admin/login`); `tzc_admin` when the gateway is \
                 served over plain HTTP. Changes also need the `X-CSRF-Token` header.",
            ))),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`CHAT_GATEWAY_METRICS_TOKEN`, when it is set."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "chat_token_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A chat token in the query string, where a browser cannot set a header.",
            ))),
        );
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(super::admin::AdminDoc::openapi());
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    });
    &DOCUMENT
}

pub(super) fn router() -> Router<AppState> {
    // Serialising a document of plain values does not fail; if it ever
    // did, the route answers with the one error shape.
    static JSON: LazyLock<Result<String, String>> =
        LazyLock::new(|| document().to_json().map_err(|e| e.to_string()));
    Router::new().route(
        "/openapi.json",
        get(|| async {
            match JSON.as_ref() {
                Ok(json) => (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    json.as_str(),
                )
                    .into_response(),
                Err(e) => ApiError::Internal(format!("the OpenAPI document: {e}")).into_response(),
            }
        }),
    )
}
