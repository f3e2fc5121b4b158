//! The state the site's handlers share, built from [`SiteSettings`].
//!
//! Invariant: no page contains the JWT secret; the gateway API key appears
//! on the DrillQuiz page only (module `drillquiz`). Handlers of the login
//! and of the widget's files take their part of the state through
//! `FromRef` ([`Sessions`], [`WidgetFiles`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use sdk::ChatLinks;
use sdk::jwt::JwtSecret;

use crate::session::Sessions;
use crate::widget_files::{WidgetFiles, WidgetFilesError};

/// What the site needs to know.
#[derive(Clone)]
pub struct SiteSettings {
    /// The site's own public base URL (`http://localhost:3000`).
    pub site_url: String,
    /// The gateway's public base URL, as browsers reach it.
    pub gateway_url: String,
    /// The secret shared with the gateway (`CHAT_GATEWAY_JWT_SECRET`).
    pub jwt_secret: JwtSecret,
    /// `iss` the gateway requires, if any.
    pub jwt_issuer: Option<String>,
    /// `aud` the gateway requires, if any.
    pub jwt_audience: Option<String>,
    /// A gateway API key, for the DrillQuiz page only.
    pub api_key: String,
    /// Lifetime of CoinTutor's chat tokens.
    pub token_ttl: Duration,
    /// Extra wait before CoinTutor's token endpoints answer.
    pub token_delay: Duration,
    /// The built widget.
    pub widget_dir: PathBuf,
}

impl fmt::Debug for SiteSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteSettings")
            .field("site_url", &self.site_url)
            .field("gateway_url", &self.gateway_url)
            .field("jwt_secret", &self.jwt_secret)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("api_key", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("token_delay", &self.token_delay)
            .field("widget_dir", &self.widget_dir)
            .finish()
    }
}

/// Why the site cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SiteSetupError {
    /// The gateway URL or the token settings are unusable.
    #[error("chat links: {0}")]
    Links(#[from] sdk::LinkError),
    /// The widget is not built.
    #[error(transparent)]
    Widget(#[from] WidgetFilesError),
    /// The gateway URL is not an origin.
    #[error("the gateway URL {0:?} is not an http(s) URL")]
    GatewayUrl(String),
}

/// State shared by the handlers; cheap to clone.
#[derive(Clone)]
pub(crate) struct SiteState(Arc<Inner>);

struct Inner {
    links: ChatLinks,
    gateway_url: String,
    gateway_origin: String,
    api_key: String,
    token_ttl: Duration,
    token_delay: Duration,
    sessions: Sessions,
    widget: WidgetFiles,
}

impl SiteState {
    /// The state for `settings`: the chat links, no sessions yet, the
    /// checked widget directory.
    pub(crate) fn new(settings: SiteSettings) -> Result<Self, SiteSetupError> {
        let mut links =
            ChatLinks::builder(&settings.gateway_url, settings.jwt_secret).ttl(settings.token_ttl);
        if let Some(iss) = settings.jwt_issuer {
            links = links.issuer(iss);
        }
        if let Some(aud) = settings.jwt_audience {
            links = links.audience(aud);
        }
        let links = links.build()?;
        let gateway_origin = gateway::config::normalise_origin(links.base_url())
            .ok_or_else(|| SiteSetupError::GatewayUrl(settings.gateway_url.clone()))?;
        Ok(SiteState(Arc::new(Inner {
            gateway_url: links.base_url().to_owned(),
            links,
            gateway_origin,
            api_key: settings.api_key,
            token_ttl: settings.token_ttl,
            token_delay: settings.token_delay,
            sessions: Sessions::new(settings.site_url.starts_with("https://")),
            widget: WidgetFiles::open(&settings.widget_dir)?,
        })))
    }

    /// CoinTutor's backend: mints chat tokens and chat URLs.
    pub(crate) fn links(&self) -> &ChatLinks {
        &self.0.links
    }

    /// The gateway's public base URL.
    pub(crate) fn gateway_url(&self) -> &str {
        &self.0.gateway_url
    }

    /// The API key shown on the DrillQuiz page.
    pub(crate) fn api_key(&self) -> &str {
        &self.0.api_key
    }

    /// Lifetime of CoinTutor's tokens.
    pub(crate) fn token_ttl(&self) -> Duration {
        self.0.token_ttl
    }

    /// Extra wait of CoinTutor's token endpoints.
    pub(crate) fn token_delay(&self) -> Duration {
        self.0.token_delay
    }

    /// The site's `Content-Security-Policy`; `gateway_api` lets the page's
    /// scripts call the gateway (the DrillQuiz widget does).
    pub(crate) fn content_security_policy(&self, gateway_api: bool) -> String {
        let gateway = &self.0.gateway_origin;
        let connect = if gateway_api {
            format!("'self' {gateway}")
        } else {
            "'self'".to_owned()
        };
        format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self'; connect-src {connect}; frame-src {gateway}; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }
}

impl FromRef<SiteState> for Sessions {
    fn from_ref(site: &SiteState) -> Sessions {
        site.0.sessions.clone()
    }
}

impl FromRef<SiteState> for WidgetFiles {
    fn from_ref(site: &SiteState) -> WidgetFiles {
        site.0.widget.clone()
    }
}
