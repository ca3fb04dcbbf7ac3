import { fileURLToPath } from "node:url";
import { createDb, type Db } from "./client.ts";
import { connectEmbedded } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";

export interface OpenDatabase {
  db: Db;
  url: string;
  /** "url": a server's URL (DATABASE_URL in the apps); "embedded": this process started PGlite; "shared": another process's PGlite. */
  mode: "url" | "embedded" | "shared";
  close(): Promise<void>;
}

export const defaultDataDir = fileURLToPath(new URL("../../../.data/pglite", import.meta.url));

/** Pool size for a client of the embedded server: it multiplexes a handful of connections for everyone. */
const EMBEDDED_POOL = 3;

/**
 * A URL: that server. None: embedded PGlite persisted under dataDir (default .data/pglite),
 * served on a unix socket only this user can reach, or the one another review process already serves from that
 * folder (one owner per folder).
 * Either way migrations are applied before the client is returned.
 */
export async function openDatabase(opts: { url?: string | undefined; dataDir?: string | undefined } = {}): Promise<OpenDatabase> {
  const url = opts.url;
  if (url) {
    await applyMigrations(url);
    const db = createDb(url);
    return { db, url, mode: "url", close: () => db.$disconnect() };
  }
  const dataDir = opts.dataDir ?? defaultDataDir;
  let connection;
  try {
    connection = await connectEmbedded(dataDir, { prepare: (url) => applyMigrations(url) });
  } catch (err) {
    throw new Error(`could not open the embedded database in ${dataDir}: ${(err as Error).message}`);
  }
  if (connection.mode === "shared") {
    const db = createDb(connection.url, { maxConnections: EMBEDDED_POOL });
    return { db, url: connection.url, mode: "shared", close: () => db.$disconnect() };
  }
  const server = connection.server;
  const db = createDb(server.url, { maxConnections: EMBEDDED_POOL });
  return {
    db,
    url: server.url,
    mode: "embedded",
    async close() {
      await db.$disconnect();
      await server.stop();
    },
  };
}
