//! [`ChatWidget`]: the root component.
//!
//! It renders through a portal into its own shadow root (see [`crate::dom`]),
//! appended to `container` (default `document.body`) while mounted. After each
//! render it compares the state with the previous one and has
//! `crate::runner` carry out [`crate::effects::plan`]: token requests,
//! messages to the chat page, timers, focus, and events for the host page.

use std::rc::Rc;

use gloo_events::EventListener;
use web_sys::{Element, HtmlIFrameElement};
use yew::prelude::*;

use super::{Launcher, Panel, PanelStatus};
use crate::config::WidgetConfig;
use crate::control::{Snapshot, WidgetControl};
use crate::dom::ShadowHost;
use crate::effects::{WidgetEvent, plan};
use crate::i18n;
use crate::runner::{
    Dispatch, Elements, Runner, Timers, apply_command, initial_state, page_action,
};
use crate::state::{Action, Body, State};

/// The elements effects need, as Yew renders them.
#[derive(Clone, Default, PartialEq)]
struct Refs {
    launcher: NodeRef,
    close: NodeRef,
    frame: NodeRef,
}

impl Elements for Refs {
    fn launcher(&self) -> Option<Element> {
        self.launcher.cast()
    }

    fn close(&self) -> Option<Element> {
        self.close.cast()
    }

    fn frame(&self) -> Option<HtmlIFrameElement> {
        self.frame.cast()
    }
}

/// The reducer's dispatcher as the runner's plain function.
fn dispatch_fn(dispatcher: UseReducerDispatcher<State>) -> Dispatch {
    Rc::new(move |action| dispatcher.dispatch(action))
}

/// Properties of [`ChatWidget`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct ChatWidgetProps {
    /// Gateway, token source, language, initial state. Changing the source or
    /// the gateway resets the widget (as after a sign-out); changing `lang`
    /// switches the language. `open` and `preload` are read at mount.
    pub config: WidgetConfig,
    /// Called for every [`WidgetEvent`].
    #[prop_or_default]
    pub on_event: Callback<WidgetEvent>,
    /// Drive the widget from outside (open, close, set user…).
    #[prop_or_default]
    pub control: Option<WidgetControl>,
    /// Where the widget's host element goes (default `document.body`).
    #[prop_or_default]
    pub container: Option<Element>,
}

/// The chat widget: a launcher and a panel holding the gateway's chat page.
///
/// ```ignore
/// use widget::{ChatWidget, RawConfig};
/// use yew::prelude::*;
///
/// #[function_component(App)]
/// fn app() -> Html {
///     let config = RawConfig { token_url: Some("/api/chat-token".into()), ..Default::default() }
///         .validate()
///         .expect("valid widget config");
///     html! { <ChatWidget {config} /> }
/// }
/// ```
#[function_component(ChatWidget)]
pub fn chat_widget(props: &ChatWidgetProps) -> Html {
    let shadow = use_memo((), |_| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| ShadowHost::create(&d).ok())
    });
    let state = use_reducer({
        let config = props.config.clone();
        move || initial_state(&config)
    });
    let live = use_mut_ref(|| props.config.clone());
    let last_props = use_mut_ref(|| props.config.clone());
    let current = use_mut_ref(|| (*state).clone());
    let previous = use_mut_ref(|| None::<State>);
    let timers = use_mut_ref(Timers::default);
    let refs = use_memo((), |_| Rc::new(Refs::default()));

    // Put the host element in the page while mounted.
    {
        let container = props.container.clone();
        use_effect_with(shadow.clone(), move |shadow| {
            let host = (**shadow).as_ref().map(|s| s.host.clone());
            let parent = container.or_else(|| {
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.body())
                    .map(Element::from)
            });
            if let (Some(host), Some(parent)) = (&host, &parent) {
                let _ = parent.append_child(host);
            }
            move || {
                if let Some(host) = host {
                    host.remove();
                }
            }
        });
    }

    // Initial open / preload.
    {
        let dispatcher = state.dispatcher();
        let (open, preload) = (props.config.open, props.config.preload);
        use_effect_with((), move |_| {
            if preload {
                dispatcher.dispatch(Action::Preload);
            }
            if open {
                dispatcher.dispatch(Action::Open);
            }
        });
    }

    // Commands from a WidgetControl.
    {
        let dispatch = dispatch_fn(state.dispatcher());
        let live = live.clone();
        use_effect_with(props.control.clone(), move |control| {
            let control = control.clone();
            if let Some(control) = &control {
                control.connect(Rc::new(move |command| {
                    apply_command(&*dispatch, &live, command);
                }));
            }
            move || {
                if let Some(control) = control {
                    control.disconnect();
                }
            }
        });
    }

    // Property changes after mount.
    {
        let dispatcher = state.dispatcher();
        let live = live.clone();
        use_effect_with(props.config.clone(), move |config| {
            let before = last_props.replace(config.clone());
            if before.source != config.source || before.gateway != config.gateway {
                {
                    let mut live = live.borrow_mut();
                    live.source = config.source.clone();
                    live.gateway = config.gateway.clone();
                }
                dispatcher.dispatch(Action::Reset);
            }
            if before.lang != config.lang
                && let Some(lang) = config.lang
            {
                dispatcher.dispatch(Action::SetLang(lang));
            }
        });
    }

    // Messages from the chat page.
    {
        let dispatcher = state.dispatcher();
        let current = current.clone();
        let frame_ref = refs.frame.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "message", move |event| {
                    if let Some(action) = page_action(event, &current.borrow(), frame_ref.cast()) {
                        dispatcher.dispatch(action);
                    }
                })
            });
            move || drop(listener)
        });
    }

    // Effects of the last state change.
    {
        let next = (*state).clone();
        let on_event = props.on_event.clone();
        let runner = Runner {
            dispatch: dispatch_fn(state.dispatcher()),
            live: live.clone(),
            timers: timers.clone(),
            elements: Rc::clone(&*refs) as Rc<dyn Elements>,
            shadow: (*shadow).clone(),
            on_event: Rc::new(move |event: &WidgetEvent| on_event.emit(event.clone())),
        };
        let control = props.control.clone();
        use_effect(move || {
            *current.borrow_mut() = next.clone();
            if let Some(control) = &control {
                control.report(Snapshot::of(&next));
            }
            let before = previous.replace(Some(next.clone()));
            if let Some(before) = before {
                for effect in plan(&before, &next) {
                    runner.run(effect);
                }
            }
        });
    }

    // Disarm timers on unmount.
    {
        use_effect_with((), move |_| {
            move || *timers.borrow_mut() = Timers::default()
        });
    }

    let Some(shadow) = (*shadow).clone() else {
        return Html::default();
    };
    let dispatcher = state.dispatcher();
    let act = |action: Action| {
        let dispatcher = dispatcher.clone();
        Callback::from(move |()| dispatcher.dispatch(action.clone()))
    };
    // Esc on the widget's own controls. Inside the iframe the key never
    // reaches this handler; the chat page posts `close` instead (bridge).
    let onkeydown = {
        let dispatcher = dispatcher.clone();
        let open = state.open;
        Callback::from(move |event: KeyboardEvent| {
            if open && event.key() == "Escape" {
                event.stop_propagation();
                dispatcher.dispatch(Action::Close);
            }
        })
    };
    let texts = state.texts();
    let status = match state.body() {
        Body::Loading => PanelStatus::Loading,
        Body::Failed(reason) => PanelStatus::Failed(AttrValue::from(reason.to_owned())),
        Body::Chat { banner } => PanelStatus::Chat(banner.map(|b| AttrValue::from(b.to_owned()))),
    };
    let frame = state
        .frame
        .as_ref()
        .map(|f| (f.id, AttrValue::from(f.src.clone())));
    let launcher_label = if state.open {
        texts.close.clone()
    } else {
        texts.open.clone()
    };
    let content = html! {
        <div class="root" lang={state.lang.as_str()} {onkeydown}>
            <Panel
                open={state.open}
                texts={texts}
                retry={i18n::retry(state.lang)}
                {status}
                {frame}
                close_ref={refs.close.clone()}
                frame_ref={refs.frame.clone()}
                on_close={act(Action::Close)}
                on_retry={act(Action::Retry)}
            />
            <Launcher
                open={state.open}
                unread={state.unread}
                label={launcher_label}
                on_press={act(Action::Toggle)}
                button_ref={refs.launcher.clone()}
            />
        </div>
    };
    create_portal(content, shadow.mount)
}
