//! The WebSocket door, `GET /v1/ws`, in front of the same fake Dify as the
//! SSE door: added time to a complete answer, added time to first token,
//! and streams held at once (one socket, one running turn each).
//!
//! A socket carries many turns, so the latency runs keep a pool of sockets
//! open and start each turn, at a fixed rate, on a free one (the handshake
//! is not part of any number); the direct path is streamed requests
//! straight to the fake on the same schedule.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use sdk::ServerFrame;
use sdk::ws::WsClient;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::blocking::{histogram, nanos};
use crate::http::{Client, Target};
use crate::note;
use crate::openai::pct;
use crate::process::{API_KEY, GatewayProcess, UpstreamProcess};
use crate::report::{Percentiles, Table, ms, round};
use crate::streams::one_stream;

/// Sockets open for a latency run at `rate` turns a second: twice as many as
/// turns of up to two seconds need (rate × turn time), within bounds.
fn pool_size(rate: u32) -> usize {
    (usize::try_from(rate)
        .unwrap_or(usize::MAX)
        .saturating_mul(2))
    .clamp(8, 512)
}

/// Timings of one turn on a socket.
struct Turn {
    ttft: Option<Duration>,
    total: Duration,
    worst_gap: Duration,
}

async fn connect(gateway_url: &str) -> Option<WsClient> {
    let base = gateway_url.replacen("http://", "ws://", 1);
    WsClient::connect_with_api_key(&base, API_KEY, "bench", "load")
        .await
        .ok()
}

/// Send one message and read its answer to the end; `None` when it failed.
async fn turn(ws: &mut WsClient, started: Option<&AtomicUsize>) -> Option<Turn> {
    let sent = Instant::now();
    ws.send_message(None, "How fast is this?").await.ok()?;
    let mut ttft = None;
    let mut last: Option<Instant> = None;
    let mut worst_gap = Duration::ZERO;
    loop {
        match ws.next_frame().await.ok()?? {
            ServerFrame::Delta { .. } => {
                let now = Instant::now();
                match last {
                    None => {
                        ttft = Some(now - sent);
                        if let Some(started) = started {
                            started.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(prev) => worst_gap = worst_gap.max(now - prev),
                }
                last = Some(now);
            }
            ServerFrame::End { .. } => {
                return Some(Turn {
                    ttft,
                    total: sent.elapsed(),
                    worst_gap,
                });
            }
            ServerFrame::Error { .. } => return None,
            _ => {}
        }
    }
}

/// Turn timings gathered by the loops.
struct Gathered {
    total: Histogram<u64>,
    ttft: Histogram<u64>,
    ok: u64,
    failed: u64,
}

fn gathered() -> Arc<Mutex<Gathered>> {
    Arc::new(Mutex::new(Gathered {
        total: histogram(),
        ttft: histogram(),
        ok: 0,
        failed: 0,
    }))
}

fn record(into: &Mutex<Gathered>, ttft: Option<Duration>, total: Option<Duration>) {
    let mut g = into
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match total {
        Some(total) => {
            g.ok += 1;
            let _ = g.total.record(nanos(total).max(1_000));
            if let Some(t) = ttft {
                let _ = g.ttft.record(nanos(t).max(1_000));
            }
        }
        None => g.failed += 1,
    }
}

fn take(shared: &Mutex<Gathered>) -> (Percentiles, Percentiles, u64, u64) {
    let g = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (
        Percentiles::of(&g.total),
        Percentiles::of(&g.ttft),
        g.ok,
        g.failed,
    )
}

/// Turns started at `rate` a second for `window` on a pool of open sockets
/// (an open model, as the other doors: a turn leaves on time whether or not
/// earlier ones were answered). A turn due when every socket is busy counts
/// as failed: the door is overloaded, and that is reported, not waited out.
async fn socket_open_loop(gateway_url: &str, rate: u32, window: Duration) -> Arc<Mutex<Gathered>> {
    let shared = gathered();
    let size = pool_size(rate);
    let mut pool = Vec::with_capacity(size);
    for _ in 0..size {
        match connect(gateway_url).await {
            Some(ws) => pool.push(ws),
            None => record(&shared, None, None),
        }
    }
    let pool = Arc::new(Mutex::new(pool));
    let mut tasks = tokio::task::JoinSet::new();
    for at in ticks(rate, window) {
        tokio::time::sleep_until(at).await;
        let free = pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let Some(mut ws) = free else {
            record(&shared, None, None);
            continue;
        };
        let (pool, shared) = (pool.clone(), shared.clone());
        tasks.spawn(async move {
            match turn(&mut ws, None).await {
                Some(t) => {
                    record(&shared, t.ttft, Some(t.total));
                    pool.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(ws);
                }
                None => record(&shared, None, None),
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let open = std::mem::take(
        &mut *pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for ws in open {
        let _ = ws.close().await;
    }
    shared
}

/// The same schedule of streamed requests straight to the fake.
async fn direct_open_loop(
    client: &Client,
    target: &Target,
    rate: u32,
    window: Duration,
) -> Arc<Mutex<Gathered>> {
    let shared = gathered();
    let mut tasks = tokio::task::JoinSet::new();
    for at in ticks(rate, window) {
        tokio::time::sleep_until(at).await;
        let (client, target, shared) = (client.clone(), target.clone(), shared.clone());
        tasks.spawn(async move {
            let sent = Instant::now();
            let t = one_stream(&client, &target).await;
            let total = t.as_ref().map(|_| sent.elapsed());
            record(&shared, t.and_then(|t| t.ttft), total);
        });
    }
    while tasks.join_next().await.is_some() {}
    shared
}

/// When each turn of a run at `rate` a second for `window` is due.
fn ticks(rate: u32, window: Duration) -> impl Iterator<Item = Instant> {
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now();
    (0u32..)
        .map(move |i| start + interval * i)
        .take_while(move |at| *at < start + window)
}

/// The WebSocket door's part: added time to a complete answer (an instant
/// upstream, `rate` turns a second), added time to first token (64 deltas
/// 20 ms apart, `stream_rate` turns a second), and `held` sockets each
/// streaming a turn of 30 deltas 1 s apart.
pub(crate) async fn part(
    rate: u32,
    stream_rate: u32,
    seconds: u64,
    held: usize,
) -> anyhow::Result<(String, Value)> {
    let client = crate::http::client();
    let window = Duration::from_secs(seconds);

    let echo = UpstreamProcess::start(None, Duration::ZERO).await?;
    let gw = GatewayProcess::start(&echo.url, None, &[]).await?;
    note(&format!(
        "WebSocket door: complete answers at {rate}/s, direct"
    ));
    let direct = direct_open_loop(&client, &Target::direct(&echo.url, true)?, rate, window).await;
    note(&format!(
        "WebSocket door: complete answers at {rate}/s, through the door"
    ));
    let door = socket_open_loop(&gw.url, rate, window).await;
    gw.stop().await;
    let (d_total, _, _, _) = take(&direct);
    let (g_total, _, g_ok, g_failed) = take(&door);

    let paced = UpstreamProcess::start(Some(64), Duration::from_millis(20)).await?;
    let gw = GatewayProcess::start(&paced.url, None, &[]).await?;
    note(&format!(
        "WebSocket door: time to first token at {stream_rate}/s"
    ));
    let paced_target = Target::direct(&paced.url, true)?;
    let direct = direct_open_loop(&client, &paced_target, stream_rate, window).await;
    let door = socket_open_loop(&gw.url, stream_rate, window).await;
    gw.stop().await;
    let (_, d_ttft, _, _) = take(&direct);
    let (_, g_ttft, _, _) = take(&door);

    let pace = Duration::from_secs(1);
    let slow = UpstreamProcess::start(Some(30), pace).await?;
    let gw = GatewayProcess::start(
        &slow.url,
        None,
        &[("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")],
    )
    .await?;
    note(&format!("WebSocket door: holding {held} sockets"));
    if let Some(mut ws) = connect(&gw.url).await {
        let _ = turn(&mut ws, None).await;
        let _ = ws.close().await;
    }
    let h = hold(&gw, held, pace).await?;
    gw.stop().await;
    let per_socket = h.rss_peak.saturating_sub(h.rss_base) as f64 / held.max(1) as f64 / 1024.0;

    let title = format!(
        "WebSocket door (GET /v1/ws), same fake Dify: added = door − direct, ms; answers at {rate}/s, first tokens at {stream_rate}/s; held sockets stream 30 deltas 1 s apart"
    );
    let mut table = Table::new(
        &title,
        &[
            "answer added p50",
            "answer added p99",
            "ok %",
            "TTFT added p50",
            "TTFT added p99",
            "sockets held",
            "failed",
            "stalled",
            "KiB / socket",
        ],
    );
    table.row(vec![
        ms(g_total.p50 - d_total.p50),
        ms(g_total.p99 - d_total.p99),
        format!("{:.2}", pct(g_ok, g_failed)),
        ms(g_ttft.p50 - d_ttft.p50),
        ms(g_ttft.p99 - d_ttft.p99),
        h.completed.to_string(),
        h.failed.to_string(),
        h.stalled.to_string(),
        format!("{per_socket:.1}"),
    ]);
    let json = json!({
        "rate": rate, "stream_rate": stream_rate,
        "answer": {"direct": d_total.json(), "door": g_total.json(),
            "added": g_total.minus(d_total).json(), "ok": g_ok, "failed": g_failed},
        "ttft": {"direct": d_ttft.json(), "door": g_ttft.json(), "added": g_ttft.minus(d_ttft).json()},
        "held": {"sockets": held, "completed": h.completed, "failed": h.failed,
            "stalled": h.stalled, "kib_per_socket": round(per_socket)},
    });
    Ok((table.render(), json))
}

/// What holding many sockets gave.
struct Held {
    completed: usize,
    failed: usize,
    stalled: usize,
    rss_base: u64,
    rss_peak: u64,
}

/// Open `n` sockets (2,000 a second), each sending one message whose answer
/// arrives a delta per `pace`; sample memory while all stream.
async fn hold(gw: &GatewayProcess, n: usize, pace: Duration) -> anyhow::Result<Held> {
    let rss_base = gw.sample()?.rss_bytes;
    let interval = Duration::from_secs_f64(1.0 / 2000.0);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let started = Arc::new(AtomicUsize::new(0));
    for i in 0..n {
        tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap_or(u32::MAX)).await;
        let (url, started) = (gw.url.clone(), started.clone());
        tasks.spawn(async move {
            let mut ws = connect(&url).await?;
            let t = turn(&mut ws, Some(&started)).await;
            let _ = ws.close().await;
            t
        });
    }
    // Every socket streaming (or a minute passed), then a steady state.
    let deadline = Instant::now() + Duration::from_secs(60);
    while started.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(pace * 2).await;
    let rss_peak = gw.sample()?.rss_bytes;
    let (mut completed, mut failed, mut stalled) = (0, 0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.ok().flatten() {
            Some(t) => {
                completed += 1;
                if t.worst_gap > pace * 5 {
                    stalled += 1;
                }
            }
            None => failed += 1,
        }
    }
    Ok(Held {
        completed,
        failed,
        stalled,
        rss_base,
        rss_peak,
    })
}
