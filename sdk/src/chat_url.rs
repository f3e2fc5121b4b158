//! Building the URL of the gateway's chat page.

use crate::Lang;

/// Options of a chat-page URL.
///
/// ```
/// let opts = sdk::ChatUrlOptions { embed: true, lang: Some(sdk::Lang::Ko) };
/// assert_eq!(
///     sdk::chat_url("https://chat.example.com/", "aaa.bbb.ccc", &opts),
///     "https://chat.example.com/chat?token=aaa.bbb.ccc&embed=1&lang=ko"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatUrlOptions {
    /// Compact layout for an iframe (`embed=1`).
    pub embed: bool,
    /// Interface language; when `None` the page follows the browser.
    pub lang: Option<Lang>,
}

/// The chat-page URL for `token`: `{base}/chat?token=…[&embed=1][&lang=…]`.
///
/// A trailing `/` on `base` is ignored and the token is percent-encoded.
///
/// ```
/// let url = sdk::chat_url("http://127.0.0.1:8088", "t", &sdk::ChatUrlOptions::default());
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
}
