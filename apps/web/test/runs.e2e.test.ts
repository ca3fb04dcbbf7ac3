import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { AppRouter } from "@subnet-review/api";
import { figureTransformer } from "@subnet-review/core";
import { createApiToken } from "@subnet-review/db";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
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
let client: ReturnType<typeof createTRPCClient<AppRouter>>;

/** A cell-A run posted through the api, as the trainer's runner posts one. */
function createRunA(id: string, experiment: string, startedAt: string) {
  return client.runs.create.mutate({
    id,
    cell: "A",
    trainable: 2,
    kept: 0,
    steps: STEPS,
    spec: {},
    experts: null,
    hardware: null,
    gitCommit: null,
    experiment: { name: experiment, description: "" },
    startedAt,
  });
}

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
      [
        "--import",
        "tsx",
        "src/main.ts",
        "experiment",
        "--model",
        model,
        "--data",
        data,
        "--trainable-experts",
        "top-k:2",
        "--kept",
        "3",
        "--steps",
        String(STEPS),
        "--batch",
        "2",
        "--seq",
        "128",
        "--device",
        "cpu",
        "--lr",
        "3e-3",
        "--score-tokens",
        "512",
        "--out",
        join(dir, "runs"),
        "--name",
        "esft-cells-gsm8k",
        "--api",
        apiUrl,
        "--token",
        secret,
      ],
      { cwd: cliDir, env: { ...process.env, DATABASE_URL: "" } },
    );
    // Later runs that must not replace the completed experiment: a failed retry of cell A in the same experiment,
    // and a newer experiment whose only run failed.
    client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${apiUrl}/trpc`, transformer: figureTransformer, headers: { authorization: `Bearer ${secret}` } })],
    });
    const later = new Date(Date.now() + 60_000).toISOString();
    for (const [id, experiment] of [
      ["run-A-retry-failed", "esft-cells-gsm8k"],
      ["run-later-failed", "esft-later"],
    ] as const) {
      await createRunA(id, experiment, later);
      await client.runs.appendSteps.mutate({
        runId: id,
        steps: [
          { step: 1, loss: 9.5, gradNorm: 1, lr: 3e-3, tokens: 256, tokensPerSecond: 100, stepSeconds: 2.56, memAllocatedBytes: null, memPeakBytes: null },
        ],
      });
      await client.runs.finish.mutate({
        runId: id,
        status: "failed",
        error: "worker exited: CUDA out of memory",
        finishedAt: later,
        wallclockSeconds: 3,
        peakMemoryBytes: null,
        tokensPerSecond: null,
        mfu: null,
      });
    }
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
    const rows = await stack.db.trainingRun.findMany({
      where: { experiment: { name: "esft-cells-gsm8k" }, status: "completed" },
      include: { metrics: { orderBy: { step: "asc" } } },
      orderBy: { cell: "asc" },
    });
    expect(rows.map((r) => [r.cell, r.status, r.metrics.length])).toEqual([
      ["A", "completed", STEPS],
      ["B", "completed", STEPS],
      ["C", "completed", STEPS],
    ]);
    const ys: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const points = (await lines.nth(i).getAttribute("points"))!
        .trim()
        .split(" ")
        .map((p) => p.split(",").map(Number) as [number, number]);
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
      // a finished run's final loss, with the same three decimals in every row
      expect(text).toContain(row.metrics.at(-1)!.loss.toFixed(3));
      // the run's settings beside it
      const settings = await tr.locator(`[data-settings="${row.cell}"]`).textContent();
      expect(settings).toContain(`K=2`);
      expect(settings).toContain(`N=${row.cell === "B" ? 3 : 0}`);
      expect(settings).toContain("seq=128");
      expect(settings).toContain("batch=2");
      expect(settings).toContain("lr=3.0e-3");
      expect(settings).toContain("seed=0");
      expect(settings).toMatch(/top-k=\d+/);
      if (row.routingMode) expect(settings).toContain(`routing=${row.routingMode}`);
    }
    // the experiment picker: the completed experiment is shown though a newer one failed, and cell A's completed
    // run is shown though a later retry of it failed
    await expect(runs.locator('nav.picker a[aria-current="true"]').textContent()).resolves.toBe("esft-cells-gsm8k");
    await expect(runs.locator('nav.picker li[data-experiment="esft-later"]').getAttribute("data-status")).resolves.toBe("failed");
    await expect(runs.locator('nav.picker li[data-experiment="esft-cells-gsm8k"]').getAttribute("data-status")).resolves.toBe("completed");
    await expect(table.locator('tr[data-cell="A"]').textContent()).resolves.not.toContain("run-A-retry-failed");
    await expect(runs.locator("[data-newer]").textContent()).resolves.toContain("A run-A-retry-failed (failed)");
    // the chart: a legend naming each cell, and the values at each step on hover
    await expect(runs.locator("figure.chart-figure .legend li").count()).resolves.toBe(3);
    const hover = await runs.locator("svg.chart .hover rect title").allTextContents();
    expect(hover).toHaveLength(STEPS);
    expect(hover[STEPS - 1]).toContain(`step ${rows[0]!.metrics.at(-1)!.step} · A · in-place ESFT: ${rows[0]!.metrics.at(-1)!.loss.toFixed(3)}`);
    // the runs and loss tables export as CSV
    const csv = await (await fetch(`${webUrl}/export/subnet-102-status-review/runs.csv`)).text();
    for (const row of rows) expect(csv).toContain(`${row.cell},${row.id},completed`);
    // the estimate opens core's formula for the run's own shape
    await table.locator('tr[data-cell="B"] [data-figure="runs.B.estimatedGiB"] button.fig').click();
    await expect(table.locator('tr[data-cell="B"] .prov').textContent()).resolves.toMatch(/K=2, N=3, 2 × 128 tokens, fp32/);
    await runs.screenshot({ path: `${shotsDir}/runs.png` });

    // picking the failed experiment shows it, with no final loss for its failed run
    await runs.locator('nav.picker li[data-experiment="esft-later"] a').click();
    await page.waitForURL(/experiment=esft-later/);
    const failed = page.locator('#cells [data-section="runs"] table[data-table="runs"] tr[data-cell="A"]');
    await expect(failed.textContent()).resolves.toContain("run-later-failed");
    await expect(failed.locator('td[data-label="Final loss"]').textContent()).resolves.toBe("— (failed, 1 steps so far)");
    // the api shows a run's error text only to token holders; the page says that it failed
    await expect(failed.locator('td[data-label="Run"]').textContent()).resolves.toContain("· failed");
    // the same choice on the review's own URL is rendered per request, not served from its render cache
    await page.goto(`${webUrl}/r/subnet-102-status-review`, { waitUntil: "networkidle" });
    await expect(page.locator('nav.picker a[aria-current="true"]').textContent()).resolves.toBe("esft-cells-gsm8k");
    await page.goto(`${webUrl}/r/subnet-102-status-review?experiment=esft-later`, { waitUntil: "networkidle" });
    await expect(page.locator('nav.picker a[aria-current="true"]').textContent()).resolves.toBe("esft-later");
  });

  it("while a run trains, refreshes the sections that changed and keeps the rest as the reader left it", async () => {
    const step = (n: number) => ({
      step: n,
      loss: 10 - n,
      gradNorm: 1,
      lr: 3e-3,
      tokens: 256,
      tokensPerSecond: 100,
      stepSeconds: 2.56,
      memAllocatedBytes: null,
      memPeakBytes: null,
    });
    await createRunA("run-live", "esft-live", new Date().toISOString());
    await client.runs.appendSteps.mutate({ runId: "run-live", steps: [step(1)] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${webUrl}/r/subnet-102-status-review?experiment=esft-live`, { waitUntil: "networkidle" });
    const legend = page.locator('#cells [data-section="runs"] ul.legend[aria-label="Cells"]');
    await expect(legend.textContent()).resolves.toContain("1 / 4 steps, running");
    // a formula opened in another section stays open through the refreshes
    const backbone = page.locator('#sizes [data-figure="params.backbone"]').first();
    await backbone.locator("button.fig").click();
    await backbone.locator(".prov").waitFor();

    await client.runs.appendSteps.mutate({ runId: "run-live", steps: [step(2), step(3)] });
    await page.waitForFunction(
      () => document.querySelector('#cells [data-section="runs"] ul.legend[aria-label="Cells"]')?.textContent?.includes("3 / 4 steps"),
      null,
      {
        timeout: 30_000,
      },
    );
    await expect(page.locator('#cells [data-section="runs"] svg.chart polyline').first().getAttribute("points")).resolves.toMatch(/^(\S+\s+){2}\S+$/);
    await expect(backbone.locator(".prov").count()).resolves.toBe(1);
    // the replaced section's figures open again: its islands were hydrated (the whole of section 04 was replaced)
    const figure = page.locator("#cells [data-figure]").first();
    await figure.locator("button.fig").click();
    await expect(figure.locator(".prov").textContent()).resolves.toContain("=");
    await page.close();
  });
});
