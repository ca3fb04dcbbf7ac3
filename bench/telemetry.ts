/**
 * Telemetry backfill benchmark: 150 cycles of a 256-neuron subnet from the fake Subtensor node with 100 ms added to
 * every request, unthrottled. Target: under 15 s with flat memory. Writes bench/results/telemetry.json.
 */
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cycleKeyId,
  SubstrateRpc,
  TelemetryIngest,
  type Checkpoint,
  type CycleBlockHashes,
  type CycleKey,
  type CycleRecord,
  type TelemetryStore,
} from "../packages/telemetry/src/index.ts";
import { blockHashesOf } from "../packages/telemetry/src/memory-store.ts";
import { expectedMiners } from "../packages/telemetry/test/expected.ts";
import { FakeChain, FakeNode, PHASES_500 } from "../packages/telemetry/test/fake-node.ts";

const CYCLES = 150;
const LATENCY_MS = 100;
const TARGET_S = 15;
const CONCURRENCY = 16;

/** Keeps counts and hashes only, so the heap figures measure the engine rather than retained rows. */
class CountingStore implements TelemetryStore {
  miners = 0;
  accepted = 0;
  cycles = 0;
  private readonly hashes = new Map<string, CycleBlockHashes>();
  private checkpoint: Checkpoint | null = null;
  async loadCheckpoint() {
    return this.checkpoint;
  }
  async storedBlockHashes(_netuid: number, keys: readonly CycleKey[]) {
    return new Map(keys.flatMap((k) => (this.hashes.has(cycleKeyId(k)) ? [[cycleKeyId(k), this.hashes.get(cycleKeyId(k))!] as const] : [])));
  }
  async upsertCycle(c: CycleRecord) {
    this.cycles++;
    this.miners += c.committed.count;
    this.accepted += c.accepted.count;
    this.hashes.set(cycleKeyId(c), blockHashesOf(c));
  }
  async saveCheckpoint(cp: Checkpoint) {
    this.checkpoint = cp;
  }
}

const firstCycle = 15_700;
const chain = new FakeChain({
  netuid: 102,
  schedule: [{ fromBlock: 0, phases: PHASES_500 }],
  fromBlock: firstCycle * 500,
  toBlock: (firstCycle + CYCLES) * 500 - 1,
  neurons: 256,
  validators: 8,
  staleValidators: 1,
  seed: 102,
});
const node = await new FakeNode(chain).start();
node.knobs.latencyMs = LATENCY_MS;
const rpc = new SubstrateRpc({ url: node.wsUrl, requestsPerMinute: null });
const store = new CountingStore();
// Heap is sampled after a full GC so the figures show retained memory, not garbage awaiting collection.
v8.setFlagsFromString("--expose_gc");
const gc = vm.runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const heapSamples: number[] = [heapMb()];
const ingest = new TelemetryIngest({
  rpc,
  store,
  netuid: 102,
  schedule: [{ fromBlock: 0, phases: PHASES_500, source: "bench" }],
  validatorWhitelist: chain.whitelist,
  concurrency: CONCURRENCY,
  onProgress: (p) => {
    if (p.done % 50 === 0) heapSamples.push(heapMb());
  },
});
const cpuBefore = process.cpuUsage();
const summary = await ingest.backfill({ fromCycle: firstCycle, toCycle: firstCycle + CYCLES - 1 });
if (summary.cycles.length !== CYCLES) throw new Error(`read ${summary.cycles.length} cycles, expected ${CYCLES}`);
const cpu = process.cpuUsage(cpuBefore);
await rpc.close();
await node.stop();

const expected = chain.cycles.map((c) => expectedMiners(chain, c));
const committed = expected.reduce((n, e) => n + e.committed.size, 0);
const accepted = expected.reduce((n, e) => n + e.accepted.size, 0);
if (store.miners !== committed || store.accepted !== accepted)
  throw new Error(`committed/accepted ${store.miners}/${store.accepted} != the scenario's ${committed}/${accepted}`);
const result = {
  bench: "telemetry-backfill",
  cycles: summary.cycles.length,
  neurons: 256,
  latencyMsPerRequest: LATENCY_MS,
  throttle: "none",
  concurrency: CONCURRENCY,
  seconds: Number(summary.seconds.toFixed(3)),
  cyclesPerSecond: Number((summary.cycles.length / summary.seconds).toFixed(2)),
  requestsPerCycle: Number((summary.requests / summary.cycles.length).toFixed(2)),
  jsonRpcCallsPerCycle: Number((summary.calls / summary.cycles.length).toFixed(2)),
  activeMinersPerCycle: Number((store.miners / store.cycles).toFixed(1)),
  acceptedMinersPerCycle: Number((store.accepted / store.cycles).toFixed(1)),
  // CPU of this process (client and fake node together) during the backfill; wall time above it is waiting.
  cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
  loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
  heapMb: heapSamples.map((h) => Number(h.toFixed(1))),
  heapGrowthMb: Number((Math.max(...heapSamples.slice(1)) - heapSamples[1]!).toFixed(1)),
  targetSeconds: TARGET_S,
  pass: summary.seconds < TARGET_S,
  node: process.version,
  at: new Date().toISOString(),
};
console.log(
  `backfill ${result.cycles} cycles in ${result.seconds} s (${result.cyclesPerSecond} cycles/s), ${result.requestsPerCycle} requests/cycle (${result.jsonRpcCallsPerCycle} JSON-RPC calls), ${result.activeMinersPerCycle} active miners/cycle`,
);
console.log(`CPU ${result.cpuSeconds} s during the backfill (client + fake node in one process), load average ${result.loadAverage1m}`);
console.log(
  `heap MB after GC every 50 cycles: ${result.heapMb.join(", ")} (growth after warm-up ${result.heapGrowthMb} MB); target < ${TARGET_S} s: ${result.pass ? "PASS" : "FAIL"}`,
);
const out = join(dirname(fileURLToPath(import.meta.url)), "results", "telemetry.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
if (!result.pass) process.exitCode = 1;
