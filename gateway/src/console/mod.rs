//! The operator console's domain: who is looking ([`Viewer`] and the
//! systems it may see), exports of a filter as CSV or JSON Lines
//! ([`export`]), usage charts and tables ([`analytics`]), and the retention
//! purge ([`retention`]). The HTTP API is `routes::admin`.

pub mod analytics;
pub mod export;
pub mod query;
pub mod retention;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::scope::SystemScope;
use crate::store::console::ConsoleFilter;

/// A bound of a date range: a date (`YYYY-MM-DD`, UTC; as an end bound it
/// includes the whole day) or an RFC 3339 timestamp. `None` when `raw` is
/// neither.
pub fn date_bound(raw: &str, end: bool) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let date = Date::parse(raw, format_description!("[year]-[month]-[day]")).ok()?;
    let date = if end {
        date.next_day().unwrap_or(date)
    } else {
        date
    };
    Some(date.midnight().assume_utc())
}

/// Someone allowed into the console. Today only the root API key
/// (`X-API-Key`) makes one, seeing every system; operator sessions will
/// make one with their role's systems.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The systems the viewer may see.
    pub scope: SystemScope,
}

impl Viewer {
    /// `filter`, bounded to the systems this viewer may see.
    pub fn bound(&self, mut filter: ConsoleFilter) -> ConsoleFilter {
        filter.systems = self.scope.to_list();
        filter
    }
}
