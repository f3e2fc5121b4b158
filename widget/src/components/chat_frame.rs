//! The chat page's iframe.
//!
//! It asks for nothing it does not need: no camera, microphone or
//! geolocation; `clipboard-write` only, for copying answers. No referrer
//! leaves the host page, and the sandbox keeps the page from navigating the
//! host (`allow-same-origin` is needed so the page keeps the gateway's
//! origin for its API calls and messages).

use yew::prelude::*;

/// Properties of [`ChatFrame`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct ChatFrameProps {
    /// The chat page URL (with the first token).
    pub src: AttrValue,
    /// Accessible title (the panel title).
    pub title: AttrValue,
    /// The iframe element (messages are posted to its window).
    pub frame_ref: NodeRef,
}

/// The chat page in an iframe.
#[function_component(ChatFrame)]
pub fn chat_frame(props: &ChatFrameProps) -> Html {
    html! {
        <iframe
            ref={props.frame_ref.clone()}
            class="frame"
            src={props.src.clone()}
            title={props.title.clone()}
            referrerpolicy="no-referrer"
            allow="clipboard-write"
            sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"
        />
    }
}
