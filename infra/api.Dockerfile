# The tRPC API (apps/api). Build from the repository root:
#   docker build -f infra/api.Dockerfile -t subnet-review-api .
FROM node:20-bookworm-slim AS base
RUN npm install -g -E pnpm@12.4.2
WORKDIR /app

FROM base AS deps
COPY . .
# Only the api server and the packages it needs.
RUN pnpm install --frozen-lockfile --filter "@subnet-review/api-server..." \
 && pnpm --filter @subnet-review/db generate

FROM base AS run
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0
COPY --from=deps /app /app
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# DATABASE_URL must be set (migrations run at start); without it the api would start embedded PGlite.
CMD ["pnpm", "--filter", "@subnet-review/api-server", "start"]
