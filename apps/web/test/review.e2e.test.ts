import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shotsDir, startStack, type Stack } from "./stack.ts";

// The built web app and the real api over the real Postgres, driven by Debian's Chromium.
let stack: Stack;
let webUrl: string;
let browser: Stack["browser"];

beforeAll(async () => {
  stack = await startStack();
  ({ webUrl, browser } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function openReview(width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const fontRequests: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(webUrl)) fontRequests.push(r.url());
  });
  await page.goto(webUrl, { waitUntil: "networkidle" });
  expect(fontRequests, "the page loads nothing from outside its own origin").toEqual([]);
  return page;
}

describe("the review page", () => {
  it("shows the computed sizes and throughput beside the published figures, and opens a figure's formula", async () => {
    const page = await openReview(1280);
    await expect(page.locator("h1").textContent()).resolves.toBe("Subnet Status Review");
    await expect(page.locator('[data-card="full"] .big').textContent()).resolves.toBe("15.71 B");
    await expect(page.locator('[data-card="held"] .big').textContent()).resolves.toBe("3.11 B");
    await expect(page.locator('[data-card="tokens-per-second"] .big').textContent()).resolves.toBe("22,500");
    const backbone = page.locator('#sizes tr[data-row="params.backbone"]');
    await expect(backbone.textContent()).resolves.toContain("≠ published 861.9 M");
    await expect(page.locator('#sizes tr[data-row="params.total"]').textContent()).resolves.toContain("✓ published 15.71 B");
    await expect(page.locator('#throughput tr[data-row="throughput.rounds"]').textContent()).resolves.toContain("209.1");
    await expect(page.locator("#miners").textContent()).resolves.toContain("225.2");
    await expect(page.locator('table[data-table="memory"] tr[data-cell="A"]').textContent()).resolves.toContain("17.0 GB");
    await expect(page.locator('table[data-table="retention"]').textContent()).resolves.toContain("−0.5 pp");

    await page.screenshot({ path: `${shotsDir}/review-top.png` });
    // Any figure opens its formula and inputs; inputs open the same way.
    await page.locator('#sizes tr[data-row="params.moeLayers"] button.fig').click();
    const panel = page.locator('#sizes tr[data-row="params.moeLayers"] .prov');
    await expect(panel.textContent()).resolves.toContain("first_k_dense_replace");
    await page.screenshot({ path: `${shotsDir}/review.png`, fullPage: true });
  });

  it("recomputes in the browser when the calculator changes, and names a bad field", async () => {
    const page = await openReview(1280);
    const calc = page.locator("#calculator");
    await calc.locator('input[name="trainable"]').fill("4");
    await expect(calc.locator('tr[data-row="shard.trainable"]').textContent()).resolves.toContain("899.7 M");
    await calc.locator('input[name="kept"]').fill("61");
    await expect(calc.locator('[role="alert"]').textContent()).resolves.toMatch(/^kept: trainable \+ kept must be at most 64/);
    await calc.locator('input[name="kept"]').fill("16");
    await calc.locator('select[name="gpu"]').selectOption({ label: "RTX 4090" });
    await expect(calc.locator("h3").first().textContent()).resolves.toContain("RTX 4090");
    await calc.screenshot({ path: `${shotsDir}/calculator.png` });
  });

  it("switches to the dark theme and fits a phone-width screen", async () => {
    const page = await openReview(390);
    await page.locator("button.theme-toggle").click();
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("dark");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${shotsDir}/review-phone-dark.png` });
  });
});
