//! A typed client for the gateway's WebSocket door, `GET /v1/ws` (feature
//! `ws`).
//!
//! ```no_run
//! # async fn run() -> Result<(), tz_chat_sdk::ws::WsError> {
//! use tz_chat_sdk::ServerFrame;
//! use tz_chat_sdk::ws::WsClient;
//!
//! let mut ws = WsClient::connect_with_token("ws://127.0.0.1:8088", "<chat token>").await?;
//! let conversation = ws.start_conversation(Some("Trip plans"), None).await?;
//! ws.send_message(Some(&conversation), "Where should I go in May?").await?;
//! while let Some(frame) = ws.next_frame().await? {
//!     match frame {
//!         ServerFrame::Delta { text } => print!("{text}"),
//!         frame if frame.is_terminal() => break,
//!         _ => {}
//!     }
//! }
//! ws.close().await?;
//! # Ok(()) }
//! ```
//!
//! Plain `ws://` only: for `wss://`, put the gateway behind a TLS proxy you
//! reach on the same host, or use the HTTP client (feature `client`).

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as TungsteniteError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{ClientFrame, ServerFrame};

/// Why a WebSocket call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// Connecting, reading or writing failed.
    #[error("WebSocket failed: {0}")]
    Socket(#[from] Box<TungsteniteError>),
    /// The gateway sent a frame that is not a [`ServerFrame`].
    #[error("unexpected frame from the gateway: {0}")]
    Decode(#[from] serde_json::Error),
    /// The gateway closed the socket (1008: authentication failed; 1001:
    /// it is restarting; 1009: a frame was too large).
    #[error("the gateway closed the socket ({code}): {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// Why, as the gateway said it.
        reason: String,
    },
    /// The gateway refused the credentials (it then closes with 1008).
    #[error("the gateway refused the socket ({status} {code}): {message}")]
    Refused {
        /// The HTTP status the refusal stands for (401, 403).
        status: u16,
        /// Machine-readable cause.
        code: crate::ErrorCode,
        /// Human-readable explanation.
        message: String,
    },
    /// An answer other than the one waited for arrived (see
    /// [`WsClient::start_conversation`]).
    #[error("unexpected frame: {0:?}")]
    Unexpected(Box<ServerFrame>),
}

impl From<TungsteniteError> for WsError {
    fn from(e: TungsteniteError) -> Self {
        WsError::Socket(Box::new(e))
    }
}

/// An open socket to the gateway, authenticated for one user.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connect as an end user with a chat token (sent as `?token=`) and
    /// wait for the gateway's `ready`. `base` is the gateway's `ws://` URL.
    pub async fn connect_with_token(base: &str, token: &str) -> Result<Self, WsError> {
        let url = format!(
            "{}/v1/ws?token={}",
            base.trim_end_matches('/'),
            encode(token)
        );
        Self::open(url.into_client_request()?).await
    }

    /// Connect as a server with an API key, for `user_id` of `system_id`.
    pub async fn connect_with_api_key(
        base: &str,
        api_key: &str,
        system_id: &str,
        user_id: &str,
    ) -> Result<Self, WsError> {
        let url = format!(
            "{}/v1/ws?system_id={}&user_id={}",
            base.trim_end_matches('/'),
            encode(system_id),
            encode(user_id)
        );
        let mut request = url.into_client_request()?;
        let key = HeaderValue::from_str(api_key)
            .map_err(|e| WsError::Socket(Box::new(TungsteniteError::HttpFormat(e.into()))))?;
        request.headers_mut().insert("x-api-key", key);
        Self::open(request).await
    }

    async fn open(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<Self, WsError> {
        // A chat sends small frames and wants each out at once: no Nagle.
        // tungstenite zero-fills its whole read buffer before each read, so
        // the buffer is sized for chat frames (a larger frame grows it).
        let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        let mut client = Self { socket };
        match client.next_frame().await? {
            Some(ServerFrame::Ready { .. }) => Ok(client),
            Some(ServerFrame::Error {
                status,
                code,
                message,
                ..
            }) => Err(WsError::Refused {
                status,
                code,
                message,
            }),
            Some(other) => Err(WsError::Unexpected(Box::new(other))),
            None => Err(WsError::Closed {
                code: 1006,
                reason: "closed before ready".into(),
            }),
        }
    }

    /// Send one frame.
    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), WsError> {
        let text = serde_json::to_string(frame)?;
        self.socket.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next frame from the gateway; `None` once the socket is closed
    /// without a reason. A close with a code is [`WsError::Closed`].
    pub async fn next_frame(&mut self) -> Result<Option<ServerFrame>, WsError> {
        while let Some(message) = self.socket.next().await {
            match message? {
                Message::Text(text) => return Ok(Some(serde_json::from_str(&text)?)),
                Message::Close(Some(CloseFrame { code, reason })) => {
                    return Err(WsError::Closed {
                        code: code.into(),
                        reason: reason.to_string(),
                    });
                }
                Message::Close(None) => return Ok(None),
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
        Ok(None)
    }

    /// Reserve a conversation and return its id (frames of an answer still
    /// running on this socket are an error here: wait for its end first).
    pub async fn start_conversation(
        &mut self,
        title: Option<&str>,
        agent: Option<&str>,
    ) -> Result<String, WsError> {
        self.send(&ClientFrame::StartConversation {
            title: title.map(str::to_owned),
            agent: agent.map(str::to_owned),
        })
        .await?;
        match self.next_frame().await? {
            Some(ServerFrame::ConversationStarted { conversation_id }) => Ok(conversation_id),
            Some(other) => Err(WsError::Unexpected(Box::new(other))),
            None => Err(WsError::Closed {
                code: 1006,
                reason: "closed while starting a conversation".into(),
            }),
        }
    }

    /// Send a message; read the answer with [`next_frame`](Self::next_frame)
    /// up to its `end` or `error`.
    pub async fn send_message(
        &mut self,
        conversation_id: Option<&str>,
        content: &str,
    ) -> Result<(), WsError> {
        self.send(&ClientFrame::SendMessage {
            conversation_id: conversation_id.map(str::to_owned),
            content: content.to_owned(),
            inputs: None,
        })
        .await
    }

    /// Close the socket (a running answer is stored as incomplete).
    pub async fn close(mut self) -> Result<(), WsError> {
        self.socket.close(None).await?;
        Ok(())
    }
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
