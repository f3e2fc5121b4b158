//! The widget's loader in a real headless Chromium, on a site that serves it
//! with `ChatRoutes`: the launcher is painted before any WASM is fetched,
//! the widget loads on pointer, focus, press or idle, and takes the
//! launcher's place on the same pixels with the same name.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`.

#![expect(
    clippy::expect_used,
    reason = "the shared browser helpers fail the test at a failed set-up step"
)]

#[path = "../../gateway/tests/support/browser.rs"]
mod browser;

use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use browser::{BrowserOptions, js, wait_for_js, wait_js, with_browser};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use sdk::ChatLinks;
use sdk::axum::ChatRoutes;
use sdk::jwt::JwtSecret;
use serde_json::Value;

const SECRET: &str = "loader-tests-secret-0123456789abcdef";

/// What the page shows of both launchers: the loader's (`early`) and the
/// widget's (`widget`), each with its box and name, and which resources were
/// fetched so far.
const LAUNCHERS: &str = "
    const find = (sel) => {
      const h = document.querySelector(sel);
      const b = h && h.shadowRoot && h.shadowRoot.querySelector('.launcher');
      if (!b) return null;
      const r = b.getBoundingClientRect();
      // The centre and the untransformed size: a hover may be scaling it.
      return { x: r.x + r.width / 2, y: r.y + r.height / 2, w: b.offsetWidth, h: b.offsetHeight,
               name: b.getAttribute('aria-label'),
               background: getComputedStyle(b).backgroundColor,
               focused: h.shadowRoot.activeElement === b };
    };
    const fetched = performance.getEntriesByType('resource').map((e) => e.name);
    return {
      early: find('[data-tz-chat-loader]'),
      widget: find('[data-tz-chat-widget]'),
      wasm: fetched.some((n) => n.endsWith('widget_bg.wasm')),
      module: fetched.some((n) => n.endsWith('/widget.js')),
    };";

#[derive(serde::Deserialize)]
struct PageQuery {
    load: Option<String>,
}

/// A site page in Korean whose loader tag names the gateway and, when asked,
/// `data-load`.
fn site(gateway: &str) -> Router {
    let links = ChatLinks::new(gateway, JwtSecret::new(SECRET)).expect("a valid gateway URL");
    let chat = ChatRoutes::new(links, "loader-site").expect("a valid system id");
    let tag = chat.script_tag();
    let page = move |Query(q): Query<PageQuery>| {
        let tag = match q.load {
            Some(load) => tag.replace(
                "<script ",
                &format!("<script data-load=\"{}\" ", load.replace('"', "")),
            ),
            None => tag.clone(),
        };
        std::future::ready(Html(format!(
            "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>site</title></head>\
             <body><main><h1>사이트</h1><a id=\"first\" href=\"#\">link</a></main>{tag}</body></html>"
        )))
    };
    Router::new()
        .route("/", get(page))
        .merge(chat.router(|(): ()| Some("visitor".to_owned())))
}

async fn launchers(c: &fantoccini::Client) -> Value {
    js(c, LAUNCHERS).await
}

/// Wait until the widget's launcher replaced the loader's; what they showed.
async fn wait_swapped(c: &fantoccini::Client) -> Value {
    wait_for_js(
        c,
        "the widget's launcher in place of the loader's",
        &format!(
            "const l = (function() {{ {LAUNCHERS} }})(); return l.widget && !l.early ? l : null;"
        ),
        Duration::from_secs(20),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_paints_first_and_the_widget_takes_its_place() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let site_origin = format!("http://{}", listener.local_addr().expect("an address"));
    let mut gateway = testkit::TestGateway::builder()
        .upstream(testkit::Upstream::Demo)
        .secret(SECRET)
        .env("ALLOWED_CHAT_TOKEN_ORIGINS", site_origin.clone())
        .start()
        .await
        .expect("a gateway");
    let app = site(gateway.url());
    tokio::spawn(async move { axum::serve(listener, app).await });

    with_browser(BrowserOptions::default(), move |c| async move {
        // Loaded on interaction only: the launcher is there, in the page's
        // language, and no part of the widget has been fetched.
        c.goto(&format!("{site_origin}/?load=interaction"))
            .await
            .unwrap();
        wait_js(
            &c,
            "the loader's launcher",
            &format!("return (function() {{ {LAUNCHERS} }})().early;"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = launchers(&c).await;
        assert_eq!(before["early"]["name"], "채팅 열기", "{before}");
        assert_eq!(
            (&before["wasm"], &before["module"], &before["widget"]),
            (&Value::Bool(false), &Value::Bool(false), &Value::Null),
            "{before}"
        );

        // Pointing at it loads the widget, whose launcher sits on the same
        // pixels, looks the same and has the same name.
        let host = c.find(Locator::Css("[data-tz-chat-loader]")).await.unwrap();
        let button = host
            .shadow_root()
            .await
            .unwrap()
            .find(Locator::Css(".launcher"))
            .await
            .unwrap();
        let hover = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveToElement {
            element: button,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        c.perform_actions(hover).await.unwrap();
        let after = wait_swapped(&c).await;
        assert_eq!(after["wasm"], true, "{after}");
        for key in ["x", "y", "w", "h", "name", "background"] {
            assert_eq!(after["widget"][key], before["early"][key], "{key}: {before} → {after}");
        }

        // Focus loads it too, and focus stays on the launcher across the swap.
        c.goto(&format!("{site_origin}/?load=interaction"))
            .await
            .unwrap();
        wait_js(
            &c,
            "the loader's launcher",
            &format!("return (function() {{ {LAUNCHERS} }})().early;"),
        )
        .await;
        js(
            &c,
            "document.querySelector('[data-tz-chat-loader]').shadowRoot.querySelector('.launcher').focus(); return null;",
        )
        .await;
        let focused = wait_swapped(&c).await;
        assert_eq!(focused["widget"]["focused"], true, "{focused}");

        // A press before the widget is there opens the panel once it is.
        c.goto(&format!("{site_origin}/?load=interaction"))
            .await
            .unwrap();
        wait_js(
            &c,
            "the loader's launcher",
            &format!("return (function() {{ {LAUNCHERS} }})().early;"),
        )
        .await;
        js(
            &c,
            "document.querySelector('[data-tz-chat-loader]').shadowRoot.querySelector('.launcher').click(); return null;",
        )
        .await;
        let frame = wait_for_js(
            &c,
            "the open panel with the chat page",
            "const h = document.querySelector('[data-tz-chat-widget]'); \
             const p = h && h.shadowRoot.querySelector('#tz-chat-panel'); \
             const f = h && h.shadowRoot.querySelector('iframe.frame'); \
             return p && getComputedStyle(p).visibility === 'visible' && f && f.getAttribute('src');",
            Duration::from_secs(20),
        )
        .await;
        assert!(
            frame.as_str().unwrap().contains("/chat?token="),
            "{frame}"
        );

        // By default the widget loads by itself once the page is idle.
        c.goto(&format!("{site_origin}/")).await.unwrap();
        let idle = wait_swapped(&c).await;
        assert_eq!(idle["widget"]["name"], "채팅 열기", "{idle}");
    })
    .await;
    gateway.stop().await.unwrap();
}
