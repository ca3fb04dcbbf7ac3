import { fileURLToPath } from "node:url";
import { createDb, type Db } from "./client.ts";
import { EMBEDDED_MAX_CONNECTIONS, startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";

export interface OpenDatabase {
  db: Db;
  url: string;
  /** True when this process started embedded PGlite (DATABASE_URL unset). */
  embedded: boolean;
  close(): Promise<void>;
}

export const defaultDataDir = fileURLToPath(new URL("../../../.data/pglite", import.meta.url));

/**
 * DATABASE_URL set: that server. Unset: embedded PGlite persisted under REVIEW_DATA_DIR (default .data/pglite),
 * served on a loopback port. Either way migrations are applied before the client is returned.
 */
export async function openDatabase(
  opts: { url?: string; dataDir?: string; port?: number } = {},
): Promise<OpenDatabase> {
  const url = opts.url ?? process.env.DATABASE_URL;
  if (url) {
    await applyMigrations(url);
    const db = createDb(url);
    return { db, url, embedded: false, close: () => db.$disconnect() };
  }
  const dataDir = opts.dataDir ?? process.env.REVIEW_DATA_DIR ?? defaultDataDir;
  let pg;
  try {
    pg = await startEmbeddedPostgres({ dataDir, ...(opts.port === undefined ? {} : { port: opts.port }) });
  } catch (err) {
    throw new Error(
      `could not open the embedded database in ${dataDir} (${(err as Error).message}); if another review process is using it, stop that process or set DATABASE_URL`,
    );
  }
  const embedded = pg;
  try {
    await applyMigrations(embedded.url);
  } catch (err) {
    await embedded.stop();
    throw err;
  }
  // Migrations above used (and released) their own connection; the pool shares the multiplexer's slots.
  const db = createDb(embedded.url, { maxConnections: EMBEDDED_MAX_CONNECTIONS - 1 });
  return {
    db,
    url: embedded.url,
    embedded: true,
    async close() {
      await db.$disconnect();
      await embedded.stop();
    },
  };
}
