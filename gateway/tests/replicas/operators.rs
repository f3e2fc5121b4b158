//! Operators across replicas: added with the `chat-gateway operator`
//! command, signed in on one replica, signed out there and refused on the
//! other; a key revoked on one replica refused by the other.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use testkit::fake_dify::FakeOptions;

use crate::cluster::{API_KEY, Cluster};

const PASSWORD: &str = "replica operator password";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn me(base: &str, cookie: &str) -> StatusCode {
    client()
        .get(format!("{base}/v1/admin/me"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_from_the_command_line_and_sign_out_seen_by_every_replica() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let (ok, out) = cluster
        .command(
            &[
                "operator",
                "add",
                "--email",
                "ops@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert!(ok, "{out}");
    let (ok, out) = cluster
        .command(
            &[
                "operator",
                "add",
                "--email",
                "ana@example.com",
                "--role",
                "analyst",
                "--systems",
                "shop,blog",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert!(ok, "{out}");
    let (ok, out) = cluster.command(&["operator", "list"], "").await;
    assert!(ok, "{out}");
    assert!(out.contains("ops@example.com\tadmin\tall systems"), "{out}");
    assert!(out.contains("ana@example.com\tanalyst\tshop,blog"), "{out}");
    // The password is never an argument, and a short one is refused.
    let (ok, out) = cluster
        .command(
            &[
                "operator",
                "add",
                "--email",
                "x@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ],
            "short\n",
        )
        .await;
    assert!(!ok && out.contains("at least 12"), "{out}");

    let (a, b) = (cluster.replica().await, cluster.replica().await);
    let resp = client()
        .post(format!("{}/admin/login", a.base))
        .json(&json!({"email": "ops@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = resp.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        me(&b.base, &cookie).await,
        StatusCode::OK,
        "B knows A's session"
    );
    let resp = client()
        .post(format!("{}/admin/logout", b.base))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        me(&a.base, &cookie).await,
        StatusCode::UNAUTHORIZED,
        "signed out on B, refused by A"
    );

    // A password change ends sessions everywhere too.
    let resp = client()
        .post(format!("{}/admin/login", a.base))
        .json(&json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(me(&b.base, &cookie).await, StatusCode::OK);
    let (ok, out) = cluster
        .command(
            &[
                "operator",
                "passwd",
                "--email",
                "ana@example.com",
                "--password-stdin",
            ],
            "another long password\n",
        )
        .await;
    assert!(ok, "{out}");
    assert_eq!(me(&b.base, &cookie).await, StatusCode::UNAUTHORIZED);
    let (ok, out) = cluster
        .command(&["operator", "remove", "--email", "ana@example.com"], "")
        .await;
    assert!(ok, "{out}");
    let (_, out) = cluster.command(&["operator", "list"], "").await;
    assert!(!out.contains("ana@example.com"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_replica_is_refused_by_the_other() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let (a, b) = (cluster.replica().await, cluster.replica().await);
    let created: Value = client()
        .post(format!("{}/v1/admin/keys", a.base))
        .header("x-api-key", API_KEY)
        .json(&json!({"name": "shop", "systems": ["shop"], "permissions": ["tokens"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let mint = |base: String, key: String| async move {
        client()
            .get(format!("{base}/v1/chat-token?system_id=shop&user_id=u1"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
            .status()
    };
    // B learns of the new key on its next reload of the key table.
    let until = |status: StatusCode, base: String| {
        let key = key.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let got = mint(base.clone(), key.clone()).await;
                if got == status || Instant::now() > deadline {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(until(StatusCode::OK, b.base.clone()).await, StatusCode::OK);
    let resp = client()
        .delete(format!("{}/v1/admin/keys/{id}", a.base))
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        mint(a.base.clone(), key.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        until(StatusCode::UNAUTHORIZED, b.base.clone()).await,
        StatusCode::UNAUTHORIZED,
        "B refuses the key once it reloads"
    );
}
