//! Send one message for a user and print the reply as it is written.
//!
//! Run against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin stream-reply -- demo guest "Tell me a story"
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`) and
//! `CHAT_GATEWAY_API_KEY`. Press Ctrl-C to stop early: the gateway keeps the
//! part written so far, marked `incomplete`.

use std::io::Write as _;
use std::process::ExitCode;

use examples::{ExampleError, api_key, gateway_url, report};
use sdk::{ChatRequest, Client, StreamEvent};

const USAGE: &str = "stream-reply <system_id> <user_id> <message…>";

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> Result<(), ExampleError> {
    let mut args = std::env::args().skip(1);
    let (Some(system_id), Some(user_id)) = (args.next(), args.next()) else {
        return Err(ExampleError::Usage(USAGE));
    };
    let message = args.collect::<Vec<_>>().join(" ");
    if message.trim().is_empty() {
        return Err(ExampleError::Usage(USAGE));
    }

    let client = Client::with_api_key(&gateway_url(), api_key()?)?;
    let user = client.user(system_id, user_id);
    let mut stream = user.chat_stream(ChatRequest::new(message)).await?;
    let mut out = std::io::stdout().lock();
    while let Some(event) = stream.next_event().await {
        match event? {
            StreamEvent::Delta { text } => {
                write!(out, "{text}")?;
                out.flush()?;
            }
            // Content moderation replaced the answer so far.
            StreamEvent::Replace { text } => write!(out, "\n[replaced] {text}")?,
            StreamEvent::End {
                conversation_id, ..
            } => writeln!(out, "\n(conversation {conversation_id})")?,
            StreamEvent::Error { message, .. } => writeln!(out, "\n[failed] {message}")?,
            StreamEvent::Start { .. } | StreamEvent::Html { .. } => {}
        }
    }
    Ok(())
}
