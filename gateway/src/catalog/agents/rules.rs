//! What an agent must be to be stored (the configuration file's rules, see
//! `config/file.rs`), and what a stored agent connects to.

use serde::{Deserialize, Serialize};

use crate::config::{
    DifyTarget, HistoryLimits, N8nTarget, OPENAI_DEFAULT_BASE_URL, OpenAiTarget, UpstreamTarget,
    parse_base_url,
};
use crate::sealing::SecretKey;
use crate::store::catalog::AgentRecord;

/// The kinds an agent may have.
pub(in crate::catalog) const KINDS: [&str; 3] = ["dify", "n8n", "openai"];

/// Kind-specific options (OpenAI-compatible agents only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Earlier complete turns sent with each message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_turns: Option<usize>,
    /// Characters of those turns, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_chars: Option<usize>,
    /// Azure OpenAI: send the key as `api-key` and add `?api-version=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_api_version: Option<String>,
}

impl AgentOptions {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An agent as an operator describes it, credential in plain text or kept
/// as stored.
#[derive(Debug, Clone)]
pub(in crate::catalog) struct AgentDraft {
    pub(in crate::catalog) kind: String,
    pub(in crate::catalog) url: String,
    pub(in crate::catalog) credential: CredentialDraft,
    pub(in crate::catalog) model: Option<String>,
    pub(in crate::catalog) system_prompt: Option<String>,
    pub(in crate::catalog) options: AgentOptions,
}

/// An agent's credential while it is being edited.
#[derive(Clone)]
pub(in crate::catalog) enum CredentialDraft {
    None,
    /// Unchanged: as stored (sealed).
    Stored(crate::store::catalog::SealedCredential),
    /// Newly given, to be sealed.
    New(String),
}

impl std::fmt::Debug for CredentialDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Stored(_) => "Stored",
            Self::New(_) => "New(<redacted>)",
        })
    }
}

impl CredentialDraft {
    fn present(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// Check `draft` by the kind's rules; returns the URL as stored. Messages
/// name the field and never carry the credential.
pub(in crate::catalog) fn check(draft: &AgentDraft) -> Result<String, String> {
    let is_openai = draft.kind == "openai";
    let url = match draft.kind.as_str() {
        "dify" => {
            let url = parse_base_url("url", &draft.url).map_err(|e| e.0)?;
            url.strip_suffix("/v1").unwrap_or(&url).to_owned()
        }
        "n8n" => {
            let url = draft.url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains([' ', '#'])
                || url.len() <= "https://".len()
            {
                return Err("url must be the webhook's http(s) URL".into());
            }
            url.to_owned()
        }
        "openai" if draft.url.trim().is_empty() => OPENAI_DEFAULT_BASE_URL.to_owned(),
        "openai" => parse_base_url("url", &draft.url).map_err(|e| e.0)?,
        other => {
            return Err(format!(
                "kind {other:?} is not one of \"dify\", \"n8n\", \"openai\""
            ));
        }
    };
    if matches!(draft.kind.as_str(), "dify" | "openai") && !draft.credential.present() {
        return Err(format!(
            "credential is required for kind {:?} (the API key)",
            draft.kind
        ));
    }
    if is_openai {
        if draft.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return Err("model is required for kind \"openai\"".into());
        }
    } else if draft.model.is_some() || draft.system_prompt.is_some() || !draft.options.is_empty() {
        return Err("model, system_prompt and options apply to kind \"openai\" only".into());
    }
    if draft
        .options
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return Err("options.temperature must be between 0 and 2".into());
    }
    Ok(url)
}

/// What a stored agent connects to, its credential opened with `key`.
pub(in crate::catalog) fn target_of(
    record: &AgentRecord,
    key: Option<&SecretKey>,
) -> Result<UpstreamTarget, String> {
    let credential = match (&record.credential, key) {
        (None, _) => None,
        (Some(_), None) => {
            return Err("its credential is sealed but CHAT_GATEWAY_SECRET_KEY is not set".into());
        }
        (Some(sealed), Some(key)) => Some(
            key.open(&sealed.sealed, &context(&record.system_id, &record.id))
                .map_err(|e| e.to_string())?,
        ),
    };
    let options: AgentOptions = serde_json::from_str(&record.options)
        .map_err(|e| format!("its stored options are unreadable: {e}"))?;
    Ok(match record.kind.as_str() {
        "dify" => UpstreamTarget::Dify(DifyTarget {
            base_url: record.url.clone(),
            api_key: credential.unwrap_or_default(),
        }),
        "n8n" => UpstreamTarget::N8n(N8nTarget {
            webhook_url: record.url.clone(),
            token: credential,
        }),
        "openai" => UpstreamTarget::OpenAi(OpenAiTarget {
            base_url: record.url.clone(),
            api_key: credential.unwrap_or_default(),
            model: record.model.clone().unwrap_or_default(),
            system_prompt: record.system_prompt.clone(),
            temperature: options.temperature,
            max_tokens: options.max_tokens,
            history: HistoryLimits {
                max_turns: options
                    .history_turns
                    .unwrap_or(HistoryLimits::DEFAULT.max_turns),
                max_chars: options
                    .history_chars
                    .unwrap_or(HistoryLimits::DEFAULT.max_chars),
            },
            azure_api_version: options.azure_api_version,
        }),
        other => return Err(format!("its kind {other:?} is unknown")),
    })
}

/// What a sealed credential is bound to: its agent.
pub(in crate::catalog) fn context(system: &str, agent: &str) -> String {
    format!("agent:{system}/{agent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: &str, url: &str) -> AgentDraft {
        AgentDraft {
            kind: kind.to_owned(),
            url: url.to_owned(),
            credential: CredentialDraft::New("sk-secret-value".into()),
            model: None,
            system_prompt: None,
            options: AgentOptions::default(),
        }
    }

    #[test]
    fn urls_and_kinds_are_checked_per_kind() {
        assert_eq!(
            check(&draft("dify", "https://dify.example/v1/")).unwrap(),
            "https://dify.example"
        );
        assert!(check(&draft("dify", "ftp://dify.example")).is_err());
        assert!(check(&draft("n8n", "https://n8n.example/webhook/a?x=1")).is_ok());
        assert!(check(&draft("n8n", "n8n.example/webhook")).is_err());
        let mut openai = draft("openai", "");
        assert!(check(&openai).unwrap_err().contains("model"));
        openai.model = Some("gpt-test".into());
        assert_eq!(check(&openai).unwrap(), OPENAI_DEFAULT_BASE_URL);
        openai.credential = CredentialDraft::None;
        assert!(check(&openai).unwrap_err().contains("credential"));
        let mut n8n = draft("n8n", "https://n8n.example/webhook/a");
        n8n.credential = CredentialDraft::None;
        assert!(check(&n8n).is_ok(), "an n8n token is optional");
        n8n.model = Some("x".into());
        assert!(check(&n8n).unwrap_err().contains("openai"));
        assert!(
            check(&draft("llama", "https://x.example"))
                .unwrap_err()
                .contains("kind")
        );
        for err in [
            check(&draft("dify", "bad")).unwrap_err(),
            check(&draft("llama", "x")).unwrap_err(),
        ] {
            assert!(!err.contains("sk-secret"), "{err}");
        }
    }
}
