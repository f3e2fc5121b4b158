//! Paging and filter parameters of the listing endpoints, as typed values
//! that render to the gateway's query strings.
//!
//! Unset parameters are left out, so the gateway's defaults apply (100
//! conversations, 200 messages per page). The gateway checks the ranges and
//! answers `validation_failed` (422) for a limit out of range.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// Paging of a conversation list: how many, and older than which.
///
/// ```
/// let page = tz_chat_sdk::Page::new().limit(20).before("0193a5e2-…");
/// # let _ = page;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    limit: Option<u32>,
    before: Option<String>,
}

impl Page {
    /// The first page, with the gateway's default size.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Page::new(), tz_chat_sdk::Page::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `limit` items (conversations: 1–200; cache search: 1–500).
    ///
    /// ```
    /// let page = tz_chat_sdk::Page::new().limit(50);
    /// # let _ = page;
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only items older than the one with this id (the last id of the
    /// previous page).
    ///
    /// ```
    /// let page = tz_chat_sdk::Page::new().before("0193a5e2-…");
    /// # let _ = page;
    /// ```
    pub fn before(mut self, id: impl Into<String>) -> Self {
        self.before = Some(id.into());
        self
    }

    pub(crate) fn append_to(&self, query: &mut Vec<(&'static str, String)>) {
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(before) = &self.before {
            query.push(("before", before.clone()));
        }
    }
}

/// Paging and rendering of a message list.
///
/// ```
/// let q = tz_chat_sdk::MessagesQuery::new().limit(50).html();
/// # let _ = q;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagesQuery {
    page: Page,
    html: bool,
}

impl MessagesQuery {
    /// The newest messages (200 by default), without HTML.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::MessagesQuery::new(), tz_chat_sdk::MessagesQuery::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `limit` messages (1–500 for a user, 1–5000 for the cache).
    ///
    /// ```
    /// let q = tz_chat_sdk::MessagesQuery::new().limit(10);
    /// # let _ = q;
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.page = self.page.limit(limit);
        self
    }

    /// Only messages older than the one with this id.
    ///
    /// ```
    /// let q = tz_chat_sdk::MessagesQuery::new().before("0193a5e2-…");
    /// # let _ = q;
    /// ```
    pub fn before(mut self, id: impl Into<String>) -> Self {
        self.page = self.page.before(id);
        self
    }

    /// Also return assistant messages rendered as sanitised HTML
    /// ([`Message::html`](crate::Message::html)).
    ///
    /// ```
    /// let q = tz_chat_sdk::MessagesQuery::new().html();
    /// # let _ = q;
    /// ```
    pub fn html(mut self) -> Self {
        self.html = true;
        self
    }

    pub(crate) fn append_to(&self, query: &mut Vec<(&'static str, String)>) {
        self.page.append_to(query);
        if self.html {
            query.push(("html", "true".into()));
        }
    }
}

/// A bound of a date filter: a whole day (UTC) or an exact instant.
///
/// As an upper bound a [`Day`](DateBound::Day) includes the whole day.
///
/// ```
/// use time::macros::{date, datetime};
///
/// let day: tz_chat_sdk::DateBound = date!(2026-11-21).into();
/// let instant: tz_chat_sdk::DateBound = datetime!(2026-11-21 10:00 UTC).into();
/// assert_ne!(day, instant);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// A calendar day, UTC (`YYYY-MM-DD` on the wire).
    Day(Date),
    /// An instant (RFC 3339 on the wire).
    At(OffsetDateTime),
}

impl From<Date> for DateBound {
    fn from(day: Date) -> Self {
        DateBound::Day(day)
    }
}

impl From<OffsetDateTime> for DateBound {
    fn from(at: OffsetDateTime) -> Self {
        DateBound::At(at)
    }
}

impl DateBound {
    fn to_query(self) -> String {
        match self {
            DateBound::Day(d) => {
                format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
            }
            // Formatting a valid OffsetDateTime as RFC 3339 fails only for
            // years outside 0..=9999; send the day then.
            DateBound::At(t) => t
                .format(&Rfc3339)
                .unwrap_or_else(|_| DateBound::Day(t.date()).to_query()),
        }
    }
}

/// Filters of an operator search over every stored conversation
/// ([`CacheClient::conversations`](crate::CacheClient::conversations)).
///
/// ```
/// use time::macros::date;
///
/// let q = tz_chat_sdk::CacheQuery::new()
///     .system_id("cointutor")
///     .since(date!(2026-11-01))
///     .until(date!(2026-11-30))
///     .limit(50);
/// # let _ = q;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    from: Option<DateBound>,
    to: Option<DateBound>,
    page: Page,
}

impl CacheQuery {
    /// Every conversation, newest first (the first 100).
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::CacheQuery::new(), tz_chat_sdk::CacheQuery::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this system's conversations.
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().system_id("drillquiz");
    /// # let _ = q;
    /// ```
    pub fn system_id(mut self, system_id: impl Into<String>) -> Self {
        self.system_id = Some(system_id.into());
        self
    }

    /// Only this user's conversations.
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().system_id("drillquiz").user_id("42");
    /// # let _ = q;
    /// ```
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Only conversations active at or after `from` (`from_date` on the
    /// wire).
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().since(time::macros::date!(2026-11-01));
    /// # let _ = q;
    /// ```
    pub fn since(mut self, from: impl Into<DateBound>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Only conversations active up to `to`; a day includes all of it
    /// (`to_date` on the wire).
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().until(time::macros::date!(2026-11-30));
    /// # let _ = q;
    /// ```
    pub fn until(mut self, to: impl Into<DateBound>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// At most `limit` conversations (1–500).
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().limit(500);
    /// # let _ = q;
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.page = self.page.limit(limit);
        self
    }

    /// Only conversations older than the one with this id.
    ///
    /// ```
    /// let q = tz_chat_sdk::CacheQuery::new().before("0193a5e2-…");
    /// # let _ = q;
    /// ```
    pub fn before(mut self, id: impl Into<String>) -> Self {
        self.page = self.page.before(id);
        self
    }

    pub(crate) fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(s) = &self.system_id {
            query.push(("system_id", s.clone()));
        }
        if let Some(u) = &self.user_id {
            query.push(("user_id", u.clone()));
        }
        if let Some(from) = self.from {
            query.push(("from_date", from.to_query()));
        }
        if let Some(to) = self.to {
            query.push(("to_date", to.to_query()));
        }
        self.page.append_to(&mut query);
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn cache_query_renders_the_gateway_parameters() {
        let q = CacheQuery::new()
            .system_id("drillquiz")
            .user_id("a b")
            .since(date!(2026 - 01 - 02))
            .until(datetime!(2026-11-21 10:14:03.5 +09:00))
            .limit(7)
            .before("c1");
        let got: Vec<(&str, String)> = q.to_query();
        assert_eq!(
            got,
            vec![
                ("system_id", "drillquiz".to_owned()),
                ("user_id", "a b".to_owned()),
                ("from_date", "2026-01-02".to_owned()),
                ("to_date", "2026-11-21T10:14:03.5+09:00".to_owned()),
                ("limit", "7".to_owned()),
                ("before", "c1".to_owned()),
            ]
        );
        assert!(CacheQuery::new().to_query().is_empty());
    }

    #[test]
    fn messages_query_adds_html_only_when_asked() {
        let mut q = Vec::new();
        MessagesQuery::new().limit(3).append_to(&mut q);
        assert_eq!(q, vec![("limit", "3".to_owned())]);
        let mut q = Vec::new();
        MessagesQuery::new().html().append_to(&mut q);
        assert_eq!(q, vec![("html", "true".to_owned())]);
    }
}
