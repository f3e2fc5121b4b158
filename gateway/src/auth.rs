//! Who is calling, and on whose behalf.
//!
//! Two kinds of callers:
//! - **end users** send `Authorization: Bearer <chat token>`; the token names
//!   the system and user, and a request may not claim anyone else (403);
//! - **servers** send `X-API-Key`; they name the end user in the body or the
//!   query. Keys are compared in constant time (as SHA-256 digests, so the
//!   comparison does not leak lengths either). With no keys configured,
//!   API-key auth is off and every key is refused: the seed accepted any key.
//!
//! A bearer token wins over an API key when both are sent (as in the seed).
//! Every identity, however it arrives, passes the system check: a system
//! created at runtime must be enabled (403 `system_disabled`), any other
//! must be in `ALLOWED_SYSTEM_IDS` when that is set.
//!
//! Keys come in two kinds: the root keys of `CHAT_GATEWAY_API_KEY` (every
//! permission, every system) and scoped `tzk_` keys created by admins
//! ([`crate::operators::keys`]). Either way a server caller holds a
//! [`Grant`], and each route checks the permission it needs
//! ([`Caller::require`], [`ServerKey::require`]) and the system it acts for
//! (403 `forbidden`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::directory::{Directory, SystemStatus};
use crate::error::ApiError;
use crate::identity::{Identity, SystemId, UserId};
use crate::revocation::{Revocable, Revocations};
use crate::scope::{Grant, Permission};
use sdk::jwt::{ChatClaims, JwtError, Signer, Verifier};

/// Header carrying a server's API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The configured API keys, kept only as digests.
#[derive(Clone, Default)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.digests.len())
    }
}

impl ApiKeys {
    /// Digest `keys`.
    pub fn new(keys: &[String]) -> Self {
        Self {
            digests: keys.iter().map(|k| digest(k)).collect(),
        }
    }

    /// Whether `presented` is one of the keys. Always compares against every
    /// key, in constant time.
    pub fn verify(&self, presented: &str) -> bool {
        matches_any(&self.digests, &digest(presented)).into()
    }
}

/// Whether `presented` is one of `digests`: every digest is compared with
/// `subtle`, and the answer stays a [`subtle::Choice`] (no early exit) until
/// the caller turns it into a `bool`.
fn matches_any(digests: &[[u8; 32]], presented: &[u8; 32]) -> subtle::Choice {
    let mut found = subtle::Choice::from(0);
    for key in digests {
        found |= key.ct_eq(presented);
    }
    found
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Which API key a request used, as its SHA-256 digest: what per-key rate
/// limits count by. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// The id of `key` (whether or not it is a valid key).
    pub fn of(key: &str) -> Self {
        Self(digest(key))
    }

    /// The id of the request's `X-API-Key`, or else of its bearer (the
    /// OpenAI-compatible door's way to send a key). Ask only once the key
    /// was verified.
    pub fn presented(headers: &HeaderMap) -> Option<Self> {
        headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .or_else(|| bearer_token(headers))
            .map(Self::of)
    }

    /// The digest, for scoping what belongs to one key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyId(<redacted>)")
    }
}

/// Everything needed to authenticate requests and mint tokens.
pub struct Auth {
    api_keys: ApiKeys,
    verifier: Verifier,
    signer: Signer,
    allowlist: Option<HashSet<String>>,
    /// Systems created at runtime (replaced by the catalog when they change).
    directory: Directory,
    issuer: Option<String>,
    audience: Option<String>,
    /// Revoked tokens, as this replica last loaded them.
    revocations: Arc<Revocations>,
    /// Seconds the token clock runs ahead of the system clock (tests only
    /// move it, through [`Auth::advance_clock`]).
    clock_ahead: AtomicI64,
}

impl Auth {
    pub fn from_config(config: &Config) -> Result<Self, JwtError> {
        let mut verifier =
            Verifier::new(&config.jwt.secret).with_max_lifetime(config.jwt.max_lifetime);
        if let Some(iss) = &config.jwt.issuer {
            verifier = verifier.with_issuer(iss);
        }
        if let Some(aud) = &config.jwt.audience {
            verifier = verifier.with_audience(aud);
        }
        Ok(Self {
            api_keys: ApiKeys::new(&config.api_keys),
            verifier,
            signer: Signer::new(&config.jwt.secret)?,
            allowlist: config.allowed_system_ids.clone(),
            directory: Directory::default(),
            issuer: config.jwt.issuer.clone(),
            audience: config.jwt.audience.clone(),
            revocations: Arc::new(Revocations::default()),
            clock_ahead: AtomicI64::new(0),
        })
    }

    /// Check a system: a runtime one must be enabled; any other must be in
    /// `ALLOWED_SYSTEM_IDS` (when set).
    pub fn check_allowed(&self, system: &SystemId) -> Result<(), ApiError> {
        match self.directory.status(system) {
            SystemStatus::Disabled => return Err(ApiError::SystemDisabled),
            SystemStatus::Enabled => return Ok(()),
            SystemStatus::Unknown => {}
        }
        match &self.allowlist {
            Some(list) if !list.contains(system.as_str()) => Err(ApiError::SystemNotAllowed),
            _ => Ok(()),
        }
    }

    /// The systems created at runtime, as checked here.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Whether `ALLOWED_SYSTEM_IDS` (when set) lists `system`.
    pub fn env_allows(&self, system: &str) -> bool {
        self.allowlist
            .as_ref()
            .is_none_or(|list| list.contains(system))
    }

    /// Verify a chat token and return the identity it names.
    pub fn verify_token(&self, token: &str) -> Result<Identity, ApiError> {
        self.verify_caller(token).map(|(identity, _)| identity)
    }

    /// [`Self::verify_token`], also returning the agent the token pins, if
    /// any.
    pub fn verify_caller(&self, token: &str) -> Result<(Identity, Option<String>), ApiError> {
        self.verify_revocable(token)
            .map(|(identity, pinned, _)| (identity, pinned))
    }

    /// [`Self::verify_caller`], also returning what can revoke the token
    /// later (an open WebSocket watches it).
    pub fn verify_revocable(
        &self,
        token: &str,
    ) -> Result<(Identity, Option<String>, Revocable), ApiError> {
        let claims = self.verifier.verify(token)?;
        let ahead = self.clock_ahead.load(Ordering::Relaxed);
        if ahead > 0 {
            let now = time::OffsetDateTime::now_utc().unix_timestamp() + ahead;
            let leeway = i64::try_from(Verifier::DEFAULT_LEEWAY_SECS).unwrap_or(i64::MAX);
            if claims.exp.saturating_add(leeway) < now {
                return Err(ApiError::Token(JwtError::Expired));
            }
        }
        let identity = Identity::parse(&claims.system_id, &claims.user_id)
            .map_err(|e| ApiError::Token(JwtError::Malformed(e.to_string())))?;
        if self
            .revocations
            .refuses(&identity, claims.jti.as_deref(), claims.iat)
        {
            return Err(ApiError::TokenRevoked);
        }
        self.check_allowed(&identity.system)?;
        let revocable = Revocable {
            identity: identity.clone(),
            jti: claims.jti,
            iat: claims.iat,
        };
        Ok((identity, claims.agent.filter(|a| !a.is_empty()), revocable))
    }

    /// The revoked tokens this replica honours (refreshed from the store by
    /// [`crate::revocation::refresh`]).
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.revocations
    }

    /// Check tokens from now on as if the clock were `by` later: lets a test
    /// expire a token at the moment it chooses instead of waiting for it.
    pub fn advance_clock(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.clock_ahead.fetch_add(secs, Ordering::Relaxed);
    }

    /// Mint a chat token for `who`, valid for `ttl`.
    pub fn mint(
        &self,
        who: &Identity,
        ttl: std::time::Duration,
    ) -> Result<(String, i64), ApiError> {
        self.mint_pinned(who, ttl, None)
    }

    /// [`Self::mint`], pinned to `agent` when given.
    pub fn mint_pinned(
        &self,
        who: &Identity,
        ttl: std::time::Duration,
        agent: Option<&str>,
    ) -> Result<(String, i64), ApiError> {
        let mut claims = ChatClaims::new(who.system.as_str(), who.user.as_str(), ttl);
        claims.agent = agent.map(str::to_owned);
        if let Some(iss) = &self.issuer {
            claims = claims.with_issuer(iss.clone());
        }
        if let Some(aud) = &self.audience {
            claims = claims.with_audience(aud.clone());
        }
        let token = self
            .signer
            .sign(&claims)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok((token, claims.exp))
    }

    /// Whether `key` is one of the API keys (for doors where a key arrives
    /// elsewhere than `X-API-Key`, as OpenAI clients send it as a bearer).
    pub fn is_api_key(&self, key: &str) -> bool {
        self.api_keys.verify(key)
    }

    /// The request's API key, if it sends one (`Err` when it is not
    /// text, which no key is).
    pub fn presented_key(headers: &HeaderMap) -> Option<Result<&str, ApiError>> {
        let key = headers.get(API_KEY_HEADER)?;
        Some(key.to_str().map_err(|_| ApiError::InvalidApiKey))
    }
}

/// The bearer token of a request, if it uses the Bearer scheme.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// An authenticated caller of the `/v1` API (extracted from a request in
/// [`crate::extract`]).
#[derive(Debug, Clone)]
pub enum Caller {
    /// An end user with a chat token, and the agent it pins, if any.
    User(Identity, Option<String>),
    /// A server with a valid API key, and what the key may do.
    Server(Grant),
}

impl Caller {
    /// The end user a request is about. With a chat token, `system_id` and
    /// `user_id` may be left out and must match when given; with an API key
    /// both are required. Empty strings count as left out.
    pub fn identity(
        &self,
        auth: &Auth,
        system_id: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<Identity, ApiError> {
        let system_id = system_id.filter(|s| !s.is_empty());
        let user_id = user_id.filter(|s| !s.is_empty());
        match self {
            Caller::User(identity, _) => {
                let system_matches = system_id
                    .is_none_or(|s| SystemId::parse(s).is_ok_and(|s| s == identity.system));
                let user_matches =
                    user_id.is_none_or(|u| UserId::parse(u).is_ok_and(|u| u == identity.user));
                if system_matches && user_matches {
                    Ok(identity.clone())
                } else {
                    Err(ApiError::IdentityMismatch)
                }
            }
            Caller::Server(grant) => {
                let (Some(system_id), Some(user_id)) = (system_id, user_id) else {
                    return Err(ApiError::BadRequest(
                        "system_id and user_id required in body or query when using API key".into(),
                    ));
                };
                let identity = Identity::parse(system_id, user_id)
                    .map_err(|e| ApiError::Validation(e.to_string()))?;
                auth.check_allowed(&identity.system)?;
                check_system(grant, identity.system.as_str())?;
                Ok(identity)
            }
        }
    }

    /// 403 unless a server caller's key holds `permission`. End users pass:
    /// what a chat token allows is decided by the route.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        match self {
            Caller::User(..) => Ok(()),
            Caller::Server(grant) => require(grant, permission),
        }
    }
}

fn require(grant: &Grant, permission: Permission) -> Result<(), ApiError> {
    if grant.allows(permission) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this API key lacks the {permission} permission"
        )))
    }
}

fn check_system(grant: &Grant, system: &str) -> Result<(), ApiError> {
    if grant.systems.covers(system) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this API key may not act for system {system:?}"
        )))
    }
}

impl Caller {
    /// The agent a request is for: the one it names, or the one the chat
    /// token pins. Naming another than the pinned one is refused.
    pub fn agent(&self, named: Option<String>) -> Result<Option<String>, ApiError> {
        match (self, named) {
            (Caller::User(_, Some(pinned)), Some(named)) if *pinned != named => {
                Err(ApiError::IdentityMismatch)
            }
            (Caller::User(_, Some(pinned)), _) => Ok(Some(pinned.clone())),
            (_, named) => Ok(named),
        }
    }
}

/// A server caller: the request must carry a valid `X-API-Key` (bearer
/// tokens are not enough). Used by token minting, sync and operator reads
/// (extracted from a request in [`crate::extract`]).
#[derive(Debug, Clone)]
pub struct ServerKey(pub Grant);

impl ServerKey {
    /// 403 unless the key holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        require(&self.0, permission)
    }

    /// 403 unless the key holds `permission` for `system`.
    pub fn require_for(&self, permission: Permission, system: &str) -> Result<(), ApiError> {
        require(&self.0, permission)?;
        check_system(&self.0, system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_verify_in_full_only() {
        let keys = ApiKeys::new(&["alpha-key".into(), "beta-key".into()]);
        assert!(keys.verify("alpha-key"));
        assert!(keys.verify("beta-key"));
        assert!(!keys.verify("alpha"));
        assert!(!keys.verify("alpha-key "));
        assert!(!keys.verify(""));
        assert!(!format!("{keys:?}").contains("alpha"));
    }

    #[test]
    fn keys_are_compared_as_equal_length_digests_through_subtle() {
        let keys = [digest("alpha-key"), digest("beta-key")];
        // The type is the point: a `Choice` comes only from `subtle`.
        let choice: subtle::Choice = matches_any(&keys, &digest("beta-key"));
        assert_eq!(choice.unwrap_u8(), 1, "equal");
        assert_eq!(matches_any(&keys, &digest("alpha-key")).unwrap_u8(), 1);
        assert_eq!(
            matches_any(&keys, &digest("beta-kez")).unwrap_u8(),
            0,
            "unequal, same length"
        );
        assert_eq!(
            matches_any(&keys, &digest("beta")).unwrap_u8(),
            0,
            "shorter"
        );
        assert_eq!(
            matches_any(&keys, &digest("beta-key-2")).unwrap_u8(),
            0,
            "longer"
        );
        assert_eq!(matches_any(&[], &digest("")).unwrap_u8(), 0, "no keys");
        // Whatever a key's length, what is compared has the same length.
        assert_eq!(digest("").len(), digest(&"k".repeat(4096)).len());
    }

    #[test]
    fn no_keys_means_every_key_is_refused() {
        let keys = ApiKeys::new(&[]);
        assert!(!keys.verify(""));
        assert!(!keys.verify("anything"));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
