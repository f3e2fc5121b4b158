//! The real `chat-gateway` binary as a child process: started in a folder of
//! its own, its banner read, the commands it prints run, stopped with SIGTERM.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) api_key: String,
    pub(crate) chat_url: String,
    /// The `try:` line's command.
    pub(crate) curl: String,
}

pub(crate) fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-gateway"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Start the gateway in `dir` with nothing configured but a free port.
pub(crate) async fn start(dir: &Path) -> Running {
    start_with(dir, &[]).await
}

pub(crate) async fn start_with(dir: &Path, env: &[(&str, &str)]) -> Running {
    let mut cmd = binary();
    cmd.current_dir(dir)
        .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
        .env("CHAT_GATEWAY_DEMO_DELAY_MS", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut api_key, mut chat_url, mut curl) = (None, None, None, None);
    let banner = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("tz-chat gateway on ") {
                url = rest.split(' ').next().map(str::to_owned);
            } else if let Some(key) = line.trim().strip_prefix("API key:") {
                api_key = Some(key.trim().to_owned());
            } else if let Some(link) = line.trim().strip_prefix("chat page:") {
                chat_url = Some(link.trim().to_owned());
            } else if let Some(command) = line.trim().strip_prefix("try:") {
                curl = Some(command.trim().to_owned());
            } else if line.trim().starts_with("upstream:") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), banner)
        .await
        .expect("no start-up banner within 30 s");
    Running {
        child,
        url: url.expect("no URL in the banner"),
        api_key: api_key.expect("no API key in the banner"),
        chat_url: chat_url.expect("no chat URL in the banner"),
        curl: curl.expect("no curl line in the banner"),
    }
}

/// Run a command line as a shell would (words split on blanks, single
/// quotes kept together), without a shell; its standard output.
pub(crate) async fn run_printed_command(line: &str) -> String {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut started) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    assert!(!quoted, "unbalanced quotes in `{line}`");
    assert_eq!(words.first().map(String::as_str), Some("curl"), "{line}");
    let out = Command::new(&words[0])
        .args(&words[1..])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "`{line}` failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) async fn stop(mut running: Running) {
    let pid = running.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), running.child.wait())
        .await
        .expect("did not stop within 10 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
}
