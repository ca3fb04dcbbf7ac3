import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDb, DATA_CHANGES_APPLICATION, type Db } from "@subnet-review/db";
import { afterAll, describe, expect, it, vi } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";
import { dataVersionOf } from "../src/view/data-version.ts";

// How soon a write shows in the uncached review query (no response cache) and in review.dataVersion: a write
// through the api on the next read; another connection's or process's within a short bound while the listener is
// live, and on the next read while it is down; on the embedded PGlite (no notifications) on the next read.
const SLUG = "subnet-102-status-review";
const dbPackage = fileURLToPath(new URL("../../db/", import.meta.url));
const run = promisify(execFile);

const started: TestApi[] = [];
afterAll(async () => {
  for (const api of started) await api.stop();
});
async function start(opts: Parameters<typeof startTestApi>[0] = {}): Promise<TestApi> {
  const api = await startTestApi({ cacheTtlMs: 0, ...opts });
  started.push(api);
  return api;
}

const title = async (api: TestApi) => (await api.client().review.bySlug.query({ slug: SLUG })).title;
const version = async (api: TestApi) => (await api.client().review.dataVersion.query()).version;
const notified = (db: Db) => dataVersionOf(db).notified;

/** Sets the title through a client of its own (its own connections, not the api's); resolves once acknowledged. */
async function setTitleBeside(url: string, text: string): Promise<void> {
  const db = createDb(url, { maxConnections: 1 });
  try {
    await db.$executeRaw`UPDATE "Review" SET "title" = ${text} WHERE "slug" = ${SLUG}`;
  } finally {
    await db.$disconnect();
  }
}

/** Milliseconds from now until `api` answers `expected` as the title (polled every millisecond or so). */
async function msUntilTitle(api: TestApi, expected: string, limitMs: number): Promise<number> {
  const from = performance.now();
  while ((await title(api)) !== expected) {
    if (performance.now() - from > limitMs) throw new Error(`title still not ${JSON.stringify(expected)} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return performance.now() - from;
}

describe("with the listener live", () => {
  it("a write through the api shows on the next read, before any notification (the api moves the version itself)", async () => {
    const api = await start();
    await vi.waitFor(() => expect(notified(api.db)).toBe(true), { timeout: 5_000 });
    const writer = api.client(await api.token());
    const { model } = await api.client().review.bySlug.query({ slug: SLUG });
    // No trigger fires: only the api's own invalidation can show these writes.
    await api.db.$executeRaw`ALTER TABLE "ModelConfig" DISABLE TRIGGER "ModelConfig_data_changed"`;
    try {
      for (let i = 0; i < 5; i++) {
        const before = await version(api);
        await writer.modelConfig.upsert.mutate({ name: model.name, config: { ...(model.config as object), x_test_marker: i } });
        expect(await version(api)).not.toBe(before);
        expect((await api.client().review.bySlug.query({ slug: SLUG })).model.config).toMatchObject({ x_test_marker: i });
      }
    } finally {
      await api.db.$executeRaw`ALTER TABLE "ModelConfig" ENABLE TRIGGER "ModelConfig_data_changed"`;
    }
    expect(notified(api.db)).toBe(true);
  });

  it("another connection's write shows within a second, and moves review.dataVersion", async () => {
    const api = await start();
    const url = api.databaseUrl;
    await vi.waitFor(() => expect(notified(api.db)).toBe(true), { timeout: 5_000 });
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = await version(api);
      await setTitleBeside(url, `beside ${i}`);
      lags.push(await msUntilTitle(api, `beside ${i}`, 1_000));
      expect(await version(api)).not.toBe(before);
    }
    expect(notified(api.db)).toBe(true);
    expect(Math.max(...lags)).toBeLessThan(1_000);
  });

  it("another process's write through the db package's own client shows within a second", async () => {
    const api = await start();
    const url = api.databaseUrl;
    await vi.waitFor(() => expect(notified(api.db)).toBe(true), { timeout: 5_000 });
    const before = await version(api);
    const script = `import { createDb } from "./src/index.ts";
      const db = createDb(${JSON.stringify(url)});
      await db.review.update({ where: { slug: ${JSON.stringify(SLUG)} }, data: { title: "from another process" } });
      await db.$disconnect();`;
    await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: dbPackage });
    expect(await msUntilTitle(api, "from another process", 1_000)).toBeLessThan(1_000);
    expect(await version(api)).not.toBe(before);
  }, 30_000);
  it("another connection's write clears the response cache when its notification arrives", async () => {
    // A minute's TTL: only the notification can make the cached answer go.
    const api = await start({ cacheTtlMs: 60_000 });
    await vi.waitFor(() => expect(notified(api.db)).toBe(true), { timeout: 5_000 });
    await title(api);
    expect(api.server.responseCache.size.entries).toBe(1);
    await setTitleBeside(api.databaseUrl, "cached, then notified");
    expect(await msUntilTitle(api, "cached, then notified", 1_000)).toBeLessThan(1_000);
  });
});

describe("with the listener down", () => {
  it("asks the database on every read: another connection's write shows on the next read", async () => {
    // Reconnection held off for a minute, so the test sees the fallback and not a reconnected listener.
    const api = await start({ dataChanges: { retry: { baseMs: 60_000, maxMs: 60_000 } } });
    const url = api.databaseUrl;
    await vi.waitFor(() => expect(notified(api.db)).toBe(true), { timeout: 5_000 });
    const live = await version(api);
    const cut = await api.db.$queryRaw<{ cut: boolean }[]>`
      SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
      WHERE application_name = ${DATA_CHANGES_APPLICATION} AND datname = current_database()`;
    expect(cut).toEqual([{ cut: true }]);
    await vi.waitFor(() => expect(notified(api.db)).toBe(false), { timeout: 5_000 });
    // The version a live listener gave is never current again: what it missed while down is unknown.
    expect(await version(api)).not.toBe(live);
    for (let i = 0; i < 5; i++) {
      const before = await version(api);
      await setTitleBeside(url, `while down ${i}`);
      expect(await title(api)).toBe(`while down ${i}`);
      expect(await version(api)).not.toBe(before);
    }
  });
});

describe("on the embedded PGlite", () => {
  it("never goes live (no notification crosses its connections) and shows every write on the next read", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "pglite-version-")), "data");
    try {
      const api = await start({ dataDir, dataChanges: { probeTimeoutMs: 300 } });
      const writer = api.client(await api.token());
      // Long enough for the probe to have failed at least twice.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(notified(api.db)).toBe(false);
      const view = await api.client().review.bySlug.query({ slug: SLUG });
      for (let i = 0; i < 3; i++) {
        const before = await version(api);
        await setTitleBeside(api.databaseUrl, `embedded ${i}`);
        expect(await title(api)).toBe(`embedded ${i}`);
        const between = await version(api);
        expect(between).not.toBe(before);
        await writer.modelConfig.upsert.mutate({ name: view.model.name, config: { ...(view.model.config as object), x_test_marker: i } });
        expect((await api.client().review.bySlug.query({ slug: SLUG })).model.config).toMatchObject({ x_test_marker: i });
        expect(await version(api)).not.toBe(between);
      }
    } finally {
      await started.pop()?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
