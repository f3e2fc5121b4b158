//! The configuration file (`CHAT_GATEWAY_CONFIG=path.toml`): per system an
//! upstream and optional named agents, in the full form the environment
//! shortcuts cannot spell. Read once at start-up; mistakes stop the gateway
//! with the file, the line and the key. `docs/config-example.toml` is a
//! complete example.
//!
//! ```toml
//! [systems.team-chat]                # the system id
//! default_agent = "support"          # when a message names none
//!
//! [systems.team-chat.agents.support]
//! kind = "n8n"
//! url = "https://n8n.example.com/webhook/support"
//! credential_env = "TEAM_SUPPORT_TOKEN"
//! title = "Support"
//! ```
//!
//! A secret is given inline (`credential`) or as the name of the variable
//! holding it (`credential_env`); the variable wins when both are set.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::upstream_kinds::{HistoryLimits, N8nTarget, OPENAI_DEFAULT_BASE_URL, OpenAiTarget};
use super::upstreams::{ConfiguredTarget, DifyTarget, UpstreamTarget, system_env_key};
use super::{ConfigError, EnvVars, parse_base_url};

/// A named agent of a system: its upstream and how the chat page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfiguredAgent {
    /// The agent's name, as requests give it (`"agent": "sales"`).
    pub name: String,
    /// What answers it.
    pub target: ConfiguredTarget,
    /// Shown in the agent picker.
    pub title: String,
    /// A line under the title.
    pub description: String,
}

/// What the file configures for one system.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FileSystem {
    /// The system's own upstream (messages naming no agent), if any.
    pub(super) upstream: Option<ConfiguredTarget>,
    /// Its agents, by name.
    pub(super) agents: BTreeMap<String, ConfiguredAgent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    systems: BTreeMap<String, TableForm>,
}

/// A system's table or an agent's: an upstream, and what applies to each.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableForm {
    kind: Option<String>,
    url: Option<String>,
    credential: Option<String>,
    credential_env: Option<String>,
    model: Option<String>,
    system_prompt: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    history_turns: Option<usize>,
    history_chars: Option<usize>,
    azure_api_version: Option<String>,
    /// Agents only.
    title: Option<String>,
    /// Agents only.
    description: Option<String>,
    /// Systems only.
    default_agent: Option<String>,
    /// Systems only.
    #[serde(default)]
    agents: BTreeMap<String, TableForm>,
}

/// Read and check the file at `path`. Systems are keyed by
/// [`system_env_key`], as routing looks them up.
pub(super) fn read(
    path: &Path,
    vars: &EnvVars,
    default_history: HistoryLimits,
) -> Result<BTreeMap<String, FileSystem>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "CHAT_GATEWAY_CONFIG: cannot read {}: {e}",
            path.display()
        ))
    })?;
    parse(&text, &path.display().to_string(), vars, default_history)
}

/// [`read`] for text already in memory; `file` names it in errors.
pub(super) fn parse(
    text: &str,
    file: &str,
    vars: &EnvVars,
    default_history: HistoryLimits,
) -> Result<BTreeMap<String, FileSystem>, ConfigError> {
    let form: FileForm = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| before.matches('\n').count() + 1);
        let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
        ConfigError(format!("{file}:{at} {}", e.message().trim()))
    })?;
    let mut out = BTreeMap::new();
    for (system, spec) in form.systems {
        crate::identity::SystemId::parse(&system).map_err(|e| {
            ConfigError(format!(
                "{file}: line {}: systems.{system}: {e}",
                line_of(text, &format!("systems.{system}"))
            ))
        })?;
        let place = |key: &str| Place {
            file,
            line: line_of(text, key),
            key: key.to_owned(),
        };
        let system_key = format!("systems.{system}");
        if spec.title.is_some() || spec.description.is_some() {
            return Err(place(&system_key).error("title", "(and description) belong to agents"));
        }
        let upstream = if spec.kind.is_some() {
            Some(target(&spec, &place(&system_key), vars, default_history)?)
        } else {
            if spec.url.is_some() || spec.model.is_some() {
                return Err(place(&system_key).error("kind", "is required with url or model"));
            }
            None
        };
        let mut agents = BTreeMap::new();
        for (name, agent) in spec.agents {
            let agent_key = format!("systems.{system}.agents.{name}");
            if name.is_empty() || name.len() > 64 || name.contains(['/', ' ']) {
                return Err(place(&agent_key)
                    .error("", "agent names are 1–64 characters without / or spaces"));
            }
            if !agent.agents.is_empty() || agent.default_agent.is_some() {
                return Err(place(&agent_key).error("agents", "cannot be nested"));
            }
            let agent_target = target(&agent, &place(&agent_key), vars, default_history)?;
            agents.insert(
                name.clone(),
                ConfiguredAgent {
                    title: agent.title.unwrap_or_else(|| name.clone()),
                    description: agent.description.unwrap_or_default(),
                    name,
                    target: agent_target,
                },
            );
        }
        let upstream = match (upstream, spec.default_agent) {
            (Some(_), Some(_)) => {
                return Err(place(&system_key).error(
                    "default_agent",
                    "is for systems without an upstream of their own (kind, url…)",
                ));
            }
            (Some(own), None) => Some(own),
            (None, Some(default)) => Some(
                agents
                    .get(&default)
                    .ok_or_else(|| {
                        place(&system_key)
                            .error("default_agent", &format!("names no agent ({default:?})"))
                    })?
                    .target
                    .clone(),
            ),
            (None, None) if agents.len() == 1 => agents.values().next().map(|a| a.target.clone()),
            (None, None) if agents.is_empty() => {
                return Err(
                    place(&system_key).error("kind", "or agents: the system has no upstream")
                );
            }
            (None, None) => {
                return Err(place(&system_key).error(
                    "default_agent",
                    "is required: the system has several agents and no upstream of its own",
                ));
            }
        };
        out.insert(system_env_key(&system), FileSystem { upstream, agents });
    }
    Ok(out)
}

/// Where a table is in the file, for errors.
struct Place<'a> {
    file: &'a str,
    line: usize,
    key: String,
}

impl Place<'_> {
    fn error(&self, field: &str, problem: &str) -> ConfigError {
        let key = if field.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{field}", self.key)
        };
        ConfigError(format!(
            "{}: line {}: {key} {problem}",
            self.file, self.line
        ))
    }

    fn source(&self) -> String {
        format!("{} [{}]", self.file, self.key)
    }
}

fn target(
    form: &TableForm,
    place: &Place<'_>,
    vars: &EnvVars,
    default_history: HistoryLimits,
) -> Result<ConfiguredTarget, ConfigError> {
    let credential = match &form.credential_env {
        Some(var) => vars
            .get_nonempty(var)
            .or_else(|| form.credential.clone())
            .ok_or_else(|| {
                place.error("credential_env", &format!("names {var}, which is not set"))
            })?,
        None => form.credential.clone().unwrap_or_default(),
    };
    let url_key = format!("{}.url", place.key);
    let url = |required: bool| -> Result<Option<String>, ConfigError> {
        match &form.url {
            Some(url) => parse_base_url(&url_key, url)
                .map(Some)
                .map_err(|e| place.error("url", &e.0.replace(&format!("{url_key}: "), ""))),
            None if required => Err(place.error("url", "is required")),
            None => Ok(None),
        }
    };
    let need_credential = |what: &str| -> Result<String, ConfigError> {
        if credential.is_empty() {
            Err(place.error(
                "credential",
                &format!("(or credential_env) is required: {what}"),
            ))
        } else {
            Ok(credential.clone())
        }
    };
    let kind = form.kind.as_deref().unwrap_or_default();
    let target = match kind {
        "dify" => {
            let base = url(true)?.unwrap_or_default();
            UpstreamTarget::Dify(DifyTarget {
                base_url: base.strip_suffix("/v1").unwrap_or(&base).to_owned(),
                api_key: need_credential("the Dify app key")?,
            })
        }
        "n8n" => UpstreamTarget::N8n(N8nTarget {
            webhook_url: form
                .url
                .clone()
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .ok_or_else(|| place.error("url", "must be the webhook's http(s) URL"))?,
            token: (!credential.is_empty()).then(|| credential.clone()),
        }),
        "openai" => UpstreamTarget::OpenAi(OpenAiTarget {
            base_url: url(false)?.unwrap_or_else(|| OPENAI_DEFAULT_BASE_URL.to_owned()),
            api_key: need_credential("the API key")?,
            model: form
                .model
                .clone()
                .ok_or_else(|| place.error("model", "is required for kind \"openai\""))?,
            system_prompt: form.system_prompt.clone(),
            temperature: form.temperature,
            max_tokens: form.max_tokens,
            history: HistoryLimits {
                max_turns: form.history_turns.unwrap_or(default_history.max_turns),
                max_chars: form.history_chars.unwrap_or(default_history.max_chars),
            },
            azure_api_version: form.azure_api_version.clone(),
        }),
        other => {
            return Err(place.error(
                "kind",
                &format!("{other:?} is not one of \"dify\", \"n8n\", \"openai\""),
            ));
        }
    };
    if kind != "openai"
        && (form.model.is_some()
            || form.system_prompt.is_some()
            || form.azure_api_version.is_some())
    {
        return Err(place.error(
            "model",
            "(and system_prompt, azure_api_version) apply to kind \"openai\" only",
        ));
    }
    Ok(ConfiguredTarget {
        target,
        source: place.source(),
    })
}

/// The line of the `[key]` table header (or the first mention of the last
/// part of `key`), 1-based; 1 when not found.
fn line_of(text: &str, key: &str) -> usize {
    let header = format!("[{key}]");
    text.lines()
        .position(|line| line.trim() == header)
        .or_else(|| {
            let last = key.rsplit('.').next().unwrap_or(key);
            text.lines().position(|line| line.contains(last))
        })
        .map_or(1, |i| i + 1)
}
