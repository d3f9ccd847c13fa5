# newsdesk searchd: a static binary on an empty base image, running as a
# non-root user, with the index directory as a volume.
#
#   docker build -t newsdesk .
#   docker run --rm -p 8080:8080 -v newsdesk-index:/data \
#     -v "$PWD/../shared/data:/corpus:ro" newsdesk \
#     -bootstrap /corpus/events.jsonl.gz /corpus/portal-wikitext /corpus/sample-event-page.md

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# VERSION, if given (docker build --build-arg VERSION=v1.2.3), is what
# -version and /v1/info say; otherwise the commit the build info records.
ARG VERSION=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=auto -ldflags "-s -w -X github.com/newsdesk/newsdesk/version.stamp=${VERSION}" -o /out/ ./cmd/searchd ./cmd/indexer && \
    mkdir -p /out/data && chown 65532:65532 /out/data

FROM scratch
COPY --from=build /out/searchd /out/indexer /
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV NEWSDESK_INDEX=/data/index NEWSDESK_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
# searchd answers /livez as soon as it starts, while -bootstrap builds the
# index too (/readyz says 503 until it serves).
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 CMD ["/searchd", "-probe"]
ENTRYPOINT ["/searchd"]
