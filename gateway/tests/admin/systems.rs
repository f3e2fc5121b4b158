//! Creating, listing, changing and deleting systems; what is refused.

use reqwest::Method;
use serde_json::json;

use crate::support::{call, call_with, code, gateway};

#[tokio::test]
async fn systems_are_created_listed_changed_and_deleted() {
    let gw = gateway(&[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    let (status, created) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({
            "id": "cointutor",
            "display_name": "CoinTutor",
            "allowed_origins": ["https://Coin.Example.com/", "http://localhost:5173"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "cointutor");
    assert_eq!(
        created["allowed_origins"],
        json!(["https://coin.example.com", "http://localhost:5173"])
    );
    assert_eq!(
        (
            &created["enabled"],
            &created["source"],
            &created["read_only"]
        ),
        (&json!(true), &json!("database"), &json!(false))
    );

    // The list has the environment's system, read-only, and the new one.
    let (status, listed) = call(&gw, Method::GET, "/v1/admin/systems", None).await;
    assert_eq!(status, 200);
    let summary: Vec<_> = listed["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["source"].as_str().unwrap(),
                s["read_only"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("drillquiz", "env", true), ("cointutor", "database", false)]
    );

    let (status, changed) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/cointutor",
        Some(json!({"display_name": "Coin Tutor", "enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["display_name"], &changed["enabled"]),
        (&json!("Coin Tutor"), &json!(false))
    );
    assert_eq!(
        changed["allowed_origins"], created["allowed_origins"],
        "a PATCH keeps what it does not name"
    );
    let (_, shown) = call(&gw, Method::GET, "/v1/admin/systems/cointutor", None).await;
    assert_eq!(shown, changed);

    let (status, _) = call(&gw, Method::DELETE, "/v1/admin/systems/cointutor", None).await;
    assert_eq!(status, 204);
    let (status, body) = call(&gw, Method::GET, "/v1/admin/systems/cointutor", None).await;
    assert_eq!((status, code(&body)), (404, "not_found"));

    // Each change is in the audit log, newest first, by the key that made it.
    let (status, lines) = call(&gw, Method::GET, "/v1/admin/audit", None).await;
    assert_eq!(status, 200, "{lines}");
    let actions: Vec<_> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["actor"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("root key", "system.delete", "cointutor"),
            ("root key", "system.update", "cointutor"),
            ("root key", "system.create", "cointutor"),
        ]
    );
}

#[tokio::test]
async fn bad_requests_get_the_one_error_shape() {
    let gw = gateway(&[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    let create = |body| call(&gw, Method::POST, "/v1/admin/systems", Some(body));
    for (body, why) in [
        (json!({"display_name": "no id"}), "id is required"),
        (json!({"id": "bad id!"}), "id"),
        (
            json!({"id": "ok", "allowed_origins": ["coin.example.com"]}),
            "origin",
        ),
        (
            json!({"id": "ok", "allowed_origins": ["https://a.example/path"]}),
            "origin",
        ),
        (
            json!({"id": "ok", "allowed_origins": ["https://a.example;frame-ancestors *"]}),
            "origin",
        ),
        (json!({"id": "ok", "colour": "red"}), "unknown field"),
        (json!({"id": "ok", "enabled": "yes"}), "invalid type"),
    ] {
        let (status, err) = create(body.clone()).await;
        assert_eq!(
            (status, code(&err)),
            (422, "validation_failed"),
            "{body}: {err}"
        );
        assert!(
            err["error"]["message"].as_str().unwrap().contains(why),
            "{body}: {err}"
        );
        assert_eq!(err["detail"], err["error"]["message"]);
    }

    let (status, _) = create(json!({"id": "ok"})).await;
    assert_eq!(status, 201);
    let (status, err) = create(json!({"id": "ok"})).await;
    assert_eq!((status, code(&err)), (409, "already_exists"), "{err}");

    // What the environment defines cannot be changed here.
    let (status, err) = create(json!({"id": "drillquiz"})).await;
    assert_eq!((status, code(&err)), (409, "read_only"), "{err}");
    let (status, err) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/drillquiz",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!((status, code(&err)), (409, "read_only"), "{err}");
    let (status, err) = call(&gw, Method::DELETE, "/v1/admin/systems/drillquiz", None).await;
    assert_eq!((status, code(&err)), (409, "read_only"), "{err}");

    let (status, err) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/nobody",
        Some(json!({})),
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
    let (status, err) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/ok",
        Some(json!({"id": "renamed"})),
    )
    .await;
    assert_eq!((status, code(&err)), (422, "validation_failed"), "{err}");
}

#[tokio::test]
async fn only_the_root_key_may_administer() {
    let gw = gateway(&[]).await;
    let (status, err) = call_with(&gw, Method::GET, "/v1/admin/systems", None, &[]).await;
    assert_eq!((status, code(&err)), (401, "missing_credentials"));
    let (status, err) = call_with(
        &gw,
        Method::GET,
        "/v1/admin/systems",
        None,
        &[("x-api-key", "not-the-key")],
    )
    .await;
    assert_eq!((status, code(&err)), (401, "invalid_api_key"));
    // A chat token is an end user's, never an operator's.
    let bearer = format!("Bearer {}", gw.token("drillquiz", "u1"));
    let (status, err) = call_with(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": "sneaky"})),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!((status, code(&err)), (401, "missing_credentials"));
}

#[tokio::test]
async fn a_systems_origins_mint_its_tokens_and_frame_its_chat_page() {
    let gw = gateway(&[]).await;
    let (status, _) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": "cointutor", "allowed_origins": ["https://coin.example.com"]})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": "drill"})),
    )
    .await;
    assert_eq!(status, 201);
    let mint = |system: &'static str| {
        let gw = &gw;
        async move {
            call_with(
                gw,
                Method::GET,
                &format!("/v1/chat-token?system_id={system}&user_id=ann"),
                None,
                &[
                    ("x-api-key", gw.api_key()),
                    ("origin", "https://coin.example.com"),
                ],
            )
            .await
        }
    };
    let (status, body) = mint("cointutor").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = mint("drill").await;
    assert_eq!(
        (status, code(&body)),
        (403, "origin_not_allowed"),
        "another system's origin"
    );

    let frame_ancestors = |system: &'static str| {
        let url = format!("{}/chat?token={}", gw.url(), gw.token(system, "ann"));
        async move {
            let page = reqwest::get(url).await.unwrap();
            assert_eq!(page.status(), 200);
            let csp = page.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("frame-ancestors"))
                .unwrap()
                .to_owned()
        }
    };
    assert!(
        frame_ancestors("cointutor")
            .await
            .contains(" https://coin.example.com"),
        "its own page"
    );
    assert!(
        !frame_ancestors("drill").await.contains("coin.example.com"),
        "not another system's page"
    );
}
