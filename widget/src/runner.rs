//! Carrying out [`Effect`]s in the browser: token requests (with a
//! deadline), messages to the chat page, the refresh timer, focus, and events
//! for the host page; and turning `message` events into actions.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use sdk::Lang;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlIFrameElement, MessageEvent};
use yew::{Callback, NodeRef, UseReducerDispatcher};

use crate::bridge::{WidgetMessage, is_trusted, parse_page_message};
use crate::config::WidgetConfig;
use crate::dom::{self, ShadowHost};
use crate::effects::{Effect, WidgetEvent};
use crate::json::Json;
use crate::state::{Action, State};
use crate::token::TokenError;
use crate::token::fetch::fetch_grant;

/// Give up on a token request after this long (the user can Retry).
const FETCH_TIMEOUT_MS: u32 = 20_000;

/// Elements the effects need.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Refs {
    pub(crate) launcher: NodeRef,
    pub(crate) close: NodeRef,
    pub(crate) frame: NodeRef,
}

/// Live timers; dropping one cancels it.
#[derive(Default)]
pub(crate) struct Timers {
    refresh: Option<Timeout>,
    fetch_deadline: Option<Timeout>,
}

/// The action for a `message` event, if it is a trusted chat-page message.
pub(crate) fn page_action(event: &Event, state: &State, frame_ref: &NodeRef) -> Option<Action> {
    let event = event.dyn_ref::<MessageEvent>()?;
    let frame = state.frame.as_ref()?;
    let from_our_frame = frame_ref
        .cast::<HtmlIFrameElement>()
        .and_then(|f| f.content_window())
        .zip(event.source())
        .is_some_and(|(ours, sender)| JsValue::from(ours) == JsValue::from(sender));
    if !is_trusted(&event.origin(), &frame.origin, from_our_frame) {
        return None;
    }
    let data = Json::from_js(&event.data())?;
    parse_page_message(&data).ok().map(Action::Page)
}

/// Carries out effects.
pub(crate) struct Runner {
    pub(crate) dispatcher: UseReducerDispatcher<State>,
    pub(crate) live: Rc<RefCell<WidgetConfig>>,
    pub(crate) timers: Rc<RefCell<Timers>>,
    pub(crate) refs: Refs,
    pub(crate) shadow: Option<ShadowHost>,
    pub(crate) on_event: Callback<WidgetEvent>,
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
                let dispatcher = self.dispatcher.clone();
                self.timers.borrow_mut().refresh = at.map(|at| {
                    Timeout::new(delay_until(at), move || {
                        dispatcher.dispatch(Action::RefreshDue)
                    })
                });
            }
            Effect::FocusPanel => {
                let target = self
                    .refs
                    .frame
                    .get()
                    .or_else(|| self.refs.close.get())
                    .and_then(|n| n.dyn_into::<Element>().ok());
                dom::focus(target);
            }
            Effect::ReturnFocus => {
                let inside = self
                    .shadow
                    .as_ref()
                    .is_some_and(|s| s.root.active_element().is_some());
                if inside {
                    dom::focus(self.refs.launcher.cast::<Element>());
                }
            }
            Effect::Emit(event) => {
                if let Some(shadow) = &self.shadow {
                    dom::dispatch(&shadow.host, &event);
                }
                self.on_event.emit(event);
            }
        }
    }

    fn fetch(&self, ticket: u64, lang: Lang) {
        let (source, gateway) = {
            let live = self.live.borrow();
            (live.source.clone(), live.gateway.clone())
        };
        let dispatcher = self.dispatcher.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_grant(&source, gateway.as_deref(), lang).await;
            dispatcher.dispatch(Action::TokenFetched {
                ticket,
                result,
                now_ms: js_sys::Date::now(),
            });
        });
        // Whichever answers first wins; the reducer drops the other.
        let dispatcher = self.dispatcher.clone();
        self.timers.borrow_mut().fetch_deadline = Some(Timeout::new(FETCH_TIMEOUT_MS, move || {
            dispatcher.dispatch(Action::TokenFetched {
                ticket,
                result: Err(TokenError::Network("no answer within 20 s".into())),
                now_ms: js_sys::Date::now(),
            });
        }));
    }

    fn post(&self, message: &WidgetMessage, origin: &str) {
        if let Some(frame) = self.refs.frame.cast::<HtmlIFrameElement>() {
            dom::post(&frame, message, origin);
        }
    }
}

/// Milliseconds from now until `at` (epoch ms), as a timer delay.
fn delay_until(at: f64) -> u32 {
    (at - js_sys::Date::now()).clamp(0.0, f64::from(i32::MAX)) as u32
}
