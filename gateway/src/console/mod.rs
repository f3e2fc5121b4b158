//! The operator console's domain: who is looking ([`Viewer`] and the
//! systems it may see), exports of a filter as CSV or JSON Lines
//! ([`export`]), usage charts and tables ([`analytics`]), and the retention
//! purge ([`retention`]). The HTTP API is `routes::admin`.

pub mod analytics;
pub mod export;
pub mod retention;

use crate::store::console::ConsoleFilter;

/// The systems a viewer may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemScope {
    /// Every system (the root API key, administrators).
    All,
    /// Only these systems (analysts).
    Only(Vec<String>),
}

/// Someone allowed into the console. Today only the root API key
/// (`X-API-Key`) makes one, seeing every system; operator sessions will
/// make one with their role's systems.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: SystemScope,
}

impl Viewer {
    /// `filter`, bounded to the systems this viewer may see.
    pub fn bound(&self, mut filter: ConsoleFilter) -> ConsoleFilter {
        filter.systems = match &self.scope {
            SystemScope::All => None,
            SystemScope::Only(systems) => Some(systems.clone()),
        };
        filter
    }
}
