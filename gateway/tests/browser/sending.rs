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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_mid_reply_follows_the_rest_of_it() {
    use testkit::fake_dify::{FakeAnswer, FakeDify, FakeOptions, Gate};
    // The upstream holds its 40-word answer after three words: the reload
    // lands mid-answer however slow the machine is.
    let gate = Gate::after(3);
    let fake = FakeDify::new(FakeOptions {
        answer: FakeAnswer::Words {
            count: 40,
            delay: std::time::Duration::ZERO,
        },
        gate: Some(gate.clone()),
        ..Default::default()
    });
    let dify = fake.spawn().await.unwrap();
    let gw = TestGateway::start(&[
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-fake"),
        ("CHAT_GATEWAY_DEMO", "off"),
        ("CHAT_GATEWAY_RESUME_GRACE_SECS", "60"),
    ])
    .await;
    let token = gw.token("drillquiz", "reloader");
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        page::send(&c, "Give me a long answer").await;
        wait_js(
            &c,
            "the first words of the reply",
            "const b = document.querySelector('.msg-assistant .bubble'); \
             return b && b.innerText.includes('w2');",
        )
        .await;

        c.refresh().await.unwrap();
        // After the reload the page shows what has arrived, still streaming.
        wait_js(
            &c,
            "the part of the reply that arrived, after the reload",
            "const b = document.querySelector('.msg-assistant .bubble'); \
             return b && b.innerText.includes('w2') && !document.querySelector('.msg-assistant.done') \
               && !document.getElementById('stop-btn').hidden;",
        )
        .await;
        gate.open();
        page::wait_replies(&c, 1).await;

        // One reply, the whole answer, once; the question once.
        let count = js(&c, "return document.querySelectorAll('.msg-assistant').length;").await;
        assert_eq!(count.as_u64(), Some(1), "one reply on screen");
        let shown = page::reply_text(&c, 0).await;
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        // The bubble's text starts with its screen-reader label.
        let answer: Vec<&str> = shown.split_whitespace().skip_while(|w| !w.starts_with('w')).collect();
        assert_eq!(answer, words, "{shown}");
        assert_eq!(page::user_texts(&c).await, ["Give me a long answer"]);

        // The answer was not cut by the reload: it is stored whole.
        let list = gw.conversations(&token).await;
        let msgs = gw.messages(&token, list[0]["id"].as_str().unwrap()).await;
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert_eq!(msgs[1]["status"], "complete");
        assert_eq!(msgs[1]["content"].as_str().unwrap().split_whitespace().count(), 40);

        // A second reload shows the stored reply, and follows nothing.
        c.refresh().await.unwrap();
        page::wait_replies(&c, 1).await;
        let count = js(&c, "return document.querySelectorAll('.msg-assistant').length;").await;
        assert_eq!(count.as_u64(), Some(1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_a_long_reply_and_keeps_what_arrived() {
    use testkit::fake_dify::{FakeAnswer, FakeDify, FakeOptions, Gate};
    // The upstream holds its 40-word answer after three words until the test
    // opens the gate: Stop lands mid-answer however slow the machine is.
    let gate = Gate::after(3);
    let fake = FakeDify::new(FakeOptions {
        answer: FakeAnswer::Words {
            count: 40,
            delay: std::time::Duration::ZERO,
        },
        gate: Some(gate.clone()),
        ..Default::default()
    });
    let dify = fake.spawn().await.unwrap();
    let gw = TestGateway::start(&[
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-fake"),
        ("CHAT_GATEWAY_DEMO", "off"),
    ])
    .await;
    let token = gw.token("drillquiz", "stopper");
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        page::send(&c, "Give me a long answer").await;
        wait_js(
            &c,
            "the first words of the reply",
            "const b = document.querySelector('.msg-assistant .bubble'); \
             return b && b.innerText.includes('w2');",
        )
        .await;
        page::click(&c, "#stop-btn").await;
        wait_js(
            &c,
            "the reply to be marked stopped and Send to be usable",
            "return document.querySelector('.msg-assistant .msg-meta').innerText.includes('Stopped.') \
               && !document.getElementById('send-btn').disabled && document.getElementById('stop-btn').hidden;",
        )
        .await;
        let shown = page::reply_text(&c, 0).await;
        assert!(shown.trim_end().ends_with("w0 w1 w2") && !shown.contains("w3"), "{shown}");

        // The gateway stored what arrived, marked incomplete, and asked the
        // upstream to stop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let stored = loop {
            let list = gw.conversations(&token).await;
            if let Some(conv) = list.first() {
                let msgs = gw.messages(&token, conv["id"].as_str().unwrap()).await;
                if let Some(reply) = msgs.iter().find(|m| m["role"] == "assistant") {
                    break reply.clone();
                }
            }
            assert!(std::time::Instant::now() < deadline, "the partial reply was not stored");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(stored["status"], "incomplete");
        assert_eq!(stored["content"], "w0 w1 w2 ");
        assert_eq!(fake.stopped_tasks().len(), 1, "the upstream was asked to stop");

        // The page is not stuck: the next message gets a full reply.
        gate.open();
        page::send(&c, "Thanks").await;
        page::wait_replies(&c, 1).await;
        assert!(page::reply_text(&c, 1).await.contains("w39"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_renders_and_nothing_in_a_reply_can_run() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "mallory");
    let url = gw.chat_url(&token, "lang=en");
    let payload = "<img src=x onerror=\"window.pwned='img'\"> <script>window.pwned='script'</script> \
                   [click me](javascript:window.pwned='link') <a href=\"#\" onclick=\"window.pwned='a'\">a</a> \
                   <svg onload=\"window.pwned='svg'\"></svg> <iframe src=\"javascript:parent.pwned='frame'\"></iframe> **bold**";
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        page::send(&c, payload).await;
        page::wait_replies(&c, 1).await;
        page::send(&c, "Now some markdown please").await;
        page::wait_replies(&c, 2).await;

        let check = "const t = document.getElementById('thread'); \
            for (const a of t.querySelectorAll('.msg-assistant a')) a.click(); \
            return { \
              pwned: window.pwned === undefined ? null : String(window.pwned), \
              dangerous: t.querySelectorAll('.bubble :is(script, img, svg, iframe, object, embed, style)').length, \
              handlers: [...t.querySelectorAll('.bubble *')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length, \
              jsLinks: t.querySelectorAll('a[href^=\"javascript\" i]').length, \
              bold: [...t.querySelectorAll('.msg-assistant strong')].some(s => s.textContent === 'bold'), \
              userText: t.querySelector('.msg-user .msg-text').textContent, \
              table: t.querySelectorAll('.msg-assistant table td').length, \
              code: !!t.querySelector('.msg-assistant pre code'), \
              list: t.querySelectorAll('.msg-assistant ol li').length, \
              safeLink: [...t.querySelectorAll('.msg-assistant a[href^=\"https\"]')].every(a => a.target === '_blank' && a.rel.includes('noopener')), \
            };";
        for round in ["live", "after reload"] {
            let v = js(&c, check).await;
            assert_eq!(v["pwned"], serde_json::Value::Null, "{round}: a payload ran: {v}");
            assert_eq!(v["dangerous"], 0, "{round}: {v}");
            assert_eq!(v["handlers"], 0, "{round}: {v}");
            assert_eq!(v["jsLinks"], 0, "{round}: {v}");
            assert_eq!(v["bold"], true, "{round}: {v}");
            assert!(v["userText"].as_str().unwrap().contains("<img src=x onerror="), "{round}: user text is shown as text: {v}");
            assert_eq!(v["table"], 4, "{round}: {v}");
            assert_eq!(v["code"], true, "{round}: {v}");
            assert_eq!(v["list"], 2, "{round}: {v}");
            assert_eq!(v["safeLink"], true, "{round}: {v}");
            if round == "live" {
                c.refresh().await.unwrap();
                wait_js(&c, "the history", "return document.querySelectorAll('.msg-assistant.done').length === 2;").await;
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_during_ime_composition_and_shift_enter_do_not_send() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "minji");
    let url = gw.chat_url(&token, "lang=ko");
    let api_token = token.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        let input = c.find(Locator::Id("composer-input")).await.unwrap();
        input.send_keys("안녕하세요").await.unwrap();
        // Enter that confirms a composition, in the three ways browsers
        // report it: isComposing, keyCode 229, or between composition events.
        // None may be taken as "send": the page leaves each to the input
        // method (not default-prevented), and — checked at the end — nothing
        // was sent until the plain Enter.
        let prevented = js(
            &c,
            "const i = document.getElementById('composer-input'); \
             const enter = (init) => { const e = new KeyboardEvent('keydown', Object.assign({ key: 'Enter', code: 'Enter', bubbles: true, cancelable: true }, init)); i.dispatchEvent(e); return e.defaultPrevented; }; \
             const a = enter({ isComposing: true, keyCode: 229, which: 229 }); \
             const b = enter({ keyCode: 229, which: 229 }); \
             i.dispatchEvent(new CompositionEvent('compositionstart', { data: '' })); \
             const d = enter({ keyCode: 13, which: 13 }); \
             i.dispatchEvent(new CompositionEvent('compositionend', { data: '요' })); \
             return [a, b, d];",
        )
        .await;
        assert_eq!(prevented, serde_json::json!([false, false, false]));
        // Shift+Enter adds a line.
        input.send_keys("\u{E008}\u{E007}").await.unwrap();
        input.send_keys("두 번째 줄").await.unwrap();
        let value = js(&c, "return document.getElementById('composer-input').value;").await;
        assert_eq!(value, "안녕하세요\n두 번째 줄");
        assert!(page::user_texts(&c).await.is_empty(), "something was sent");
        assert!(gw.conversations(&api_token).await.is_empty(), "the gateway got a message");

        // A plain Enter sends both lines as one message. Had any Enter above
        // sent, the gateway would hold a first message with the first line
        // alone (sends go out in order, so it is stored by now).
        input.send_keys("\u{E007}").await.unwrap();
        page::wait_replies(&c, 1).await;
        assert_eq!(page::user_texts(&c).await, ["안녕하세요\n두 번째 줄"]);
        let conversations = gw.conversations(&api_token).await;
        assert_eq!(conversations.len(), 1);
        let stored = gw.messages(&api_token, conversations[0]["id"].as_str().unwrap()).await;
        let texts: Vec<_> = stored.iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect();
        assert_eq!(texts.len(), 2, "one question, one answer: {texts:?}");
        assert_eq!(texts[0], "안녕하세요\n두 번째 줄");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_keeps_the_message_and_retry_sends_it_again() {
    use testkit::fake_dify::{FakeDify, FakeOptions, Fault};
    let fake = FakeDify::new(FakeOptions::default());
    let dify = fake.spawn().await.unwrap();
    let gw = TestGateway::start(&[
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-fake"),
        ("CHAT_GATEWAY_DEMO", "off"),
    ])
    .await;
    let token = gw.token("drillquiz", "retry-user");
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;

        // Refused before the stream starts.
        fake.push_fault(Fault::Status {
            status: 429,
            // Not Dify's retryable `too_many_requests`: this one reaches the user.
            code: "app_rate_limited".into(),
            message: "slow down".into(),
        });
        page::send(&c, "Hello Dify").await;
        wait_js(&c, "the error under the message", "const e = document.querySelector('.msg-user .msg-error'); return e && e.innerText;").await;
        let error = js(&c, "return document.querySelector('.msg-user .msg-error').innerText;").await;
        assert!(error.as_str().unwrap().contains("The chat service is busy"), "{error}");
        assert_eq!(page::user_texts(&c).await, ["Hello Dify"]);
        assert!(!js(&c, "return document.getElementById('send-btn').disabled;").await.as_bool().unwrap());
        page::click(&c, ".retry-btn").await;
        page::wait_replies(&c, 1).await;
        assert!(page::reply_text(&c, 0).await.contains("Echo: Hello Dify"));
        assert_eq!(page::user_texts(&c).await, ["Hello Dify"], "the retry reused the message");
        assert_eq!(js(&c, "return document.querySelectorAll('.msg-error').length;").await, 0);
        // Stored once, in one conversation: the retry continued where the
        // failed message was kept instead of starting a second conversation.
        let conversations = gw.conversations(&token).await;
        assert_eq!(conversations.len(), 1, "{conversations:?}");
        let stored = gw.messages(&token, conversations[0]["id"].as_str().unwrap()).await;
        let texts: Vec<_> = stored.iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect();
        assert_eq!(texts, ["Hello Dify", "Echo: Hello Dify"]);

        // Broken off in the middle of the stream.
        fake.push_fault(Fault::ErrorEventAfter(2));
        page::send(&c, "Tell me more please").await;
        wait_js(&c, "the mid-stream error", "return document.querySelectorAll('.msg-user .msg-error').length === 1;").await;
        let meta = js(&c, "return [...document.querySelectorAll('.msg-assistant .msg-meta')].map(m => m.innerText).join('|');").await;
        assert!(meta.as_str().unwrap().contains("This reply is incomplete."), "{meta}");
        page::click(&c, ".retry-btn").await;
        page::wait_replies(&c, 2).await;
        assert!(page::reply_text(&c, 1).await.contains("Echo: Tell me more please"));
        assert_eq!(page::user_texts(&c).await, ["Hello Dify", "Tell me more please"]);
    })
    .await;
}
