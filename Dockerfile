# dzx in a container: the compiled binary (bun run build → dist/dzx) alone on a slim base.
# Build: docker build -t dzx .
# Run:   docker run -v dzx-data:/data -p 3333:3333 dzx
#        docker run -e DATABASE_URL=postgres://user:pass@db:5432/dzx -p 3333:3333 dzx
# test/cli/binary.test.ts runs this build stage's `bun run build` and checks the rest of this file.

# npm ci installs the locked dependencies, bun among them (a devDependency): the
# binary is compiled by, and carries, the Bun version package-lock.json pins.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
ENV PATH=/src/node_modules/.bin:$PATH
COPY . .
RUN bun run build

# glibc, as the binary needs; no bun, no node, no node_modules
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home dzx \
 && mkdir /data && chown dzx:dzx /data
COPY --from=build /src/dist/dzx /usr/local/bin/dzx
USER dzx
ENV DZX_DATA_DIR=/data DZX_HOST=0.0.0.0 PORT=3333
VOLUME /data
EXPOSE 3333
# SIGTERM drains: new requests get 503 while calls in flight finish (up to DZX_DRAIN_MS, default
# 10 s), then dzx exits 0. docker stop kills after 10 s by default: stop with -t 15 (Compose:
# stop_grace_period: 15s) so the drain is not cut short.
STOPSIGNAL SIGTERM
# GET /ready on DZX_HOST:PORT: fails while the database does not answer, not only when the process is gone
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s CMD ["/usr/local/bin/dzx", "health"]
ENTRYPOINT ["/usr/local/bin/dzx"]
CMD ["start"]
