//! The answers this process is streaming right now, by assistant message id:
//! the text so far and a broadcast of what comes next, so a client that lost
//! its connection can reattach to the answer in progress (see
//! `crate::chat::resume`).
//!
//! Memory stays bounded: an entry lives only while its turn runs (the
//! [`Publisher`] removes it when dropped), each entry holds the answer's
//! text once, and the broadcast (made only when someone follows) keeps at
//! most [`BACKLOG`] events. A follower
//! that falls further behind is told so ([`Followed::Lagged`]) and
//! re-reads the text instead of being buffered for.
//!
//! A leaf: it knows turn events and identities, nothing of the store or the
//! routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sdk::StreamEvent;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::identity::Identity;

/// Events kept for followers that read slower than the answer is written.
pub const BACKLOG: usize = 64;

/// The registry. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct LiveTurns {
    turns: Mutex<HashMap<String, Arc<LiveTurn>>>,
}

/// One answer being streamed.
#[derive(Debug)]
pub struct LiveTurn {
    /// Whose it is: only they may follow it.
    pub owner: Identity,
    pub conversation_id: String,
    pub user_message_id: String,
    state: Mutex<Progress>,
    /// Cancelled when the owner asks the answer to stop.
    stop: CancellationToken,
}

#[derive(Debug)]
struct Progress {
    text: String,
    /// Bytes of text received so far, counting a replacement whole: how the
    /// writer of partials tells new text from old without a copy.
    received: u64,
    /// The last event of the turn, once it is known.
    end: Option<StreamEvent>,
    /// Made when the first follower arrives: most answers never have one,
    /// and a channel's [`BACKLOG`] slots cost kilobytes per open stream.
    /// Dropped with the publisher: followers then see the turn gone.
    events: Option<broadcast::Sender<Change>>,
    /// Whether the publisher is still there.
    publishing: bool,
}

impl Progress {
    fn send(&self, change: impl FnOnce() -> Change) {
        if let Some(events) = &self.events
            && events.receiver_count() > 0
        {
            let _ = events.send(change());
        }
    }
}

/// A change to an answer, as followers receive it.
#[derive(Debug, Clone)]
pub enum Change {
    /// Text appended.
    Delta(String),
    /// The whole text replaced.
    Replace(String),
    /// The turn's last event (`end` or `error`).
    End(StreamEvent),
}

/// Where an answer stands, read at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub text: String,
    pub end: Option<StreamEvent>,
}

/// What a follower gets next.
#[derive(Debug)]
pub enum Followed {
    Change(Change),
    /// The follower fell more than [`BACKLOG`] events behind: re-read with
    /// [`Follower::resync`].
    Lagged,
    /// The turn ended without a last event for followers (its pump is gone):
    /// the store has the outcome.
    Gone,
}

/// A follower of one answer.
#[derive(Debug)]
pub struct Follower {
    turn: Arc<LiveTurn>,
    events: broadcast::Receiver<Change>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves text that is still text.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveTurns {
    /// Register the answer `message_id`, until the returned publisher is
    /// dropped.
    pub fn publish(
        self: &Arc<Self>,
        message_id: &str,
        owner: Identity,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Publisher {
        let turn = Arc::new(LiveTurn {
            owner,
            conversation_id: conversation_id.to_owned(),
            user_message_id: user_message_id.to_owned(),
            state: Mutex::new(Progress {
                text: String::new(),
                received: 0,
                end: None,
                events: None,
                publishing: true,
            }),
            stop: CancellationToken::new(),
        });
        lock(&self.turns).insert(message_id.to_owned(), turn.clone());
        Publisher {
            registry: self.clone(),
            message_id: message_id.to_owned(),
            turn,
        }
    }

    /// Follow the answer `message_id`, if this process is streaming it: what
    /// it has so far, and every change after that.
    pub fn follow(&self, message_id: &str) -> Option<(Snapshot, Follower)> {
        let turn = lock(&self.turns).get(message_id).cloned()?;
        let (snapshot, events) = turn.subscribe()?;
        Some((snapshot, Follower { turn, events }))
    }

    /// Ask the answer `message_id` of `owner` in `conversation_id` to stop;
    /// `false` when this process is not streaming such an answer.
    pub fn stop(&self, message_id: &str, owner: &Identity, conversation_id: &str) -> bool {
        let turns = lock(&self.turns);
        match turns.get(message_id) {
            Some(turn) if turn.owner == *owner && turn.conversation_id == conversation_id => {
                turn.stop.cancel();
                true
            }
            _ => false,
        }
    }

    /// How many answers are being streamed.
    pub fn len(&self) -> usize {
        lock(&self.turns).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LiveTurn {
    /// The text so far and a receiver of the changes after it, taken under
    /// the lock the publisher writes under: nothing falls between the two.
    /// `None` once the publisher is gone.
    fn subscribe(&self) -> Option<(Snapshot, broadcast::Receiver<Change>)> {
        let mut progress = lock(&self.state);
        if !progress.publishing {
            return None;
        }
        let events = progress
            .events
            .get_or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe();
        let snapshot = Snapshot {
            text: progress.text.clone(),
            end: progress.end.clone(),
        };
        Some((snapshot, events))
    }

    /// The text so far.
    pub fn text(&self) -> String {
        lock(&self.state).text.clone()
    }

    /// Bytes of text received so far (appended, or replacing the whole):
    /// it grows with every change, and only with a change.
    pub fn received(&self) -> u64 {
        lock(&self.state).received
    }
}

impl Follower {
    /// The owner and place of the answer followed.
    pub fn turn(&self) -> &LiveTurn {
        &self.turn
    }

    /// The next change.
    pub async fn next(&mut self) -> Followed {
        match self.events.recv().await {
            Ok(change) => Followed::Change(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Followed::Lagged,
            Err(broadcast::error::RecvError::Closed) => Followed::Gone,
        }
    }

    /// After [`Followed::Lagged`]: the answer as it stands now, and changes
    /// from there on; `None` when the turn is gone meanwhile.
    pub fn resync(&mut self) -> Option<Snapshot> {
        let (snapshot, events) = self.turn.subscribe()?;
        self.events = events;
        Some(snapshot)
    }
}

/// The writing end of one answer; removes it from the registry when dropped.
#[derive(Debug)]
pub struct Publisher {
    registry: Arc<LiveTurns>,
    message_id: String,
    turn: Arc<LiveTurn>,
}

impl Publisher {
    /// Text appended. Costs a lock and, with followers, one copy of `text`.
    pub fn delta(&self, text: &str) {
        let mut progress = lock(&self.turn.state);
        progress.text.push_str(text);
        progress.received += text.len() as u64;
        progress.send(|| Change::Delta(text.to_owned()));
    }

    /// The whole text replaced.
    pub fn replace(&self, text: &str) {
        let mut progress = lock(&self.turn.state);
        text.clone_into(&mut progress.text);
        // An empty replacement is a change too.
        progress.received += text.len().max(1) as u64;
        progress.send(|| Change::Replace(text.to_owned()));
    }

    /// The turn's last event; followers get it, and the answer leaves the
    /// registry.
    pub fn end(self, last: StreamEvent) {
        let mut progress = lock(&self.turn.state);
        progress.end = Some(last.clone());
        progress.send(|| Change::End(last));
    }

    /// How many followers are reading the answer on this process.
    pub fn followers(&self) -> usize {
        lock(&self.turn.state)
            .events
            .as_ref()
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Completes when the owner asked the answer to stop.
    pub async fn stopped(&self) {
        self.turn.stop.cancelled().await;
    }

    /// The answer, for the writer of partials.
    pub fn turn(&self) -> Arc<LiveTurn> {
        self.turn.clone()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        {
            let mut progress = lock(&self.turn.state);
            progress.publishing = false;
            progress.events = None;
        }
        let mut turns = lock(&self.registry.turns);
        if turns
            .get(&self.message_id)
            .is_some_and(|t| Arc::ptr_eq(t, &self.turn))
        {
            turns.remove(&self.message_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Identity {
        Identity::parse("shop", "alice").expect("a valid identity")
    }

    #[tokio::test]
    async fn a_follower_gets_the_text_so_far_then_every_change_then_the_end() {
        let registry = Arc::new(LiveTurns::default());
        let publisher = registry.publish("m1", owner(), "c1", "q1");
        publisher.delta("Hel");
        let (snapshot, mut follower) = registry.follow("m1").expect("registered");
        assert_eq!(snapshot.text, "Hel");
        publisher.delta("lo");
        let end = StreamEvent::Error {
            code: sdk::ErrorCode::UpstreamError,
            message: "x".into(),
            status: 502,
        };
        publisher.end(end.clone());
        assert!(matches!(follower.next().await, Followed::Change(Change::Delta(t)) if t == "lo"));
        assert!(matches!(follower.next().await, Followed::Change(Change::End(e)) if e == end));
        assert!(registry.follow("m1").is_none(), "an ended answer leaves");
        assert!(registry.is_empty());
    }

    #[tokio::test]
    async fn a_slow_follower_is_told_it_lagged_and_resyncs_from_the_text() {
        let registry = Arc::new(LiveTurns::default());
        let publisher = registry.publish("m1", owner(), "c1", "q1");
        let (_, mut follower) = registry.follow("m1").expect("registered");
        for i in 0..BACKLOG * 3 {
            publisher.delta(&format!("{i} "));
        }
        assert!(matches!(follower.next().await, Followed::Lagged));
        let now = follower.resync().expect("still streaming");
        let expected: String = (0..BACKLOG * 3).map(|i| format!("{i} ")).collect();
        assert_eq!(now.text, expected);
        publisher.delta("more");
        assert!(matches!(follower.next().await, Followed::Change(Change::Delta(t)) if t == "more"));
    }

    #[tokio::test]
    async fn an_answer_holds_no_broadcast_until_someone_follows_it() {
        let registry = Arc::new(LiveTurns::default());
        let publisher = registry.publish("m1", owner(), "c1", "q1");
        publisher.delta("Hel");
        assert!(lock(&publisher.turn.state).events.is_none());
        assert_eq!(publisher.followers(), 0);
        let (snapshot, mut follower) = registry.follow("m1").expect("registered");
        assert_eq!(snapshot.text, "Hel");
        assert_eq!(publisher.followers(), 1);
        publisher.delta("lo");
        assert!(matches!(follower.next().await, Followed::Change(Change::Delta(t)) if t == "lo"));
    }

    #[test]
    fn received_counts_every_change_and_only_changes() {
        let registry = Arc::new(LiveTurns::default());
        let publisher = registry.publish("m1", owner(), "c1", "q1");
        let turn = publisher.turn();
        assert_eq!(turn.received(), 0);
        publisher.delta("Hello");
        assert_eq!(turn.received(), 5);
        assert_eq!(turn.received(), 5, "reading is not a change");
        publisher.replace("Hi");
        assert_eq!((turn.received(), turn.text().as_str()), (7, "Hi"));
    }

    #[tokio::test]
    async fn a_pump_that_goes_away_without_an_end_leaves_followers_gone() {
        let registry = Arc::new(LiveTurns::default());
        let publisher = registry.publish("m1", owner(), "c1", "q1");
        let (_, mut follower) = registry.follow("m1").expect("registered");
        drop(publisher);
        assert!(matches!(follower.next().await, Followed::Gone));
        assert!(registry.is_empty());
    }
}
