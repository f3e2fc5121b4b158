//! The widget's markup for `mount()`, made and kept up to date with direct
//! DOM calls: the same elements, classes and ARIA attributes as the Yew
//! components (`src/components`), without a virtual DOM.
//!
//! [`View::new`] builds the tree once; [`View::update`] brings it to a
//! [`State`], touching only what differs. The panel stays in the DOM while
//! closed (the chat page keeps its conversation); a new iframe is made only
//! when the state's frame id changes (another user, another gateway).

mod status;

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlIFrameElement};

use self::status::StatusView;
use crate::i18n;
use crate::runner::Elements;
use crate::state::{Action, State};

const SVG: &str = "http://www.w3.org/2000/svg";
/// The launcher's icon: a speech bubble, or a cross while open.
const ICON_OPEN: &str = "M4 5h16v11H9l-5 4z";
const ICON_CLOSE: &str = "M6 6l12 12M18 6L6 18";
/// The iframe's sandbox: the page keeps its origin (for its API calls and
/// messages) but cannot navigate the host page.
const SANDBOX: &str =
    "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox";

/// The widget's elements.
pub(crate) struct View {
    document: Document,
    /// `div.root`: the widget's outermost element (events are listened to here).
    pub(crate) root: Element,
    launcher: Element,
    icon: Element,
    badge: Element,
    panel: Element,
    title: Element,
    close: Element,
    body: Element,
    status: RefCell<Option<StatusView>>,
    frame: RefCell<Option<(u64, HtmlIFrameElement)>>,
}

/// Create `tag` with `attributes`.
fn element(
    document: &Document,
    tag: &str,
    attributes: &[(&str, &str)],
) -> Result<Element, JsValue> {
    let element = document.create_element(tag)?;
    set_attributes(&element, attributes)?;
    Ok(element)
}

fn set_attributes(element: &Element, attributes: &[(&str, &str)]) -> Result<(), JsValue> {
    for (name, value) in attributes {
        element.set_attribute(name, value)?;
    }
    Ok(())
}

/// Set an attribute unless it already has that value.
fn set_attribute(element: &Element, name: &str, value: &str) {
    if element.get_attribute(name).as_deref() != Some(value) {
        let _ = element.set_attribute(name, value);
    }
}

/// Set an element's text unless it already is that.
fn set_text(node: &web_sys::Node, text: &str) {
    if node.text_content().as_deref() != Some(text) {
        node.set_text_content(Some(text));
    }
}

impl View {
    /// Build the tree for `state` inside `mount` (the shadow root's element).
    pub(crate) fn new(
        document: &Document,
        mount: &Element,
        state: &State,
    ) -> Result<Self, JsValue> {
        let root = element(document, "div", &[("class", "root")])?;

        let panel = element(
            document,
            "section",
            &[
                ("id", "tz-chat-panel"),
                ("class", "panel"),
                ("role", "dialog"),
                ("aria-modal", "false"),
                ("aria-labelledby", "tz-chat-title"),
            ],
        )?;
        let header = element(document, "header", &[("class", "header")])?;
        let title = element(
            document,
            "h2",
            &[("id", "tz-chat-title"), ("class", "title")],
        )?;
        let close = element(
            document,
            "button",
            &[("type", "button"), ("class", "close")],
        )?;
        close.set_text_content(Some("×"));
        header.append_with_node_2(&title, &close)?;
        let body = element(document, "div", &[("class", "body")])?;
        panel.append_with_node_2(&header, &body)?;

        let launcher = element(
            document,
            "button",
            &[("type", "button"), ("aria-controls", "tz-chat-panel")],
        )?;
        let svg = document.create_element_ns(Some(SVG), "svg")?;
        set_attributes(
            &svg,
            &[
                ("viewBox", "0 0 24 24"),
                ("aria-hidden", "true"),
                ("focusable", "false"),
            ],
        )?;
        let icon = document.create_element_ns(Some(SVG), "path")?;
        svg.append_child(&icon)?;
        launcher.append_child(&svg)?;
        let badge = element(
            document,
            "span",
            &[("class", "badge"), ("aria-hidden", "true")],
        )?;

        root.append_with_node_2(&panel, &launcher)?;
        mount.append_child(&root)?;
        let view = Self {
            document: document.clone(),
            root,
            launcher,
            icon,
            badge,
            panel,
            title,
            close,
            body,
            status: RefCell::new(None),
            frame: RefCell::new(None),
        };
        view.update(state);
        Ok(view)
    }

    /// Bring the elements to `state`.
    pub(crate) fn update(&self, state: &State) {
        let texts = state.texts();
        let open = state.open;
        set_attribute(&self.root, "lang", state.lang.as_str());

        set_attribute(
            &self.panel,
            "class",
            if open { "panel open" } else { "panel" },
        );
        set_text(&self.title, &texts.title);
        set_attribute(&self.close, "aria-label", &texts.close);
        set_attribute(&self.close, "title", &texts.close);

        let label = if open { &texts.close } else { &texts.open };
        let label = match state.unread {
            0 => label.clone(),
            n => format!("{label} ({n})"),
        };
        let launcher = &self.launcher;
        set_attribute(
            launcher,
            "class",
            if open { "launcher open" } else { "launcher" },
        );
        set_attribute(launcher, "aria-label", &label);
        set_attribute(launcher, "title", &label);
        set_attribute(
            launcher,
            "aria-expanded",
            if open { "true" } else { "false" },
        );
        set_attribute(&self.icon, "d", if open { ICON_CLOSE } else { ICON_OPEN });
        if state.unread > 0 {
            set_text(&self.badge, &badge_text(state.unread));
            if !self.badge.is_connected() {
                let _ = launcher.append_child(&self.badge);
            }
        } else {
            self.badge.remove();
        }

        self.update_status(state, &texts);
        self.update_frame(state, &texts.title);
    }

    fn update_status(&self, state: &State, texts: &sdk::UiTexts) {
        let wanted = status::Status::of(state.body(), texts, i18n::retry(state.lang));
        let mut shown = self.status.borrow_mut();
        match (shown.as_mut(), wanted) {
            (Some(view), Some(wanted)) if view.shows_kind(&wanted) => view.update(&wanted),
            (_, wanted) => {
                if let Some(old) = shown.take() {
                    old.element().remove();
                }
                *shown = wanted.and_then(|w| StatusView::new(&self.document, &w).ok());
                if let Some(view) = shown.as_ref() {
                    // The status line comes before the chat page.
                    let _ = self
                        .body
                        .insert_before(view.element(), self.body.first_child().as_ref());
                }
            }
        }
    }

    fn update_frame(&self, state: &State, title: &str) {
        let mut shown = self.frame.borrow_mut();
        let same = match (shown.as_ref(), state.frame.as_ref()) {
            (Some((id, _)), Some(frame)) => *id == frame.id,
            (None, None) => true,
            _ => false,
        };
        if !same {
            if let Some((_, old)) = shown.take() {
                old.remove();
            }
            *shown = state
                .frame
                .as_ref()
                .and_then(|f| self.new_frame(&f.src, title).ok().map(|e| (f.id, e)));
            if let Some((_, frame)) = shown.as_ref() {
                let _ = self.body.append_child(frame);
            }
        }
        if let Some((_, frame)) = shown.as_ref() {
            set_attribute(frame, "title", title);
        }
    }

    /// The chat page's iframe. It asks for nothing it does not need: no
    /// camera, microphone or geolocation; `clipboard-write` only, for
    /// copying answers; no referrer leaves the host page.
    fn new_frame(&self, src: &str, title: &str) -> Result<HtmlIFrameElement, JsValue> {
        let frame = element(
            &self.document,
            "iframe",
            &[
                ("class", "frame"),
                ("title", title),
                ("referrerpolicy", "no-referrer"),
                ("allow", "clipboard-write"),
                ("sandbox", SANDBOX),
                ("src", src),
            ],
        )?;
        frame.dyn_into::<HtmlIFrameElement>().map_err(JsValue::from)
    }

    /// What a click on `target` asks for: the launcher toggles, the close
    /// button closes, Retry asks for a token again.
    pub(crate) fn click_action(target: &Element) -> Option<Action> {
        let button = target.closest("button").ok().flatten()?;
        let classes = button.class_list();
        if classes.contains("launcher") {
            Some(Action::Toggle)
        } else if classes.contains("close") {
            Some(Action::Close)
        } else if classes.contains("retry") {
            Some(Action::Retry)
        } else {
            None
        }
    }
}

impl Elements for View {
    fn launcher(&self) -> Option<Element> {
        Some(self.launcher.clone())
    }

    fn close(&self) -> Option<Element> {
        Some(self.close.clone())
    }

    fn frame(&self) -> Option<HtmlIFrameElement> {
        self.frame.borrow().as_ref().map(|(_, f)| f.clone())
    }
}

/// The badge shows at most "99+".
pub(crate) fn badge_text(unread: u32) -> String {
    if unread > 99 {
        "99+".to_owned()
    } else {
        unread.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::badge_text;

    #[test]
    fn badge_caps_at_99() {
        assert_eq!(badge_text(3), "3");
        assert_eq!(badge_text(99), "99");
        assert_eq!(badge_text(100), "99+");
    }
}
