import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AppRouter } from "@subnet-review/api";
import { figureTransformer } from "@subnet-review/core";
import { createApiToken } from "@subnet-review/db";
import { PgStore, SubstrateRpc, TelemetryIngest } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, PHASES_500 } from "@subnet-review/telemetry/testing";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AxeResults } from "axe-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "./stack.ts";

// axe-core's rules on the rendered review with every section filled (ingested cycles from the fake chain, runs with
// steps, the calculator loaded), light and dark, at 1440 and 390 px, in Debian's Chromium.
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const chain = new FakeChain({
  netuid: 102,
  schedule: [{ fromBlock: 0, phases: PHASES_500 }],
  fromBlock: 15_700 * 500,
  toBlock: 15_706 * 500 - 1,
  neurons: 32,
  validators: 4,
  seed: 7,
});

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(async ({ db, apiUrl }) => {
    const node = await new FakeNode(chain).start();
    const rpc = new SubstrateRpc({ url: node.wsUrl });
    const ingest = new TelemetryIngest({
      rpc,
      store: new PgStore(db),
      netuid: 102,
      schedule: [{ fromBlock: 0, phases: PHASES_500, source: "a11y schedule" }],
      validatorWhitelist: chain.whitelist,
    });
    await ingest.backfill({ fromBlock: 15_700 * 500, toBlock: 15_706 * 500 - 1 });
    await rpc.close();
    await node.stop();
    const { secret } = await createApiToken(db, "a11y");
    const client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${apiUrl}/trpc`, transformer: figureTransformer, headers: { authorization: `Bearer ${secret}` } })],
    });
    const start = Date.parse("2026-11-20T10:00:00Z");
    for (const [i, cell] of (["A", "B", "C"] as const).entries()) {
      const id = `a11y-${cell}`;
      await client.runs.create.mutate({
        id,
        cell,
        trainable: 8,
        kept: cell === "B" ? 16 : 0,
        steps: 60,
        spec: { lr: 1e-5, seed: 3 },
        experts: null,
        hardware: null,
        gitCommit: null,
        experiment: { name: "esft-cells-gsm8k", description: "" },
        startedAt: new Date(start + i * 1000).toISOString(),
      });
      // more points than the chart marks (50), so the unmarked line is checked too
      const steps = Array.from({ length: 60 }, (_, s) => ({
        step: s + 1,
        loss: 6 - s * 0.05 - i * 0.1,
        gradNorm: 1,
        lr: 1e-5,
        tokens: 8192,
        tokensPerSecond: 4000,
        stepSeconds: 2,
        memAllocatedBytes: null,
        memPeakBytes: null,
      }));
      await client.runs.appendSteps.mutate({ runId: id, steps });
      await client.runs.finish.mutate({
        runId: id,
        status: "completed",
        error: null,
        finishedAt: new Date(start + 3_600_000).toISOString(),
        wallclockSeconds: 3600 * (i + 1),
        peakMemoryBytes: null,
        tokensPerSecond: 4000,
        mfu: null,
      });
    }
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const summary = (violations: AxeResults["violations"]) =>
  violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}; ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(" "))
        .join(" | ")}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ""}`,
  );

describe("accessibility (axe-core)", () => {
  for (const scheme of ["light", "dark"] as const) {
    for (const width of [1440, 390]) {
      it(`has no violations: ${scheme}, ${width} px`, async () => {
        const page = await stack.browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
        await page.goto(`${stack.webUrl}/r/subnet-102-status-review`, { waitUntil: "networkidle" });
        await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe(scheme);
        await expect(page.locator("#chart-loss").count()).resolves.toBe(1);
        await expect(page.locator("#miners svg").count()).resolves.toBeGreaterThan(0);
        // the calculator loads as the reader reaches it: checked loaded
        await page.locator("#calculator").scrollIntoViewIfNeeded();
        await page.locator('#calculator input[name="trainable"]').waitFor();
        await page.evaluate(axeSource);
        const results = (await page.evaluate(() => (window as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as AxeResults;
        expect(results.passes.length).toBeGreaterThan(20);
        expect(summary(results.violations)).toEqual([]);
        await page.close();
      });
    }
  }
});
