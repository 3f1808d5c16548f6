# syntax=docker/dockerfile:1
#
# Nexus in a container: the web client and the server built from source, shipped in a
# small Debian image that runs as a non-root user.
#
#   docker build -t nexus .
#   docker run -d --name nexus -p 8080:8080 -v nexus-data:/var/lib/nexus nexus
#
# Configure with environment variables (PORT, DATABASE_URL, REDIS_URL, JWT_SECRET,
# NEXUS_<SECTION>__<KEY>), or mount a nexus.toml and set NEXUS_CONFIG to its path so that
# `nexus healthcheck` reads the same file. See docs/configuration.md.
# scripts/package runs the same steps without Docker.

# --- the web client (Vite) ---------------------------------------------------------------
FROM node:20-bookworm AS client
WORKDIR /src/assets
COPY assets/package.json assets/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY assets/ ./
RUN npm run build

# --- the server --------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src/ src/
COPY migrations/ migrations/
COPY --from=client /src/assets/dist/ assets/dist/
# The client is built already: build.rs must not try to run npm here.
ENV NEXUS_SKIP_CLIENT_BUILD=1
# The build context has no .git: pass the commit for `nexus --version`
# (docker build --build-arg NEXUS_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .).
ARG NEXUS_GIT_COMMIT=unknown
ENV NEXUS_GIT_COMMIT=${NEXUS_GIT_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin nexus \
    && install -m 0755 target/release/nexus /usr/local/bin/nexus

# --- the runtime -------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 nexus \
    && useradd --system --uid 10001 --gid nexus --home-dir /var/lib/nexus --shell /usr/sbin/nologin nexus \
    && install -d -o nexus -g nexus -m 0700 /var/lib/nexus /var/lib/nexus/data
COPY --from=builder /usr/local/bin/nexus /usr/local/bin/nexus
USER nexus
WORKDIR /var/lib/nexus
ENV NEXUS_SERVER__DATA_DIR=/var/lib/nexus/data
VOLUME /var/lib/nexus
# HTTP + WebSocket; the TURN/STUN relay (udp) and its relay ports (udp, turn.relay_*_port).
EXPOSE 8080 3478/udp 3478/tcp 3479/udp 49160-49359/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["nexus", "healthcheck"]
ENTRYPOINT ["nexus"]
CMD ["serve"]
