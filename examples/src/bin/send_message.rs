//! Send one message for a user and print the whole reply.
//!
//! Run against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin send-message -- demo guest "What can you do?"
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`) and
//! `CHAT_GATEWAY_API_KEY`. Prints the answer, then the conversation id; pass
//! `--conversation <id>` before the message to continue that conversation.

use std::process::ExitCode;

use examples::{ExampleError, api_key, gateway_url, report};
use sdk::{ChatRequest, Client};

const USAGE: &str = "send-message <system_id> <user_id> [--conversation <id>] <message…>";

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

#[expect(clippy::print_stdout, reason = "the output is what the example shows")]
async fn run() -> Result<(), ExampleError> {
    let mut args = std::env::args().skip(1);
    let (Some(system_id), Some(user_id)) = (args.next(), args.next()) else {
        return Err(ExampleError::Usage(USAGE));
    };
    let mut rest: Vec<String> = args.collect();
    let mut conversation = None;
    if rest.first().map(String::as_str) == Some("--conversation") {
        if rest.len() < 2 {
            return Err(ExampleError::Usage(USAGE));
        }
        conversation = Some(rest.remove(1));
        rest.remove(0);
    }
    let message = rest.join(" ");
    if message.trim().is_empty() {
        return Err(ExampleError::Usage(USAGE));
    }

    let client = Client::with_api_key(&gateway_url(), api_key()?)?;
    let mut request = ChatRequest::new(message);
    if let Some(id) = conversation {
        request = request.in_conversation(id);
    }
    let reply = client.user(system_id, user_id).chat(request).await?;
    println!("{}", reply.answer);
    println!("(conversation {})", reply.conversation_id);
    Ok(())
}
