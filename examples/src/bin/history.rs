//! List a user's conversations, newest first, with their messages.
//!
//! Run against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin history -- demo guest
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`) and
//! `CHAT_GATEWAY_API_KEY`.

use std::io::Write as _;
use std::process::ExitCode;

use examples::{ExampleError, api_key, gateway_url, report};
use sdk::{Client, MessageStatus};

const USAGE: &str = "history <system_id> <user_id>";

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

async fn run() -> Result<(), ExampleError> {
    let mut args = std::env::args().skip(1);
    let (Some(system_id), Some(user_id), None) = (args.next(), args.next(), args.next()) else {
        return Err(ExampleError::Usage(USAGE));
    };

    let client = Client::with_api_key(&gateway_url(), api_key()?)?;
    let user = client.user(system_id, user_id);
    let conversations = user.conversations().await?;
    let mut out = std::io::stdout().lock();
    if conversations.is_empty() {
        writeln!(out, "no conversations yet")?;
    }
    for conversation in conversations {
        writeln!(
            out,
            "{} ({}, last active {})",
            conversation.name, conversation.id, conversation.updated_at
        )?;
        for message in user.messages(&conversation.id).await? {
            let note = match message.status {
                MessageStatus::Complete => "",
                MessageStatus::Incomplete => " [incomplete]",
                MessageStatus::Failed => " [failed]",
            };
            writeln!(
                out,
                "  {}: {}{note}",
                message.role.as_str(),
                message.content
            )?;
        }
    }
    Ok(())
}
