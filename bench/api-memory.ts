// The api's resident memory over distinct anonymous GETs: 3 × 3,000 (each a new cache key: whole reviews, run
// steps pages, unknown slugs), sampled after each batch, with the default cache bound and with a practically
// unbounded cache. The server runs in its own process on a fresh test database (Postgres).
//   pnpm exec tsx bench/api-memory.ts
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiToken } from "../packages/db/src/index.ts";
import { openTestDatabase } from "../packages/db/src/testing.ts";
import { serializeFigures } from "../packages/core/src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const batches = Number(process.env.BENCH_BATCHES ?? 3);
const perBatch = 3_000;
const SLUG = "subnet-102-status-review";

function start(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "api-server.ts"), "api"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, ...env },
    });
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: JSON.parse(d.toString()).port }));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const q = (path: string, input: unknown) => `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(serializeFigures(input)))}`;

async function measure(label: string, cacheBytes: number | null) {
  const database = await openTestDatabase();
  const { secret } = await createApiToken(database.db, "bench");
  const { child, port } = await start({ DATABASE_URL: database.url, ...(cacheBytes ? { API_CACHE_BYTES: String(cacheBytes) } : {}) });
  const base = `http://127.0.0.1:${port}`;
  const post = (path: string, input: unknown) =>
    fetch(`${base}/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify(serializeFigures(input)),
    }).then((r) => r.arrayBuffer());
  await post("runs.create", {
    id: "mem",
    cell: "A",
    trainable: 8,
    kept: 0,
    steps: 500,
    spec: {},
    experts: null,
    hardware: null,
    gitCommit: null,
    experiment: null,
    startedAt: new Date().toISOString(),
  });
  await post("runs.appendSteps", {
    runId: "mem",
    steps: Array.from({ length: 500 }, (_, i) => ({
      step: i + 1,
      loss: 2,
      gradNorm: 1,
      lr: 1e-5,
      tokens: 1,
      tokensPerSecond: 1,
      stepSeconds: 1,
      memAllocatedBytes: null,
      memPeakBytes: null,
    })),
  });
  for (let i = 0; i < 50; i++) await fetch(`${base}${q("review.bySlug", { slug: SLUG })}`).then((r) => r.arrayBuffer());
  const samples = [rssMiB(child.pid!)];
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const paths: string[] = [];
    for (let i = 0; i < perBatch / 3; i++, n++) {
      paths.push(
        q("review.bySlug", { slug: SLUG, pad: n }),
        q("runs.steps", { runId: "mem", afterStep: n % 500, limit: 1 + (n % 250) }),
        q("review.bySlug", { slug: `nope-${n}` }),
      );
    }
    for (let i = 0; i < paths.length; i += 8) await Promise.all(paths.slice(i, i + 8).map((p) => fetch(`${base}${p}`).then((r) => r.arrayBuffer())));
    samples.push(rssMiB(child.pid!));
    console.log(`${label}: after ${(b + 1) * perBatch} distinct GETs rss ${samples.at(-1)!.toFixed(0)} MiB (started ${samples[0]!.toFixed(0)})`);
  }
  child.kill();
  await database.close();
  return { cacheBytes, rssMiB: samples.map((s) => Math.round(s)) };
}

const bounded = await measure("default cache bound (32 MiB)", null);
const unbounded = await measure("cache bound 1 TiB (unbounded)", 2 ** 40);
const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
  getsPerBatch: perBatch,
  bounded,
  unbounded,
};
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "api-memory.json"), `${JSON.stringify(result, null, 2)}\n`);
