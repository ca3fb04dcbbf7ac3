/**
 * Bench for @subnet-review/core: parameter census (parseModelConfig + countParameters) and memory estimate
 * (estimateMemory, all four cells with figures) for every supported family's public config.json.
 * Run from the repo root: pnpm exec tsx bench/core.ts   (target: under 5 ms per call)
 * Prints a table and writes bench/results/core.json.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import os from "node:os";
import { countParameters, estimateMemory, parseModelConfig, type ParameterCensus } from "../packages/core/src/index.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixtureDir = join(root, "packages/core/test/fixtures");
const TARGET_MS = 5;
const WARMUP = 200;
const MIN_ITERATIONS = 2000;
const MIN_MS = 300;

interface Stats {
  iterations: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

function time(fn: () => unknown): Stats {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MIN_ITERATIONS || performance.now() - start < MIN_MS) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return {
    iterations: samples.length,
    meanUs: us(mean),
    p50Us: us(samples[Math.floor(samples.length * 0.5)]!),
    p99Us: us(samples[Math.floor(samples.length * 0.99)]!),
    maxUs: us(samples[samples.length - 1]!),
  };
}

function shard(c: ParameterCensus) {
  if (c.routedExpertsPerLayer === 0) return { trainable: 0, kept: 0 };
  const trainable = Math.min(8, c.routedExpertsPerLayer);
  return { trainable, kept: Math.min(16, c.routedExpertsPerLayer - trainable) };
}

const rows = readdirSync(fixtureDir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => {
    const raw: unknown = JSON.parse(readFileSync(join(fixtureDir, file), "utf8"));
    const census = countParameters(parseModelConfig(raw));
    const opts = shard(census);
    const c = time(() => countParameters(parseModelConfig(raw)));
    const m = time(() => estimateMemory(census, opts));
    return { fixture: file.replace(/\.json$/, ""), modelType: census.modelType, totalParams: census.total, shard: opts, census: c, memory: m };
  });

const ms = (us: number) => (us / 1000).toFixed(3);
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`core bench: ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, node ${process.version}; ms per call (mean / p99), target < ${TARGET_MS} ms`);
console.log(
  `${pad("fixture", 22)}${pad("model_type", 13)}${pad("census mean", 13)}${pad("census p99", 12)}${pad("memory mean", 13)}${pad("memory p99", 12)}ok`,
);
for (const r of rows) {
  const ok = r.census.meanUs / 1000 < TARGET_MS && r.memory.meanUs / 1000 < TARGET_MS;
  console.log(
    `${pad(r.fixture, 22)}${pad(r.modelType, 13)}${pad(ms(r.census.meanUs), 13)}${pad(ms(r.census.p99Us), 12)}${pad(ms(r.memory.meanUs), 13)}${pad(ms(r.memory.p99Us), 12)}${ok ? "yes" : "NO"}`,
  );
}
const allOk = rows.every((r) => r.census.meanUs / 1000 < TARGET_MS && r.memory.meanUs / 1000 < TARGET_MS);

const out = {
  bench: "core",
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpu: os.cpus()[0]?.model ?? "unknown",
  cpus: os.cpus().length,
  targetMsPerCall: TARGET_MS,
  measured: "census = parseModelConfig + countParameters; memory = estimateMemory (cells A, B, C, full with figures); times per call in microseconds",
  allUnderTarget: allOk,
  results: rows,
};
const file = join(root, "bench/results/core.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`${allOk ? "all under" : "NOT all under"} ${TARGET_MS} ms; wrote bench/results/core.json`);
if (!allOk) process.exitCode = 1;
