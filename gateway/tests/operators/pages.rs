//! The `/admin` pages' HTML and headers (the console in a browser is in
//! `browser::admin`).

use gateway::operators::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE};
use testkit::Database;

use crate::{add_operator, client, gateway, login};

#[tokio::test]
async fn the_console_is_served_with_strict_headers_and_no_inline_script() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let session = login(gw.url(), "ada@example.com").await;
    for path in [
        "/admin/login",
        "/admin",
        "/admin/operators",
        "/admin/keys",
        "/admin/audit",
    ] {
        let resp = client()
            .get(format!("{}{path}", gw.url()))
            .header(COOKIE, &session.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("form-action 'self'"), "{path}: {csp}");
        assert!(csp.ends_with("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
        let html = resp.text().await.unwrap();
        // Scripts only as modules from /assets/, never inline, nothing from elsewhere.
        for tag in html.split("<script").skip(1) {
            // (The template engine escapes `/` as `&#x2f;`.)
            let tag = tag.replace("&#x2f;", "/");
            assert!(
                tag.trim_start()
                    .starts_with("type=\"module\" src=\"/assets/admin."),
                "{path}: {tag}"
            );
        }
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_console_speaks_the_five_languages() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let session = login(gw.url(), "ada@example.com").await;
    for (lang, sign_out, keys) in [
        ("en", "Sign out", "API keys"),
        ("es", "Cerrar sesión", "Claves de API"),
        ("ko", "로그아웃", "API 키"),
        ("zh", "退出登录", "API 密钥"),
        ("ja", "サインアウト", "API キー"),
    ] {
        let html = client()
            .get(format!("{}/admin/keys?lang={lang}", gw.url()))
            .header(COOKIE, &session.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
        assert!(html.contains(sign_out), "{lang}");
        assert!(html.contains(keys), "{lang}");
    }
    // Without a parameter the browser's language is used.
    let html = client()
        .get(format!("{}/admin/login", gw.url()))
        .header("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("로그인"), "{html}");
}
