//! The sample site over HTTP, started in-process with the gateway: the demo
//! login and its cookie, CoinTutor's token endpoints (tokens the gateway
//! accepts, for the session's user only), what each page contains and its
//! CSP, the widget's files, the origins the gateway allows, and a clear
//! failure when the widget is not built.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use gateway::config::EnvVars;
use reqwest::header::{self, HeaderMap};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use sample_integration::{LaunchError, SESSION_COOKIE, Sample, SampleConfig};
use sdk::ChatTokenResponse;
use sdk::jwt::{JwtSecret, Verifier};
use serde_json::Value;

const SECRET: &str = "sample-site-tests-secret-0123456789abcdef";

fn config(extra: &[(&str, &str)]) -> SampleConfig {
    let mut vars = EnvVars::from_pairs([
        ("SAMPLE_LISTEN", "127.0.0.1:0"),
        ("CHAT_GATEWAY_LISTEN", "127.0.0.1:0"),
        ("DATABASE_URL", "sqlite::memory:"),
        ("CHAT_GATEWAY_JWT_SECRET", SECRET),
    ]);
    for (name, value) in extra {
        vars.set(*name, *value);
    }
    SampleConfig::from_env(&vars).unwrap()
}

async fn start(extra: &[(&str, &str)]) -> Sample {
    let config = config(extra);
    if let Err(e) = sample_integration::widget_files::check_built(&config.widget_dir) {
        panic!("these tests need the built widget: {e}");
    }
    Sample::start(config).await.unwrap()
}

/// A browser-like client that does not follow redirects and keeps no cookies.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Sign in as `user`; the session cookie (`name=value`).
async fn sign_in(site: &str, user: &str) -> String {
    let response = http()
        .post(format!("{site}/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("username={user}&next=%2Fcointutor"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/cointutor");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    let attributes: Vec<&str> = cookie.split("; ").collect();
    assert!(
        attributes[0].starts_with(&format!("{SESSION_COOKIE}=")),
        "{cookie}"
    );
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&wanted), "{cookie}");
    }
    attributes[0].to_owned()
}

fn location(response: &Response) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

async fn get(url: &str, cookie: Option<&str>) -> Response {
    let mut request = http().get(url);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

fn csp(headers: &HeaderMap) -> &str {
    headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap()
}

#[tokio::test]
async fn cointutor_mints_tokens_for_the_signed_in_user_only() {
    let sample = start(&[("SAMPLE_TOKEN_TTL_SECS", "120")]).await;
    let site = sample.site_url().to_owned();

    // No session: 401 in the gateway's error shape (the widget shows the message).
    let refused = get(&format!("{site}/api/chat-token?lang=en"), None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_signed_in");
    assert_eq!(body["error"]["message"], "Sign in on the site first.");

    let cookie = sign_in(&site, "erin").await;
    let answer = get(&format!("{site}/api/chat-token?lang=es"), Some(&cookie)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()[header::CACHE_CONTROL], "no-store");
    let answer: ChatTokenResponse = answer.json().await.unwrap();
    let claims = Verifier::new(&JwtSecret::new(SECRET))
        .verify(&answer.token)
        .unwrap();
    assert_eq!(
        (claims.system_id.as_str(), claims.user_id.as_str()),
        ("cointutor", "erin")
    );
    assert_eq!(Some(claims.exp), answer.expires_at);
    assert_eq!(claims.exp - claims.iat.unwrap(), 120);
    assert_eq!(answer.ui.unwrap().loading, "Cargando...");

    // The gateway takes it: erin's (empty) history.
    let me = sdk::Client::with_bearer_token(sample.gateway_url(), &answer.token).unwrap();
    assert!(me.me().conversations().await.unwrap().is_empty());

    // A chat URL, and the redirect of the link option, for erin too.
    let url: Value = get(
        &format!("{site}/api/chat-url?embed=1&lang=ko"),
        Some(&cookie),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = url["url"].as_str().unwrap();
    let prefix = format!("{}/chat?token=", sample.gateway_url());
    assert!(
        url.starts_with(&prefix) && url.ends_with("&embed=1&lang=ko"),
        "{url}"
    );
    let redirect = get(&format!("{site}/cointutor/chat"), Some(&cookie)).await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let token = location(&redirect).strip_prefix(&prefix).unwrap();
    assert_eq!(
        Verifier::new(&JwtSecret::new(SECRET))
            .verify(token)
            .unwrap()
            .user_id,
        "erin"
    );
    let signed_out = get(&format!("{site}/cointutor/chat"), None).await;
    assert_eq!(location(&signed_out), "/?next=/cointutor");

    // After signing out the cookie is worth nothing.
    let out = http()
        .post(format!("{site}/logout"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = get(&format!("{site}/api/chat-token"), Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    sample.stop().await.unwrap();
}

#[tokio::test]
async fn bad_user_names_and_foreign_redirects_are_refused() {
    let sample = start(&[]).await;
    let site = sample.site_url();
    let post = |body: &'static str| {
        http()
            .post(format!("{site}/login"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let bad = post("username=%3Cscript%3E&next=%2Fdrillquiz")
        .await
        .unwrap();
    assert_eq!(location(&bad), "/?login=invalid&next=%2Fdrillquiz");
    assert!(bad.headers().get(header::SET_COOKIE).is_none());
    let home = get(&format!("{site}/?login=invalid"), None).await;
    assert!(home.text().await.unwrap().contains("Use 1–64 letters"));
    let away = post("username=frank&next=%2F%2Fevil.example")
        .await
        .unwrap();
    assert_eq!(location(&away), "/");
    sample.stop().await.unwrap();
}

#[tokio::test]
async fn only_the_drillquiz_page_holds_the_api_key() {
    let sample = start(&[]).await;
    let site = sample.site_url().to_owned();
    let gateway = sample.gateway_url();
    let key = sample.api_key();
    let cookie = sign_in(&site, "gina").await;

    let cointutor = get(&format!("{site}/cointutor"), Some(&cookie)).await;
    assert_eq!(cointutor.status(), StatusCode::OK);
    let policy = csp(cointutor.headers()).to_owned();
    assert!(
        policy.contains(&format!("frame-src {gateway};")),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{policy}"
    );
    let html = cointutor.text().await.unwrap();
    assert!(!html.contains(key) && !html.contains(SECRET));
    let tag = format!(
        "<script type=\"module\" src=\"/tz-chat/loader.js\"\n        data-token-url=\"/api/chat-token\"\n        data-gateway=\"{gateway}\"></script>"
    );
    assert!(
        html.contains(&tag),
        "the page does not run the 3-line tag:\n{html}"
    );
    assert!(
        html.contains("async fn chat_token("),
        "the endpoint code is not shown"
    );
    for page in [
        "/",
        "/cointutor/iframe",
        "/static/site.js",
        "/static/cointutor.js",
        "/tz-chat/loader.js",
    ] {
        let text = get(&format!("{site}{page}"), Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(!text.contains(key) && !text.contains(SECRET), "{page}");
    }

    let drillquiz = get(&format!("{site}/drillquiz"), Some(&cookie)).await;
    let policy = csp(drillquiz.headers()).to_owned();
    assert!(
        policy.contains(&format!("connect-src 'self' {gateway};")),
        "{policy}"
    );
    let html = drillquiz.text().await.unwrap();
    assert!(html.contains(&format!("data-api-key=\"{key}\"")));
    assert!(html.contains("data-user-id=\"gina\""));
    assert!(html.contains("this page contains a gateway API key"));
    assert!(!html.contains(SECRET));
    let anonymous = get(&format!("{site}/drillquiz"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(anonymous.contains("data-user-id=\"\""));
    assert!(anonymous.contains("shared a single chat history"));
    sample.stop().await.unwrap();
}

#[tokio::test]
async fn the_widget_files_are_served_with_their_types() {
    let sample = start(&[]).await;
    let site = sample.site_url();
    for (file, kind) in [
        ("loader.js", "text/javascript; charset=utf-8"),
        ("widget.js", "text/javascript; charset=utf-8"),
        ("widget_bg.wasm", "application/wasm"),
    ] {
        let response = get(&format!("{site}/tz-chat/{file}"), None).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], kind, "{file}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{file}");
    }
    for missing in ["index.html", "..%2FCargo.toml", "demo.js"] {
        let response = get(&format!("{site}/tz-chat/{missing}"), None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    sample.stop().await.unwrap();
}

#[tokio::test]
async fn the_gateway_allows_token_requests_from_the_site_only() {
    // Production mode: no loopback exception, only the listed origins.
    let sample = start(&[
        ("CHAT_GATEWAY_ENV", "production"),
        ("SAMPLE_URL", "http://quiz.sample.test"),
    ])
    .await;
    assert_eq!(sample.site_url(), "http://quiz.sample.test");
    let ask = |origin: &'static str| {
        http()
            .get(format!(
                "{}/v1/chat-token?system_id=drillquiz&user_id=hana",
                sample.gateway_url()
            ))
            .header("X-API-Key", sample.api_key())
            .header(header::ORIGIN, origin)
            .send()
    };
    assert_eq!(
        ask("http://quiz.sample.test").await.unwrap().status(),
        StatusCode::OK
    );
    let refused = ask("http://localhost:3000").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // The demo still answers in production mode (the sample turns it on).
    let client = sdk::Client::with_api_key(sample.gateway_url(), sample.api_key()).unwrap();
    let reply = client
        .user("drillquiz", "hana")
        .chat(sdk::ChatRequest::new("Hello"))
        .await
        .unwrap();
    assert!(reply.answer.contains("Hello"), "{}", reply.answer);
    sample.stop().await.unwrap();
}

#[tokio::test]
async fn without_the_built_widget_the_site_says_how_to_build_it() {
    let empty = std::env::temp_dir().join(format!("sample-no-widget-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let dir = empty.to_str().unwrap().to_owned();
    let err = Sample::start(config(&[("SAMPLE_WIDGET_DIR", &dir)]))
        .await
        .unwrap_err();
    std::fs::remove_dir_all(&empty).unwrap();
    assert!(matches!(err, LaunchError::Site(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("widget/build.sh") && message.contains("loader.js"),
        "{message}"
    );
}
