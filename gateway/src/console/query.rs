//! The console's filters as query parameters, shared by the data API and
//! the pages: `system`, `agent`, `user`, `from`, `to`, `status`,
//! `feedback`, `q`, and `limit`, `before`, `format`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Viewer, date_bound};
use crate::store::console::{ConsoleFilter, FeedbackFilter, SearchWords, StatusFilter};

/// The console's filters, as query parameters (the pages use the same).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    pub system: Option<String>,
    pub agent: Option<String>,
    pub user: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<String>,
    /// `any`, `liked`, `disliked` or `commented`: conversations with an
    /// answer rated so.
    pub feedback: Option<String>,
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub before: Option<String>,
    pub format: Option<String>,
}

/// A parameter that is present and not blank.
pub fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl FilterQuery {
    /// The filter, checked, bounded to what `viewer` may see.
    pub fn filter(&self, viewer: &Viewer) -> Result<ConsoleFilter, String> {
        let system = given(&self.system)
            .map(|s| {
                sdk::identity::check_system_id(s)?;
                Ok::<_, String>(s.to_ascii_lowercase())
            })
            .transpose()?;
        let user = given(&self.user)
            .map(|u| {
                sdk::identity::check_user_id(u)?;
                Ok::<_, String>(u.to_owned())
            })
            .transpose()?;
        let agent = given(&self.agent).map(str::to_owned);
        if let Some(agent) = &agent
            && (agent.len() > 64 || agent.chars().any(char::is_control))
        {
            return Err("agent is not an agent name".into());
        }
        let status = match given(&self.status) {
            None => None,
            Some("failed") => Some(StatusFilter::Failed),
            Some("incomplete") => Some(StatusFilter::Incomplete),
            Some(_) => {
                return Err("status must be failed or incomplete".into());
            }
        };
        let feedback = given(&self.feedback)
            .map(|f| {
                FeedbackFilter::parse(f)
                    .ok_or_else(|| "feedback must be any, liked, disliked or commented".to_owned())
            })
            .transpose()?;
        let q = self.q.as_deref().unwrap_or_default();
        if q.chars().count() > 200 {
            return Err("q is longer than 200 characters".into());
        }
        Ok(viewer.bound(ConsoleFilter {
            systems: None,
            system_id: system,
            agent,
            user_id: user,
            from: given(&self.from)
                .map(|d| bound("from", d, false))
                .transpose()?,
            to: given(&self.to).map(|d| bound("to", d, true)).transpose()?,
            status,
            feedback,
            words: SearchWords::parse(q),
        }))
    }
}

impl FilterQuery {
    /// The usage filter: [`FilterQuery::filter`] with `from` defaulting to
    /// the last 30 days up to `now`.
    pub fn usage_filter(
        &self,
        viewer: &Viewer,
        now: OffsetDateTime,
    ) -> Result<ConsoleFilter, String> {
        let mut filter = self.filter(viewer)?;
        if filter.from.is_none() {
            let today = now.date().midnight().assume_utc();
            filter.from = Some(today - time::Duration::days(29));
        }
        Ok(filter)
    }
}

fn bound(field: &str, raw: &str, end: bool) -> Result<OffsetDateTime, String> {
    date_bound(raw, end)
        .ok_or_else(|| format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 timestamp"))
}

/// Up to 160 characters of `text` around the first occurrence of a word.
pub fn snippet(text: &str, words: &SearchWords) -> String {
    const AROUND: usize = 60;
    const MAX: usize = 160;
    let start = words.find_in(text).first().map_or(0, |r| r.start);
    let before: Vec<(usize, char)> = text[..start].char_indices().collect();
    let from = before.len().checked_sub(AROUND).map_or(0, |i| before[i].0);
    let mut out: String = text[from..].chars().take(MAX).collect();
    if from > 0 {
        out.insert(0, '…');
    }
    if text[from..].chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::SystemScope;

    #[test]
    fn snippets_center_the_first_hit() {
        let words = SearchWords::parse("needle");
        let text = format!("{}needle{}", "가".repeat(100), "b".repeat(200));
        let s = snippet(&text, &words);
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert_eq!(s.chars().count(), 162);
        assert!(s.contains("needle"));
        assert_eq!(snippet("short", &words), "short");
    }

    #[test]
    fn a_viewer_bounds_the_filter_and_bad_values_are_refused() {
        let analyst = Viewer {
            scope: SystemScope::Only(["a".to_owned()].into()),
        };
        let q = FilterQuery {
            system: Some("B".into()),
            status: Some("failed".into()),
            ..FilterQuery::default()
        };
        let f = q.filter(&analyst).unwrap();
        assert_eq!(f.systems, Some(vec!["a".to_owned()]));
        assert_eq!(f.system_id.as_deref(), Some("b"));
        let disliked = FilterQuery {
            feedback: Some("disliked".into()),
            ..FilterQuery::default()
        };
        assert_eq!(
            disliked.filter(&analyst).unwrap().feedback,
            Some(FeedbackFilter::Disliked)
        );
        let unknown = FilterQuery {
            feedback: Some("loved".into()),
            ..FilterQuery::default()
        };
        assert!(unknown.filter(&analyst).is_err());
        let bad = FilterQuery {
            status: Some("lost".into()),
            ..FilterQuery::default()
        };
        assert!(bad.filter(&analyst).is_err());
    }
}
