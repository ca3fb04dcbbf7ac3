/**
 * Telemetry backfill into Postgres: the bench/telemetry.ts workload (150 cycles of a 256-neuron subnet from the fake
 * Subtensor node, 100 ms added to every request, unthrottled) written through PgStore into a fresh database on the
 * real server, then re-run to time the verify-only resume. Target: under 15 s with flat memory.
 * Writes bench/results/telemetry-pg.json.
 */
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../packages/db/src/index.ts";
import { createTestDatabase } from "../packages/db/src/testing.ts";
import { ingestProgressLine, PgStore, SubstrateRpc, TelemetryIngest } from "../packages/telemetry/src/index.ts";
import { expectedMiners } from "../packages/telemetry/test/expected.ts";
import { FakeChain, FakeNode, PHASES_500 } from "../packages/telemetry/test/fake-node.ts";

const CYCLES = 150;
const LATENCY_MS = 100;
const TARGET_S = 15;
const CONCURRENCY = 16;

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
const database = await createTestDatabase();
const open = await openDatabase({ url: database.url });
const rpc = new SubstrateRpc({ url: node.wsUrl, requestsPerMinute: null });
v8.setFlagsFromString("--expose_gc");
const gc = vm.runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const heapSamples: number[] = [heapMb()];
const ingest = new TelemetryIngest({
  rpc,
  store: new PgStore(open.db),
  netuid: 102,
  schedule: [{ fromBlock: 0, phases: PHASES_500, source: "bench" }],
  validatorWhitelist: chain.whitelist,
  concurrency: CONCURRENCY,
  onProgress: (p) => {
    if (p.done % 50 === 0) {
      heapSamples.push(heapMb());
      console.error(ingestProgressLine(p));
    }
  },
});
try {
  const cpuBefore = process.cpuUsage();
  const summary = await ingest.backfill({ fromCycle: firstCycle, toCycle: firstCycle + CYCLES - 1 });
  const cpu = process.cpuUsage(cpuBefore);
  const resume = await ingest.backfill({ fromCycle: firstCycle, toCycle: firstCycle + CYCLES - 1 });
  const minerRows = await open.db.chainMiner.count();
  const committedRows = await open.db.chainMiner.count({ where: { committed: true } });
  const committed = chain.cycles.reduce((n, c) => n + expectedMiners(chain, c).committed.size, 0);
  if (committedRows !== committed) throw new Error(`committed miner rows ${committedRows} != the scenario's ${committed}`);
  if (resume.verified !== CYCLES) throw new Error(`re-run verified ${resume.verified} of ${CYCLES}`);
  const result = {
    bench: "telemetry-backfill-postgres",
    cycles: summary.cycles.length,
    neurons: 256,
    latencyMsPerRequest: LATENCY_MS,
    throttle: "none",
    concurrency: CONCURRENCY,
    seconds: Number(summary.seconds.toFixed(3)),
    cyclesPerSecond: Number((summary.cycles.length / summary.seconds).toFixed(2)),
    requestsPerCycle: Number((summary.requests / summary.cycles.length).toFixed(2)),
    jsonRpcCallsPerCycle: Number((summary.calls / summary.cycles.length).toFixed(2)),
    minerRows,
    activeMinersPerCycle: Number((committedRows / CYCLES).toFixed(1)),
    // CPU of this process (client, Prisma and fake node together) during the backfill; wall time above it is waiting.
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    resumeVerifySeconds: Number(resume.seconds.toFixed(3)),
    resumeRequestsPerCycle: Number((resume.requests / CYCLES).toFixed(2)),
    loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
    heapMb: heapSamples.map((h) => Number(h.toFixed(1))),
    heapGrowthMb: Number((Math.max(...heapSamples.slice(1)) - heapSamples[1]!).toFixed(1)),
    targetSeconds: TARGET_S,
    pass: summary.seconds < TARGET_S,
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(
    `backfill into Postgres: ${result.cycles} cycles in ${result.seconds} s (${result.cyclesPerSecond} cycles/s), ${result.requestsPerCycle} requests/cycle, ${minerRows} miner rows, CPU ${result.cpuSeconds} s, load average ${result.loadAverage1m}`,
  );
  console.log(
    `re-run (verify only): ${result.resumeVerifySeconds} s, ${result.resumeRequestsPerCycle} requests/cycle; heap MB after GC: ${result.heapMb.join(", ")}; target < ${TARGET_S} s: ${result.pass ? "PASS" : "FAIL"}`,
  );
  const out = join(dirname(fileURLToPath(import.meta.url)), "results", "telemetry-pg.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  if (!result.pass) process.exitCode = 1;
} finally {
  await rpc.close();
  await node.stop();
  await open.close();
  await database.drop();
}
