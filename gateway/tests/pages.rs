//! The chat page over HTTP: status codes, headers, languages, escaping,
//! assets and the recorded visit. (That the token never reaches the log is
//! in `page_logs.rs`.)
//! (What the page does in a browser is in `tests/browser/`.)

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use gateway::App;
use gateway::identity::Identity;
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use testkit::{Database, TestGateway, Upstream};
use tower::ServiceExt;

const SECRET: &str = "pages-tests-secret-0123456789abcdef";

async fn app(extra: &[(&str, &str)]) -> App {
    TestGateway::builder()
        .upstream(Upstream::Demo)
        .database(Database::SqliteMemory)
        .secret(SECRET)
        .api_key("pages-tests-api-key-0123456789")
        .envs(extra)
        .app()
        .await
        .unwrap()
}

fn token(system: &str, user: &str) -> String {
    mint(
        &ChatClaims::new(system, user, Duration::from_secs(600)),
        &JwtSecret::new(SECRET),
    )
    .unwrap()
}

fn expired_token() -> String {
    let mut claims = ChatClaims::new("drillquiz", "alice", Duration::from_secs(60));
    claims.exp -= 3600;
    mint(&claims, &JwtSecret::new(SECRET)).unwrap()
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn get(app: &App, uri: &str, accept_language: Option<&str>) -> Page {
    let mut req = Request::get(uri);
    if let Some(lang) = accept_language {
        req = req.header(header::ACCEPT_LANGUAGE, lang);
    }
    let resp = app
        .router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn header<'a>(page: &'a Page, name: &str) -> &'a str {
    page.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The JSON boot data of a page.
fn boot(page: &Page) -> serde_json::Value {
    let start = page
        .body
        .find(r#"<script type="application/json" id="boot">"#)
        .expect("boot data");
    let rest = &page.body[start..];
    let json = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(json).unwrap()
}

fn assert_page_headers(page: &Page) {
    let csp = header(page, "content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'self'",
    ] {
        assert!(csp.contains(part), "{part} missing in {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header(page, "referrer-policy"), "no-referrer");
    assert_eq!(header(page, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_chat_page_is_served_with_strict_headers() {
    let app = app(&[]).await;
    let t = token("drillquiz", "alice");
    let page = get(&app, &format!("/chat?token={t}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    assert_eq!(header(&page, "cache-control"), "no-store");
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(page.body.contains(r#"<html lang="en">"#));
    assert!(page.body.contains(r#"<body class="full">"#));
    assert!(page.body.contains(r#"id="sidebar""#));
    // No inline script or style, and nothing from another host.
    assert!(!page.body.contains("<script>") && !page.body.contains("style="));
    assert!(!page.body.contains("src=\"http") && !page.body.contains("href=\"http"));
    let b = boot(&page);
    assert_eq!(b["token"], t.as_str());
    assert_eq!(
        (b["systemId"].as_str(), b["userId"].as_str()),
        (Some("drillquiz"), Some("alice"))
    );
    assert_eq!(b["parentOrigin"], serde_json::Value::Null);
    for lang in ["en", "es", "ko", "zh", "ja"] {
        assert!(b["texts"][lang]["send"].is_string(), "{lang}");
    }
    // The alias answers the same page.
    let alias = get(&app, &format!("/chat-api?token={t}&embed=1"), None).await;
    assert_eq!(alias.status, StatusCode::OK);
    assert!(alias.body.contains(r#"<body class="embed">"#));
    assert!(alias.body.contains(r#"id="recent-btn""#) && !alias.body.contains(r#"id="sidebar""#));
}

#[tokio::test]
async fn language_comes_from_the_parameter_then_the_browser() {
    let app = app(&[]).await;
    let t = token("drillquiz", "alice");
    let ko = get(&app, &format!("/chat?token={t}&lang=ko-KR"), Some("ja")).await;
    assert!(ko.body.contains(r#"<html lang="ko">"#));
    assert!(ko.body.contains("전송") && ko.body.contains("새 대화"));
    assert_eq!(boot(&ko)["langSource"], "param");
    let ja = get(
        &app,
        &format!("/chat?token={t}&lang=fr"),
        Some("fr-CA,ja;q=0.8"),
    )
    .await;
    assert!(ja.body.contains(r#"<html lang="ja">"#) && ja.body.contains("送信"));
    assert_eq!(boot(&ja)["langSource"], "header");
    let en = get(&app, &format!("/chat?token={t}"), None).await;
    assert_eq!(boot(&en)["langSource"], "default");
}

#[tokio::test]
async fn token_problems_are_localized_html_pages() {
    let app = app(&[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    let missing = get(&app, "/chat?lang=ko", None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("액세스 토큰이 없습니다"),
        "{}",
        missing.body
    );
    assert_page_headers(&missing);
    assert_eq!(header(&missing, "cache-control"), "no-store");

    let expired = get(
        &app,
        &format!("/chat?token={}&lang=es", expired_token()),
        None,
    )
    .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(
        expired.body.contains("Tu sesión de chat ha caducado."),
        "{}",
        expired.body
    );
    assert!(
        expired
            .body
            .contains("Vuelve a abrir el chat desde la aplicación")
    );
    assert_eq!(boot(&expired)["error"], "token_expired");

    let forged = mint(
        &ChatClaims::new("drillquiz", "alice", Duration::from_secs(600)),
        &JwtSecret::new("another-secret-0123456789abcdef0123"),
    )
    .unwrap();
    let invalid = get(&app, &format!("/chat?token={forged}"), None).await;
    assert_eq!(invalid.status, StatusCode::UNAUTHORIZED);
    assert!(invalid.body.contains("This chat link is not valid."));

    let other = get(
        &app,
        &format!("/chat?token={}&lang=ja", token("cointutor", "bob")),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(
        other
            .body
            .contains("このアプリはチャットを利用できません。")
    );
    assert_eq!(boot(&other)["error"], "not_allowed");
}

#[tokio::test]
async fn an_expired_token_inside_the_widget_says_it_is_reconnecting() {
    let app = app(&[]).await;
    let page = get(
        &app,
        &format!(
            "/chat?token={}&embed=1&parent=http%3A%2F%2Flocalhost%3A3000",
            expired_token()
        ),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Reconnecting…"));
    assert_eq!(boot(&page)["parentOrigin"], "http://localhost:3000");
}

#[tokio::test]
async fn user_data_cannot_break_out_of_the_page() {
    let app = app(&[]).await;
    let evil = r#"<img src=x onerror=alert(1)></script><script>alert(2)</script>"#;
    let t = token("drillquiz", evil);
    let page = get(&app, &format!("/chat?token={t}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("<img src=x"),
        "identity was not escaped"
    );
    assert!(
        !page.body.contains("<script>alert"),
        "boot data closed its script element"
    );
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert_eq!(boot(&page)["userId"], evil);
}

#[tokio::test]
async fn only_allowed_parents_receive_messages() {
    let app = app(&[
        ("CHAT_GATEWAY_ENV", "production"),
        ("ALLOWED_CHAT_TOKEN_ORIGINS", "https://quiz.example.com"),
    ])
    .await;
    let t = token("drillquiz", "alice");
    let ok = get(
        &app,
        &format!("/chat?token={t}&embed=1&parent=https%3A%2F%2Fquiz.example.com"),
        None,
    )
    .await;
    assert_eq!(boot(&ok)["parentOrigin"], "https://quiz.example.com");
    let csp = header(&ok, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self'") && csp.contains("https://quiz.example.com"),
        "{csp}"
    );
    assert!(!csp.contains("localhost"), "{csp}");
    let evil = get(
        &app,
        &format!("/chat?token={t}&embed=1&parent=https%3A%2F%2Fevil.example"),
        None,
    )
    .await;
    assert_eq!(boot(&evil)["parentOrigin"], serde_json::Value::Null);
    let local = get(
        &app,
        &format!("/chat?token={t}&parent=http%3A%2F%2Flocalhost%3A3000"),
        None,
    )
    .await;
    assert_eq!(
        boot(&local)["parentOrigin"],
        serde_json::Value::Null,
        "loopback only in development"
    );
}

#[tokio::test]
async fn opening_the_page_makes_the_user_a_sync_target() {
    let app = app(&[]).await;
    let page = get(
        &app,
        &format!("/chat?token={}", token("drillquiz", "visitor-7")),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let targets = app.state().store.sync_targets().await.unwrap();
    assert!(
        targets.contains(&Identity::parse("drillquiz", "visitor-7").unwrap()),
        "{targets:?}"
    );
}

#[tokio::test]
async fn assets_are_hashed_and_cached_for_a_year() {
    let app = app(&[]).await;
    let page = get(
        &app,
        &format!("/chat?token={}", token("drillquiz", "alice")),
        None,
    )
    .await;
    let mut paths = Vec::new();
    for marker in ["href=\"", "src=\""] {
        for part in page.body.split(marker).skip(1) {
            let value = part.split('"').next().unwrap().replace("&#x2f;", "/");
            if value.starts_with("/assets/") {
                paths.push(value);
            }
        }
    }
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 3, "{paths:?}");
    for path in &paths {
        let asset = get(&app, path, None).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert_eq!(
            header(&asset, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
        let kind = header(&asset, "content-type");
        let want = if path.ends_with(".js") {
            "text/javascript"
        } else if path.ends_with(".css") {
            "text/css"
        } else {
            "image/svg+xml"
        };
        assert!(kind.starts_with(want), "{path}: {kind}");
        assert!(asset.body.len() > 100, "{path}");
    }
    let stale = get(&app, "/assets/chat.000000000000.js", None).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&stale, "cache-control"), "no-store");
}

#[tokio::test]
async fn the_front_page_links_to_health() {
    let app = app(&[]).await;
    let page = get(&app, "/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    assert!(page.body.contains("href=\"/health\""), "{}", page.body);
    // Values put into the page have `/` escaped as `&#x2f;`.
    assert!(page.body.replace("&#x2f;", "/").contains("/chat?token="));
}
