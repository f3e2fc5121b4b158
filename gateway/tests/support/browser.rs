//! A headless Chromium for browser tests, driven through `chromedriver` with
//! fantoccini.
//!
//! Self-contained on purpose: it depends only on `fantoccini`, `tokio` and
//! `serde_json`, so any test crate of the workspace can include it with
//! `#[path = ".../support/browser.rs"] mod browser;` (items are
//! `pub(crate)` for that reason).
//!
//! - [`Browser::start`] starts `chromedriver` on a free loopback port and
//!   opens a session in a fresh, temporary profile; [`Browser::close`] ends
//!   the session, stops the driver and removes the profile. [`with_browser`]
//!   does both around a test body, even when the body panics.
//! - Waits poll a condition until a deadline ([`Browser::wait_for_js`]); there
//!   are no fixed sleeps.
//! - The binaries are `/usr/bin/chromium` and `/usr/bin/chromedriver`, or
//!   `CHROME_BIN` / `CHROMEDRIVER` when set. When one is missing the test fails
//!   and says what to install.
//! - [`assert_accessible`] runs axe-core on the page as it is and fails,
//!   listing every violation of WCAG 2.1 A and AA (and a missing level-one
//!   heading). axe-core comes from npm through `scripts/install-axe-core`
//!   (run here when the file is missing), or from `AXE_CORE_JS`.

#![expect(dead_code, reason = "not every test crate uses every helper")]

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// How long to wait for chromedriver to accept connections.
const DRIVER_START: Duration = Duration::from_secs(20);
/// Default deadline of [`Browser::wait_for_js`].
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(15);
/// Pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(50);

/// Browser settings of one session.
#[derive(Debug, Clone)]
pub(crate) struct BrowserOptions {
    /// Window width in CSS pixels.
    pub(crate) width: u32,
    /// Window height in CSS pixels.
    pub(crate) height: u32,
    /// Browser language (`--lang` and `Accept-Language`), e.g. `"ja"`.
    pub(crate) lang: Option<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            width: 1280,
            height: 860,
            lang: Some("en-US".into()),
        }
    }
}

impl BrowserOptions {
    /// A window of `width` × `height`.
    pub(crate) fn sized(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            ..Self::default()
        }
    }

    /// Use `lang` as the browser language.
    pub(crate) fn lang(mut self, lang: &str) -> Self {
        self.lang = Some(lang.to_owned());
        self
    }
}

/// A running chromedriver with one open Chromium session.
pub(crate) struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

fn binary(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "browser tests need Chromium and chromedriver, but {} does not exist \
         (set {var} to override). Install the Debian packages `chromium` and \
         `chromium-driver`; the README's test command installs them.",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .expect("no free loopback port for chromedriver");
    listener.local_addr().expect("local address").port()
}

impl Browser {
    /// Start chromedriver and open a headless Chromium session.
    pub(crate) async fn start(options: BrowserOptions) -> Browser {
        let chrome = binary("CHROME_BIN", "/usr/bin/chromium");
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));

        let deadline = Instant::now() + DRIVER_START;
        while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {DRIVER_START:?}"
            );
            tokio::time::sleep(POLL).await;
        }

        let profile = std::env::temp_dir().join(format!(
            "browser-test-profile-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create a Chromium profile directory");

        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={},{}", options.width, options.height),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut prefs = json!({});
        if let Some(lang) = &options.lang {
            args.push(format!("--lang={lang}"));
            prefs = json!({ "intl.accept_languages": lang });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chrome, "args": args, "prefs": prefs }),
        );
        let client = ClientBuilder::rustls()
            .expect("TLS roots for the WebDriver client")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// The WebDriver client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// End the session, stop chromedriver and remove the profile.
    pub(crate) async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Run `body` with a fresh browser, then close it, whether `body` passed or
/// panicked (the panic is then resumed).
pub(crate) async fn with_browser<F, Fut>(options: BrowserOptions, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let browser = Browser::start(options).await;
    let outcome = tokio::spawn(body(browser.client().clone())).await;
    browser.close().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("browser test task failed: {e}");
    }
}

/// Poll `script` (the body of a function; it must `return` a value) until it
/// returns something truthy, and return that value. Fails after `timeout`
/// with `what` and the last value seen.
pub(crate) async fn wait_for_js(
    client: &Client,
    what: &str,
    script: &str,
    timeout: Duration,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match client.execute(script, vec![]).await {
            Ok(v) if truthy(&v) => return v,
            Ok(v) => v,
            Err(e) => Value::String(format!("script error: {e}")),
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last value: {last}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// [`wait_for_js`] with the default deadline.
pub(crate) async fn wait_js(client: &Client, what: &str, script: &str) -> Value {
    wait_for_js(client, what, script, DEFAULT_WAIT).await
}

/// Run `script` once and return its value.
pub(crate) async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Run `script` once with `args` (`arguments[0]`, …) and return its value.
pub(crate) async fn js_with(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client
        .execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Resize the window so that the page itself (the viewport) is `width` ×
/// `height` CSS pixels.
pub(crate) async fn set_viewport(client: &Client, width: u32, height: u32) {
    let frame = client
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .expect("measure the window frame");
    let extra = |i: usize| frame[i].as_u64().unwrap_or(0) as u32;
    client
        .set_window_size(width + extra(0), height + extra(1))
        .await
        .expect("resize the window");
}

/// Save a PNG screenshot of the current page as `dir/name.png` and return
/// its path.
pub(crate) async fn save_screenshot(client: &Client, dir: &Path, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("take a screenshot");
    std::fs::create_dir_all(dir).expect("create the screenshot directory");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    path
}

/// axe-core tags of the rules [`assert_accessible`] runs: WCAG 2.0 and 2.1,
/// levels A and AA.
pub(crate) const WCAG21_AA: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// The source of `axe.min.js`: `AXE_CORE_JS` when set, else the copy
/// `scripts/install-axe-core` keeps under `.tools/` (installed on first use).
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = match std::env::var_os("AXE_CORE_JS") {
            Some(path) => PathBuf::from(path),
            None => {
                let root = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .expect("the crate is inside the workspace");
                let script = root.join("scripts/install-axe-core");
                let out = std::process::Command::new(&script)
                    .stderr(Stdio::inherit())
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
                assert!(
                    out.status.success(),
                    "{} failed (it installs the npm package axe-core; needs npm)",
                    script.display()
                );
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            }
        };
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read axe-core at {}: {e}", path.display()))
    })
}

/// Run axe-core on the current page (as it is now: open dialogs, pressed
/// buttons and all) against [`WCAG21_AA`], plus `page-has-heading-one`, and
/// fail listing every violation: rule, impact, what to fix and the
/// offending elements. `what` names the page state in the failure message.
///
/// ```ignore
/// browser::assert_accessible(&client, "front page").await;
/// ```
pub(crate) async fn assert_accessible(client: &Client, what: &str) {
    let loaded = client
        .execute(
            "return typeof window.axe === 'object' && typeof window.axe.run === 'function';",
            vec![],
        )
        .await
        .unwrap_or(Value::Bool(false));
    if loaded != Value::Bool(true) {
        client
            .execute(&format!("{}\n;return true;", axe_source()), vec![])
            .await
            .unwrap_or_else(|e| panic!("cannot load axe-core into the page: {e}"));
    }
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, {
            runOnly: { type: "tag", values: arguments[0] },
            rules: { "page-has-heading-one": { enabled: true } },
            resultTypes: ["violations"],
        }).then(
            (r) => done(r.violations.map((v) => ({
                rule: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "),
                    html: n.html.slice(0, 200),
                    fix: n.failureSummary,
                })),
            }))),
            (e) => done({ error: String(e) }),
        );"#;
    let result = client
        .execute_async(script, vec![json!(WCAG21_AA)])
        .await
        .unwrap_or_else(|e| panic!("axe-core did not run on {what}: {e}"));
    let violations = match result {
        Value::Array(list) => list,
        other => panic!("axe-core failed on {what}: {other}"),
    };
    if violations.is_empty() {
        return;
    }
    let mut report = format!(
        "{} accessibility violation(s) (WCAG 2.1 AA) on {what}:\n",
        violations.len()
    );
    for v in &violations {
        report.push_str(&format!(
            "- {} ({}): {}\n",
            v["rule"].as_str().unwrap_or_default(),
            v["impact"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or_default()
        ));
        for n in v["nodes"].as_array().into_iter().flatten() {
            report.push_str(&format!(
                "    at {}: {}\n      {}\n",
                n["target"].as_str().unwrap_or_default(),
                n["html"].as_str().unwrap_or_default(),
                n["fix"]
                    .as_str()
                    .unwrap_or_default()
                    .replace('\n', "\n      ")
            ));
        }
    }
    panic!("{report}");
}
