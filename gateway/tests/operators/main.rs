//! Operators, sessions, roles and scoped API keys through the HTTP API: a
//! real gateway on a free port, on SQLite (and PostgreSQL where the test
//! says so), with operators added through the same code as the
//! `chat-gateway operator` command.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod keys;
mod pages;
mod scope;
mod sessions;
mod system_pages;

use gateway::operators::{Role, accounts};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::{Value, json};
use testkit::{Database, TestGateway, Upstream};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) async fn gateway(database: Database) -> TestGateway {
    TestGateway::builder()
        .upstream(Upstream::Demo)
        .database(database)
        .start()
        .await
        .unwrap()
}

/// A client that neither follows redirects nor keeps cookies: each test
/// says which cookie it sends.
pub(crate) fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) async fn add_operator(
    gw: &TestGateway,
    email: &str,
    role: Role,
    systems: Option<&[&str]>,
) {
    let systems = systems.map(|s| s.iter().map(|x| (*x).to_owned()).collect());
    accounts::add(&*gw.state().store, email, role, systems, PASSWORD)
        .await
        .unwrap();
}

/// A signed-in session: the cookie to send and its CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// The `name=value` part of the response's `Set-Cookie`.
pub(crate) fn set_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
}

pub(crate) async fn login_json(
    base: &str,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> Response {
    let mut req = client()
        .post(format!("{base}/admin/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(cookie) = cookie {
        req = req.header(COOKIE, cookie);
    }
    req.send().await.unwrap()
}

pub(crate) async fn login(base: &str, email: &str) -> Session {
    let resp = login_json(base, email, PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = set_cookie(&resp).unwrap();
    let body: Value = resp.json().await.unwrap();
    Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// Status and JSON body (`Null` when the body is not JSON).
pub(crate) async fn status_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The error code, in the gateway's error shape or OpenAI's.
pub(crate) fn code(body: &Value) -> &str {
    body["code"]
        .as_str()
        .or_else(|| body["error"]["code"].as_str())
        .unwrap_or_default()
}
