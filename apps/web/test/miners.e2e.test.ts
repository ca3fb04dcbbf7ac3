import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { figure, formatFigure } from "@subnet-review/core";
import { createApiServer, listen } from "@subnet-review/api";
import { importPublishedReview, openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { PgStore, SubstrateRpc, TelemetryIngest } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, type FakePhases } from "@subnet-review/telemetry/testing";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Section 03 end to end: a synthetic chain served by the fake Subtensor node is ingested into the test database,
// then the built web app (over the real api) is read in Chromium.
const webDir = fileURLToPath(new URL("..", import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const shotsDir = fileURLToPath(new URL("../test-results", import.meta.url));
const PHASES: FakePhases = { Distribute: 20, Train: 300, MinerCommit1: 10, MinerCommit2: 10, Submission: 80, Validate: 10, Merge: 50, ValidatorCommit1: 10, ValidatorCommit2: 10 };
const FIRST = 15_700;
const LAST = 15_711;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let api: Server;
let web: ChildProcess;
let browser: Browser;
let webUrl: string;
let chain: FakeChain;

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

  chain = new FakeChain({ netuid: 102, phases: PHASES, firstCycle: FIRST, lastCycle: LAST, neurons: 64, validators: 4, seed: 102 });
  const node = await new FakeNode(chain).start();
  const rpc = new SubstrateRpc({ url: node.wsUrl });
  const ingest = new TelemetryIngest({ rpc, store: new PgStore(open.db), netuid: 102, schedule: [{ fromBlock: 0, phases: PHASES, source: "e2e schedule" }], validatorWhitelist: chain.whitelist });
  await ingest.backfill({ fromCycle: FIRST, toCycle: LAST });
  await rpc.close();
  await node.stop();

  api = createApiServer({ db: open.db });
  const apiPort = await listen(api, 0, "127.0.0.1");
  const webPort = await freePort();
  web = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "--port", String(webPort), "--hostname", "127.0.0.1"], {
    cwd: webDir,
    env: { ...process.env, API_URL: `http://127.0.0.1:${apiPort}`, NEXT_TELEMETRY_DISABLED: "1" },
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
});

afterAll(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  api?.close();
  await open?.close();
  await database?.drop();
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
