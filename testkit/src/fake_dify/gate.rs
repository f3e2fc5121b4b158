//! Holding streamed answers until the test says so.

use std::sync::Arc;

use tokio::sync::watch;

/// Holds every streamed answer of a fake after `after` deltas until
/// [`open`](Gate::open) is called. Cheap to clone; clones share the gate.
///
/// ```no_run
/// # async fn demo() {
/// use testkit::fake_dify::{FakeOptions, Gate};
///
/// let gate = Gate::after(3);
/// let options = FakeOptions { gate: Some(gate.clone()), ..Default::default() };
/// // … start a gateway with `options`, open a stream …
/// gate.held(1).await; // the answer has sent 3 deltas and waits
/// gate.open();
/// # let _ = options;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Gate {
    after: usize,
    state: Arc<watch::Sender<State>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    open: bool,
    /// Answers that reached the gate so far (held or let through).
    reached: usize,
}

impl Gate {
    /// A closed gate that holds answers after their `after`-th delta.
    pub fn after(after: usize) -> Self {
        Self {
            after,
            state: Arc::new(watch::Sender::new(State::default())),
        }
    }

    /// Let every held answer go on, and later ones through.
    pub fn open(&self) {
        self.state.send_modify(|s| s.open = true);
    }

    /// Wait until `answers` answers have reached the gate.
    pub async fn held(&self, answers: usize) {
        let mut rx = self.state.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = rx.wait_for(|s| s.reached >= answers).await;
    }

    /// Called by an answer that has sent `sent` deltas: waits while the gate
    /// holds it.
    pub(crate) async fn pass(&self, sent: usize) {
        if sent != self.after {
            return;
        }
        self.state.send_modify(|s| s.reached += 1);
        let mut rx = self.state.subscribe();
        let _ = rx.wait_for(|s| s.open).await;
    }
}
