import { createApiServer, listen } from "@subnet-review/api";
import { importPublishedReview, openDatabase } from "@subnet-review/db";

// apps/api only hosts: configuration comes from the environment, the logic from @subnet-review/api.
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? "0.0.0.0";

const database = await openDatabase();
const imported = await importPublishedReview(database.db);
const server = createApiServer({ db: database.db, corsOrigin: process.env.CORS_ORIGIN });
const bound = await listen(server, port, host);
console.log(
  `api listening on http://${host}:${bound} (database: ${database.mode === "url" ? "DATABASE_URL" : `embedded PGlite (${database.mode})`}; reference review ${imported.figures} reported figures)`,
);

async function shutdown(signal: string): Promise<void> {
  console.log(`api: ${signal}, closing`);
  server.close();
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
