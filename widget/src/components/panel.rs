//! The panel: a labelled, non-modal dialog with a header (title, close) and a
//! body (status and the chat page).
//!
//! The panel stays in the DOM while closed so the chat page keeps its
//! conversation; closed, it is `visibility: hidden`, which also takes it out
//! of the tab order and the accessibility tree.

use sdk::UiTexts;
use yew::prelude::*;

use super::{ChatFrame, StatusKind, StatusMessage};

/// What the body shows besides the chat page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelStatus {
    /// Loading text.
    Loading,
    /// Error with Retry instead of the chat page.
    Failed(AttrValue),
    /// The chat page, with an error banner if `Some`.
    Chat(Option<AttrValue>),
}

/// Properties of [`Panel`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct PanelProps {
    /// Shown.
    pub open: bool,
    /// Localized shell texts.
    pub texts: UiTexts,
    /// Localized Retry label.
    pub retry: AttrValue,
    /// What the body shows.
    pub status: PanelStatus,
    /// The chat page: iframe key and URL.
    pub frame: Option<(u64, AttrValue)>,
    /// The close button (focus target while loading).
    pub close_ref: NodeRef,
    /// The iframe.
    pub frame_ref: NodeRef,
    /// Close pressed.
    pub on_close: Callback<()>,
    /// Retry pressed.
    pub on_retry: Callback<()>,
}

/// The chat panel.
#[function_component(Panel)]
pub fn panel(props: &PanelProps) -> Html {
    let texts = &props.texts;
    let on_close = props.on_close.clone();
    let close = Callback::from(move |_: MouseEvent| on_close.emit(()));
    let status = |kind| {
        html! {
            <StatusMessage
                {kind}
                loading={texts.loading.clone()}
                token_error={texts.token_error.clone()}
                retry={props.retry.clone()}
                on_retry={props.on_retry.clone()}
            />
        }
    };
    html! {
        <section
            id="tz-chat-panel"
            class={classes!("panel", props.open.then_some("open"))}
            role="dialog"
            aria-modal="false"
            aria-labelledby="tz-chat-title"
        >
            <header class="header">
                <h2 id="tz-chat-title" class="title">{ texts.title.clone() }</h2>
                <button
                    ref={props.close_ref.clone()}
                    type="button"
                    class="close"
                    aria-label={texts.close.clone()}
                    title={texts.close.clone()}
                    onclick={close}
                >{ "×" }</button>
            </header>
            <div class="body">
                {
                    match &props.status {
                        PanelStatus::Loading => status(StatusKind::Loading),
                        PanelStatus::Failed(reason) => status(StatusKind::Failed { reason: reason.clone() }),
                        PanelStatus::Chat(Some(reason)) => status(StatusKind::Banner { reason: reason.clone() }),
                        PanelStatus::Chat(None) => html! {},
                    }
                }
                // A one-element keyed list: a new key (another user) makes a
                // new iframe instead of navigating the old one.
                { for props.frame.iter().map(|(id, src)| html! {
                    <ChatFrame
                        key={id.to_string()}
                        src={src.clone()}
                        title={texts.title.clone()}
                        frame_ref={props.frame_ref.clone()}
                    />
                }) }
            </div>
        </section>
    }
}
