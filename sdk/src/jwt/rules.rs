//! The rules on the claims of a token whose signature is good: what
//! [`Verifier`](super::Verifier) checks after [`compact`](super::compact)
//! opened the token.

use serde_json::{Map, Value};

use super::{JwtError, unix_now};

/// What [`check`] holds a token to.
pub(super) struct Policy<'a> {
    pub(super) leeway_secs: u64,
    pub(super) max_lifetime_secs: u64,
    pub(super) issuer: Option<&'a str>,
    pub(super) audience: Option<&'a str>,
}

/// Check `claims` in this order: required claims (`exp`, then `iss` and `aud` when configured),
/// `exp`, `nbf` and `iat` against the clock with the leeway, the lifetime,
/// then `iss` and `aud` values.
pub(super) fn check(claims: &Map<String, Value>, policy: &Policy<'_>) -> Result<(), JwtError> {
    let Policy {
        leeway_secs,
        max_lifetime_secs,
        issuer,
        audience,
    } = *policy;
    let exp = numeric_date(claims.get("exp")).ok_or(JwtError::MissingClaim("exp"))?;
    let iss = issuer
        .map(|expected| names(claims.get("iss"), expected).ok_or(JwtError::WrongIssuer))
        .transpose()?;
    let aud = audience
        .map(|expected| names(claims.get("aud"), expected).ok_or(JwtError::WrongAudience))
        .transpose()?;
    let nbf = optional_date(claims, "nbf")?;
    let iat = optional_date(claims, "iat")?;
    let now = u64::try_from(unix_now()).unwrap_or(0);
    if exp < now.saturating_sub(leeway_secs) {
        return Err(JwtError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway_secs)) {
        return Err(JwtError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway_secs)) {
        return Err(JwtError::IssuedInFuture);
    }
    if exp.saturating_sub(iat.unwrap_or(now)) > max_lifetime_secs {
        return Err(JwtError::LifetimeTooLong {
            max_secs: max_lifetime_secs,
        });
    }
    if iss == Some(false) {
        return Err(JwtError::WrongIssuer);
    }
    if aud == Some(false) {
        return Err(JwtError::WrongAudience);
    }
    Ok(())
}

/// The NumericDate claim `name`, when present.
fn optional_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        some => numeric_date(some)
            .map(Some)
            .ok_or_else(|| JwtError::Malformed(format!("{name} is not a NumericDate"))),
    }
}

/// A NumericDate as the JWT spec reads it: a non-negative integer, or a
/// finite non-negative number rounded to whole seconds.
fn numeric_date(value: Option<&Value>) -> Option<u64> {
    let Some(Value::Number(n)) = value else {
        return None;
    };
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// Whether `value` (an `iss` or `aud` claim: one string or a list of them)
/// names `expected`. `None` when the claim is absent or of another shape.
fn names(value: Option<&Value>, expected: &str) -> Option<bool> {
    match value? {
        Value::String(s) => Some(s == expected),
        Value::Array(items) => {
            let mut found = false;
            for item in items {
                found |= item.as_str()? == expected;
            }
            Some(found)
        }
        _ => None,
    }
}
