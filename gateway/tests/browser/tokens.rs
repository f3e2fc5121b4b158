//! Chat tokens in the browser: the expired-token page, and the widget's
//! postMessage protocol v1 with a host page on another origin (ready,
//! token-expired and a fresh token, reply, lang, close on Esc, and messages
//! from anyone else ignored).

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use fantoccini::key::Key;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::browser::{BrowserOptions, js, wait_for_js, wait_js, with_browser};
use crate::page;
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_shows_a_localized_message() {
    let gw = TestGateway::start(&[]).await;
    let expired = gw.expired_token("drillquiz", "late");
    let url = gw.chat_url(&expired, "lang=es");
    let ko_url = gw.chat_url(&expired, "lang=ko");
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&url).await.unwrap();
        let text = wait_js(&c, "the error page", "return document.querySelector('.error-card') && document.querySelector('.error-card').innerText;").await;
        let text = text.as_str().unwrap();
        assert!(text.contains("Tu sesión de chat ha caducado."), "{text}");
        assert!(text.contains("Vuelve a abrir el chat desde la aplicación para continuar."), "{text}");
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "es");
        assert_eq!(js(&c, "return !!document.getElementById('composer-input');").await, false);
        // The bad token does not stay in the address bar either.
        wait_js(&c, "the token out of the address", "return !location.search.includes('token=');").await;

        c.goto(&ko_url).await.unwrap();
        let text = wait_js(&c, "the Korean error page", "return document.querySelector('.error-card') && document.querySelector('.error-card').innerText;").await;
        assert!(text.as_str().unwrap().contains("채팅 세션이 만료되었습니다."), "{text}");
    })
    .await;
}

/// A host page on its own origin that embeds the chat like the widget does
/// and speaks protocol v1: it logs what the page posts and answers
/// `token-expired` with a fresh token from `/fresh-token`.
async fn host_site(gateway_origin: &str, fresh_token: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = HOST_PAGE.replace(
        "GATEWAY_ORIGIN",
        &serde_json::to_string(gateway_origin).unwrap(),
    );
    let app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/fresh-token", get(move || async move { fresh_token }));
    tokio::spawn(async move {
        // A host page that failed would otherwise show up only as a timeout.
        if let Err(e) = axum::serve(listener, app).await {
            panic!("the host page's server stopped: {e}");
        }
    });
    origin
}

const HOST_PAGE: &str = r#"<!doctype html>
<html><head><title>Host site</title></head><body>
<h1>Host site</h1>
<iframe id="chat" title="Chat" width="380" height="520"></iframe>
<script>
  const chatOrigin = GATEWAY_ORIGIN;
  const frame = document.getElementById('chat');
  window.received = [];
  window.sendToChat = (msg) =>
    frame.contentWindow.postMessage(Object.assign({ source: 'tz-chat-widget', version: 1 }, msg), chatOrigin);
  window.addEventListener('message', (e) => {
    if (e.origin !== chatOrigin || e.source !== frame.contentWindow) return;
    if (!e.data || e.data.source !== 'tz-chat' || e.data.version !== 1) return;
    window.received.push(e.data);
    if (e.data.type === 'token-expired') {
      fetch('/fresh-token').then((r) => r.text()).then((token) => window.sendToChat({ type: 'token', token }));
    }
  });
  window.openChat = (src) => { frame.src = src; };
</script>
</body></html>"#;

/// The message types the host page received so far, comma-separated.
const RECEIVED: &str = "window.received.map(m => m.type).join(',')";

fn encode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_protocol_refreshes_tokens_and_reports_replies() {
    let gw = TestGateway::start(&[]).await;
    let fresh = gw.token("drillquiz", "embedded");
    let host = host_site(&gw.base, fresh.clone()).await;
    let src = gw.chat_url(
        &gw.expired_token("drillquiz", "embedded"),
        &format!("embed=1&lang=en&parent={}", encode(&host)),
    );
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{host}/")).await.unwrap();
        crate::browser::js_with(&c, "window.openChat(arguments[0]);", vec![Value::String(src)]).await;
        // The expired token is refused; the page asks, gets a fresh token
        // from the host, and comes up.
        wait_js(&c, "token-expired then ready", &format!("return {RECEIVED} === 'token-expired,ready';")).await;

        c.enter_frame(0).await.unwrap();
        page::send(&c, "Hello from the widget").await;
        page::wait_replies(&c, 1).await;
        assert_eq!(js(&c, "return location.search.includes('token=');").await, false);
        // Watch the language attribute from now on.
        js(&c, "window.langLog = []; new MutationObserver(() => window.langLog.push(document.documentElement.lang)).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });").await;
        // A message that claims to be the widget but does not come from
        // the parent window is ignored.
        js(&c, "window.postMessage({ source: 'tz-chat-widget', version: 1, type: 'lang', lang: 'ja' }, '*');").await;
        c.enter_parent_frame().await.unwrap();

        wait_js(&c, "the reply message", "return window.received.some(m => m.type === 'reply');").await;
        let reply = js(&c, "return window.received.find(m => m.type === 'reply');").await;
        let conversations = gw.conversations(&fresh).await;
        assert_eq!(conversations.len(), 1);
        assert_eq!(reply["conversation_id"], conversations[0]["id"]);

        // The host switches the language.
        js(&c, "window.sendToChat({ type: 'lang', lang: 'ko' });").await;
        c.enter_frame(0).await.unwrap();
        wait_js(&c, "Korean", "return document.documentElement.lang === 'ko' && document.querySelector('#send-btn span').textContent === '전송';").await;
        assert_eq!(js(&c, "return window.langLog;").await, serde_json::json!(["ko"]), "the spoofed message was obeyed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_session_is_refreshed_and_the_message_retried() {
    let gw = TestGateway::start(&[]).await;
    // The page opens with a token valid for an hour; the host's fresh one
    // is valid for three.
    let short = gw.token("drillquiz", "busy-user");
    let fresh = gw.token_valid_for("drillquiz", "busy-user", Duration::from_secs(3 * 3600));
    let host = host_site(&gw.base, fresh.clone()).await;
    let probe = gw.base.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{host}/")).await.unwrap();
        let src = gw.chat_url(&short, &format!("embed=1&lang=en&parent={}", encode(&host)));
        crate::browser::js_with(
            &c,
            "window.openChat(arguments[0]);",
            vec![Value::String(src)],
        )
        .await;
        wait_js(&c, "ready", &format!("return {RECEIVED} === 'ready';")).await;

        // Two hours pass for the gateway: the page's token has expired,
        // however long the page took to load.
        gw.advance_token_clock(Duration::from_secs(2 * 3600));
        let status = reqwest::Client::new()
            .get(format!("{probe}/v1/conversations"))
            .bearer_auth(&short)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "the page's token is now expired");

        c.enter_frame(0).await.unwrap();
        page::send(&c, "Still there?").await;
        // The send fails with token_expired; the page asks for a token,
        // gets one, and sends the same message again.
        wait_for_js(
            &c,
            "the retried reply",
            "return document.querySelectorAll('.msg-assistant.done').length === 1;",
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(page::user_texts(&c).await, ["Still there?"]);
        assert_eq!(
            js(&c, "return document.querySelectorAll('.msg-error').length;").await,
            0
        );
        assert_eq!(
            js(
                &c,
                "return document.getElementById('expired-banner').hidden;"
            )
            .await,
            true
        );
        c.enter_parent_frame().await.unwrap();
        wait_js(
            &c,
            "the reply message",
            "return window.received.some(m => m.type === 'reply');",
        )
        .await;
        assert_eq!(
            js(&c, &format!("return {RECEIVED};")).await,
            "ready,token-expired,ready,reply"
        );
        let conversations = gw.conversations(&fresh).await;
        assert_eq!(conversations.len(), 1);
        let messages = gw
            .messages(&fresh, conversations[0]["id"].as_str().unwrap())
            .await;
        assert_eq!(
            messages.len(),
            2,
            "one user message, one reply: {messages:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_asks_the_widget_to_close_unless_the_page_used_it() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "esc-user");
    let host = host_site(&gw.base, token.clone()).await;
    let src = gw.chat_url(&token, &format!("embed=1&lang=en&parent={}", encode(&host)));
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{host}/")).await.unwrap();
        crate::browser::js_with(
            &c,
            "window.openChat(arguments[0]);",
            vec![Value::String(src)],
        )
        .await;
        wait_js(&c, "ready", &format!("return {RECEIVED} === 'ready';")).await;

        // Esc in the composer, nothing of the page open: the widget is asked.
        c.enter_frame(0).await.unwrap();
        page::click(&c, "#composer-input").await;
        page::press(&c, &[Key::Escape]).await;
        c.enter_parent_frame().await.unwrap();
        wait_js(
            &c,
            "a close message",
            &format!("return {RECEIVED} === 'ready,close';"),
        )
        .await;

        // Esc that closes the page's own "recent" menu, or its dialog, is
        // used up there. A plain Esc still asks; a reply (posted last, and
        // messages arrive in order) shows that nothing else was posted.
        c.enter_frame(0).await.unwrap();
        page::click(&c, "#recent-btn").await;
        wait_js(
            &c,
            "the recent menu",
            "return !document.getElementById('recent-panel').hidden;",
        )
        .await;
        page::press(&c, &[Key::Escape]).await;
        wait_js(
            &c,
            "the menu closed",
            "return document.getElementById('recent-panel').hidden;",
        )
        .await;
        js(&c, "document.getElementById('rename-dialog').showModal();").await;
        page::press(&c, &[Key::Escape]).await;
        wait_js(
            &c,
            "the dialog closed",
            "return !document.getElementById('rename-dialog').open;",
        )
        .await;
        page::click(&c, "#composer-input").await;
        page::press(&c, &[Key::Escape]).await;
        page::send(&c, "Still here").await;
        page::wait_replies(&c, 1).await;
        c.enter_parent_frame().await.unwrap();
        wait_js(
            &c,
            "the reply message",
            "return window.received.some(m => m.type === 'reply');",
        )
        .await;
        assert_eq!(
            js(&c, &format!("return {RECEIVED};")).await,
            "ready,close,close,reply",
            "an Esc the page used also asked the widget to close"
        );
    })
    .await;
}
