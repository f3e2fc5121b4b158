//! What the browser must do after a state change, derived from the pair
//! (before, after) so the reducer stays pure and the rules stay testable.
//!
//! Several actions may be reduced between two renders; planning from the
//! first "before" to the last "after" then coalesces them (two replies give
//! one `unread` event with count 2), which is what a host wants.

use std::fmt;

use sdk::Lang;

use crate::json::Json;
use crate::state::{Fetch, State};

/// A side effect for the renderer (Yew component or `mount()`) to carry out.
#[derive(Clone, PartialEq)]
pub enum Effect {
    /// Ask the token source for a token in `lang`; answer with ticket `ticket`.
    FetchToken {
        /// The request's ticket.
        ticket: u64,
        /// The language to ask in.
        lang: Lang,
    },
    /// Post a `token` message to the chat page.
    PostToken {
        /// The token.
        token: String,
        /// Target origin (the gateway's).
        origin: String,
    },
    /// Post a `lang` message to the chat page.
    PostLang {
        /// The language.
        lang: Lang,
        /// Target origin (the gateway's).
        origin: String,
    },
    /// (Re)arm the refresh timer for this time (epoch ms), or disarm it.
    ScheduleRefresh(Option<f64>),
    /// Move focus into the panel.
    FocusPanel,
    /// Give focus back to the launcher if it is inside the widget.
    ReturnFocus,
    /// Tell the host page.
    Emit(WidgetEvent),
}

impl fmt::Debug for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::FetchToken { ticket, lang } => write!(f, "FetchToken({ticket}, {lang})"),
            Effect::PostToken { origin, .. } => write!(f, "PostToken(<redacted> to {origin})"),
            Effect::PostLang { lang, origin } => write!(f, "PostLang({lang} to {origin})"),
            Effect::ScheduleRefresh(at) => write!(f, "ScheduleRefresh({at:?})"),
            Effect::FocusPanel => f.write_str("FocusPanel"),
            Effect::ReturnFocus => f.write_str("ReturnFocus"),
            Effect::Emit(event) => write!(f, "Emit({event:?})"),
        }
    }
}

/// An event the host page can listen to (`handle.on(name, fn)` or the DOM
/// event `tz-chat:<name>` on the widget's host element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidgetEvent {
    /// The chat page is loaded and talking to the widget.
    Ready,
    /// The panel opened.
    Opened,
    /// The panel closed.
    Closed,
    /// No token could be obtained.
    Error {
        /// Why.
        reason: String,
    },
    /// Replies that arrived while the panel was closed (0 after opening).
    Unread {
        /// How many.
        count: u32,
    },
}

impl WidgetEvent {
    /// The event's name.
    ///
    /// ```
    /// assert_eq!(widget::WidgetEvent::Unread { count: 2 }.name(), "unread");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            WidgetEvent::Ready => "ready",
            WidgetEvent::Opened => "opened",
            WidgetEvent::Closed => "closed",
            WidgetEvent::Error { .. } => "error",
            WidgetEvent::Unread { .. } => "unread",
        }
    }

    /// The event's detail object, as JSON.
    ///
    /// ```
    /// let e = widget::WidgetEvent::Unread { count: 2 };
    /// assert_eq!(e.detail().to_text(), r#"{"count":2}"#);
    /// ```
    pub fn detail(&self) -> Json {
        match self {
            WidgetEvent::Error { reason } => {
                Json::object([("reason", Json::from(reason.as_str()))])
            }
            WidgetEvent::Unread { count } => Json::object([("count", Json::from(*count))]),
            _ => Json::Object(Vec::new()),
        }
    }
}

/// The effects of going from `prev` to `next`.
///
/// ```
/// use widget::effects::{plan, Effect, WidgetEvent};
/// use widget::{Action, State};
///
/// let before = State::new(sdk::Lang::En, "http://localhost:3000");
/// let after = before.clone().apply(Action::Open);
/// let effects = plan(&before, &after);
/// assert!(effects.contains(&Effect::FetchToken { ticket: 1, lang: sdk::Lang::En }));
/// assert!(effects.contains(&Effect::Emit(WidgetEvent::Opened)));
/// ```
pub fn plan(prev: &State, next: &State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Fetch::InFlight { ticket, lang } = next.fetch
        && prev.fetch != next.fetch
    {
        effects.push(Effect::FetchToken { ticket, lang });
    }
    if let Some(frame) = &next.frame
        && let Some(before) = prev.frame.as_ref().filter(|f| f.id == frame.id)
    {
        if frame.delivered != before.delivered {
            effects.push(Effect::PostToken {
                token: frame.delivered.clone(),
                origin: frame.origin.clone(),
            });
        }
        if frame.lang != before.lang {
            effects.push(Effect::PostLang {
                lang: frame.lang,
                origin: frame.origin.clone(),
            });
        }
    }
    if prev.refresh_at != next.refresh_at {
        effects.push(Effect::ScheduleRefresh(next.refresh_at));
    }
    if prev.open != next.open {
        if next.open {
            effects.push(Effect::FocusPanel);
            effects.push(Effect::Emit(WidgetEvent::Opened));
        } else {
            effects.push(Effect::ReturnFocus);
            effects.push(Effect::Emit(WidgetEvent::Closed));
        }
    }
    let was_ready = |s: &State, id: u64| s.frame.as_ref().is_some_and(|f| f.id == id && f.ready);
    if let Some(frame) = next.frame.as_ref().filter(|f| f.ready)
        && !was_ready(prev, frame.id)
    {
        effects.push(Effect::Emit(WidgetEvent::Ready));
    }
    if let Some(reason) = &next.error
        && prev.error.as_ref() != Some(reason)
    {
        effects.push(Effect::Emit(WidgetEvent::Error {
            reason: reason.clone(),
        }));
    }
    if prev.unread != next.unread {
        effects.push(Effect::Emit(WidgetEvent::Unread { count: next.unread }));
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::PageMessage;
    use crate::state::Action;
    use crate::token::{Grant, TokenError};

    const NOW: f64 = 1_700_000_000_000.0;

    fn step(s: &State, action: Action) -> (State, Vec<Effect>) {
        let next = s.clone().apply(action);
        let effects = plan(s, &next);
        (next, effects)
    }

    fn answer(s: &State, token: &str) -> Action {
        let Fetch::InFlight { ticket, .. } = s.fetch else {
            panic!("no fetch under way");
        };
        Action::TokenFetched {
            ticket,
            result: Ok(Grant {
                token: token.into(),
                expires_at: 1_700_000_000 + 86_400,
                base: "https://gw.example.com".into(),
                ui: None,
            }),
            now_ms: NOW,
        }
    }

    #[test]
    fn open_fetch_ready_close_in_order() {
        let s = State::new(Lang::En, "https://shop.example.com");
        let (s, fx) = step(&s, Action::Open);
        assert_eq!(
            fx,
            vec![
                Effect::FetchToken {
                    ticket: 1,
                    lang: Lang::En
                },
                Effect::FocusPanel,
                Effect::Emit(WidgetEvent::Opened),
            ]
        );
        let a = answer(&s, "t1");
        let (s, fx) = step(&s, a);
        assert_eq!(
            fx,
            vec![Effect::ScheduleRefresh(Some(
                NOW + 86_400_000.0 - 300_000.0
            ))],
            "the first token goes in the iframe src, not in a message"
        );
        let (s, fx) = step(&s, Action::Page(PageMessage::Ready));
        assert_eq!(fx, vec![Effect::Emit(WidgetEvent::Ready)]);
        let (_, fx) = step(&s, Action::Close);
        assert_eq!(
            fx,
            vec![Effect::ReturnFocus, Effect::Emit(WidgetEvent::Closed)]
        );
    }

    #[test]
    fn close_from_the_page_closes_like_the_close_button() {
        let s = State::new(Lang::En, "https://shop.example.com").apply(Action::Open);
        let a = answer(&s, "t1");
        let s = s.apply(a).apply(Action::Page(PageMessage::Ready));
        let (closed, fx) = step(&s, Action::Page(PageMessage::Close));
        assert!(!closed.open);
        assert_eq!(
            fx,
            vec![Effect::ReturnFocus, Effect::Emit(WidgetEvent::Closed)],
            "focus leaves the iframe for the launcher"
        );
        // Already closed: nothing happens.
        let (_, fx) = step(&closed, Action::Page(PageMessage::Close));
        assert_eq!(fx, vec![]);
    }

    #[test]
    fn refreshed_token_is_posted_to_the_gateway_origin() {
        let s = State::new(Lang::En, "https://shop.example.com").apply(Action::Open);
        let a = answer(&s, "t1");
        let s = s.apply(a).apply(Action::Page(PageMessage::Ready));
        let (s, fx) = step(&s, Action::Page(PageMessage::TokenExpired));
        assert!(matches!(
            fx.as_slice(),
            [Effect::FetchToken { ticket: 2, .. }]
        ));
        let a = answer(&s, "t2");
        let (_, fx) = step(&s, a);
        assert!(fx.contains(&Effect::PostToken {
            token: "t2".into(),
            origin: "https://gw.example.com".into()
        }));
        assert!(!format!("{fx:?}").contains("t2"), "tokens stay out of logs");
    }

    #[test]
    fn language_change_is_posted_once_ready() {
        let s = State::new(Lang::En, "https://shop.example.com").apply(Action::Open);
        let a = answer(&s, "t1");
        let s = s.apply(a).apply(Action::Page(PageMessage::Ready));
        let (_, fx) = step(&s, Action::SetLang(Lang::Ko));
        assert_eq!(
            fx,
            vec![Effect::PostLang {
                lang: Lang::Ko,
                origin: "https://gw.example.com".into()
            }]
        );
    }

    #[test]
    fn errors_and_unread_are_emitted() {
        let s = State::new(Lang::En, "https://shop.example.com").apply(Action::Open);
        let (s, fx) = step(
            &s,
            Action::TokenFetched {
                ticket: 1,
                result: Err(TokenError::NoToken),
                now_ms: NOW,
            },
        );
        assert_eq!(
            fx,
            vec![Effect::Emit(WidgetEvent::Error {
                reason: "no token in the answer".into()
            })]
        );
        // Retry that fails the same way is reported again.
        let (s, _) = step(&s, Action::Retry);
        let (s, fx) = step(
            &s,
            Action::TokenFetched {
                ticket: 2,
                result: Err(TokenError::NoToken),
                now_ms: NOW,
            },
        );
        assert_eq!(fx.len(), 1);
        let a = answer(&s.clone().apply(Action::Retry), "t1");
        let s = s
            .apply(Action::Retry)
            .apply(a)
            .apply(Action::Page(PageMessage::Ready))
            .apply(Action::Close);
        let reply = Action::Page(PageMessage::Reply {
            conversation_id: "c".into(),
        });
        let (s2, fx) = step(&s, reply);
        assert_eq!(fx, vec![Effect::Emit(WidgetEvent::Unread { count: 1 })]);
        let (_, fx) = step(&s2, Action::Open);
        assert!(fx.contains(&Effect::Emit(WidgetEvent::Unread { count: 0 })));
    }

    #[test]
    fn reset_disarms_the_timer() {
        let s = State::new(Lang::En, "https://shop.example.com").apply(Action::Open);
        let a = answer(&s, "t1");
        let s = s.apply(a).apply(Action::Close);
        let (_, fx) = step(&s, Action::Reset);
        assert_eq!(fx, vec![Effect::ScheduleRefresh(None)]);
    }

    #[test]
    fn event_details() {
        use serde_json::json;
        assert_eq!(
            WidgetEvent::Error { reason: "x".into() }.detail(),
            Json::from(json!({"reason": "x"}))
        );
        assert_eq!(WidgetEvent::Ready.detail(), Json::from(json!({})));
        assert_eq!(WidgetEvent::Closed.name(), "closed");
    }
}
