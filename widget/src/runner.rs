//! Carrying out [`Effect`]s in the browser: token requests (with a
//! deadline), messages to the chat page, the refresh timer, focus, and events
//! for the host page; turning `message` events and [`Command`]s into actions.
//!
//! Framework-free: both renderers (the Yew component and the direct-DOM
//! `mount()`) hand it their elements through [`Elements`] and their dispatch
//! as a plain function, so the behaviour is written once.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use sdk::Lang;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlIFrameElement, MessageEvent};

use crate::bridge::{WidgetMessage, is_trusted, parse_page_message};
use crate::config::{TokenSource, WidgetConfig, resolve_lang};
use crate::control::Command;
use crate::dom::{self, ShadowHost};
use crate::effects::{Effect, WidgetEvent};
use crate::json::Json;
use crate::state::{Action, State};
use crate::token::TokenError;
use crate::token::fetch::fetch_grant;

/// Give up on a token request after this long (the user can Retry).
const FETCH_TIMEOUT_MS: u32 = 20_000;

/// Reduces an action (the renderer's dispatch).
pub(crate) type Dispatch = Rc<dyn Fn(Action)>;

/// Tells the host page's listeners about an event.
pub(crate) type Notify = Rc<dyn Fn(&WidgetEvent)>;

/// The rendered elements effects act on.
pub(crate) trait Elements {
    /// The launcher button.
    fn launcher(&self) -> Option<Element>;
    /// The panel's close button.
    fn close(&self) -> Option<Element>;
    /// The chat page's iframe, when there is one.
    fn frame(&self) -> Option<HtmlIFrameElement>;
}

/// Live timers; dropping one cancels it.
#[derive(Default)]
pub(crate) struct Timers {
    refresh: Option<Timeout>,
    fetch_deadline: Option<Timeout>,
}

/// The state a widget starts in: the configured language (else the page's,
/// else the browser's), closed, no token.
pub(crate) fn initial_state(config: &WidgetConfig) -> State {
    let lang = resolve_lang(
        config.lang,
        dom::page_lang().as_deref(),
        &dom::browser_langs(),
    );
    State::new(lang, dom::page_origin())
}

/// The action for a `message` event, if it is a trusted chat-page message.
pub(crate) fn page_action(
    event: &Event,
    state: &State,
    frame_element: Option<HtmlIFrameElement>,
) -> Option<Action> {
    let event = event.dyn_ref::<MessageEvent>()?;
    let frame = state.frame.as_ref()?;
    let from_our_frame = frame_element
        .and_then(|f| f.content_window())
        .zip(event.source())
        .is_some_and(|(ours, sender)| JsValue::from(ours) == JsValue::from(sender));
    if !is_trusted(&event.origin(), &frame.origin, from_our_frame) {
        return None;
    }
    let data = Json::from_js(&event.data())?;
    parse_page_message(&data).ok().map(Action::Page)
}

/// Carry out a [`Command`] from a [`crate::WidgetControl`]: source and user
/// changes go to `live` (read by the next token request), then reset.
pub(crate) fn apply_command(
    dispatch: &dyn Fn(Action),
    live: &RefCell<WidgetConfig>,
    command: Command,
) {
    match command {
        Command::Act(action) => dispatch(action),
        Command::SetUser(user) => {
            if let TokenSource::ApiKey { user_id, .. } = &mut live.borrow_mut().source {
                *user_id = user;
            }
            dispatch(Action::Reset);
        }
        Command::SetSource { source, gateway } => {
            {
                let mut live = live.borrow_mut();
                live.source = source;
                if gateway.is_some() {
                    live.gateway = gateway;
                }
            }
            dispatch(Action::Reset);
        }
    }
}

/// Carries out effects.
pub(crate) struct Runner {
    pub(crate) dispatch: Dispatch,
    pub(crate) live: Rc<RefCell<WidgetConfig>>,
    pub(crate) timers: Rc<RefCell<Timers>>,
    pub(crate) elements: Rc<dyn Elements>,
    pub(crate) shadow: Option<ShadowHost>,
    pub(crate) on_event: Notify,
}

impl Runner {
    pub(crate) fn run(&self, effect: Effect) {
        match effect {
            Effect::FetchToken { ticket, lang } => self.fetch(ticket, lang),
            Effect::PostToken { token, origin } => {
                self.post(&WidgetMessage::Token { token }, &origin);
            }
            Effect::PostLang { lang, origin } => self.post(&WidgetMessage::Lang { lang }, &origin),
            Effect::ScheduleRefresh(at) => {
                let dispatch = self.dispatch.clone();
                self.timers.borrow_mut().refresh = at
                    .map(|at| Timeout::new(delay_until(at), move || dispatch(Action::RefreshDue)));
            }
            Effect::FocusPanel => {
                let target = self
                    .elements
                    .frame()
                    .map(Element::from)
                    .or_else(|| self.elements.close());
                dom::focus(target);
            }
            Effect::ReturnFocus => {
                let inside = self
                    .shadow
                    .as_ref()
                    .is_some_and(|s| s.root.active_element().is_some());
                if inside {
                    dom::focus(self.elements.launcher());
                }
            }
            Effect::Emit(event) => {
                if let Some(shadow) = &self.shadow {
                    dom::dispatch(&shadow.host, &event);
                }
                (self.on_event)(&event);
            }
        }
    }

    fn fetch(&self, ticket: u64, lang: Lang) {
        let (source, gateway) = {
            let live = self.live.borrow();
            (live.source.clone(), live.gateway.clone())
        };
        let dispatch = self.dispatch.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_grant(&source, gateway.as_deref(), lang).await;
            dispatch(Action::TokenFetched {
                ticket,
                result,
                now_ms: js_sys::Date::now(),
            });
        });
        // Whichever answers first wins; the reducer drops the other.
        let dispatch = self.dispatch.clone();
        self.timers.borrow_mut().fetch_deadline = Some(Timeout::new(FETCH_TIMEOUT_MS, move || {
            dispatch(Action::TokenFetched {
                ticket,
                result: Err(TokenError::Network("no answer within 20 s".into())),
                now_ms: js_sys::Date::now(),
            });
        }));
    }

    fn post(&self, message: &WidgetMessage, origin: &str) {
        if let Some(frame) = self.elements.frame() {
            dom::post(&frame, message, origin);
        }
    }
}

/// Milliseconds from now until `at` (epoch ms), as a timer delay.
fn delay_until(at: f64) -> u32 {
    (at - js_sys::Date::now()).clamp(0.0, f64::from(i32::MAX)) as u32
}
