import { encodeAddress } from "@polkadot/util-crypto";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore, StorageDecodeError, SubstrateRpc, TelemetryIngest, type IngestProgress, type ScheduleHistory } from "../src/index.ts";
import { FakeChain, FakeNode, type FakePhases } from "./fakeNode.ts";

const NETUID = 102;
const PHASES: FakePhases = { Distribute: 20, Train: 300, MinerCommit1: 10, MinerCommit2: 10, Submission: 80, Validate: 10, Merge: 50, ValidatorCommit1: 10, ValidatorCommit2: 10 };
const SCHEDULE: ScheduleHistory = [{ fromBlock: 0, phases: PHASES, source: "test schedule" }];
const FIRST = 1000;
const LAST = 1019;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(overrides: Partial<ConstructorParameters<typeof FakeChain>[0]> = {}) {
  const chain = new FakeChain({ netuid: NETUID, phases: PHASES, firstCycle: FIRST, lastCycle: LAST, neurons: 64, validators: 4, seed: 7, ...overrides });
  const node = await new FakeNode(chain).start();
  cleanups.push(() => node.stop());
  return { chain, node };
}

function client(url: string, options: Partial<ConstructorParameters<typeof SubstrateRpc>[0]> = {}) {
  const rpc = new SubstrateRpc({ url, backoffBaseMs: 5, backoffMaxMs: 50, timeoutMs: 5000, ...options });
  cleanups.push(() => rpc.close());
  return rpc;
}

function expectMatchesChain(store: MemoryStore, chain: FakeChain, cycles: number[]) {
  const stored = store.list(NETUID);
  expect(stored.map((c) => c.index)).toEqual(cycles);
  for (const cycle of stored) {
    const miners = new Map(cycle.activeMiners.map((m) => [m.hotkey, m.payload]));
    expect(miners, `cycle ${cycle.index}`).toEqual(chain.expected.get(cycle.index));
    expect(cycle.lastBlockHash).toBe(chain.hashOf(cycle.lastBlock));
    expect(cycle.readBlockHash).toBe(chain.hashOf(chain.readBlock(cycle.index)));
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe("backfill", () => {
  for (const transport of ["ws", "http"] as const) {
    it(`counts exactly the miners the chain holds (${transport})`, async () => {
      const { chain, node } = await setup();
      const rpc = client(transport === "ws" ? node.wsUrl : node.httpUrl);
      const store = new MemoryStore();
      const progress: IngestProgress[] = [];
      const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist, onProgress: (p) => progress.push(p) });
      const summary = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });

      expect(summary.ingested).toBe(20);
      expectMatchesChain(store, chain, range(FIRST, LAST));
      const counts = store.list(NETUID).map((c) => c.activeMiners.length);
      expect(Math.min(...counts)).toBeGreaterThan(30);
      expect(new Set(counts).size).toBeGreaterThan(1);
      for (const cycle of store.list(NETUID)) {
        const hotkeys = new Set(cycle.activeMiners.map((m) => m.hotkey));
        expect(chain.whitelist.some((v) => hotkeys.has(v))).toBe(false);
        const excluded = chain.excluded.get(cycle.index)!;
        for (const h of [...excluded.deregistered, ...excluded.outsideWindow]) expect(hotkeys.has(h)).toBe(false);
        expect(cycle.registeredNeurons).toBe(64);
        expect(cycle.length).toBe(500);
        expect(cycle.schedule.source).toBe("test schedule");
      }
      // The synthetic chain really contains what must be excluded.
      expect([...chain.excluded.values()].reduce((n, e) => n + e.deregistered.length, 0)).toBeGreaterThan(10);
      expect([...chain.excluded.values()].reduce((n, e) => n + e.outsideWindow.length, 0)).toBeGreaterThan(10);
      // ~3 round trips a cycle: block hashes, N + keys, values.
      expect(summary.requests / 20).toBeLessThanOrEqual(3);
      expect(progress.at(-1)).toMatchObject({ done: 20, total: 20 });
      expect(await store.loadCheckpoint(NETUID)).toEqual({ netuid: NETUID, lastCycle: LAST, lastBlock: (LAST + 1) * 500 - 1 });
    });
  }

  it("backfills the last N completed cycles and re-running verifies instead of rewriting", async () => {
    const { chain, node } = await setup({ blocksAfter: 250 });
    const rpc = client(node.wsUrl);
    const store = new MemoryStore();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    expect((await ingest.backfill({ last: 5 })).cycles).toEqual(range(1015, 1019));
    const again = await ingest.backfill({ last: 5 });
    expect(again).toMatchObject({ verified: 5, ingested: 0, reingested: 0 });
    expect(store.upserts).toBe(5);
  });
});

describe("chain changes", () => {
  it("never reads an unfinalized cycle, and ingests the winning fork after a reorg", async () => {
    // Finality stops in cycle 1019's Train phase: 1019 must wait.
    const { chain, node } = await setup({ finalityLag: 200 });
    const rpc = client(node.wsUrl);
    const store = new MemoryStore();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    expect((await ingest.backfill({ last: 3 })).cycles).toEqual([1016, 1017, 1018]);
    expect(store.list(NETUID).some((c) => c.index === 1019)).toBe(false);

    // The fork that wins carries one more miner commitment in MinerCommit2.
    const uid = range(4, 63).find((u) => !chain.expected.get(1019)!.has(encodeAddress(chain.hotkeyAt(u, chain.readBlock(1019))!, 42)))!;
    const pubkey = chain.hotkeyAt(uid, chain.readBlock(1019))!;
    const oldLastHash = chain.hashOf(chain.head);
    chain.reorg(chain.finalized + 1, (branch) => chain.commit(pubkey, chain.phaseRange(1019, "MinerCommit2")[0] + 2, '{"h":"fork"}', branch));
    chain.advance(0);
    chain.expected.get(1019)!.set(encodeAddress(pubkey, 42), '{"h":"fork"}');

    const summary = await ingest.backfill({ last: 4 });
    expect(summary).toMatchObject({ ingested: 1, verified: 3 });
    expectMatchesChain(store, chain, [1016, 1017, 1018, 1019]);
    expect(store.list(NETUID).at(-1)!.lastBlockHash).not.toBe(oldLastHash);
  });

  it("on resume re-ingests a stored cycle whose block hashes changed", async () => {
    const { chain, node } = await setup();
    const rpc = client(node.wsUrl);
    const store = new MemoryStore();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    chain.reorg(chain.readBlock(1017) - 5, undefined, { unsafeBelowFinality: true });
    const summary = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(summary).toMatchObject({ verified: 17, reingested: 3, ingested: 0 });
    expectMatchesChain(store, chain, range(FIRST, LAST));
  });
});

describe("faults", () => {
  it("rides out a dropped WebSocket with no gap and no duplicate", async () => {
    const { chain, node } = await setup();
    const rpc = client(node.wsUrl);
    const store = new MemoryStore();
    node.knobs.dropAfterCalls = 40;
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(node.drops).toBe(1);
    expect(rpc.stats.retries).toBeGreaterThanOrEqual(1);
    expect(store.upserts).toBe(20);
    expectMatchesChain(store, chain, range(FIRST, LAST));
  });

  it("resumes after the node went away mid-ingest", async () => {
    const { chain, node } = await setup();
    const store = new MemoryStore();
    const port = Number(new URL(node.httpUrl).port);
    const first = new TelemetryIngest({
      rpc: client(node.wsUrl, { maxRetries: 2 }),
      store,
      netuid: NETUID,
      schedule: SCHEDULE,
      validatorWhitelist: chain.whitelist,
      concurrency: 2,
      onProgress: (p) => {
        if (p.done === 8) void node.stop();
      },
    });
    await expect(first.backfill({ fromCycle: FIRST, toCycle: LAST })).rejects.toThrow(/WebSocket/);
    const storedBefore = store.list(NETUID).length;
    expect(storedBefore).toBeGreaterThanOrEqual(8);
    expect(storedBefore).toBeLessThan(20);

    const restarted = await new FakeNode(chain).start(port);
    cleanups.push(() => restarted.stop());
    const second = new TelemetryIngest({ rpc: client(restarted.wsUrl), store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    const summary = await second.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(summary.verified).toBe(storedBefore);
    expect(summary.ingested).toBe(20 - storedBefore);
    expect(store.upserts).toBe(20);
    expectMatchesChain(store, chain, range(FIRST, LAST));
    expect((await store.loadCheckpoint(NETUID))?.lastCycle).toBe(LAST);
  });

  it("backs off through a storm of HTTP 429", async () => {
    const { chain, node } = await setup();
    const rpc = client(node.httpUrl, { maxRetries: 30 });
    node.knobs.tooManyRequests = 25;
    const store = new MemoryStore();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(node.rejected429).toBe(25);
    expect(rpc.stats.retries).toBe(25);
    expectMatchesChain(store, chain, range(FIRST, LAST));
  });

  it("a malformed commitment fails with its key and block, and that cycle is not stored", async () => {
    const { chain, node } = await setup();
    const bad = 1005;
    const read = chain.readBlock(bad);
    const hotkey = chain.hotkeyAt(10, read)!;
    const key = chain.commitmentKeyFor(hotkey);
    chain.corrupt(key, read, read, "0x0000000000000000210100000490"); // Data tag 144 does not exist
    const store = new MemoryStore();
    const ingest = new TelemetryIngest({ rpc: client(node.wsUrl), store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist, concurrency: 1 });
    const error = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageDecodeError);
    expect((error as StorageDecodeError).key).toBe(key);
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).toContain(`#${read}`);
    expect(store.list(NETUID).map((c) => c.index)).toEqual(range(FIRST, bad - 1));
    expect((await store.loadCheckpoint(NETUID))?.lastCycle).toBe(bad - 1);
  });
});

describe("follow", () => {
  it("ingests each newly finalized cycle, and rides out the node going away between polls", async () => {
    const { chain, node } = await setup({ blocksAfter: -500 }); // head at the end of LAST - 1
    const port = Number(new URL(node.wsUrl).port);
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const ingest = new TelemetryIngest({ rpc: client(node.wsUrl, { maxRetries: 1 }), store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ last: 2 });
    const stop = new AbortController();
    // No onSummary: following must ingest without one.
    const following = ingest.follow({ signal: stop.signal, pollMs: 20, onError: (e) => errors.push(e) });
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 1000 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(what(), `errors: ${errors.slice(-3).map(String).join(" / ")} (${errors.length})`).toBe(true);
    };

    await node.stop();
    chain.advance(500); // LAST completes while the node is away
    await until(() => errors.length >= 2);
    const restarted = await new FakeNode(chain).start(port);
    cleanups.push(() => restarted.stop());
    await until(() => store.list(NETUID).some((c) => c.index === LAST));
    stop.abort();
    await following;

    expect(errors[0]).toBeInstanceOf(Error);
    expectMatchesChain(store, chain, [LAST - 2, LAST - 1, LAST]);
    expect(store.upserts).toBe(3);
    expect((await store.loadCheckpoint(NETUID))?.lastCycle).toBe(LAST);
  }, 30_000);
});
