# syntax=docker/dockerfile:1.7
# One image for web, jobs and migrations: the command decides
# (`serve`, `job run NAME`, `migrate up`). Templates, assets and migrations are
# embedded in the binary, so the runtime image holds nothing else.
# Staging and production run this same image; they differ only in environment
# values (Parameter Store → task definition secrets/environment).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X carematch/app.version=${VERSION}" \
      -o /out/carematch ./cmd/carematch \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/localcron ./deploy/cmd/localcron

# Local compose only (service "jobs"): the same binary plus localcron, which
# runs `carematch job run NAME` on the schedule the binary prints. Never
# pushed; production schedules are EventBridge Scheduler's.
FROM gcr.io/distroless/static-debian12:nonroot AS jobrunner
COPY --from=build /out/carematch /carematch
COPY --from=build /out/localcron /localcron
USER 65532:65532
ENTRYPOINT ["/localcron", "/carematch"]

# The image: distroless/static (CA certificates, tzdata and /etc/passwd, no
# shell) with the one binary. The default (last) stage.
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/carematch /carematch
# 65532 is distroless's "nonroot"; numeric so Kubernetes-style runAsNonRoot
# checks and ECS see a non-root user without reading /etc/passwd.
USER 65532:65532
EXPOSE 8080
# ECS ignores an image HEALTHCHECK and uses the task definition's healthCheck
# (same command); docker and compose use this one.
HEALTHCHECK --interval=15s --timeout=4s --start-period=20s --retries=3 \
  CMD ["/carematch", "healthcheck"]
ENTRYPOINT ["/carematch"]
CMD ["serve"]
