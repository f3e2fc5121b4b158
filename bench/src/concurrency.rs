//! How many streams the gateway holds at once, and what each costs in
//! memory: relaying and idle streams over HTTP/1.1 and HTTP/2, and bare
//! keep-alive connections, each kind on a fresh gateway.

use std::time::Duration;

use http_body_util::BodyExt;
use sdk::sse::SseDecoder;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http::{Client, Target};
use crate::note;
use crate::process::{GatewayProcess, UpstreamProcess};
use crate::report::{Table, round};
use crate::streams::{hold, one_stream};

/// The concurrency part: on a fresh gateway for each count and kind, hold
/// `count` relaying streams (a delta every second), `count` idle streams
/// (opened, the upstream silent) and `count` bare keep-alive connections,
/// within the open-file limit; RSS per stream for each.
pub(crate) async fn part(
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
    hold_open(gw, n, |i| {
        let (client, target) = (clients[i % clients.len()].clone(), target.clone());
        async move { open_until_start(&client, &target).await }
    })
    .await
}

/// Open `n` things with `open` (ramping at 2,000 a second), sample the
/// gateway's memory once they have settled, then close them. Returns (held,
/// RSS base, RSS peak).
async fn hold_open<T, Fut>(
    gw: &GatewayProcess,
    n: usize,
    open: impl Fn(usize) -> Fut,
) -> anyhow::Result<(usize, u64, u64)>
where
    T: Send + 'static,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    let rss_base = gw.sample()?.rss_bytes;
    let interval = Duration::from_secs_f64(1.0 / 2000.0);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap_or(u32::MAX)).await;
        tasks.spawn(open(i));
    }
    let mut held = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        if let Ok(Some(one)) = result {
            held.push(one);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_peak = gw.sample()?.rss_bytes;
    let count = held.len();
    drop(held);
    Ok((count, rss_base, rss_peak))
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
    hold_open(gw, n, |_| {
        let addr = addr.clone();
        async move {
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
        }
    })
    .await
}
