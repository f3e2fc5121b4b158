//! The console's reads: search in Latin and CJK text (words of three
//! characters or more, and shorter ones), filters, keyset pages, counts,
//! messages with their metrics, usage per day, and the retention purge.
//!
//! Everything here lives in systems `cs-a` and `cs-b`, more than a year
//! before the other cases' data, so the purge at the end touches only it.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::store::console::{ConsoleFilter, SearchWords, StatusFilter, TurnMetrics};
use crate::store::housekeeping::Purged;

/// Midnight (UTC) of the first day of this data.
pub(super) fn day0() -> OffsetDateTime {
    let t = t0() - Duration::days(400);
    t.replace_time(time::Time::MIDNIGHT)
}

struct Seeded {
    /// Conversation ids in creation order: A1 A2 A3 A4 (system cs-a), B1.
    a: [String; 4],
    b1: String,
    /// The user message of A1.
    a1_question: String,
}

#[expect(clippy::too_many_arguments, reason = "one seeded turn, spelled out")]
async fn turn(
    store: &dyn Store,
    owner: &Identity,
    agent: Option<&str>,
    question: &str,
    answer: &str,
    status: MessageStatus,
    metrics: TurnMetrics,
    at: OffsetDateTime,
) -> (String, String) {
    let (conversation, message) = (id(), id());
    let Begin::Started(started) = store
        .begin_turn(&NewTurn {
            owner,
            conversation_id: None,
            new_conversation_id: &conversation,
            title: question,
            message_id: &message,
            content: question,
            retry_of: None,
            agent,
            at,
        })
        .await
        .unwrap()
    else {
        panic!("turn not started");
    };
    let reply = id();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &started.conversation_id,
            user_message_id: &message,
            user_status: MessageStatus::Complete,
            reply: Some(StoredReply {
                message_id: &reply,
                content: answer,
                status,
                metrics,
            }),
            upstream_conversation_id: None,
            upstream_message_id: None,
            at,
        })
        .await
        .unwrap();
    (started.conversation_id, message)
}

fn metrics(latency: u32, ttft: Option<u32>, tokens: Option<(u64, u64)>) -> TurnMetrics {
    TurnMetrics {
        latency_ms: Some(latency),
        ttft_ms: ttft,
        prompt_tokens: tokens.map(|t| t.0),
        completion_tokens: tokens.map(|t| t.1),
    }
}

async fn seed(store: &dyn Store) -> Seeded {
    let (u1, u2, u3) = (who("cs-a", "u1"), who("cs-a", "u2"), who("cs-a", "u3"));
    let d = day0();
    let h = Duration::hours(1);
    let complete = MessageStatus::Complete;
    let (a1, a1_question) = turn(
        store,
        &u1,
        None,
        "How do I reset my password?",
        "Open Settings, then Password.",
        complete,
        metrics(100, Some(20), Some((10, 5))),
        d + h,
    )
    .await;
    let (a2, _) = turn(
        store,
        &u2,
        Some("sales"),
        "서울 날씨 알려줘",
        "서울은 맑습니다.",
        complete,
        metrics(300, Some(50), Some((20, 7))),
        d + 2 * h,
    )
    .await;
    let (a3, _) = turn(
        store,
        &u1,
        None,
        "北京的天气怎么样",
        "上游错误",
        MessageStatus::Failed,
        metrics(500, None, None),
        d + Duration::days(1) + h,
    )
    .await;
    let (a4, _) = turn(
        store,
        &u3,
        None,
        "東京の天気を教えて",
        "東京は晴れ",
        MessageStatus::Incomplete,
        metrics(200, Some(40), None),
        d + Duration::days(1) + 2 * h,
    )
    .await;
    let (b1, _) = turn(
        store,
        &who("cs-b", "u1"),
        None,
        "PASSWORD again",
        "ok",
        complete,
        metrics(50, Some(5), None),
        d + 3 * h,
    )
    .await;
    Seeded {
        a: [a1, a2, a3, a4],
        b1,
        a1_question,
    }
}

pub(super) fn both() -> ConsoleFilter {
    ConsoleFilter {
        systems: Some(vec!["cs-a".into(), "cs-b".into()]),
        ..ConsoleFilter::default()
    }
}

fn searching(q: &str) -> ConsoleFilter {
    ConsoleFilter {
        words: SearchWords::parse(q),
        ..both()
    }
}

const PAGE: PageRequest<'static> = PageRequest {
    limit: 100,
    before: None,
};

async fn ids(store: &dyn Store, filter: &ConsoleFilter) -> Vec<String> {
    let found = store.console_conversations(filter, PAGE).await.unwrap();
    let n = store.console_count(filter).await.unwrap();
    assert_eq!(n, found.len() as u64, "count agrees with the listing");
    found.into_iter().map(|c| c.record.id).collect()
}

/// Every console read, then the purge (which removes this data).
pub(super) async fn console(store: &dyn Store) {
    let s = seed(store).await;
    let [a1, a2, a3, a4] = s.a.clone();
    search_in_every_script(store, &s).await;
    filters_pages_and_scope(store, &s).await;

    let messages = store
        .console_messages(&[a4.clone(), a1.clone()])
        .await
        .unwrap();
    let order: Vec<(&str, Role)> = messages
        .iter()
        .map(|m| (m.record.conversation_id.as_str(), m.record.role))
        .collect();
    assert_eq!(
        order,
        [
            (a4.as_str(), Role::User),
            (a4.as_str(), Role::Assistant),
            (a1.as_str(), Role::User),
            (a1.as_str(), Role::Assistant)
        ]
    );
    assert_eq!(messages[1].record.status, MessageStatus::Incomplete);
    assert_eq!(messages[3].metrics, metrics(100, Some(20), Some((10, 5))));
    assert_eq!(
        messages[2].metrics,
        TurnMetrics::default(),
        "none on questions"
    );

    let one = store
        .console_conversation(&both(), &a2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.agent.as_deref(), Some("sales"));
    assert_eq!(one.messages, 2);
    let elsewhere = ConsoleFilter {
        systems: Some(vec!["cs-b".into()]),
        ..ConsoleFilter::default()
    };
    assert!(
        store
            .console_conversation(&elsewhere, &a2)
            .await
            .unwrap()
            .is_none()
    );

    super::usage::usage_per_day(store).await;

    // Retention: everything not active since the second day goes.
    let cutoff = day0() + Duration::days(1);
    let three = Purged {
        conversations: 3,
        messages: 6,
    };
    assert_eq!(store.purge_inactive(cutoff).await.unwrap(), Some(three));
    assert_eq!(ids(store, &both()).await, [a4.clone(), a3]);
    assert_eq!(
        store.purge_inactive(cutoff).await.unwrap(),
        Some(Purged::default())
    );
    // Each run is recorded, newest first.
    let runs = store.retention_runs(10).await.unwrap();
    let recorded: Vec<_> = runs.iter().map(|r| (r.cutoff, r.purged)).collect();
    assert_eq!(recorded, [(cutoff, Purged::default()), (cutoff, three)]);
    assert!(runs[0].ran_at >= runs[1].ran_at);
    assert!(!runs[0].replica.is_empty());
    assert!(store.console_messages(&[a1, a2]).await.unwrap().is_empty());
    assert!(
        ids(store, &searching("서울")).await.is_empty(),
        "the index forgets too"
    );
}

async fn search_in_every_script(store: &dyn Store, s: &Seeded) {
    let [a1, a2, a3, a4] = s.a.each_ref().map(String::as_str);
    let b1 = s.b1.as_str();
    // Latin, any case; newest first.
    assert_eq!(ids(store, &searching("password")).await, [b1, a1]);
    assert_eq!(ids(store, &searching("PassWord")).await, [b1, a1]);
    // Every word in one message: "reset" and "settings" are in two.
    assert_eq!(ids(store, &searching("settings password")).await, [a1]);
    assert!(ids(store, &searching("reset settings")).await.is_empty());
    // Also when one word is too short for an index: "ok" is in b1's
    // answer, "password" in its question.
    assert!(ids(store, &searching("password ok")).await.is_empty());
    assert_eq!(ids(store, &searching("ag PASS")).await, [b1]);
    assert_eq!(
        store.console_count(&searching("password")).await.unwrap(),
        2
    );
    // Korean: two-character words, and three.
    assert_eq!(ids(store, &searching("서울")).await, [a2]);
    assert_eq!(ids(store, &searching("날씨 알려줘")).await, [a2]);
    assert_eq!(ids(store, &searching("서울은 맑습")).await, [a2]);
    // Chinese and Japanese: 天气 and 天気 are different words.
    assert_eq!(ids(store, &searching("北京的")).await, [a3]);
    assert_eq!(ids(store, &searching("天气")).await, [a3]);
    assert_eq!(ids(store, &searching("東京の")).await, [a4]);
    assert_eq!(ids(store, &searching("天気")).await, [a4]);
    assert_eq!(ids(store, &searching("錯誤")).await, Vec::<String>::new());
    assert_eq!(ids(store, &searching("上游")).await, [a3]);
    // Wildcards are text.
    assert!(ids(store, &searching("%")).await.is_empty());
    assert!(ids(store, &searching("pass_ord")).await.is_empty());

    // The hit: the first message holding the words, for highlighting.
    let found = store
        .console_conversations(
            &ConsoleFilter {
                system_id: Some("cs-a".into()),
                ..searching("password")
            },
            PAGE,
        )
        .await
        .unwrap();
    let hit = found[0].hit.as_ref().unwrap();
    assert_eq!(hit.id, s.a1_question);
    let words = SearchWords::parse("password");
    let at: Vec<&str> = words
        .find_in(&hit.content)
        .into_iter()
        .map(|r| &hit.content[r])
        .collect();
    assert_eq!(at, ["password"]);
    let found = store
        .console_conversations(&searching("東京"), PAGE)
        .await
        .unwrap();
    let hit = found[0].hit.as_ref().unwrap();
    assert_eq!(hit.content, "東京の天気を教えて");
    assert_eq!(found[0].messages, 2);
    assert!(
        store.console_conversations(&both(), PAGE).await.unwrap()[0]
            .hit
            .is_none(),
        "no words, no hit"
    );
}

async fn filters_pages_and_scope(store: &dyn Store, s: &Seeded) {
    let [a1, a2, a3, a4] = s.a.each_ref().map(String::as_str);
    let cs_a = ConsoleFilter {
        system_id: Some("cs-a".into()),
        ..both()
    };
    assert_eq!(ids(store, &cs_a).await, [a4, a3, a2, a1]);
    let failed = ConsoleFilter {
        status: Some(StatusFilter::Failed),
        ..both()
    };
    assert_eq!(ids(store, &failed).await, [a3]);
    let incomplete = ConsoleFilter {
        status: Some(StatusFilter::Incomplete),
        ..both()
    };
    assert_eq!(ids(store, &incomplete).await, [a4]);
    let sales = ConsoleFilter {
        agent: Some("sales".into()),
        ..both()
    };
    let found = store.console_conversations(&sales, PAGE).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.id, a2);
    assert_eq!(found[0].agent.as_deref(), Some("sales"));
    let u1 = ConsoleFilter {
        user_id: Some("u1".into()),
        ..cs_a.clone()
    };
    assert_eq!(ids(store, &u1).await, [a3, a1]);
    let second_day = ConsoleFilter {
        from: Some(day0() + Duration::days(1)),
        to: Some(day0() + Duration::days(2)),
        ..both()
    };
    assert_eq!(ids(store, &second_day).await, [a4, a3]);

    // Keyset pages of two.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store
            .console_conversations(
                &cs_a,
                PageRequest {
                    limit: 2,
                    before: before.as_deref(),
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        before = page.last().map(|c| c.record.id.clone());
        seen.extend(page.into_iter().map(|c| c.record.id));
    }
    assert_eq!(seen, [a4, a3, a2, a1]);

    // A viewer's systems bound everything else.
    let other = ConsoleFilter {
        systems: Some(vec!["cs-b".into()]),
        system_id: Some("cs-a".into()),
        ..ConsoleFilter::default()
    };
    assert!(ids(store, &other).await.is_empty());
    let none = ConsoleFilter {
        systems: Some(Vec::new()),
        ..ConsoleFilter::default()
    };
    assert!(ids(store, &none).await.is_empty());
    assert_eq!(
        ids(
            store,
            &ConsoleFilter {
                systems: Some(vec!["cs-b".into()]),
                ..searching("password")
            }
        )
        .await,
        [s.b1.as_str()]
    );
}
