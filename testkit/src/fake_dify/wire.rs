//! How Dify answers beyond the happy path: its error envelope, its 401,
//! a proxy's HTML 502, and its two JSON spellings.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Inner;

/// Dify's error envelope.
pub(crate) fn dify_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "status": status.as_u16()});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"api\""),
        );
    }
    resp
}

/// Check `Authorization: Bearer <key>` as Dify does; `Some` is the refusal.
pub(crate) fn refuse_unauthorized(inner: &Inner, headers: &HeaderMap) -> Option<Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((scheme, key)) = value.split_once(' ') else {
        return Some(dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization header must be provided and start with 'Bearer'",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authorization scheme must be 'Bearer'",
        ));
    }
    (key != inner.options.api_key).then(|| {
        dify_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Access token is invalid",
        )
    })
}

/// The nginx page a proxy returns when Dify is down.
pub(crate) fn html_502() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    )
        .into_response()
}

/// Serialise like Dify: compact raw UTF-8 (current) or spaced and
/// `\u`-escaped (old `json.dumps`).
pub(crate) fn to_json(value: &Value, legacy: bool) -> String {
    if !legacy {
        return value.to_string();
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SpacedFormatter);
    if serde::Serialize::serialize(value, &mut ser).is_err() {
        return value.to_string();
    }
    let spaced = String::from_utf8(out).unwrap_or_default();
    let mut escaped = String::with_capacity(spaced.len());
    for c in spaced.chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    escaped
}

/// Python `json.dumps` separators: `", "` and `": "`.
struct SpacedFormatter;

impl serde_json::ser::Formatter for SpacedFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// Keep the fake from answering forever in a `Hang` fault.
pub(crate) const HANG: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_json_is_spaced_and_escaped() {
        let v = json!({"event": "message", "answer": "한😀", "n": [1, 2]});
        let legacy = to_json(&v, true);
        assert!(
            legacy.contains("\"answer\": \"\\ud55c\\ud83d\\ude00\""),
            "{legacy}"
        );
        assert!(legacy.contains("[1, 2]"), "{legacy}");
        let back: Value = serde_json::from_str(&legacy).unwrap();
        assert_eq!(back, v);
        assert!(to_json(&v, false).contains("한😀"));
    }
}
