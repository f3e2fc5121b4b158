//! The benchmark command runs end to end at a small scale: every part
//! produces its table and JSON, on SQLite and on a throwaway PostgreSQL.
//! (This checks the harness, not the speed: the numbers themselves are for
//! `BENCHMARKS.md`, measured on a release build.)

use std::process::Command;

use serde_json::Value;

#[test]
fn every_part_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_chat-gateway-bench"))
        .args([
            "--rates",
            "40",
            "--seconds",
            "1",
            "--stream-rate",
            "5",
            "--streams",
            "30",
            "--door-streams",
            "20",
            "--door-rate",
            "40",
            "--postgres",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for title in [
        "Blocking chat",
        "Streaming, 64 deltas",
        "Concurrent streams",
        "Memory per open stream",
        "WebSocket door",
        "OpenAI-compatible door",
        "Storage",
    ] {
        assert!(stdout.contains(title), "no {title:?} table:\n{stdout}");
    }

    // Every part wrote its numbers. How good they are depends on the
    // machine and is for BENCHMARKS.md; here they only have to be there.
    let results: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let number = |v: &Value, what: &str| {
        assert!(v.is_number(), "{what} is not a number: {v}");
    };
    // The machine it describes is this one.
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(results["machine"]["cores"], cores, "{}", results["machine"]);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(results["machine"]["kernel"], kernel.trim());
    assert!(
        stdout.contains(&format!(" · {cores} cores · kernel {} · ", kernel.trim())),
        "the machine line: {stdout}"
    );

    let blocking = results["blocking"].as_array().unwrap();
    let runs: Vec<_> = blocking
        .iter()
        .map(|r| (r["store"].as_str().unwrap(), r["rate"].as_u64().unwrap()))
        .collect();
    assert_eq!(runs, [("SQLite", 40), ("PostgreSQL", 40)]);
    for row in blocking {
        number(&row["success_pct"], "blocking.success_pct");
        assert!(
            row["requests"].as_u64().unwrap() > 0,
            "requests were sent: {row}"
        );
        number(&row["gateway_own"]["p50_ms"], "blocking.gateway_own.p50_ms");
    }

    let streaming = &results["streaming"];
    let streams = streaming["ok"].as_u64().unwrap() + streaming["failed"].as_u64().unwrap();
    assert!(streams > 0, "streams were opened: {streaming}");
    number(
        &streaming["gap"]["gateway"]["p50_ms"],
        "streaming.gap.gateway.p50_ms",
    );

    let held = &results["concurrency"]["relaying"][0];
    assert_eq!(held["streams"], 30, "{held}");
    number(&held["completed"], "concurrency.completed");
    number(&held["failed"], "concurrency.failed");
    // Memory is measured for streams relaying and streams idle, each over
    // HTTP/1.1 and HTTP/2, and for bare connections; every idle stream and
    // connection was held open.
    let memory = results["concurrency"]["memory"].as_array().unwrap();
    let kinds: Vec<_> = memory.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "relaying",
            "relaying, HTTP/2",
            "idle",
            "idle, HTTP/2",
            "connection"
        ]
    );
    for row in memory {
        assert_eq!(row["count"], 30, "{row}");
        number(&row["kib_each"], "concurrency.memory.kib_each");
        if !row["kind"].as_str().unwrap().starts_with("relaying") {
            assert_eq!(row["held"], 30, "{row}");
        }
    }

    // The two other doors: turns answered, streams held.
    let ws = &results["ws"];
    assert!(ws["answer"]["ok"].as_u64().unwrap() > 0, "{ws}");
    number(&ws["ttft"]["door"]["p50_ms"], "ws.ttft.door.p50_ms");
    assert_eq!(ws["held"]["sockets"], 20, "{ws}");
    number(&ws["held"]["completed"], "ws.held.completed");
    let openai = &results["openai"];
    assert!(openai["blocking"]["ok"].as_u64().unwrap() > 0, "{openai}");
    assert!(openai["ttft"]["ok"].as_u64().unwrap() > 0, "{openai}");
    assert_eq!(openai["held"]["streams"], 20, "{openai}");
    number(&openai["held"]["completed"], "openai.held.completed");

    let storage = results["storage"].as_array().unwrap();
    let stores: Vec<_> = storage
        .iter()
        .map(|r| (r["store"].as_str().unwrap(), r["writers"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        stores,
        [
            ("SQLite", 1),
            ("SQLite", 16),
            ("SQLite", 64),
            ("PostgreSQL", 1),
            ("PostgreSQL", 16),
            ("PostgreSQL", 64)
        ]
    );
    for row in storage {
        number(&row["messages_per_s"], "storage.messages_per_s");
    }
}

/// `--peer litellm` starts LiteLLM's proxy beside the gateway and prints
/// the ratio; it needs `litellm` (`pip install 'litellm[proxy]'`), so
/// without it there is nothing to run.
#[test]
#[expect(clippy::print_stderr, reason = "says why the test did nothing")]
fn the_litellm_peer_runs_when_installed() {
    let program = std::env::var("LITELLM").unwrap_or_else(|_| "litellm".to_owned());
    if Command::new(&program).arg("--version").output().is_err() {
        eprintln!("skipped: {program} is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_chat-gateway-bench"))
        .args(["--only", "openai", "--seconds", "1", "--stream-rate", "5"])
        .args(["--door-rate", "20", "--door-streams", "5"])
        .args(["--peer", "litellm", "--peer-requests", "10", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Peer: LiteLLM"), "no peer table:\n{stdout}");
    let results: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = results["peer_litellm"].as_array().unwrap();
    let metrics: Vec<_> = rows.iter().map(|r| r["metric"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["latency", "TTFT"]);
    for row in rows {
        assert!(row["litellm_added"]["p50_ms"].is_number(), "{row}");
        assert!(row["gateway_added"]["p50_ms"].is_number(), "{row}");
    }
}
