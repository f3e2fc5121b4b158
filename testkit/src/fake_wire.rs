//! What the fakes of stateless upstreams share: serving on a free loopback
//! port, and writing a body in pieces that may end cleanly, be cut, or
//! never end.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use tokio::net::TcpListener;

/// How a written body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The chunked terminator: a complete body.
    Clean,
    /// The connection is dropped without the terminator.
    Cut,
    /// Nothing more is ever written.
    Hang,
}

/// A body writing `text` in pieces of `piece_bytes` (all at once when
/// `None`), then ending as told.
pub(crate) fn body(text: String, piece_bytes: Option<usize>, ending: Ending) -> Body {
    let bytes = text.into_bytes();
    let size = piece_bytes.unwrap_or(bytes.len()).max(1);
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let head = futures::stream::iter(pieces);
    let tail = futures::stream::once(async move {
        match ending {
            Ending::Clean => None,
            Ending::Cut => {
                // Let what was written reach the client before the reset.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Some(Err(std::io::Error::other("cut by the fake")))
            }
            Ending::Hang => std::future::pending().await,
        }
    });
    use futures::StreamExt as _;
    let tail = tail.filter_map(std::future::ready);
    Body::from_stream(head.chain(tail))
}

/// Serve `router` on a free loopback port in the background; the base URL.
pub(crate) async fn spawn(router: Router) -> std::io::Result<String> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{addr}"))
}

/// Words of an answer, each with the space before it (`["Echo:", " hi"]`).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        out.push(if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        });
    }
    out
}
