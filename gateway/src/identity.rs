//! Who a request is about: a client system and one of its end users.
//!
//! Both parts are validated once, when a request enters, so everything past
//! the handlers can trust them (the rules live in `sdk::identity`, so SDK
//! users get the same answer before they mint a token):
//! - a **system id** is 1–64 characters of ASCII letters, digits, `-`, `_` or
//!   `.`, and is compared case-insensitively (it is stored lower-case);
//! - a **user id** is 1–256 characters with no control characters, kept as
//!   given (usernames, e-mail addresses and numbers all work).
//!
//! ## The upstream user name
//!
//! Upstreams such as Dify scope history by one `user` string. The seed gateway
//! used `{system}_{user}`, so `("a_b", "c")` and `("a", "b_c")` collided. We
//! keep that readable form but escape `_` inside the system id as `%5F`. The
//! system part then never contains `_` (nor `%`, which system ids cannot
//! contain), so the first `_` always separates the two parts and the mapping
//! is injective. For every system id without `_` — `drillquiz`, `cointutor` —
//! the name is exactly the seed's, so users keep their existing Dify history.

use std::fmt;

pub use sdk::identity::{MAX_SYSTEM_ID, MAX_USER_ID};

/// A validated, lower-case system id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SystemId(String);

/// A validated user id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why an id was refused. The text names the field and is safe to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(String);

impl SystemId {
    /// Validate (the SDK's rules) and normalise a system id.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        sdk::identity::check_system_id(raw).map_err(InvalidId)?;
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The normalised id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl UserId {
    /// Validate a user id (the SDK's rules).
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        sdk::identity::check_user_id(raw).map_err(InvalidId)?;
        Ok(Self(raw.to_owned()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SystemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One end user of one system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub system: SystemId,
    /// The user within it.
    pub user: UserId,
}

impl Identity {
    /// Validate both parts.
    pub fn parse(system_id: &str, user_id: &str) -> Result<Self, InvalidId> {
        Ok(Self {
            system: SystemId::parse(system_id)?,
            user: UserId::parse(user_id)?,
        })
    }

    /// The injective `user` name sent upstream (see the module docs).
    pub fn upstream_user(&self) -> String {
        let system = self.system.as_str();
        let mut out = String::with_capacity(system.len() + 1 + self.user.as_str().len());
        for c in system.chars() {
            if c == '_' {
                out.push_str("%5F");
            } else {
                out.push(c);
            }
        }
        out.push('_');
        out.push_str(self.user.as_str());
        out
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.system, self.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str, u: &str) -> Identity {
        Identity::parse(s, u).unwrap()
    }

    #[test]
    fn seed_form_is_kept_for_plain_system_ids() {
        assert_eq!(id("drillquiz", "12345").upstream_user(), "drillquiz_12345");
        assert_eq!(id("CoinTutor", "a_b").upstream_user(), "cointutor_a_b");
    }

    #[test]
    fn upstream_user_is_injective_where_the_seed_collided() {
        let a = id("a_b", "c").upstream_user();
        let b = id("a", "b_c").upstream_user();
        assert_ne!(a, b);
        assert_eq!(a, "a%5Fb_c");
        assert_eq!(b, "a_b_c");
    }

    #[test]
    fn upstream_user_decodes_back() {
        // The first '_' separates the parts; '%5F' in the system part is '_'.
        for (s, u) in [("a_b", "c"), ("a", "b_c"), ("x.y-z", "_"), ("_", "__")] {
            let name = id(s, u).upstream_user();
            let (sys, user) = name.split_once('_').unwrap();
            assert_eq!(sys.replace("%5F", "_"), s);
            assert_eq!(user, u);
        }
    }

    #[test]
    fn validation() {
        assert!(SystemId::parse("").is_err());
        assert!(SystemId::parse("has space").is_err());
        assert!(SystemId::parse("percent%").is_err());
        assert!(SystemId::parse(&"a".repeat(65)).is_err());
        assert_eq!(
            SystemId::parse("Drill.Quiz-2").unwrap().as_str(),
            "drill.quiz-2"
        );
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("tab\there").is_err());
        assert!(UserId::parse(&"가".repeat(256)).is_ok());
        assert!(UserId::parse(&"가".repeat(257)).is_err());
        assert!(UserId::parse("user@example.com").is_ok());
    }
}
