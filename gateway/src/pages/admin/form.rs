//! What the systems and agents forms share: a field's problem, named by
//! the form handler and put into words here, in the page's language; and
//! what "Test" found.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pages::i18n::SystemsTexts;

/// Why a field (or the whole form) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required,
    /// Not an id (letters, digits, `.`, `_`, `-`).
    Id,
    /// This entry is not an origin.
    Origin(String),
    Exists,
    ReadOnly,
    Url,
    Kind,
    Number,
    Temperature,
    /// Set on an agent whose kind does not use it.
    OpenAiOnly,
    /// A deletion without its confirmation box ticked.
    Confirm,
    NoSecretKey,
    TooLong,
    /// Anything else, in the words of the check that refused it.
    Other(String),
}

impl Problem {
    fn text(&self, t: &SystemsTexts) -> String {
        match self {
            Self::Required => t.err_required.to_owned(),
            Self::Id => t.err_id.to_owned(),
            Self::Origin(origin) => t.err_origin.replace("{name}", origin),
            Self::Exists => t.err_exists.to_owned(),
            Self::ReadOnly => t.err_read_only.to_owned(),
            Self::Url => t.err_url.to_owned(),
            Self::Kind => t.err_kind.to_owned(),
            Self::Number => t.err_number.to_owned(),
            Self::Temperature => t.err_temperature.to_owned(),
            Self::OpenAiOnly => t.err_openai_only.to_owned(),
            Self::Confirm => t.err_confirm.to_owned(),
            Self::NoSecretKey => t.err_no_secret_key.to_owned(),
            Self::TooLong => t.err_too_long.to_owned(),
            Self::Other(text) => text.clone(),
        }
    }
}

/// A form's problems, by field name; [`Problems::FORM`] is the form as a
/// whole. The first problem of a field is the one shown.
#[derive(Debug, Default)]
pub struct Problems(Vec<(&'static str, Problem)>);

impl Problems {
    /// The "field" of problems that belong to no one field.
    pub const FORM: &'static str = "form";

    pub fn add(&mut self, field: &'static str, problem: Problem) {
        self.0.push((field, problem));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text for each of `fields` (empty when it is fine) and for
    /// [`Self::FORM`], as a template reads them.
    pub(super) fn shown(
        &self,
        fields: &[&'static str],
        t: &SystemsTexts,
    ) -> BTreeMap<&'static str, String> {
        let mut out: BTreeMap<&'static str, String> = fields
            .iter()
            .chain(std::iter::once(&Self::FORM))
            .map(|f| (*f, String::new()))
            .collect();
        for (field, problem) in self.0.iter().rev() {
            let key = if out.contains_key(field) {
                *field
            } else {
                Self::FORM
            };
            out.insert(key, problem.text(t));
        }
        out
    }
}

/// What "Test" found, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeView {
    /// The upstream's kind.
    pub kind: String,
    pub answer: Option<String>,
    pub error: Option<String>,
    /// The chat page for the test user (relative to this gateway).
    pub chat_url: String,
}
