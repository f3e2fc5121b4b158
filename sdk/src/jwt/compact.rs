//! The compact form of an HS256 token,
//! `base64url(header).base64url(claims).base64url(HMAC-SHA256)`, written and
//! read with `hmac` + `sha2` alone.
//!
//! Invariants: only `alg: HS256` is read (`none` and every other algorithm
//! are refused before the signature is looked at); the signature is compared
//! in constant time and checked before the claims are decoded; base64url is
//! read strictly (no padding, no stray bits), as the JWS spec writes it; a
//! `crit` header is refused (no extension is understood).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::JwtError;

/// The header of every token minted here.
const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// Sign `claims` with `secret`: the whole token.
pub(super) fn sign(secret: &[u8], claims: &impl Serialize) -> Result<String, JwtError> {
    let payload = serde_json::to_vec(claims).map_err(|e| JwtError::Signing(e.to_string()))?;
    let mut token = URL_SAFE_NO_PAD.encode(HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let mac = keyed(secret)
        .map_err(|()| JwtError::Signing("the secret cannot key HMAC-SHA256".into()))?
        .chain_update(token.as_bytes())
        .finalize()
        .into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(mac, &mut token);
    Ok(token)
}

/// Check the form, the algorithm and the signature of `token`, and return
/// its claims (not yet checked).
pub(super) fn open(secret: &[u8], token: &str) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a token has three parts separated by dots"));
    };
    let header = json_object(header, "header")?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(Value::String(_)) => return Err(malformed("only HS256 tokens are accepted")),
        _ => return Err(malformed("the header has no algorithm")),
    }
    // RFC 7515 §4.1.11: extensions listed in `crit` must be understood, and
    // this reader understands none. An empty or ill-formed list is refused
    // too.
    if let Some(crit) = header.get("crit") {
        let names = match crit {
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", "),
            _ => return Err(malformed("crit must be a non-empty list of names")),
        };
        return Err(JwtError::UnknownCritical(names));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("the signature is not base64url"))?;
    let signed_len = header_len(token, payload);
    keyed(secret)
        .map_err(|()| JwtError::BadSignature)?
        .chain_update(&token.as_bytes()[..signed_len])
        .verify_slice(&signature)
        .map_err(|_| JwtError::BadSignature)?;
    json_object(payload, "claims")
}

/// Length of `header.payload`, the signed part of `token`.
fn header_len(token: &str, payload: &str) -> usize {
    token.find('.').map_or(0, |dot| dot + 1 + payload.len())
}

fn keyed(secret: &[u8]) -> Result<Hmac<Sha256>, ()> {
    // HMAC takes keys of any length; the error cannot happen.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| ())
}

fn json_object(part: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(format!("the {what} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| JwtError::Malformed(format!("the {what} is not a JSON object")))
}

fn malformed(reason: &str) -> JwtError {
    JwtError::Malformed(reason.to_owned())
}
