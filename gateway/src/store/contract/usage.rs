//! Usage per day over the console's seeded data (see `search`): totals per
//! day, system and agent, and nearest-rank percentiles.

use time::Duration;

use super::search::{both, day0};
use crate::store::Store;
use crate::store::console::{ConsoleFilter, DailyUsage};

pub(super) async fn usage_per_day(store: &dyn Store) {
    let d = day0();
    let filter = ConsoleFilter {
        from: Some(d),
        to: Some(d + Duration::days(2)),
        ..both()
    };
    let usage = store.daily_usage(&filter).await.unwrap();
    let day = |n: i64| (d + Duration::days(n)).date();
    let row = |n: i64, system: &str, agent: Option<&str>| DailyUsage {
        day: day(n),
        system_id: system.into(),
        agent: agent.map(Into::into),
        conversations: 0,
        messages: 0,
        active_users: 0,
        failures: 0,
        latency_p50_ms: None,
        latency_p95_ms: None,
        ttft_p50_ms: None,
        ttft_p95_ms: None,
        prompt_tokens: 0,
        completion_tokens: 0,
    };
    let expected = vec![
        DailyUsage {
            conversations: 1,
            messages: 2,
            active_users: 1,
            latency_p50_ms: Some(100),
            latency_p95_ms: Some(100),
            ttft_p50_ms: Some(20),
            ttft_p95_ms: Some(20),
            prompt_tokens: 10,
            completion_tokens: 5,
            ..row(0, "cs-a", None)
        },
        DailyUsage {
            conversations: 1,
            messages: 2,
            active_users: 1,
            latency_p50_ms: Some(300),
            latency_p95_ms: Some(300),
            ttft_p50_ms: Some(50),
            ttft_p95_ms: Some(50),
            prompt_tokens: 20,
            completion_tokens: 7,
            ..row(0, "cs-a", Some("sales"))
        },
        DailyUsage {
            conversations: 1,
            messages: 2,
            active_users: 1,
            latency_p50_ms: Some(50),
            latency_p95_ms: Some(50),
            ttft_p50_ms: Some(5),
            ttft_p95_ms: Some(5),
            ..row(0, "cs-b", None)
        },
        DailyUsage {
            conversations: 2,
            messages: 4,
            active_users: 2,
            failures: 1,
            // Nearest rank of [200, 500]: the 1st for p50, the 2nd for p95.
            latency_p50_ms: Some(200),
            latency_p95_ms: Some(500),
            ttft_p50_ms: Some(40),
            ttft_p95_ms: Some(40),
            ..row(1, "cs-a", None)
        },
    ];
    assert_eq!(usage, expected);

    // One day only, one system only.
    let first = store
        .daily_usage(&ConsoleFilter {
            to: Some(d + Duration::days(1)),
            system_id: Some("cs-b".into()),
            ..filter
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].system_id, "cs-b");
}
