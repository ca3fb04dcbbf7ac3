// Start-up of the CLI as users run it (`pnpm review census`, from the prebuilt bundle) against `node -e 0`, measured
// in the same run, interleaved so both see the same machine load; also the development path (tsx on the sources).
//   tsx bench/cli-startup.ts [--runs 20]
// Prints the medians and the ratio (target: within 2x of `node -e 0`); writes bench/results/cli-startup.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const config = fileURLToPath(new URL("../packages/db/seed/deepseek-v2-lite.config.json", import.meta.url));
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
  console.error("bench/cli-startup: --runs: an integer from 1 to 1,000");
  process.exit(2);
}

const commands: Record<string, string[]> = {
  "node -e 0": [process.execPath, "-e", "0"],
  "pnpm review census": ["pnpm", "--silent", "review", "census", "--config", config],
  "node bin/review.mjs census": [process.execPath, "packages/cli/bin/review.mjs", "census", "--config", config],
  "tsx src/main.ts census (development)": ["pnpm", "--silent", "exec", "tsx", "packages/cli/src/main.ts", "census", "--config", config],
};

function timeMs(argv: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr.toString().trim()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// One warm-up each (builds the bundle if it is stale, fills the page cache), then interleaved rounds.
for (const argv of Object.values(commands)) timeMs(argv);
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, argv] of Object.entries(commands)) samples[name]!.push(timeMs(argv));

const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const base = medians["node -e 0"]!;
for (const [name, ms] of Object.entries(medians)) console.log(`${name.padEnd(40)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / base).toFixed(2)}x`);
const ratio = medians["pnpm review census"]! / base;
console.log(`pnpm review census / node -e 0 = ${ratio.toFixed(2)} (target <= 2; median of ${runs} interleaved runs)`);
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("results/cli-startup.json", import.meta.url),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), runs, medianMs: medians, ratio }, null, 2)}\n`,
);
