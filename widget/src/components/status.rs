//! Status lines of the panel: loading, a failed token request (localized
//! text, the reason, Retry), or a banner over the chat when a refresh failed.

use yew::prelude::*;

/// Which status to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    /// Waiting for the token.
    Loading,
    /// No token: full-panel error.
    Failed {
        /// Why.
        reason: AttrValue,
    },
    /// A refresh failed while the chat is shown: a slim banner.
    Banner {
        /// Why.
        reason: AttrValue,
    },
}

/// Properties of [`StatusMessage`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct StatusMessageProps {
    /// What to show.
    pub kind: StatusKind,
    /// The localized loading text.
    pub loading: AttrValue,
    /// The localized "could not load" text.
    pub token_error: AttrValue,
    /// The localized Retry label.
    pub retry: AttrValue,
    /// Retry pressed.
    pub on_retry: Callback<()>,
}

/// A status line.
#[function_component(StatusMessage)]
pub fn status_message(props: &StatusMessageProps) -> Html {
    let on_retry = props.on_retry.clone();
    let onclick = Callback::from(move |_: MouseEvent| on_retry.emit(()));
    match &props.kind {
        StatusKind::Loading => html! {
            <div class="status" role="status">
                <span class="spinner" aria-hidden="true"></span>
                <p>{ props.loading.clone() }</p>
            </div>
        },
        StatusKind::Failed { reason } => html! {
            <div class="status" role="alert">
                <p class="error">{ props.token_error.clone() }</p>
                <p class="reason">{ reason.clone() }</p>
                <button type="button" class="retry" {onclick}>{ props.retry.clone() }</button>
            </div>
        },
        StatusKind::Banner { reason } => html! {
            <div class="banner" role="alert">
                <span>{ props.token_error.clone() }{" "}<span class="reason">{ reason.clone() }</span></span>
                <button type="button" class="retry" {onclick}>{ props.retry.clone() }</button>
            </div>
        },
    }
}
