//! The five interface languages and the widget's shell texts.

use serde::{Deserialize, Serialize};

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
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Texts of the widget's shell (launcher and panel), as returned in the `ui`
/// object of `GET /v1/chat-token?lang=…`.
///
/// The JSON keys are those of the seed gateway (`tokenError` in camelCase).
///
/// ```
/// let ko = tz_chat_sdk::UiTexts::for_lang(tz_chat_sdk::Lang::Ko);
/// assert_eq!(ko.open, "채팅 열기");
/// let json = serde_json::to_value(&ko).unwrap();
/// assert_eq!(json["tokenError"], "채팅 토큰을 불러오지 못했습니다.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiTexts {
    /// Panel title.
    pub title: String,
    /// Label of the close button.
    pub close: String,
    /// Label of the launcher button.
    pub open: String,
    /// Shown when no chat token could be obtained.
    pub token_error: String,
    /// Shown while the token and page load.
    pub loading: String,
}

impl UiTexts {
    /// The built-in texts for `lang`.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::UiTexts::for_lang(tz_chat_sdk::Lang::En).loading, "Loading...");
    /// ```
    pub fn for_lang(lang: Lang) -> UiTexts {
        let [title, close, open, token_error, loading] = match lang {
            Lang::En => [
                "Chat",
                "Close",
                "Open chat",
                "Could not load chat token.",
                "Loading...",
            ],
            Lang::Es => [
                "Chat",
                "Cerrar",
                "Abrir chat",
                "No se pudo cargar el token del chat.",
                "Cargando...",
            ],
            Lang::Ko => [
                "채팅",
                "닫기",
                "채팅 열기",
                "채팅 토큰을 불러오지 못했습니다.",
                "로딩 중...",
            ],
            Lang::Zh => [
                "聊天",
                "关闭",
                "打开聊天",
                "无法加载聊天令牌。",
                "加载中...",
            ],
            Lang::Ja => [
                "チャット",
                "閉じる",
                "チャットを開く",
                "チャットトークンを読み込めませんでした。",
                "読み込み中...",
            ],
        };
        UiTexts {
            title: title.to_owned(),
            close: close.to_owned(),
            open: open.to_owned(),
            token_error: token_error.to_owned(),
            loading: loading.to_owned(),
        }
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

    #[test]
    fn every_language_has_all_texts() {
        for lang in Lang::ALL {
            let t = UiTexts::for_lang(lang);
            for s in [&t.title, &t.close, &t.open, &t.token_error, &t.loading] {
                assert!(!s.is_empty(), "{lang}");
            }
        }
        assert_eq!(
            UiTexts::for_lang(Lang::Zh).token_error,
            "无法加载聊天令牌。"
        );
        assert_eq!(UiTexts::for_lang(Lang::Es).close, "Cerrar");
    }
}
