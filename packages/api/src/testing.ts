import { figureTransformer } from "@subnet-review/core";
import { createApiToken, importPublishedReview, openDatabase, type Db } from "@subnet-review/db";
import { openTestDatabase } from "@subnet-review/db/testing";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AppRouter } from "./root.ts";
import { createApiServer, listen, type ApiServer, type ApiServerOptions, type FailureLog } from "./server.ts";

export interface TestApi {
  db: Db;
  /** The database's URL, for a connection of a test's own (a writer beside the api). */
  databaseUrl: string;
  server: ApiServer;
  /** Failures the server logged (4xx kept here; 5xx also written to stderr). */
  logs: FailureLog[];
  /** The api's base URL on 127.0.0.1. */
  url: string;
  /** A typed client, with a write token when given. */
  client(token?: string): ReturnType<typeof createTRPCClient<AppRouter>>;
  /** A new write token's secret. */
  token(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * For tests: a fresh database on the real Postgres (or, given `dataDir`, the embedded PGlite in that folder) with the
 * published review, served by the real api.
 */
export async function startTestApi(opts: Omit<ApiServerOptions, "db"> & { dataDir?: string } = {}): Promise<TestApi> {
  const { dataDir, ...serverOpts } = opts;
  const open = dataDir === undefined ? await openTestDatabase() : await openDatabase({ url: "", dataDir });
  await importPublishedReview(open.db);
  const logs: FailureLog[] = [];
  const log = (entry: FailureLog) => {
    logs.push(entry);
    if (entry.level === "error") process.stderr.write(`${JSON.stringify(entry)}\n`);
  };
  const server = createApiServer({ log, ...serverOpts, db: open.db });
  const url = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
  return {
    db: open.db,
    databaseUrl: open.url,
    server,
    logs,
    url,
    client: (token) =>
      createTRPCClient<AppRouter>({
        links: [httpBatchLink({ url: `${url}/trpc`, transformer: figureTransformer, headers: token ? { authorization: `Bearer ${token}` } : {} })],
      }),
    token: async (name = "test") => (await createApiToken(open.db, name)).secret,
    async stop() {
      server.close();
      server.closeAllConnections();
      await open.close();
    },
  };
}
