//! [`WidgetControl`]: drive a mounted widget from outside its component tree
//! (the JavaScript handle, or a Yew app's buttons).
//!
//! Commands sent before the widget has rendered are queued and delivered when
//! it mounts, so `mount(...).open()` works in one statement.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sdk::Lang;

use crate::config::TokenSource;
use crate::state::{Action, State};

/// Where a mounted widget takes its commands.
pub(crate) type Receiver = Rc<dyn Fn(Command)>;

/// A command for a mounted widget.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Reduce an action (open, close, toggle, language…).
    Act(Action),
    /// A different user signed in (`Some`) or the user signed out (`None`):
    /// forget the token and the chat page. With the `apiKey` source the id
    /// becomes the `user_id` sent to the gateway.
    SetUser(Option<String>),
    /// Use another token source (and gateway, when given) from now on; this
    /// also forgets the token and the chat page.
    SetSource {
        /// The new source.
        source: TokenSource,
        /// The new gateway base URL, if it changes.
        gateway: Option<String>,
    },
}

/// What the widget reports back to its controller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The panel is open.
    pub open: bool,
    /// Replies received while closed.
    pub unread: u32,
    /// The chat page said it is ready.
    pub ready: bool,
}

impl Snapshot {
    /// What `state` shows a controller.
    ///
    /// ```
    /// let state = widget::State::new(sdk::Lang::En, "").apply(widget::Action::Open);
    /// assert!(widget::Snapshot::of(&state).open);
    /// ```
    pub fn of(state: &State) -> Self {
        Self {
            open: state.open,
            unread: state.unread,
            ready: state.frame.as_ref().is_some_and(|f| f.ready),
        }
    }
}

/// A handle to send [`Command`]s to one mounted widget (the Yew
/// `ChatWidget`, or the one `mount()` made).
///
/// ```
/// let control = widget::WidgetControl::default();
/// control.open(); // queued until the widget renders
/// assert!(!control.snapshot().open);
/// ```
#[derive(Clone, Default)]
pub struct WidgetControl {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    receiver: RefCell<Option<Receiver>>,
    queue: RefCell<Vec<Command>>,
    snapshot: Cell<Snapshot>,
}

impl PartialEq for WidgetControl {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for WidgetControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetControl")
            .field("snapshot", &self.inner.snapshot.get())
            .finish_non_exhaustive()
    }
}

impl WidgetControl {
    /// Send a command (queued until the widget is mounted).
    pub fn send(&self, command: Command) {
        let receiver = self.inner.receiver.borrow().clone();
        match receiver {
            Some(receiver) => receiver(command),
            None => self.inner.queue.borrow_mut().push(command),
        }
    }

    /// Open the panel.
    pub fn open(&self) {
        self.send(Command::Act(Action::Open));
    }

    /// Close the panel.
    pub fn close(&self) {
        self.send(Command::Act(Action::Close));
    }

    /// Open or close the panel.
    pub fn toggle(&self) {
        self.send(Command::Act(Action::Toggle));
    }

    /// Switch the interface language (shell texts and chat page).
    pub fn set_lang(&self, lang: Lang) {
        self.send(Command::Act(Action::SetLang(lang)));
    }

    /// The last state the widget reported.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.snapshot.get()
    }

    /// Connect the mounted widget; queued commands are delivered now.
    pub(crate) fn connect(&self, receiver: Receiver) {
        *self.inner.receiver.borrow_mut() = Some(receiver);
        let queued = std::mem::take(&mut *self.inner.queue.borrow_mut());
        for command in queued {
            self.send(command);
        }
    }

    /// Disconnect (the widget unmounted).
    pub(crate) fn disconnect(&self) {
        *self.inner.receiver.borrow_mut() = None;
    }

    pub(crate) fn report(&self, snapshot: Snapshot) {
        self.inner.snapshot.set(snapshot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_before_mount_are_delivered_in_order() {
        let control = WidgetControl::default();
        control.open();
        control.set_lang(Lang::Ko);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        control.connect(Rc::new(move |c| sink.borrow_mut().push(c)));
        control.close();
        assert_eq!(
            *seen.borrow(),
            vec![
                Command::Act(Action::Open),
                Command::Act(Action::SetLang(Lang::Ko)),
                Command::Act(Action::Close),
            ]
        );
        control.disconnect();
        control.toggle();
        assert_eq!(seen.borrow().len(), 3, "queued again after disconnect");
    }

    #[test]
    fn equality_is_identity() {
        let a = WidgetControl::default();
        assert_eq!(a, a.clone());
        assert_ne!(a, WidgetControl::default());
    }
}
