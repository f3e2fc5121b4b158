//! Shell texts the SDK's table (`sdk::UiTexts`) does not have.
//!
//! The five shell texts (title, close, open, tokenError, loading) come from
//! `sdk::UiTexts::for_lang`, the table the gateway also serves; the Retry
//! button's label is one of the words the widget shares with the chat page
//! (`sdk::SharedTexts`).

use sdk::{Lang, SharedTexts};

/// Label of the Retry button.
///
/// ```
/// assert_eq!(widget::i18n::retry(sdk::Lang::Ko), "다시 시도");
/// ```
pub fn retry(lang: Lang) -> &'static str {
    SharedTexts::for_lang(lang).retry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_a_distinct_label() {
        let labels: std::collections::HashSet<_> = Lang::ALL.into_iter().map(retry).collect();
        assert_eq!(labels.len(), Lang::ALL.len());
    }
}
