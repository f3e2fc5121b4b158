//! A snapshot of environment variables, so configuration can be built from
//! the process environment or, in tests, from a plain list.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::ConfigError;

/// Environment variables, by name.
#[derive(Debug, Clone, Default)]
pub struct EnvVars(BTreeMap<String, String>);

impl EnvVars {
    /// The variables of this process (those that are valid UTF-8).
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// Variables from a list of pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Set or replace one variable.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// A variable's value, even if empty; `None` when unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// A variable's trimmed value; `None` when unset or blank.
    pub fn get_nonempty(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A number, or `default` when unset or blank.
    pub fn number<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError> {
        match self.get_nonempty(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| ConfigError(format!("{name}={v:?}: expected a whole number"))),
        }
    }

    /// Every variable, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
