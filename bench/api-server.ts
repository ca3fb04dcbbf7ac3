// One server for bench/api.ts, in its own process so the load generator does not share its event loop.
//   tsx bench/api-server.ts api    -> the real api (tRPC + Prisma + Postgres), prints its port and how it learns the data
//                                     version (API_CACHE_TTL_MS=0: no response cache)
//   tsx bench/api-server.ts bare FILE -> a bare node:http server answering FILE's bytes as a constant
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createApiServer, listen } from "../packages/api/src/index.ts";
import { dataVersionOf } from "../packages/api/src/view/data-version.ts";
import { databaseEnvSchema, databaseOptions, importPublishedReview, openDatabase } from "../packages/db/src/index.ts";

const mode = process.argv[2];
if (mode === "api") {
  const database = await openDatabase(databaseOptions(databaseEnvSchema.parse(process.env))); // DATABASE_URL, else embedded
  await importPublishedReview(database.db);
  // API_CACHE_BYTES: bench/api-memory.ts compares the default bound with a practically unbounded cache.
  const cacheBytes = process.env.API_CACHE_BYTES ? Number(process.env.API_CACHE_BYTES) : undefined;
  // API_CACHE_TTL_MS=0: no response cache (bench/api.ts's uncached path: every read reaches the router).
  const cacheTtlMs = process.env.API_CACHE_TTL_MS ? Number(process.env.API_CACHE_TTL_MS) : undefined;
  const server = createApiServer({ db: database.db, ...(cacheBytes ? { cacheBytes } : {}), ...(cacheTtlMs !== undefined ? { cacheTtlMs } : {}) });
  const port = await listen(server, 0, "127.0.0.1");
  // Notified (the listener is live: no query per read) or asked (a snapshot query per read: the embedded PGlite).
  const version = dataVersionOf(database.db);
  for (let waited = 0; !version.notified && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(JSON.stringify({ port, dataVersion: version.notified ? "notified" : "asked" }));
} else if (mode === "bare") {
  const body = readFileSync(process.argv[3]!);
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
  });
  server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
} else {
  throw new Error(`mode must be api or bare, got ${mode}`);
}
process.once("SIGINT", () => process.exit(0));
