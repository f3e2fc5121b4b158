//! The agent picker: shown for a system with several agents, and a new
//! conversation goes to the picked one (and stays with it).

use testkit::fake_n8n::{FakeN8n, FakeN8nOptions};
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};

use crate::browser::{BrowserOptions, js, wait_js, with_browser};
use crate::page;
use crate::server::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picked_agent_answers_the_new_conversation() {
    let n8n = FakeN8n::new(FakeN8nOptions {
        token: None,
        ..FakeN8nOptions::default()
    });
    let n8n_url = n8n.spawn().await.unwrap();
    let openai = FakeOpenAi::new(FakeOpenAiOptions::default());
    let openai_url = openai.spawn().await.unwrap();
    let options = FakeOpenAiOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[systems.team]\ndefault_agent = \"workflow\"\n\n\
             [systems.team.agents.workflow]\nkind = \"n8n\"\nurl = \"{n8n_url}\"\ntitle = \"Workflow\"\n\n\
             [systems.team.agents.bot]\nkind = \"openai\"\nurl = \"{openai_url}\"\ncredential = \"{}\"\nmodel = \"{}\"\ntitle = \"Bot\"\n",
            options.api_key, options.model
        ),
    )
    .unwrap();
    let config = path.to_str().unwrap().to_owned();
    let gw = TestGateway::start(&[("CHAT_GATEWAY_CONFIG", config.as_str())]).await;
    let team = gw.chat_url(&gw.token("team", "alice"), "lang=en");
    let solo = gw.chat_url(&gw.token("drillquiz", "bob"), "lang=en");
    let (n8n_seen, openai_seen) = (n8n.clone(), openai.clone());
    with_browser(BrowserOptions::default(), move |c| async move {
        page::open(&c, &team).await;
        wait_js(
            &c,
            "the agent picker",
            "const s = document.getElementById('agent-select'); \
             return s && [...s.options].map(o => o.textContent).join(',') === 'Bot,Workflow';",
        )
        .await;
        assert!(page::unlabelled_controls(&c).await.is_empty());
        assert_eq!(
            js(
                &c,
                "return document.querySelector('.agent-picker span').textContent;"
            )
            .await,
            "Agent"
        );
        js(
            &c,
            "const s = document.getElementById('agent-select'); s.value = 'workflow'; \
             s.dispatchEvent(new Event('change')); return true;",
        )
        .await;
        page::send(&c, "Hello workflow").await;
        page::wait_replies(&c, 1).await;
        assert!(
            page::reply_text(&c, 0)
                .await
                .ends_with("Echo: Hello workflow")
        );
        // The conversation keeps its agent when the message names none.
        page::send(&c, "And again").await;
        page::wait_replies(&c, 2).await;
        assert_eq!(n8n_seen.requests().len(), 2);
        assert!(openai_seen.requests().is_empty());
        assert_eq!(n8n_seen.requests()[1].body["metadata"]["agent"], "workflow");

        // Picking another agent starts a new conversation with it.
        js(
            &c,
            "const s = document.getElementById('agent-select'); s.value = 'bot'; \
             s.dispatchEvent(new Event('change')); return true;",
        )
        .await;
        page::send(&c, "Hello bot").await;
        page::wait_replies(&c, 1).await;
        assert!(page::reply_text(&c, 0).await.ends_with("Echo: Hello bot"));
        assert_eq!(openai_seen.requests().len(), 1);

        // A system without agents shows no picker.
        page::open(&c, &solo).await;
        page::send(&c, "Hi").await;
        page::wait_replies(&c, 1).await;
        assert!(
            js(
                &c,
                "return document.getElementById('agent-select') === null;"
            )
            .await
            .as_bool()
            .unwrap()
        );
    })
    .await;
    drop(dir);
}
