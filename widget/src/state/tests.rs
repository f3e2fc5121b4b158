//! Unit tests of the reducer: one test per rule in the module docs.

use super::*;

const HOST: &str = "https://shop.example.com";
const GW: &str = "http://127.0.0.1:8088";
const NOW: f64 = 1_700_000_000_000.0;

fn grant(token: &str) -> Grant {
    Grant {
        token: token.into(),
        expires_at: 1_700_000_000 + 3600,
        base: GW.into(),
        ui: None,
    }
}

fn ticket(s: &State) -> u64 {
    match s.fetch {
        Fetch::InFlight { ticket, .. } => ticket,
        Fetch::Idle => panic!("no fetch under way: {s:?}"),
    }
}

fn fetched(s: State, token: &str) -> State {
    let t = ticket(&s);
    s.apply(Action::TokenFetched {
        ticket: t,
        result: Ok(grant(token)),
        now_ms: NOW,
    })
}

/// Opened, token in, page ready.
fn chatting() -> State {
    let s = fetched(State::new(Lang::En, HOST).apply(Action::Open), "t1");
    s.apply(Action::Page(PageMessage::Ready))
}

#[test]
fn nothing_is_fetched_before_the_first_open() {
    let s = State::new(Lang::En, HOST);
    assert_eq!(s.fetch, Fetch::Idle);
    assert_eq!(s.body(), Body::Loading);
    let s = s.apply(Action::Close);
    assert_eq!(s.fetch, Fetch::Idle);
}

#[test]
fn first_open_fetches_then_shows_the_chat_page() {
    let s = State::new(Lang::Ko, HOST).apply(Action::Toggle);
    assert!(s.open);
    assert_eq!(s.body(), Body::Loading);
    let s = fetched(s, "t1");
    assert_eq!(s.fetch, Fetch::Idle);
    assert_eq!(s.body(), Body::Chat { banner: None });
    let frame = s.frame.as_ref().unwrap();
    assert_eq!(
        frame.src,
        "http://127.0.0.1:8088/chat?token=t1&embed=1&lang=ko&parent=https%3A%2F%2Fshop.example.com"
    );
    assert_eq!(frame.origin, GW);
    assert!(!frame.ready);
    assert_eq!(s.refresh_at, Some(NOW + 3_600_000.0 - 300_000.0));
}

#[test]
fn a_failure_shows_the_reason_and_retry_fetches_again() {
    let s = State::new(Lang::En, HOST).apply(Action::Open);
    let t = ticket(&s);
    let s = s.apply(Action::TokenFetched {
        ticket: t,
        result: Err(TokenError::Http {
            status: 403,
            message: "Origin not allowed".into(),
        }),
        now_ms: NOW,
    });
    assert_eq!(s.body(), Body::Failed("HTTP 403: Origin not allowed"));
    assert_eq!(s.texts().token_error, "Could not load chat token.");
    assert_eq!(s.refresh_at, None, "no automatic loop without a token");
    let s = s.apply(Action::Retry);
    assert_eq!(ticket(&s), t + 1);
    assert_eq!(s.body(), Body::Loading);
    let s = fetched(s, "t2");
    assert_eq!(s.body(), Body::Chat { banner: None });
}

#[test]
fn reopening_after_a_failure_retries() {
    let s = State::new(Lang::En, HOST).apply(Action::Open);
    let t = ticket(&s);
    let s = s
        .apply(Action::TokenFetched {
            ticket: t,
            result: Err(TokenError::Network("Failed to fetch".into())),
            now_ms: NOW,
        })
        .apply(Action::Close)
        .apply(Action::Open);
    assert_eq!(ticket(&s), t + 1);
}

#[test]
fn only_one_request_at_a_time() {
    let s = State::new(Lang::En, HOST).apply(Action::Open);
    let t = ticket(&s);
    let s = s
        .apply(Action::Retry)
        .apply(Action::Close)
        .apply(Action::Open);
    assert_eq!(ticket(&s), t);
}

#[test]
fn a_stale_answer_is_dropped_after_reset() {
    let s = State::new(Lang::En, HOST).apply(Action::Open);
    let old = ticket(&s);
    let s = s.apply(Action::Reset);
    let new = ticket(&s);
    assert_ne!(old, new);
    let s = s.apply(Action::TokenFetched {
        ticket: old,
        result: Ok(grant("previous-user")),
        now_ms: NOW,
    });
    assert!(s.grant.is_none());
    assert!(s.frame.is_none());
    assert_eq!(ticket(&s), new);
}

#[test]
fn reset_forgets_the_user_and_rebuilds_the_frame() {
    let s = chatting()
        .apply(Action::Close)
        .apply(Action::Page(PageMessage::Reply {
            conversation_id: "c".into(),
        }));
    assert_eq!(s.unread, 1);
    let old_frame = s.frame.as_ref().unwrap().id;
    let s = s.apply(Action::Reset);
    assert!(s.grant.is_none() && s.frame.is_none());
    assert_eq!(s.unread, 0);
    assert_eq!(s.session, 1);
    assert_eq!(s.fetch, Fetch::Idle, "closed: fetch at the next open");
    let s = fetched(s.apply(Action::Open), "t-other-user");
    assert_ne!(s.frame.as_ref().unwrap().id, old_frame);
}

#[test]
fn reset_while_open_fetches_at_once() {
    // The seed left "Loading..." forever here.
    let s = chatting().apply(Action::Reset);
    assert!(s.open);
    assert!(matches!(s.fetch, Fetch::InFlight { .. }));
    assert_eq!(s.body(), Body::Loading);
}

#[test]
fn refresh_posts_the_new_token_without_reloading() {
    let s = chatting();
    let frame_before = s.frame.clone().unwrap();
    let s = s.apply(Action::RefreshDue);
    assert_eq!(s.refresh_at, None);
    let s = fetched(s, "t2");
    let frame = s.frame.as_ref().unwrap();
    assert_eq!(frame.id, frame_before.id);
    assert_eq!(frame.src, frame_before.src, "src keeps the first token");
    assert_eq!(frame.delivered, "t2");
    assert_eq!(s.grant.as_ref().unwrap().token, "t2");
}

#[test]
fn a_token_refreshed_before_the_page_is_ready_is_sent_on_ready() {
    let s = fetched(State::new(Lang::En, HOST).apply(Action::Open), "t1");
    let s = fetched(s.apply(Action::Page(PageMessage::TokenExpired)), "t2");
    assert_eq!(s.frame.as_ref().unwrap().delivered, "t1");
    let s = s.apply(Action::Page(PageMessage::Ready));
    assert_eq!(s.frame.as_ref().unwrap().delivered, "t2");
}

#[test]
fn the_page_reporting_expiry_triggers_a_fetch() {
    let s = chatting().apply(Action::Page(PageMessage::TokenExpired));
    assert!(matches!(s.fetch, Fetch::InFlight { .. }));
}

#[test]
fn close_from_the_page_closes_and_keeps_the_chat() {
    let s = chatting();
    let frame = s.frame.clone();
    let s = s.apply(Action::Page(PageMessage::Close));
    assert!(!s.open);
    assert_eq!(s.frame, frame, "the conversation stays");
    assert_eq!(s.fetch, Fetch::Idle);
    let s = s.apply(Action::Open);
    assert!(s.open);
    assert_eq!(s.fetch, Fetch::Idle, "reopening needs no new token");
    assert_eq!(s.frame, frame);
}

#[test]
fn page_messages_without_a_frame_are_ignored() {
    let s = State::new(Lang::En, HOST);
    let after = s
        .clone()
        .apply(Action::Page(PageMessage::TokenExpired))
        .apply(Action::Page(PageMessage::Reply {
            conversation_id: "c".into(),
        }));
    assert_eq!(after, s);
}

#[test]
fn a_failed_refresh_keeps_the_chat_and_retries_later() {
    let s = chatting().apply(Action::RefreshDue);
    let t = ticket(&s);
    let s = s.apply(Action::TokenFetched {
        ticket: t,
        result: Err(TokenError::Network("offline".into())),
        now_ms: NOW,
    });
    assert!(matches!(s.body(), Body::Chat { banner: Some(b) } if b.contains("offline")));
    assert_eq!(s.refresh_at, Some(NOW + REFRESH_RETRY_MS));
    assert_eq!(s.grant.as_ref().unwrap().token, "t1");
}

#[test]
fn unread_counts_replies_only_while_closed() {
    let reply = || {
        Action::Page(PageMessage::Reply {
            conversation_id: "c".into(),
        })
    };
    let s = chatting().apply(reply());
    assert_eq!(s.unread, 0);
    let s = s.apply(Action::Close).apply(reply()).apply(reply());
    assert_eq!(s.unread, 2);
    let s = s.apply(Action::Open);
    assert_eq!(s.unread, 0);
}

#[test]
fn texts_follow_the_language_and_the_token_answer() {
    let s = State::new(Lang::En, HOST).apply(Action::Open);
    let t = ticket(&s);
    let mut g = grant("t1");
    g.ui = Some(UiTexts {
        title: "Support".into(),
        ..UiTexts::for_lang(Lang::En)
    });
    let s = s.apply(Action::TokenFetched {
        ticket: t,
        result: Ok(g),
        now_ms: NOW,
    });
    assert_eq!(s.texts().title, "Support");
    let s = s.apply(Action::SetLang(Lang::Ja));
    assert_eq!(s.texts().title, "チャット");
    assert_eq!(s.texts().close, "閉じる");
    let s = s.apply(Action::SetLang(Lang::En));
    assert_eq!(s.texts().title, "Support");
}

#[test]
fn language_reaches_the_page_when_it_is_ready() {
    let s = fetched(State::new(Lang::En, HOST).apply(Action::Open), "t1");
    let s = s.apply(Action::SetLang(Lang::Es));
    assert_eq!(s.frame.as_ref().unwrap().lang, Lang::En, "not ready yet");
    let s = s.apply(Action::Page(PageMessage::Ready));
    assert_eq!(s.frame.as_ref().unwrap().lang, Lang::Es);
    let s = s.apply(Action::SetLang(Lang::Zh));
    assert_eq!(s.frame.as_ref().unwrap().lang, Lang::Zh);
    // A new fetch asks in the new language.
    let s = s.apply(Action::RefreshDue);
    assert!(matches!(s.fetch, Fetch::InFlight { lang: Lang::Zh, .. }));
}

#[test]
fn preload_fetches_without_opening() {
    let s = State::new(Lang::En, HOST).apply(Action::Preload);
    assert!(!s.open);
    let s = fetched(s, "t1");
    assert!(s.frame.is_some());
    let again = s.clone().apply(Action::Preload);
    assert_eq!(again, s);
}

#[test]
fn frame_debug_hides_the_token() {
    let s = chatting();
    let printed = format!("{s:?}");
    assert!(!printed.contains("t1"), "{printed}");
}
