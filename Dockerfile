# transportation-api container image.
#   npm run image:build              picks the base (official Bun image, or a locally built one when no
#                                    registry is reachable) and stamps version, commit and build time
#   docker build --build-arg BUN_VERSION="$(npm pkg get devDependencies.bun | tr -d '"')" -t transportation-api .
#                                    works too wherever Docker Hub is reachable
# Works with the classic builder and BuildKit; no Dockerfile frontend is pulled.

# Bun's version has one home, package.json (devDependencies.bun, exact): the tests run that Bun, and
# the image is built on it. No default here, so the two cannot drift apart. An offline build passes a
# local base instead (scripts/docker/build-base.ts): --build-arg BUN_IMAGE=transportation-api/bun-base:<bun>-bookworm
ARG BUN_VERSION
ARG BUN_IMAGE=oven/bun:${BUN_VERSION}-slim

# ---- production dependencies, from package-lock.json --------------------------------------------
FROM ${BUN_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/docker/prepare-modules.ts ./scripts/docker/
# Bun reads npm's package-lock.json (no bun.lock is kept); prepare-modules.ts then fails the build if
# anything installed is not the locked version, and prunes what production never loads.
# No lifecycle scripts: no production dependency needs one.
RUN bun install --frozen-lockfile --production --ignore-scripts --no-progress \
 && bun scripts/docker/prepare-modules.ts

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${BUN_IMAGE}
WORKDIR /app
# A fixed non-root uid/gid (10001) that Kubernetes securityContext and volume ownership can rely on.
# The code stays root-owned and read-only to the service; only data/ and the log folder are its own.
RUN echo "app:x:10001:10001:transportation-api:/app:/usr/sbin/nologin" >> /etc/passwd \
 && echo "app:x:10001:" >> /etc/group \
 && mkdir -p /app/data /var/log/transportation \
 && chown 10001:10001 /app/data /var/log/transportation
COPY --from=deps /app/node_modules ./node_modules
COPY package.json config.yaml ./
COPY scripts/docker/healthcheck.ts ./scripts/docker/
COPY src ./src

# Bun would otherwise try to cache transpiled files under $HOME: nothing is written with a read-only
# root filesystem, and /tmp (a tmpfs) stays for the service.
ENV NODE_ENV=production \
    PORT=8000 \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 \
    TMPDIR=/tmp
USER 10001:10001
# 8000: the API; 9464: GET /metrics for Prometheus (METRICS_PORT), kept off the Service and the Ingress.
EXPOSE 8000 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bun", "scripts/docker/healthcheck.ts", "/health"]
STOPSIGNAL SIGTERM
# Exec form: Bun is PID 1 and receives SIGTERM itself; the service drains in-flight requests and exits 0.
ENTRYPOINT ["bun", "src/main.ts"]
CMD ["serve"]

# Build metadata last, so a new commit or build time never invalidates the layers above.
ARG APP_VERSION=0.0.0-dev
ARG GIT_COMMIT=unknown
ARG BUILD_TIME=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="transportation-api" \
      org.opencontainers.image.description="GTFS public-transit data API" \
      org.opencontainers.image.version="${APP_VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.created="${BUILD_TIME}" \
      org.opencontainers.image.source="${SOURCE_URL}"
ENV APP_VERSION=${APP_VERSION} \
    GIT_COMMIT=${GIT_COMMIT} \
    BUILD_TIME=${BUILD_TIME}
