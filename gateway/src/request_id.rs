//! The id that ties a request's response, error body and log lines
//! together.
//!
//! A client (or the proxy in front) may send its own `x-request-id`; it is
//! kept when it is 1 to [`MAX_LEN`] characters of letters, digits and
//! `-_.:@`, so it can go into a header, a JSON body and a log line as it
//! is. Anything else is replaced by a fresh id (a UUID). The routes put the
//! id in scope for the whole request ([`RequestId::scope`]); the error
//! body reads it from there ([`current`]).

use std::future::Future;

/// The header carrying the id, both ways.
pub const HEADER: &str = "x-request-id";

/// Longest id accepted from a client.
pub const MAX_LEN: usize = 128;

/// A request's id: safe to echo in headers, bodies and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

tokio::task_local! {
    static CURRENT: RequestId;
}

impl RequestId {
    /// The client's id when it is acceptable, else a fresh one.
    pub fn accept_or_make(given: Option<&[u8]>) -> Self {
        given
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::fresh)
    }

    /// `raw` when it is a safe id.
    pub fn parse(raw: &str) -> Option<Self> {
        let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:@".contains(c);
        (!raw.is_empty() && raw.len() <= MAX_LEN && raw.chars().all(safe))
            .then(|| Self(raw.to_owned()))
    }

    /// A new random id.
    pub fn fresh() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Run `work` with this id as the [`current`] one.
    pub fn scope<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, work)
    }
}

/// The id of the request being handled, when there is one (not in
/// background tasks).
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids_are_kept_and_others_replaced() {
        let kept = RequestId::accept_or_make(Some(b"req-42_a.b:c@d"));
        assert_eq!(kept.as_str(), "req-42_a.b:c@d");
        for bad in [
            &b""[..],
            b"has space",
            b"quote\"s",
            b"new\nline",
            b"\xff\xfe",
            "x".repeat(MAX_LEN + 1).as_bytes(),
        ] {
            let made = RequestId::accept_or_make(Some(bad));
            assert_ne!(made.as_str().as_bytes(), bad);
            assert!(uuid::Uuid::try_parse(made.as_str()).is_ok(), "{made:?}");
        }
        assert!(RequestId::parse(&"x".repeat(MAX_LEN)).is_some());
    }

    #[tokio::test]
    async fn the_scoped_id_is_current_inside_only() {
        assert_eq!(current(), None);
        let id = RequestId::fresh();
        let inside = id.clone().scope(async { current() }).await;
        assert_eq!(inside.as_deref(), Some(id.as_str()));
    }
}
