import type { AppRouter } from "@subnet-review/api";
import { figureTransformer } from "@subnet-review/core";
import { createApiToken } from "@subnet-review/db";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shotsDir, startStack, type Stack } from "./stack.ts";

// Section 04's measured evals: results seeded through the API (as `pnpm review eval --api` records them), the built
// web app over the real api and Postgres, driven by Debian's Chromium.
let stack: Stack;
let webUrl: string;
let browser: Stack["browser"];

const gsm = (runId: string, step: number, value: number) => ({
  model: "deepseek-v2-lite",
  runId,
  step,
  task: "gsm8k_cot" as const,
  metric: "strict-match",
  value,
  stderr: 0.012,
  n: 1319,
});
const ret = (runId: string, step: number, task: "mmlu" | "arc_challenge" | "hellaswag", value: number, n: number) => ({
  model: "deepseek-v2-lite",
  runId,
  step,
  task,
  metric: "acc",
  value,
  stderr: 0.01,
  n,
});

beforeAll(async () => {
  stack = await startStack(async ({ db, apiUrl }) => {
    const token = (await createApiToken(db, "evals-e2e")).secret;
    const client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${apiUrl}/trpc`, transformer: figureTransformer, headers: { authorization: `Bearer ${token}` } })],
    });
    for (const cell of ["A", "C"] as const) {
      await client.runs.create.mutate({
        id: `run-${cell}`,
        cell,
        trainable: 8,
        kept: 0,
        steps: 500,
        spec: {},
        experts: null,
        hardware: null,
        gitCommit: null,
        experiment: { name: "esft-cells-gsm8k", description: "" },
        startedAt: new Date().toISOString(),
      });
    }
    await client.evals.record.mutate({
      results: [
        gsm("run-A", 0, 0.381),
        gsm("run-A", 250, 0.402),
        gsm("run-A", 500, 0.415),
        gsm("run-C", 0, 0.381),
        gsm("run-C", 250, 0.43),
        gsm("run-C", 500, 0.452),
        ret("run-A", 0, "hellaswag", 0.525, 1000),
        ret("run-A", 500, "hellaswag", 0.526, 1000),
        ret("run-C", 500, "hellaswag", 0.517, 1000),
        ret("run-A", 0, "mmlu", 0.585, 14042),
        ret("run-A", 500, "mmlu", 0.586, 14042),
      ],
    });
    // both cells finished: the takeaway comes from these measured runs and evals, not the published figures
    for (const [runId, wallclockSeconds] of [
      ["run-A", 1000],
      ["run-C", 4000],
    ] as const) {
      await client.runs.finish.mutate({
        runId,
        status: "completed",
        error: null,
        finishedAt: new Date().toISOString(),
        wallclockSeconds,
        peakMemoryBytes: null,
        tokensPerSecond: null,
        mfu: null,
      });
    }
  });
  ({ webUrl, browser } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("section 04, measured evals", () => {
  it("charts GSM8K strict by step per cell and shows the measured retention table beside the published one", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const section = page.locator('#cells [data-section="evals-measured"]');
    const chart = section.locator('svg.chart[aria-label*="GSM8K-CoT strict-match accuracy by training step"]');
    await expect(chart.locator("polyline").count()).resolves.toBe(2);
    // accuracy from 0 to 100%, a legend, and the values on hover
    const yLabels = await chart.locator("text").allTextContents();
    expect(yLabels).toContain("0%");
    expect(yLabels).toContain("100%");
    await expect(section.locator("figure.chart-figure .legend").first().textContent()).resolves.toMatch(/A · in-place ESFT.*C · ESFT-classic/);
    await expect(chart.locator(".hover rect title").allTextContents()).resolves.toContain(
      "training step 500 · A · in-place ESFT: 41.5% · C · ESFT-classic: 45.2%",
    );
    const rows = await section.locator('table[data-table="gsm8k-measured"] tbody tr').allTextContents();
    expect(rows).toHaveLength(6);
    expect(rows[2]).toContain("500");
    expect(rows[2]).toContain("41.5%");
    expect(rows[5]).toContain("45.2%");
    await expect(section.locator('table[data-table="gsm8k-measured"] .kind-measured').count()).resolves.toBe(6);

    const hs = section.locator('table[data-table="retention-measured"] tr[data-benchmark="hellaswag"]');
    const hsText = await hs.textContent();
    expect(hsText).toContain("52.5%");
    expect(hsText).toContain("SAMPLE of 1,000");
    await expect(hs.locator('[data-flagged="true"]').textContent()).resolves.toBe("−0.8 pp");
    await expect(hs.locator('[data-flagged="false"]').textContent()).resolves.toBe("+0.1 pp");
    await expect(section.locator('table[data-table="retention-measured"] tr[data-benchmark="mmlu"]').textContent()).resolves.toContain("58.6%");
    // the published figures stay as the comparison
    await expect(page.locator('table[data-table="retention"]').textContent()).resolves.toContain("−0.5 pp");
    await expect(page.locator('table[data-table="gsm8k"] .kind-reported').count()).resolves.toBeGreaterThan(0);

    // a measured figure opens its provenance: the run, the step, n and the harness definition
    await section.locator('table[data-table="gsm8k-measured"] tbody tr').nth(2).locator("button.fig").click();
    const prov = await section.locator(".prov").textContent();
    expect(prov).toContain("measured");
    expect(prov).toContain("1319 items");
    expect(prov).toContain("run run-A, step 500");
    const takeaway = await page.locator('[data-takeaway="measured"]').textContent();
    expect(takeaway).toContain("from measured runs and evals");
    expect(takeaway).toContain("A · in-place ESFT reaches 41.5% GSM8K-CoT strict against 45.2% for C · ESFT-classic");
    expect(takeaway).toContain("≈4.0× faster than C (0h 17m vs 1h 07m)");
    await page.screenshot({ path: `${shotsDir}/evals-measured.png`, fullPage: false });
    await page.close();
  }, 60_000);

  it("draws the charts for a 390 px screen with text a phone can read", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const narrow = page.locator('#cells [data-section="evals-measured"] svg.chart-narrow');
    await expect(narrow.isVisible()).resolves.toBe(true);
    await expect(page.locator('#cells [data-section="evals-measured"] svg.chart').isVisible()).resolves.toBe(false);
    const heights = await narrow.locator("text").evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().height));
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(10); // ~11 px text, not the ~5.5 px of a scaled-down desktop chart
    await narrow.screenshot({ path: `${shotsDir}/evals-phone-chart.png` });
    await page.close();
  });
});
