//! Every `/v1` route checks the permission and the system of a scoped key,
//! table-driven: for each route, a key lacking its permission gets 403, a
//! key with the permission for another system gets 403, and a key with both
//! gets past the check (whatever the route then answers).

use reqwest::Method;
use serde_json::{Value, json};
use testkit::Database;

use crate::{client, code, gateway, status_json};

/// The system the keys are for, and one they are not for.
const OURS: &str = "cointutor";
const THEIRS: &str = "drillquiz";

struct Case {
    method: Method,
    /// `{s}` stands for the system.
    path: &'static str,
    body: Option<Value>,
    permission: &'static str,
    /// Whether the route acts for one system (named in the request).
    per_system: bool,
}

fn cases() -> Vec<Case> {
    let case = |method, path, body: Option<Value>, permission, per_system| Case {
        method,
        path,
        body,
        permission,
        per_system,
    };
    vec![
        case(
            Method::POST,
            "/v1/chat",
            Some(json!({"system_id": "{s}", "user_id": "u1", "message": "hi"})),
            "chat",
            true,
        ),
        case(Method::GET, "/v1/agents?system_id={s}", None, "chat", true),
        case(
            Method::GET,
            "/v1/conversations?system_id={s}&user_id=u1",
            None,
            "read",
            true,
        ),
        case(
            Method::GET,
            "/v1/conversations/0190a5b0-0000-7000-8000-000000000000/messages?system_id={s}&user_id=u1",
            None,
            "read",
            true,
        ),
        case(
            Method::PATCH,
            "/v1/conversations/0190a5b0-0000-7000-8000-000000000000",
            Some(json!({"system_id": "{s}", "user_id": "u1", "name": "n"})),
            "chat",
            true,
        ),
        case(
            Method::DELETE,
            "/v1/conversations/0190a5b0-0000-7000-8000-000000000000?system_id={s}&user_id=u1",
            None,
            "chat",
            true,
        ),
        case(
            Method::GET,
            "/v1/chat-token?system_id={s}&user_id=u1",
            None,
            "tokens",
            true,
        ),
        case(
            Method::GET,
            "/v1/cache/conversations?system_id={s}",
            None,
            "read",
            true,
        ),
        case(
            Method::POST,
            "/v1/chat/completions",
            Some(
                json!({"model": "{s}", "user": "u1", "messages": [{"role": "user", "content": "hi"}]}),
            ),
            "chat",
            true,
        ),
        case(Method::GET, "/v1/models", None, "chat", false),
        case(Method::POST, "/v1/sync", None, "sync", false),
        case(Method::GET, "/v1/admin/keys", None, "admin", false),
        case(Method::GET, "/v1/admin/audit", None, "admin", false),
        case(Method::GET, "/v1/admin/operators", None, "admin", false),
    ]
}

async fn create_key(
    base: &str,
    root: &str,
    permissions: &[&str],
    systems: Option<&[&str]>,
) -> String {
    let mut body = json!({"name": "scope test", "permissions": permissions});
    if let Some(systems) = systems {
        body["systems"] = json!(systems);
    }
    let resp = client()
        .post(format!("{base}/v1/admin/keys"))
        .header("x-api-key", root)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().unwrap().to_owned()
}

async fn call(base: &str, key: &str, case: &Case, system: &str) -> (u16, Value) {
    let path = case.path.replace("{s}", system);
    let mut req = client()
        .request(case.method.clone(), format!("{base}{path}"))
        .header("x-api-key", key);
    if let Some(body) = &case.body {
        let body = body.to_string().replace("{s}", system);
        req = req.header("content-type", "application/json").body(body);
    }
    status_json(req.send().await.unwrap()).await
}

#[tokio::test]
async fn every_v1_route_checks_the_keys_permission_and_system() {
    let gw = gateway(Database::SqliteFile).await;
    let base = gw.url();
    let all = ["chat", "tokens", "read", "sync", "admin"];
    for case in cases() {
        let others: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| *p != case.permission && *p != "admin")
            .collect();
        // Without the permission (every other one but admin, which also
        // covers every system): 403.
        let lacking = create_key(base, gw.api_key(), &others, Some(&[OURS])).await;
        let (status, body) = call(base, &lacking, &case, OURS).await;
        assert_eq!(
            (status, code(&body)),
            (403, "forbidden"),
            "{} {} without {}: {body}",
            case.method,
            case.path,
            case.permission
        );
        if case.permission == "admin" {
            let admin = create_key(base, gw.api_key(), &["admin"], None).await;
            let (status, body) = call(base, &admin, &case, OURS).await;
            assert_eq!(status, 200, "{} {}: {body}", case.method, case.path);
            continue;
        }
        let scoped = create_key(base, gw.api_key(), &[case.permission], Some(&[OURS])).await;
        let (status, body) = call(base, &scoped, &case, OURS).await;
        assert!(
            ![401, 403].contains(&status),
            "{} {} with {} for {OURS}: {status} {body}",
            case.method,
            case.path,
            case.permission
        );
        if case.per_system {
            let (status, body) = call(base, &scoped, &case, THEIRS).await;
            assert_eq!(
                (status, code(&body)),
                (403, "forbidden"),
                "{} {} for {THEIRS} with a {OURS} key: {body}",
                case.method,
                case.path
            );
        }
    }
}

#[tokio::test]
async fn a_cointutor_key_reads_only_cointutor_conversations() {
    let gw = gateway(Database::SqliteFile).await;
    let base = gw.url();
    // One conversation in each system, through the root key.
    let mut ids = Vec::new();
    for system in [OURS, THEIRS] {
        let resp = client()
            .post(format!("{base}/v1/chat"))
            .header("x-api-key", gw.api_key())
            .json(&json!({"system_id": system, "user_id": "u1", "message": "hello"}))
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 200, "{body}");
        ids.push(body["conversation_id"].as_str().unwrap().to_owned());
    }
    let reader = create_key(base, gw.api_key(), &["read"], Some(&[OURS])).await;
    let get = |path: String| {
        let reader = reader.clone();
        async move {
            status_json(
                client()
                    .get(format!("{base}{path}"))
                    .header("x-api-key", reader)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = get(format!("/v1/cache/conversations/{}/messages", ids[0])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 2);
    let (status, body) = get(format!("/v1/cache/conversations/{}/messages", ids[1])).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    // A search must name the system; the other system is refused.
    let (status, _) = get("/v1/cache/conversations".into()).await;
    assert_eq!(status, 422);
    let (status, body) = get(format!("/v1/cache/conversations?system_id={OURS}")).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    // The models a chat key sees are its systems' only.
    let chatter = create_key(base, gw.api_key(), &["chat"], Some(&[OURS])).await;
    let resp = client()
        .get(format!("{base}/v1/models"))
        .bearer_auth(&chatter)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"].as_str().unwrap().starts_with(OURS)),
        "{body}"
    );
}
