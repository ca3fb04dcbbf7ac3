import { figure, formatFigure } from "@subnet-review/core";
import { PgStore, SubstrateRpc, TelemetryIngest } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, PHASES_500 } from "@subnet-review/telemetry/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The scenario's own account of who committed and who is accepted, worked out from what the fake chain recorded.
import { expectedMiners } from "../../../packages/telemetry/test/expected.ts";
import { shotsDir, startStack, type Stack } from "./stack.ts";

// Section 03 end to end: a synthetic chain served by the fake Subtensor node is ingested into the test database,
// then the built web app (over the real api) is read in Chromium.
const FIRST = 15_700;
const LAST = 15_711;
const FROM_BLOCK = FIRST * 500;
const TO_BLOCK = (LAST + 1) * 500 - 1;

let stack: Stack;
let webUrl: string;
let browser: Stack["browser"];
const chain = new FakeChain({
  netuid: 102,
  schedule: [{ fromBlock: 0, phases: PHASES_500 }],
  fromBlock: FROM_BLOCK,
  toBlock: TO_BLOCK,
  neurons: 64,
  validators: 4,
  seed: 102,
});
const expected = chain.cycles.map((c) => ({ cycle: c, ...expectedMiners(chain, c) }));

beforeAll(async () => {
  stack = await startStack(async ({ db }) => {
    const node = await new FakeNode(chain).start();
    const rpc = new SubstrateRpc({ url: node.wsUrl });
    const ingest = new TelemetryIngest({
      rpc,
      store: new PgStore(db),
      netuid: 102,
      schedule: [{ fromBlock: 0, phases: PHASES_500, source: "e2e schedule" }],
      validatorWhitelist: chain.whitelist,
    });
    await ingest.backfill({ fromBlock: FROM_BLOCK, toBlock: TO_BLOCK });
    await rpc.close();
    await node.stop();
  });
  ({ webUrl, browser } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const fmt = (value: number) => formatFigure(figure({ id: "x", label: "", value, unit: "count", formula: "", kind: "measured" }));

describe("section 03 from the chain", () => {
  it("charts both miner counts per ingested cycle with the measured averages beside the published 225.2", async () => {
    expect(expected.map((e) => e.cycle.index)).toEqual(Array.from({ length: 12 }, (_, i) => FIRST + i));
    const committed = expected.map((e) => e.committed.size);
    const accepted = expected.map((e) => e.accepted.size);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const section = page.locator("#miners");
    const measured = section.locator('[data-figure-line="miners-measured"]');
    await expect(measured.textContent()).resolves.toContain(
      `${fmt(mean(committed))} distinct active miners per cycle on average across 12 cycles ingested from the chain (cycles 15,700–15,711)`,
    );
    await expect(measured.locator(".kind").textContent()).resolves.toBe("measured");
    await expect(section.locator('[data-figure-line="miners-accepted"]').textContent()).resolves.toContain(
      `${fmt(mean(accepted))} miners per cycle on average are accepted`,
    );
    const published = section.locator('[data-figure-line="miners"]');
    await expect(published.textContent()).resolves.toMatch(/^Published: 225\.2 distinct active miners per cycle on average across 48 cycles/);
    await expect(published.locator(".kind").textContent()).resolves.toBe("reported");
    await expect(section.locator(".empty").count()).resolves.toBe(0);

    // The chart: one point per cycle for each count, cycle numbers on the x axis, a legend, values on hover.
    const chart = section.locator("svg.chart");
    await expect(chart.getAttribute("aria-label")).resolves.toBe("Miners per cycle, subnet 102: committed and accepted");
    await expect(chart.locator('circle[fill="var(--kind-measured)"]').count()).resolves.toBe(12);
    await expect(chart.locator('circle[fill="var(--a)"]').count()).resolves.toBe(12);
    const labels = await chart.locator("text").allTextContents();
    expect(labels).toContain("15,700");
    expect(labels).toContain("Cycle");
    await expect(section.locator("figure.chart-figure .legend").textContent()).resolves.toMatch(/committed.*accepted.*published average/);
    const ys = await chart.locator('circle[fill="var(--kind-measured)"]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("cy"))));
    // SVG y grows downwards: the cycle with the most committed miners is drawn highest.
    expect(ys.indexOf(Math.min(...ys))).toBe(committed.indexOf(Math.max(...committed)));
    await expect(chart.locator(".hover rect title").first().textContent()).resolves.toBe(
      `Cycle 15,700 · committed in MinerCommit1/2 (measured): ${committed[0]} · accepted by validators (measured): ${accepted[0]} · published average (reported): 225.2`,
    );

    // The table: each cycle's blocks, finalized hash and both counts.
    const rows = section.locator('table[data-table="cycles"] tbody tr');
    await expect(rows.count()).resolves.toBe(12);
    for (const [i, e] of expected.entries()) {
      const text = (await rows.nth(i).textContent())!;
      expect(text).toContain(`#${e.cycle.firstBlock.toLocaleString("en-US")}–#${e.cycle.lastBlock.toLocaleString("en-US")}`);
      await expect(rows.nth(i).locator('td[data-label="Committed"]').textContent()).resolves.toBe(String(committed[i]));
      await expect(rows.nth(i).locator('td[data-label="Accepted"]').textContent()).resolves.toBe(String(accepted[i]));
    }

    // Opening the measured average shows its formula and that it is measured.
    await measured.locator("button.fig").first().click();
    await expect(measured.locator(".prov").textContent()).resolves.toContain("mean of distinct active miners over 12 cycles (cycles 15,700–15,711)");
    // Section 02 counts rounds from the measured window: 12 cycles × 500 blocks × 12 s = 20 h.
    await expect(page.locator("#throughput").textContent()).resolves.toContain(
      "Window hours: measured, 12 cycles (cycles 15,700–15,711) × cycle length 500 blocks × 12 s / 3600",
    );
    await section.screenshot({ path: `${shotsDir}/miners.png` });
    await page.close();
  });

  it("drills into one cycle: every hotkey with its uid and commit block, accepted or why not; a range selector; CSV of the hotkeys", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(webUrl, { waitUntil: "networkidle" });
    const i = 3;
    const e = expected[i]!;
    await page.locator(`#miners table[data-table="cycles"] tr[data-cycle="${e.cycle.index}"] a`).click();
    await page.waitForURL(new RegExp(`cycle=${e.cycle.firstBlock}-500#cycle-detail`));
    const detail = page.locator('[data-section="cycle-detail"]');
    await expect(detail.locator("h3").textContent()).resolves.toBe(
      `Cycle ${e.cycle.index.toLocaleString("en-US")}: blocks #${e.cycle.firstBlock.toLocaleString("en-US")}–#${e.cycle.lastBlock.toLocaleString("en-US")}`,
    );
    const hotkeys = detail.locator('table[data-table="cycle-miners"] tbody tr');
    const shown = await hotkeys.evaluateAll((trs) =>
      trs.map((tr) => ({ hotkey: tr.getAttribute("data-hotkey")!, committed: tr.children[3]!.textContent, accepted: tr.children[4]!.textContent })),
    );
    expect(
      shown
        .filter((r) => r.committed === "yes")
        .map((r) => r.hotkey)
        .sort(),
    ).toEqual([...e.committed].sort());
    expect(
      shown
        .filter((r) => r.accepted === "accepted")
        .map((r) => r.hotkey)
        .sort(),
    ).toEqual([...e.accepted].sort());
    // every hotkey not accepted says why
    for (const r of shown.filter((x) => x.accepted !== "accepted")) expect(r.accepted!.length).toBeGreaterThan(3);
    await detail.screenshot({ path: `${shotsDir}/cycle-detail.png` });

    const csv = await (await fetch(`${webUrl}/export/subnet-102-status-review/cycle-${e.cycle.firstBlock}-500.csv`)).text();
    expect(csv.trimEnd().split("\r\n")).toHaveLength(shown.length + 1);

    // the range selector: three cycles
    await page.locator('#miners form.range input[name="from"]').fill(String(FIRST + 2));
    await page.locator('#miners form.range input[name="to"]').fill(String(FIRST + 4));
    await page.locator("#miners form.range button").click();
    await page.waitForURL(/from=15702&to=15704/);
    await expect(page.locator('#miners table[data-table="cycles"] tbody tr').count()).resolves.toBe(3);
    await expect(page.locator('#miners svg.chart circle[fill="var(--kind-measured)"]').count()).resolves.toBe(3);
    await page.close();
  });
});
