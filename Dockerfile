# smartag-service as a small container: a static (musl) binary on a distroless base, run as a
# non-root user, its database on a volume.
#
#   docker build -t smartag-service .
#   docker run -p 8080:8080 -v smartag-data:/data \
#     -e SMARTAG_ACCESS_KEY_ID=my-key -e SMARTAG_ACCESS_KEY_SECRET=my-secret smartag-service
#
# Configuration comes from SMARTAG_* environment variables (README, "Operating the service") or a
# mounted config file (-e SMARTAG_CONFIG=/config/smartag.toml). The image listens on 0.0.0.0, so
# the service refuses to start with the public demo key: give an access key of your own.

# --- build: the release binary, statically linked against musl -------------------------------
FROM rust:1.95-alpine AS build
# musl-dev and gcc: the C parts (bundled SQLite, ring) for the musl target.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev gcc
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p smartag-service \
    && cp target/release/smartag-service /smartag-service \
    && mkdir -p /empty-data
# --- run: nothing but the binary ----------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /smartag-service /usr/local/bin/smartag-service
# The data folder, owned by the image's non-root user (a new named volume copies this ownership).
COPY --from=build --chown=65532:65532 /empty-data /data
ENV SMARTAG_LISTEN=0.0.0.0:8080 \
    SMARTAG_DATA=/data/smartag.db
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# The admin listener answers GET /_admin/health; it stays on the container's loopback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/smartag-service", "healthcheck", "--url", "http://127.0.0.1:9090/_admin/health"]
ENTRYPOINT ["/usr/local/bin/smartag-service"]
CMD ["serve", "--admin-listen", "127.0.0.1:9090"]
