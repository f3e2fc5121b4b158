//! Signing in and out of `/admin`: server-side sessions in the database
//! (so every replica sees a logout), failed-login throttling, and the
//! session cookie.
//!
//! - The cookie carries a random session id; the database keeps only its
//!   SHA-256, so a copy of the table cannot be replayed as cookies.
//! - Every sign-in creates a new session id (an id planted before sign-in
//!   is never promoted), and ends the session the browser sent, if any.
//! - A session ends after [`SessionLifetimes::idle`] without a request and
//!   [`SessionLifetimes::absolute`] after sign-in. `last_seen_at` is written
//!   at most once per [`TOUCH_EVERY`], not on every request.
//! - After [`MAX_FAILURES`] failed sign-ins within [`WINDOW`] for one
//!   account, or from one address, sign-in answers 429 with `Retry-After`
//!   until the oldest of them leaves the window. An unknown account and a
//!   wrong password get the same answer, after the same work (a dummy hash
//!   is verified for an unknown account).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use time::OffsetDateTime;

use super::keys::digest;
use super::passwords;
use crate::config::SessionLifetimes;
use crate::store::operators::{OperatorRecord, SessionRecord};
use crate::store::{Store, StoreError};

/// Failed sign-ins allowed per account and per address within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// How far back failed sign-ins count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How stale `last_seen_at` may get before a request writes it.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The session cookie's name over HTTPS: `__Host-` makes browsers insist on
/// `Secure`, `Path=/` and no `Domain`.
pub const SECURE_COOKIE: &str = "__Host-tzc_admin";
/// The session cookie's name over plain HTTP (local development).
pub const PLAIN_COOKIE: &str = "tzc_admin";
/// The header carrying the CSRF token on state-changing admin calls.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The query parameter carrying it on HTML form posts.
pub const CSRF_QUERY: &str = "csrf";

/// How a sign-in went.
#[derive(Debug)]
pub enum Login {
    /// Signed in: the cookie value and the session's CSRF token.
    Success {
        cookie_value: String,
        csrf_token: String,
        operator: OperatorRecord,
    },
    /// Wrong email or password (the same for both).
    Refused,
    /// Too many failures; try again after this many seconds.
    Throttled { retry_after: u64 },
}

/// The cookie settings for a gateway at `public_url`.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    pub fn for_public_url(public_url: &str) -> Self {
        Self {
            secure: public_url.starts_with("https://"),
        }
    }

    pub fn name(self) -> &'static str {
        if self.secure {
            SECURE_COOKIE
        } else {
            PLAIN_COOKIE
        }
    }

    /// `Set-Cookie` for a new session lasting at most `max_age`.
    pub fn set(self, value: &str, max_age: Duration) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age={}",
            self.name(),
            max_age.as_secs()
        ))
        .ok()
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear(self) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age=0",
            self.name()
        ))
        .unwrap_or(HeaderValue::from_static(""))
    }

    /// The session cookie's value in `headers`.
    pub fn read(self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// The form an email is stored and compared in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Seconds until the oldest counted failure leaves the window.
fn retry_after(oldest: Option<OffsetDateTime>, now: OffsetDateTime) -> u64 {
    let window = time::Duration::try_from(WINDOW).unwrap_or(time::Duration::MINUTE);
    let free_at = oldest.unwrap_or(now) + window;
    u64::try_from((free_at - now).whole_seconds())
        .unwrap_or(0)
        .max(1)
}

/// Try to sign in. `previous` is the session cookie the browser sent, if
/// any: it ends whatever the outcome of a successful sign-in.
pub async fn login(
    store: &dyn Store,
    email: &str,
    password: &str,
    address: &str,
    previous: Option<&str>,
    now: OffsetDateTime,
) -> Result<Login, StoreError> {
    let email = normalize_email(email);
    let window = time::Duration::try_from(WINDOW).unwrap_or(time::Duration::MINUTE);
    let failures = store.login_failures(&email, address, now - window).await?;
    if failures.account >= MAX_FAILURES || failures.address >= MAX_FAILURES {
        let oldest = match (
            failures.account >= MAX_FAILURES,
            failures.address >= MAX_FAILURES,
        ) {
            (true, true) => failures.account_oldest.max(failures.address_oldest),
            (true, false) => failures.account_oldest,
            _ => failures.address_oldest,
        };
        return Ok(Login::Throttled {
            retry_after: retry_after(oldest, now),
        });
    }
    let operator = store.find_operator(&email).await?;
    let password = password.to_owned();
    let stored = operator.as_ref().map(|o| o.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => passwords::verify(&password, &hash),
        None => {
            passwords::verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(operator) = operator.filter(|_| matches) else {
        store.record_login_failure(&email, address, now).await?;
        return Ok(Login::Refused);
    };
    store.clear_login_failures(&email).await?;
    if let Some(previous) = previous {
        store.end_session(&digest(previous)).await?;
    }
    let cookie_value = crate::secrets::session_token();
    let csrf_token = crate::secrets::session_token();
    store
        .create_session(&SessionRecord {
            id_hash: digest(&cookie_value),
            operator_id: operator.id.clone(),
            csrf_token: csrf_token.clone(),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    Ok(Login::Success {
        cookie_value,
        csrf_token,
        operator,
    })
}

/// The live session named by a cookie value, with its operator. An expired
/// session is ended and gives `None`.
pub async fn resolve(
    store: &dyn Store,
    cookie_value: &str,
    lifetimes: SessionLifetimes,
    now: OffsetDateTime,
) -> Result<Option<(SessionRecord, OperatorRecord)>, StoreError> {
    let id_hash = digest(cookie_value);
    let Some((session, operator)) = store.find_session(&id_hash).await? else {
        return Ok(None);
    };
    let idle = time::Duration::try_from(lifetimes.idle).unwrap_or(time::Duration::ZERO);
    let absolute = time::Duration::try_from(lifetimes.absolute).unwrap_or(time::Duration::ZERO);
    if session.last_seen_at + idle <= now || session.created_at + absolute <= now {
        store.end_session(&id_hash).await?;
        return Ok(None);
    }
    let touch = time::Duration::try_from(TOUCH_EVERY.min(lifetimes.idle / 10))
        .unwrap_or(time::Duration::ZERO);
    if now - session.last_seen_at >= touch {
        store.touch_session(&id_hash, now).await?;
    }
    Ok(Some((session, operator)))
}

/// End the session named by a cookie value; `false` when there was none.
pub async fn logout(store: &dyn Store, cookie_value: &str) -> Result<bool, StoreError> {
    store.end_session(&digest(cookie_value)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::{Role, accounts};

    const PASSWORD: &str = "a long enough password";

    fn lifetimes() -> SessionLifetimes {
        SessionLifetimes {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(8 * 3600),
        }
    }

    async fn signed_in(store: &dyn Store, now: OffsetDateTime) -> String {
        accounts::add(store, "ada@example.com", Role::Admin, None, PASSWORD)
            .await
            .unwrap();
        match login(store, "ada@example.com", PASSWORD, "10.0.0.1", None, now)
            .await
            .unwrap()
        {
            Login::Success { cookie_value, .. } => cookie_value,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn sessions_end_when_idle_too_long() {
        let store = crate::store::open("sqlite::memory:").await.unwrap();
        let t0 = OffsetDateTime::now_utc();
        let cookie = signed_in(&*store, t0).await;
        let minutes = time::Duration::minutes;
        // Requests every 20 minutes keep it alive past the idle limit...
        for step in 1..=3 {
            let at = t0 + minutes(20 * step);
            assert!(
                resolve(&*store, &cookie, lifetimes(), at)
                    .await
                    .unwrap()
                    .is_some(),
                "{step}"
            );
        }
        // ...but 31 minutes of silence end it, for good.
        let late = t0 + minutes(60 + 31);
        assert!(
            resolve(&*store, &cookie, lifetimes(), late)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            resolve(&*store, &cookie, lifetimes(), t0 + minutes(61))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn sessions_end_at_the_absolute_limit_however_busy() {
        let store = crate::store::open("sqlite::memory:").await.unwrap();
        let t0 = OffsetDateTime::now_utc();
        let cookie = signed_in(&*store, t0).await;
        let mut at = t0;
        while at < t0 + time::Duration::hours(8) - time::Duration::minutes(10) {
            at += time::Duration::minutes(10);
            assert!(
                resolve(&*store, &cookie, lifetimes(), at)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        let over = t0 + time::Duration::hours(8);
        assert!(
            resolve(&*store, &cookie, lifetimes(), over)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn cookies_follow_the_public_url() {
        let plain = CookiePolicy::for_public_url("http://127.0.0.1:8080");
        let secure = CookiePolicy::for_public_url("https://chat.example.com");
        let set = secure.set("v", Duration::from_secs(60)).unwrap();
        assert_eq!(
            set.to_str().unwrap(),
            "__Host-tzc_admin=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=60"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tzc_admin=abc; b=2"),
        );
        assert_eq!(plain.read(&headers).as_deref(), Some("abc"));
        assert_eq!(
            secure.read(&headers),
            None,
            "the plain name is not the secure one"
        );
    }
}
