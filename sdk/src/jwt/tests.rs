use super::*;
use base64_url as b64;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn secret() -> JwtSecret {
    JwtSecret::new(SECRET)
}

/// Hand-build a token with any header and payload, signed with HS256.
fn forge(header: &str, payload: &str, key: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = b64::hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{sig}")
}

#[test]
fn round_trip() {
    let claims = ChatClaims::new("drillquiz", "12345", Duration::from_secs(60));
    let token = mint(&claims, &secret()).unwrap();
    assert_eq!(verify(&token, &secret()).unwrap(), claims);
}

#[test]
fn expired_beyond_leeway_is_refused_within_leeway_accepted() {
    let now = unix_now();
    let mut claims = ChatClaims::new("s", "u", Duration::ZERO);
    claims.exp = now - 10;
    let token = mint(&claims, &secret()).unwrap();
    assert!(
        verify(&token, &secret()).is_ok(),
        "10 s past exp is within leeway"
    );
    claims.exp = now - 120;
    let token = mint(&claims, &secret()).unwrap();
    assert_eq!(verify(&token, &secret()), Err(JwtError::Expired));
}

#[test]
fn missing_exp_is_refused() {
    let t = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"system_id":"s","user_id":"u"}"#,
        SECRET.as_bytes(),
    );
    assert_eq!(verify(&t, &secret()), Err(JwtError::MissingClaim("exp")));
}

#[test]
fn missing_or_empty_identity_claims_are_refused() {
    let exp = unix_now() + 60;
    for (payload, claim) in [
        (format!(r#"{{"user_id":"u","exp":{exp}}}"#), "system_id"),
        (format!(r#"{{"system_id":"s","exp":{exp}}}"#), "user_id"),
        (
            format!(r#"{{"system_id":"","user_id":"u","exp":{exp}}}"#),
            "system_id",
        ),
        (
            format!(r#"{{"system_id":"s","user_id":null,"exp":{exp}}}"#),
            "user_id",
        ),
    ] {
        let t = forge(r#"{"alg":"HS256"}"#, &payload, SECRET.as_bytes());
        assert_eq!(
            verify(&t, &secret()),
            Err(JwtError::MissingClaim(claim)),
            "{payload}"
        );
    }
}

#[test]
fn numeric_user_id_reads_as_string() {
    let exp = unix_now() + 60;
    let t = forge(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"system_id":"s","user_id":12345,"exp":{exp}}}"#),
        SECRET.as_bytes(),
    );
    assert_eq!(verify(&t, &secret()).unwrap().user_id, "12345");
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let exp = unix_now() + 60;
    let payload = format!(r#"{{"system_id":"s","user_id":"u","exp":{exp}}}"#);
    let none = format!(
        "{}.{}.",
        b64::encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64::encode(&payload)
    );
    assert!(matches!(
        verify(&none, &secret()),
        Err(JwtError::Malformed(_))
    ));
    let hs512 = forge(r#"{"alg":"HS512"}"#, &payload, SECRET.as_bytes());
    assert!(matches!(
        verify(&hs512, &secret()),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn wrong_secret_is_a_bad_signature() {
    let token = mint(
        &ChatClaims::new("s", "u", Duration::from_secs(60)),
        &secret(),
    )
    .unwrap();
    let other = JwtSecret::new("ffffffffffffffffffffffffffffffff");
    assert_eq!(verify(&token, &other), Err(JwtError::BadSignature));
}

#[test]
fn issuer_and_audience_are_enforced_when_configured() {
    let v = Verifier::new(&secret())
        .with_issuer("backend")
        .with_audience("tz-chat");
    let base = ChatClaims::new("s", "u", Duration::from_secs(60));
    let ok = mint(
        &base.clone().with_issuer("backend").with_audience("tz-chat"),
        &secret(),
    )
    .unwrap();
    assert!(v.verify(&ok).is_ok());
    let no_iss = mint(&base.clone().with_audience("tz-chat"), &secret()).unwrap();
    assert_eq!(v.verify(&no_iss), Err(JwtError::WrongIssuer));
    let bad_aud = mint(&base.with_issuer("backend").with_audience("x"), &secret()).unwrap();
    assert_eq!(v.verify(&bad_aud), Err(JwtError::WrongAudience));
}

#[test]
fn debug_never_shows_the_secret() {
    let s = secret();
    assert!(!format!("{s:?}").contains(SECRET));
    assert!(!format!("{:?}", Signer::new(&s).unwrap()).contains(SECRET));
}

#[test]
fn nbf_is_checked_with_the_leeway() {
    let now = unix_now();
    let token = |nbf: &str| {
        forge(
            r#"{"alg":"HS256"}"#,
            &format!(
                r#"{{"system_id":"s","user_id":"u","exp":{},"nbf":{nbf}}}"#,
                now + 600
            ),
            SECRET.as_bytes(),
        )
    };
    assert!(verify(&token(&(now + 10).to_string()), &secret()).is_ok());
    assert_eq!(
        verify(&token(&(now + 120).to_string()), &secret()),
        Err(JwtError::NotYetValid)
    );
    assert!(matches!(
        verify(&token(r#""soon""#), &secret()),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn the_leeway_can_be_changed() {
    let mut claims = ChatClaims::new("s", "u", Duration::ZERO);
    claims.exp = unix_now() - 90;
    let token = mint(&claims, &secret()).unwrap();
    assert_eq!(verify(&token, &secret()), Err(JwtError::Expired));
    let lenient = Verifier::new(&secret()).with_leeway(Duration::from_secs(120));
    assert_eq!(lenient.leeway(), Duration::from_secs(120));
    assert!(lenient.verify(&token).is_ok());
}

#[test]
fn audience_and_issuer_may_be_lists() {
    let exp = unix_now() + 60;
    let v = Verifier::new(&secret())
        .with_issuer("backend")
        .with_audience("tz-chat");
    let t = |iss: &str, aud: &str| {
        forge(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"system_id":"s","user_id":"u","exp":{exp},"iss":{iss},"aud":{aud}}}"#),
            SECRET.as_bytes(),
        )
    };
    let claims = v
        .verify(&t(r#"["x","backend"]"#, r#"["tz-chat","y"]"#))
        .unwrap();
    assert_eq!(claims.aud.as_deref(), Some("tz-chat"));
    assert_eq!(
        v.verify(&t(r#""backend""#, r#"["x","y"]"#)),
        Err(JwtError::WrongAudience)
    );
    assert_eq!(
        v.verify(&t(r#"["x"]"#, r#""tz-chat""#)),
        Err(JwtError::WrongIssuer)
    );
    assert_eq!(
        v.verify(&t("42", r#""tz-chat""#)),
        Err(JwtError::WrongIssuer),
        "an issuer that is not a string is no issuer"
    );
}

#[test]
fn tampering_and_bad_encodings_are_refused() {
    let token = mint(
        &ChatClaims::new("s", "u", Duration::from_secs(60)),
        &secret(),
    )
    .unwrap();
    let (head, rest) = token.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let other = b64::encode(r#"{"system_id":"s","user_id":"admin","exp":9999999999}"#);
    assert_eq!(
        verify(&format!("{head}.{other}.{sig}"), &secret()),
        Err(JwtError::BadSignature)
    );
    for bad in [
        format!("{token}.x"),
        format!("{token}="),
        format!("{head}.{rest}").replacen('.', "..", 1),
        String::new(),
    ] {
        assert!(
            matches!(verify(&bad, &secret()), Err(JwtError::Malformed(_))),
            "{bad}"
        );
    }
    let not_json = forge(r#"{"alg":"HS256"}"#, "[1,2]", SECRET.as_bytes());
    assert!(matches!(
        verify(&not_json, &secret()),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn minted_tokens_keep_their_header() {
    let token = mint(
        &ChatClaims::new("s", "u", Duration::from_secs(60)),
        &secret(),
    )
    .unwrap();
    let head = token.split('.').next().unwrap();
    assert_eq!(head, b64::encode(r#"{"typ":"JWT","alg":"HS256"}"#));
    let expected = forge(
        r#"{"typ":"JWT","alg":"HS256"}"#,
        &serde_json::to_string(&verify(&token, &secret()).unwrap()).unwrap(),
        SECRET.as_bytes(),
    );
    assert_eq!(token, expected, "signed as any HS256 library would");
}

#[test]
fn minted_tokens_carry_distinct_ids() {
    let a = ChatClaims::new("s", "u", Duration::from_secs(60));
    let b = ChatClaims::new("s", "u", Duration::from_secs(60));
    let (ja, jb) = (a.jti.clone().unwrap(), b.jti.clone().unwrap());
    assert_ne!(ja, jb);
    assert!(
        ja.len() == 32 && ja.chars().all(|c| c.is_ascii_hexdigit()),
        "{ja}"
    );
    let token = mint(&a, &secret()).unwrap();
    assert_eq!(verify(&token, &secret()).unwrap().jti, Some(ja));
}

#[test]
fn lifetime_beyond_the_maximum_is_refused() {
    let now = unix_now();
    let day = 86_400;
    let token = |iat: Option<i64>, exp: i64| {
        let iat = iat.map(|t| format!(r#","iat":{t}"#)).unwrap_or_default();
        forge(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"system_id":"s","user_id":"u","exp":{exp}{iat}}}"#),
            SECRET.as_bytes(),
        )
    };
    let too_long = Err(JwtError::LifetimeTooLong {
        max_secs: 30 * 86_400,
    });
    // exp - iat decides, even for a token that expires soon.
    assert!(verify(&token(Some(now), now + 30 * day), &secret()).is_ok());
    assert_eq!(
        verify(&token(Some(now), now + 31 * day), &secret()),
        too_long
    );
    assert_eq!(
        verify(&token(Some(now - 40 * day), now + 60), &secret()),
        too_long
    );
    // Without iat, what is left of it counts.
    assert!(verify(&token(None, now + 29 * day), &secret()).is_ok());
    assert_eq!(verify(&token(None, now + 31 * day), &secret()), too_long);
    let short = Verifier::new(&secret()).with_max_lifetime(Duration::from_secs(3600));
    assert_eq!(
        short.verify(&token(Some(now), now + 7200)),
        Err(JwtError::LifetimeTooLong { max_secs: 3600 })
    );
}

#[test]
fn iat_in_the_future_beyond_the_leeway_is_refused() {
    let now = unix_now();
    let token = |iat: i64| {
        forge(
            r#"{"alg":"HS256"}"#,
            &format!(
                r#"{{"system_id":"s","user_id":"u","exp":{},"iat":{iat}}}"#,
                now + 600
            ),
            SECRET.as_bytes(),
        )
    };
    assert!(verify(&token(now + 10), &secret()).is_ok(), "within leeway");
    assert_eq!(
        verify(&token(now + 120), &secret()),
        Err(JwtError::IssuedInFuture)
    );
    let bad = forge(
        r#"{"alg":"HS256"}"#,
        &format!(
            r#"{{"system_id":"s","user_id":"u","exp":{},"iat":"now"}}"#,
            now + 60
        ),
        SECRET.as_bytes(),
    );
    assert!(matches!(
        verify(&bad, &secret()),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn critical_header_extensions_are_refused() {
    let payload = format!(
        r#"{{"system_id":"s","user_id":"u","exp":{}}}"#,
        unix_now() + 60
    );
    let with = |header: &str| verify(&forge(header, &payload, SECRET.as_bytes()), &secret());
    assert_eq!(
        with(r#"{"alg":"HS256","crit":["exp-ext"],"exp-ext":1}"#),
        Err(JwtError::UnknownCritical("exp-ext".into()))
    );
    for bad in [
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":"b64"}"#,
    ] {
        assert!(matches!(with(bad), Err(JwtError::Malformed(_))), "{bad}");
    }
    assert!(with(r#"{"alg":"HS256","typ":"JWT"}"#).is_ok());
}

/// Just enough base64url and HMAC to forge test tokens without the library.
mod base64_url {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    pub(super) fn encode(s: impl AsRef<[u8]>) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    pub(super) fn hmac_sha256(key: &[u8], msg: &[u8]) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(msg);
        encode(mac.finalize().into_bytes())
    }
}
