# The one binary, in a small image that runs as a non-root user.
#   docker build -t fundbridge .
#   docker run --rm fundbridge serve --help
# Every service is this image with another command (docker-compose.yml,
# deploy/k8s).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no cgo), so the image needs no libc; trimpath keeps the build
# machine's paths out of the binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/fundbridge ./cmd/fundbridge \
 && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with "nonroot" (65532),
# no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/fundbridge /usr/local/bin/fundbridge
# ./data (the default --data-dir) is owned by nonroot, so a volume mounted
# there starts writable: views keep their projections in it.
COPY --from=build --chown=65532:65532 /out/data /home/nonroot/data
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/fundbridge"]
CMD ["--help"]
