//! The widget's Yew components, one per file.
//!
//! - [`ChatWidget`]: the root. Owns the state, carries out effects, listens
//!   for the chat page's messages, and renders into its own shadow root.
//! - [`Launcher`]: the round button with the unread badge.
//! - [`Panel`]: the dialog with header, status and the chat page.
//! - [`StatusMessage`]: loading text, error with Retry, or refresh banner.
//! - [`ChatFrame`]: the chat page's iframe.

mod chat_frame;
mod chat_widget;
mod launcher;
mod panel;
mod status;

pub use chat_frame::{ChatFrame, ChatFrameProps};
pub use chat_widget::{ChatWidget, ChatWidgetProps};
pub use launcher::{Launcher, LauncherProps};
pub use panel::{Panel, PanelProps, PanelStatus};
pub use status::{StatusKind, StatusMessage, StatusMessageProps};
