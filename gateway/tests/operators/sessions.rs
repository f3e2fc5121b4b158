//! Sign-in, sessions, CSRF and throttling.

use gateway::operators::Role;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::json;
use testkit::{Database, TestGateway, Upstream};

use crate::{
    PASSWORD, add_operator, client, code, gateway, login, login_json, set_cookie, status_json,
};

async fn me(base: &str, cookie: &str) -> u16 {
    client()
        .get(format!("{base}/v1/admin/me"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "Ada@Example.com", Role::Admin, None).await;
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let header = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attribute), "{header}");
    }
    // Plain HTTP: no Secure (the browser would drop it) and no __Host-.
    assert!(header.starts_with("tzc_admin="), "{header}");
    assert!(!header.contains("Secure"), "{header}");
    let cookie = set_cookie(&resp).unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["email"], "ada@example.com");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(me(gw.url(), &cookie).await, 200);

    // Sign-out is a change: without the CSRF token it is refused.
    let resp = client()
        .post(format!("{}/admin/logout", gw.url()))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!((status, code(&body)), (403, "csrf_rejected"));
    assert_eq!(me(gw.url(), &cookie).await, 200, "still signed in");

    let resp = client()
        .post(format!("{}/admin/logout?csrf={csrf}", gw.url()))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        me(gw.url(), &cookie).await,
        401,
        "the session is gone, not only the cookie"
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_with_the_host_prefix() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("CHAT_GATEWAY_URL", "https://chat.example.com")
        .start()
        .await
        .unwrap();
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let header = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(header.starts_with("__Host-tzc_admin="), "{header}");
    assert!(header.contains("; Secure"), "{header}");
    assert!(!header.contains("Domain"), "{header}");
    // A sign-in posted from another site's page is refused.
    let resp = client()
        .post(format!("{}/admin/login", gw.url()))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // So is one a browser says comes from another site.
    let resp = client()
        .post(format!("{}/admin/login", gw.url()))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "null")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signing_in_always_makes_a_new_session_id() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    // A session id planted by an attacker is not adopted.
    let planted = "tzc_admin=attacker-chosen-value";
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, Some(planted)).await;
    let fresh = set_cookie(&resp).unwrap();
    assert_ne!(fresh, planted);
    assert_eq!(me(gw.url(), planted).await, 401);
    // Signing in again from a live session replaces it: the old id dies.
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, Some(&fresh)).await;
    let second = set_cookie(&resp).unwrap();
    assert_ne!(second, fresh);
    assert_eq!(me(gw.url(), &second).await, 200);
    assert_eq!(me(gw.url(), &fresh).await, 401);
}

#[tokio::test]
async fn state_changing_calls_from_a_session_need_its_csrf_token() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let session = login(gw.url(), "ada@example.com").await;
    let other = {
        add_operator(&gw, "bo@example.com", Role::Admin, None).await;
        login(gw.url(), "bo@example.com").await
    };
    let create = |token: Option<String>| {
        let mut req = client()
            .post(format!("{}/v1/admin/keys", gw.url()))
            .header(COOKIE, &session.cookie)
            .json(&json!({"name": "k", "permissions": ["chat"]}));
        if let Some(token) = token {
            req = req.header("x-csrf-token", token);
        }
        req.send()
    };
    let (status, body) = status_json(create(None).await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, "csrf_rejected"));
    // Another session's token is not this session's.
    let (status, body) = status_json(create(Some(other.csrf.clone())).await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, "csrf_rejected"));
    let (status, body) = status_json(create(Some(session.csrf.clone())).await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    // Reads need no token.
    let resp = client()
        .get(format!("{}/v1/admin/keys", gw.url()))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The page form carries it in its action.
    let resp = client()
        .post(format!("{}/admin/keys?csrf={}", gw.url(), session.csrf))
        .header(COOKIE, &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=from+the+form&permissions=read")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.text().await.unwrap().contains("tzk_"));
    let resp = client()
        .post(format!("{}/admin/keys", gw.url()))
        .header(COOKIE, &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=no+token&permissions=read")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_get_the_same_answer() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let unknown =
        status_json(login_json(gw.url(), "nobody@example.com", PASSWORD, None).await).await;
    let wrong =
        status_json(login_json(gw.url(), "ada@example.com", "not the password", None).await).await;
    // The same answer, but for each request's own id.
    let without_id = |(status, mut body): (_, serde_json::Value)| {
        body["error"].as_object_mut().unwrap().remove("request_id");
        (status, body)
    };
    assert_eq!(without_id(unknown.clone()), without_id(wrong));
    assert_eq!((unknown.0, code(&unknown.1)), (401, "invalid_credentials"));
}

#[tokio::test]
async fn five_failures_for_an_account_lock_it_with_retry_after() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    for _ in 0..5 {
        let resp = login_json(gw.url(), "ada@example.com", "wrong password!", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // The right password does not help now.
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let (_, body) = status_json(resp).await;
    assert_eq!(code(&body), "rate_limited");
    // Nor does the login form.
    let resp = client()
        .post(format!("{}/admin/login", gw.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=ada%40example.com&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(RETRY_AFTER));
}

#[tokio::test]
async fn five_failures_from_one_address_lock_that_address() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    // Guessing across accounts from one address.
    for i in 0..5 {
        let resp = login_json(gw.url(), &format!("guess{i}@example.com"), PASSWORD, None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = login_json(gw.url(), "ada@example.com", PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Behind a trusted reverse proxy every sign-in comes from the proxy's
/// address; the failures count against the client the proxy names in
/// `X-Forwarded-For`, so one client's guessing locks out only that client.
#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_address() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .database(Database::SqliteFile)
        .env("CHAT_GATEWAY_TRUSTED_PROXIES", "127.0.0.1")
        .start()
        .await
        .unwrap();
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let sign_in = |from: &'static str, email: String| {
        client()
            .post(format!("{}/admin/login", gw.url()))
            .header("X-Forwarded-For", from)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
    };
    for i in 0..5 {
        let resp = sign_in("203.0.113.1", format!("guess{i}@example.com"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = sign_in("203.0.113.1", "ada@example.com".into())
        .await
        .unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = sign_in("203.0.113.2", "ada@example.com".into())
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn analysts_see_their_systems_and_no_admin_api() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ana@example.com", Role::Analyst, Some(&["cointutor"])).await;
    let session = login(gw.url(), "ana@example.com").await;
    let resp = client()
        .get(format!("{}/v1/admin/me", gw.url()))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["admin"], false);
    assert_eq!(body["systems"], json!(["cointutor"]));
    for path in ["/v1/admin/keys", "/v1/admin/audit", "/v1/admin/operators"] {
        let resp = client()
            .get(format!("{}{path}", gw.url()))
            .header(COOKIE, &session.cookie)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{path}");
    }
    let resp = client()
        .post(format!("{}/v1/admin/keys", gw.url()))
        .header(COOKIE, &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&json!({"name": "k", "permissions": ["chat"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The shell's navigation lists what an analyst may open, the status
    // page among it, and none of the admin pages.
    let shell = client()
        .get(format!("{}/admin?lang=en", gw.url()))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nav = &shell[shell.find("admin-nav").unwrap()..];
    // The template escapes `/` in attributes.
    let nav = nav[..nav.find("</nav>").unwrap()].replace("&#x2f;", "/");
    for path in ["/admin/conversations", "/admin/analytics", "/admin/status"] {
        assert!(nav.contains(&format!("href=\"{path}")), "{path} in {nav}");
    }
    assert!(nav.contains(">Status<"), "{nav}");
    for path in [
        "/admin/systems",
        "/admin/operators",
        "/admin/keys",
        "/admin/audit",
    ] {
        assert!(!nav.contains(&format!("href=\"{path}")), "{path} in {nav}");
    }
    // Pages: the shell yes, admin pages no.
    for (path, expected) in [("/admin", 200), ("/admin/keys", 403), ("/admin/audit", 403)] {
        let resp = client()
            .get(format!("{}{path}", gw.url()))
            .header(COOKIE, &session.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), expected, "{path}");
    }
    // Without a session, pages send the browser to sign in.
    let resp = client()
        .get(format!("{}/admin/keys", gw.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login")
    );
}
