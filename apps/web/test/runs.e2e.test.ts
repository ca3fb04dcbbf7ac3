import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createApiServer, listen } from "@subnet-review/api";
import { createApiToken, importPublishedReview, openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Section 04's runs end to end: `pnpm review experiment` trains cells A, B and C of a tiny DeepSeek-V2-shaped model
// on the CPU with the real PyTorch worker, streaming to the real api over the test database; the built web app is
// then read in Chromium.
const webDir = fileURLToPath(new URL("..", import.meta.url));
const cliDir = fileURLToPath(new URL("../../../packages/cli", import.meta.url));
const trainerDir = fileURLToPath(new URL("../../../packages/trainer", import.meta.url));
const gsm8k = fileURLToPath(new URL("../../../../shared/data/gsm8k/train.jsonl", import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
const shotsDir = fileURLToPath(new URL("../test-results", import.meta.url));
const STEPS = 4;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let api: Server;
let web: ChildProcess;
let browser: Browser;
let webUrl: string;
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

beforeAll(async () => {
  if (!existsSync(`${webDir}/.next/BUILD_ID`)) throw new Error("apps/web is not built: run `pnpm build` (turbo builds it before tests)");
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  await importPublishedReview(open.db);
  const { secret } = await createApiToken(open.db, "runs-e2e");
  api = createApiServer({ db: open.db });
  const apiUrl = `http://127.0.0.1:${await listen(api, 0, "127.0.0.1")}`;

  dir = mkdtempSync(join(tmpdir(), "runs-e2e-"));
  const model = join(dir, "model");
  execFileSync(python, ["-m", "worker.fixture", model, "--vocab-size", "514"], { cwd: trainerDir });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(trainerDir, "fixtures/tiny-tokenizer", f), join(model, f));
  const data = join(dir, "gsm8k-16.jsonl");
  writeFileSync(data, `${readFileSync(gsm8k, "utf8").split("\n").slice(0, 16).join("\n")}\n`);
  // as a user runs it: the CLI, attached to the published review's experiment
  await promisify(execFile)(
    "node",
    ["--import", "tsx", "src/main.ts", "experiment", "--model", model, "--data", data, "--trainable-experts", "top-k:2", "--kept", "3", "--steps", String(STEPS),
      "--batch", "2", "--seq", "128", "--device", "cpu", "--lr", "3e-3", "--score-tokens", "512", "--out", join(dir, "runs"), "--name", "esft-cells-gsm8k", "--api", apiUrl, "--token", secret],
    { cwd: cliDir, env: { ...process.env, DATABASE_URL: "" } },
  );

  const webPort = await freePort();
  web = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "--port", String(webPort), "--hostname", "127.0.0.1"], {
    cwd: webDir,
    env: { ...process.env, API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: "inherit",
  });
  webUrl = `http://127.0.0.1:${webPort}`;
  await waitFor(webUrl, 60_000);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  await mkdir(shotsDir, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  api?.close();
  await open?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("section 04 training runs", () => {
  it("draws each cell's loss curve from the recorded steps and tables the measured figures beside core's estimate", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const runs = page.locator('#cells [data-section="runs"]');
    await expect(runs.count()).resolves.toBe(1);
    await expect(page.locator("#cells").textContent()).resolves.not.toContain("No training runs are recorded");

    // one polyline per cell, one vertex per recorded step, at the heights of the recorded losses
    const lines = runs.locator("svg.chart polyline");
    await expect(lines.count()).resolves.toBe(3);
    const rows = await open.db.trainingRun.findMany({ include: { metrics: { orderBy: { step: "asc" } } }, orderBy: { cell: "asc" } });
    expect(rows.map((r) => [r.cell, r.status, r.metrics.length])).toEqual([["A", "completed", STEPS], ["B", "completed", STEPS], ["C", "completed", STEPS]]);
    const ys: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const points = (await lines.nth(i).getAttribute("points"))!.trim().split(" ").map((p) => p.split(",").map(Number) as [number, number]);
      expect(points).toHaveLength(STEPS);
      expect(points.map(([x]) => x)).toEqual([...points.map(([x]) => x)].sort((a, b) => a - b)); // step on x, increasing
      ys.push(points.map(([, y]) => y));
    }
    // SVG y grows downwards: a higher loss sits higher; the order of the vertices follows the order of the losses
    const losses = rows.map((r) => r.metrics.map((s) => s.loss));
    const all = losses.flat();
    const svgY = ys.flat();
    for (let a = 0; a < all.length; a++) for (let b = 0; b < all.length; b++) if (all[a]! > all[b]! + 1e-9) expect(svgY[a]!).toBeLessThan(svgY[b]!);

    const table = runs.locator('table[data-table="runs"]');
    for (const row of rows) {
      const tr = table.locator(`tr[data-cell="${row.cell}"]`);
      const text = (await tr.textContent())!;
      expect(text).toContain(row.id);
      expect(text).toContain(Math.round(row.tokensPerSecond!).toLocaleString("en-US"));
      expect(text).toContain("measured");
      expect(text).toContain("estimated");
      expect(text).toContain("— (CPU run)");
      expect(text).toContain(row.metrics.at(-1)!.loss.toLocaleString("en-US", { maximumFractionDigits: 2 }));
    }
    // the estimate opens core's formula for the run's own shape
    await table.locator('tr[data-cell="B"] [data-figure="runs.B.estimatedGiB"] button.fig').click();
    await expect(table.locator('tr[data-cell="B"] .prov').textContent()).resolves.toMatch(/K=2, N=3, 2 × 128 tokens, fp32/);
    await runs.screenshot({ path: `${shotsDir}/runs.png` });
  });
});
