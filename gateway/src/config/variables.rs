//! The variables `chat-gateway --help` lists, with what each means. README.md's
//! configuration table says the same at length (a test keeps the two in step).

/// Every variable the gateway reads, with its meaning.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "CHAT_GATEWAY_ENV",
        "development (default; then only a loopback CHAT_GATEWAY_LISTEN unless set explicitly) or production",
    ),
    (
        "CHAT_GATEWAY_CONFIG",
        "TOML file with systems, upstreams and agents (see docs/config-example.toml)",
    ),
    (
        "CHAT_GATEWAY_LISTEN",
        "listen address, default 127.0.0.1:8088",
    ),
    (
        "CHAT_GATEWAY_URL",
        "public base URL for links, default http://<listen>",
    ),
    (
        "DATABASE_URL",
        "sqlite://chat_gateway.db (default) or postgres://…",
    ),
    (
        "CHAT_GATEWAY_JWT_SECRET",
        "HS256 secret for chat tokens, at least 32 bytes (generated in development when unset)",
    ),
    (
        "CHAT_GATEWAY_SECRET_KEY",
        "32 bytes (64 hex characters or base64) sealing agent credentials stored through /v1/admin; without it none can be stored",
    ),
    (
        "CHAT_GATEWAY_JWT_ISSUER",
        "if set, chat tokens must carry this iss",
    ),
    (
        "CHAT_GATEWAY_JWT_AUDIENCE",
        "if set, chat tokens must carry this aud",
    ),
    (
        "CHAT_GATEWAY_RETENTION_DAYS",
        "purge conversations inactive for longer than this many days, hourly; 0 or unset keeps them",
    ),
    (
        "CHAT_GATEWAY_TOKEN_TTL_SECS",
        "lifetime of tokens from /v1/chat-token, default 86400",
    ),
    (
        "CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS",
        "longest lifetime (exp - iat) of any chat token accepted, default 2592000 (30 days)",
    ),
    (
        "CHAT_GATEWAY_REVOCATION_REFRESH_SECS",
        "how often each replica reloads revoked tokens, default 5",
    ),
    (
        "CHAT_GATEWAY_API_KEY",
        "comma-separated API keys; empty turns API-key auth off",
    ),
    (
        "ALLOWED_SYSTEM_IDS",
        "comma-separated system ids; empty allows all",
    ),
    (
        "ALLOWED_CHAT_TOKEN_ORIGINS",
        "comma-separated browser origins for chat tokens and CORS",
    ),
    (
        "DIFY_BASE_URL",
        "shared Dify base URL (with or without /v1)",
    ),
    ("DIFY_API_KEY", "shared Dify app key"),
    (
        "DIFY_<SYSTEM>_BASE_URL",
        "Dify base URL for one system (SYSTEM = id upper-cased, - and . as _)",
    ),
    ("DIFY_<SYSTEM>_API_KEY", "Dify app key for one system"),
    ("N8N_WEBHOOK_URL", "shared n8n webhook (production URL)"),
    (
        "N8N_WEBHOOK_TOKEN",
        "sent to the n8n webhook as Authorization: Bearer",
    ),
    ("N8N_<SYSTEM>_WEBHOOK_URL", "n8n webhook for one system"),
    (
        "N8N_<SYSTEM>_WEBHOOK_TOKEN",
        "n8n webhook token for one system",
    ),
    (
        "OPENAI_BASE_URL",
        "OpenAI-compatible API base, default https://api.openai.com/v1",
    ),
    ("OPENAI_API_KEY", "key for the OpenAI-compatible API"),
    (
        "OPENAI_MODEL",
        "model; with a key, makes systems OpenAI-backed",
    ),
    ("OPENAI_SYSTEM_PROMPT", "system message sent first"),
    (
        "OPENAI_<SYSTEM>_BASE_URL",
        "OpenAI-compatible API base for one system",
    ),
    ("OPENAI_<SYSTEM>_API_KEY", "API key for one system"),
    ("OPENAI_<SYSTEM>_MODEL", "model for one system"),
    (
        "OPENAI_<SYSTEM>_SYSTEM_PROMPT",
        "system prompt for one system",
    ),
    (
        "OPENAI_HISTORY_TURNS",
        "earlier complete turns sent with each message, default 10",
    ),
    (
        "OPENAI_HISTORY_CHARS",
        "characters of earlier turns sent, at most, default 24000",
    ),
    (
        "CHAT_GATEWAY_DEMO",
        "answer systems without an upstream with the demo (default: on in development)",
    ),
    (
        "CHAT_GATEWAY_DEMO_DELAY_MS",
        "pause between streamed demo words, default 30",
    ),
    ("CHAT_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECS", "default 10"),
    (
        "CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS",
        "whole blocking upstream call, default 120",
    ),
    (
        "CHAT_GATEWAY_STREAM_IDLE_SECS",
        "longest silence in an upstream stream, default 60",
    ),
    (
        "CHAT_GATEWAY_MAX_BODY_BYTES",
        "largest request body, default 262144",
    ),
    (
        "CHAT_GATEWAY_MAX_MESSAGE_CHARS",
        "longest message, default 32000",
    ),
    (
        "CHAT_GATEWAY_UPSTREAM_HTTP2",
        "auto (HTTP/2 when TLS negotiates it, default) or always (also h2c to http:// upstreams)",
    ),
    (
        "CHAT_GATEWAY_SYNC_EVERY",
        "import upstream history in the background this often (15m, 1h; default off)",
    ),
    (
        "CHAT_GATEWAY_ARCHIVE_URL",
        "s3://bucket/prefix: archive finished turns there as JSON Lines (default off)",
    ),
    (
        "AWS_ENDPOINT_URL",
        "the archive's S3-compatible server (MinIO…); default AWS",
    ),
    (
        "AWS_REGION",
        "the archive bucket's region, default us-east-1",
    ),
    (
        "AWS_ACCESS_KEY_ID",
        "the archive's access key (with the secret)",
    ),
    ("AWS_SECRET_ACCESS_KEY", "the archive's secret key"),
    (
        "AWS_SESSION_TOKEN",
        "the archive's session token, for temporary credentials",
    ),
    (
        "CHAT_GATEWAY_SESSION_IDLE_SECS",
        "an operator's /admin session ends after this long without a request, default 1800",
    ),
    (
        "CHAT_GATEWAY_SESSION_MAX_SECS",
        "an operator's /admin session ends this long after sign-in, default 43200",
    ),
    (
        "CHAT_GATEWAY_SHUTDOWN_GRACE_SECS",
        "after SIGTERM, how long open requests and streams may finish, default 30",
    ),
    (
        "CHAT_GATEWAY_RESUME_GRACE_SECS",
        "how long a streamed answer goes on after its client left, for it to reattach, default 10 (0: cut at once)",
    ),
    (
        "CHAT_GATEWAY_HEADER_READ_TIMEOUT_SECS",
        "longest wait for a request's headers, default 10",
    ),
    (
        "CHAT_GATEWAY_IDLE_TIMEOUT_SECS",
        "close a connection without requests or traffic after this long, default 60",
    ),
    (
        "CHAT_GATEWAY_MAX_CONNECTIONS",
        "most open client connections, default 20000 (0: no limit)",
    ),
    (
        "CHAT_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS",
        "most open connections from one client address, default 0 (no limit; all come from the proxy behind one)",
    ),
    (
        "CHAT_GATEWAY_RATE_USER",
        "messages per end user, per replica, default 20/min,burst=20 (off: no limit)",
    ),
    (
        "CHAT_GATEWAY_RATE_API_KEY",
        "messages per API key, per replica, default 600/min,burst=120 (off: no limit)",
    ),
    (
        "CHAT_GATEWAY_<SYSTEM>_RATE_USER",
        "CHAT_GATEWAY_RATE_USER for one system",
    ),
    (
        "CHAT_GATEWAY_<SYSTEM>_RATE_API_KEY",
        "CHAT_GATEWAY_RATE_API_KEY for one system",
    ),
    (
        "CHAT_GATEWAY_RATE_TOKEN_MINT",
        "chat tokens minted per client address, per replica, default 30/min,burst=10 (off: no limit)",
    ),
    (
        "CHAT_GATEWAY_TRUSTED_PROXIES",
        "comma-separated proxy IPs whose X-Forwarded-For names the client; default none",
    ),
    (
        "CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_SYSTEM",
        "upstream tokens each system may use per UTC day, all replicas together; default off",
    ),
    (
        "CHAT_GATEWAY_BUDGET_TOKENS_PER_DAY_USER",
        "upstream tokens each end user may use per UTC day, all replicas together; default off",
    ),
    (
        "CHAT_GATEWAY_DEV_SECRETS_FILE",
        "where development secrets are kept, default .chat-gateway-dev.env",
    ),
    (
        "CHAT_GATEWAY_LOG_FORMAT",
        "json (one object per line, production's default) or pretty (development's default)",
    ),
    (
        "CHAT_GATEWAY_METRICS_TOKEN",
        "if set, GET /metrics needs Authorization: Bearer <this> (at least 16 characters)",
    ),
    ("RUST_LOG", "log filter, default info"),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "with the otel build feature: OTLP/HTTP collector for traces (unset: none exported)",
    ),
];
