//! Runnable programs that use the tz-chat SDK against a gateway. Each one is
//! a `[[bin]]`; its file starts with how to run it.
//!
//! | program | shows |
//! |---|---|
//! | `chat-url` | mint a chat-page URL for one user ([`sdk::ChatLinks`]) |
//! | `send-message` | send a message and print the reply |
//! | `stream-reply` | print a reply as it is written |
//! | `history` | list a user's conversations and their messages |
//! | `cointutor-backend` | a tiny axum backend with `GET /api/chat-url` for its logged-in user |
//! | `axum-site` | a small axum site with the chat widget: files and token endpoint from [`sdk::axum::ChatRoutes`] |
//!
//! ## Against a local gateway
//!
//! Start one from the workspace root with `cargo run -p gateway`. In
//! development mode it keeps the API key and JWT secret it generated in
//! `.chat-gateway-dev.env`, in the same directory; load them and run an
//! example:
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin send-message -- demo guest "Hello!"
//! ```
//!
//! The programs read these environment variables (the gateway's own names):
//!
//! | variable | used by | default |
//! |---|---|---|
//! | `CHAT_GATEWAY_URL` | all | `http://127.0.0.1:8088` |
//! | `CHAT_GATEWAY_API_KEY` | `send-message`, `stream-reply`, `history` | — (one key; in a comma-separated list the first) |
//! | `CHAT_GATEWAY_JWT_SECRET` | `chat-url`, `cointutor-backend`, `axum-site` | — |
//! | `COINTUTOR_LISTEN` | `cointutor-backend` | `127.0.0.1:3000` |
//! | `SITE_LISTEN` | `axum-site` | `127.0.0.1:3000` |
//!
//! This library holds only what every program repeats: reading those
//! variables, and reporting a failure as a message and an exit code.

use std::process::ExitCode;

/// The gateway URL when `CHAT_GATEWAY_URL` is not set (its default listen
/// address).
pub const DEFAULT_GATEWAY_URL: &str = "http://127.0.0.1:8088";

/// Why an example stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    /// A required environment variable is not set.
    #[error("{0} is not set (see the header of this example)")]
    MissingVar(&'static str),
    /// Wrong command-line arguments; the text is the usage line.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// A call to the gateway failed.
    #[error(transparent)]
    Sdk(#[from] sdk::Error),
    /// A chat link could not be minted.
    #[error(transparent)]
    Link(#[from] sdk::LinkError),
    /// Listening or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `CHAT_GATEWAY_URL`, or [`DEFAULT_GATEWAY_URL`].
pub fn gateway_url() -> String {
    optional_var("CHAT_GATEWAY_URL").unwrap_or_else(|| DEFAULT_GATEWAY_URL.to_owned())
}

/// `CHAT_GATEWAY_API_KEY` (the first key when it lists several, as the
/// gateway's own setting may).
pub fn api_key() -> Result<String, ExampleError> {
    let keys = required_var("CHAT_GATEWAY_API_KEY")?;
    keys.split(',')
        .map(str::trim)
        .find(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or(ExampleError::MissingVar("CHAT_GATEWAY_API_KEY"))
}

/// `CHAT_GATEWAY_JWT_SECRET`, the secret shared with the gateway.
pub fn jwt_secret() -> Result<sdk::jwt::JwtSecret, ExampleError> {
    required_var("CHAT_GATEWAY_JWT_SECRET").map(sdk::jwt::JwtSecret::new)
}

/// A set, non-blank environment variable.
pub fn optional_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn required_var(name: &'static str) -> Result<String, ExampleError> {
    optional_var(name).ok_or(ExampleError::MissingVar(name))
}

/// Report the outcome of an example: errors go to stderr, with exit code 1.
#[expect(clippy::print_stderr, reason = "the examples are programs run by hand")]
pub fn report(result: Result<(), ExampleError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
