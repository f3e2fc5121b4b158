//! The operator console's texts.

use serde::Serialize;

/// Texts of the console pages, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleTexts {
    pub console: &'static str,
    pub conversations: &'static str,
    pub analytics: &'static str,
    pub search: &'static str,
    pub system: &'static str,
    pub agent: &'static str,
    pub user: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub status: &'static str,
    pub any_status: &'static str,
    pub failed: &'static str,
    pub incomplete: &'static str,
    pub apply: &'static str,
    pub found: &'static str,
    pub no_results: &'static str,
    pub next_page: &'static str,
    pub export_csv: &'static str,
    pub export_jsonl: &'static str,
    pub messages: &'static str,
    pub started: &'static str,
    pub last_activity: &'static str,
    pub latency: &'static str,
    pub ttft: &'static str,
    pub tokens: &'static str,
    pub upstream_id: &'static str,
    pub back: &'static str,
    pub day: &'static str,
    pub active_users: &'static str,
    pub failures: &'static str,
    pub download_csv: &'static str,
    pub answer: &'static str,
    pub messages_per_day: &'static str,
}
