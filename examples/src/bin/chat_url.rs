//! Mint a chat-page URL for one user, as a site's backend does.
//!
//! Run against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin chat-url -- cointutor 42 --embed --lang ko
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`) and
//! `CHAT_GATEWAY_JWT_SECRET`. Prints the URL; open it in a browser. The
//! token in it lasts one hour.

use std::process::ExitCode;

use examples::{ExampleError, gateway_url, jwt_secret, report};
use sdk::{ChatLinks, ChatUrlOptions, Lang};

const USAGE: &str = "chat-url <system_id> <user_id> [--embed] [--lang en|es|ko|zh|ja]";

fn main() -> ExitCode {
    report(run())
}

#[expect(clippy::print_stdout, reason = "the output is what the example shows")]
fn run() -> Result<(), ExampleError> {
    let mut args = std::env::args().skip(1);
    let (Some(system_id), Some(user_id)) = (args.next(), args.next()) else {
        return Err(ExampleError::Usage(USAGE));
    };
    let mut options = ChatUrlOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--embed" => options.embed = true,
            "--lang" => {
                let tag = args.next().ok_or(ExampleError::Usage(USAGE))?;
                options.lang = Some(Lang::from_tag(&tag).ok_or(ExampleError::Usage(USAGE))?);
            }
            _ => return Err(ExampleError::Usage(USAGE)),
        }
    }

    let links = ChatLinks::new(&gateway_url(), jwt_secret()?)?;
    println!("{}", links.url_with(&system_id, &user_id, &options)?);
    Ok(())
}
