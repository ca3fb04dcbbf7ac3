import { figure, formatFigure } from "@subnet-review/core";
import { PgStore, SubstrateRpc, TelemetryIngest } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, type FakePhases } from "@subnet-review/telemetry/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shotsDir, startStack, type Stack } from "./stack.ts";

// Section 03 end to end: a synthetic chain served by the fake Subtensor node is ingested into the test database,
// then the built web app (over the real api) is read in Chromium.
const PHASES: FakePhases = { Distribute: 20, Train: 300, MinerCommit1: 10, MinerCommit2: 10, Submission: 80, Validate: 10, Merge: 50, ValidatorCommit1: 10, ValidatorCommit2: 10 };
const FIRST = 15_700;
const LAST = 15_711;

let stack: Stack;
let webUrl: string;
let browser: Stack["browser"];
const chain = new FakeChain({ netuid: 102, phases: PHASES, firstCycle: FIRST, lastCycle: LAST, neurons: 64, validators: 4, seed: 102 });

beforeAll(async () => {
  stack = await startStack(async ({ db }) => {
    const node = await new FakeNode(chain).start();
    const rpc = new SubstrateRpc({ url: node.wsUrl });
    const ingest = new TelemetryIngest({ rpc, store: new PgStore(db), netuid: 102, schedule: [{ fromBlock: 0, phases: PHASES, source: "e2e schedule" }], validatorWhitelist: chain.whitelist });
    await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
    await rpc.close();
    await node.stop();
  });
  ({ webUrl, browser } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("section 03 from the chain", () => {
  it("charts distinct active miners per ingested cycle with the measured average beside the published 225.2", async () => {
    const counts = [...chain.expected.entries()].sort(([a], [b]) => a - b).map(([, miners]) => miners.size);
    expect(counts).toHaveLength(12);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    const meanText = formatFigure(figure({ id: "miners.measured.average", label: "", value: mean, unit: "count", formula: "", kind: "measured" }));

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const section = page.locator("#miners");
    const measured = section.locator('[data-figure-line="miners-measured"]');
    await expect(measured.textContent()).resolves.toContain(`${meanText} distinct active miners per cycle on average across 12 cycles ingested from the chain (cycles 15,700–15,711)`);
    await expect(measured.locator(".kind").textContent()).resolves.toBe("measured");
    const published = section.locator('[data-figure-line="miners"]');
    await expect(published.textContent()).resolves.toMatch(/^Published: 225\.2 distinct active miners per cycle on average across 48 cycles/);
    await expect(published.locator(".kind").textContent()).resolves.toBe("reported");
    await expect(section.locator(".empty").count()).resolves.toBe(0);

    // The chart: one point per cycle, cycle numbers on the x axis, the y range spanning the chain's counts.
    const chart = section.locator("svg.chart");
    await expect(chart.getAttribute("aria-label")).resolves.toBe("Distinct active miners per cycle, subnet 102");
    await expect(chart.locator('circle[fill="var(--kind-measured)"]').count()).resolves.toBe(12);
    const labels = await chart.locator("text").allTextContents();
    expect(labels).toContain("15,700");
    expect(labels).toContain("Cycle");
    expect(labels).toContain("Distinct active miners");
    const ys = (await chart.locator('circle[fill="var(--kind-measured)"]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("cy")))));
    // SVG y grows downwards: the cycle with the most miners is drawn highest.
    expect(ys.indexOf(Math.min(...ys))).toBe(counts.indexOf(Math.max(...counts)));

    // Opening the measured average shows its formula and that it is measured.
    await measured.locator("button.fig").first().click();
    await expect(measured.locator(".prov").textContent()).resolves.toContain("mean of distinct active miners over 12 cycles (cycles 15,700–15,711)");

    // Section 02 counts rounds from the measured window: 12 cycles × 500 blocks × 12 s = 20 h.
    await expect(page.locator("#throughput").textContent()).resolves.toContain("Window hours: measured, 12 cycles (cycles 15,700–15,711) × cycle length 500 blocks × 12 s / 3600");
    await section.screenshot({ path: `${shotsDir}/miners.png` });
  });
});
