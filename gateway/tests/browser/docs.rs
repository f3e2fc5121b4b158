//! `/docs` in headless Chromium: every operation of `/openapi.json` is
//! listed, an operation opens to its parameters and answers, "Send" makes
//! a real request with the key typed on the page, and axe-core finds no
//! WCAG 2.1 AA violation.

use std::time::Duration;

use crate::browser::{BrowserOptions, assert_accessible, js, wait_for_js, with_browser};
use crate::server::{API_KEY, TestGateway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_lists_every_operation_and_sends_requests() {
    let gw = TestGateway::start(&[]).await;
    let base = gw.base.clone();
    let document: serde_json::Value = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    with_browser(BrowserOptions::default(), move |c| async move {
        c.goto(&format!("{base}/docs")).await.unwrap();
        let shown = wait_for_js(
            &c,
            "the operations",
            "const ops = document.querySelectorAll('details.docs-op'); \
             return document.getElementById('docs').getAttribute('aria-busy') === 'false' && ops.length;",
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(shown.as_u64().unwrap() as usize, operations);
        assert_accessible(&c, "the API docs").await;

        // Open "GET /v1/conversations", type the key, send: the real answer.
        js(
            &c,
            "const op = [...document.querySelectorAll('details.docs-op')].find((d) => \
               d.querySelector('summary code').textContent === '/v1/conversations' \
               && d.querySelector('.docs-method').textContent === 'GET'); \
             op.open = true; op.setAttribute('data-test', 'picked'); return null;",
        )
        .await;
        let picked = "details[data-test='picked']";
        let params = js(
            &c,
            &format!(
                "return [...document.querySelectorAll(\"{picked} input[data-in]\")].map((i) => i.name);"
            ),
        )
        .await;
        for name in ["system_id", "user_id", "limit", "before"] {
            assert!(params.as_array().unwrap().contains(&name.into()), "{params}");
        }
        js(
            &c,
            &format!(
                "document.getElementById('auth-key').value = '{API_KEY}'; \
                 const f = document.querySelector(\"{picked} form\"); \
                 f.querySelector(\"input[name='system_id']\").value = 'drillquiz'; \
                 f.querySelector(\"input[name='user_id']\").value = 'docs-reader'; \
                 f.querySelector('button').click(); return null;"
            ),
        )
        .await;
        let output = wait_for_js(
            &c,
            "the answer",
            &format!(
                "const t = document.querySelector(\"{picked} .docs-output\").textContent; \
                 return t.startsWith('200') && t;"
            ),
            Duration::from_secs(20),
        )
        .await;
        assert!(output.as_str().unwrap().ends_with("[]"), "{output}");

        // Without the key: the gateway's own refusal, shown as it came.
        js(
            &c,
            &format!(
                "document.getElementById('auth-key').value = ''; \
                 document.querySelector(\"{picked} form button\").click(); return null;"
            ),
        )
        .await;
        let refused = wait_for_js(
            &c,
            "the refusal",
            &format!(
                "const t = document.querySelector(\"{picked} .docs-output\").textContent; \
                 return t.startsWith('401') && t;"
            ),
            Duration::from_secs(20),
        )
        .await;
        assert!(refused.as_str().unwrap().contains("missing_credentials"), "{refused}");
    })
    .await;
}
