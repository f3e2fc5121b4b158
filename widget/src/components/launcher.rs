//! The launcher: a round button that opens and closes the panel, with a badge
//! counting replies that arrived while the panel was closed.

use yew::prelude::*;

use crate::view::badge_text;

/// Properties of [`Launcher`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct LauncherProps {
    /// The panel is open.
    pub open: bool,
    /// Unread replies (badge hidden at 0).
    pub unread: u32,
    /// Accessible name: the localized "open" (or "close" when open) text.
    pub label: AttrValue,
    /// Pressed.
    pub on_press: Callback<()>,
    /// The button element (focus returns here on close).
    pub button_ref: NodeRef,
}

/// The round launcher button.
#[function_component(Launcher)]
pub fn launcher(props: &LauncherProps) -> Html {
    let on_press = props.on_press.clone();
    let onclick = Callback::from(move |_: MouseEvent| on_press.emit(()));
    let label = match props.unread {
        0 => props.label.to_string(),
        n => format!("{} ({n})", props.label),
    };
    html! {
        <button
            ref={props.button_ref.clone()}
            type="button"
            class={classes!("launcher", props.open.then_some("open"))}
            aria-label={label.clone()}
            title={label}
            aria-expanded={props.open.to_string()}
            aria-controls="tz-chat-panel"
            {onclick}
        >
            <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                if props.open {
                    <path d="M6 6l12 12M18 6L6 18" />
                } else {
                    <path d="M4 5h16v11H9l-5 4z" />
                }
            </svg>
            if props.unread > 0 {
                <span class="badge" aria-hidden="true">{ badge_text(props.unread) }</span>
            }
        </button>
    }
}
