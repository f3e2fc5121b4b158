//! The SDK and the gateway test each other: every `/v1` endpoint is driven
//! through the SDK client against a real gateway started in-process (with a
//! fake Dify behind it), for success and for each class of failure. Tokens
//! minted on either side must be accepted by the other.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

// The package is `tz-chat-sdk`; these tests call it `sdk`, as the rest of the
// workspace does.
extern crate tz_chat_sdk as sdk;

mod chat;
mod conversations;
mod failures;
mod harness;
mod operations;
mod tokens;
