use ::axum::body::{Body, to_bytes};
use ::axum::extract::FromRequestParts;
use ::axum::http::request::Parts;
use ::axum::http::{Request, StatusCode, header};
use ::axum::response::Response;
use tower::ServiceExt as _;

use super::*;
use crate::jwt::JwtSecret;
use crate::{ChatTokenResponse, ErrorBody, ErrorCode, Lang, UiTexts};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn chat() -> ChatRoutes {
    let links = ChatLinks::new("https://chat.example.com", JwtSecret::new(SECRET)).unwrap();
    ChatRoutes::new(links, "my-site").unwrap()
}

/// The test app's login: the `x-user` header, absent or empty = nobody.
struct Session(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        if parts.headers.contains_key("x-refuse") {
            return Err(StatusCode::IM_A_TEAPOT);
        }
        Ok(Session(
            parts
                .headers
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

async fn get(path: &str, headers: &[(&str, &str)]) -> (Response, Vec<u8>) {
    let app: Router = chat().router(|session: Session| session.0);
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn header_of(response: &Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_loader_imports_the_versioned_widget_and_is_short_cached() {
    let (response, body) = get("/tz-chat/loader.js", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL),
        "public, max-age=300"
    );
    let loader = String::from_utf8(body).unwrap();
    let versioned = format!("import(\"./{}/widget.js\")", files::version());
    assert!(loader.contains(&versioned), "{loader}");
    assert!(!loader.contains("import(\"./widget.js\")"), "{loader}");
    assert_eq!(loader.as_bytes(), files::loader());
}

#[tokio::test]
async fn versioned_files_are_immutable_with_their_content_types() {
    let version = files::version();
    assert_eq!(version.len(), 16);
    for (name, content_type, magic) in [
        ("widget.js", "text/javascript; charset=utf-8", &b""[..]),
        ("widget_bg.wasm", "application/wasm", &b"\0asm"[..]),
    ] {
        let (response, body) = get(&format!("/tz-chat/{version}/{name}"), &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert_eq!(header_of(&response, header::CONTENT_TYPE), content_type);
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
        assert!(body.len() > 1000 && body.starts_with(magic), "{name}");

        // The same bytes under the stable name, revalidated every time.
        let (stable, same) = get(&format!("/tz-chat/{name}"), &[]).await;
        assert_eq!(same, body);
        assert_eq!(header_of(&stable, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header_of(&stable, header::CONTENT_TYPE), content_type);

        // An older version's URL still works, but is not pinned.
        let (old, same) = get(&format!("/tz-chat/0000000000000000/{name}"), &[]).await;
        assert_eq!(same, body);
        assert_eq!(header_of(&old, header::CACHE_CONTROL), "no-cache");
    }
}

#[tokio::test]
async fn a_browser_with_the_current_copy_gets_304() {
    let (first, _) = get("/tz-chat/widget_bg.wasm", &[]).await;
    let etag = header_of(&first, header::ETAG).to_owned();
    assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
    let (again, body) = get("/tz-chat/widget_bg.wasm", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let (changed, body) = get("/tz-chat/widget_bg.wasm", &[("if-none-match", "\"old\"")]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(!body.is_empty());
}

#[tokio::test]
async fn nothing_else_is_served() {
    for path in [
        "/tz-chat/index.html",
        "/tz-chat/../Cargo.toml",
        "/tz-chat/x/loader.js",
        "/tz-chat/",
    ] {
        let (response, _) = get(path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_token_endpoint_mints_for_the_signed_in_user() {
    let (response, body) = get("/tz-chat/token?lang=ko", &[("x-user", "alice")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-store");
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "application/json"
    );
    let answer: ChatTokenResponse = serde_json::from_slice(&body).unwrap();
    let claims = crate::jwt::verify(&answer.token, &JwtSecret::new(SECRET)).unwrap();
    assert_eq!(
        (claims.system_id.as_str(), claims.user_id.as_str()),
        ("my-site", "alice")
    );
    assert_eq!(answer.expires_at, Some(claims.exp));
    assert_eq!(answer.ui, Some(UiTexts::for_lang(Lang::Ko)));

    let (_, body) = get("/tz-chat/token?lang=xx", &[("x-user", "alice")]).await;
    let answer: ChatTokenResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        answer.ui, None,
        "an unknown language leaves the widget's texts"
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_without_a_user() {
    let (response, body) = get("/tz-chat/token", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(error.error.code, ErrorCode::MissingCredentials);

    let (response, body) = get("/tz-chat/token", &[("x-user", "")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(error.error.code, ErrorCode::ValidationFailed);

    let (response, _) = get("/tz-chat/token", &[("x-refuse", "1")]).await;
    assert_eq!(
        response.status(),
        StatusCode::IM_A_TEAPOT,
        "the app's own rejection is the answer"
    );
}

#[test]
fn the_script_tag_escapes_the_gateway_url() {
    let links = ChatLinks::new("https://chat.example.com/a\"b", JwtSecret::new(SECRET)).unwrap();
    let tag = ChatRoutes::new(links, "s").unwrap().script_tag();
    assert_eq!(tag.lines().count(), 3, "{tag}");
    assert!(
        tag.contains("data-gateway=\"https://chat.example.com/a&quot;b\""),
        "{tag}"
    );
}
