//! `chat-gateway-bench`: measure what the gateway adds to the path it guards.
//!
//! ```text
//! cargo build --release -p gateway && target/release/chat-gateway-bench
//! ```
//!
//! One run starts a fake Dify upstream (`chat-gateway fake-dify`, a process of
//! its own, as a real upstream would be), the release
//! `chat-gateway` binary in production mode with persistence on (SQLite;
//! `--postgres` adds a throwaway PostgreSQL), and an open-model load
//! generator. It sends the same requests straight to the fake and through
//! the gateway and reports the difference:
//!
//! - blocking chat at several arrival rates: added latency p50/p90/p99/max,
//!   success rate, the gateway's CPU and RSS;
//! - streaming (64 deltas, 20 ms apart): added time to first token and added
//!   gap between tokens;
//! - the largest number of concurrent streams held without stalls, and RSS
//!   per open stream;
//! - messages persisted per second by the store.
//!
//! It prints one table per part and writes the same numbers as JSON.

mod blocking;
mod http;
mod process;
mod report;
mod storage;
mod streams;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

use crate::http::Target;
use crate::process::{GatewayProcess, UpstreamProcess};
use crate::report::{Percentiles, Table, ms, round};

pub(crate) const FAKE_KEY: &str = "app-bench";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    Blocking,
    Streaming,
    Concurrency,
    Storage,
}

/// Measure what the gateway adds: latency, streaming, concurrency, memory, storage.
#[derive(Debug, Parser)]
#[command(name = "chat-gateway-bench")]
struct Args {
    /// Arrival rates for blocking chat, requests per second.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
    rates: Vec<u32>,
    /// Seconds recorded per rate (after warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Streams started per second in the streaming part.
    #[arg(long, default_value_t = 50)]
    stream_rate: u32,
    /// Concurrent stream counts to try, in order.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
    streams: Vec<usize>,
    /// Also measure storage on a throwaway PostgreSQL.
    #[arg(long)]
    postgres: bool,
    /// Run only these parts.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Part>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results.json")]
    json: PathBuf,
}

impl Args {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fd_limit = process::raise_fd_limit(400_000);
    let mut results = json!({"machine": machine(fd_limit)});
    let mut out = String::new();

    if args.runs(Part::Blocking) {
        let (table, json) = blocking_part(&args).await?;
        out.push_str(&table);
        results["blocking"] = json;
    }
    if args.runs(Part::Streaming) {
        let (table, json) = streaming_part(&args).await?;
        out.push_str(&table);
        results["streaming"] = json;
    }
    if args.runs(Part::Concurrency) {
        let (table, json) = concurrency_part(&args, fd_limit).await?;
        out.push_str(&table);
        results["concurrency"] = json;
    }
    if args.runs(Part::Storage) {
        let (table, json) = storage_part(&args).await?;
        out.push_str(&table);
        results["storage"] = json;
    }
    emit(&format!("{}\n{out}", machine_line(&results["machine"])));
    std::fs::write(&args.json, serde_json::to_string_pretty(&results)?)?;
    emit(&format!("\nJSON written to {}", args.json.display()));
    Ok(())
}

#[allow(clippy::print_stdout)]
fn emit(text: &str) {
    println!("{text}");
}

fn note(text: &str) {
    eprintln!("… {text}");
}

async fn blocking_part(args: &Args) -> anyhow::Result<(String, Value)> {
    let upstream_process = UpstreamProcess::start(None, Duration::ZERO).await?;
    let upstream = upstream_process.url.clone();
    let gw = GatewayProcess::start(&upstream, None, &[]).await?;
    let client = http::client();
    let direct = Target::direct(&upstream, false)?;
    let through = Target::gateway(&gw.url, false)?;
    let warmup = Duration::from_secs(2);
    let window = Duration::from_secs(args.seconds);
    let mut table = Table::new(
        "Blocking chat, persistence on (SQLite): added = gateway − direct as the client sees it; own = the gateway's Server-Timing total − upstream; ms",
        &[
            "req/s",
            "direct p50",
            "gw p50",
            "added p50",
            "added p90",
            "added p99",
            "added max",
            "own p50",
            "own p99",
            "store p99",
            "ok %",
            "gw CPU %",
            "gw RSS MiB",
            "gen lag p99",
        ],
    );
    let mut rows = Vec::new();
    for &rate in &args.rates {
        note(&format!("blocking at {rate} req/s: direct"));
        let d = blocking::open_loop(&client, &direct, rate, warmup, window).await;
        note(&format!("blocking at {rate} req/s: through the gateway"));
        let before = gw.sample()?;
        let g = blocking::open_loop(&client, &through, rate, warmup, window).await;
        let after = gw.sample()?;
        let cpu = (after.cpu_secs - before.cpu_secs) / (window + warmup).as_secs_f64() * 100.0;
        let (dp, gp) = (Percentiles::of(&d.latency), Percentiles::of(&g.latency));
        let added = gp.minus(dp);
        let total = g.ok + g.failed;
        let ok_pct = if total == 0 {
            0.0
        } else {
            g.ok as f64 * 100.0 / total as f64
        };
        let lag = Percentiles::of(&g.lag).p99;
        let own = Percentiles::of(&g.own);
        let store = Percentiles::of(&g.store);
        table.row(vec![
            rate.to_string(),
            ms(dp.p50),
            ms(gp.p50),
            ms(added.p50),
            ms(added.p90),
            ms(added.p99),
            ms(added.max),
            ms(own.p50),
            ms(own.p99),
            ms(store.p99),
            format!("{ok_pct:.2}"),
            format!("{cpu:.0}"),
            format!("{:.1}", after.rss_bytes as f64 / 1_048_576.0),
            ms(lag),
        ]);
        rows.push(json!({
            "rate": rate,
            "direct": dp.json(), "gateway": gp.json(), "added": added.json(),
            "gateway_own": own.json(), "gateway_store": store.json(),
            "requests": total, "success_pct": round(ok_pct), "direct_failed": d.failed,
            "gateway_cpu_pct": round(cpu), "gateway_rss_bytes": after.rss_bytes,
            "generator_lag_p99_ms": round(lag), "window_s": g.window.as_secs_f64(),
        }));
    }
    gw.stop().await;
    Ok((table.render(), Value::Array(rows)))
}

async fn streaming_part(args: &Args) -> anyhow::Result<(String, Value)> {
    let pace = Duration::from_millis(20);
    let upstream_process = UpstreamProcess::start(Some(64), pace).await?;
    let upstream = upstream_process.url.clone();
    let gw = GatewayProcess::start(&upstream, None, &[]).await?;
    let client = http::client();
    let window = Duration::from_secs(args.seconds);
    note(&format!(
        "streaming at {} streams/s: direct",
        args.stream_rate
    ));
    let d = streams::open_loop(
        &client,
        &Target::direct(&upstream, true)?,
        args.stream_rate,
        window,
    )
    .await;
    note(&format!(
        "streaming at {} streams/s: through the gateway",
        args.stream_rate
    ));
    let g = streams::open_loop(
        &client,
        &Target::gateway(&gw.url, true)?,
        args.stream_rate,
        window,
    )
    .await;
    gw.stop().await;
    let (dt, gt) = (Percentiles::of(&d.ttft), Percentiles::of(&g.ttft));
    let (dg, gg) = (Percentiles::of(&d.gaps), Percentiles::of(&g.gaps));
    let mut table = Table::new(
        "Streaming, 64 deltas 20 ms apart: added time to first token and gap between tokens, ms",
        &[
            "metric",
            "direct p50",
            "gw p50",
            "added p50",
            "direct p99",
            "gw p99",
            "added p99",
            "streams ok",
            "failed",
        ],
    );
    for (name, dp, gp) in [("TTFT", dt, gt), ("gap", dg, gg)] {
        table.row(vec![
            name.into(),
            ms(dp.p50),
            ms(gp.p50),
            ms(gp.p50 - dp.p50),
            ms(dp.p99),
            ms(gp.p99),
            ms(gp.p99 - dp.p99),
            g.ok.to_string(),
            g.failed.to_string(),
        ]);
    }
    let json = json!({
        "streams_per_s": args.stream_rate, "deltas": 64, "pace_ms": 20,
        "ttft": {"direct": dt.json(), "gateway": gt.json(), "added": gt.minus(dt).json()},
        "gap": {"direct": dg.json(), "gateway": gg.json(), "added": gg.minus(dg).json()},
        "ok": g.ok, "failed": g.failed, "direct_failed": d.failed,
    });
    Ok((table.render(), json))
}

async fn concurrency_part(args: &Args, fd_limit: u64) -> anyhow::Result<(String, Value)> {
    let pace = Duration::from_millis(500);
    let upstream_process = UpstreamProcess::start(Some(40), pace).await?;
    let upstream = upstream_process.url.clone();
    let client = http::client();
    let mut table = Table::new(
        "Concurrent streams (40 deltas 500 ms apart; HTTP/2 to the upstream), each count on a fresh gateway",
        &[
            "streams",
            "completed",
            "failed",
            "stalled",
            "worst gap ms",
            "gw RSS base MiB",
            "gw RSS peak MiB",
            "KiB / stream",
        ],
    );
    let mut rows = Vec::new();
    for &n in &args.streams {
        // Each stream holds one socket from this process to the gateway and
        // one in the gateway; the upstream side is HTTP/2, so all streams
        // share a few connections there.
        if (n as u64) + 1000 > fd_limit {
            note(&format!(
                "skipping {n} streams: open-file limit is {fd_limit}"
            ));
            continue;
        }
        note(&format!("holding {n} concurrent streams"));
        let gw = GatewayProcess::start(
            &upstream,
            None,
            &[("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")],
        )
        .await?;
        // Warm the gateway up so the baseline includes its steady state.
        let _ = streams::one_stream(&client, &Target::gateway(&gw.url, true)?).await;
        let hold = streams::hold(
            &client,
            &Target::gateway(&gw.url, true)?,
            n,
            2000,
            pace,
            &gw,
        )
        .await?;
        gw.stop().await;
        let per_stream = hold.rss_peak.saturating_sub(hold.rss_base) as f64 / n as f64 / 1024.0;
        table.row(vec![
            n.to_string(),
            hold.completed.to_string(),
            hold.failed.to_string(),
            hold.stalled.to_string(),
            format!("{:.0}", hold.worst_gap.as_secs_f64() * 1000.0),
            format!("{:.1}", hold.rss_base as f64 / 1_048_576.0),
            format!("{:.1}", hold.rss_peak as f64 / 1_048_576.0),
            format!("{per_stream:.1}"),
        ]);
        rows.push(json!({
            "streams": n, "completed": hold.completed, "failed": hold.failed, "stalled": hold.stalled,
            "worst_gap_ms": round(hold.worst_gap.as_secs_f64() * 1000.0),
            "rss_base_bytes": hold.rss_base, "rss_peak_bytes": hold.rss_peak,
            "kib_per_stream": round(per_stream),
        }));
    }
    Ok((table.render(), Value::Array(rows)))
}

async fn storage_part(args: &Args) -> anyhow::Result<(String, Value)> {
    let window = Duration::from_secs(args.seconds.min(10));
    let mut table = Table::new(
        "Storage: messages persisted per second",
        &["store", "writers", "messages/s"],
    );
    let mut rows = Vec::new();
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("storage.db").display());
    for writers in [1, 16, 64] {
        note(&format!("storage: SQLite, {writers} writers"));
        let store = gateway::store::open(&url).await?;
        let rate = storage::messages_per_second(store, writers, window).await?;
        table.row(vec![
            "SQLite".into(),
            writers.to_string(),
            format!("{rate:.0}"),
        ]);
        rows.push(json!({"store": "sqlite", "writers": writers, "messages_per_s": rate.round()}));
    }
    if args.postgres {
        note("storage: PostgreSQL is not wired into the benchmark yet");
    }
    Ok((table.render(), Value::Array(rows)))
}

fn machine(fd_limit: u64) -> Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({
        "cores": cores,
        "kernel": kernel.trim(),
        "rustc": rustc,
        "gateway_version": env!("CARGO_PKG_VERSION"),
        "open_file_limit": fd_limit,
        "date": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    })
}

fn machine_line(m: &Value) -> String {
    format!(
        "tz-chat gateway {} · {} cores · kernel {} · {} · open files {}",
        m["gateway_version"].as_str().unwrap_or(""),
        m["cores"],
        m["kernel"].as_str().unwrap_or(""),
        m["rustc"].as_str().unwrap_or(""),
        m["open_file_limit"],
    )
}
