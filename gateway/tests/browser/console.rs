//! The operator console in Chromium: an admin searches in Korean through the
//! filter form, reads the transcript, checks the usage totals and the chart,
//! downloads the filtered export; an analyst limited to one system sees only
//! that system. An admin filters by disliked answers and reads the user's
//! comment in the transcript, sees the retention purge and the sync round on
//! the status page, and signs out from the header with the keyboard. Every
//! page is checked by axe-core.

use fantoccini::{Client, Locator};
use gateway::operators::Role;
use serde_json::{Value, json};

use crate::browser::{BrowserOptions, assert_accessible, js, wait_js, with_browser};
use crate::server::TestGateway;

const PASSWORD: &str = "a long console password";
const QUESTION: &str = "채권 수익률이 뭐예요?";

async fn sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/admin/login")).await.unwrap();
    c.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(c, "signed in", "return location.pathname === '/admin';").await;
}

/// `GET url` from the page with its session cookie: `[status, body]`.
async fn fetch(c: &Client, url: &str) -> Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], { credentials: 'same-origin' })
            .then(async (r) => done([r.status, await r.text()]), (e) => done([0, String(e)]));"#;
    c.execute_async(script, vec![json!(url)]).await.unwrap()
}

/// The records of an RFC 4180 document.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, ch) => field.push(ch),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, ch) => field.push(ch),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_search_read_chart_and_export_conversations_within_their_systems() {
    let gw = TestGateway::start(&[]).await;
    gw.add_operator("ada@example.com", Role::Admin, PASSWORD)
        .await;
    gw.add_analyst("coin@example.com", &["cointutor"], PASSWORD)
        .await;
    let ko_token = gw.token("drillquiz", "ko-learner");
    let korean = gw.chat(&ko_token, QUESTION).await;
    let sent = [
        gw.chat(&gw.token("drillquiz", "en-learner"), "What is a bond?")
            .await,
        gw.chat(&gw.token("cointutor", "coin-learner"), "비트코인이 뭐예요?")
            .await,
    ];
    let chats = 1 + sent.len();
    // Each blocking chat stores the question and its answer.
    let expected_messages = 2 * chats as u64;
    let korean_messages: Vec<String> = gw
        .messages(&ko_token, &korean)
        .await
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(korean_messages.len(), 2);
    let drillquiz_transcript = format!("/admin/conversations/{korean}");

    let base = gw.base.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        sign_in(&c, &base, "ada@example.com").await;
        c.goto(&format!("{base}/admin/conversations?lang=en")).await.unwrap();
        wait_js(&c, "the list", "return document.getElementById('total')?.textContent;").await;
        assert_eq!(js(&c, "return document.getElementById('total').textContent;").await, chats.to_string());
        assert_accessible(&c, "the conversation list").await;

        // Search in Korean through the form.
        c.find(Locator::Css(".console-filters input[name=q]")).await.unwrap().send_keys("수익률").await.unwrap();
        c.find(Locator::Css(".console-filters button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the search results", "return new URLSearchParams(location.search).get('q') === '수익률' && document.getElementById('total');").await;
        assert_eq!(js(&c, "return document.getElementById('total').textContent;").await, "1");
        let links = js(&c, "return [...document.querySelectorAll('.console-list li > a')].map(a => new URL(a.href).pathname);").await;
        assert_eq!(links, json!([drillquiz_transcript]));
        let marks = js(&c, "return [...document.querySelectorAll('.console-list .hit mark')].map(m => m.textContent);").await;
        assert_eq!(marks, json!(["수익률"]));
        assert_accessible(&c, "the Korean search results").await;

        // The export link of the filtered page holds that conversation's messages.
        let csv = js(&c, "return document.querySelector('a[href*=\"format=csv\"]').href;").await;
        let got = fetch(&c, csv.as_str().unwrap()).await;
        assert_eq!(got[0], 200, "{got}");
        let records = csv_records(got[1].as_str().unwrap());
        let (header, rows) = records.split_first().unwrap();
        assert_eq!(header[0], "conversation_id", "{header:?}");
        assert_eq!(header[5], "message_id", "{header:?}");
        assert!(rows.iter().all(|r| r[0] == korean), "{rows:?}");
        let exported: Vec<&str> = rows.iter().map(|r| r[5].as_str()).collect();
        assert_eq!(exported, korean_messages);
        assert!(rows.iter().any(|r| r[8] == QUESTION), "{rows:?}");

        // The transcript, with the hit marked.
        c.find(Locator::Css(".console-list li > a")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the transcript", &format!("return location.pathname === '{drillquiz_transcript}' && document.querySelector('.transcript');")).await;
        let user_turn = js(&c, "return document.querySelector('.transcript .turn.user .text').textContent;").await;
        assert_eq!(user_turn, QUESTION);
        assert_eq!(js(&c, "return document.querySelector('.transcript mark')?.textContent;").await, "수익률");
        assert_accessible(&c, "the transcript").await;

        // Usage totals: every stored message is counted once.
        c.find(Locator::Css(".console-head nav a[href^='/admin/analytics']")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the analytics page", "return location.pathname === '/admin/analytics' && document.querySelector('.console-table');").await;
        let total = js(&c, "return [...document.querySelectorAll('.console-table td.messages')].reduce((s, td) => s + Number(td.textContent), 0);").await;
        assert_eq!(total.as_u64(), Some(expected_messages), "{total}");
        assert!(js(&c, "return !!document.querySelector('figure.console-chart svg');").await.as_bool().unwrap());
        assert_accessible(&c, "the analytics page").await;

        // An analyst limited to cointutor sees cointutor only.
        c.delete_all_cookies().await.unwrap();
        sign_in(&c, &base, "coin@example.com").await;
        let hidden = fetch(&c, &format!("{base}{drillquiz_transcript}")).await;
        assert_eq!(hidden[0], 404, "{hidden}");
        assert!(!hidden[1].as_str().unwrap().contains(QUESTION), "{hidden}");
        c.goto(&format!("{base}/admin/conversations?lang=en")).await.unwrap();
        wait_js(&c, "the list", "return document.getElementById('total')?.textContent;").await;
        assert_eq!(js(&c, "return document.getElementById('total').textContent;").await, "1");
        let systems = js(&c, "return [...document.querySelectorAll('.console-list .meta')].map(m => m.textContent.split(' · ')[0]);").await;
        assert_eq!(systems, json!(["cointutor"]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_filter_by_feedback_read_the_status_page_and_sign_out() {
    const COMMENT: &str = "Too vague about coupons";
    let gw = TestGateway::start(&[("CHAT_GATEWAY_RETENTION_DAYS", "400")]).await;
    gw.add_operator("ada@example.com", Role::Admin, PASSWORD)
        .await;
    let token = gw.token("drillquiz", "rater");
    let disliked = gw.chat(&token, "What is a coupon?").await;
    let liked = gw.chat(&token, "What is a yield?").await;
    let _unrated = gw.chat(&token, "What is a bond?").await;
    for (conversation, rating, comment) in [(&disliked, "dislike", COMMENT), (&liked, "like", "")] {
        let answer = gw.messages(&token, conversation).await[1]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        gw.rate(&token, &answer, rating, comment).await;
    }

    // The housekeeping the timers run: a retention purge and a sync round.
    let state = gw.state();
    gateway::console::retention::purge_once(&*state.store, time::Duration::days(400)).await;
    let round = gateway::sync::schedule::run_round(
        state.store.as_ref(),
        &state.catalog.routes(),
        &state.sync,
        1,
    )
    .await;
    assert_eq!(round, gateway::sync::schedule::RoundOutcome::Ran);

    let base = gw.base.clone();
    let transcript = format!("/admin/conversations/{disliked}");
    with_browser(BrowserOptions::default(), move |c| async move {
        sign_in(&c, &base, "ada@example.com").await;
        c.goto(&format!("{base}/admin/conversations?lang=en")).await.unwrap();
        wait_js(&c, "the list", "return document.getElementById('total')?.textContent;").await;
        assert_eq!(js(&c, "return document.getElementById('total').textContent;").await, "3");
        assert_eq!(js(&c, "return document.querySelector('.console-who .who').textContent;").await, "ada@example.com");

        // Disliked answers only, through the form; the address keeps the filter.
        c.find(Locator::Css(".console-filters select[name=feedback] option[value=disliked]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css(".console-filters button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the disliked conversations", "return new URLSearchParams(location.search).get('feedback') === 'disliked' && document.getElementById('total');").await;
        assert_eq!(js(&c, "return document.getElementById('total').textContent;").await, "1");
        let links = js(&c, "return [...document.querySelectorAll('.console-list li > a')].map(a => new URL(a.href).pathname);").await;
        assert_eq!(links, json!([transcript]));
        assert_accessible(&c, "the list filtered by feedback").await;

        // The transcript shows the thumb and the comment by the answer.
        c.find(Locator::Css(".console-list li > a")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the transcript", &format!("return location.pathname === '{transcript}' && document.querySelector('.transcript');")).await;
        let feedback = js(&c, "return [...document.querySelectorAll('.transcript .turn')].map(t => [t.classList.contains('assistant'), t.querySelector('.feedback.disliked .comment')?.textContent ?? null]);").await;
        assert_eq!(feedback, json!([[false, null], [true, COMMENT]]));
        assert_eq!(js(&c, "return document.querySelector('.transcript .feedback .thumb').getAttribute('aria-label');").await, "Disliked");
        assert_accessible(&c, "the transcript with feedback").await;

        // The status page: the policy, the purge and the round.
        c.find(Locator::Css(".console-head nav a[href^='/admin/status']")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the status page", "return location.pathname === '/admin/status' && document.querySelector('#sync');").await;
        let policy = js(&c, "return document.querySelector('#retention .policy').textContent;").await;
        assert!(policy.as_str().unwrap().contains("400 days"), "{policy}");
        let purges = js(&c, "return [...document.querySelectorAll('#retention tbody tr')].map(r => r.querySelector('.conversations').textContent);").await;
        let purges = purges.as_array().unwrap();
        assert!(!purges.is_empty() && purges.iter().all(|n| n == "0"), "nothing is 400 days old: {purges:?}");
        let rounds = js(&c, "return [...document.querySelectorAll('#sync tbody tr')].map(r => [r.className, r.querySelector('.errors').textContent]);").await;
        assert_eq!(rounds, json!([["finished", "0"]]));
        assert_eq!(js(&c, "return document.querySelector('#sync .rounds-run').textContent;").await, "1");
        assert_accessible(&c, "the status page").await;

        // Sign out from the header with the keyboard.
        c.find(Locator::Css(".console-signout button")).await.unwrap().send_keys("\u{E007}").await.unwrap();
        wait_js(&c, "the sign-in page", "return location.pathname === '/admin/login' && document.querySelector('input[name=email]');").await;
        let after = fetch(&c, &format!("{base}/admin/status")).await;
        assert_eq!(after[0], 401, "the session is over: {after}");
    })
    .await;
}
