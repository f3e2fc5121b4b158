//! Following an answer through the store: the partials its replica writes,
//! until the stored message is final or the partial stands still for
//! [`SILENCE`].

use std::time::Instant;

use sdk::StreamEvent;
use tokio::sync::mpsc;

use super::{POLL, Place, SILENCE};
use crate::chat::pump::error_event;
use crate::error::ApiError;
use crate::store::Scope;
use crate::store::live::{AnswerProgress, AnswerState};

/// Follow an answer through the store until it is final, or silent too long;
/// the client has `sent` bytes of it.
pub(super) async fn follow_stored(
    place: Place,
    mut sent: usize,
    mut progress: Option<AnswerProgress>,
    tx: mpsc::Sender<StreamEvent>,
) {
    let mut last_write = None;
    let mut moved = Instant::now();
    loop {
        let current = match progress.take() {
            Some(p) => Ok(Some(p)),
            None => {
                place
                    .state
                    .store
                    .answer_progress(Scope::Any, &place.conversation_id, &place.message_id)
                    .await
            }
        };
        let current = match current {
            Ok(Some(p)) => p,
            // Deleted meanwhile, with its conversation.
            Ok(None) => {
                let _ = tx.send(error_event(&ApiError::ConversationNotFound)).await;
                return;
            }
            Err(e) => {
                let _ = tx.send(error_event(&ApiError::from(e))).await;
                return;
            }
        };
        let finished = matches!(current.state, AnswerState::Finished(_));
        if let Some(event) = rest_after(&current.content, &mut sent, finished)
            && tx.send(event).await.is_err()
        {
            return;
        }
        match current.state {
            AnswerState::Finished(status) => {
                let _ = tx.send(place.stored_end(status, &current.content)).await;
                return;
            }
            AnswerState::Streaming { updated_at } => {
                if last_write != Some(updated_at) {
                    last_write = Some(updated_at);
                    moved = Instant::now();
                } else if moved.elapsed() >= SILENCE {
                    let _ = tx.send(error_event(&ApiError::AnswerInterrupted)).await;
                    return;
                }
            }
        }
        tokio::select! {
            () = tx.closed() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// What a client with `sent` bytes of an answer lacks of `now`: a `delta`
/// of the bytes after them; or, for a `finished` answer that does not reach
/// that far (replaced meanwhile), the whole text as a `replace`. A partial
/// that does not reach that far yet lags behind the client: nothing yet.
fn rest_after(now: &str, sent: &mut usize, finished: bool) -> Option<StreamEvent> {
    if let Some(rest) = now.get(*sent..) {
        *sent = now.len();
        return (!rest.is_empty()).then(|| StreamEvent::Delta {
            text: rest.to_owned(),
        });
    }
    finished.then(|| {
        *sent = now.len();
        StreamEvent::Replace {
            text: now.to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_of_an_answer_starts_after_the_bytes_the_client_has() {
        let mut sent = 3;
        assert_eq!(
            rest_after("abcdef", &mut sent, false),
            Some(StreamEvent::Delta { text: "def".into() })
        );
        assert_eq!(sent, 6);
        assert_eq!(rest_after("abcdef", &mut sent, false), None);
        // A partial behind the client: wait for it.
        let mut ahead = 10;
        assert_eq!(rest_after("abcdef", &mut ahead, false), None);
        assert_eq!(ahead, 10);
        // A finished answer shorter than what the client has was replaced.
        assert_eq!(
            rest_after("abc", &mut ahead, true),
            Some(StreamEvent::Replace { text: "abc".into() })
        );
        assert_eq!(ahead, 3);
    }
}
