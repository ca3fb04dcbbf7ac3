import { openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { decodeAddress } from "@polkadot/util-crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PgStore, StorageDecodeError, SubstrateRpc, TelemetryIngest, type CycleRecord, type ScheduleHistory } from "../src/index.ts";
import { FakeChain, FakeNode, type FakePhases } from "./fakeNode.ts";

// The engine's scenarios that depend on storage, run through Postgres instead of the memory store.
const NETUID = 102;
const PHASES: FakePhases = { Distribute: 20, Train: 300, MinerCommit1: 10, MinerCommit2: 10, Submission: 80, Validate: 10, Merge: 50, ValidatorCommit1: 10, ValidatorCommit2: 10 };
const SCHEDULE: ScheduleHistory = [{ fromBlock: 0, phases: PHASES, source: "test schedule" }];
const FIRST = 1000;
const LAST = 1011;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let store: PgStore;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  store = new PgStore(open.db);
});
afterAll(async () => {
  await open?.close();
  await database?.drop();
});
beforeEach(async () => {
  await open.db.chainCycle.deleteMany();
  await open.db.telemetryCheckpoint.deleteMany();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const chain = new FakeChain({ netuid: NETUID, phases: PHASES, firstCycle: FIRST, lastCycle: LAST, neurons: 48, validators: 4, seed: 11 });
  const node = await new FakeNode(chain).start();
  cleanups.push(() => node.stop());
  const rpc = new SubstrateRpc({ url: node.wsUrl, backoffBaseMs: 5, backoffMaxMs: 50, timeoutMs: 5000 });
  cleanups.push(() => rpc.close());
  return { chain, node, rpc };
}

/** What Postgres holds, cycle by cycle, equals the chain's ground truth (miners and payloads, block hashes). */
async function expectMatchesChain(chain: FakeChain, cycles: number[]) {
  const stored = await store.list(NETUID);
  expect(stored.map((c) => c.index)).toEqual(cycles);
  for (const cycle of stored) {
    expect(new Map(cycle.activeMiners.map((m) => [m.hotkey, m.payload])), `cycle ${cycle.index}`).toEqual(chain.expected.get(cycle.index));
    expect(cycle.lastBlockHash).toBe(chain.hashOf(cycle.lastBlock));
    expect(cycle.readBlockHash).toBe(chain.hashOf(chain.readBlock(cycle.index)));
  }
  const minerRows = await open.db.chainMiner.count({ where: { netuid: NETUID } });
  expect(minerRows).toBe(cycles.reduce((n, c) => n + chain.expected.get(c)!.size, 0));
  const counts = await open.db.chainCycle.findMany({ where: { netuid: NETUID }, select: { cycle: true, activeMiners: true } });
  for (const c of counts) expect(c.activeMiners).toBe(chain.expected.get(c.cycle)!.size);
}

describe("PgStore under the ingest engine", () => {
  it("backfills into Postgres, and a re-run verifies without rewriting a row", async () => {
    const { chain, rpc } = await setup();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    const first = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(first).toMatchObject({ ingested: 12, verified: 0 });
    await expectMatchesChain(chain, range(FIRST, LAST));
    const row = await open.db.chainCycle.findUniqueOrThrow({ where: { netuid_cycle: { netuid: NETUID, cycle: FIRST } } });
    expect(row).toMatchObject({ length: 500, firstBlock: FIRST * 500, registeredNeurons: 48, schedule: { source: "test schedule", fromBlock: 0 } });
    expect(row.phases).toHaveLength(9);
    expect(await store.loadCheckpoint(NETUID)).toEqual({ netuid: NETUID, lastCycle: LAST, lastBlock: (LAST + 1) * 500 - 1 });

    const stamps = await open.db.chainCycle.findMany({ select: { cycle: true, ingestedAt: true }, orderBy: { cycle: "asc" } });
    const again = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(again).toMatchObject({ ingested: 0, reingested: 0, verified: 12 });
    expect(await open.db.chainCycle.findMany({ select: { cycle: true, ingestedAt: true }, orderBy: { cycle: "asc" } })).toEqual(stamps);
    await expectMatchesChain(chain, range(FIRST, LAST));
  });

  it("on resume re-ingests a cycle whose blocks changed and replaces its miner rows exactly", async () => {
    const { chain, rpc } = await setup();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });

    // A fork from just before 1009's read block on which one of its miners re-commits at the read block itself,
    // outside both commit windows: that miner is no longer active in 1009 and its row must go.
    const target = 1009;
    const [dropped] = [...chain.expected.get(target)!.keys()];
    expect(await open.db.chainMiner.count({ where: { netuid: NETUID, cycle: target, hotkey: dropped! } })).toBe(1);
    chain.reorg(chain.readBlock(target) - 5, (branch) => chain.commit(decodeAddress(dropped!), chain.readBlock(target), '{"m":"late"}', branch), { unsafeBelowFinality: true });
    chain.expected.get(target)!.delete(dropped!);

    const summary = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    expect(summary).toMatchObject({ verified: 9, reingested: 3, ingested: 0 });
    expect(await open.db.chainMiner.count({ where: { netuid: NETUID, cycle: target, hotkey: dropped! } })).toBe(0);
    await expectMatchesChain(chain, range(FIRST, LAST));
  });

  it("a malformed value stores nothing for its cycle and holds the checkpoint before it", async () => {
    const { chain, rpc } = await setup();
    const bad = 1004;
    const read = chain.readBlock(bad);
    const key = chain.commitmentKeyFor(chain.hotkeyAt(10, read)!);
    chain.corrupt(key, read, read, "0x0000000000000000210100000490"); // Data tag 144 does not exist
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist, concurrency: 1 });
    const error = await ingest.backfill({ fromCycle: FIRST, toCycle: LAST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageDecodeError);
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).toContain(`#${read}`);
    expect((await open.db.chainCycle.findMany({ select: { cycle: true }, orderBy: { cycle: "asc" } })).map((c) => c.cycle)).toEqual(range(FIRST, bad - 1));
    expect(await open.db.chainMiner.count({ where: { cycle: bad } })).toBe(0);
    expect((await store.loadCheckpoint(NETUID))?.lastCycle).toBe(bad - 1);
  });

  it("writes a cycle and its miners in one transaction: a failing miner row leaves nothing behind", async () => {
    const { chain, rpc } = await setup();
    const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: FIRST });
    const [stored] = await store.list(NETUID);
    // uid 2^31 overflows the integer column, so Postgres rejects the miner insert after the cycle upsert ran.
    const broken: CycleRecord = { ...stored!, index: FIRST + 1, activeMiners: [...stored!.activeMiners, { ...stored!.activeMiners[0]!, hotkey: "5Broken", uid: 2 ** 31 }] };
    await expect(store.upsertCycle(broken)).rejects.toThrow();
    expect(await open.db.chainCycle.count({ where: { cycle: FIRST + 1 } })).toBe(0);
    // And a rewrite that fails keeps the previous version whole.
    await expect(store.upsertCycle({ ...broken, index: FIRST, registeredNeurons: 1 })).rejects.toThrow();
    expect((await store.list(NETUID))[0]).toEqual(stored);
    await expect(store.upsertCycle({ ...stored!, activeMiners: [...stored!.activeMiners, stored!.activeMiners[0]!] })).rejects.toThrow(/duplicate hotkey/);
    // A commitment that is not UTF-8 text is kept with a null payload.
    const withNull: CycleRecord = { ...stored!, index: FIRST + 2, activeMiners: stored!.activeMiners.map((m, i) => (i === 0 ? { ...m, payload: null } : m)) };
    await store.upsertCycle(withNull);
    expect((await store.list(NETUID, { fromCycle: FIRST + 2 }))[0]).toEqual(withNull);
  });
});
