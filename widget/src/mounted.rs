//! A widget made by `mount()`, without Yew: it owns the [`State`], the
//! [`View`], the page listeners and the timers, and after every change
//! updates the view and has [`Runner`] carry out [`plan`]'s effects: the
//! same loop as the Yew component's render-then-effects.
//!
//! Actions dispatched while one is handled (an effect's listener calling
//! `open()`, say) are queued and handled after it, so the state is never
//! borrowed twice. A mounted widget lives until [`Mounted::destroy`], even
//! when the host page drops its handle: its listeners hold it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, KeyboardEvent};

use crate::config::WidgetConfig;
use crate::control::{Snapshot, WidgetControl};
use crate::dom::ShadowHost;
use crate::effects::plan;
use crate::runner::{
    Dispatch, Elements, Notify, Runner, Timers, apply_command, initial_state, page_action,
};
use crate::state::{Action, State};
use crate::view::View;

/// A widget on the page.
pub(crate) struct Mounted {
    inner: Rc<Inner>,
}

struct Inner {
    state: RefCell<State>,
    queue: RefCell<Vec<Action>>,
    busy: Cell<bool>,
    alive: Cell<bool>,
    view: Rc<View>,
    shadow: ShadowHost,
    live: Rc<RefCell<WidgetConfig>>,
    timers: Rc<RefCell<Timers>>,
    control: WidgetControl,
    on_event: Notify,
    listeners: RefCell<Vec<EventListener>>,
}

impl Mounted {
    /// Build the widget, put it in `container` and connect `control`.
    pub(crate) fn new(
        container: &Element,
        config: WidgetConfig,
        control: WidgetControl,
        on_event: Notify,
    ) -> Result<Self, JsValue> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let shadow = ShadowHost::create(&document)?;
        let state = initial_state(&config);
        let view = View::new(&document, &shadow.mount, &state)?;
        let (open, preload) = (config.open, config.preload);
        let inner = Rc::new(Inner {
            state: RefCell::new(state),
            queue: RefCell::default(),
            busy: Cell::new(false),
            alive: Cell::new(true),
            view: Rc::new(view),
            shadow,
            live: Rc::new(RefCell::new(config)),
            timers: Rc::default(),
            control,
            on_event,
            listeners: RefCell::default(),
        });
        container.append_child(&inner.shadow.host)?;
        inner.listen();
        let dispatch = inner.dispatcher();
        let live = inner.live.clone();
        inner.control.connect(Rc::new(move |command| {
            apply_command(&*dispatch, &live, command)
        }));
        if preload {
            inner.dispatch(Action::Preload);
        }
        if open {
            inner.dispatch(Action::Open);
        }
        Ok(Self { inner })
    }

    /// Take the widget off the page: listeners, timers and commands stop.
    pub(crate) fn destroy(&self) {
        let inner = &self.inner;
        inner.alive.set(false);
        inner.listeners.borrow_mut().clear();
        *inner.timers.borrow_mut() = Timers::default();
        inner.control.disconnect();
        inner.shadow.host.remove();
    }
}

impl Inner {
    /// This widget's dispatch, as the runner and listeners call it.
    fn dispatcher(self: &Rc<Self>) -> Dispatch {
        let inner = self.clone();
        Rc::new(move |action| inner.dispatch(action))
    }

    /// Reduce `action`, then render and carry out the effects (or queue it
    /// while another action is handled).
    fn dispatch(self: &Rc<Self>, action: Action) {
        if !self.alive.get() {
            return;
        }
        self.queue.borrow_mut().push(action);
        if self.busy.replace(true) {
            return;
        }
        loop {
            let actions = std::mem::take(&mut *self.queue.borrow_mut());
            if actions.is_empty() || !self.alive.get() {
                break;
            }
            let before = self.state.borrow().clone();
            let next = actions.into_iter().fold(before.clone(), State::apply);
            if next == before {
                continue;
            }
            self.view.update(&next);
            self.control.report(Snapshot::of(&next));
            let effects = plan(&before, &next);
            *self.state.borrow_mut() = next;
            let runner = self.runner();
            for effect in effects {
                runner.run(effect);
            }
        }
        self.busy.set(false);
    }

    fn runner(self: &Rc<Self>) -> Runner {
        Runner {
            dispatch: self.dispatcher(),
            live: self.live.clone(),
            timers: self.timers.clone(),
            elements: self.view.clone() as Rc<dyn Elements>,
            shadow: Some(self.shadow.clone()),
            on_event: self.on_event.clone(),
        }
    }

    /// Clicks on the buttons, Esc on the widget's controls, and the chat
    /// page's messages.
    fn listen(self: &Rc<Self>) {
        let root = &self.view.root;
        let mut listeners = self.listeners.borrow_mut();
        let inner = self.clone();
        listeners.push(EventListener::new(root, "click", move |event| {
            let action = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| View::click_action(&t));
            if let Some(action) = action {
                inner.dispatch(action);
            }
        }));
        // Inside the iframe the key never reaches this listener; the chat
        // page posts `close` instead (bridge).
        let inner = self.clone();
        listeners.push(EventListener::new(root, "keydown", move |event| {
            let escape = event
                .dyn_ref::<KeyboardEvent>()
                .is_some_and(|k| k.key() == "Escape");
            if escape && inner.state.borrow().open {
                event.stop_propagation();
                inner.dispatch(Action::Close);
            }
        }));
        if let Some(window) = web_sys::window() {
            let inner = self.clone();
            listeners.push(EventListener::new(&window, "message", move |event| {
                let action = page_action(event, &inner.state.borrow(), inner.view.frame());
                if let Some(action) = action {
                    inner.dispatch(action);
                }
            }));
        }
    }
}
