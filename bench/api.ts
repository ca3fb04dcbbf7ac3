// API throughput: requests/s and p99 of the review query against a bare node:http server answering the same bytes,
// on the same machine in the same run. Target: the api at least 0.5× the bare server.
//   pnpm exec tsx bench/api.ts   (DATABASE_URL for a Postgres server; unset: embedded PGlite)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { serializeFigures } from "../packages/core/src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const reviewPath = `/trpc/review.bySlug?input=${encodeURIComponent(JSON.stringify(serializeFigures({ slug: "subnet-102-status-review" })))}`;

function start(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "api-server.ts"), ...args], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: JSON.parse(d.toString()).port }));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function load(url: string) {
  await autocannon({ url, connections, duration: 2 }); // warm-up
  const r = await autocannon({ url, connections, duration: seconds });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { requestsPerSecond: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, bytesPerRequest: Math.round(r.throughput.average / r.requests.average) };
}

const api = await start(["api"]);
const body = await (await fetch(`http://127.0.0.1:${api.port}${reviewPath}`)).arrayBuffer();
const apiResult = await load(`http://127.0.0.1:${api.port}${reviewPath}`);
api.child.kill();
const bodyFile = join(mkdtempSync(join(os.tmpdir(), "bench-api-")), "body.json");
writeFileSync(bodyFile, Buffer.from(body));
const bare = await start(["bare", bodyFile]);
const bareResult = await load(`http://127.0.0.1:${bare.port}/`);
bare.child.kill();

const ratio = apiResult.requestsPerSecond / bareResult.requestsPerSecond;
const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
  database: process.env.DATABASE_URL ? "DATABASE_URL" : "embedded PGlite",
  connections,
  seconds,
  responseBytes: body.byteLength,
  api: apiResult,
  bare: bareResult,
  ratio,
  target: "api ≥ 0.5 × bare",
  pass: ratio >= 0.5,
};
console.log(`review query   ${apiResult.requestsPerSecond.toFixed(0)} req/s  p50 ${apiResult.p50ms} ms  p99 ${apiResult.p99ms} ms`);
console.log(`bare node:http ${bareResult.requestsPerSecond.toFixed(0)} req/s  p50 ${bareResult.p50ms} ms  p99 ${bareResult.p99ms} ms  (same ${body.byteLength}-byte body)`);
console.log(`ratio ${ratio.toFixed(2)} (target ≥ 0.5): ${result.pass ? "pass" : "FAIL"}`);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "api.json"), `${JSON.stringify(result, null, 2)}\n`);
