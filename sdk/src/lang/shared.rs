//! Words the widget and the gateway's pages both show.

use serde::Serialize;

use super::Lang;

/// Texts shown alike by the widget and the chat page (and any other page of
/// the gateway), kept once so they cannot drift apart. The JSON keys are
/// camelCase, as the chat page reads them.
///
/// ```
/// let ko = tz_chat_sdk::SharedTexts::for_lang(tz_chat_sdk::Lang::Ko);
/// assert_eq!(ko.retry, "다시 시도");
/// assert_eq!(tz_chat_sdk::UiTexts::for_lang(tz_chat_sdk::Lang::Ko).close, ko.close);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedTexts {
    /// The chat itself: the widget panel's title and the chat page's title.
    pub chat: &'static str,
    /// A Close button.
    pub close: &'static str,
    /// A Retry button.
    pub retry: &'static str,
}

const EN: SharedTexts = SharedTexts {
    chat: "Chat",
    close: "Close",
    retry: "Retry",
};

const ES: SharedTexts = SharedTexts {
    chat: "Chat",
    close: "Cerrar",
    retry: "Reintentar",
};

const KO: SharedTexts = SharedTexts {
    chat: "채팅",
    close: "닫기",
    retry: "다시 시도",
};

const ZH: SharedTexts = SharedTexts {
    chat: "聊天",
    close: "关闭",
    retry: "重试",
};

const JA: SharedTexts = SharedTexts {
    chat: "チャット",
    close: "閉じる",
    retry: "再試行",
};

impl SharedTexts {
    /// The texts for `lang`.
    pub fn for_lang(lang: Lang) -> &'static SharedTexts {
        match lang {
            Lang::En => &EN,
            Lang::Es => &ES,
            Lang::Ko => &KO,
            Lang::Zh => &ZH,
            Lang::Ja => &JA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_own_words() {
        for lang in Lang::ALL {
            let t = SharedTexts::for_lang(lang);
            for s in [t.chat, t.close, t.retry] {
                assert!(!s.trim().is_empty(), "{lang}");
            }
            if lang != Lang::En {
                assert_ne!(t.close, EN.close, "{lang}");
                assert_ne!(t.retry, EN.retry, "{lang}");
            }
        }
        assert_eq!(SharedTexts::for_lang(Lang::Zh).retry, "重试");
    }
}
