//! Starting the gateway and the site side by side, in one process.
//!
//! Order matters: both listeners are bound first (so port 0 works and no
//! request can arrive before its server runs), then the site's origin is
//! added to the gateway's allowed origins, then both servers start. They
//! share one stop signal; [`Sample::stop`] stops both and waits for them.

use std::io;
use std::net::SocketAddr;

use gateway::App;
use gateway::config::Config;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, SampleConfig};
use crate::site::{SiteSettings, SiteSetupError, router};

/// Why the sample could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// A variable is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The gateway's configuration is wrong.
    #[error(transparent)]
    GatewayConfig(#[from] gateway::config::ConfigError),
    /// A listen address is taken or not allowed.
    #[error("cannot listen on {addr} ({variable}): {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The variable that names it.
        variable: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The gateway could not start (database, upstreams).
    #[error("gateway: {0:#}")]
    Gateway(anyhow::Error),
    /// The site could not start (the widget is not built, …).
    #[error(transparent)]
    Site(#[from] SiteSetupError),
    /// A server stopped with an error.
    #[error("serving: {0}")]
    Serve(#[from] io::Error),
}

/// The gateway and the site, running.
pub struct Sample {
    site_url: String,
    gateway_url: String,
    api_key: String,
    stop: CancellationToken,
    servers: JoinSet<io::Result<()>>,
}

impl std::fmt::Debug for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sample")
            .field("site_url", &self.site_url)
            .field("gateway_url", &self.gateway_url)
            .finish_non_exhaustive()
    }
}

impl Sample {
    /// Bind both listeners, then start the gateway and the site.
    pub async fn start(config: SampleConfig) -> Result<Sample, LaunchError> {
        let site_listener = bind(config.listen, "SAMPLE_LISTEN").await?;
        let site_addr = site_listener.local_addr()?;
        let site_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| default_site_url(site_addr));

        let mut vars = config.gateway_vars.clone();
        let origins = match vars.get_nonempty("ALLOWED_CHAT_TOKEN_ORIGINS") {
            Some(listed) => format!("{listed},{site_url}"),
            None => site_url.clone(),
        };
        vars.set("ALLOWED_CHAT_TOKEN_ORIGINS", origins);
        let mut gateway_config = Config::from_env(&vars)?;
        let gateway_listener = bind(gateway_config.listen, "CHAT_GATEWAY_LISTEN").await?;
        gateway_config.bound_to(gateway_listener.local_addr()?);

        // The configuration refused an empty key list (see crate::config).
        let api_key = gateway_config.api_keys.first().cloned().unwrap_or_default();
        let gateway_url = gateway_config.public_url.clone();
        let site = router(SiteSettings {
            site_url: site_url.clone(),
            gateway_url: gateway_url.clone(),
            jwt_secret: gateway_config.jwt.secret.clone(),
            jwt_issuer: gateway_config.jwt.issuer.clone(),
            jwt_audience: gateway_config.jwt.audience.clone(),
            api_key: api_key.clone(),
            token_ttl: config.token_ttl,
            token_delay: config.token_delay,
            widget_dir: config.widget_dir.clone(),
        })?;
        let app = App::build(gateway_config)
            .await
            .map_err(LaunchError::Gateway)?;

        let stop = CancellationToken::new();
        let gateway_stop = stop.clone().cancelled_owned();
        let site_stop = stop.clone().cancelled_owned();
        let mut servers = JoinSet::new();
        servers.spawn(async move { app.serve(gateway_listener, gateway_stop).await });
        servers.spawn(async move {
            axum::serve(site_listener, site)
                .with_graceful_shutdown(site_stop)
                .await
        });
        Ok(Sample {
            site_url,
            gateway_url,
            api_key,
            stop,
            servers,
        })
    }

    /// The site's base URL (`http://localhost:3000`).
    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// The gateway's base URL (`http://127.0.0.1:8088`).
    pub fn gateway_url(&self) -> &str {
        &self.gateway_url
    }

    /// The gateway API key the DrillQuiz page uses (for operators and
    /// tests: it reads every user's history).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Stop both servers (open streams get the gateway's grace period) and
    /// wait for them.
    pub async fn stop(mut self) -> Result<(), LaunchError> {
        self.stop.cancel();
        let mut outcome = Ok(());
        while let Some(finished) = self.servers.join_next().await {
            let result = finished.map_err(io::Error::other).and_then(|served| served);
            if let Err(e) = result {
                outcome = Err(LaunchError::Serve(e));
            }
        }
        outcome
    }

    /// Run until `signal` completes, then stop. A server that ends on its
    /// own (an I/O error) stops the other one too.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), LaunchError> {
        let early = tokio::select! {
            () = signal => None,
            Some(finished) = self.servers.join_next() => Some(finished),
        };
        let stopped = self.stop().await;
        match early {
            Some(Ok(Err(e))) => Err(LaunchError::Serve(e)),
            Some(Err(e)) => Err(LaunchError::Serve(io::Error::other(e))),
            Some(Ok(Ok(()))) | None => stopped,
        }
    }
}

impl Drop for Sample {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn bind(addr: SocketAddr, variable: &'static str) -> Result<TcpListener, LaunchError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| LaunchError::Listen {
            addr,
            variable,
            source,
        })
}

/// `http://localhost:<port>` for a loopback or wildcard address: the site and
/// the gateway (`127.0.0.1`) are then different hosts, as in production.
fn default_site_url(addr: SocketAddr) -> String {
    let ip = addr.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else if ip.is_ipv6() {
        format!("http://[{ip}]:{}", addr.port())
    } else {
        format!("http://{ip}:{}", addr.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_on_localhost_unless_it_listens_elsewhere() {
        let url = |a: &str| default_site_url(a.parse().unwrap());
        assert_eq!(url("127.0.0.1:3000"), "http://localhost:3000");
        assert_eq!(url("0.0.0.0:3000"), "http://localhost:3000");
        assert_eq!(url("10.0.0.5:80"), "http://10.0.0.5:80");
        assert_eq!(url("[fd00::1]:3000"), "http://[fd00::1]:3000");
    }
}
