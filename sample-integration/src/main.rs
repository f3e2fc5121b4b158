//! `sample-integration`: the gateway and the sample site in one process.
//! Configured by environment variables (see the crate README); prints where
//! to go, runs until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use gateway::config::EnvVars;
use sample_integration::{Sample, SampleConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
#[expect(clippy::print_stderr, reason = "why the command failed")]
async fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        help();
        return ExitCode::SUCCESS;
    }
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sample-integration: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), sample_integration::LaunchError> {
    let config = SampleConfig::from_env(&EnvVars::from_process())?;
    let sample = Sample::start(config).await?;
    announce(&sample);
    sample.run_until(gateway::cli::shutdown_signal()).await
}

#[expect(clippy::print_stdout, reason = "says where to go")]
fn announce(sample: &Sample) {
    println!("tz-chat sample integration");
    println!("  open the sample site: {}/", sample.site_url());
    println!("  gateway:              {}", sample.gateway_url());
    println!("  stop with Ctrl-C");
}

#[expect(clippy::print_stdout, reason = "`--help` output")]
fn help() {
    println!("sample-integration: the tz-chat gateway and the sample site in one process.\n");
    println!("Variables (the gateway's own are passed to it, see its --help):");
    for (name, meaning) in sample_integration::config::VARIABLES {
        println!("  {name:<24} {meaning}");
    }
}
