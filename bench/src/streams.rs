//! Streamed replies: time to first token and the gap between tokens, direct
//! and through the gateway; and holding many streams open at once (used by
//! `concurrency` and the OpenAI door's part).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use http_body_util::BodyExt;
use sdk::sse::SseDecoder;
use tokio::time::Instant;

use serde_json::{Value, json};

use crate::blocking::{histogram, nanos};
use crate::http::{Client, Target, Wire};
use crate::note;
use crate::process::{GatewayProcess, UpstreamProcess};
use crate::report::{Percentiles, Table, ms};

/// Timings of one stream.
#[derive(Debug, Default)]
pub(crate) struct Timings {
    /// Send to first token.
    pub(crate) ttft: Option<Duration>,
    /// Between consecutive tokens.
    pub(crate) gaps: Vec<Duration>,
    /// Tokens received.
    pub(crate) tokens: usize,
}

/// Read one streamed reply; `None` when it failed.
pub(crate) async fn one_stream(client: &Client, target: &Target) -> Option<Timings> {
    counted_stream(client, target, None).await
}

/// [`one_stream`], adding one to `started` at the first token.
async fn counted_stream(
    client: &Client,
    target: &Target,
    started: Option<&AtomicUsize>,
) -> Option<Timings> {
    let sent = Instant::now();
    let resp = client.request(target.request()).await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let mut body = resp.into_body();
    let mut decoder = SseDecoder::new();
    let mut timings = Timings::default();
    let mut last: Option<Instant> = None;
    let mut finished = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let now = Instant::now();
        decoder.push(data);
        while let Some(ev) = decoder.next_event().ok()? {
            let (token, end) = match target.wire {
                Wire::Gateway => (
                    ev.event.as_deref() == Some("delta"),
                    ev.event.as_deref() == Some("end"),
                ),
                Wire::Dify => (
                    ev.data.contains("\"event\":\"message\""),
                    ev.data.contains("\"event\":\"message_end\""),
                ),
                Wire::OpenAi => (
                    ev.data.contains("\"content\":\"") && !ev.data.contains("\"content\":\"\""),
                    ev.data.trim() == "[DONE]",
                ),
            };
            finished |= end;
            if token {
                timings.tokens += 1;
                match last {
                    None => {
                        timings.ttft = Some(now - sent);
                        if let Some(started) = started {
                            started.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(prev) => timings.gaps.push(now - prev),
                }
                last = Some(now);
            }
        }
    }
    finished.then_some(timings)
}

/// Aggregate timings of many streams.
pub(crate) struct StreamRun {
    pub(crate) ttft: Histogram<u64>,
    pub(crate) gaps: Histogram<u64>,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
}

/// Start `rate` streams per second for `duration`, and wait for all of them.
pub(crate) async fn open_loop(
    client: &Client,
    target: &Target,
    rate: u32,
    duration: Duration,
) -> StreamRun {
    let run = Arc::new(Mutex::new(StreamRun {
        ttft: histogram(),
        gaps: histogram(),
        ok: 0,
        failed: 0,
    }));
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut i = 0;
    while start + interval * i < start + duration {
        tokio::time::sleep_until(start + interval * i).await;
        i += 1;
        let (client, target, run) = (client.clone(), target.clone(), run.clone());
        tasks.spawn(async move {
            let timings = one_stream(&client, &target).await;
            let mut run = run
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match timings {
                Some(t) if t.ttft.is_some() => {
                    run.ok += 1;
                    if let Some(ttft) = t.ttft {
                        let _ = run.ttft.record(nanos(ttft).max(1_000));
                    }
                    for g in t.gaps {
                        let _ = run.gaps.record(nanos(g).max(1_000));
                    }
                }
                _ => run.failed += 1,
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let guard = run
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    StreamRun {
        ttft: guard.ttft.clone(),
        gaps: guard.gaps.clone(),
        ok: guard.ok,
        failed: guard.failed,
    }
}

/// Outcome of holding many streams open at once.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    pub(crate) completed: usize,
    pub(crate) failed: usize,
    /// Streams with a gap between tokens longer than the stall limit.
    pub(crate) stalled: usize,
    pub(crate) worst_gap: Duration,
    pub(crate) rss_base: u64,
    pub(crate) rss_peak: u64,
}

/// Open `n` streams (ramping at `ramp_per_sec`, taking `clients` in turn),
/// each a slow answer paced `pace` apart; sample the gateway's memory while
/// all are open.
pub(crate) async fn hold(
    clients: &[Client],
    target: &Target,
    n: usize,
    ramp_per_sec: u32,
    pace: Duration,
    gateway: &crate::process::GatewayProcess,
) -> anyhow::Result<Hold> {
    let rss_base = gateway.sample()?.rss_bytes;
    let stall_limit = pace * 5;
    let interval = Duration::from_secs_f64(1.0 / f64::from(ramp_per_sec.max(1)));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let started = Arc::new(AtomicUsize::new(0));
    for i in 0..n {
        tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap_or(u32::MAX)).await;
        let client = clients[i % clients.len()].clone();
        let (target, started) = (target.clone(), started.clone());
        tasks.spawn(async move { counted_stream(&client, &target, Some(&started)).await });
    }
    // Wait until every stream has had its first token (or a minute has
    // passed), then let them all reach their steady state.
    let deadline = Instant::now() + Duration::from_secs(60);
    while started.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(pace * 2).await;
    let rss_peak = gateway.sample()?.rss_bytes;
    let (mut completed, mut failed, mut stalled) = (0, 0, 0);
    let mut worst_gap = Duration::ZERO;
    while let Some(result) = tasks.join_next().await {
        match result.ok().flatten() {
            Some(t) => {
                completed += 1;
                let worst = t.gaps.iter().copied().max().unwrap_or_default();
                worst_gap = worst_gap.max(worst);
                if worst > stall_limit {
                    stalled += 1;
                }
            }
            None => failed += 1,
        }
    }
    Ok(Hold {
        completed,
        failed,
        stalled,
        worst_gap,
        rss_base,
        rss_peak,
    })
}

/// The streaming part: time to first token and gaps, direct and through
/// the gateway, at `rate` streams per second for `seconds`.
pub(crate) async fn streaming_part(rate: u32, seconds: u64) -> anyhow::Result<(String, Value)> {
    let pace = Duration::from_millis(20);
    let upstream_process = UpstreamProcess::start(Some(64), pace).await?;
    let upstream = upstream_process.url.clone();
    let gw = GatewayProcess::start(&upstream, None, &[]).await?;
    let client = crate::http::client();
    let window = Duration::from_secs(seconds);
    note(&format!("streaming at {rate} streams/s: direct"));
    let d = open_loop(&client, &Target::direct(&upstream, true)?, rate, window).await;
    note(&format!(
        "streaming at {rate} streams/s: through the gateway"
    ));
    let g = open_loop(&client, &Target::gateway(&gw.url, true)?, rate, window).await;
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
        "streams_per_s": rate, "deltas": 64, "pace_ms": 20,
        "ttft": {"direct": dt.json(), "gateway": gt.json(), "added": gt.minus(dt).json()},
        "gap": {"direct": dg.json(), "gateway": gg.json(), "added": gg.minus(dg).json()},
        "ok": g.ok, "failed": g.failed, "direct_failed": d.failed,
    });
    Ok((table.render(), json))
}
