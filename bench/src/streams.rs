//! Streamed replies: time to first token and the gap between tokens, direct
//! and through the gateway; and how many streams the gateway holds at once.

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
use crate::report::{Percentiles, Table, ms, round};

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

/// The concurrency part: on a fresh gateway for each count and kind, hold
/// `count` relaying streams (a delta every second), `count` idle streams
/// (opened, the upstream silent) and `count` bare keep-alive connections,
/// within the open-file limit; RSS per stream for each.
pub(crate) async fn concurrency_part(
    counts: &[usize],
    fd_limit: u64,
    gateway_env: &[(String, String)],
) -> anyhow::Result<(String, Value)> {
    let pace = Duration::from_millis(1000);
    let relaying_upstream = UpstreamProcess::start(Some(30), pace).await?;
    // One word after ten minutes: the stream is open and the upstream silent.
    let idle_upstream = UpstreamProcess::start(Some(1), Duration::from_secs(600)).await?;
    let client = crate::http::client();
    let mut env: Vec<(&str, &str)> = vec![("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")];
    env.extend(gateway_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut table = Table::new(
        "Concurrent streams (30 deltas 1 s apart; HTTP/2 to the upstream), each count on a fresh gateway",
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
    let mut memory = Table::new(
        "Memory per open stream: relaying (a delta every second), idle (upstream silent), each over HTTP/1.1 (a connection a stream) and over HTTP/2 (100 streams a connection); bare keep-alive connections; each on a fresh gateway",
        &[
            "kind",
            "count",
            "held",
            "gw RSS base MiB",
            "gw RSS peak MiB",
            "KiB each",
        ],
    );
    let mut rows = Vec::new();
    let mut memory_rows = Vec::new();
    for &n in counts {
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
        let gw = GatewayProcess::start(&relaying_upstream.url, None, &env).await?;
        let target = Target::gateway(&gw.url, true)?;
        // Warm the gateway up so the baseline includes its steady state.
        let _ = one_stream(&client, &target).await;
        let relaying = hold(std::slice::from_ref(&client), &target, n, 2000, pace, &gw).await?;
        gw.stop().await;
        let per_stream = per_each(relaying.rss_base, relaying.rss_peak, n);
        table.row(vec![
            n.to_string(),
            relaying.completed.to_string(),
            relaying.failed.to_string(),
            relaying.stalled.to_string(),
            format!("{:.0}", relaying.worst_gap.as_secs_f64() * 1000.0),
            mib(relaying.rss_base),
            mib(relaying.rss_peak),
            format!("{per_stream:.1}"),
        ]);
        rows.push(json!({
            "streams": n, "completed": relaying.completed, "failed": relaying.failed, "stalled": relaying.stalled,
            "worst_gap_ms": round(relaying.worst_gap.as_secs_f64() * 1000.0),
            "rss_base_bytes": relaying.rss_base, "rss_peak_bytes": relaying.rss_peak,
            "kib_per_stream": round(per_stream),
        }));
        let mut kinds = vec![(
            "relaying",
            relaying.completed,
            relaying.rss_base,
            relaying.rss_peak,
        )];

        note(&format!(
            "holding {n} relaying streams over HTTP/2, {H2_STREAMS_PER_CONNECTION} a connection"
        ));
        let gw = GatewayProcess::start(&relaying_upstream.url, None, &env).await?;
        let h2 = crate::http::h2c_clients(n, H2_STREAMS_PER_CONNECTION);
        let target = Target::gateway(&gw.url, true)?;
        let _ = one_stream(&h2[0], &target).await;
        let over_h2 = hold(&h2, &target, n, 2000, pace, &gw).await?;
        gw.stop().await;
        let kind = "relaying, HTTP/2";
        kinds.push((kind, over_h2.completed, over_h2.rss_base, over_h2.rss_peak));

        note(&format!("holding {n} idle streams"));
        let gw = GatewayProcess::start(&idle_upstream.url, None, &env).await?;
        drop(open_until_start(&client, &Target::gateway(&gw.url, true)?).await);
        let (held, base, peak) = hold_idle(std::slice::from_ref(&client), &gw, n).await?;
        gw.stop().await;
        kinds.push(("idle", held, base, peak));

        note(&format!("holding {n} idle streams over HTTP/2"));
        let gw = GatewayProcess::start(&idle_upstream.url, None, &env).await?;
        drop(open_until_start(&h2[0], &Target::gateway(&gw.url, true)?).await);
        let (held, base, peak) = hold_idle(&h2, &gw, n).await?;
        gw.stop().await;
        kinds.push(("idle, HTTP/2", held, base, peak));

        note(&format!("holding {n} bare connections"));
        let gw = GatewayProcess::start(&idle_upstream.url, None, &env).await?;
        let (held, base, peak) = hold_connections(&gw, n).await?;
        gw.stop().await;
        kinds.push(("connection", held, base, peak));

        for (kind, held, base, peak) in kinds {
            let each = per_each(base, peak, n);
            memory.row(vec![
                kind.to_owned(),
                n.to_string(),
                held.to_string(),
                mib(base),
                mib(peak),
                format!("{each:.1}"),
            ]);
            memory_rows.push(json!({
                "kind": kind, "count": n, "held": held,
                "rss_base_bytes": base, "rss_peak_bytes": peak, "kib_each": round(each),
            }));
        }
    }
    let json = json!({"relaying": rows, "memory": memory_rows});
    Ok((format!("{}{}", table.render(), memory.render()), json))
}

/// Streams a client (a proxy, in production) puts on one HTTP/2 connection:
/// half of what the gateway allows at once.
const H2_STREAMS_PER_CONNECTION: usize = 100;

fn per_each(base: u64, peak: u64, n: usize) -> f64 {
    peak.saturating_sub(base) as f64 / n.max(1) as f64 / 1024.0
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

/// Open `n` streams whose upstream stays silent, each read up to its
/// `start` event; sample the gateway's memory while all are open, then close
/// them. Returns (held, RSS base, RSS peak).
async fn hold_idle(
    clients: &[Client],
    gw: &GatewayProcess,
    n: usize,
) -> anyhow::Result<(usize, u64, u64)> {
    let target = Target::gateway(&gw.url, true)?;
    let rss_base = gw.sample()?.rss_bytes;
    let interval = Duration::from_secs_f64(1.0 / 2000.0);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap_or(u32::MAX)).await;
        let (client, target) = (clients[i % clients.len()].clone(), target.clone());
        tasks.spawn(async move { open_until_start(&client, &target).await });
    }
    let mut open = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        if let Ok(Some(body)) = result {
            open.push(body);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_peak = gw.sample()?.rss_bytes;
    let held = open.len();
    drop(open);
    Ok((held, rss_base, rss_peak))
}

/// Open a stream and read it up to its `start` event; the body, still open.
async fn open_until_start(client: &Client, target: &Target) -> Option<hyper::body::Incoming> {
    let resp = tokio::time::timeout(Duration::from_secs(60), client.request(target.request()))
        .await
        .ok()?
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let mut body = resp.into_body();
    let mut decoder = SseDecoder::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), body.frame())
            .await
            .ok()??
            .ok()?;
        if let Some(data) = frame.data_ref() {
            decoder.push(data);
            while let Some(ev) = decoder.next_event().ok()? {
                if ev.event.as_deref() == Some("start") {
                    return Some(body);
                }
            }
        }
    }
}

/// Open `n` keep-alive connections, each after one `GET /health` answered,
/// and sample the gateway's memory while they sit idle.
async fn hold_connections(gw: &GatewayProcess, n: usize) -> anyhow::Result<(usize, u64, u64)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = gw.url.strip_prefix("http://").unwrap_or(&gw.url).to_owned();
    let rss_base = gw.sample()?.rss_bytes;
    let mut tasks = tokio::task::JoinSet::new();
    let interval = Duration::from_secs_f64(1.0 / 2000.0);
    let start = Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap_or(u32::MAX)).await;
        let addr = addr.clone();
        tasks.spawn(async move {
            let mut tcp = tokio::net::TcpStream::connect(&addr).await.ok()?;
            let request = format!("GET /health HTTP/1.1\r\nhost: {addr}\r\n\r\n");
            tcp.write_all(request.as_bytes()).await.ok()?;
            // One read holds the whole small answer on loopback.
            let mut buf = [0u8; 1024];
            let read = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf))
                .await
                .ok()?
                .ok()?;
            buf[..read].starts_with(b"HTTP/1.1 200").then_some(tcp)
        });
    }
    let mut open = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        if let Ok(Some(tcp)) = result {
            open.push(tcp);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_peak = gw.sample()?.rss_bytes;
    let held = open.len();
    drop(open);
    Ok((held, rss_base, rss_peak))
}
