//! The five interface languages, and the home of every translation that
//! more than one part of tz-chat shows: the widget, the gateway's pages and
//! the token endpoint's `ui` texts.
//!
//! - [`Lang`]: the languages, tag parsing and each language's own name;
//! - [`SharedTexts`]: words the widget and the pages both show (the chat's
//!   title, Close, Retry), so the two cannot drift apart;
//! - [`UiTexts`]: the widget shell's texts as the gateway serves them.
//!
//! Texts only one part shows stay with that part (the chat page's in the
//! gateway, the widget's Retry label in the widget reads [`SharedTexts`]).

mod shared;
mod ui;

use serde::{Deserialize, Serialize};

pub use self::shared::SharedTexts;
pub use self::ui::UiTexts;

/// An interface language supported by the chat page and the widget.
///
/// ```
/// use tz_chat_sdk::Lang;
///
/// assert_eq!(Lang::from_tag("ko-KR"), Some(Lang::Ko));
/// assert_eq!(Lang::from_tag(" ZH_hant "), Some(Lang::Zh));
/// assert_eq!(Lang::from_tag("fr"), None);
/// assert_eq!(Lang::Ja.as_str(), "ja");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the fallback).
    #[default]
    En,
    /// Spanish.
    Es,
    /// Korean.
    Ko,
    /// Chinese.
    Zh,
    /// Japanese.
    Ja,
}

impl Lang {
    /// Every supported language, English first.
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Es, Lang::Ko, Lang::Zh, Lang::Ja];

    /// Parse a BCP 47 style tag, ignoring case, surrounding blanks and any
    /// region or script (`ko-KR`, `zh_Hant_TW`, `ES`). `None` for languages we
    /// do not ship.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Lang::from_tag("es-419"), Some(tz_chat_sdk::Lang::Es));
    /// assert_eq!(tz_chat_sdk::Lang::from_tag(""), None);
    /// ```
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.as_str()))
    }

    /// The first supported language in a browser-style preference list
    /// (`Accept-Language` or `navigator.languages`), if any.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Lang::from_preferences("fr-CA,ja;q=0.8,en;q=0.5"), Some(tz_chat_sdk::Lang::Ja));
    /// ```
    pub fn from_preferences(list: &str) -> Option<Lang> {
        list.split(',')
            .filter_map(|item| item.split(';').next())
            .find_map(Lang::from_tag)
    }

    /// The two-letter code.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Lang::Es.as_str(), "es");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Ko => "ko",
            Lang::Zh => "zh",
            Lang::Ja => "ja",
        }
    }

    /// The language's name in itself, for a language menu.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Lang::Ko.endonym(), "한국어");
    /// assert_eq!(tz_chat_sdk::Lang::Es.endonym(), "Español");
    /// ```
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Ko => "한국어",
            Lang::Zh => "中文",
            Lang::Ja => "日本語",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_regions_and_case() {
        for (tag, want) in [
            ("en", Some(Lang::En)),
            ("EN-us", Some(Lang::En)),
            ("ko_KR", Some(Lang::Ko)),
            ("zh-Hans-CN", Some(Lang::Zh)),
            ("ja-JP", Some(Lang::Ja)),
            ("es", Some(Lang::Es)),
            ("fr", None),
            ("kor", None),
            ("", None),
            ("   ", None),
        ] {
            assert_eq!(Lang::from_tag(tag), want, "{tag:?}");
        }
    }
}
