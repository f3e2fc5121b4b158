# syntax=docker/dockerfile:1
#
# The tz-chat gateway as a small container that runs as a non-root user.
#
#   docker build -t tz-chat-gateway .
#
# It is configured by environment variables only (`chat-gateway --help`
# lists them; docs/deployment.md explains SQLite for one replica and
# PostgreSQL for several). It listens on 8088; GET /health answers while the
# process is up, GET /ready while it can also reach its database.

ARG RUST_VERSION=1.95

# --- build -------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the crate registry and build artifacts between builds; the
# binary is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p gateway --bin chat-gateway \
    && install -D -m 0755 target/release/chat-gateway /out/chat-gateway

# --- run ---------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# CA certificates for HTTPS to the upstreams (Dify); the PostgreSQL client
# carries its own roots. Nothing else: no compiler, no package cache.
# ca-certificates is left unpinned on purpose: it should track Debian's updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 chat \
    && useradd --system --uid 10001 --gid chat --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin chat \
    && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=builder /out/chat-gateway /usr/local/bin/chat-gateway

# /data is the only place the process may write: a SQLite file for a single
# replica (DATABASE_URL=sqlite:///data/chat_gateway.db, with a volume here).
# Several replicas share PostgreSQL instead and write nothing locally.
WORKDIR /data
ENV CHAT_GATEWAY_ENV=production \
    CHAT_GATEWAY_LISTEN=0.0.0.0:8088 \
    RUST_LOG=info
USER 10001:10001
EXPOSE 8088
# For plain Docker and Compose; Kubernetes uses its own probes (deploy/).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8088 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/chat-gateway"]
CMD ["serve"]
