//! Scoped API keys: shown once, stored as a hash, validated, revoked at
//! once, audited.

use gateway::operators::Role;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use testkit::Database;

use crate::{add_operator, client, code, gateway, login, status_json};

async fn post_key(base: &str, key: &str, body: Value) -> (u16, Value) {
    status_json(
        client()
            .post(format!("{base}/v1/admin/keys"))
            .header("x-api-key", key)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn chat(base: &str, key: &str) -> u16 {
    client()
        .post(format!("{base}/v1/chat"))
        .header("x-api-key", key)
        .json(&json!({"system_id": "cointutor", "user_id": "u1", "message": "hi"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_key_is_shown_once_kept_as_a_hash_and_revoked_at_once() {
    let gw = gateway(Database::SqliteFile).await;
    let base = gw.url();
    let (status, created) = post_key(
        base,
        gw.api_key(),
        json!({"name": "CoinTutor backend", "systems": ["cointutor"], "permissions": ["chat", "tokens"],
               "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("tzk_") && key.len() > 40, "{key}");
    assert_eq!(created["created_by"], "root key");
    assert_eq!(created["systems"], json!(["cointutor"]));
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    let id = created["id"].as_str().unwrap().to_owned();

    // Listed without the key; the database holds only its hash.
    let (status, listed) = status_json(
        client()
            .get(format!("{base}/v1/admin/keys"))
            .header("x-api-key", gw.api_key())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(&key));
    assert_eq!(listed[0]["name"], "CoinTutor backend");
    let stored = gw.state().store.list_api_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].digest, key);
    assert!(!stored[0].digest.contains(&key[4..]));

    assert_eq!(chat(base, &key).await, 200);
    let resp = client()
        .delete(format!("{base}/v1/admin/keys/{id}"))
        .header("x-api-key", gw.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        chat(base, &key).await,
        401,
        "revoked on this replica at once"
    );
    let resp = client()
        .delete(format!("{base}/v1/admin/keys/{id}"))
        .header("x-api-key", gw.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "already revoked");

    // Both actions are in the audit log, newest first.
    let (_, lines) = status_json(
        client()
            .get(format!("{base}/v1/admin/audit"))
            .header("x-api-key", gw.api_key())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let actions: Vec<(&str, &str, &str)> = lines
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
            ("root key", "key.revoke", id.as_str()),
            ("root key", "key.create", id.as_str())
        ]
    );
    assert_eq!(lines[0]["address"], "127.0.0.1");
}

#[tokio::test]
async fn bad_key_requests_are_refused_with_the_field_named() {
    let gw = gateway(Database::SqliteFile).await;
    for (body, field) in [
        (json!({"name": "k", "permissions": ["write"]}), "permission"),
        (json!({"name": "k", "permissions": []}), "permissions"),
        (json!({"name": " ", "permissions": ["chat"]}), "name"),
        (
            json!({"name": "k", "permissions": ["admin"], "systems": ["cointutor"]}),
            "systems",
        ),
        (
            json!({"name": "k", "permissions": ["chat"], "systems": ["Not A System!"]}),
            "system",
        ),
        (
            json!({"name": "k", "permissions": ["chat"], "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let (status, reply) = post_key(gw.url(), gw.api_key(), body.clone()).await;
        assert_eq!((status, code(&reply)), (422, "validation_failed"), "{body}");
        assert!(
            reply["detail"].as_str().unwrap().contains(field),
            "{body}: {reply}"
        );
    }
    assert!(gw.state().store.list_api_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn only_admins_and_admin_keys_manage_keys() {
    let gw = gateway(Database::SqliteFile).await;
    let (_, created) = post_key(
        gw.url(),
        gw.api_key(),
        json!({"name": "admin", "permissions": ["admin"]}),
    )
    .await;
    let admin_key = created["key"].as_str().unwrap().to_owned();
    let (status, created) = post_key(
        gw.url(),
        &admin_key,
        json!({"name": "made by a key", "permissions": ["read"]}),
    )
    .await;
    assert_eq!(status, 201);
    let read_key = created["key"].as_str().unwrap().to_owned();
    assert!(created["created_by"].as_str().unwrap().starts_with("key:"));
    let (status, body) = post_key(
        gw.url(),
        &read_key,
        json!({"name": "x", "permissions": ["chat"]}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "forbidden"));

    add_operator(&gw, "ada@example.com", Role::Admin, None).await;
    let session = login(gw.url(), "ada@example.com").await;
    let (status, created) = status_json(
        client()
            .post(format!("{}/v1/admin/keys", gw.url()))
            .header(COOKIE, &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .json(&json!({"name": "by ada", "permissions": ["sync"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(created["created_by"], "operator:ada@example.com");
}
