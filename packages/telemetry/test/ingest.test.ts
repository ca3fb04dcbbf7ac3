import { encodeAddress } from "@polkadot/util-crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  MemoryStore,
  MetadataLayoutError,
  StorageDecodeError,
  SubstrateRpc,
  TelemetryIngest,
  type CycleRecord,
  type IngestProgress,
  type ScheduleHistory,
} from "../src/index.ts";
import { expectedMiners } from "./expected.ts";
import { FakeChain, FakeNode, type FakeCycle, PHASES_500, PHASES_524 } from "./fake-node.ts";

const NETUID = 102;
const ONE: ScheduleHistory = [{ fromBlock: 0, phases: PHASES_500, source: "test schedule" }];
// 500-block cycles 1000..1019 (blocks 500,000..509,999).
const FROM = 500_000;
const TO = 509_999;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(overrides: Partial<ConstructorParameters<typeof FakeChain>[0]> = {}) {
  const chain = new FakeChain({
    netuid: NETUID,
    schedule: [{ fromBlock: 0, phases: PHASES_500 }],
    fromBlock: FROM,
    toBlock: TO,
    neurons: 64,
    validators: 4,
    staleValidators: 1,
    seed: 7,
    ...overrides,
  });
  const node = await new FakeNode(chain).start();
  cleanups.push(() => node.stop());
  return { chain, node };
}

function client(url: string, options: Partial<ConstructorParameters<typeof SubstrateRpc>[0]> = {}) {
  const rpc = new SubstrateRpc({ url, backoffBaseMs: 5, backoffMaxMs: 50, timeoutMs: 5000, ...options });
  cleanups.push(() => rpc.close());
  return rpc;
}

const ingestFor = (chain: FakeChain, rpc: SubstrateRpc, store: MemoryStore, extra: Partial<ConstructorParameters<typeof TelemetryIngest>[0]> = {}) =>
  new TelemetryIngest({ rpc, store, netuid: NETUID, schedule: ONE, validatorWhitelist: chain.whitelist, ...extra });

const sorted = (s: Iterable<string>) => [...s].sort();

/** Each stored cycle holds exactly the fake's cycles, with both counts and miner sets as the scenario implies. */
export function expectMatchesChain(stored: CycleRecord[], chain: FakeChain, cycles: FakeCycle[]) {
  expect(stored.map((c) => [c.firstBlock, c.length])).toEqual(cycles.map((c) => [c.firstBlock, c.length]));
  stored.forEach((record, i) => {
    const expected = expectedMiners(chain, cycles[i]!);
    const label = `cycle ${record.index} (#${record.firstBlock}, ${record.length} blocks)`;
    expect(sorted(record.miners.filter((m) => m.committed).map((m) => m.hotkey)), label).toEqual(sorted(expected.committed));
    expect(sorted(record.miners.filter((m) => m.accepted).map((m) => m.hotkey)), label).toEqual(sorted(expected.accepted));
    expect(record.committed.count).toBe(expected.committed.size);
    expect(record.accepted.count).toBe(expected.accepted.size);
    expect(record.lastBlockHash).toBe(chain.hashOf(record.lastBlock));
    expect(record.readBlockHash).toBe(chain.hashOf(record.readBlock));
  });
}

describe("backfill", () => {
  for (const transport of ["ws", "http"] as const) {
    it(`counts committed and accepted miners exactly as the scenario implies (${transport})`, async () => {
      const { chain, node } = await setup();
      const rpc = client(transport === "ws" ? node.wsUrl : node.httpUrl);
      const store = new MemoryStore();
      const progress: IngestProgress[] = [];
      const summary = await ingestFor(chain, rpc, store, { onProgress: (p) => progress.push(p) }).backfill({ fromBlock: FROM, toBlock: TO });

      expect(summary.ingested).toBe(20);
      expectMatchesChain(store.list(NETUID), chain, chain.cycles);
      const records = store.list(NETUID);
      for (const record of records) {
        const byHotkey = new Map(record.miners.map((m) => [m.hotkey, m]));
        const behaviours = chain.behaviours.get(record.firstBlock)!;
        const replaced = chain.replaced.get(record.firstBlock)!;
        // uid reuse: the hotkey replaced inside MinerCommit2 counts nowhere; its successor committed but has no "m".
        for (const r of replaced) {
          expect(byHotkey.get(r.old)?.committed ?? false).toBe(false);
          expect(byHotkey.get(r.old)?.accepted ?? false).toBe(false);
          expect(byHotkey.get(r.new)).toMatchObject({ committed: true, accepted: false });
          behaviours.delete(r.old);
        }
        for (const [hotkey, behaviour] of behaviours) {
          const row = byHotkey.get(hotkey);
          // Late MinerCommit2 commits keep their MinerCommit1 commitment counted; one block late is still accepted.
          if (behaviour === "late1" || behaviour === "lateMore") expect(row?.committed, `${behaviour} ${hotkey}`).toBe(true);
          if (behaviour === "late1") expect(row?.accepted).toBe(true);
          if (behaviour === "lateMore" || behaviour === "textVersion" || behaviour === "oldVersion" || behaviour === "badJson")
            expect(row?.accepted).toBe(false);
        }
        // The whitelisted hotkey with stale weights (uid 0) is a miner; the working validators are neither.
        const stale = byHotkey.get(chain.whitelist[0]!)!;
        expect(stale.committed).toBe(true);
        // A submission on MinerCommit2's first block is already there at MinerCommit1 end + 1 and hides the "m".
        expect(stale.accepted, JSON.stringify(stale)).toBe(stale.submissionBlock !== record.commitReadBlock);
        for (const v of chain.whitelist.slice(1)) expect(byHotkey.get(v)?.committed ?? false).toBe(false);
        expect(record.committed.count).toBeGreaterThan(record.accepted.count);
        expect(record.registeredNeurons).toBe(64);
      }
      // The scenario really holds what must be told apart.
      const all = [...chain.behaviours.values()].flatMap((m) => [...m.values()]);
      for (const b of ["late1", "lateMore", "oldVersion", "textVersion", "badJson", "submissionOnly", "outsideWindow"] as const)
        expect(all.filter((x) => x === b).length, b).toBeGreaterThan(3);
      // Three round trips a cycle (hashes; N + keys + LastUpdate at three blocks; values), ~30 calls in them.
      expect(summary.cycles.every((c) => c.requests === 3)).toBe(true);
      // Besides: the finalized head twice, its header, the runtime version and the metadata.
      expect(summary.requests).toBe(summary.cycles.reduce((n, c) => n + c.requests, 0) + 5);
      expect(progress.at(-1)).toMatchObject({ done: 20, total: 20 });
      expect(await store.loadCheckpoint(NETUID)).toMatchObject({ netuid: NETUID, lastCycle: 1019, lastBlock: TO });
    });
  }

  it("backfills the last N completed cycles and re-running verifies instead of rewriting", async () => {
    const { chain, node } = await setup({ blocksAfter: 250 });
    const store = new MemoryStore();
    const ingest = ingestFor(chain, client(node.wsUrl), store);
    expect((await ingest.backfill({ last: 5 })).cycles.map((c) => c.index)).toEqual([1015, 1016, 1017, 1018, 1019]);
    const again = await ingest.backfill({ last: 5 });
    expect(again).toMatchObject({ verified: 5, ingested: 0, reingested: 0 });
    expect(again.cycles.every((c) => c.requests === 1 && c.calls === 5)).toBe(true);
    expect(store.upserts).toBe(5);
  });
});

describe("chain changes", () => {
  it("never reads an unfinalized cycle, and ingests the winning fork after a reorg", async () => {
    // Finality stops in cycle 1019's Train phase: 1019 must wait.
    const { chain, node } = await setup({ finalityLag: 200 });
    const store = new MemoryStore();
    const ingest = ingestFor(chain, client(node.wsUrl), store);
    expect((await ingest.backfill({ last: 3 })).cycles.map((c) => c.index)).toEqual([1016, 1017, 1018]);

    // The fork that wins carries one more miner's submission in MinerCommit2 (its MinerCommit1 "m" is already there).
    const last = chain.cycles.at(-1)!;
    const mc2 = chain.phaseRange(last, "MinerCommit2");
    const [hotkey] = [...chain.behaviours.get(last.firstBlock)!].find(([, b]) => b === "mOnly")!;
    const uid = [...Array(64).keys()].find((u) => encodeAddress(chain.hotkeyAt(u, mc2[1])!, 42) === hotkey)!;
    const pubkey = chain.hotkeyAt(uid, mc2[1])!;
    chain.reorg(chain.finalized + 1, (branch) =>
      chain.commit(pubkey, mc2[0] + 2, JSON.stringify({ e: 1, h: "fork", v: mc2[0] - 100, r: "f/x", rv: "abcdef0" }), branch),
    );
    chain.advance(0);

    const summary = await ingest.backfill({ last: 4 });
    expect(summary).toMatchObject({ ingested: 1, verified: 3 });
    expectMatchesChain(store.list(NETUID), chain, chain.cycles.slice(-4));
    expect(
      store
        .list(NETUID)
        .at(-1)!
        .miners.find((m) => m.hotkey === hotkey)?.accepted,
    ).toBe(true);
  });

  it("on resume re-ingests a stored cycle whose block hashes changed", async () => {
    const { chain, node } = await setup();
    const store = new MemoryStore();
    const ingest = ingestFor(chain, client(node.wsUrl), store);
    await ingest.backfill({ fromBlock: FROM, toBlock: TO });
    chain.reorg(chain.phaseRange(chain.cycles[17]!, "MinerCommit2")[1] - 5, undefined, { unsafeBelowFinality: true });
    const summary = await ingest.backfill({ fromBlock: FROM, toBlock: TO });
    expect(summary).toMatchObject({ verified: 17, reingested: 3, ingested: 0 });
    expectMatchesChain(store.list(NETUID), chain, chain.cycles);
  });

  it("refuses a runtime whose storage layout changed, naming the spec version, and writes nothing", async () => {
    const { chain, node } = await setup();
    // CommitmentOf's second hasher becomes Blake2_128Concat (tag 2) instead of Twox64Concat (5) in spec 394.
    const metadata = Buffer.from(chain.metadataHex.slice(2), "hex");
    const name = Buffer.from("CommitmentOf");
    const at = metadata.indexOf(Buffer.concat([Buffer.from([name.length << 2]), name]));
    // name, modifier, Map tag 1, compact 2 hashers, Identity (6), Twox64Concat (5)
    expect([...metadata.subarray(at + 1 + name.length + 1, at + 1 + name.length + 5)]).toEqual([1, 8, 6, 5]);
    metadata[at + 1 + name.length + 4] = 2;
    chain.metadataHex = `0x${metadata.toString("hex")}`;
    chain.specVersion = 394;
    const store = new MemoryStore();
    const error = await ingestFor(chain, client(node.wsUrl), store)
      .backfill({ last: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataLayoutError);
    expect((error as Error).message).toMatch(
      /spec version 394.*Commitments\.CommitmentOf hashers are Identity, Blake2_128Concat, expected Identity, Twox64Concat/,
    );
    expect(store.upserts).toBe(0);
  });

  it("checks an older runtime met in a backfill before decoding under it", async () => {
    const { chain, node } = await setup();
    // Blocks from cycle 1010 on ran spec 392, whose CommitmentOf key had Blake2_128Concat; the head runs 393.
    const metadata = Buffer.from(chain.metadataHex.slice(2), "hex");
    const name = Buffer.from("CommitmentOf");
    const at = metadata.indexOf(Buffer.concat([Buffer.from([name.length << 2]), name]));
    metadata[at + 1 + name.length + 4] = 2;
    chain.upgrades.push(
      { fromBlock: chain.cycles[10]!.firstBlock, specVersion: 392, metadataHex: `0x${metadata.toString("hex")}` },
      { fromBlock: chain.cycles[12]!.firstBlock, specVersion: 393, metadataHex: chain.metadataHex },
    );
    const store = new MemoryStore();
    const error = await ingestFor(chain, client(node.wsUrl), store, { concurrency: 1 })
      .backfill({ fromBlock: FROM, toBlock: TO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataLayoutError);
    expect((error as Error).message).toMatch(/spec version 392/);
    expect(store.list(NETUID).map((c) => c.index)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
  });
});

describe("faults", () => {
  it("rides out a dropped WebSocket with no gap and no duplicate", async () => {
    const { chain, node } = await setup();
    const rpc = client(node.wsUrl);
    const store = new MemoryStore();
    node.knobs.dropAfterCalls = 80;
    await ingestFor(chain, rpc, store).backfill({ fromBlock: FROM, toBlock: TO });
    expect(node.drops).toBe(1);
    expect(rpc.stats.retries).toBeGreaterThanOrEqual(1);
    expect(store.upserts).toBe(20);
    expectMatchesChain(store.list(NETUID), chain, chain.cycles);
  });

  it("resumes after the node went away mid-ingest", async () => {
    const { chain, node } = await setup();
    const store = new MemoryStore();
    const port = Number(new URL(node.httpUrl).port);
    const first = ingestFor(chain, client(node.wsUrl, { maxRetries: 2 }), store, {
      concurrency: 2,
      onProgress: (p) => {
        if (p.done === 8) void node.stop();
      },
    });
    await expect(first.backfill({ fromBlock: FROM, toBlock: TO })).rejects.toThrow(/WebSocket/);
    const storedBefore = store.list(NETUID).length;
    expect(storedBefore).toBeGreaterThanOrEqual(8);
    expect(storedBefore).toBeLessThan(20);

    const restarted = await new FakeNode(chain).start(port);
    cleanups.push(() => restarted.stop());
    const summary = await ingestFor(chain, client(restarted.wsUrl), store).backfill({ fromBlock: FROM, toBlock: TO });
    expect(summary.verified).toBe(storedBefore);
    expect(summary.ingested).toBe(20 - storedBefore);
    expect(store.upserts).toBe(20);
    expectMatchesChain(store.list(NETUID), chain, chain.cycles);
    expect((await store.loadCheckpoint(NETUID))?.lastBlock).toBe(TO);
  });

  it("backs off through a storm of HTTP 429", async () => {
    const { chain, node } = await setup();
    const rpc = client(node.httpUrl, { maxRetries: 30 });
    node.knobs.tooManyRequests = 25;
    const store = new MemoryStore();
    await ingestFor(chain, rpc, store).backfill({ fromBlock: FROM, toBlock: TO });
    expect(node.rejected429).toBe(25);
    expect(rpc.stats.retries).toBe(25);
    expectMatchesChain(store.list(NETUID), chain, chain.cycles);
  });

  it("a malformed commitment fails with its key and block, that cycle is not stored, the checkpoint holds before it", async () => {
    const { chain, node } = await setup();
    const bad = chain.cycles[5]!;
    const read = chain.phaseRange(bad, "MinerCommit2")[1] + 1;
    const key = chain.commitmentKeyFor(chain.hotkeyAt(10, read)!);
    chain.corrupt(key, read, read, "0x0000000000000000210100000490"); // Data tag 144 does not exist
    const store = new MemoryStore();
    const error = await ingestFor(chain, client(node.wsUrl), store, { concurrency: 1 })
      .backfill({ fromBlock: FROM, toBlock: TO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageDecodeError);
    expect((error as StorageDecodeError).key).toBe(key);
    expect((error as Error).message).toContain(`#${read}`);
    expect(store.list(NETUID).map((c) => c.index)).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect((await store.loadCheckpoint(NETUID))?.lastBlock).toBe(bad.firstBlock - 1);
  });
});

describe("nothing skipped", () => {
  it("a backfill past a gap leaves the checkpoint at the gap and reports it; following fills it", async () => {
    const { chain, node } = await setup();
    const store = new MemoryStore();
    const ingest = ingestFor(chain, client(node.wsUrl), store);
    await ingest.backfill({ fromCycle: 1000, toCycle: 1001 });
    const jumped = await ingest.backfill({ fromCycle: 1015, toCycle: 1017 });
    expect(jumped.checkpoint).toMatchObject({ lastCycle: 1001, lastBlock: chain.cycles[1]!.lastBlock });
    expect(jumped.gaps).toEqual([{ fromBlock: chain.cycles[2]!.firstBlock, toBlock: chain.cycles[14]!.lastBlock, cycles: 13 }]);

    const stop = new AbortController();
    const summaries: number[] = [];
    await ingest.follow({ signal: stop.signal, pollMs: 10, recheckCycles: 0, onSummary: (s) => (summaries.push(s.ingested), stop.abort()) });
    expect(summaries).toEqual([15]);
    expectMatchesChain(store.list(NETUID), chain, chain.cycles);
    expect(await store.loadCheckpoint(NETUID)).toMatchObject({ lastCycle: 1019, lastBlock: TO });
  });
});

describe("follow", () => {
  it("ingests each newly finalized cycle, and rides out the node going away between polls", async () => {
    const { chain, node } = await setup({ blocksAfter: -500 }); // head at the end of cycle 1018
    const port = Number(new URL(node.wsUrl).port);
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const ingest = ingestFor(chain, client(node.wsUrl, { maxRetries: 1 }), store);
    await ingest.backfill({ last: 2 });
    const stop = new AbortController();
    // No onSummary: following must ingest without one.
    const following = ingest.follow({ signal: stop.signal, pollMs: 20, onError: (e) => errors.push(e) });
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 1000 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(what(), `errors: ${errors.slice(-3).map(String).join(" / ")} (${errors.length})`).toBe(true);
    };

    await node.stop();
    chain.advance(500); // 1019 completes while the node is away
    await until(() => errors.length >= 2);
    const restarted = await new FakeNode(chain).start(port);
    cleanups.push(() => restarted.stop());
    await until(() => store.list(NETUID).some((c) => c.index === 1019));
    stop.abort();
    await following;

    expect(errors[0]).toBeInstanceOf(Error);
    expectMatchesChain(store.list(NETUID), chain, chain.cycles.slice(-3));
    expect(store.upserts).toBe(3);
    expect((await store.loadCheckpoint(NETUID))?.lastBlock).toBe(TO);
  }, 30_000);

  it("keeps up across a length increase and a decrease announced by the schedule source", async () => {
    // 500 → 524 at #50,100 → 500 at #55,600; whole cycles: 500 × 96..99, 524 × 96..105, 500 × 112..115.
    const schedule = [
      { fromBlock: 0, phases: PHASES_500 },
      { fromBlock: 50_100, phases: PHASES_524 },
      { fromBlock: 55_600, phases: PHASES_500 },
    ];
    const { chain, node } = await setup({ schedule, fromBlock: 48_000, toBlock: 57_999, neurons: 24, blocksAfter: -8_000 });
    const store = new MemoryStore();
    const history = (upTo: number): ScheduleHistory => schedule.filter((s) => s.fromBlock <= upTo).map((s) => ({ ...s, source: "test" }));
    const ingest = ingestFor(chain, client(node.wsUrl), store, { schedule: history(0) });
    await ingest.backfill({ last: 2 });
    expect(store.list(NETUID).map((c) => c.index)).toEqual([98, 99]);
    const stop = new AbortController();
    const errors: unknown[] = [];
    const following = ingest.follow({ signal: stop.signal, pollMs: 10, schedule: async (finalized) => history(finalized), onError: (e) => errors.push(e) });
    for (let step = 0; step < 16; step++) {
      chain.advance(500);
      const want = chain.cycles.filter((c) => c.lastBlock <= chain.finalized).at(-1)!.lastBlock;
      for (let i = 0; i < 300 && (await store.loadCheckpoint(NETUID))!.lastBlock !== want; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await store.loadCheckpoint(NETUID))!.lastBlock, `finalized #${chain.finalized}`).toBe(want);
    }
    stop.abort();
    await following;
    expect(errors).toEqual([]);
    const stored = store.list(NETUID);
    expect(stored.map((c) => `${c.length}:${c.index}`)).toEqual(chain.cycles.slice(2).map((c) => `${c.length}:${c.index}`));
    expectMatchesChain(stored, chain, chain.cycles.slice(2));
  }, 30_000);
});
