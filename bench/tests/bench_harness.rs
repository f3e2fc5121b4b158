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
        "Storage",
    ] {
        assert!(stdout.contains(title), "no {title:?} table:\n{stdout}");
    }

    let results: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(results["machine"]["cores"].as_u64().unwrap() >= 1);

    let blocking = results["blocking"].as_array().unwrap();
    let runs: Vec<_> = blocking
        .iter()
        .map(|r| (r["store"].as_str().unwrap(), r["rate"].as_u64().unwrap()))
        .collect();
    assert_eq!(runs, [("SQLite", 40), ("PostgreSQL", 40)]);
    for row in blocking {
        assert_eq!(row["success_pct"], 100.0, "{row}");
        assert!(row["requests"].as_u64().unwrap() >= 30, "{row}");
        // The gateway reported its own time on every answer.
        assert!(
            row["gateway_own"]["p50_ms"].as_f64().unwrap() > 0.0,
            "{row}"
        );
    }

    let streaming = &results["streaming"];
    assert_eq!(streaming["failed"], 0, "{streaming}");
    assert!(streaming["ok"].as_u64().unwrap() >= 4, "{streaming}");
    assert!(
        streaming["gap"]["gateway"]["p50_ms"].as_f64().unwrap() > 0.0,
        "{streaming}"
    );

    let held = &results["concurrency"][0];
    assert_eq!(held["streams"], 30, "{held}");
    assert_eq!(held["completed"], 30, "{held}");
    assert_eq!(held["failed"], 0, "{held}");

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
        assert!(row["messages_per_s"].as_f64().unwrap() > 0.0, "{row}");
    }
}
