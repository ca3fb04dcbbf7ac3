import { createHash } from "node:crypto";
import { open, readFile, realpath, unlink } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { processIsAlive } from "@subnet-review/core/node";
import { z } from "zod";

/** Held by the one process that may open a PGlite data directory. */
export interface DataDirLock {
  release(): Promise<void>;
}

/** The lock, or the pid of the live process that holds it (null when it could not be told). */
export type LockAttempt = { lock: DataDirLock } | { ownerPid: number | null };

/**
 * Takes the exclusive lock on `dataDir`. On Linux the lock is an abstract unix socket named for the directory's real
 * path: the kernel frees it when its process dies (kill -9 included), so a stale lock cannot exist and a reused pid
 * cannot fool it. Elsewhere a lock file created with O_EXCL holds the owner's pid, taken over when that pid is dead.
 */
export async function lockDataDir(dataDir: string): Promise<LockAttempt> {
  const real = await realpath(dataDir);
  return process.platform === "linux" ? lockWithAbstractSocket(real) : lockWithPidFile(real);
}

function abstractSocketName(dir: string): string {
  return `\0subnet-review-pglite-${createHash("sha256").update(dir).digest("hex").slice(0, 40)}`;
}

async function lockWithAbstractSocket(dir: string): Promise<LockAttempt> {
  const name = abstractSocketName(dir);
  // Whoever connects learns the owner's pid, so a second process can say who holds the directory.
  const server: Server = createServer((socket) => {
    socket.on("error", () => undefined); // a caller that hangs up early is no concern of the owner's
    socket.end(JSON.stringify({ pid: process.pid }));
  });
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(false) : reject(err)));
    server.listen(name, () => resolve(true));
  });
  if (bound) {
    server.unref();
    return { lock: { release: () => new Promise<void>((resolve) => server.close(() => resolve())) } };
  }
  return { ownerPid: await abstractSocketOwner(name) };
}

function abstractSocketOwner(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(name);
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("error", () => resolve(null));
    socket.on("close", () => resolve(ownerPidIn(text)));
  });
}

const ownerReplySchema = z.object({ pid: z.number().int().positive() });

function ownerPidIn(reply: string): number | null {
  try {
    return ownerReplySchema.parse(JSON.parse(reply)).pid;
  } catch {
    return null;
  }
}

async function lockWithPidFile(dir: string): Promise<LockAttempt> {
  const path = join(dir, "owner.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, "wx", 0o600);
      await file.writeFile(String(process.pid));
      await file.close();
      return { lock: { release: () => unlink(path).catch(() => undefined) } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) return { ownerPid: pid };
    await unlink(path).catch(() => undefined);
  }
  return { ownerPid: null };
}
