//! Tokens that expire under the user: CoinTutor mints one-second tokens;
//! once the gateway refuses the token the chat started with, a message
//! still goes through, on a fresh token the widget fetched, and no error is
//! left on screen.

use std::time::{Duration, Instant};

use sdk::jwt::{JwtSecret, Verifier};
use sdk::{ErrorCode, Role};

use crate::browser::{BrowserOptions, js, wait_js, with_browser};
use crate::harness::{self, SECRET};
use crate::widget::{self, enter_chat, press_launcher, send, wait_replies, wait_until};

/// The `token` query parameter of a chat URL.
fn token_of(url: &str) -> String {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .unwrap()
        .to_owned()
}

/// Wait (asking the gateway) until it refuses `token` as expired.
async fn wait_until_refused(gateway: &str, token: &str) {
    let client = sdk::Client::with_bearer_token(gateway, token).unwrap();
    // One-second tokens plus the gateway's 30 s leeway for clock skew.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client.me().conversations().await {
            Err(e) if e.code() == Some(ErrorCode::TokenExpired) => return,
            Ok(_) => {}
            Err(e) => panic!("unexpected answer for the first token: {e}"),
        }
        assert!(Instant::now() < deadline, "the first token never expired");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_replaces_an_expired_token_and_the_chat_goes_on() {
    let sample = harness::start(&[("SAMPLE_TOKEN_TTL_SECS", "1")]).await;
    let site = sample.site_url().to_owned();
    let gateway = sample.gateway_url().to_owned();
    with_browser(BrowserOptions::default(), move |c| async move {
        harness::sign_in(&c, &site, "carol", "/cointutor").await;
        widget::wait_mounted(&c).await;
        press_launcher(&c).await;
        let w = wait_until(&c, "the chat page", "w.ready && w.frame !== null").await;
        let first = token_of(w["frame"].as_str().unwrap());
        let verifier = Verifier::new(&JwtSecret::new(SECRET));
        let first_claims = verifier.verify(&first).unwrap();
        assert_eq!((first_claims.system_id.as_str(), first_claims.user_id.as_str()), ("cointutor", "carol"));
        assert_eq!(first_claims.exp - first_claims.iat.unwrap(), 1, "SAMPLE_TOKEN_TTL_SECS");

        wait_until_refused(&gateway, &first).await;

        enter_chat(&c).await;
        send(&c, "Am I still connected?").await;
        let reply = wait_replies(&c, 1).await;
        assert!(reply.contains("Am I still connected?"), "{reply}");
        // Nothing failed on screen, and the page holds a newer token than
        // the one it started with.
        let page = js(
            &c,
            "return { errors: document.querySelectorAll('.msg-error, .failed').length, \
                      expired: !document.getElementById('expired-banner').hidden, \
                      notice: document.getElementById('notice').hidden ? null : document.getElementById('notice').textContent, \
                      token: sessionStorage.getItem('tz-chat.token') };",
        )
        .await;
        assert_eq!((page["errors"].as_u64(), page["expired"].as_bool(), page["notice"].clone()), (Some(0), Some(false), serde_json::Value::Null), "{page}");
        let current = page["token"].as_str().unwrap();
        assert_ne!(current, first, "the chat page still has its first token");
        let current_claims = verifier.verify(current).unwrap();
        assert_eq!(current_claims.user_id, "carol");
        assert!(current_claims.exp > first_claims.exp, "{current_claims:?}");
        c.enter_parent_frame().await.unwrap();
        let w = widget::shown(&c).await;
        assert_eq!((w["status"].clone(), w["banner"].clone(), w["open"].as_bool()), (serde_json::Value::Null, serde_json::Value::Null, Some(true)), "{w}");
        wait_js(&c, "the widget still ready", "return window.tzChat.isReady;").await;
    })
    .await;

    let stored =
        harness::stored(sample.gateway_url(), sample.api_key(), "cointutor", "carol").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let turns = harness::turns(&stored[0]);
    assert_eq!(turns.len(), 2, "one question, one answer: {turns:?}");
    assert_eq!(turns[0], (Role::User, "Am I still connected?".to_owned()));
    sample.stop().await.unwrap();
}
