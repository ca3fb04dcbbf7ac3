import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { z } from "zod";

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Clients the socket server multiplexes onto the single PGlite session; pools are sized below this. */
export const EMBEDDED_MAX_CONNECTIONS = 8;

const serverFileSchema = z.object({ pid: z.number().int(), port: z.number().int(), url: z.string() });

/** Where a running embedded server announces itself, so other commands share it instead of reopening the files. */
function serverFile(dataDir: string): string {
  return join(dataDir, "server.json");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The URL of an embedded server another live process is already serving from `dataDir`, if any. */
export async function findRunningEmbedded(dataDir: string): Promise<string | null> {
  try {
    const info = serverFileSchema.parse(JSON.parse(await readFile(serverFile(dataDir), "utf8")));
    return info.pid !== process.pid && isAlive(info.pid) ? info.url : null;
  } catch {
    return null;
  }
}

/**
 * Starts PGlite persisted in `dataDir` and serves it over the Postgres wire protocol on 127.0.0.1,
 * so the zero-setup default goes through the same pg + Prisma code path as a real server.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port?: number }): Promise<EmbeddedPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(join(opts.dataDir, "pgdata"));
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: opts.port ?? 0,
    maxConnections: EMBEDDED_MAX_CONNECTIONS,
  });
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
  await writeFile(serverFile(opts.dataDir), JSON.stringify({ pid: process.pid, port, url }));
  return {
    url,
    port,
    async stop() {
      await rm(serverFile(opts.dataDir), { force: true });
      await server.stop();
      await db.close();
    },
  };
}
