//! The systems and agents pages' forms (`POST /admin/systems…`): CSRF,
//! roles, problems shown next to their field in the page's language, the
//! environment's systems read-only, and Test.

use gateway::operators::Role;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use testkit::{Database, TestGateway, Upstream};

use crate::{Session, add_operator, client, code, gateway, login, status_json};

async fn post_form(
    gw: &TestGateway,
    session: &Session,
    path: &str,
    csrf: bool,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = if csrf {
        format!("{}{path}{sep}csrf={}", gw.url(), session.csrf)
    } else {
        format!("{}{path}", gw.url())
    };
    client()
        .post(url)
        .header(COOKIE, &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
        .send()
        .await
        .unwrap()
}

async fn page(gw: &TestGateway, session: &Session, path: &str) -> (StatusCode, String) {
    let resp = client()
        .get(format!("{}{path}", gw.url()))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, html_of(resp).await)
}

/// A page's HTML, with the `/` the template engine escapes put back.
async fn html_of(resp: reqwest::Response) -> String {
    resp.text().await.unwrap().replace("&#x2f;", "/")
}

/// The text of the problem shown next to field `name`.
fn problem(html: &str, name: &str) -> Option<String> {
    let marker = format!("id=\"e-{name}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('<')?;
    Some(html[start..start + end].to_owned())
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_an_admin() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    add_operator(&gw, "ana@example.com", Role::Analyst, Some(&["quiz"])).await;
    let ada = login(gw.url(), "ada@example.com").await;
    let (status, body) =
        status_json(post_form(&gw, &ada, "/admin/systems", false, &[("id", "quiz")]).await).await;
    assert_eq!((status, code(&body)), (403, "csrf_rejected"));

    let ana = login(gw.url(), "ana@example.com").await;
    let (status, body) =
        status_json(post_form(&gw, &ana, "/admin/systems", true, &[("id", "quiz")]).await).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    assert!(gw.state().catalog.list_systems().await.unwrap().is_empty());
    let (status, _) = page(&gw, &ana, "/admin/systems").await;
    assert_eq!(status, 403);
    let (_, home) = page(&gw, &ana, "/admin").await;
    assert!(!home.contains("href=\"/admin/systems"), "{home}");
    let (_, home) = page(&gw, &ada, "/admin").await;
    assert!(home.contains("href=\"/admin/systems"), "{home}");
}

#[tokio::test]
async fn problems_are_shown_next_to_their_field_in_the_pages_language() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let ada = login(gw.url(), "ada@example.com").await;
    let typed = [
        ("id", "not an id"),
        ("display_name", "Quiz"),
        ("origins", "https://quiz.example"),
    ];
    let mut texts = Vec::new();
    for lang in ["en", "es"] {
        let resp = post_form(
            &gw,
            &ada,
            &format!("/admin/systems?lang={lang}"),
            true,
            &typed,
        )
        .await;
        assert_eq!(resp.status(), 422);
        let html = html_of(resp).await;
        assert!(html.contains(&format!("<html lang=\"{lang}\"")));
        // The form keeps what was typed, and marks the field.
        assert!(html.contains("value=\"not an id\""), "{html}");
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        assert_eq!(problem(&html, "origins"), None);
        texts.push(problem(&html, "id").unwrap());
    }
    assert_ne!(texts[0], texts[1], "the Spanish page speaks Spanish");

    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems",
        true,
        &[("id", "quiz"), ("origins", "ftp://files.example")],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = html_of(resp).await;
    assert!(
        problem(&html, "origins")
            .unwrap()
            .contains("ftp://files.example")
    );
    assert!(gw.state().catalog.list_systems().await.unwrap().is_empty());

    // An agent: fields of another kind, a number that is none.
    let resp = post_form(&gw, &ada, "/admin/systems", true, &[("id", "quiz")]).await;
    assert_eq!(resp.status(), 303);
    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems/quiz/agents",
        true,
        &[
            ("id", "flow"),
            ("kind", "n8n"),
            ("url", "http://127.0.0.1:9/webhook/flow"),
            ("model", "gpt"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = html_of(resp).await;
    assert!(problem(&html, "model").is_some(), "{html}");
    assert!(html.contains("value=\"gpt\""));
    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems/quiz/agents",
        true,
        &[("id", "tutor"), ("kind", "openai"), ("temperature", "warm")],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = html_of(resp).await;
    assert!(problem(&html, "temperature").is_some(), "{html}");
    assert!(
        gw.state()
            .catalog
            .list_agents("quiz")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_environments_systems_are_read_only() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("ALLOWED_SYSTEM_IDS", "drillquiz")
        .start()
        .await
        .unwrap();
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let ada = login(gw.url(), "ada@example.com").await;
    let (status, html) = page(&gw, &ada, "/admin/systems/drillquiz").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("/admin/systems/drillquiz?csrf"),
        "no edit form"
    );
    for (path, form) in [
        ("/admin/systems/drillquiz", vec![("display_name", "Mine")]),
        (
            "/admin/systems/drillquiz/enabled",
            vec![("enabled", "false")],
        ),
        ("/admin/systems/drillquiz/delete", vec![("confirm", "yes")]),
    ] {
        let resp = post_form(&gw, &ada, path, true, &form).await;
        assert_eq!(resp.status(), 409, "{path}");
        assert!(html_of(resp).await.contains("class=\"admin-error\""));
    }
    let system = gw.state().catalog.get_system("drillquiz").await.unwrap();
    assert!(system.enabled && system.read_only);
    // Creating one of its name is refused the same way.
    let resp = post_form(&gw, &ada, "/admin/systems", true, &[("id", "drillquiz")]).await;
    assert_eq!(resp.status(), 409);
}

#[tokio::test]
async fn a_system_is_created_tested_disabled_and_deleted_through_its_page() {
    let gw = gateway(Database::SqliteFile).await;
    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let ada = login(gw.url(), "ada@example.com").await;
    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems?lang=ko",
        true,
        &[
            ("id", "quiz"),
            ("display_name", "Quiz"),
            ("origins", "https://quiz.example\nhttps://b.example"),
            ("enabled", "true"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()[LOCATION],
        "/admin/systems/quiz?lang=ko&saved=1"
    );
    let system = gw.state().catalog.get_system("quiz").await.unwrap();
    assert_eq!(
        system.allowed_origins,
        ["https://quiz.example", "https://b.example"]
    );

    // Test: the demo answers; the link opens the chat for a test user.
    let resp = post_form(&gw, &ada, "/admin/systems/quiz/test", true, &[]).await;
    assert_eq!(resp.status(), 200);
    let html = html_of(resp).await;
    assert!(html.contains("class=\"admin-probe-answer\""), "{html}");
    let marker = "id=\"open-chat\" href=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let link = html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(link.starts_with("/chat?token="), "{link}");
    let resp = client()
        .get(format!("{}{link}", gw.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let token = link["/chat?token=".len()..]
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let chat = |token: String| {
        let url = format!("{}/v1/chat", gw.url());
        async move {
            client()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({"message": "hi"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(chat(token.clone()).await, 200);
    let audit = gw.state().store.list_audit(10, None).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|l| l.action.as_str()).collect();
    assert!(actions.contains(&"system.create") && actions.contains(&"system.test"));
    assert!(
        audit
            .iter()
            .any(|l| l.target.contains("admin-test:operator:ada@example.com")
                || l.target.contains("admin-test:ada@example.com")),
        "{audit:?}"
    );

    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems/quiz/enabled",
        true,
        &[("enabled", "false")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert!(!gw.state().catalog.get_system("quiz").await.unwrap().enabled);
    assert_eq!(chat(token).await, 403, "the test user is refused too");

    // Delete wants its box ticked.
    let resp = post_form(&gw, &ada, "/admin/systems/quiz/delete", true, &[]).await;
    assert_eq!(resp.status(), 422);
    assert!(problem(&html_of(resp).await, "confirm").is_some());
    let resp = post_form(
        &gw,
        &ada,
        "/admin/systems/quiz/delete",
        true,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert!(gw.state().catalog.list_systems().await.unwrap().is_empty());
}
