import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { lockDataDir } from "../src/data-dir-lock.ts";
import { connectEmbedded, openDatabase } from "../src/index.ts";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const writerScript = fileURLToPath(new URL("./fixtures/embedded-writer.ts", import.meta.url));

interface Writer {
  child: ChildProcess;
  mode: Promise<string>;
  acked: string[];
  done: Promise<void>;
  exited: Promise<number | null>;
}

/** A real second process writing `count` rows into the embedded database in `dataDir`. */
function startWriter(dataDir: string, tag: string, count: number, base: number): Writer {
  const env = { ...process.env };
  delete env.DATABASE_URL; // the embedded database, whatever the test runner's environment says
  const child = spawn(process.execPath, ["--import", "tsx", writerScript, dataDir, tag, String(count), String(base)], {
    cwd: packageDir,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const acked: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  let setMode!: (m: string) => void;
  let setDone!: () => void;
  let failDone!: (err: Error) => void;
  const mode = new Promise<string>((resolve) => (setMode = resolve));
  const done = new Promise<void>((resolve, reject) => ((setDone = resolve), (failDone = reject)));
  done.catch(() => undefined); // awaited only by the tests that let a writer finish
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const msg = JSON.parse(line) as { mode?: string; ack?: string; done?: boolean };
    if (msg.mode) setMode(msg.mode);
    if (msg.ack) acked.push(msg.ack);
    if (msg.done) setDone();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      failDone(new Error(`writer ${tag} exited ${code} before it was done: ${stderr.slice(-800)}`));
      resolve(code);
    }),
  );
  return { child, mode, acked, done, exited };
}

async function untilAcked(writer: Writer, n: number): Promise<void> {
  while (writer.acked.length < n) await new Promise((r) => setTimeout(r, 10));
}

/** Rows by name, read twice (sequential scan and unique index) so a damaged index or heap shows as a mismatch. */
async function storedNames(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const seq = await c.query<{ name: string }>(`SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT "name" FROM "Subnet" ORDER BY "name"`);
    const heap = (seq as unknown as pg.QueryResult<{ name: string }>[]).at(-1)!.rows.map((r) => r.name);
    const idx = await c.query<{ n: string }>(`SET enable_seqscan = off; SET enable_indexscan = on; SELECT count(*) AS n FROM "Subnet" WHERE "netuid" >= 0`);
    const indexed = Number((idx as unknown as pg.QueryResult<{ n: string }>[]).at(-1)!.rows[0]!.n);
    expect(indexed).toBe(heap.length);
    return heap;
  } finally {
    await c.end();
  }
}

async function freshDataDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "pglite-rel-")), "data");
}

describe("one owner per embedded data directory", () => {
  it("two processes started together on one directory: one serves, the other attaches; nothing lost, nothing corrupted", async () => {
    const dataDir = await freshDataDir();
    const writers = [startWriter(dataDir, "a", 150, 1_000_000), startWriter(dataDir, "b", 150, 2_000_000)];
    expect((await Promise.all(writers.map((w) => w.mode))).sort()).toEqual(["embedded", "shared"]);
    await Promise.all(writers.map((w) => w.done));
    // The client hangs up first, then the owner, as a CLI command ends before `pnpm start` does.
    const [owner, client] = (await writers[0]!.mode) === "embedded" ? writers : [writers[1]!, writers[0]!];
    client!.child.stdin!.end();
    expect(await client!.exited).toBe(0);
    owner!.child.stdin!.end();
    expect(await owner!.exited).toBe(0);

    const reopened = await openDatabase({ url: "", dataDir });
    expect(reopened.mode).toBe("embedded");
    const names = await storedNames(reopened.url);
    await reopened.close();
    expect(names).toEqual([...writers[0]!.acked, ...writers[1]!.acked].sort());
    expect(names).toHaveLength(300);
  }, 120_000);

  it("the owner killed -9 mid-write: the lock goes with it, the next process opens the directory, every acknowledged write is there", async () => {
    const dataDir = await freshDataDir();
    const first = startWriter(dataDir, "a", 100_000, 1_000_000);
    expect(await first.mode).toBe("embedded");
    const second = startWriter(dataDir, "b", 100_000, 2_000_000);
    expect(await second.mode).toBe("shared");
    await untilAcked(first, 100);
    await untilAcked(second, 50);
    first.child.kill("SIGKILL");
    await first.exited;
    // The attached client loses its server: its next write fails, unacknowledged.
    second.child.stdin!.end();
    expect(await second.exited).not.toBe(0);

    const reopened = await openDatabase({ url: "", dataDir });
    expect(reopened.mode).toBe("embedded");
    const names = new Set(await storedNames(reopened.url));
    await reopened.close();
    const acked = [...first.acked, ...second.acked];
    expect(acked.filter((n) => !names.has(n))).toEqual([]);
    expect(names.size - acked.length).toBeLessThanOrEqual(2); // at most the one write in flight per writer
  }, 120_000);

  it("refuses with a clear message while another holder of the lock is not serving the directory", async () => {
    const dataDir = await freshDataDir();
    await openDatabase({ url: "", dataDir }).then((o) => o.close());
    const held = await lockDataDir(dataDir);
    if (!("lock" in held)) throw new Error("the test could not take the lock");
    try {
      await expect(connectEmbedded(dataDir, { waitMs: 300 })).rejects.toThrow(
        new RegExp(`in use by process ${process.pid}, which is not serving it; stop that process, or set DATABASE_URL`),
      );
    } finally {
      await held.lock.release();
    }
  }, 60_000);
});

describe("the embedded server's surface", () => {
  it("keeps its socket and its announcement to this user (0700 / 0600) and fsyncs every commit", async () => {
    const dataDir = await freshDataDir();
    const connection = await connectEmbedded(dataDir);
    if (connection.mode !== "embedded") throw new Error("expected to own a fresh directory");
    const { server } = connection;
    try {
      expect(server.url).not.toMatch(/127\.0\.0\.1|localhost/); // no TCP port for other local users to reach
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(server.socketDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, "server.json"))).mode & 0o777).toBe(0o600);

      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      const settings = await c.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method', 'synchronous_commit') ORDER BY name`,
      );
      expect(settings.rows).toEqual([
        { name: "fsync", setting: "on" },
        { name: "synchronous_commit", setting: "on" },
        { name: "wal_sync_method", setting: "fsync" },
      ]);
      await c.query(`CREATE TABLE durable (id INT)`);
      const before = server.syncs();
      for (let i = 0; i < 20; i++) await c.query(`INSERT INTO durable VALUES ($1)`, [i]);
      expect(server.syncs() - before).toBeGreaterThanOrEqual(20); // one WAL fsync(2) per commit at least
      await c.end();
    } finally {
      await server.stop();
    }
  }, 60_000);
});
