//! The `/admin` console in Chromium: sign in through the form, move around
//! by the navigation, create a key (shown once), revoke it after the
//! confirmation, see both in the audit log, sign out.

use fantoccini::Locator;
use gateway::operators::Role;

use crate::browser::{BrowserOptions, js, wait_js, with_browser};
use crate::server::TestGateway;

const PASSWORD: &str = "a long browser password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_creates_and_revokes_a_key_and_signs_out() {
    let gw = TestGateway::start(&[]).await;
    gw.add_operator("ada@example.com", Role::Admin, PASSWORD)
        .await;
    let base = gw.base.clone();
    with_browser(BrowserOptions::default(), move |c| async move {
        // Not signed in: the console sends the browser to the login page.
        c.goto(&format!("{base}/admin/keys")).await.unwrap();
        wait_js(&c, "the login page", "return location.pathname === '/admin/login';").await;
        // A wrong password is refused on the page.
        c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ada@example.com").await.unwrap();
        c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("not it at all").await.unwrap();
        c.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the error", "return document.querySelector('.admin-error')?.textContent;").await;
        assert_eq!(
            js(&c, "return document.querySelector('.admin-error').textContent;").await,
            "Wrong email or password."
        );
        c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ada@example.com").await.unwrap();
        c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        c.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the console", "return location.pathname === '/admin' && document.querySelector('.admin-nav');").await;
        // The session cookie is not readable by scripts.
        assert_eq!(js(&c, "return document.cookie;").await, "");
        let nav = js(&c, "return [...document.querySelectorAll('.admin-nav a')].map(a => a.textContent);").await;
        assert_eq!(
            nav,
            serde_json::json!(["Overview", "Conversations", "Analytics", "Status", "Systems", "Operators", "API keys", "Audit log"])
        );

        c.find(Locator::LinkText("API keys")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the keys page", "return location.pathname === '/admin/keys';").await;
        c.find(Locator::Css("input[name=name]")).await.unwrap().send_keys("CoinTutor backend").await.unwrap();
        c.find(Locator::Css("input[value=chat]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("input[name=systems]")).await.unwrap().send_keys("cointutor").await.unwrap();
        c.find(Locator::Css(".admin-form button")).await.unwrap().click().await.unwrap();
        let key = wait_js(&c, "the new key", "return document.getElementById('new-key')?.textContent;").await;
        assert!(key.as_str().unwrap().starts_with("tzk_"), "{key}");
        let row = js(&c, "return document.querySelector('tbody tr').textContent;").await;
        assert!(row.as_str().unwrap().contains("CoinTutor backend"), "{row}");
        assert!(row.as_str().unwrap().contains("cointutor"), "{row}");

        // Revoking asks first: Cancel keeps the key, OK revokes it.
        c.find(Locator::Css("tbody form button")).await.unwrap().click().await.unwrap();
        c.dismiss_alert().await.unwrap();
        assert!(js(&c, "return !!document.querySelector('tbody form');").await.as_bool().unwrap());
        c.find(Locator::Css("tbody form button")).await.unwrap().click().await.unwrap();
        c.accept_alert().await.unwrap();
        wait_js(&c, "the key revoked", "return location.pathname === '/admin/keys' && !document.querySelector('tbody form') && document.querySelector('tbody tr').textContent.includes('Revoked');").await;

        c.find(Locator::LinkText("Audit log")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the audit log", "return location.pathname === '/admin/audit';").await;
        let actions = js(&c, "return [...document.querySelectorAll('tbody tr td:nth-child(3)')].map(td => td.textContent);").await;
        assert_eq!(
            actions,
            serde_json::json!([
                "key.revoke",
                "key.create",
                "operator.login",
                "operator.login_failed",
                "operator.add"
            ])
        );

        c.find(Locator::Css(".admin-signout button")).await.unwrap().click().await.unwrap();
        wait_js(&c, "the login page", "return location.pathname === '/admin/login';").await;
        c.goto(&format!("{base}/admin")).await.unwrap();
        wait_js(&c, "signed out for good", "return location.pathname === '/admin/login';").await;
    })
    .await;
}
