//! The gateway under test, as its own process (so its CPU and memory can be
//! read from `/proc`), and the file-descriptor limit thousands of open
//! streams need.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) const API_KEY: &str = "bench-api-key-0123456789abcdef";
const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

/// A running gateway process.
pub(crate) struct GatewayProcess {
    child: Child,
    pub(crate) url: String,
    pid: u32,
    _dir: tempfile::TempDir,
}

/// CPU time and resident memory of a process at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// User + system CPU time, seconds.
    pub(crate) cpu_secs: f64,
    /// Resident set size, bytes.
    pub(crate) rss_bytes: u64,
}

/// This binary: it serves the gateway and the fake upstream in the roles
/// `gateway` and `fake-dify`.
fn this_binary() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("finding the benchmark's own binary")
}

impl GatewayProcess {
    /// Start the gateway (`chat-gateway serve`) in production mode in front of `upstream_url`,
    /// storing into `database_url` (a fresh SQLite file when `None`).
    pub(crate) async fn start(
        upstream_url: &str,
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let upstream = [
            ("DIFY_BASE_URL", upstream_url),
            ("DIFY_API_KEY", crate::FAKE_KEY),
        ];
        Self::start_with(&upstream, database_url, extra_env).await
    }

    /// Start the gateway with `upstream_env` naming its upstream (the
    /// variables of `DIFY_…`, `OPENAI_…`).
    pub(crate) async fn start_with(
        upstream_env: &[(&str, &str)],
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
        // A profiler to run the gateway under (`heaptrack -o FILE`, say).
        let wrapper = std::env::var("CHAT_GATEWAY_BENCH_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut command = Command::new(program);
                command.args(words).arg(this_binary()?);
                command
            }
            None => Command::new(this_binary()?),
        };
        command
            .arg("gateway")
            .env_clear()
            .envs(std::env::var("PATH").ok().map(|path| ("PATH", path)))
            .envs(upstream_env.iter().copied())
            .envs(extra_env.iter().copied());
        let mut child = command
            .env("CHAT_GATEWAY_ENV", "production")
            .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
            .env("CHAT_GATEWAY_JWT_SECRET", SECRET)
            .env("CHAT_GATEWAY_API_KEY", API_KEY)
            .env("DATABASE_URL", database_url.unwrap_or(&sqlite))
            .env("CHAT_GATEWAY_STREAM_IDLE_SECS", "300")
            // The benchmark is one key and a few users sending as fast as
            // they can: what rate limits exist to refuse.
            .env("CHAT_GATEWAY_RATE_USER", "off")
            .env("CHAT_GATEWAY_RATE_API_KEY", "off")
            .env("RUST_LOG", "warn")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the gateway")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // The first line starting so names the address (a profiler
        // wrapping the gateway may print before it).
        let banner = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("tz-chat gateway on ") {
                    return Ok(rest.split(' ').next().map(str::to_owned));
                }
            }
            Ok::<_, std::io::Error>(None)
        };
        let url = tokio::time::timeout(Duration::from_secs(30), banner)
            .await
            .context("the gateway printed no address within 30 s")??
            .context("the gateway exited before printing its address")?;
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let pid = child.id().context("no pid")?;
        Ok(Self {
            child,
            url,
            pid,
            _dir: dir,
        })
    }

    /// CPU time and RSS now.
    pub(crate) fn sample(&self) -> anyhow::Result<Sample> {
        sample(self.pid)
    }

    /// Stop it (SIGKILL: the run is over, nothing to save).
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The fake Dify upstream, in a process of its own like a real upstream, so
/// the direct path pays the same process hops as the gateway path does.
pub(crate) struct UpstreamProcess {
    _child: Child,
    pub(crate) url: String,
}

impl UpstreamProcess {
    /// Start the fake Dify (`fake-dify`), answering `words` words `delay` apart
    /// (`None`: echo the message).
    pub(crate) async fn start(words: Option<usize>, delay: Duration) -> anyhow::Result<Self> {
        let mut cmd = Command::new(this_binary()?);
        cmd.args([
            "fake-dify",
            "--listen",
            "127.0.0.1:0",
            "--stateless",
            "--api-key",
            crate::FAKE_KEY,
        ])
        .args(["--delay-ms", &delay.as_millis().to_string()])
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
        if let Some(words) = words {
            cmd.args(["--words", &words.to_string()]);
        }
        let mut child = cmd.spawn().context("starting the fake Dify")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("fake-dify printed nothing within 30 s")??
            .context("fake-dify exited before printing its address")?;
        let url = first
            .split_whitespace()
            .find_map(|w| w.strip_prefix("DIFY_BASE_URL="))
            .with_context(|| format!("unexpected first line {first:?}"))?
            .to_owned();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { _child: child, url })
    }
}

/// Read `/proc/<pid>` (Linux).
pub(crate) fn sample(pid: u32) -> anyhow::Result<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let ticks: f64 = fields
        .get(11..13)
        .context("short /proc stat")?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Sample {
        cpu_secs: ticks / CLOCK_TICKS_PER_SEC,
        rss_bytes: rss_kib * 1024,
    })
}

/// `sysconf(_SC_CLK_TCK)`, which is 100 on every Linux this runs on.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// Raise the open-file limit (inherited by the gateway process). Returns
/// the limit in force.
pub(crate) fn raise_fd_limit(wanted: u64) -> u64 {
    use rlimit::Resource;
    if Resource::NOFILE.set(wanted, wanted).is_ok() {
        return wanted;
    }
    rlimit::increase_nofile_limit(wanted).unwrap_or(0)
}
