// API throughput: requests/s and latency of the review query, on two paths, each against a bare node:http server
// answering the same bytes, on the same machine in the same run, interleaved (bare, cached, uncached, each round):
//   bare:     node:http answering the review's bytes as a constant (the floor: no api at all)
//   cached:   the api with its response cache on (the default: an anonymous read is answered with stored bytes)
//   uncached: the api with the response cache off: every read goes through tRPC to the review router by tRPC's
//             server-side caller (packages/api/src/query-fast-path.ts: no fetch adapter; the envelope written around
//             the answer's bytes), which answers the view it keeps until a write changes it (learnt by notification:
//             no query per read; on the embedded PGlite a snapshot query per read), its JSON made once per view
// Targets: cached ≥ 0.5 × bare; uncached p99 < 20 ms (issue 8), at BENCH_CONNECTIONS (default 100).
//   pnpm exec tsx bench/api.ts   (DATABASE_URL for a Postgres server; unset: embedded PGlite)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { serializeFigures } from "../packages/core/src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const reviewPath = `/trpc/review.bySlug?input=${encodeURIComponent(JSON.stringify(serializeFigures({ slug: "subnet-102-status-review" })))}`;

interface Started {
  child: ChildProcess;
  port: number;
  /** The api's data version: "notified" (no query per read) or "asked" (a snapshot query per read). */
  dataVersion?: string;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "api-server.ts"), ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    child.stdout!.once("data", (d: Buffer) => resolve({ child, ...JSON.parse(d.toString()) }));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

interface Load {
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
}

async function load(url: string, duration: number): Promise<Load> {
  const r = await autocannon({ url, connections, duration });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { requestsPerSecond: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99 };
}

/** Requests/s averaged over the rounds; latencies the worst round's. */
const combine = (xs: Load[]): Load => ({
  requestsPerSecond: xs.reduce((a, x) => a + x.requestsPerSecond, 0) / xs.length,
  p50ms: Math.max(...xs.map((x) => x.p50ms)),
  p99ms: Math.max(...xs.map((x) => x.p99ms)),
});

const loadBefore = os.loadavg();
// One after the other: both import the published review into the same database.
const cached = await start(["api"]);
const uncached = await start(["api"], { API_CACHE_TTL_MS: "0" });
const urls = { cached: `http://127.0.0.1:${cached.port}${reviewPath}`, uncached: `http://127.0.0.1:${uncached.port}${reviewPath}` };
const body = await (await fetch(urls.cached)).arrayBuffer();
if (Buffer.compare(Buffer.from(body), Buffer.from(await (await fetch(urls.uncached)).arrayBuffer())) !== 0)
  throw new Error("the cached and uncached paths answered different bytes");
const bodyFile = join(mkdtempSync(join(os.tmpdir(), "bench-api-")), "body.json");
writeFileSync(bodyFile, Buffer.from(body));
const bare = await start(["bare", bodyFile]);
const bareUrl = `http://127.0.0.1:${bare.port}/`;
const runs = { bare: [] as Load[], cached: [] as Load[], uncached: [] as Load[] };
try {
  for (const url of [bareUrl, urls.cached, urls.uncached]) await load(url, 1); // warm-up
  for (let i = 0; i < rounds; i++) {
    runs.bare.push(await load(bareUrl, seconds));
    runs.cached.push(await load(urls.cached, seconds));
    runs.uncached.push(await load(urls.uncached, seconds));
  }
} finally {
  for (const s of [cached, uncached, bare]) s.child.kill();
}
const loadAfter = os.loadavg();

const bareLoad = combine(runs.bare);
const cachedLoad = combine(runs.cached);
const uncachedLoad = combine(runs.uncached);
const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
  loadAverage: {
    before: loadBefore.map((x) => +x.toFixed(2)),
    after: loadAfter.map((x) => +x.toFixed(2)),
    note: "1/5/15-minute load averages of the machine, shared with other work",
  },
  database: process.env.DATABASE_URL ? "DATABASE_URL" : "embedded PGlite",
  query: "review.bySlug (anonymous GET)",
  connections,
  seconds,
  rounds,
  responseBytes: body.byteLength,
  bare: { ...bareLoad, what: "node:http answering the same bytes as a constant" },
  cached: { ...cachedLoad, ratio: cachedLoad.requestsPerSecond / bareLoad.requestsPerSecond, what: "response cache on: stored bytes, no query" },
  uncached: {
    ...uncachedLoad,
    ratio: uncachedLoad.requestsPerSecond / bareLoad.requestsPerSecond,
    dataVersion: uncached.dataVersion,
    what:
      uncached.dataVersion === "notified"
        ? "response cache off: tRPC's server-side caller to the review router (no fetch adapter); the view kept until a notified write (no query per read), its JSON made once per view"
        : "response cache off: tRPC's server-side caller to the review router (no fetch adapter); a shared snapshot query per read, the view kept per snapshot, its JSON made once per view",
  },
  runs,
  target: "cached ≥ 0.5 × bare; uncached p99 < 20 ms",
  pass: { cached: cachedLoad.requestsPerSecond / bareLoad.requestsPerSecond >= 0.5, uncached: uncachedLoad.p99ms < 20 },
};
const line = (name: string, r: Load) => `${name} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms} ms  p99 ${r.p99ms} ms`;
console.log(`review query, ${body.byteLength}-byte answer, ${connections} connections, ${rounds} × ${seconds} s each, interleaved; ${result.database}`);
console.log(line("bare node:http (constant bytes)          ", bareLoad));
console.log(
  `${line("cached: api, response cache on          ", cachedLoad)}  ratio ${result.cached.ratio.toFixed(2)} (target ≥ 0.5): ${result.pass.cached ? "pass" : "FAIL"}`,
);
console.log(
  `${line(`uncached: api, cache off, ${uncached.dataVersion === "notified" ? "notified " : "asked    "}      `, uncachedLoad)}  ratio ${result.uncached.ratio.toFixed(2)}; p99 < 20 ms: ${result.pass.uncached ? "pass" : "FAIL"} (bare's p99 ${bareLoad.p99ms} ms)`,
);
console.log(`load average before ${result.loadAverage.before.join(" ")}, after ${result.loadAverage.after.join(" ")} (${result.machine})`);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "api.json"), `${JSON.stringify(result, null, 2)}\n`);
