//! `chat-gateway export` on the database a first run left behind.

use serde_json::json;

use crate::binary::{binary, start, stop};

#[tokio::test]
async fn the_cli_exports_what_the_gateway_stored() {
    let dir = tempfile::tempdir().unwrap();
    let gw = start(dir.path()).await;
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({"system_id": "demo", "user_id": "guest", "message": "Hello, export"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    stop(gw).await;

    let export = |args: &[&str]| {
        let mut cmd = binary();
        cmd.current_dir(dir.path()).arg("export").args(args);
        cmd.output()
    };
    let out = export(&["--format", "csv", "--system", "demo"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("conversation_id,system_id,user_id,"));
    // The answer's markdown spans lines inside its quoted field.
    assert_eq!(
        csv.matches(",demo,guest,").count(),
        2,
        "the question and the answer: {csv}"
    );
    assert!(
        rows[1].contains(",user,complete,\"Hello, export\","),
        "{csv}"
    );
    assert!(
        csv.contains(",assistant,complete,\"**Demo upstream**"),
        "{csv}"
    );
    assert!(out.stderr.is_empty(), "no progress bar off a terminal");

    let out = export(&[
        "--format",
        "jsonl",
        "--from",
        "2000-01-01",
        "--to",
        "2000-01-31",
    ])
    .await
    .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "nothing that old");

    let out = export(&["--from", "01/01/2000"]).await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));
}
