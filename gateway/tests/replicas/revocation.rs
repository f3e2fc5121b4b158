//! A token revoked through one replica is refused by the other once it has
//! reloaded its revocations (within `CHAT_GATEWAY_REVOCATION_REFRESH_SECS`),
//! without a database read per request.

use std::time::{Duration, Instant};

use sdk::jwt::{ChatClaims, JwtSecret, mint};
use serde_json::{Value, json};
use testkit::fake_dify::FakeOptions;

use crate::cluster::{Cluster, JWT_SECRET, Replica, SYSTEM};

const REFRESH: &str = "1";

fn token(user: &str) -> (String, String) {
    let claims = ChatClaims::new(SYSTEM, user, Duration::from_secs(600));
    let jti = claims.jti.clone().unwrap();
    (mint(&claims, &JwtSecret::new(JWT_SECRET)).unwrap(), jti)
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

/// Poll `replica` with `token` until it refuses it as revoked; fail if that
/// takes longer than the refresh interval plus a generous margin for a
/// loaded machine.
async fn refused_within_refresh(replica: &Replica, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(1 + 15);
    loop {
        let (status, body) = replica.get_as(token, "/v1/conversations").await;
        if status == 401 {
            assert_eq!(code(&body), "token_revoked", "{body}");
            return;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            Instant::now() < deadline,
            "{} still accepts the revoked token",
            replica.base
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_replica_reaches_the_other() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let env = [("CHAT_GATEWAY_REVOCATION_REFRESH_SECS", REFRESH)];
    let (a, b) = (
        cluster.replica_with(&env).await,
        cluster.replica_with(&env).await,
    );
    let (revoked, jti) = token("alice");
    let (kept, _) = token("alice");
    for replica in [&a, &b] {
        assert_eq!(replica.get_as(&revoked, "/v1/conversations").await.0, 200);
    }

    let (status, body) = a
        .post_json("/v1/tokens/revoke", &json!({ "jti": jti }))
        .await;
    assert_eq!(status, 200, "{body}");
    // The replica that took the revocation honours it at once.
    let (status, body) = a.get_as(&revoked, "/v1/conversations").await;
    assert_eq!((status, code(&body).as_str()), (401, "token_revoked"));
    refused_within_refresh(&b, &revoked).await;
    // Only that token: the user's other token still works everywhere.
    for replica in [&a, &b] {
        assert_eq!(replica.get_as(&kept, "/v1/conversations").await.0, 200);
    }

    // Revoking the user revokes every token issued up to now.
    let (status, body) = b
        .post_json(
            "/v1/tokens/revoke",
            &json!({ "system_id": SYSTEM, "user_id": "alice" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    refused_within_refresh(&a, &kept).await;
    let (other, _) = token("bob");
    assert_eq!(a.get_as(&other, "/v1/conversations").await.0, 200);
}
