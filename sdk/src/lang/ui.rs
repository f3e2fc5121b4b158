//! The widget shell's texts, as the token endpoint serves them.

use serde::{Deserialize, Serialize};

use super::{Lang, SharedTexts};

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        let shared = SharedTexts::for_lang(lang);
        let [open, token_error, loading] = match lang {
            Lang::En => ["Open chat", "Could not load chat token.", "Loading..."],
            Lang::Es => [
                "Abrir chat",
                "No se pudo cargar el token del chat.",
                "Cargando...",
            ],
            Lang::Ko => [
                "채팅 열기",
                "채팅 토큰을 불러오지 못했습니다.",
                "로딩 중...",
            ],
            Lang::Zh => ["打开聊天", "无法加载聊天令牌。", "加载中..."],
            Lang::Ja => [
                "チャットを開く",
                "チャットトークンを読み込めませんでした。",
                "読み込み中...",
            ],
        };
        UiTexts {
            title: shared.chat.to_owned(),
            close: shared.close.to_owned(),
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
        assert_eq!(UiTexts::for_lang(Lang::Ja).title, "チャット");
        assert_eq!(UiTexts::for_lang(Lang::En).title, "Chat");
    }
}
