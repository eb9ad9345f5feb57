# syntax=docker/dockerfile:1
# deferproxy image: a cgo build (pg_query_go links libpg_query) in the Go image, run from a slim Debian of the same
# release so the glibc the binary was linked against is there.

FROM golang:1.26-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deferproxy ./cmd/deferproxy

FROM debian:trixie-slim
# curl is for the HEALTHCHECK (admin /healthz); ca-certificates for TLS to a managed warehouse.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin deferproxy
COPY --from=build /out/deferproxy /usr/local/bin/deferproxy
USER 10001:10001
# 6432: PostgreSQL clients; 6480: admin HTTP (/healthz /readyz /status /metrics).
EXPOSE 6432 6480
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=6 \
    CMD curl -fsS http://127.0.0.1:6480/healthz || exit 1
ENTRYPOINT ["deferproxy"]
CMD ["serve", "--listen", "0.0.0.0:6432", "--admin", "0.0.0.0:6480"]
