//! Shell texts the SDK's table (`sdk::UiTexts`) does not have.
//!
//! The five shell texts (title, close, open, tokenError, loading) come from
//! `sdk::UiTexts::for_lang`, the table the gateway also serves; only the
//! Retry button's label lives here.

use sdk::Lang;

/// Label of the Retry button.
///
/// ```
/// assert_eq!(widget::i18n::retry(sdk::Lang::Ko), "다시 시도");
/// ```
pub fn retry(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Retry",
        Lang::Es => "Reintentar",
        Lang::Ko => "다시 시도",
        Lang::Zh => "重试",
        Lang::Ja => "再試行",
    }
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
