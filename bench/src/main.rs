//! `chat-gateway-bench`: measure what the gateway adds to the path it guards.
//!
//! ```text
//! cargo build --release -p bench && target/release/chat-gateway-bench
//! ```
//!
//! One run starts a fake Dify upstream (a process of its own, as a real
//! upstream would be), the gateway in production mode with persistence on
//! (SQLite; `--postgres` adds a throwaway PostgreSQL), and an open-model load
//! generator. It sends the same requests straight to the fake and through
//! the gateway and reports the difference:
//!
//! - blocking chat at several arrival rates: added latency p50/p90/p99/max,
//!   success rate, the gateway's CPU and RSS;
//! - streaming (64 deltas, 20 ms apart): added time to first token and added
//!   gap between tokens;
//! - the largest number of concurrent streams held without stalls, and RSS
//!   per open stream;
//! - messages persisted per second by the store;
//! - the WebSocket and OpenAI-compatible doors: added latency, added time to
//!   first token, streams held;
//! - with `--peer litellm`, LiteLLM's proxy beside the gateway in front of
//!   one fake OpenAI, and the ratio of their added times.
//!
//! It prints one table per part and writes the same numbers as JSON.
//!
//! Both other processes are this binary in another role (the hidden
//! `gateway` and `fake-dify` subcommands): `gateway` runs exactly what
//! `chat-gateway serve` runs, compiled with the same profile, so one build
//! of this package is all a run needs.

mod blocking;
mod concurrency;
mod console;
mod http;
mod openai;
mod process;
mod report;
mod storage;
mod streams;
mod ws;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use testkit::fake_dify::command::FakeDifyArgs;
use testkit::postgres::ThrowawayPostgres;

pub(crate) const FAKE_KEY: &str = "app-bench";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    Blocking,
    Streaming,
    Concurrency,
    Storage,
    /// The WebSocket door.
    Ws,
    /// The OpenAI-compatible door.
    Openai,
}

/// Another proxy to measure beside the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Peer {
    /// LiteLLM's proxy (`pip install 'litellm[proxy]'`; `litellm` on the
    /// `PATH`, or `$LITELLM`).
    Litellm,
}

/// Measure what the gateway adds: latency, streaming, concurrency, memory, storage.
#[derive(Debug, Parser)]
#[command(name = "chat-gateway-bench", args_conflicts_with_subcommands = true)]
struct Args {
    /// Another role of this binary, for the processes a run starts.
    #[command(subcommand)]
    role: Option<Role>,
    /// Arrival rates for blocking chat, requests per second.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
    rates: Vec<u32>,
    /// Blocking turns continue one of 100 conversations (started first)
    /// instead of each starting one.
    #[arg(long)]
    continued: bool,
    /// Seconds recorded per rate (after warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Streams started per second in the streaming part.
    #[arg(long, default_value_t = 50)]
    stream_rate: u32,
    /// Concurrent stream counts to try, in order.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
    streams: Vec<usize>,
    /// Also run the blocking and storage parts on a throwaway PostgreSQL
    /// (started from the system's initdb/pg_ctl).
    #[arg(long)]
    postgres: bool,
    /// Run only these parts.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Part>,
    /// Streams (sockets) held at once through the WebSocket and
    /// OpenAI-compatible doors.
    #[arg(long, default_value_t = 1000)]
    door_streams: usize,
    /// Blocking requests per second through the OpenAI-compatible door.
    #[arg(long, default_value_t = 500)]
    door_rate: u32,
    /// Also run this peer in front of a fake OpenAI, beside the gateway's
    /// OpenAI-compatible door, and print the ratio of the added times.
    #[arg(long)]
    peer: Option<Peer>,
    /// Requests per metric in the peer comparison (one at a time).
    #[arg(long, default_value_t = 300)]
    peer_requests: usize,
    /// Extra environment for the gateways of the blocking and concurrency
    /// parts (`KEY=VALUE`, repeatable), for memory experiments and their
    /// cost in latency.
    #[arg(long, value_parser = key_value)]
    gateway_env: Vec<(String, String)>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results.json")]
    json: PathBuf,
}

/// The processes a run starts: this binary, in another role.
#[derive(Debug, Subcommand)]
enum Role {
    /// Serve the gateway, configured by the environment (`chat-gateway serve`).
    #[command(hide = true)]
    Gateway,
    /// Serve the fake Dify upstream.
    #[command(hide = true)]
    FakeDify(FakeDifyArgs),
    /// The operator console on a large store (see `console.rs`).
    Console(console::ConsoleArgs),
    /// Serve a fake OpenAI upstream (the peer comparison's).
    #[command(hide = true)]
    FakeOpenai(openai::FakeOpenAiArgs),
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

impl Args {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.role {
        Some(Role::Gateway) => return gateway::cli::serve().await,
        Some(Role::FakeDify(fake)) => return testkit::fake_dify::command::run(fake).await,
        Some(Role::FakeOpenai(fake)) => return openai::serve_fake(fake).await,
        Some(Role::Console(console)) => return console::run(console).await,
        None => {}
    }
    let fd_limit = process::raise_fd_limit(400_000);
    let mut results = json!({"machine": machine(fd_limit)});
    let mut out = String::new();

    // The throwaway server lives until the end of the run.
    let postgres = if args.postgres {
        note("starting a throwaway PostgreSQL");
        Some(ThrowawayPostgres::start().await?)
    } else {
        None
    };
    let mut stores = vec![StoreUnderTest {
        name: "SQLite",
        url: None,
    }];
    if let Some(pg) = &postgres {
        stores.push(StoreUnderTest {
            name: "PostgreSQL",
            url: Some(pg.url()),
        });
    }

    if args.runs(Part::Blocking) {
        let (table, json) = blocking::part(
            &args.rates,
            args.seconds,
            &stores,
            &args.gateway_env,
            args.continued,
        )
        .await?;
        out.push_str(&table);
        results["blocking"] = json;
    }
    if args.runs(Part::Streaming) {
        let (table, json) = streams::streaming_part(args.stream_rate, args.seconds).await?;
        out.push_str(&table);
        results["streaming"] = json;
    }
    if args.runs(Part::Concurrency) {
        let (table, json) = concurrency::part(&args.streams, fd_limit, &args.gateway_env).await?;
        out.push_str(&table);
        results["concurrency"] = json;
    }
    if args.runs(Part::Ws) {
        let (table, json) = ws::part(
            args.door_rate,
            args.stream_rate,
            args.seconds,
            args.door_streams,
        )
        .await?;
        out.push_str(&table);
        results["ws"] = json;
    }
    if args.runs(Part::Openai) {
        let (table, json) = openai::door_part(
            args.door_rate,
            args.stream_rate,
            args.seconds,
            args.door_streams,
        )
        .await?;
        out.push_str(&table);
        results["openai"] = json;
    }
    if args.peer == Some(Peer::Litellm) {
        let (table, json) = openai::peer_part(args.peer_requests).await?;
        out.push_str(&table);
        results["peer_litellm"] = json;
    }
    if args.runs(Part::Storage) {
        let (table, json) = storage::part(args.seconds, &stores).await?;
        out.push_str(&table);
        results["storage"] = json;
    }
    emit(&format!("{}\n{out}", machine_line(&results["machine"])));
    std::fs::write(&args.json, serde_json::to_string_pretty(&results)?)?;
    emit(&format!("\nJSON written to {}", args.json.display()));
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the report is the benchmark's output")]
fn emit(text: &str) {
    println!("{text}");
}

/// A store the gateway runs on in one part of the benchmark.
pub(crate) struct StoreUnderTest {
    pub(crate) name: &'static str,
    /// `DATABASE_URL`; `None` for a fresh SQLite file.
    pub(crate) url: Option<String>,
}

#[expect(clippy::print_stderr, reason = "progress notes for the person waiting")]
pub(crate) fn note(text: &str) {
    eprintln!("… {text}");
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
