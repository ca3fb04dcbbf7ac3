# The Next.js review page (apps/web). Build from the repository root:
#   docker build -f infra/web.Dockerfile -t subnet-review-web .
FROM node:20-bookworm-slim AS build
RUN npm install -g -E pnpm@12.4.2
WORKDIR /app
COPY . .
ENV NEXT_OUTPUT_STANDALONE=1 NEXT_TELEMETRY_DISABLED=1
RUN pnpm install --frozen-lockfile --filter "@subnet-review/web..." \
 && pnpm --filter @subnet-review/web build

FROM node:20-bookworm-slim AS run
ENV NODE_ENV=production PORT=3000 HOSTNAME=0.0.0.0
WORKDIR /app
# Next's standalone output holds the server and exactly the node_modules it traced.
COPY --from=build /app/apps/web/.next/standalone ./
COPY --from=build /app/apps/web/.next/static ./apps/web/.next/static
USER node
EXPOSE 3000
# API_URL is read per request (server-side), so one image serves any deployment.
CMD ["node", "apps/web/server.js"]
