//! Languages: the `lang` parameter (region tags too), the browser's
//! language as the fallback, switching at run time, and the language sent
//! upstream with each message.

use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{BrowserOptions, js, wait_js, with_browser};
use crate::page;
use crate::server::TestGateway;

/// What the page shows in its current language.
async fn labels(c: &fantoccini::Client) -> Value {
    js(
        c,
        "return { lang: document.documentElement.lang, \
                  send: document.querySelector('#send-btn span').textContent, \
                  placeholder: document.getElementById('composer-input').placeholder, \
                  newConversation: document.querySelector('#new-btn span').textContent, \
                  title: document.title };",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_speaks_five_languages_and_the_reply_follows() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "polyglot");
    let url = gw.chat_url(&token, "lang=ko-KR");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        let ko = labels(&c).await;
        assert_eq!(ko["lang"], "ko");
        assert_eq!(ko["send"], "전송");
        assert_eq!(ko["placeholder"], "메시지를 입력하세요...");
        assert_eq!(ko["title"], "채팅 · TZ-Chat");
        page::send(&c, "안녕하세요").await;
        page::wait_replies(&c, 1).await;
        assert!(
            page::reply_text(&c, 0).await.contains("데모 업스트림"),
            "reply not in Korean"
        );

        // Switch to Japanese: every label, including those on messages
        // already shown, and the next reply.
        let select = c.find(Locator::Id("lang-select")).await.unwrap();
        select.select_by_value("ja").await.unwrap();
        wait_js(
            &c,
            "Japanese labels",
            "return document.documentElement.lang === 'ja';",
        )
        .await;
        let ja = labels(&c).await;
        assert_eq!(ja["send"], "送信");
        assert_eq!(ja["placeholder"], "メッセージを入力...");
        assert_eq!(ja["newConversation"], "新しい会話");
        assert_eq!(ja["title"], "チャット · TZ-Chat");
        let you = js(
            &c,
            "return document.querySelector('.msg-user .sr-only').textContent;",
        )
        .await;
        assert_eq!(you, "あなた");
        page::send(&c, "こんにちは").await;
        page::wait_replies(&c, 2).await;
        assert!(
            page::reply_text(&c, 1)
                .await
                .contains("デモ用アップストリーム"),
            "reply not in Japanese"
        );

        for (lang, send, placeholder) in [
            ("es", "Enviar", "Escribe un mensaje..."),
            ("zh", "发送", "输入消息..."),
            ("en", "Send", "Type a message..."),
        ] {
            select.select_by_value(lang).await.unwrap();
            wait_js(
                &c,
                lang,
                &format!("return document.documentElement.lang === '{lang}';"),
            )
            .await;
            let l = labels(&c).await;
            assert_eq!(
                (l["send"].as_str(), l["placeholder"].as_str()),
                (Some(send), Some(placeholder)),
                "{lang}"
            );
        }
        // The choice survives a reload.
        select.select_by_value("zh").await.unwrap();
        c.refresh().await.unwrap();
        wait_js(
            &c,
            "the reloaded page",
            "return document.querySelectorAll('.msg-assistant.done').length === 2;",
        )
        .await;
        assert_eq!(labels(&c).await["send"], "发送");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lang_parameter_the_browser_language_is_used() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "tanaka");
    let plain = gw.chat_url(&token, "");
    let unsupported = gw.chat_url(&token, "lang=fr");
    with_browser(
        BrowserOptions::default().lang("ja-JP"),
        move |c| async move {
            page::open(&c, &plain).await;
            assert_eq!(labels(&c).await["send"], "送信");
            page::open(&c, &unsupported).await;
            assert_eq!(labels(&c).await["lang"], "ja");
            page::send(&c, "テスト").await;
            page::wait_replies(&c, 1).await;
            assert!(
                page::reply_text(&c, 0)
                    .await
                    .contains("デモ用アップストリーム")
            );
        },
    )
    .await;
}
