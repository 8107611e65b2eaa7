# dzx in a container: Bun runs the TypeScript sources directly.
# Build: docker build -t dzx .   Run: docker run -p 3333:3333 -v dzx-data:/app/data dzx
FROM oven/bun:1 AS deps
WORKDIR /app
COPY package.json bun.lock* package-lock.json* ./
RUN bun install --production --ignore-scripts

FROM oven/bun:1
WORKDIR /app
# SIGTERM drains: new requests get 503 while calls in flight finish (up to DZX_DRAIN_MS, default
# 10 s), then dzx exits 0. docker stop kills after 10 s by default: stop with -t 15 (Compose:
# stop_grace_period: 15s) so the drain is not cut short.
STOPSIGNAL SIGTERM
ENV NODE_ENV=production \
    DZX_HOST=0.0.0.0 \
    PORT=3333 \
    DZX_DATA_DIR=/app/data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY db ./db
RUN mkdir -p /app/data && chown -R bun:bun /app/data
USER bun
EXPOSE 3333
VOLUME ["/app/data"]
HEALTHCHECK --interval=15s --timeout=3s CMD bun -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3333) + '/ready').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"
ENTRYPOINT ["bun", "run", "src/main.ts"]
CMD ["start"]
