import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createApiToken } from "@subnet-review/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shotsDir, startStack, type Stack } from "./stack.ts";

// Section 04's runs end to end: `pnpm review experiment` trains cells A, B and C of a tiny DeepSeek-V2-shaped model
// on the CPU with the real PyTorch worker, streaming to the real api over the test database; the built web app is
// then read in Chromium.
const cliDir = fileURLToPath(new URL("../../../packages/cli", import.meta.url));
const trainerDir = fileURLToPath(new URL("../../../packages/trainer", import.meta.url));
const gsm8k = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "data/gsm8k/train.jsonl");
const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
const STEPS = 4;

let stack: Stack;
let webUrl: string;
let browser: Stack["browser"];
let dir: string;

beforeAll(async () => {
  stack = await startStack(async ({ db, apiUrl }) => {
    const { secret } = await createApiToken(db, "runs-e2e");
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
  });
  ({ webUrl, browser } = stack);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
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
    const rows = await stack.db.trainingRun.findMany({ include: { metrics: { orderBy: { step: "asc" } } }, orderBy: { cell: "asc" } });
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
