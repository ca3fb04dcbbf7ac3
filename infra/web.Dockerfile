# The review page (apps/web): its production server (apps/web/server, bundled to dist/server.mjs) over Next's
# standalone output. Build from the repository root:
#   docker build -f infra/web.Dockerfile -t subnet-review-web .
FROM node:20-bookworm-slim AS build
RUN npm install -g -E pnpm@12.4.2
WORKDIR /app
COPY . .
ENV NEXT_OUTPUT_STANDALONE=1 NEXT_TELEMETRY_DISABLED=1
RUN pnpm install --frozen-lockfile --filter "@subnet-review/web..." \
 && pnpm --filter @subnet-review/web build

FROM node:20-bookworm-slim AS run
# HOSTNAME: Docker sets it to the container's id; the server listens on the address it names.
ENV NODE_ENV=production PORT=3000 HOSTNAME=0.0.0.0
WORKDIR /app
# Next's standalone output: the node_modules it traced (next among them) and the app, into which the build copied
# the server bundle, .next/static and public/. Owned by the user it runs as, so the last good copies of the api's
# answers (.next/cache/last-good) are kept across restarts.
COPY --from=build --chown=node:node /app/apps/web/.next/standalone ./
USER node
EXPOSE 3000
# API_URL is read at start (the api the pages and the render cache ask), so one image serves any deployment.
# RENDER_CACHE_BYTES (16 MiB) and RENDER_CACHE_CHECK_MS (1000) tune the render cache.
CMD ["node", "apps/web/dist/server.mjs"]
