//! The OpenAI-compatible door, `POST /v1/chat/completions`, in front of the
//! same fake Dify as the SSE door: added latency, added time to first token,
//! streams held. And the peer comparison (`--peer litellm`): LiteLLM's proxy
//! and the gateway side by side in front of one fake OpenAI upstream.

use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::blocking::{histogram, nanos, open_loop as blocking_loop};
use crate::http::{Client, Target, Wire, send_blocking};
use crate::note;
use crate::process::{API_KEY, GatewayProcess, UpstreamProcess};
use crate::report::{Percentiles, Table, ms, round};
use crate::streams::{hold, one_stream, open_loop as stream_loop};

/// What the fake OpenAI accepts (the testkit fake's defaults).
fn fake_options() -> FakeOpenAiOptions {
    FakeOpenAiOptions::default()
}

/// A chat completion request to `base` (ending in `/v1`).
pub(crate) fn target(
    base: &str,
    bearer: &str,
    model: &str,
    streaming: bool,
) -> anyhow::Result<Target> {
    let body = json!({
        "model": model, "user": "load", "stream": streaming,
        "messages": [{"role": "user", "content": "How fast is this?"}],
    });
    Ok(Target {
        uri: format!("{base}/chat/completions").parse()?,
        auth: (
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {bearer}"))?,
        ),
        body: Bytes::from(body.to_string()),
        wire: Wire::OpenAi,
    })
}

/// The gateway's OpenAI-compatible door: model = the system id.
fn door(gateway_url: &str, streaming: bool) -> anyhow::Result<Target> {
    target(&format!("{gateway_url}/v1"), API_KEY, "bench", streaming)
}

/// The door's part: blocking at `rate` (added latency), streaming at
/// `stream_rate` (added time to first token), and `held` streams at once.
pub(crate) async fn door_part(
    rate: u32,
    stream_rate: u32,
    seconds: u64,
    held: usize,
) -> anyhow::Result<(String, Value)> {
    let client = crate::http::client();
    let window = Duration::from_secs(seconds);

    let echo = UpstreamProcess::start(None, Duration::ZERO).await?;
    let gw = GatewayProcess::start(&echo.url, None, &[]).await?;
    note(&format!("OpenAI door, blocking at {rate} req/s: direct"));
    let direct = Target::direct(&echo.url, false)?;
    let second = Duration::from_secs(1);
    let d = blocking_loop(&client, &[direct], rate, second, window).await;
    note(&format!(
        "OpenAI door, blocking at {rate} req/s: through the door"
    ));
    let g = blocking_loop(&client, &[door(&gw.url, false)?], rate, second, window).await;
    gw.stop().await;
    let (dl, gl) = (Percentiles::of(&d.latency), Percentiles::of(&g.latency));

    let pace = Duration::from_millis(20);
    let paced = UpstreamProcess::start(Some(64), pace).await?;
    let gw = GatewayProcess::start(&paced.url, None, &[]).await?;
    note(&format!(
        "OpenAI door, streaming at {stream_rate} streams/s"
    ));
    let ds = stream_loop(
        &client,
        &Target::direct(&paced.url, true)?,
        stream_rate,
        window,
    )
    .await;
    let gs = stream_loop(&client, &door(&gw.url, true)?, stream_rate, window).await;
    gw.stop().await;
    let (dt, gt) = (Percentiles::of(&ds.ttft), Percentiles::of(&gs.ttft));

    let slow_pace = Duration::from_secs(1);
    let slow = UpstreamProcess::start(Some(30), slow_pace).await?;
    let gw = GatewayProcess::start(
        &slow.url,
        None,
        &[("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")],
    )
    .await?;
    note(&format!("OpenAI door, holding {held} streams"));
    let target = door(&gw.url, true)?;
    let _ = one_stream(&client, &target).await;
    let h = hold(
        std::slice::from_ref(&client),
        &target,
        held,
        2000,
        slow_pace,
        &gw,
    )
    .await?;
    gw.stop().await;
    let per_stream = h.rss_peak.saturating_sub(h.rss_base) as f64 / held.max(1) as f64 / 1024.0;

    let mut table = Table::new(
        "OpenAI-compatible door (POST /v1/chat/completions), same fake Dify: added = door − direct, ms; streams of 30 deltas 1 s apart",
        &[
            "blocking req/s",
            "added p50",
            "added p99",
            "ok %",
            "TTFT added p50",
            "TTFT added p99",
            "streams held",
            "failed",
            "stalled",
            "KiB / stream",
        ],
    );
    let ok_pct = pct(g.ok, g.failed);
    table.row(vec![
        rate.to_string(),
        ms(gl.p50 - dl.p50),
        ms(gl.p99 - dl.p99),
        format!("{ok_pct:.2}"),
        ms(gt.p50 - dt.p50),
        ms(gt.p99 - dt.p99),
        h.completed.to_string(),
        h.failed.to_string(),
        h.stalled.to_string(),
        format!("{per_stream:.1}"),
    ]);
    let json = json!({
        "rate": rate,
        "blocking": {"direct": dl.json(), "door": gl.json(), "added": gl.minus(dl).json(),
            "ok": g.ok, "failed": g.failed},
        "ttft": {"direct": dt.json(), "door": gt.json(), "added": gt.minus(dt).json(),
            "ok": gs.ok, "failed": gs.failed},
        "held": {"streams": held, "completed": h.completed, "failed": h.failed,
            "stalled": h.stalled, "kib_per_stream": round(per_stream)},
    });
    Ok((table.render(), json))
}

pub(crate) fn pct(ok: u64, failed: u64) -> f64 {
    let total = ok + failed;
    if total == 0 {
        0.0
    } else {
        ok as f64 * 100.0 / total as f64
    }
}

/// The `fake-openai` role's command line.
#[derive(Debug, clap::Args)]
pub(crate) struct FakeOpenAiArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

/// Serve the testkit's fake OpenAI (answers at once) until stopped; the
/// first line printed is its base URL.
#[expect(clippy::print_stdout, reason = "the first line is the address")]
pub(crate) async fn serve_fake(args: &FakeOpenAiArgs) -> anyhow::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("fake OpenAI on http://{addr}/v1");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let fake = FakeOpenAi::new(fake_options());
    axum::serve(listener, fake.router())
        .with_graceful_shutdown(gateway::cli::shutdown_signal())
        .await?;
    Ok(())
}

/// A child process that printed its base URL first.
struct Started {
    _child: Child,
    url: String,
}

/// Start this binary's `fake-openai` role.
async fn start_fake_openai() -> anyhow::Result<Started> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["fake-openai", "--listen", "127.0.0.1:0"])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting the fake OpenAI")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the fake OpenAI printed nothing within 30 s")??
        .context("the fake OpenAI exited before printing its address")?;
    let url = first
        .strip_prefix("fake OpenAI on ")
        .with_context(|| format!("unexpected first line {first:?}"))?
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Started { _child: child, url })
}

/// LiteLLM's proxy (`litellm` on the `PATH`, or `$LITELLM`), configured
/// with one model in front of `upstream`.
async fn start_litellm(upstream: &str, dir: &std::path::Path) -> anyhow::Result<Started> {
    let options = fake_options();
    let config = dir.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/{}\n      api_base: {upstream}\n      api_key: {}\ngeneral_settings:\n  master_key: {LITELLM_KEY}\nlitellm_settings:\n  telemetry: false\n",
            options.model, options.api_key
        ),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let program = std::env::var("LITELLM").unwrap_or_else(|_| "litellm".to_owned());
    let child = Command::new(&program)
        .arg("--config")
        .arg(&config)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("LITELLM_LOG", "ERROR")
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {program} (pip install 'litellm[proxy]')"))?;
    let url = format!("http://127.0.0.1:{port}");
    let client = crate::http::client();
    let probe = target(&format!("{url}/v1"), LITELLM_KEY, "bench", false)?;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if send_blocking(&client, &probe).await.is_some() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "LiteLLM did not answer within 180 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(Started {
        _child: child,
        url: format!("{url}/v1"),
    })
}

const LITELLM_KEY: &str = "sk-bench-master-key";

/// One request at a time, `n` times: complete-answer latency (blocking
/// targets) or time to first token (streaming targets).
async fn sequential(client: &Client, target: &Target, n: usize, streaming: bool) -> Histogram<u64> {
    let mut h = histogram();
    for _ in 0..n {
        let sent = Instant::now();
        let took = if streaming {
            one_stream(client, target).await.and_then(|t| t.ttft)
        } else {
            send_blocking(client, target).await.map(|_| sent.elapsed())
        };
        if let Some(took) = took {
            let _ = h.record(nanos(took).max(1_000));
        }
    }
    h
}

/// `--peer litellm`: the same fake OpenAI straight, through the gateway's
/// OpenAI-compatible door (an OpenAI upstream, persistence on), and through
/// LiteLLM's proxy; one request at a time; the ratio of the added times.
pub(crate) async fn peer_part(requests: usize) -> anyhow::Result<(String, Value)> {
    let dir = tempfile::tempdir()?;
    let fake = start_fake_openai().await?;
    let options = fake_options();
    let gw = GatewayProcess::start_with(
        &[
            ("OPENAI_BASE_URL", &fake.url),
            ("OPENAI_API_KEY", &options.api_key),
            ("OPENAI_MODEL", &options.model),
        ],
        None,
        &[],
    )
    .await?;
    note("starting LiteLLM's proxy");
    let peer = start_litellm(&fake.url, dir.path()).await?;
    let client = crate::http::client();
    let mut table = Table::new(
        "Peer: LiteLLM's proxy and the gateway (persistence on) in front of one fake OpenAI, one request at a time; added = through − direct, ms",
        &[
            "metric",
            "direct p50",
            "gateway added p50",
            "LiteLLM added p50",
            "gateway added p99",
            "LiteLLM added p99",
            "ratio p50",
            "ratio p99",
        ],
    );
    let mut rows = Vec::new();
    for (metric, streaming) in [("latency", false), ("TTFT", true)] {
        note(&format!(
            "peer comparison: {metric}, {requests} requests each"
        ));
        let direct = target(&fake.url, &options.api_key, &options.model, streaming)?;
        let ours = door(&gw.url, streaming)?;
        let theirs = target(&peer.url, LITELLM_KEY, "bench", streaming)?;
        // Warm every path up (connections, caches) before recording.
        for t in [&direct, &ours, &theirs] {
            let _ = sequential(&client, t, 20, streaming).await;
        }
        let d = Percentiles::of(&sequential(&client, &direct, requests, streaming).await);
        let g = Percentiles::of(&sequential(&client, &ours, requests, streaming).await).minus(d);
        let l = Percentiles::of(&sequential(&client, &theirs, requests, streaming).await).minus(d);
        let ratio = |theirs: f64, ours: f64| if ours > 0.0 { theirs / ours } else { f64::NAN };
        table.row(vec![
            metric.to_owned(),
            ms(d.p50),
            ms(g.p50),
            ms(l.p50),
            ms(g.p99),
            ms(l.p99),
            format!("{:.1}", ratio(l.p50, g.p50)),
            format!("{:.1}", ratio(l.p99, g.p99)),
        ]);
        rows.push(json!({
            "metric": metric, "requests": requests, "direct": d.json(),
            "gateway_added": g.json(), "litellm_added": l.json(),
            "ratio_p50": round(ratio(l.p50, g.p50)), "ratio_p99": round(ratio(l.p99, g.p99)),
        }));
    }
    gw.stop().await;
    Ok((table.render(), Value::Array(rows)))
}
