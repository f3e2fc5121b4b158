//! Where each system's questions go: upstream targets (shared and per
//! system), the demo upstream, and the time limits and protocol for upstream
//! calls.
//!
//! Targets are kind-agnostic ([`UpstreamTarget`]); each remembers the
//! variables it came from ([`ConfiguredTarget::source`]), so start-up output
//! and configuration errors can name them. Adding a kind is one arm in
//! [`UpstreamTarget`] and its parsing here.

use std::collections::BTreeMap;
use std::time::Duration;

use super::file::{self, ConfiguredAgent};
use super::upstream_kinds::{
    KindTargets, N8nTarget, OpenAiTarget, history_limits, merge_kinds, n8n_targets, openai_targets,
};
use super::{ConfigError, EnvVars, Mode, parse_base_url};

/// The name a system has in per-system environment variables: upper case,
/// with every character that is not a letter or digit turned into `_`
/// (`my-app` → `MY_APP`, as in `DIFY_MY_APP_BASE_URL`). Routing matches a
/// system to its per-system target by this key.
pub fn system_env_key(system: &str) -> String {
    system
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// One upstream to build, of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamTarget {
    /// A Dify chat app.
    Dify(DifyTarget),
    /// An n8n workflow behind a webhook.
    N8n(N8nTarget),
    /// An OpenAI-compatible chat completions API.
    OpenAi(OpenAiTarget),
}

impl UpstreamTarget {
    /// The kind's short name (`dify`), as the built upstream reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Dify(_) => "dify",
            Self::N8n(_) => "n8n",
            Self::OpenAi(_) => "openai",
        }
    }
}

/// A target and where in the configuration it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfiguredTarget {
    /// What to build.
    pub target: UpstreamTarget,
    /// The variables that configured it, for start-up output and errors
    /// (`DIFY_BASE_URL + DIFY_API_KEY`, `DIFY_MY_APP_*`).
    pub source: String,
}

/// A Dify app: base URL (without `/v1`) and app key.
#[derive(Clone, PartialEq, Eq)]
pub struct DifyTarget {
    /// `https://dify.example.com` (no trailing `/`, no `/v1`).
    pub base_url: String,
    /// The app's API key (`app-…`).
    pub api_key: String,
}

impl std::fmt::Debug for DifyTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DifyTarget")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// Upstream routing and timeouts.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// The target of every system without one of its own
    /// (`DIFY_BASE_URL` + `DIFY_API_KEY`, `N8N_WEBHOOK_URL`, or
    /// `OPENAI_API_KEY` + `OPENAI_MODEL`).
    pub shared: Option<ConfiguredTarget>,
    /// Targets of single systems (`DIFY_<SYSTEM>_*`, `N8N_<SYSTEM>_*`,
    /// `OPENAI_<SYSTEM>_*`), keyed by
    /// [`system_env_key`] (`MY_APP`).
    pub per_system: BTreeMap<String, ConfiguredTarget>,
    /// Named agents of systems (from `CHAT_GATEWAY_CONFIG`), keyed by
    /// [`system_env_key`], then by agent name.
    pub agents: BTreeMap<String, BTreeMap<String, ConfiguredAgent>>,
    /// The demo upstream for systems with no other upstream, when enabled.
    pub demo: Option<DemoSettings>,
    /// Time limits for upstream calls.
    pub timeouts: UpstreamTimeouts,
    /// When to speak HTTP/2 to upstreams.
    pub http2: UpstreamHttp2,
}

/// Demo upstream settings.
#[derive(Debug, Clone, Copy)]
pub struct DemoSettings {
    /// Pause between streamed words.
    pub word_delay: Duration,
}

impl DemoSettings {
    /// What start-up output says about the demo, naming the variables that
    /// replace it with a real model.
    pub fn source(&self) -> &'static str {
        "built in, no network; set DIFY_BASE_URL and DIFY_API_KEY for a real model"
    }
}

/// When to speak HTTP/2 to upstreams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpstreamHttp2 {
    /// When TLS negotiates it (ALPN); plain `http://` upstreams get HTTP/1.1.
    #[default]
    Auto,
    /// Always, without negotiation (also `h2c` over plain `http://`). Every
    /// stream then shares a few connections, but the upstream must speak
    /// HTTP/2 and allow as many concurrent streams per connection as the
    /// gateway will open (nginx allows 128 by default).
    Always,
}

/// Time limits for upstream calls.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamTimeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// A whole non-streamed call (blocking answer, list page, delete).
    pub request: Duration,
    /// The longest silence inside a stream.
    pub stream_idle: Duration,
}

pub(super) fn upstream_settings(
    vars: &EnvVars,
    mode: Mode,
) -> Result<UpstreamSettings, ConfigError> {
    let shared_url = vars.get_nonempty("DIFY_BASE_URL");
    let shared_key = vars.get_nonempty("DIFY_API_KEY");
    let shared = match (&shared_url, &shared_key) {
        (Some(url), Some(key)) => Some(ConfiguredTarget {
            target: UpstreamTarget::Dify(DifyTarget {
                base_url: dify_base("DIFY_BASE_URL", url)?,
                api_key: key.clone(),
            }),
            source: "DIFY_BASE_URL + DIFY_API_KEY".to_owned(),
        }),
        _ => None,
    };

    // Every DIFY_<SYSTEM>_BASE_URL / DIFY_<SYSTEM>_API_KEY pair; a missing half
    // falls back to the shared value, as in the seed gateway.
    let mut systems: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for (name, value) in vars.iter() {
        if value.trim().is_empty() {
            continue;
        }
        if let Some(sys) = name
            .strip_prefix("DIFY_")
            .and_then(|r| r.strip_suffix("_BASE_URL"))
            .filter(|s| !s.is_empty())
        {
            systems.entry(system_env_key(sys)).or_default().0 = Some(value.trim().to_owned());
        } else if let Some(sys) = name
            .strip_prefix("DIFY_")
            .and_then(|r| r.strip_suffix("_API_KEY"))
            .filter(|s| !s.is_empty())
        {
            systems.entry(system_env_key(sys)).or_default().1 = Some(value.trim().to_owned());
        }
    }
    let mut per_system = BTreeMap::new();
    for (sys, (url, key)) in systems {
        let url_var = format!("DIFY_{sys}_BASE_URL");
        let url = url.or_else(|| shared_url.clone()).ok_or_else(|| {
            ConfigError(format!(
                "DIFY_{sys}_API_KEY is set but neither {url_var} nor DIFY_BASE_URL is"
            ))
        })?;
        let key = key.or_else(|| shared_key.clone()).ok_or_else(|| {
            ConfigError(format!(
                "{url_var} is set but neither DIFY_{sys}_API_KEY nor DIFY_API_KEY is"
            ))
        })?;
        let target = ConfiguredTarget {
            target: UpstreamTarget::Dify(DifyTarget {
                base_url: dify_base(&url_var, &url)?,
                api_key: key,
            }),
            source: format!("DIFY_{sys}_*"),
        };
        per_system.insert(sys, target);
    }
    let (shared, mut per_system) = merge_kinds(vec![
        KindTargets { shared, per_system },
        n8n_targets(vars)?,
        openai_targets(vars)?,
    ])?;
    let mut agents = BTreeMap::new();
    if let Some(path) = vars.get_nonempty("CHAT_GATEWAY_CONFIG") {
        let systems = file::read(std::path::Path::new(&path), vars, history_limits(vars)?)?;
        for (sys, system) in systems {
            if let (Some(env), Some(own)) = (per_system.get(&sys), &system.upstream) {
                return Err(ConfigError(format!(
                    "system {sys} has two upstreams: {} ({}) and {} ({}); keep one",
                    env.source,
                    env.target.kind(),
                    own.source,
                    own.target.kind()
                )));
            }
            if let Some(own) = system.upstream {
                per_system.insert(sys.clone(), own);
            }
            if !system.agents.is_empty() {
                agents.insert(sys, system.agents);
            }
        }
    }

    let demo_on = match vars.get_nonempty("CHAT_GATEWAY_DEMO").as_deref() {
        None => mode == Mode::Development,
        Some("1" | "true" | "on" | "yes") => true,
        Some("0" | "false" | "off" | "no") => false,
        Some(other) => {
            return Err(ConfigError(format!(
                "CHAT_GATEWAY_DEMO={other:?}: expected on or off"
            )));
        }
    };
    Ok(UpstreamSettings {
        shared,
        per_system,
        agents,
        demo: demo_on
            .then(|| -> Result<DemoSettings, ConfigError> {
                Ok(DemoSettings {
                    word_delay: Duration::from_millis(
                        vars.number("CHAT_GATEWAY_DEMO_DELAY_MS", 30)?,
                    ),
                })
            })
            .transpose()?,
        http2: match vars.get_nonempty("CHAT_GATEWAY_UPSTREAM_HTTP2").as_deref() {
            None | Some("auto") => UpstreamHttp2::Auto,
            Some("always") => UpstreamHttp2::Always,
            Some(other) => {
                return Err(ConfigError(format!(
                    "CHAT_GATEWAY_UPSTREAM_HTTP2={other:?}: expected auto or always"
                )));
            }
        },
        timeouts: UpstreamTimeouts {
            connect: Duration::from_secs(
                vars.number("CHAT_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECS", 10)?,
            ),
            request: Duration::from_secs(vars.number("CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS", 120)?),
            stream_idle: Duration::from_secs(vars.number("CHAT_GATEWAY_STREAM_IDLE_SECS", 60)?),
        },
    })
}

/// A Dify base URL without a trailing `/v1` (the seed broke on one).
fn dify_base(var: &str, raw: &str) -> Result<String, ConfigError> {
    let url = parse_base_url(var, raw)?;
    Ok(url.strip_suffix("/v1").unwrap_or(&url).to_owned())
}
