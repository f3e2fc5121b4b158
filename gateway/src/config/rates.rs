//! Rate limits, daily token budgets, the token lifetime policy and revocation
//! settings: how they are spelled in the environment and what they default
//! to.
//!
//! A rate is written `<count>/<unit>[,burst=<n>]` (`20/min,burst=20`), with
//! unit `s`, `min`, `h` or `day`; `off` turns the limit off. Per-system
//! overrides follow the upstream variables' pattern:
//! `CHAT_GATEWAY_<SYSTEM>_RATE_USER` and `CHAT_GATEWAY_<SYSTEM>_RATE_API_KEY`,
//! `SYSTEM` being the system id as [`system_env_key`](super::system_env_key)
//! spells it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::{ConfigError, EnvVars};

/// The user rate when `CHAT_GATEWAY_RATE_USER` is unset.
pub(super) const DEFAULT_RATE_USER: &str = "20/min,burst=20";
/// The API-key rate when `CHAT_GATEWAY_RATE_API_KEY` is unset.
pub(super) const DEFAULT_RATE_API_KEY: &str = "600/min,burst=120";
/// The token-minting rate per client address when
/// `CHAT_GATEWAY_RATE_TOKEN_MINT` is unset.
pub(super) const DEFAULT_RATE_TOKEN_MINT: &str = "30/min,burst=10";

/// A rate: `count` events per `period`, with up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per period, on average.
    pub count: u32,
    /// The period.
    pub period: Duration,
    /// Events allowed in a row after a quiet time.
    pub burst: u32,
}

impl Rate {
    /// Parse `20/min,burst=20` (`None` for `off`). `var` names the variable
    /// in errors.
    pub fn parse(var: &str, raw: &str) -> Result<Option<Self>, ConfigError> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || {
            ConfigError(format!(
                "{var}={raw:?}: expected <count>/<s|min|h|day>[,burst=<n>] (like 20/min,burst=20) or off"
            ))
        };
        let mut parts = raw.split(',').map(str::trim);
        let (count, unit) = parts
            .next()
            .and_then(|r| r.split_once('/'))
            .ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        let mut burst = count;
        for part in parts {
            match part.split_once('=') {
                Some((name, value)) if name.trim() == "burst" => {
                    burst = value.trim().parse().map_err(|_| bad())?;
                }
                _ => return Err(bad()),
            }
        }
        if count == 0 || burst == 0 {
            return Err(ConfigError(format!(
                "{var}={raw:?}: count and burst must be > 0 (write off to turn the limit off)"
            )));
        }
        Ok(Some(Self {
            count,
            period,
            burst,
        }))
    }

    /// The period in whole seconds (for `RateLimit-Policy`'s `w`).
    pub fn window_secs(&self) -> u64 {
        self.period.as_secs()
    }
}

/// Rate limits (per replica).
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    /// Turns per end user (`CHAT_GATEWAY_RATE_USER`).
    pub user: Option<Rate>,
    /// Turns per API key (`CHAT_GATEWAY_RATE_API_KEY`).
    pub api_key: Option<Rate>,
    /// Chat tokens minted per client address (`CHAT_GATEWAY_RATE_TOKEN_MINT`).
    pub token_mint: Option<Rate>,
    /// Per-system overrides of `user` and `api_key`, keyed by
    /// [`system_env_key`](super::system_env_key); an inner `None` turns the
    /// limit off for that system.
    pub per_system: BTreeMap<String, SystemRates>,
    /// Proxies whose `X-Forwarded-For` is believed
    /// (`CHAT_GATEWAY_TRUSTED_PROXIES`); empty: the peer address is the
    /// client's.
    pub trusted_proxies: Vec<IpAddr>,
}

/// One system's overrides; `None` keeps the global rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemRates {
    /// `CHAT_GATEWAY_<SYSTEM>_RATE_USER`.
    pub user: Option<Option<Rate>>,
    /// `CHAT_GATEWAY_<SYSTEM>_RATE_API_KEY`.
    pub api_key: Option<Option<Rate>>,
}

/// Daily token budgets (counted in the database, so shared by replicas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budgets {
    /// Tokens per system per UTC day (`CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_SYSTEM`).
    pub system_per_day: Option<u64>,
    /// Tokens per end user per UTC day (`CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_USER`).
    pub user_per_day: Option<u64>,
}

/// Read the rate limits.
pub(super) fn rate_limits(vars: &EnvVars) -> Result<RateLimits, ConfigError> {
    let global = |var: &str, default: &str| {
        let raw = vars.get_nonempty(var).unwrap_or_else(|| default.to_owned());
        Rate::parse(var, &raw)
    };
    let mut per_system: BTreeMap<String, SystemRates> = BTreeMap::new();
    for (name, value) in vars.iter() {
        let user = name
            .strip_prefix("CHAT_GATEWAY_")
            .and_then(|rest| rest.strip_suffix("_RATE_USER"));
        let api_key = name
            .strip_prefix("CHAT_GATEWAY_")
            .and_then(|rest| rest.strip_suffix("_RATE_API_KEY"));
        let (system, is_user) = match (user, api_key) {
            (Some(system), _) => (system, true),
            (None, Some(system)) => (system, false),
            (None, None) => continue,
        };
        if system.is_empty() || value.trim().is_empty() {
            continue;
        }
        let rate = Rate::parse(name, value)?;
        let entry = per_system.entry(system.to_owned()).or_default();
        if is_user {
            entry.user = Some(rate);
        } else {
            entry.api_key = Some(rate);
        }
    }
    let trusted_proxies = vars
        .get("CHAT_GATEWAY_TRUSTED_PROXIES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>().map_err(|_| {
                ConfigError(format!(
                    "CHAT_GATEWAY_TRUSTED_PROXIES: {s:?} is not an IP address"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(RateLimits {
        user: global("CHAT_GATEWAY_RATE_USER", DEFAULT_RATE_USER)?,
        api_key: global("CHAT_GATEWAY_RATE_API_KEY", DEFAULT_RATE_API_KEY)?,
        token_mint: global("CHAT_GATEWAY_RATE_TOKEN_MINT", DEFAULT_RATE_TOKEN_MINT)?,
        per_system,
        trusted_proxies,
    })
}

/// Read the daily token budgets (`off`, blank or unset: no budget).
pub(super) fn budgets(vars: &EnvVars) -> Result<Budgets, ConfigError> {
    let budget = |var: &str| match vars.get_nonempty(var) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("off") => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(ConfigError(format!(
                "{var}={v:?}: expected a whole number of tokens > 0, or off"
            ))),
        },
    };
    Ok(Budgets {
        system_per_day: budget("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_SYSTEM")?,
        user_per_day: budget("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_USER")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(raw: &str) -> Result<Option<Rate>, ConfigError> {
        Rate::parse("X", raw)
    }

    #[test]
    fn rates_parse_with_and_without_burst() {
        assert_eq!(
            rate("20/min,burst=5").unwrap(),
            Some(Rate {
                count: 20,
                period: Duration::from_secs(60),
                burst: 5
            })
        );
        assert_eq!(
            rate(" 3/s ").unwrap(),
            Some(Rate {
                count: 3,
                period: Duration::from_secs(1),
                burst: 3
            })
        );
        assert_eq!(rate("OFF").unwrap(), None);
        for bad in [
            "",
            "20",
            "20/week",
            "0/min",
            "5/min,burst=0",
            "5/min,bust=2",
            "x/min",
        ] {
            assert!(rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn defaults_are_on_and_systems_override() {
        let vars = EnvVars::from_pairs([
            ("CHAT_GATEWAY_MY_APP_RATE_USER", "off"),
            ("CHAT_GATEWAY_OTHER_RATE_API_KEY", "5/s"),
            ("CHAT_GATEWAY_TRUSTED_PROXIES", "10.0.0.1, ::1"),
        ]);
        let limits = rate_limits(&vars).unwrap();
        assert_eq!(limits.user.map(|r| (r.count, r.burst)), Some((20, 20)));
        assert_eq!(limits.api_key.map(|r| (r.count, r.burst)), Some((600, 120)));
        assert!(limits.token_mint.is_some());
        assert_eq!(limits.per_system["MY_APP"].user, Some(None));
        assert_eq!(limits.per_system["MY_APP"].api_key, None);
        assert_eq!(
            limits.per_system["OTHER"]
                .api_key
                .flatten()
                .map(|r| r.count),
            Some(5)
        );
        assert_eq!(limits.trusted_proxies.len(), 2);
        let bad = EnvVars::from_pairs([("CHAT_GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8")]);
        assert!(rate_limits(&bad).is_err());
    }

    #[test]
    fn budgets_are_off_unless_set() {
        assert_eq!(budgets(&EnvVars::default()).unwrap(), Budgets::default());
        let vars = EnvVars::from_pairs([("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_USER", "5000")]);
        assert_eq!(budgets(&vars).unwrap().user_per_day, Some(5000));
        let vars = EnvVars::from_pairs([("CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_SYSTEM", "-1")]);
        assert!(budgets(&vars).is_err());
    }
}
