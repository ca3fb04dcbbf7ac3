import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { z } from "zod";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.ts";
import { durableStartParams, SyncedNodeFS } from "./synced-node-fs.ts";

export interface EmbeddedPostgres {
  url: string;
  /** The 0700 directory holding the server's unix socket: only this user can connect. */
  socketDir: string;
  /** fsync(2) calls made so far for this database (commits and checkpoints). */
  syncs(): number;
  stop(): Promise<void>;
}

/** This process owns the directory and serves it, or another live process does and this one is its client. */
export type EmbeddedConnection = { mode: "embedded"; server: EmbeddedPostgres } | { mode: "shared"; url: string };

/** Clients the socket server multiplexes onto the single PGlite session: a pool of 3 per process, a few processes. */
export const EMBEDDED_MAX_CONNECTIONS = 16;

const serverFileSchema = z.object({ pid: z.number().int(), url: z.string(), socketDir: z.string() });
type ServerFile = z.infer<typeof serverFileSchema>;

/** Where the owner announces its socket (mode 0600), so other commands of this user share it. */
function serverFile(dataDir: string): string {
  return join(dataDir, "server.json");
}

async function readServerFile(dataDir: string): Promise<ServerFile | null> {
  let text: string;
  try {
    text = await readFile(serverFile(dataDir), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new Error(`cannot read ${serverFile(dataDir)} (${code}): it belongs to another user`);
  }
  try {
    return serverFileSchema.parse(JSON.parse(text));
  } catch {
    return null; // half-written by an owner killed mid-write: as good as absent
  }
}

// A unix socket path must fit in sockaddr_un (108 bytes with its NUL).
const MAX_SOCKET_PATH = 100;
const SOCKET_FILE = ".s.PGSQL.5432";

/** A 0700 directory for the socket: inside the (0700) data directory when the path fits, else a private temp dir. */
async function privateSocketDir(dataDir: string): Promise<string> {
  const inside = join(dataDir, "socket");
  if (join(inside, SOCKET_FILE).length <= MAX_SOCKET_PATH) {
    await rm(inside, { recursive: true, force: true });
    await mkdir(inside, { mode: 0o700 });
    return inside;
  }
  return mkdtemp(join(tmpdir(), "review-pglite-"));
}

/**
 * Opens the embedded database in `dataDir` with one owner per directory. The first process takes the directory's
 * lock and serves PGlite on a unix socket; a second one attaches to that server. A lock holder that is not serving
 * within `waitMs` (still starting, or another program) is refused with a clear message. The owner runs `prepare`
 * (migrations) before it announces itself, so no client ever sees a half-migrated database.
 */
export async function connectEmbedded(
  dataDir: string,
  opts: { waitMs?: number; prepare?: (url: string) => Promise<unknown> } = {},
): Promise<EmbeddedConnection> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  for (;;) {
    const attempt = await lockDataDir(dataDir);
    if ("lock" in attempt) {
      try {
        return { mode: "embedded", server: await startEmbeddedPostgres(dataDir, attempt.lock, opts.prepare) };
      } catch (err) {
        await attempt.lock.release();
        throw err;
      }
    }
    const announced = await readServerFile(dataDir);
    // The file names the lock holder only once it serves; a file left by a killed owner names a dead pid.
    if (announced && attempt.ownerPid !== null && announced.pid === attempt.ownerPid) return { mode: "shared", url: announced.url };
    if (Date.now() >= deadline) {
      const who = attempt.ownerPid === null ? "another process" : `process ${attempt.ownerPid}`;
      throw new Error(`in use by ${who}, which is not serving it; stop that process, or set DATABASE_URL`);
    }
    await sleep(200);
  }
}

/** Starts PGlite in `dataDir` (held by `lock`) as durably as it allows, served on a private unix socket. */
async function startEmbeddedPostgres(dataDir: string, lock: DataDirLock, prepare?: (url: string) => Promise<unknown>): Promise<EmbeddedPostgres> {
  await chmod(dataDir, 0o700);
  const stale = await readServerFile(dataDir);
  if (stale && stale.socketDir !== join(dataDir, "socket")) await rm(stale.socketDir, { recursive: true, force: true });
  await rm(serverFile(dataDir), { force: true });

  const fs = new SyncedNodeFS(join(dataDir, "pgdata"));
  const db = await PGlite.create({ fs, startParams: durableStartParams(PGlite.defaultStartParams) });
  const socketDir = await privateSocketDir(dataDir);
  const server = new PGLiteSocketServer({ db, path: join(socketDir, SOCKET_FILE), maxConnections: EMBEDDED_MAX_CONNECTIONS });
  const url = `postgresql://postgres@${encodeURIComponent(socketDir)}/postgres`;
  const embedded: EmbeddedPostgres = {
    url,
    socketDir,
    syncs: () => fs.syncs,
    async stop() {
      await rm(serverFile(dataDir), { force: true });
      // Stop accepting and detach every client (an open transaction of theirs is rolled back), then let the
      // query in flight finish before PGlite closes under it.
      await server.stop();
      await settle(db, server);
      await db.close();
      await rm(socketDir, { recursive: true, force: true });
      await lock.release();
    },
  };
  try {
    await server.start();
    await prepare?.(url);
  } catch (err) {
    await server.stop();
    await db.close();
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
  await writeFile(serverFile(dataDir), JSON.stringify({ pid: process.pid, url, socketDir } satisfies ServerFile), { mode: 0o600 });
  return embedded;
}

/** Waits (up to 5 s) until no query is queued or running and no transaction is open. */
async function settle(db: PGlite, server: PGLiteSocketServer): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (server.getStats().queuedQueries > 0 || db.isInTransaction())) await sleep(20);
  await db.runExclusive(async () => undefined);
}
