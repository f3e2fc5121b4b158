//! Sending messages: streaming, Stop, history after a reload, markdown and
//! sanitising, and the Enter key rules (Shift+Enter, IME composition).

use fantoccini::Locator;

use crate::browser::{BrowserOptions, js, save_screenshot, wait_js, with_browser};
use crate::page::{self, artifacts};
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_streams_in_and_the_history_survives_a_reload() {
    let gw = TestGateway::start(&[("CHAT_GATEWAY_DEMO_DELAY_MS", "25")]).await;
    let token = gw.token("drillquiz", "alice");
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        // Header: product and identity.
        let header = js(&c, "return document.querySelector('.topbar').innerText;").await;
        let header = header.as_str().unwrap();
        assert!(header.contains("TZ-Chat") && header.contains("alice") && header.contains("drillquiz"), "{header}");
        assert!(page::unlabelled_controls(&c).await.is_empty(), "{:?}", page::unlabelled_controls(&c).await);

        page::send(&c, "Hello there").await;
        // While the reply streams: Send is disabled, Stop is offered, and the
        // text grows word by word before the reply is finished.
        wait_js(
            &c,
            "a partly streamed reply",
            "const b = document.querySelector('.msg-assistant .bubble'); \
             return b && b.innerText.includes('Demo') && !document.querySelector('.msg-assistant.done') \
               && document.getElementById('send-btn').disabled \
               && !document.getElementById('stop-btn').hidden;",
        )
        .await;
        page::wait_replies(&c, 1).await;
        let reply = page::reply_text(&c, 0).await;
        assert!(reply.contains("Demo upstream") && reply.contains("Hello there"), "{reply}");
        assert!(reply.contains("long answer you can stop"), "{reply}");
        assert!(js(&c, "return document.getElementById('stop-btn').hidden;").await.as_bool().unwrap());
        // The live region announced the reply; the token left the address bar.
        wait_js(&c, "the announcement", "return document.getElementById('announcer').textContent.includes('Demo upstream');").await;
        let href = c.current_url().await.unwrap().to_string();
        assert!(!href.contains(&token) && !href.contains("token="), "{href}");
        assert_eq!(page::conversation_titles(&c).await, ["Hello there"]);

        page::send(&c, "Show me some markdown").await;
        page::wait_replies(&c, 2).await;
        save_screenshot(&c, &artifacts(), "chat-full").await;

        // A reload resumes the same conversation, from the server's history.
        c.refresh().await.unwrap();
        wait_js(
            &c,
            "the conversation after a reload",
            "return document.querySelectorAll('.msg-assistant.done').length === 2;",
        )
        .await;
        assert_eq!(page::user_texts(&c).await, ["Hello there", "Show me some markdown"]);
        assert!(page::reply_text(&c, 1).await.contains("a numbered list"));
        assert_eq!(page::conversation_titles(&c).await, ["Hello there"]);
        let href = c.current_url().await.unwrap().to_string();
        assert!(!href.contains("token="), "{href}");
        let _ = c.find(Locator::Id("composer-input")).await.unwrap();
    })
    .await;
}
