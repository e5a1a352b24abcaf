# syntax=docker/dockerfile:1
# publishbot: one static binary on a distroless base. The publisher uses
# go-git, so the image needs no git, no shell and no libc.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# .git is not in the build context: pass the revision in
# (docker build --build-arg REVISION=$(git rev-parse HEAD) .).
ARG REVISION=
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/publishbot ./cmd/publishbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/publishbot /usr/local/bin/publishbot
# The data dir holds the queue and the repository cache; it must outlive the
# container. The nonroot user (65532) owns it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PUBLISHBOT_DATA_DIR=/data \
    PUBLISHBOT_ADDR=:8080 \
    PUBLISHBOT_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/publishbot", "healthcheck"]
# On `docker stop` (SIGTERM) serve stops taking webhooks and gives the
# running job PUBLISHBOT_SHUTDOWN_GRACE (30s); give docker stop a longer -t.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/publishbot"]
CMD ["serve"]
