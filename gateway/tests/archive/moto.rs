//! moto's S3 server (`moto_server`, from PyPI's `moto[server]`) as a child
//! process on a free port. `scripts/test` installs it into `.tools/moto`;
//! `MOTO_SERVER` may name another executable.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// moto accepts any credentials; these are the ones its docs use.
pub(crate) const ACCESS_KEY: &str = "testing";
pub(crate) const SECRET_KEY: &str = "testing";

pub(crate) struct Server {
    url: String,
    _child: Child,
}

fn executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let installed = workspace.join(".tools/moto/bin/moto_server");
    if installed.exists() {
        return Some(installed);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.exists())
    })
}

impl Server {
    /// The server, or `None` (with a loud message) when moto is not
    /// installed outside CI; in CI a missing moto fails the test.
    #[expect(clippy::print_stderr, reason = "a skipped test must say so")]
    pub(crate) async fn start() -> Option<Self> {
        let Some(exe) = executable() else {
            let why = "moto_server not found: run ./scripts/test once (it installs moto into .tools/moto) or set MOTO_SERVER";
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("\n!!! SKIPPED: the transcript archive test needs an S3 server. {why}\n");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let up = async {
            loop {
                if client.get(&url).send().await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), up)
            .await
            .expect("moto_server did not answer within 60 s");
        Some(Self { url, _child: child })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// moto does not check signatures, so a plain `PUT /<bucket>` creates
    /// the bucket.
    pub(crate) async fn create_bucket(&self, bucket: &str) {
        let resp = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.url))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "creating {bucket}: {resp:?}");
    }
}
