import { openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PgStore, StorageDecodeError, SubstrateRpc, TelemetryIngest, type CycleRecord, type ScheduleHistory } from "../src/index.ts";
import { expectedMiners } from "./expected.ts";
import { FakeChain, FakeNode, type FakePhases, PHASES_500, PHASES_524 } from "./fake-node.ts";

// The engine through Postgres: the schedule-change scenario the issue names, and the storage guarantees.
const NETUID = 102;
// 500 → 524 at #50,100: whole 500-block cycles 92..99 (#46,000–#49,999), the cut cycle #50,000–#50,499 belongs to no
// schedule, then 524-block cycles 96..105 (#50,304–#55,543). Indexes 96..99 exist under both schedules.
const CHANGE = 50_100;
const SCHEDULE: ScheduleHistory = [
  { fromBlock: 0, phases: PHASES_500, source: "test: 500-block defaults" },
  { fromBlock: CHANGE, phases: PHASES_524, source: "test: 524-block schedule" },
];

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

async function setup(overrides: Partial<ConstructorParameters<typeof FakeChain>[0]> = {}) {
  const chain = new FakeChain({
    netuid: NETUID,
    schedule: SCHEDULE.map(({ fromBlock, phases }) => ({ fromBlock, phases: phases as FakePhases })),
    fromBlock: 46_000,
    toBlock: 55_543,
    neurons: 64,
    validators: 4,
    staleValidators: 1,
    uidReusePerCycle: 2,
    seed: 11,
    ...overrides,
  });
  const node = await new FakeNode(chain).start();
  cleanups.push(() => node.stop());
  const rpc = new SubstrateRpc({ url: node.wsUrl, backoffBaseMs: 5, backoffMaxMs: 50, timeoutMs: 5000 });
  cleanups.push(() => rpc.close());
  const ingest = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist });
  return { chain, node, rpc, ingest };
}

/** Postgres holds exactly the fake's whole cycles, each with both counts and miner sets the scenario implies. */
async function expectMatchesChain(chain: FakeChain): Promise<CycleRecord[]> {
  const stored = await store.list(NETUID);
  expect(stored.map((c) => `${c.length}:${c.index}@${c.firstBlock}`)).toEqual(chain.cycles.map((c) => `${c.length}:${c.index}@${c.firstBlock}`));
  stored.forEach((record, i) => {
    const expected = expectedMiners(chain, chain.cycles[i]!);
    const label = `cycle ${record.index} of ${record.length}`;
    expect(new Set(record.miners.filter((m) => m.committed).map((m) => m.hotkey)), label).toEqual(expected.committed);
    expect(new Set(record.miners.filter((m) => m.accepted).map((m) => m.hotkey)), label).toEqual(expected.accepted);
    expect([record.committed.count, record.accepted.count], label).toEqual([expected.committed.size, expected.accepted.size]);
    expect(record.lastBlockHash).toBe(chain.hashOf(record.lastBlock));
  });
  return stored;
}

describe("PgStore under the ingest engine", () => {
  it("stores every cycle on both sides of a 500 → 524 schedule change with both counts as the scenario implies", async () => {
    const { chain, rpc, ingest } = await setup();
    const summary = await ingest.backfill({ last: 18 });
    expect(summary.ingested).toBe(18);
    const stored = await expectMatchesChain(chain);
    expect(stored.filter((c) => c.length === 500).map((c) => c.index)).toEqual([92, 93, 94, 95, 96, 97, 98, 99]);
    expect(stored.filter((c) => c.length === 524).map((c) => c.index)).toEqual([96, 97, 98, 99, 100, 101, 102, 103, 104, 105]);
    // Two rows with the same index, told apart by first block, length and schedule.
    const twins = await open.db.chainCycle.findMany({ where: { netuid: NETUID, cycle: 97 }, orderBy: { firstBlock: "asc" } });
    expect(twins.map((t) => [t.firstBlock, t.length, t.scheduleKey])).toEqual([
      [48_500, 500, "0:20/300/10/10/80/10/50/10/10"],
      [50_828, 524, "50100:20/300/12/12/90/10/56/12/12"],
    ]);
    expect(twins.every((t) => t.committedDefinition === "committed-in-miner-commit-windows" && t.acceptedDefinition === "accepted-by-validator-rules")).toBe(
      true,
    );
    expect(await store.loadCheckpoint(NETUID)).toMatchObject({ lastBlock: 55_543, lastCycle: 105, scheduleKey: "50100:20/300/12/12/90/10/56/12/12" });
    // What it cost, per cycle, as stored: HTTP requests / WebSocket frames and JSON-RPC calls.
    for (const c of stored) expect(c.rpcRequests).toBe(3);
    const table = stored.map(
      (c) =>
        `${c.length}-block cycle ${c.index} #${c.firstBlock}–#${c.lastBlock}: committed ${c.committed.count}, accepted ${c.accepted.count}; ${c.rpcRequests} requests, ${c.rpcCalls} calls`,
    );
    console.log(`${table.join("\n")}\ntotal ${summary.requests} requests, ${summary.calls} JSON-RPC calls (${rpc.stats.retries} retries)`);

    const again = await ingest.backfill({ fromBlock: 46_000, toBlock: 55_543 });
    expect(again).toMatchObject({ ingested: 0, reingested: 0, verified: 18 });
  });

  it("--from-cycle style ranges name indexes within one schedule and refuse an ambiguous one", async () => {
    const { ingest } = await setup();
    expect((await ingest.backfill({ fromCycle: 92, toCycle: 95 })).cycles.map((c) => c.firstBlock)).toEqual([46_000, 46_500, 47_000, 47_500]);
    expect((await ingest.backfill({ fromCycle: 100, toCycle: 101 })).cycles.map((c) => c.length)).toEqual([524, 524]);
    await expect(ingest.backfill({ fromCycle: 96, toCycle: 97 })).rejects.toThrow(/cycles 96–97 exist under more than one schedule.*--from-block/);
  });

  it("on resume re-ingests a cycle whose blocks changed and replaces its miner rows exactly", async () => {
    const { chain, ingest } = await setup();
    await ingest.backfill({ last: 18 });
    const target = chain.cycles[10]!;
    chain.reorg(chain.phaseRange(target, "MinerCommit2")[1] - 3, undefined, { unsafeBelowFinality: true });
    const summary = await ingest.backfill({ last: 18 });
    expect(summary).toMatchObject({ verified: 10, reingested: 8, ingested: 0 });
    await expectMatchesChain(chain);
  });

  it("a malformed value stores nothing for its cycle and holds the checkpoint before it", async () => {
    const { chain, rpc } = await setup();
    const bad = chain.cycles[4]!;
    const read = chain.phaseRange(bad, "MinerCommit2")[1] + 1;
    const key = chain.commitmentKeyFor(chain.hotkeyAt(10, read)!);
    chain.corrupt(key, read, read, "0x0000000000000000210100000490"); // Data tag 144 does not exist
    const serial = new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: SCHEDULE, validatorWhitelist: chain.whitelist, concurrency: 1 });
    const error = await serial.backfill({ last: 18 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageDecodeError);
    expect((error as Error).message).toContain(`#${read}`);
    expect((await store.list(NETUID)).map((c) => c.firstBlock)).toEqual(chain.cycles.slice(0, 4).map((c) => c.firstBlock));
    expect(await open.db.chainMiner.count({ where: { firstBlock: bad.firstBlock } })).toBe(0);
    expect((await store.loadCheckpoint(NETUID))?.lastBlock).toBe(bad.firstBlock - 1);
  });

  it("writes a cycle and its miners in one transaction: a failing miner row leaves nothing behind", async () => {
    const { ingest } = await setup();
    await ingest.backfill({ fromCycle: 92, toCycle: 92 });
    const [stored] = await store.list(NETUID);
    // uid 2^31 overflows the integer column, so Postgres rejects the miner insert after the cycle upsert ran.
    const broken: CycleRecord = { ...stored!, firstBlock: 1, miners: [...stored!.miners, { ...stored!.miners[0]!, hotkey: "5Broken", uid: 2 ** 31 }] };
    await expect(store.upsertCycle(broken)).rejects.toThrow();
    expect(await open.db.chainCycle.count({ where: { firstBlock: 1 } })).toBe(0);
    // And a rewrite that fails keeps the previous version whole.
    await expect(store.upsertCycle({ ...broken, firstBlock: stored!.firstBlock, registeredNeurons: 1 })).rejects.toThrow();
    expect((await store.list(NETUID))[0]).toEqual(stored);
    await expect(store.upsertCycle({ ...stored!, miners: [...stored!.miners, stored!.miners[0]!] })).rejects.toThrow(/duplicate hotkey/);
  });
});
