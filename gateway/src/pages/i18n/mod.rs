//! Every text of the gateway's pages, in the five supported languages (en,
//! es, ko, zh, ja), one file per language.
//!
//! A page's text table has three parts, flattened into one (as JSON, keys
//! in camelCase, and in templates as `t`):
//! - the words the pages share with the widget ([`sdk::SharedTexts`]: the
//!   chat's title, Close, Retry), kept in the SDK;
//! - [`CommonTexts`], which every page may show (the language menu's
//!   label, who is signed in, dialog buttons, loading);
//! - the page's own table ([`ChatTexts`] for the chat page).
//!
//! Each language file holds one constant per table (`COMMON`, `CHAT`); a new
//! page adds its table type beside [`ChatTexts`] and one constant per
//! language. Language names come from [`sdk::Lang::endonym`].
//!
//! The seed page's strings (`placeholder`, `send`, `empty`, `emptyFull`,
//! `errorList`, `errorMessages`, `errorSend`, `sendNew`) are kept word for
//! word; the rest are texts for controls the seed did not have. The chat
//! page gets all languages' tables at once so it can switch language
//! without a reload. `{name}` in a text is filled in by the page.

mod admin;
mod chat;
mod console;
mod en;
mod es;
mod front;
mod ja;
mod ko;
mod zh;

use sdk::{Lang, SharedTexts};
use serde::Serialize;

pub use self::admin::{AdminTexts, SystemsTexts};
pub use self::chat::ChatTexts;
pub use self::console::ConsoleTexts;
pub use self::front::FrontTexts;

/// The texts of one page in one language: shared, common and the page's
/// own (`P`), serialized as one flat table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageTexts<P: 'static> {
    /// Words shared with the widget.
    #[serde(flatten)]
    pub shared: &'static SharedTexts,
    /// Texts of every page.
    #[serde(flatten)]
    pub common: &'static CommonTexts,
    /// The page's own texts.
    #[serde(flatten)]
    pub page: &'static P,
}

/// Texts every page of the gateway may show, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonTexts {
    /// Save button.
    pub save: &'static str,
    /// Cancel button.
    pub cancel: &'static str,
    /// Language selector label.
    pub language: &'static str,
    /// Prefix of the user's identity in the header.
    pub signed_in_as: &'static str,
    /// Loading indicator.
    pub loading: &'static str,
}

/// The common texts for `lang`.
fn common(lang: Lang) -> &'static CommonTexts {
    match lang {
        Lang::En => &en::COMMON,
        Lang::Es => &es::COMMON,
        Lang::Ko => &ko::COMMON,
        Lang::Zh => &zh::COMMON,
        Lang::Ja => &ja::COMMON,
    }
}

/// The chat page's texts for `lang`.
pub(super) fn chat(lang: Lang) -> PageTexts<ChatTexts> {
    let page = match lang {
        Lang::En => &en::CHAT,
        Lang::Es => &es::CHAT,
        Lang::Ko => &ko::CHAT,
        Lang::Zh => &zh::CHAT,
        Lang::Ja => &ja::CHAT,
    };
    PageTexts {
        shared: SharedTexts::for_lang(lang),
        common: common(lang),
        page,
    }
}

/// The console pages' texts for `lang`.
pub(super) fn console(lang: Lang) -> PageTexts<ConsoleTexts> {
    let page = match lang {
        Lang::En => &en::CONSOLE,
        Lang::Es => &es::CONSOLE,
        Lang::Ko => &ko::CONSOLE,
        Lang::Zh => &zh::CONSOLE,
        Lang::Ja => &ja::CONSOLE,
    };
    PageTexts {
        shared: SharedTexts::for_lang(lang),
        common: common(lang),
        page,
    }
}

/// The admin pages' texts for `lang`.
pub(super) fn admin(lang: Lang) -> PageTexts<AdminTexts> {
    let page = match lang {
        Lang::En => &en::ADMIN,
        Lang::Es => &es::ADMIN,
        Lang::Ko => &ko::ADMIN,
        Lang::Zh => &zh::ADMIN,
        Lang::Ja => &ja::ADMIN,
    };
    PageTexts {
        shared: SharedTexts::for_lang(lang),
        common: common(lang),
        page,
    }
}

/// The front page's texts for `lang`.
pub(super) fn front(lang: Lang) -> PageTexts<FrontTexts> {
    PageTexts {
        shared: SharedTexts::for_lang(lang),
        common: common(lang),
        page: front::texts(lang),
    }
}

/// The systems and agents pages' own texts for `lang` (beside
/// [`admin()`]'s, which their shell uses).
pub(super) fn systems(lang: Lang) -> &'static SystemsTexts {
    match lang {
        Lang::En => &admin::SYSTEMS_EN,
        Lang::Es => &admin::SYSTEMS_ES,
        Lang::Ko => &admin::SYSTEMS_KO,
        Lang::Zh => &admin::SYSTEMS_ZH,
        Lang::Ja => &admin::SYSTEMS_JA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<P: Serialize>(t: &PageTexts<P>) -> Vec<(String, String)> {
        match serde_json::to_value(t).unwrap() {
            serde_json::Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
                .collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn no_part_hides_a_text_of_another() {
        let count = |v: serde_json::Value| v.as_object().map_or(0, |m| m.len());
        for lang in Lang::ALL {
            let t = chat(lang);
            let parts = count(serde_json::to_value(t.shared).unwrap())
                + count(serde_json::to_value(t.common).unwrap())
                + count(serde_json::to_value(t.page).unwrap());
            assert_eq!(values(&t).len(), parts, "{lang}: a key is in two parts");
        }
    }

    #[test]
    fn the_console_is_translated_and_keys_are_unique() {
        let en = values(&console(Lang::En));
        for lang in Lang::ALL {
            let texts = console(lang);
            let count = |v: serde_json::Value| v.as_object().map_or(0, |m| m.len());
            let parts = count(serde_json::to_value(texts.shared).unwrap())
                + count(serde_json::to_value(texts.common).unwrap())
                + count(serde_json::to_value(texts.page).unwrap());
            let t = values(&texts);
            assert_eq!(t.len(), parts, "{lang}: a key is in two parts");
            assert!(t.iter().all(|(_, v)| !v.trim().is_empty()), "{lang}");
            if lang != Lang::En {
                let same = t.iter().zip(&en).filter(|(a, b)| a.1 == b.1).count();
                assert!(same <= 3, "{lang}: {same} texts are still English");
            }
        }
    }

    #[test]
    fn every_language_translates_every_admin_text() {
        let en = values(&admin(Lang::En));
        for lang in Lang::ALL {
            let t = values(&admin(lang));
            assert_eq!(t.len(), en.len());
            for ((key, value), (_, english)) in t.iter().zip(&en) {
                assert!(!value.trim().is_empty(), "{lang}.{key} is empty");
                assert_eq!(
                    value.contains("{name}"),
                    english.contains("{name}"),
                    "{lang}.{key} placeholders"
                );
            }
            if lang != Lang::En {
                let same = t.iter().zip(&en).filter(|(a, b)| a.1 == b.1).count();
                // Shared words ("Chat") and "API" terms may stay as they are.
                assert!(same <= 3, "{lang}: {same} texts are still English");
            }
        }
    }

    #[test]
    fn the_front_page_is_translated_and_keys_are_unique() {
        let en = values(&front(Lang::En));
        for lang in Lang::ALL {
            let texts = front(lang);
            let count = |v: serde_json::Value| v.as_object().map_or(0, |m| m.len());
            let parts = count(serde_json::to_value(texts.shared).unwrap())
                + count(serde_json::to_value(texts.common).unwrap())
                + count(serde_json::to_value(texts.page).unwrap());
            let t = values(&texts);
            assert_eq!(t.len(), parts, "{lang}: a key is in two parts");
            assert!(t.iter().all(|(_, v)| !v.trim().is_empty()), "{lang}");
            if lang != Lang::En {
                let page = serde_json::to_value(texts.page).unwrap();
                let english = serde_json::to_value(front(Lang::En).page).unwrap();
                let same: Vec<&String> = page
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, v)| english[k.as_str()] == **v)
                    .map(|(k, _)| k)
                    .collect();
                assert!(same.is_empty(), "{lang}: {same:?} are still English");
            }
        }
        assert!(en.iter().any(|(k, _)| k == "step2Heading"));
    }

    #[test]
    fn the_systems_pages_are_translated() {
        let strings = |t: &SystemsTexts| match serde_json::to_value(t).unwrap() {
            serde_json::Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
                .collect::<Vec<_>>(),
            other => panic!("{other}"),
        };
        let en = strings(systems(Lang::En));
        for lang in Lang::ALL {
            let t = strings(systems(lang));
            assert_eq!(t.len(), en.len());
            for ((key, value), (_, english)) in t.iter().zip(&en) {
                assert!(!value.trim().is_empty(), "{lang}.{key} is empty");
                assert_eq!(
                    value.contains("{name}"),
                    english.contains("{name}"),
                    "{lang}.{key} placeholders"
                );
            }
            if lang != Lang::En {
                let same: Vec<_> = t
                    .iter()
                    .zip(&en)
                    .filter(|(a, b)| a.1 == b.1)
                    .map(|(a, _)| &a.0)
                    .collect();
                // "ID" is the word Korean and Japanese use too.
                assert!(same.len() <= 1, "{lang}: still English: {same:?}");
            }
        }
    }

    #[test]
    fn seed_strings_are_kept() {
        assert_eq!(chat(Lang::En).page.placeholder, "Type a message...");
        assert_eq!(chat(Lang::Ko).page.send, "전송");
        assert_eq!(chat(Lang::Ja).page.error_send, "送信に失敗しました。");
        assert_eq!(chat(Lang::Es).page.new_conversation, "Nueva conversación");
        assert_eq!(chat(Lang::Zh).page.empty_full, "开始新对话或从列表中选择。");
    }

    #[test]
    fn every_language_translates_every_text() {
        let en = values(&chat(Lang::En));
        for lang in Lang::ALL {
            let t = values(&chat(lang));
            for ((key, value), (_, english)) in t.iter().zip(&en) {
                assert!(!value.trim().is_empty(), "{lang}.{key} is empty");
                assert_eq!(
                    value.contains("{name}"),
                    english.contains("{name}"),
                    "{lang}.{key} placeholders"
                );
            }
            if lang != Lang::En {
                let same = t.iter().zip(&en).filter(|(a, b)| a.1 == b.1).count();
                // A few words ("Chat") are the same in Spanish.
                assert!(same <= 2, "{lang}: {same} texts are still English");
            }
        }
    }
}
