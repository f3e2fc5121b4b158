//! The panel's status line for `mount()`: loading, a failed token request
//! (localized text, the reason, Retry), or a banner over the chat when a
//! refresh failed. The same markup as the Yew `StatusMessage`.

use sdk::UiTexts;
use wasm_bindgen::JsValue;
use web_sys::{Document, Element, Node};

use super::{element, set_text};
use crate::state::Body;

/// Which status line, and its texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
    /// Waiting for the token: the loading text.
    Loading(String),
    /// No token: full-panel error.
    Failed(Texts),
    /// A refresh failed while the chat is shown: a slim banner.
    Banner(Texts),
}

/// The texts of an error line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Texts {
    error: String,
    reason: String,
    retry: String,
}

impl Status {
    /// The status line for the panel body `body`, if it has one.
    pub(super) fn of(body: Body<'_>, texts: &UiTexts, retry: &str) -> Option<Self> {
        let error = |reason: &str| Texts {
            error: texts.token_error.clone(),
            reason: reason.to_owned(),
            retry: retry.to_owned(),
        };
        match body {
            Body::Loading => Some(Self::Loading(texts.loading.clone())),
            Body::Failed(reason) => Some(Self::Failed(error(reason))),
            Body::Chat {
                banner: Some(reason),
            } => Some(Self::Banner(error(reason))),
            Body::Chat { banner: None } => None,
        }
    }

    /// The texts, in the order of [`StatusView`]'s text nodes.
    fn parts(&self) -> Vec<String> {
        match self {
            Self::Loading(loading) => vec![loading.clone()],
            // The banner's error text and its reason are one line.
            Self::Banner(t) => vec![format!("{} ", t.error), t.reason.clone(), t.retry.clone()],
            Self::Failed(t) => vec![t.error.clone(), t.reason.clone(), t.retry.clone()],
        }
    }
}

/// A status line in the DOM.
pub(super) struct StatusView {
    shown: Status,
    element: Element,
    /// The nodes holding [`Status::parts`], in order.
    parts: Vec<Node>,
}

impl StatusView {
    /// Build the markup for `status`.
    pub(super) fn new(document: &Document, status: &Status) -> Result<Self, JsValue> {
        let retry_button = || {
            element(
                document,
                "button",
                &[("type", "button"), ("class", "retry")],
            )
        };
        let (element, parts): (Element, Vec<Node>) = match status {
            Status::Loading(_) => {
                let line = element(document, "div", &[("class", "status"), ("role", "status")])?;
                let spinner = element(
                    document,
                    "span",
                    &[("class", "spinner"), ("aria-hidden", "true")],
                )?;
                let text = element(document, "p", &[])?;
                line.append_with_node_2(&spinner, &text)?;
                (line, vec![text.into()])
            }
            Status::Failed(_) => {
                let line = element(document, "div", &[("class", "status"), ("role", "alert")])?;
                let error = element(document, "p", &[("class", "error")])?;
                let reason = element(document, "p", &[("class", "reason")])?;
                let retry = retry_button()?;
                line.append_with_node_3(&error, &reason, &retry)?;
                (line, vec![error.into(), reason.into(), retry.into()])
            }
            Status::Banner(_) => {
                let line = element(document, "div", &[("class", "banner"), ("role", "alert")])?;
                let text = element(document, "span", &[])?;
                let error = document.create_text_node("");
                let reason = element(document, "span", &[("class", "reason")])?;
                text.append_with_node_2(&error, &reason)?;
                let retry = retry_button()?;
                line.append_with_node_2(&text, &retry)?;
                (line, vec![error.into(), reason.into(), retry.into()])
            }
        };
        let view = Self {
            shown: status.clone(),
            element,
            parts,
        };
        view.write(status);
        Ok(view)
    }

    /// The line's outer element.
    pub(super) fn element(&self) -> &Element {
        &self.element
    }

    /// Whether this line is the same kind as `status` (then [`Self::update`]
    /// can change its texts in place).
    pub(super) fn shows_kind(&self, status: &Status) -> bool {
        std::mem::discriminant(&self.shown) == std::mem::discriminant(status)
    }

    /// Show `status`'s texts (same kind).
    pub(super) fn update(&mut self, status: &Status) {
        if self.shown != *status {
            self.write(status);
            self.shown = status.clone();
        }
    }

    fn write(&self, status: &Status) {
        for (node, text) in self.parts.iter().zip(status.parts()) {
            set_text(node, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use sdk::Lang;

    use super::*;

    #[test]
    fn each_body_has_its_line() {
        let texts = UiTexts::for_lang(Lang::En);
        assert_eq!(
            Status::of(Body::Loading, &texts, "Retry"),
            Some(Status::Loading(texts.loading.clone()))
        );
        assert_eq!(
            Status::of(Body::Chat { banner: None }, &texts, "Retry"),
            None
        );
        let failed = Status::of(Body::Failed("nope"), &texts, "Retry");
        assert_eq!(
            failed.map(|s| s.parts()),
            Some(vec![
                texts.token_error.clone(),
                "nope".into(),
                "Retry".into()
            ])
        );
        let banner = Status::of(Body::Chat { banner: Some("x") }, &texts, "Retry");
        assert_eq!(
            banner.map(|s| s.parts()),
            Some(vec![
                format!("{} ", texts.token_error),
                "x".into(),
                "Retry".into()
            ])
        );
    }
}
