//! CoinTutor's widget, as a signed-in user meets it: localized loading
//! shell, a streamed reply, Esc inside the chat closes the panel, reopening
//! keeps the conversation, the language menu switches widget and chat page,
//! and the gateway stored the conversation under `cointutor` / the user.

use fantoccini::Locator;
use sdk::Role;
use serde_json::Value;

use crate::browser::{BrowserOptions, js, save_screenshot, wait_js, with_browser};
use crate::harness::{self, SECRET, artifacts};
use crate::widget::{
    self, enter_chat, press_escape, press_launcher, send, wait_replies, wait_until,
};

/// JavaScript (in the chat page): the Send button's label.
const SEND_LABEL: &str = "return document.querySelector('#send-btn span').textContent;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_user_chats_through_the_widget() {
    // Token answers come 1.5 s late, so the loading shell can be seen.
    let sample = harness::start(&[("SAMPLE_TOKEN_DELAY_MS", "1500")]).await;
    let site = sample.site_url().to_owned();
    let api_key = sample.api_key().to_owned();
    with_browser(BrowserOptions::default(), move |c| async move {
        // Signed out: CoinTutor asks to sign in and has no widget.
        c.goto(&format!("{site}/cointutor?lang=es")).await.unwrap();
        wait_js(&c, "the sign-in card", "return document.getElementById('login-heading').textContent.includes('Sign in');").await;
        assert_eq!(js(&c, "return document.querySelector('script[src$=\"loader.js\"]') === null;").await, true);

        harness::sign_in(&c, &site, "alice", "/cointutor?lang=es").await;
        // The snippet the page shows is the tag it runs: three lines, no secret.
        let snippet = js(&c, "return document.getElementById('widget-snippet').textContent;").await;
        let snippet = snippet.as_str().unwrap().to_owned();
        assert_eq!(snippet.lines().count(), 3, "{snippet}");
        assert!(snippet.contains("data-token-url=\"/api/chat-token\""), "{snippet}");
        let running = js(&c, "const s = document.querySelector('script[src$=\"loader.js\"]'); return [s.getAttribute('src'), s.dataset.tokenUrl, s.dataset.gateway];").await;
        assert!(snippet.contains(running[0].as_str().unwrap()) && snippet.contains(running[2].as_str().unwrap()), "{running}");
        let html = js(&c, "return document.documentElement.outerHTML;").await;
        let html = html.as_str().unwrap();
        assert!(!html.contains(SECRET) && !html.contains(&api_key), "a secret is in the CoinTutor page");

        // The widget follows the page's language (Spanish), before any token.
        let w = widget::wait_mounted(&c).await;
        assert_eq!((w["launcher"].as_str(), w["open"].as_bool()), (Some("Abrir chat"), Some(false)), "{w}");

        // Open: the Spanish shell says it is loading while the token is on its way…
        press_launcher(&c).await;
        let w = wait_until(&c, "the loading shell", "w.open && w.settled && w.status !== null").await;
        assert_eq!(w["title"], "Chat", "{w}");
        assert_eq!(w["close"], "Cerrar", "{w}");
        assert_eq!(w["status"], "Cargando...", "{w}");
        assert_eq!(w["frame"], Value::Null, "{w}");
        save_screenshot(&c, &artifacts(), "sample-cointutor-loading").await;
        // …then the chat page is there and talking to the widget.
        let w = wait_until(&c, "the chat page", "w.ready && w.status === null && w.frame !== null").await;
        let src = w["frame"].as_str().unwrap().to_owned();
        assert!(src.contains("embed=1") && src.contains("lang=es") && src.contains("parent=http%3A%2F%2Flocalhost%3A"), "{src}");

        // A streamed reply in the iframe, in Spanish.
        enter_chat(&c).await;
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "es");
        assert_eq!(js(&c, SEND_LABEL).await, "Enviar");
        send(&c, "What is a stop-loss order?").await;
        wait_js(
            &c,
            "a reply still streaming",
            "const b = document.querySelector('.msg-assistant .bubble'); \
             return !!b && b.innerText.length > 0 && !document.querySelector('.msg-assistant.done');",
        )
        .await;
        let reply = wait_replies(&c, 1).await;
        assert!(reply.contains("What is a stop-loss order?"), "{reply}");

        // Esc inside the chat page closes the widget; focus goes back to the launcher.
        press_escape(&c).await;
        c.enter_parent_frame().await.unwrap();
        let w = wait_until(&c, "the closed panel", "!w.open").await;
        assert_eq!((w["expanded"].as_str(), w["focus"].as_str()), (Some("false"), Some("launcher")), "{w}");

        // Reopen: the same chat, no new loading.
        press_launcher(&c).await;
        let w = wait_until(&c, "the reopened panel", "w.open").await;
        assert_eq!((&w["status"], w["frame"].as_str()), (&Value::Null, Some(src.as_str())), "{w}");
        enter_chat(&c).await;
        assert_eq!(widget::user_texts(&c).await, ["What is a stop-loss order?"]);
        c.enter_parent_frame().await.unwrap();

        // The site's language menu switches the widget and the chat page.
        for (lang, title, close, send_label) in [("ko", "채팅", "닫기", "전송"), ("en", "Chat", "Close", "Send")] {
            c.find(Locator::Id("site-lang")).await.unwrap().select_by_value(lang).await.unwrap();
            let w = wait_until(&c, &format!("the widget in {lang}"), &format!("w.close === {close:?}")).await;
            assert_eq!(w["title"], title, "{w}");
            assert_eq!(js(&c, "return location.search;").await, format!("?lang={lang}").as_str());
            enter_chat(&c).await;
            wait_js(
                &c,
                &format!("the chat page in {lang}"),
                &format!("return document.documentElement.lang === {lang:?} && (function() {{ {SEND_LABEL} }})() === {send_label:?};"),
            )
            .await;
            c.enter_parent_frame().await.unwrap();
        }
        wait_until(&c, "the panel at rest", "w.open && w.settled").await;
        save_screenshot(&c, &artifacts(), "sample-cointutor-widget").await;
    })
    .await;

    // The gateway stored it under cointutor / alice.
    let stored =
        harness::stored(sample.gateway_url(), sample.api_key(), "cointutor", "alice").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let turns = harness::turns(&stored[0]);
    assert_eq!(turns.len(), 2, "{turns:?}");
    assert_eq!(
        turns[0],
        (Role::User, "What is a stop-loss order?".to_owned())
    );
    assert_eq!(turns[1].0, Role::Assistant);
    assert!(
        turns[1].1.contains("What is a stop-loss order?"),
        "{turns:?}"
    );
    assert!(
        harness::stored(sample.gateway_url(), sample.api_key(), "drillquiz", "alice")
            .await
            .is_empty()
    );
    sample.stop().await.unwrap();
}
