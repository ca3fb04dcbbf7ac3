import { createApiServer, drainAndClose, listen } from "@subnet-review/api";
import { databaseOptions, importPublishedReview, openDatabase } from "@subnet-review/db";
import { parseApiEnv } from "./env.ts";

// apps/api only hosts: configuration comes from the environment (checked once, here), the logic from @subnet-review/api.
let env;
try {
  env = parseApiEnv(process.env);
} catch (err) {
  console.error(`api: ${(err as Error).message}`);
  process.exit(2);
}
const { PORT: port, HOST: host } = env;

const database = await openDatabase(databaseOptions(env));
const imported = await importPublishedReview(database.db);
const server = createApiServer({ db: database.db, corsOrigin: env.CORS_ORIGIN });
const bound = await listen(server, port, host);
console.log(
  `api listening on http://${host}:${bound} (database: ${database.mode === "url" ? "DATABASE_URL" : `embedded PGlite (${database.mode})`}; reference review ${imported.figures} reported figures)`,
);

// Drain first, then close the database: a request in flight is answered, never failed by a closed database.
async function shutdown(signal: string): Promise<void> {
  console.log(`api: ${signal}, draining`);
  await drainAndClose(server);
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
