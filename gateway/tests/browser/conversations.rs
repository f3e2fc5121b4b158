//! Managing conversations: rename, delete with confirmation, a conversation
//! that disappeared, and keyboard-only use.

use fantoccini::Locator;
use fantoccini::key::Key;

use crate::browser::{BrowserOptions, js, wait_js, with_browser};
use crate::page;
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_can_be_renamed_and_deleted_after_confirmation() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "organiser");
    let first = gw.chat(&token, "First topic").await;
    let second = gw.chat(&token, "Second topic").await;
    let url = gw.chat_url(&token, "lang=en");
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        wait_js(&c, "the list", "return document.querySelectorAll('#conv-list .conv').length === 2;").await;
        assert_eq!(page::conversation_titles(&c).await, ["Second topic", "First topic"]);

        // Rename through the dialog.
        page::click(&c, &format!("li[data-id='{first}'] [data-role='rename']")).await;
        wait_js(&c, "the rename dialog", "return document.getElementById('rename-dialog').open;").await;
        let input = c.find(Locator::Id("rename-input")).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys("Exam prep\u{E007}").await.unwrap();
        wait_js(&c, "the new name", "return [...document.querySelectorAll('.conv-title')].some(e => e.textContent === 'Exam prep');").await;
        assert!(!js(&c, "return document.getElementById('rename-dialog').open;").await.as_bool().unwrap());
        let names: Vec<_> = gw.conversations(&token).await.iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
        assert!(names.contains(&"Exam prep".to_owned()), "{names:?}");

        // Delete asks first; Cancel keeps the conversation.
        page::click(&c, &format!("li[data-id='{second}'] .conv-open")).await;
        page::wait_replies(&c, 1).await;
        page::click(&c, &format!("li[data-id='{second}'] [data-role='remove']")).await;
        wait_js(&c, "the delete dialog", "return document.getElementById('delete-dialog').open;").await;
        let question = js(&c, "return document.getElementById('delete-body').textContent;").await;
        assert!(question.as_str().unwrap().contains("“Second topic”"), "{question}");
        // Count the page's DELETE requests: right after Cancel, one that is
        // still in flight would not show in the gateway's list yet.
        js(
            &c,
            "window.deletes = 0; const f = window.fetch; \
             window.fetch = function (input, init) { if (init && init.method === 'DELETE') window.deletes++; return f.apply(this, arguments); }; \
             return true;",
        )
        .await;
        page::click(&c, "#delete-cancel").await;
        wait_js(&c, "the dialog to close", "return !document.getElementById('delete-dialog').open;").await;
        assert_eq!(js(&c, "return window.deletes;").await, 0, "Cancel sent a DELETE");
        assert_eq!(gw.conversations(&token).await.len(), 2);
        assert_eq!(page::conversation_titles(&c).await.len(), 2);

        page::click(&c, &format!("li[data-id='{second}'] [data-role='remove']")).await;
        wait_js(&c, "the delete dialog", "return document.getElementById('delete-dialog').open;").await;
        page::click(&c, "#delete-confirm").await;
        wait_js(&c, "one conversation left and an empty view", "return document.querySelectorAll('#conv-list .conv').length === 1 && !document.getElementById('empty-state').hidden;").await;
        assert_eq!(page::conversation_titles(&c).await, ["Exam prep"]);
        assert_eq!(js(&c, "return window.deletes;").await, 1, "the counter sees a real delete");
        let left = gw.conversations(&token).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["id"], first.as_str());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_deleted_elsewhere_does_not_get_the_page_stuck() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "stale");
    let url = gw.chat_url(&token, "lang=en");
    let api_token = token.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &url).await;
        page::send(&c, "Hello").await;
        page::wait_replies(&c, 1).await;
        let old = gw.conversations(&api_token).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Another tab (or an admin) deletes it; this page still shows it.
        gw.delete(&api_token, &old).await;

        page::send(&c, "Are you still there?").await;
        page::wait_replies(&c, 1).await;
        assert!(
            page::reply_text(&c, 0)
                .await
                .contains("Are you still there?")
        );
        let notice = js(&c, "return document.getElementById('notice').innerText;").await;
        assert!(
            notice.as_str().unwrap().contains("no longer exists"),
            "{notice}"
        );
        let list = gw.conversations(&api_token).await;
        assert_eq!(list.len(), 1);
        assert_ne!(list[0]["id"], old.as_str());
        assert_eq!(list[0]["name"], "Are you still there?");
        assert_eq!(
            page::conversation_titles(&c).await,
            ["Are you still there?"]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_with_the_keyboard_alone() {
    let gw = TestGateway::start(&[]).await;
    let token = gw.token("drillquiz", "keyboard");
    gw.chat(&token, "Earlier").await;
    let full = gw.chat_url(&token, "lang=en");
    let embed = gw.chat_url(&token, "lang=en&embed=1");
    with_browser(BrowserOptions::default(), move |c| async move {
        // Full mode starts in the composer: type, Enter sends.
        page::open(&c, &full).await;
        wait_js(&c, "the list", "return document.querySelectorAll('#conv-list .conv').length === 1;").await;
        assert_eq!(page::focused(&c).await, "composer-input");
        c.active_element().await.unwrap().send_keys("Typed only\u{E007}").await.unwrap();
        page::wait_replies(&c, 1).await;

        // Shift+Tab back to the list, Enter opens the earlier conversation.
        let mut steps = 0;
        loop {
            page::press(&c, &[Key::Shift, Key::Tab]).await;
            let on_it = js(&c, "const a = document.activeElement; return a.classList.contains('conv-open') && a.innerText.includes('Earlier');").await;
            if on_it.as_bool().unwrap() {
                break;
            }
            steps += 1;
            assert!(steps < 20, "the conversation list is not reachable with the keyboard");
        }
        // Focus is visibly marked.
        let outline = js(&c, "const s = getComputedStyle(document.activeElement); return s.outlineStyle;").await;
        assert_eq!(outline, "solid", "no visible focus");
        page::press(&c, &[Key::Enter]).await;
        wait_js(&c, "the earlier conversation", "const u = document.querySelectorAll('.msg-user'); return u.length === 1 && u[0].innerText.includes('Earlier');").await;

        // Shift+Tab on to "New conversation", Enter starts one and puts
        // focus back in the composer.
        let mut steps = 0;
        while page::focused(&c).await != "new-btn" {
            page::press(&c, &[Key::Shift, Key::Tab]).await;
            steps += 1;
            assert!(steps < 20, "New conversation is not reachable with the keyboard");
        }
        page::press(&c, &[Key::Enter]).await;
        wait_js(&c, "an empty conversation", "return document.querySelectorAll('.msg').length === 0 && document.activeElement.id === 'composer-input';").await;

        // Embed mode does not take focus (it lives in someone else's page):
        // the first Tab reaches the skip link, visible, which leads to the
        // composer.
        page::open(&c, &embed).await;
        assert_eq!(js(&c, "return document.activeElement === document.body;").await, true);
        page::press(&c, &[Key::Tab]).await;
        assert_eq!(page::focused(&c).await, "skip-link");
        let top = js(&c, "return document.activeElement.getBoundingClientRect().top;").await;
        assert!(top.as_f64().unwrap() >= 0.0, "the focused skip link is off screen");
        page::press(&c, &[Key::Enter]).await;
        wait_js(&c, "focus in the composer", "return document.activeElement.id === 'composer-input';").await;
        c.active_element().await.unwrap().send_keys("From the skip link\u{E007}").await.unwrap();
        page::wait_replies(&c, 1).await;
    })
    .await;
}
