//! The HTTP plumbing every call shares: URLs under the gateway's base URL,
//! credentials, time limits, and turning answers into values or [`Error`]s.
//!
//! Invariants: path segments (conversation ids) are percent-encoded, so an id
//! can never reach another route; the credential header is marked sensitive,
//! so HTTP-level debug output does not show it; streamed replies get no total
//! time limit (only the idle limit of the HTTP client).

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::error::{Error, StreamError};
use super::stream::ChatStream;
use crate::ErrorBody;

/// What every request needs; shared by a client and all its views.
pub(crate) struct Core {
    http: reqwest::Client,
    base: Url,
    credential: (HeaderName, HeaderValue),
    timeout: Option<Duration>,
}

impl Core {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        credential: (HeaderName, HeaderValue),
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            http,
            base,
            credential,
            timeout,
        }
    }

    /// The base URL, without a trailing `/`.
    pub(crate) fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Which credential is sent, for debug output (never its value).
    pub(crate) fn credential_kind(&self) -> &'static str {
        if self.credential.0 == reqwest::header::AUTHORIZATION {
            "bearer token"
        } else {
            "API key"
        }
    }

    /// A request expecting a JSON answer, with the total time limit.
    pub(crate) fn request(&self, method: Method, path: &[&str]) -> Result<RequestBuilder, Error> {
        let mut req = self
            .authorised(method, path)?
            .header(ACCEPT, "application/json");
        if let Some(timeout) = self.timeout {
            req = req.timeout(timeout);
        }
        Ok(req)
    }

    /// A request for a streamed reply: no total time limit.
    pub(crate) fn stream_request(
        &self,
        method: Method,
        path: &[&str],
    ) -> Result<RequestBuilder, Error> {
        Ok(self
            .authorised(method, path)?
            .header(ACCEPT, "text/event-stream"))
    }

    fn authorised(&self, method: Method, path: &[&str]) -> Result<RequestBuilder, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::InvalidInput("the base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(path);
        let (name, value) = &self.credential;
        Ok(self
            .http
            .request(method, url)
            .header(name.clone(), value.clone()))
    }
}

/// Parse and check a gateway base URL.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let invalid = |why: &str| Error::InvalidInput(format!("gateway base URL {raw:?}: {why}"));
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it must not carry credentials; use an API key or token",
        ));
    }
    Ok(url)
}

/// A conversation id as a path segment: refuses what could not name one.
pub(crate) fn id_segment<'a>(what: &str, id: &'a str) -> Result<&'a str, Error> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::InvalidInput(format!("{what} {id:?} is not an id")));
    }
    Ok(id)
}

/// A credential as a sensitive header value.
pub(crate) fn credential_value(what: &str, raw: &str) -> Result<HeaderValue, Error> {
    if raw.trim().is_empty() {
        return Err(Error::InvalidInput(format!("the {what} is empty")));
    }
    let mut value = HeaderValue::from_str(raw).map_err(|_| {
        // Never echo the credential itself.
        Error::InvalidInput(format!(
            "the {what} contains characters not allowed in an HTTP header"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Send `req` and decode a JSON answer.
pub(crate) async fn json<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, Error> {
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        return Err(refusal(status, &body));
    }
    serde_json::from_slice(&body).map_err(|source| Error::Decode {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
        source,
    })
}

/// Send `req`, expecting no body (`204 No Content`).
pub(crate) async fn no_content(req: RequestBuilder) -> Result<(), Error> {
    let resp = req.send().await?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.bytes().await?;
        return Err(refusal(status, &body));
    }
    Ok(())
}

/// Send `req` and open the event stream of the answer.
pub(crate) async fn event_stream(req: RequestBuilder) -> Result<ChatStream, Error> {
    let resp = req.send().await?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.bytes().await?;
        return Err(refusal(status, &body));
    }
    let content_type = content_type(&resp);
    if !content_type.starts_with("text/event-stream") {
        return Err(StreamError::NotEventStream(content_type).into());
    }
    Ok(ChatStream::new(resp))
}

fn content_type(resp: &Response) -> String {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// An error answer: the gateway's error body, or whatever else arrived.
fn refusal(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error, .. }) => Error::Api {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
            conversation_id: error.conversation_id,
            message_id: error.message_id,
        },
        Err(source) => Error::Decode {
            status: status.as_u16(),
            body: String::from_utf8_lossy(body).into_owned(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for ok in [
            "http://127.0.0.1:8088",
            "https://chat.example.com/",
            "https://example.com/gateway",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "chat.example.com",
            "ftp://h/",
            "http://h/?a=1",
            "http://h/#x",
            "http://user:pw@h/",
        ] {
            assert!(
                matches!(parse_base_url(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn paths_are_encoded_under_the_base_path() {
        let core = Core::new(
            reqwest::Client::new(),
            parse_base_url("https://example.com/gateway/").unwrap(),
            (
                HeaderName::from_static("x-api-key"),
                HeaderValue::from_static("k"),
            ),
            None,
        );
        let req = core
            .request(Method::GET, &["v1", "conversations", "a/b?c", "messages"])
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            req.url().as_str(),
            "https://example.com/gateway/v1/conversations/a%2Fb%3Fc/messages"
        );
        assert_eq!(core.base_url(), "https://example.com/gateway");
    }

    #[test]
    fn credentials_are_checked_and_never_echoed() {
        let err = credential_value("API key", "sec\nret").unwrap_err();
        assert!(!err.to_string().contains("sec"), "{err}");
        assert!(credential_value("API key", " ").is_err());
        assert!(
            credential_value("API key", "ok-key")
                .unwrap()
                .is_sensitive()
        );
    }

    #[test]
    fn ids_that_cannot_name_a_conversation_are_refused() {
        for bad in ["", ".", ".."] {
            assert!(id_segment("conversation id", bad).is_err());
        }
        assert_eq!(id_segment("conversation id", "c-1").unwrap(), "c-1");
    }

    #[test]
    fn refusals_keep_code_or_raw_body() {
        let body =
            br#"{"error":{"code":"rate_limited","message":"Slow down."},"detail":"Slow down."}"#;
        match refusal(StatusCode::TOO_MANY_REQUESTS, body) {
            Error::Api {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!(status, 429);
                assert_eq!(code, crate::ErrorCode::RateLimited);
                assert_eq!(message, "Slow down.");
            }
            other => panic!("{other:?}"),
        }
        match refusal(StatusCode::BAD_GATEWAY, b"<html>502</html>") {
            Error::Decode { status, body, .. } => {
                assert_eq!(status, 502);
                assert_eq!(body, "<html>502</html>");
            }
            other => panic!("{other:?}"),
        }
    }
}
