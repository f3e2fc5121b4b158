//! The widget's state machine: one [`State`], changed only by [`Action`]s.
//!
//! The reducer is pure (no DOM, no clock: times arrive inside actions), so
//! every rule below is tested natively. What the browser must *do* after a
//! change (fetch, post a message, focus, emit an event) is derived from the
//! before/after pair by [`crate::effects::plan`].
//!
//! Rules:
//! - a token is fetched on the first open (or at mount with `preload`), when
//!   the refresh time comes, when the chat page reports it expired, on Retry,
//!   and when the panel is opened after a failure; never twice at once;
//! - a fetch result is applied only if it answers the latest request
//!   (its ticket), so a late answer for a signed-out user is dropped;
//! - the iframe is created once per user session and kept while the panel is
//!   closed; a refreshed token is posted to it, never put in a new `src`;
//! - the chat page's `close` message (Esc inside the iframe) closes the panel
//!   like the close button, and nothing else;
//! - [`Action::Reset`] (sign-in, sign-out, new token source) forgets the
//!   token, the iframe and the unread count.

use std::fmt;

use sdk::{Lang, UiTexts};

use crate::bridge::PageMessage;
use crate::token::{self, Grant, TokenError};

/// Retry a failed background refresh after this long (the old token may still
/// be valid, so the chat keeps working meanwhile).
pub const REFRESH_RETRY_MS: f64 = 60_000.0;

/// Everything the widget shows and knows.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The panel is open.
    pub open: bool,
    /// Interface language.
    pub lang: Lang,
    /// `location.origin` of the host page (sent to the chat page as `parent`).
    pub parent_origin: String,
    /// Bumped by every [`Action::Reset`].
    pub session: u64,
    /// Shell texts that came with a token, and the language they are in.
    pub ui: Option<(Lang, UiTexts)>,
    /// The current token.
    pub grant: Option<Grant>,
    /// The token request under way, if any.
    pub fetch: Fetch,
    /// Why the last token request failed.
    pub error: Option<String>,
    /// The chat page's iframe, once there is a token.
    pub frame: Option<Frame>,
    /// Replies that finished while the panel was closed.
    pub unread: u32,
    /// When to refresh the token (epoch ms).
    pub refresh_at: Option<f64>,
    tickets: u64,
    frames: u64,
}

/// A token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// None under way.
    Idle,
    /// Request number `ticket`, made for `lang`.
    InFlight {
        /// Identifies the request; older answers are dropped.
        ticket: u64,
        /// The language asked for (the answer's `ui` is in it).
        lang: Lang,
    },
}

/// The chat page's iframe.
#[derive(Clone, PartialEq)]
pub struct Frame {
    /// Changes whenever a new iframe element must be created.
    pub id: u64,
    /// Its `src` (holds the first token).
    pub src: String,
    /// The gateway's origin: the only origin it may post from.
    pub origin: String,
    /// The page said `ready`.
    pub ready: bool,
    /// The token the page has (in `src`, or posted).
    pub delivered: String,
    /// The language the page has.
    pub lang: Lang,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("id", &self.id)
            .field("origin", &self.origin)
            .field("ready", &self.ready)
            .field("lang", &self.lang)
            .finish_non_exhaustive()
    }
}

/// Something that happened: a user gesture, a host API call, a fetch result,
/// a timer, or a message from the chat page.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the panel.
    Open,
    /// Close the panel.
    Close,
    /// Open if closed, close if open.
    Toggle,
    /// Get a token and load the chat page without opening.
    Preload,
    /// Change the interface language.
    SetLang(Lang),
    /// The signed-in user or the token source changed.
    Reset,
    /// The user pressed Retry.
    Retry,
    /// A token request finished.
    TokenFetched {
        /// The request's ticket.
        ticket: u64,
        /// Its outcome.
        result: Result<Grant, TokenError>,
        /// When it finished (epoch ms).
        now_ms: f64,
    },
    /// The refresh timer fired.
    RefreshDue,
    /// A trusted message from the chat page.
    Page(PageMessage),
}

/// What the panel body shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// The localized loading text.
    Loading,
    /// The localized token error, the reason and Retry.
    Failed(&'a str),
    /// The chat page, with an error banner when a refresh failed.
    Chat {
        /// Why the last refresh failed, if it did.
        banner: Option<&'a str>,
    },
}

impl State {
    /// A closed widget with no token yet.
    ///
    /// ```
    /// let s = widget::State::new(sdk::Lang::Ko, "https://shop.example.com");
    /// assert!(!s.open);
    /// assert_eq!(s.texts().title, "채팅");
    /// ```
    pub fn new(lang: Lang, parent_origin: impl Into<String>) -> Self {
        Self {
            open: false,
            lang,
            parent_origin: parent_origin.into(),
            session: 0,
            ui: None,
            grant: None,
            fetch: Fetch::Idle,
            error: None,
            frame: None,
            unread: 0,
            refresh_at: None,
            tickets: 0,
            frames: 0,
        }
    }

    /// The shell texts: the token answer's `ui` when it is in the current
    /// language, else the built-in table (the same one the gateway uses).
    pub fn texts(&self) -> UiTexts {
        match &self.ui {
            Some((lang, texts)) if *lang == self.lang => texts.clone(),
            _ => UiTexts::for_lang(self.lang),
        }
    }

    /// What the panel body shows.
    pub fn body(&self) -> Body<'_> {
        let in_flight = matches!(self.fetch, Fetch::InFlight { .. });
        match (&self.frame, self.error.as_deref()) {
            (Some(_), banner) => Body::Chat { banner },
            (None, Some(reason)) if !in_flight => Body::Failed(reason),
            (None, _) => Body::Loading,
        }
    }

    /// The state after `action`.
    ///
    /// ```
    /// use widget::{Action, State};
    ///
    /// let s = State::new(sdk::Lang::En, "http://localhost:3000").apply(Action::Open);
    /// assert!(s.open);
    /// assert!(matches!(s.fetch, widget::state::Fetch::InFlight { ticket: 1, .. }));
    /// ```
    #[must_use]
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Open => self.open(),
            Action::Close => self.open = false,
            Action::Toggle if self.open => self.open = false,
            Action::Toggle => self.open(),
            Action::Preload => {
                if self.grant.is_none() {
                    self.start_fetch();
                }
            }
            Action::SetLang(lang) => self.set_lang(lang),
            Action::Reset => self.reset(),
            Action::Retry => self.start_fetch(),
            Action::TokenFetched {
                ticket,
                result,
                now_ms,
            } => self.token_fetched(ticket, result, now_ms),
            Action::RefreshDue => {
                self.refresh_at = None;
                if self.grant.is_some() {
                    self.start_fetch();
                }
            }
            Action::Page(message) => self.page(&message),
        }
        self
    }

    fn open(&mut self) {
        self.open = true;
        self.unread = 0;
        if self.grant.is_none() || self.error.is_some() {
            self.start_fetch();
        }
    }

    fn start_fetch(&mut self) {
        if matches!(self.fetch, Fetch::InFlight { .. }) {
            return;
        }
        self.tickets += 1;
        self.fetch = Fetch::InFlight {
            ticket: self.tickets,
            lang: self.lang,
        };
        self.error = None;
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        if let Some(frame) = self.frame.as_mut().filter(|f| f.ready) {
            frame.lang = lang;
        }
    }

    fn reset(&mut self) {
        self.session += 1;
        self.grant = None;
        self.ui = None;
        self.fetch = Fetch::Idle;
        self.error = None;
        self.frame = None;
        self.unread = 0;
        self.refresh_at = None;
        if self.open {
            self.start_fetch();
        }
    }

    fn token_fetched(&mut self, ticket: u64, result: Result<Grant, TokenError>, now_ms: f64) {
        let Fetch::InFlight {
            ticket: expected,
            lang: asked_in,
        } = self.fetch
        else {
            return;
        };
        if ticket != expected {
            return;
        }
        self.fetch = Fetch::Idle;
        let grant = match result {
            Ok(grant) => grant,
            Err(error) => {
                self.error = Some(error.to_string());
                // A background refresh failed: the old token may still work,
                // so keep the chat and try again later.
                self.refresh_at = self.grant.as_ref().map(|_| now_ms + REFRESH_RETRY_MS);
                return;
            }
        };
        self.error = None;
        if let Some(ui) = grant.ui.clone() {
            self.ui = Some((asked_in, ui));
        }
        self.refresh_at = token::refresh_at(now_ms, grant.expires_at);
        let origin = grant.origin();
        match self.frame.as_mut() {
            Some(frame) if frame.origin == origin => {
                if frame.ready {
                    frame.delivered = grant.token.clone();
                }
            }
            _ => {
                self.frames += 1;
                self.frame = Some(Frame {
                    id: self.frames,
                    src: token::frame_src(&grant, self.lang, &self.parent_origin),
                    origin,
                    ready: false,
                    delivered: grant.token.clone(),
                    lang: self.lang,
                });
            }
        }
        self.grant = Some(grant);
    }

    fn page(&mut self, message: &PageMessage) {
        let Some(frame) = self.frame.as_mut() else {
            return;
        };
        match message {
            PageMessage::Ready => {
                frame.ready = true;
                frame.lang = self.lang;
                if let Some(grant) = &self.grant {
                    frame.delivered = grant.token.clone();
                }
            }
            PageMessage::TokenExpired => self.start_fetch(),
            PageMessage::Reply { .. } => {
                if !self.open {
                    self.unread = self.unread.saturating_add(1);
                }
            }
            PageMessage::Close => self.open = false,
        }
    }
}

#[cfg(feature = "yew")]
impl yew::Reducible for State {
    type Action = Action;

    fn reduce(self: std::rc::Rc<Self>, action: Action) -> std::rc::Rc<Self> {
        let next = (*self).clone().apply(action);
        if next == *self {
            self
        } else {
            std::rc::Rc::new(next)
        }
    }
}

#[cfg(test)]
mod tests;
