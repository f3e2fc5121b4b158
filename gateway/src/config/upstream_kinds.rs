//! The n8n-webhook and OpenAI-compatible targets, and how the environment
//! spells them (shared, or per system as for `DIFY_<SYSTEM>_*`).
//!
//! | kind | shared | one system |
//! |---|---|---|
//! | n8n | `N8N_WEBHOOK_URL`, `N8N_WEBHOOK_TOKEN` | `N8N_<SYSTEM>_WEBHOOK_URL`, `N8N_<SYSTEM>_WEBHOOK_TOKEN` |
//! | OpenAI | `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`, `OPENAI_SYSTEM_PROMPT` | `OPENAI_<SYSTEM>_…` |
//!
//! A missing per-system value falls back to the shared one. A system is
//! OpenAI-backed when it ends up with a model and a key.

use std::collections::BTreeMap;

use super::upstreams::{ConfiguredTarget, UpstreamTarget, system_env_key};
use super::{ConfigError, EnvVars, parse_base_url};

/// Where OpenAI-compatible targets go when `OPENAI_BASE_URL` is not set.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Earlier turns sent to an OpenAI-compatible upstream, by default.
const DEFAULT_HISTORY_TURNS: usize = 10;
/// Characters of earlier turns sent, at most, by default.
const DEFAULT_HISTORY_CHARS: usize = 24_000;

/// An n8n workflow behind a Webhook (or Chat Trigger) node.
#[derive(Clone, PartialEq, Eq)]
pub struct N8nTarget {
    /// The production webhook URL (`https://n8n.example.com/webhook/<path>`).
    pub webhook_url: String,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: Option<String>,
}

impl std::fmt::Debug for N8nTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("N8nTarget")
            .field("webhook_url", &self.webhook_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A server speaking OpenAI's chat completions API (OpenAI, vLLM, Ollama,
/// LM Studio, LiteLLM, Azure OpenAI).
#[derive(Clone, PartialEq)]
pub struct OpenAiTarget {
    /// Up to and including the version segment (`https://api.openai.com/v1`);
    /// requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    /// The API key.
    pub api_key: String,
    /// The model (`gpt-4o-mini`, `llama3.1`).
    pub model: String,
    /// Sent as the first, `system`, message when set.
    pub system_prompt: Option<String>,
    /// Sampling temperature, when set.
    pub temperature: Option<f32>,
    /// `max_tokens`, when set.
    pub max_tokens: Option<u32>,
    /// How much of the conversation goes with each message.
    pub history: HistoryLimits,
    /// Azure OpenAI: send the key as `api-key` and add `?api-version=`.
    pub azure_api_version: Option<String>,
}

impl std::fmt::Debug for OpenAiTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiTarget")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl HistoryLimits {
    /// The bounds when nothing sets them.
    pub const DEFAULT: Self = Self {
        max_turns: DEFAULT_HISTORY_TURNS,
        max_chars: DEFAULT_HISTORY_CHARS,
    };
}

/// Bounds on the earlier turns sent with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Complete question-and-answer turns, at most.
    pub max_turns: usize,
    /// Characters of those turns, at most (the oldest are dropped first).
    pub max_chars: usize,
}

/// Shared and per-system targets of one kind, before kinds are merged.
pub(super) struct KindTargets {
    pub(super) shared: Option<ConfiguredTarget>,
    pub(super) per_system: BTreeMap<String, ConfiguredTarget>,
}

/// Values of `<PREFIX><SYSTEM><suffix>` variables, by system key then suffix.
fn per_system_values(
    vars: &EnvVars,
    prefix: &str,
    suffixes: &[&'static str],
) -> BTreeMap<String, BTreeMap<&'static str, String>> {
    let mut out: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
    for (name, value) in vars.iter() {
        if value.trim().is_empty() {
            continue;
        }
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        // The longest suffix wins (`_SYSTEM_PROMPT` before a shorter one).
        let found = suffixes
            .iter()
            .filter_map(|suffix| {
                rest.strip_suffix(suffix)
                    .filter(|sys| !sys.is_empty())
                    .map(|sys| (*suffix, sys))
            })
            .max_by_key(|(suffix, _)| suffix.len());
        if let Some((suffix, sys)) = found {
            out.entry(system_env_key(sys))
                .or_default()
                .insert(suffix, value.trim().to_owned());
        }
    }
    out
}

pub(super) fn n8n_targets(vars: &EnvVars) -> Result<KindTargets, ConfigError> {
    let shared_url = vars.get_nonempty("N8N_WEBHOOK_URL");
    let shared_token = vars.get_nonempty("N8N_WEBHOOK_TOKEN");
    let shared = shared_url
        .as_ref()
        .map(|url| -> Result<ConfiguredTarget, ConfigError> {
            Ok(ConfiguredTarget {
                target: UpstreamTarget::N8n(N8nTarget {
                    webhook_url: parse_webhook_url("N8N_WEBHOOK_URL", url)?,
                    token: shared_token.clone(),
                }),
                source: "N8N_WEBHOOK_URL".to_owned(),
            })
        })
        .transpose()?;
    let mut per_system = BTreeMap::new();
    for (sys, values) in per_system_values(vars, "N8N_", &["_WEBHOOK_URL", "_WEBHOOK_TOKEN"]) {
        let url_var = format!("N8N_{sys}_WEBHOOK_URL");
        let url = values
            .get("_WEBHOOK_URL")
            .or(shared_url.as_ref())
            .ok_or_else(|| {
                ConfigError(format!(
                    "N8N_{sys}_WEBHOOK_TOKEN is set but neither {url_var} nor N8N_WEBHOOK_URL is"
                ))
            })?;
        let target = N8nTarget {
            webhook_url: parse_webhook_url(&url_var, url)?,
            token: values
                .get("_WEBHOOK_TOKEN")
                .cloned()
                .or_else(|| shared_token.clone()),
        };
        per_system.insert(
            sys.clone(),
            ConfiguredTarget {
                target: UpstreamTarget::N8n(target),
                source: format!("N8N_{sys}_*"),
            },
        );
    }
    Ok(KindTargets { shared, per_system })
}

const OPENAI_SUFFIXES: [&str; 4] = ["_BASE_URL", "_API_KEY", "_MODEL", "_SYSTEM_PROMPT"];

/// The history bounds of OpenAI-compatible targets, unless a file agent
/// sets its own.
pub(super) fn history_limits(vars: &EnvVars) -> Result<HistoryLimits, ConfigError> {
    Ok(HistoryLimits {
        max_turns: vars.number("OPENAI_HISTORY_TURNS", DEFAULT_HISTORY_TURNS)?,
        max_chars: vars.number("OPENAI_HISTORY_CHARS", DEFAULT_HISTORY_CHARS)?,
    })
}

pub(super) fn openai_targets(vars: &EnvVars) -> Result<KindTargets, ConfigError> {
    let shared_url = vars.get_nonempty("OPENAI_BASE_URL");
    let shared_key = vars.get_nonempty("OPENAI_API_KEY");
    let shared_model = vars.get_nonempty("OPENAI_MODEL");
    let shared_prompt = vars.get_nonempty("OPENAI_SYSTEM_PROMPT");
    let history = history_limits(vars)?;
    let base = |var: &str, url: Option<&String>| match url {
        Some(url) => parse_base_url(var, url),
        None => Ok(OPENAI_DEFAULT_BASE_URL.to_owned()),
    };
    let shared = match (&shared_key, &shared_model) {
        (Some(key), Some(model)) => Some(ConfiguredTarget {
            target: UpstreamTarget::OpenAi(OpenAiTarget {
                base_url: base("OPENAI_BASE_URL", shared_url.as_ref())?,
                api_key: key.clone(),
                model: model.clone(),
                system_prompt: shared_prompt.clone(),
                temperature: None,
                max_tokens: None,
                history,
                azure_api_version: None,
            }),
            source: "OPENAI_API_KEY + OPENAI_MODEL".to_owned(),
        }),
        _ => None,
    };
    let mut per_system = BTreeMap::new();
    for (sys, values) in per_system_values(vars, "OPENAI_", &OPENAI_SUFFIXES) {
        let key = values.get("_API_KEY").or(shared_key.as_ref());
        let model = values.get("_MODEL").or(shared_model.as_ref());
        let (Some(key), Some(model)) = (key, model) else {
            return Err(ConfigError(format!(
                "OPENAI_{sys}_* is set but the system has no {}: set OPENAI_{sys}_{} or OPENAI_{}",
                if key.is_none() { "API key" } else { "model" },
                if key.is_none() { "API_KEY" } else { "MODEL" },
                if key.is_none() { "API_KEY" } else { "MODEL" },
            )));
        };
        let url_var = format!("OPENAI_{sys}_BASE_URL");
        let url = values.get("_BASE_URL").or(shared_url.as_ref());
        let target = OpenAiTarget {
            base_url: base(&url_var, url)?,
            api_key: key.clone(),
            model: model.clone(),
            system_prompt: values
                .get("_SYSTEM_PROMPT")
                .or(shared_prompt.as_ref())
                .cloned(),
            temperature: None,
            max_tokens: None,
            history,
            azure_api_version: None,
        };
        per_system.insert(
            sys.clone(),
            ConfiguredTarget {
                target: UpstreamTarget::OpenAi(target),
                source: format!("OPENAI_{sys}_*"),
            },
        );
    }
    Ok(KindTargets { shared, per_system })
}

/// A webhook URL: http(s), query allowed (some proxies route by it).
fn parse_webhook_url(var: &str, raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{var}: {raw:?} must start with http:// or https://"
            ))
        })?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains([' ', '#']) {
        return Err(ConfigError(format!("{var}: {raw:?} is not a webhook URL")));
    }
    Ok(url.to_owned())
}

/// Put every kind's targets together; two kinds for one system (or two
/// shared kinds) is an error naming both sources.
pub(super) fn merge_kinds(
    kinds: Vec<KindTargets>,
) -> Result<(Option<ConfiguredTarget>, BTreeMap<String, ConfiguredTarget>), ConfigError> {
    let mut shared: Option<ConfiguredTarget> = None;
    let mut per_system: BTreeMap<String, ConfiguredTarget> = BTreeMap::new();
    for kind in kinds {
        if let Some(target) = kind.shared {
            if let Some(existing) = &shared {
                return Err(two_kinds("every system", existing, &target));
            }
            shared = Some(target);
        }
        for (sys, target) in kind.per_system {
            if let Some(existing) = per_system.get(&sys) {
                return Err(two_kinds(&format!("system {sys}"), existing, &target));
            }
            per_system.insert(sys, target);
        }
    }
    Ok((shared, per_system))
}

fn two_kinds(whom: &str, a: &ConfiguredTarget, b: &ConfiguredTarget) -> ConfigError {
    ConfigError(format!(
        "{whom} has two upstreams: {} ({}) and {} ({}); keep one",
        a.source,
        a.target.kind(),
        b.source,
        b.target.kind()
    ))
}
