//! A small deployment on one machine: a throwaway PostgreSQL, a fake Dify,
//! and real `chat-gateway` processes (replicas) sharing both, plus a
//! client for the parts of the `/v1` API the tests use.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use sdk::sse::SseDecoder;
use sdk::{ChatResponse, Conversation, Message, StreamEvent, SyncResponse};
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use testkit::postgres::ThrowawayPostgres;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

pub(crate) const API_KEY: &str = "replica-test-api-key-0123456789";
pub(crate) const JWT_SECRET: &str = "replica-test-jwt-secret-0123456789abcdefghijklmnop";
pub(crate) const DIFY_KEY: &str = "app-replicas";
/// Seals agent credentials stored through `/v1/admin` (64 hex characters).
const SECRET_KEY: &str = "7f3a9c1e5b2d4f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5c7e9b0d2f4a";
/// The client system every test writes as.
pub(crate) const SYSTEM: &str = "shop";

/// PostgreSQL + fake Dify + the replicas' working directory.
pub(crate) struct Cluster {
    pub(crate) fake: FakeDify,
    pub(crate) fake_url: String,
    postgres: ThrowawayPostgres,
    workdir: PathBuf,
}

impl Cluster {
    pub(crate) async fn start(options: FakeOptions) -> Self {
        let postgres = ThrowawayPostgres::start()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let fake = FakeDify::new(FakeOptions {
            api_key: DIFY_KEY.into(),
            ..options
        });
        let fake_url = fake.spawn().await.unwrap();
        // An empty working directory: no `.env` of the developer's leaks in.
        let workdir =
            std::env::temp_dir().join(format!("tz-chat-replicas-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir(&workdir).unwrap();
        Self {
            fake,
            fake_url,
            postgres,
            workdir,
        }
    }

    /// The shared database's URL.
    pub(crate) fn database_url(&self) -> String {
        self.postgres.url()
    }

    /// Run `chat-gateway` with `args` on the shared database, `stdin` as its
    /// standard input; its exit status and standard output.
    pub(crate) async fn command(&self, args: &[&str], stdin: &str) -> (bool, String) {
        use tokio::io::AsyncWriteExt as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-gateway"))
            .env_clear()
            .current_dir(&self.workdir)
            .env("CHAT_GATEWAY_ENV", "production")
            .env("CHAT_GATEWAY_JWT_SECRET", JWT_SECRET)
            .env("CHAT_GATEWAY_API_KEY", API_KEY)
            .env("DATABASE_URL", self.postgres.url())
            .env("DIFY_BASE_URL", &self.fake_url)
            .env("DIFY_API_KEY", DIFY_KEY)
            .env("RUST_LOG", "warn")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let output = child.wait_with_output().await.unwrap();
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    /// Stop PostgreSQL (`pg_ctl stop -m immediate`), as an outage would.
    pub(crate) fn stop_database(&mut self) {
        self.postgres.stop();
    }

    /// Start one more `chat-gateway` process on the shared database.
    pub(crate) async fn replica(&self) -> Replica {
        self.replica_with(&[]).await
    }

    /// [`Self::replica`] with extra variables.
    pub(crate) async fn replica_with(&self, env: &[(&str, &str)]) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-gateway"))
            .env_clear()
            // Rate limits are per replica and beside the point here.
            .env("CHAT_GATEWAY_RATE_USER", "off")
            .env("CHAT_GATEWAY_RATE_API_KEY", "off")
            .envs(env.iter().copied())
            .current_dir(&self.workdir)
            .env("CHAT_GATEWAY_ENV", "production")
            .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
            .env("CHAT_GATEWAY_JWT_SECRET", JWT_SECRET)
            .env("CHAT_GATEWAY_API_KEY", API_KEY)
            .env("CHAT_GATEWAY_SECRET_KEY", SECRET_KEY)
            .env("DATABASE_URL", self.postgres.url())
            .env("DIFY_BASE_URL", &self.fake_url)
            .env("DIFY_API_KEY", DIFY_KEY)
            .env("RUST_LOG", "warn")
            // The tests stop replicas mid-stream and expect the cut at once.
            .env("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let stderr_done = tokio::spawn(drain(stderr, logs.clone()));
        // The banner's first line names the address; log lines may precede it.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let base = loop {
            line.clear();
            if stdout.read_line(&mut line).await.unwrap_or(0) == 0 {
                let _ = child.wait().await;
                let _ = stderr_done.await;
                panic!("the replica did not start:\n{}", logs.lock().unwrap());
            }
            match line
                .strip_prefix("tz-chat gateway on ")
                .and_then(|rest| rest.split_whitespace().next())
            {
                Some(base) => break base.to_owned(),
                None => logs.lock().unwrap().push_str(&line),
            }
        };
        tokio::spawn(drain(stdout, logs.clone()));
        Replica {
            base,
            child,
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.workdir);
    }
}

/// Keep reading a child's output so it never blocks on a full pipe.
async fn drain(from: impl AsyncRead + Unpin, into: Arc<Mutex<String>>) {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    while reader
        .read_until(b'\n', &mut line)
        .await
        .is_ok_and(|n| n > 0)
    {
        into.lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(&line));
        line.clear();
    }
}

/// One running gateway process.
pub(crate) struct Replica {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    child: Child,
    http: reqwest::Client,
}

impl Replica {
    /// `kill -9`: no shutdown code runs.
    pub(crate) async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// `kill -TERM` (what Kubernetes sends), then wait for the exit.
    pub(crate) async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .unwrap();
        assert!(sent.success());
        self.child.wait().await.unwrap()
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("x-api-key", API_KEY)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("x-api-key", API_KEY)
    }

    /// Status and body of `GET path` with `Authorization: Bearer token`.
    pub(crate) async fn get_as(&self, token: &str, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Status and body of a `POST` of `body` with the API key.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> (u16, String) {
        let resp = self.post(path).json(body).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Status and JSON body of an API-key request with a JSON body.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", API_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `GET /ready`'s status code.
    pub(crate) async fn ready(&self) -> u16 {
        self.probe("/ready").await.0
    }

    /// Status and body of an unauthenticated `GET` (probes).
    pub(crate) async fn probe(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Status and body of a `GET` with the API key.
    pub(crate) async fn get_raw(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// A blocking chat turn as `user`; panics unless it answers 200.
    pub(crate) async fn chat(
        &self,
        user: &str,
        message: &str,
        conversation: Option<&str>,
    ) -> ChatResponse {
        let resp = self
            .post("/v1/chat")
            .json(&chat_body(user, message, conversation, false))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "chat through {}: {body}", self.base);
        serde_json::from_str(&body).unwrap()
    }

    /// Start a streamed turn; the events are read with [`EventStream`].
    pub(crate) async fn chat_stream(
        &self,
        user: &str,
        message: &str,
        conversation: Option<&str>,
    ) -> EventStream {
        let resp = self
            .post("/v1/chat")
            .json(&chat_body(user, message, conversation, true))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "stream through {}", self.base);
        EventStream {
            resp,
            decoder: SseDecoder::new(),
        }
    }

    /// A user's conversations, most recent first.
    pub(crate) async fn conversations(&self, user: &str) -> Vec<Conversation> {
        self.get(&format!(
            "/v1/conversations?system_id={SYSTEM}&user_id={user}&limit=200"
        ))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    /// A conversation's messages, oldest first.
    pub(crate) async fn messages(&self, user: &str, conversation: &str) -> Vec<Message> {
        self.get(&format!(
            "/v1/conversations/{conversation}/messages?system_id={SYSTEM}&user_id={user}&limit=500"
        ))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    /// `POST /v1/sync`; panics unless it answers 200.
    pub(crate) async fn sync_all(&self) -> SyncResponse {
        let resp = self.post("/v1/sync").send().await.unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "sync through {}: {body}", self.base);
        serde_json::from_str(&body).unwrap()
    }
}

fn chat_body(user: &str, message: &str, conversation: Option<&str>, stream: bool) -> Value {
    json!({
        "system_id": SYSTEM,
        "user_id": user,
        "message": message,
        "conversation_id": conversation,
        "stream": stream,
    })
}

/// The events of a streamed answer, as they arrive.
pub(crate) struct EventStream {
    resp: reqwest::Response,
    decoder: SseDecoder,
}

impl EventStream {
    /// The next gateway event (keep-alives skipped); `None` at the end.
    pub(crate) async fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(ev) = self.decoder.next_event().unwrap() {
                if ev.data.is_empty() {
                    continue;
                }
                return Some(serde_json::from_str(&ev.data).unwrap());
            }
            match self.resp.chunk().await {
                Ok(Some(bytes)) => self.decoder.push(&bytes),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Every remaining event.
    pub(crate) async fn rest(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        while let Some(ev) = self.next().await {
            out.push(ev);
        }
        out
    }
}
