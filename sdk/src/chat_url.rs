//! Building the URL of the gateway's chat page.

use crate::Lang;

/// Options of a chat-page URL.
///
/// ```
/// let opts = tz_chat_sdk::ChatUrlOptions { embed: true, lang: Some(tz_chat_sdk::Lang::Ko), ..Default::default() };
/// assert_eq!(
///     tz_chat_sdk::chat_url("https://chat.example.com/", "aaa.bbb.ccc", &opts),
///     "https://chat.example.com/chat?token=aaa.bbb.ccc&embed=1&lang=ko"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatUrlOptions {
    /// Compact layout for an iframe (`embed=1`).
    pub embed: bool,
    /// Interface language; when `None` the page follows the browser.
    pub lang: Option<Lang>,
    /// Origin of the page that frames the chat (`parent=`), for example
    /// `https://www.example.com`: scheme, host and port only, no path. The
    /// chat page then talks to that page (postMessage v1) if the gateway's
    /// `ALLOWED_CHAT_TOKEN_ORIGINS` lists it, and ignores it otherwise.
    pub parent: Option<String>,
}

/// The chat-page URL for `token`:
/// `{base}/chat?token=…[&embed=1][&lang=…][&parent=…]`.
///
/// A trailing `/` on `base` is ignored and the token is percent-encoded.
///
/// ```
/// let url = tz_chat_sdk::chat_url("http://127.0.0.1:8088", "t", &tz_chat_sdk::ChatUrlOptions::default());
/// assert_eq!(url, "http://127.0.0.1:8088/chat?token=t");
/// ```
pub fn chat_url(base: &str, token: &str, options: &ChatUrlOptions) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", token);
    if options.embed {
        query.append_pair("embed", "1");
    }
    if let Some(lang) = options.lang {
        query.append_pair("lang", lang.as_str());
    }
    if let Some(parent) = &options.parent {
        query.append_pair("parent", parent);
    }
    format!("{}/chat?{}", base.trim_end_matches('/'), query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_encoded() {
        let url = chat_url("http://h/", "a+b/c=", &ChatUrlOptions::default());
        assert_eq!(url, "http://h/chat?token=a%2Bb%2Fc%3D");
    }

    #[test]
    fn parent_comes_last_and_encoded() {
        let options = ChatUrlOptions {
            embed: true,
            lang: None,
            parent: Some("https://www.example.com:8443".into()),
        };
        assert_eq!(
            chat_url("http://h", "t", &options),
            "http://h/chat?token=t&embed=1&parent=https%3A%2F%2Fwww.example.com%3A8443"
        );
    }
}
