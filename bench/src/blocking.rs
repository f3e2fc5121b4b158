//! Blocking chat under an open model: requests leave at a fixed arrival rate
//! whatever happens to earlier ones, so a stall shows up as latency instead of
//! quietly lowering the load (no coordinated omission).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http::{Client, Target, send_blocking};
use crate::process::{GatewayProcess, UpstreamProcess};
use crate::report::{Percentiles, Table, ms, round};
use crate::{StoreUnderTest, note};

/// What one run measured.
pub(crate) struct Run {
    /// Send-to-answer time of each successful request, nanoseconds.
    pub(crate) latency: Histogram<u64>,
    /// How late the generator sent each request, nanoseconds.
    pub(crate) lag: Histogram<u64>,
    /// The gateway's own time per request (its `Server-Timing` total minus
    /// the upstream's part), nanoseconds.
    pub(crate) own: Histogram<u64>,
    /// The gateway's time storing the turn, nanoseconds.
    pub(crate) store: Histogram<u64>,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    /// The window the numbers cover.
    pub(crate) window: Duration,
}

/// Most requests left unanswered at once. Past it a request due is counted
/// as failed instead of sent: a gateway that has fallen behind would
/// otherwise take every file descriptor of the generator (each waiting
/// request holds a connection) and end the benchmark instead of being
/// reported as overloaded.
const MAX_IN_FLIGHT: usize = 8_192;

/// A histogram of nanoseconds, 1 µs to 120 s at three significant digits.
#[expect(clippy::expect_used, reason = "constant bounds that are valid")]
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 120_000_000_000, 3).expect("valid histogram bounds")
}

/// Send `targets` in turn at `rate` requests per second: `warmup` first
/// (not recorded), then `duration` recorded.
pub(crate) async fn open_loop(
    client: &Client,
    targets: &[Target],
    rate: u32,
    warmup: Duration,
    duration: Duration,
) -> Run {
    let shared = Arc::new(Mutex::new(Run {
        latency: histogram(),
        lag: histogram(),
        own: histogram(),
        store: histogram(),
        ok: 0,
        failed: 0,
        window: duration,
    }));
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now() + Duration::from_millis(5);
    let record_from = start + warmup;
    let end = record_from + duration;
    let mut tasks = tokio::task::JoinSet::new();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut i: u32 = 0;
    loop {
        let due = start + interval * i;
        if due >= end {
            break;
        }
        i += 1;
        tokio::time::sleep_until(due).await;
        let lag = Instant::now().saturating_duration_since(due);
        let recorded = due >= record_from;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            if recorded {
                let mut run = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                run.failed += 1;
            }
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let in_flight = in_flight.clone();
        let client = client.clone();
        let target = targets[i as usize % targets.len()].clone();
        let shared = shared.clone();
        tasks.spawn(async move {
            let sent = Instant::now();
            let answer =
                tokio::time::timeout(Duration::from_secs(30), send_blocking(&client, &target))
                    .await
                    .ok()
                    .flatten();
            let took = sent.elapsed();
            in_flight.fetch_sub(1, Ordering::Relaxed);
            if recorded {
                let mut run = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = run.lag.record(nanos(lag).max(1_000));
                match answer {
                    Some(timing) => {
                        run.ok += 1;
                        let _ = run.latency.record(nanos(took).max(1_000));
                        if let Some(t) = timing {
                            let own = t.total.saturating_sub(t.upstream);
                            let _ = run.own.record(nanos(own).max(1_000));
                            let _ = run.store.record(nanos(t.store).max(1_000));
                        }
                    }
                    None => run.failed += 1,
                }
            }
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let run = Arc::try_unwrap(shared).map(|m| {
        m.into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    run.unwrap_or_else(|shared| {
        let guard = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Run {
            latency: guard.latency.clone(),
            lag: guard.lag.clone(),
            own: guard.own.clone(),
            store: guard.store.clone(),
            ok: guard.ok,
            failed: guard.failed,
            window: guard.window,
        }
    })
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Conversations that `--continued` turns take in turn.
const CONTINUED_CONVERSATIONS: usize = 100;

/// Start `n` conversations through the gateway at `base`; a target
/// continuing each.
async fn continuing(client: &Client, base: &str, n: usize) -> anyhow::Result<Vec<Target>> {
    use http_body_util::BodyExt;
    let first = Target::gateway(base, false)?;
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let answer = client.request(first.request()).await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "starting a conversation: {}",
            answer.status()
        );
        let body: Value = serde_json::from_slice(&answer.into_body().collect().await?.to_bytes())?;
        let id = body["conversation_id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no conversation_id in {body}"))?;
        targets.push(Target::gateway_in(base, id)?);
    }
    Ok(targets)
}

/// The blocking part of the benchmark: every rate against every store.
/// `continued`: each turn continues one of a few conversations instead of
/// starting one.
pub(crate) async fn part(
    rates: &[u32],
    seconds: u64,
    stores: &[StoreUnderTest],
    gateway_env: &[(String, String)],
    continued: bool,
) -> anyhow::Result<(String, Value)> {
    let upstream_process = UpstreamProcess::start(None, Duration::ZERO).await?;
    let upstream = upstream_process.url.clone();
    let client = crate::http::client();
    let direct = Target::direct(&upstream, false)?;
    let warmup = Duration::from_secs(2);
    let window = Duration::from_secs(seconds);
    let mut table = Table::new(
        if continued {
            "Blocking chat continuing 100 conversations, persistence on: added = gateway − direct as the client sees it; own = the gateway's Server-Timing total − upstream; ms"
        } else {
            "Blocking chat, persistence on: added = gateway − direct as the client sees it; own = the gateway's Server-Timing total − upstream; ms"
        },
        &[
            "store",
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
    for under_test in stores {
        let env: Vec<(&str, &str)> = gateway_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let gw = GatewayProcess::start(&upstream, under_test.url.as_deref(), &env).await?;
        let through = if continued {
            continuing(&client, &gw.url, CONTINUED_CONVERSATIONS).await?
        } else {
            vec![Target::gateway(&gw.url, false)?]
        };
        for &rate in rates {
            note(&format!("blocking at {rate} req/s: direct"));
            let d = open_loop(&client, std::slice::from_ref(&direct), rate, warmup, window).await;
            note(&format!(
                "blocking at {rate} req/s: through the gateway ({})",
                under_test.name
            ));
            let before = gw.sample()?;
            let g = open_loop(&client, &through, rate, warmup, window).await;
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
                under_test.name.to_owned(),
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
                "store": under_test.name, "rate": rate,
                "direct": dp.json(), "gateway": gp.json(), "added": added.json(),
                "gateway_own": own.json(), "gateway_store": store.json(),
                "requests": total, "success_pct": round(ok_pct), "direct_failed": d.failed,
                "gateway_cpu_pct": round(cpu), "gateway_rss_bytes": after.rss_bytes,
                "generator_lag_p99_ms": round(lag), "window_s": g.window.as_secs_f64(),
            }));
        }
        gw.stop().await;
    }
    Ok((table.render(), Value::Array(rows)))
}
