//! The sample (gateway + site) started in the test process, and the steps
//! every test shares: signing in, reading what the gateway stored.

use std::path::PathBuf;

use fantoccini::{Client, Locator};
use gateway::config::EnvVars;
use sample_integration::{Sample, SampleConfig};
use sdk::{Message, Role};

use crate::browser::wait_js;

/// The JWT secret shared by the gateway and CoinTutor's backend in tests.
pub(crate) const SECRET: &str = "sample-e2e-secret-0123456789abcdef0123456789";

/// Where screenshots go: `test-artifacts/` at the workspace root.
pub(crate) fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("test-artifacts")
}

/// Start the gateway (demo upstream, in-memory database) and the site on
/// free ports, with `extra` variables on top of the test defaults. Fails,
/// saying how to build it, when the widget is not built.
pub(crate) async fn start(extra: &[(&str, &str)]) -> Sample {
    let mut vars = EnvVars::from_pairs([
        ("SAMPLE_LISTEN", "127.0.0.1:0"),
        ("CHAT_GATEWAY_LISTEN", "127.0.0.1:0"),
        ("DATABASE_URL", "sqlite::memory:"),
        ("CHAT_GATEWAY_JWT_SECRET", SECRET),
        ("CHAT_GATEWAY_DEMO_DELAY_MS", "25"),
    ]);
    for (name, value) in extra {
        vars.set(*name, *value);
    }
    let config = SampleConfig::from_env(&vars).unwrap();
    if let Err(e) = sample_integration::widget_files::check_built(&config.widget_dir) {
        panic!("the end-to-end tests need the built widget: {e}");
    }
    Sample::start(config).await.unwrap()
}

/// Sign in on the home page as `user` and land on `next` (a path).
pub(crate) async fn sign_in(c: &Client, site: &str, user: &str, next: &str) {
    c.goto(&format!(
        "{site}/?next={}",
        next.replace('?', "%3F")
            .replace('=', "%3D")
            .replace('&', "%26")
    ))
    .await
    .unwrap();
    let name = c.find(Locator::Id("username")).await.unwrap();
    name.send_keys(user).await.unwrap();
    c.find(Locator::Id("login-btn"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let path = next.split('?').next().unwrap();
    wait_js(
        c,
        &format!("{user} signed in on {next}"),
        &format!(
            "const who = document.getElementById('signed-in-user'); \
             return location.pathname === {path:?} && !!who && who.textContent === {user:?};"
        ),
    )
    .await;
}

/// The messages the gateway stored for `user_id` of `system_id`, per
/// conversation (newest conversation first), read with the API key.
pub(crate) async fn stored(
    sample_gateway: &str,
    api_key: &str,
    system_id: &str,
    user_id: &str,
) -> Vec<Vec<Message>> {
    let client = sdk::Client::with_api_key(sample_gateway, api_key).unwrap();
    let user = client.user(system_id, user_id);
    let mut out = Vec::new();
    for conversation in user.conversations().await.unwrap() {
        out.push(user.messages(&conversation.id).await.unwrap());
    }
    out
}

/// `(role, text)` of stored messages, for assertions.
pub(crate) fn turns(messages: &[Message]) -> Vec<(Role, String)> {
    messages
        .iter()
        .map(|m| (m.role, m.content.clone()))
        .collect()
}
