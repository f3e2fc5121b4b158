//! The systems and agents pages in Chromium: an admin creates a system,
//! adds an OpenAI-compatible agent pointing at the fake, presses Test and
//! sees the fake's answer, opens the chat as the test user and gets an
//! answer, edits the agent's system prompt and sees it sent, disables the
//! system and sees it refused; axe-core checks every page.

use fantoccini::{Client, Locator};
use gateway::operators::Role;
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};

use crate::browser::{BrowserOptions, assert_accessible, js, wait_js, with_browser};
use crate::page::{open, reply_text, send, wait_replies};
use crate::server::TestGateway;

const PASSWORD: &str = "a long systems password";
const SECRET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_tests_edits_and_disables_a_system_and_its_agent() {
    let fake = FakeOpenAi::new(FakeOpenAiOptions::default());
    let fake_url = fake.spawn().await.unwrap();
    let api_key = fake.options().api_key.clone();
    let model = fake.options().model.clone();
    let gw = TestGateway::start(&[("CHAT_GATEWAY_SECRET_KEY", SECRET_KEY)]).await;
    gw.add_operator("ada@example.com", Role::Admin, PASSWORD)
        .await;
    let base = gw.base.clone();
    let seen = fake.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{base}/admin/login?lang=en")).await.unwrap();
        fill(&c, "input[name=email]", "ada@example.com").await;
        fill(&c, "input[name=password]", PASSWORD).await;
        click(&c, "form button").await;
        wait_js(&c, "the console", "return location.pathname === '/admin';").await;

        c.find(Locator::LinkText("Systems")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the systems page", "return location.pathname === '/admin/systems';").await;
        assert_accessible(&c, "the systems page").await;
        fill(&c, "#f-id", "quiz").await;
        fill(&c, "#f-display_name", "Quiz").await;
        click(&c, ".admin-form button[type=submit]").await;
        wait_js(&c, "the system page", "return location.pathname === '/admin/systems/quiz';").await;
        assert_accessible(&c, "the system page").await;

        c.goto(&format!("{base}/admin/systems/quiz/agents?lang=en")).await.unwrap();
        wait_js(&c, "the agents page", "return !!document.getElementById('f-kind');").await;
        assert_accessible(&c, "the agents page").await;
        fill(&c, "#f-id", "tutor").await;
        fill(&c, "#f-url", &fake_url).await;
        fill(&c, "#f-credential", &api_key).await;
        fill(&c, "#f-model", &model).await;
        fill(&c, "#f-system_prompt", "You are a patient tutor.").await;
        click(&c, ".admin-form button[type=submit]").await;
        wait_js(&c, "the agent page", "return location.pathname === '/admin/systems/quiz/agents/tutor';").await;
        let hint = js(&c, "return document.getElementById('credential-hint').textContent;").await;
        assert!(hint.as_str().unwrap().contains(&api_key[api_key.len() - 4..]), "{hint}");
        assert!(!js(&c, "return document.body.innerHTML;").await.as_str().unwrap().contains(&api_key));
        assert_accessible(&c, "the agent page").await;

        // Test: the fake's answer, and a chat link for the test user.
        click(&c, "#test").await;
        let answer = wait_js(&c, "the probe's answer", "return document.querySelector('.admin-probe-answer')?.textContent;").await;
        assert!(answer.as_str().unwrap().starts_with("Echo: "), "{answer}");
        assert_accessible(&c, "the probe's answer").await;
        let link = js(&c, "return document.getElementById('open-chat').href;").await;

        // Edit the system prompt, leaving the credential empty (kept).
        fill(&c, "#f-system_prompt", "Answer in one word.").await;
        click(&c, ".admin-form button[type=submit]").await;
        wait_js(&c, "saved", "return !!document.querySelector('.admin-saved');").await;
        click(&c, "#test").await;
        wait_js(&c, "the second answer", "return document.querySelector('.admin-probe-answer')?.textContent;").await;
        let last = seen.requests().last().cloned().unwrap();
        assert_eq!(last["messages"][0]["content"], "Answer in one word.", "{last}");

        // The chat page as the test user answers.
        open(&c, link.as_str().unwrap()).await;
        let before = seen.requests().len();
        send(&c, "Hello there").await;
        wait_replies(&c, 1).await;
        assert!(reply_text(&c, 0).await.contains("Echo: Hello there"));
        assert!(seen.requests().len() > before);

        // Disabled, the system is refused.
        c.goto(&format!("{base}/admin/systems/quiz?lang=en")).await.unwrap();
        click(&c, "#toggle").await;
        wait_js(&c, "disabled", "return document.getElementById('system-status')?.textContent === 'Disabled';").await;
        let status = js(&c, &format!(
            "return fetch('/v1/chat', {{method: 'POST', headers: {{'Authorization': 'Bearer ' + new URL({link}).searchParams.get('token'), 'Content-Type': 'application/json'}}, body: JSON.stringify({{message: 'hi'}})}}).then(r => r.status);",
        )).await;
        assert_eq!(status, 403);
    })
    .await;
}
