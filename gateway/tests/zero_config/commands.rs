//! The commands for pipelines, run as the real binary: `check`, `migrate`
//! and `sync`, against good and broken configurations, by exit status and
//! output.

use std::path::Path;
use std::process::Output;

use gateway::identity::Identity;
use testkit::fake_dify::{FakeDify, FakeOptions};
use time::OffsetDateTime;

use super::binary::binary;

const SECRET: &str = "commands-test-jwt-secret-0123456789abcdefghij";
const API_KEY: &str = "commands-test-api-key-0123456789";
const DIFY_KEY: &str = "app-commands-test";

/// `chat-gateway <args>` in `dir`, production mode, with `env` on top.
async fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = binary();
    cmd.current_dir(dir)
        .env("CHAT_GATEWAY_ENV", "production")
        .env("CHAT_GATEWAY_JWT_SECRET", SECRET)
        .env("CHAT_GATEWAY_API_KEY", API_KEY)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The table row whose first column is `what`: its result and detail.
fn row<'a>(table: &'a str, what: &str) -> (&'a str, &'a str) {
    let line = table
        .lines()
        .find(|l| l.starts_with(what) && l[what.len()..].starts_with("  "))
        .unwrap_or_else(|| panic!("no row {what:?} in\n{table}"));
    let rest = line[what.len()..].trim_start();
    rest.split_once("  ")
        .map(|(result, detail)| (result, detail.trim()))
        .unwrap_or((rest, ""))
}

async fn fake_dify() -> (FakeDify, String) {
    let fake = FakeDify::new(FakeOptions {
        api_key: DIFY_KEY.into(),
        ..FakeOptions::default()
    });
    let url = fake.spawn().await.unwrap();
    (fake, url)
}

#[tokio::test]
async fn check_passes_on_a_good_configuration_and_migrate_creates_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (_fake, dify) = fake_dify().await;
    let db = format!("sqlite://{}", dir.path().join("chat.db").display());
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", DIFY_KEY),
    ];

    let out = run(dir.path(), &env, &["check"]).await;
    let table = stdout(&out);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(row(&table, "configuration").0, "ok", "{table}");
    let (result, detail) = row(&table, "database");
    assert_eq!(result, "ok", "{table}");
    assert!(detail.contains("does not exist yet"), "{table}");
    assert!(
        !dir.path().join("chat.db").exists(),
        "check must not create the database"
    );
    let (result, detail) = row(&table, "upstream (every system)");
    assert_eq!(result, "ok", "{table}");
    assert!(detail.starts_with("dify http://127.0.0.1:"), "{table}");
    assert!(detail.contains("key accepted"), "{table}");
    assert!(
        !table.contains(DIFY_KEY) && !table.contains(API_KEY),
        "{table}"
    );

    let out = run(dir.path(), &env, &["migrate"]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with("database schema up to date"),
        "{out:?}"
    );
    assert!(dir.path().join("chat.db").exists());

    let out = run(dir.path(), &env, &["check"]).await;
    let table = stdout(&out);
    assert!(out.status.success(), "{table}");
    assert!(
        row(&table, "database").1.contains("schema up to date"),
        "{table}"
    );
}

#[tokio::test]
async fn check_fails_on_an_unreachable_upstream_or_a_refused_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_fake, dify) = fake_dify().await;
    // A port nothing listens on: bound, then released.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://{}/webhook/secret-hook-id",
            listener.local_addr().unwrap()
        )
    };
    let env = [
        ("DATABASE_URL", "sqlite::memory:"),
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-wrong-key-0123"),
        ("N8N_SUPPORT_WEBHOOK_URL", closed.as_str()),
    ];
    let out = run(dir.path(), &env, &["check"]).await;
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let (result, detail) = row(&table, "upstream (every system)");
    assert_eq!(result, "FAIL", "{table}");
    assert!(detail.contains("401"), "the refused key is named: {table}");
    let (result, detail) = row(&table, "upstream SUPPORT");
    assert_eq!(result, "FAIL", "{table}");
    assert!(detail.starts_with("n8n "), "{table}");
    assert!(
        detail.contains("N8N_SUPPORT_"),
        "names the variables: {table}"
    );
    assert!(
        !table.contains("secret-hook-id"),
        "a webhook's path is never printed: {table}"
    );
    assert!(table.trim_end().ends_with("2 problem(s) found"), "{table}");
    assert!(!table.contains("app-wrong-key-0123"), "{table}");
}

#[tokio::test]
async fn check_fails_on_a_bad_database_url_without_printing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://app:hunter2-db-pw@127.0.0.1:{closed}/chat");
    let out = run(
        dir.path(),
        &[("DATABASE_URL", &url), ("CHAT_GATEWAY_DEMO", "on")],
        &["check"],
    )
    .await;
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let (result, detail) = row(&table, "database");
    assert_eq!(result, "FAIL", "{table}");
    assert!(
        detail.starts_with("postgres://app:***@127.0.0.1:"),
        "{table}"
    );
    let all = format!("{table}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("hunter2-db-pw"), "{all}");

    // Not a database URL at all: the configuration row fails, and nothing
    // else is tried.
    let out = run(
        dir.path(),
        &[("DATABASE_URL", "mysql://db/chat")],
        &["check"],
    )
    .await;
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let (result, detail) = row(&table, "configuration");
    assert_eq!(result, "FAIL", "{table}");
    assert!(detail.contains("DATABASE_URL"), "{table}");
    assert!(!table.contains("\ndatabase"), "{table}");

    // migrate cannot reach it either.
    let out = run(dir.path(), &[("DATABASE_URL", &url)], &["migrate"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2-db-pw"));
}

#[tokio::test]
async fn sync_imports_upstream_history_once_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, dify) = fake_dify().await;
    let file = dir.path().join("chat.db");
    let db = format!("sqlite://{}", file.display());
    // A user the gateway knows (opened the chat page), with a conversation
    // made upstream before the gateway.
    {
        let store = gateway::store::open(&db).await.unwrap();
        let who = Identity::parse("shop", "ada").unwrap();
        store
            .record_visit(&who, OffsetDateTime::now_utc())
            .await
            .unwrap();
        fake.add_conversation(
            &who.upstream_user(),
            "Before the gateway",
            &[("Hi", "Hello!"), ("Price?", "Ten.")],
        );
    }
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", DIFY_KEY),
    ];
    let out = run(dir.path(), &env, &["sync"]).await;
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.trim(),
        "synced 1 users: 1 conversations and 4 messages imported"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\u{1b}'),
        "no progress bar when standard error is not a terminal"
    );

    let out = run(dir.path(), &env, &["sync"]).await;
    assert_eq!(
        stdout(&out).trim(),
        "synced 1 users: 0 conversations and 0 messages imported",
        "a second run adds nothing"
    );
    let out = run(dir.path(), &env, &["sync", "--system", "other"]).await;
    assert_eq!(
        stdout(&out).trim(),
        "synced 0 users: 0 conversations and 0 messages imported"
    );
    let out = run(dir.path(), &env, &["sync", "--system", "bad id!"]).await;
    assert_eq!(out.status.code(), Some(1));

    // The upstream refuses the key: the user is listed, the run fails.
    let broken = [
        ("DATABASE_URL", db.as_str()),
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-wrong-key-0123"),
    ];
    let out = run(dir.path(), &broken, &["sync"]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("\nfailed: shop/ada: "), "{text}");
}
