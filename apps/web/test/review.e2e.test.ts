import { gzipSync } from "node:zlib";
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
    // the calculator (core and zod) loads as the reader reaches it, not with the page
    await expect(calc.locator('input[name="trainable"]').count()).resolves.toBe(0);
    await calc.scrollIntoViewIfNeeded();
    await calc.locator('input[name="trainable"]').fill("4");
    await expect(calc.locator('tr[data-row="shard.trainable"]').textContent()).resolves.toContain("899.7 M");
    await calc.locator('input[name="kept"]').fill("61");
    await expect(calc.locator('[role="alert"]').textContent()).resolves.toMatch(/^kept: trainable \+ kept must be at most 64/);
    await calc.locator('input[name="kept"]').fill("16");
    await calc.locator('select[name="gpu"]').selectOption({ label: "RTX 4090" });
    await expect(calc.locator("h3").first().textContent()).resolves.toContain("RTX 4090");
    await calc.screenshot({ path: `${shotsDir}/calculator.png` });
  });

  it("explains every ≠ where it stands, marks the memory table against the published peaks and Fits on, and labels derived values", async () => {
    const page = await openReview(1280);
    // the published section titles
    const titles = await page.locator("section.review h2").allTextContents();
    expect(titles.map((t) => t.replace(/\s*#$/, ""))).toEqual(
      expect.arrayContaining(["Model & Shard Sizes", "Network Throughput (tokens/sec)", "Active Miners", "Training Loss"]),
    );
    // a legend for the marks, and every ≠ in sections 01 and 02 with its reason beside it
    const legend = await page.locator("dl.marks").textContent();
    expect(legend).toContain("✓");
    expect(legend).toContain("≠");
    const differs = page.locator("#sizes tr[data-row]:has(.differ), #throughput tr[data-row]:has(.differ)");
    const n = await differs.count();
    expect(n).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) {
      const id = await differs.nth(i).getAttribute("data-row");
      await expect(differs.nth(i).locator("xpath=following-sibling::tr[1]").getAttribute("data-why-for")).resolves.toBe(id);
    }
    const why = await page.locator('#sizes tr[data-why-for="params.backbone"] .why').textContent();
    expect(why).toContain("861,793,792");
    expect(why).toContain("rounds to 861.8 M");
    expect(why).toContain("15,706,484,224"); // the inputs with enough digits to re-add
    // window_hours: derived from the published rounds × hours per round, not "reported"
    await expect(page.locator("#throughput").textContent()).resolves.toContain(
      "Window hours: derived: not printed in the published review: its rounds counted (209.1) × hours per round (1.747)",
    );

    // memory: the published peaks at their own precision and the published Fits on, each row marked, what differs said
    const memory = page.locator('table[data-table="memory"]');
    await expect(memory.locator("caption").textContent()).resolves.toContain("GB (10⁹ bytes)");
    await expect(memory.locator('[data-published-peak="A"]').textContent()).resolves.toBe("~21 GBreported");
    await expect(memory.locator('[data-published-peak="B"]').textContent()).resolves.toBe("~28–32 GBreported");
    for (const cell of ["A", "B", "C", "full"]) {
      const row = memory.locator(`tr[data-cell="${cell}"]`);
      await expect(row.locator(".agree, .differ").count()).resolves.toBeGreaterThan(0);
      if ((await row.locator(".differ").count()) > 0)
        await expect(memory.locator(`tr[data-why-for="memory.${cell}"]`).textContent()).resolves.toMatch(/What differs is activations/);
    }
    // priced for the shape the subnet's miners train with, ours agrees with the published Fits on for every row
    await expect(page.locator("#memory + .cards + p.note").textContent()).resolves.toContain(
      "micro-batch 1 × 4,096 tokens with activation checkpointing per decoder layer (the shape the subnet's miners train with",
    );
    const c = memory.locator('tr[data-cell="C"]');
    await expect(c.locator('[data-published-fits="C"]').textContent()).resolves.toContain("single A6000 (just barely)");
    await expect(c.locator('td[data-label="Fits on, ours"]').textContent()).resolves.toBe("1 × RTX A6000");
    await expect(memory.locator("[data-published-fits] .differ").count()).resolves.toBe(0);
    await expect(memory.locator('tr[data-why-for="memory.C"] .why').textContent()).resolves.toMatch(
      /the published ~44 GB leaves 1\.8 GB above that for activations, ours are 4\.6 GB for micro-batch 1 × 4,096 tokens/,
    );
    await expect(memory.locator('tr[data-cell="B"] .agree').count()).resolves.toBe(1); // 28.8 GB within the published ~28–32 GB
    await expect(memory.locator('tr[data-cell="full"] td[data-label="Fits on, ours"]').textContent()).resolves.toMatch(/^3 × RTX A6000 \(ZeRO-3 \/ FSDP\)/);

    // the published page's cards and takeaway, their numbers computed from the published figures (derived)
    await expect(page.locator('[data-card="memory-ratio"]').textContent()).resolves.toMatch(/≈6\.0×.*published peaks ≈6\.0×.*derived/);
    await expect(page.locator('[data-card="peak-full"]').textContent()).resolves.toContain("published ~126 GB");
    await expect(page.locator('[data-card="peak-A"]').textContent()).resolves.toContain("published ~21 GB");
    const speed = await page.locator('[data-speedup="A"]').textContent();
    expect(speed).toBe(`≈ ${(46740 / 11220).toFixed(1)}× faster than C derived`);
    const takeaway = await page.locator('[data-takeaway="reported"]').textContent();
    expect(takeaway).toContain("from the published figures");
    expect(takeaway).toContain("39.5%");
    expect(takeaway).toContain("≈4.2× faster than C (3h 07m vs 12h 59m)");
  });

  it("opens a figure from its permalink, with exact inputs, and keeps the calculator's inputs in the URL", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${webUrl}/#figure=params.backbone`, { waitUntil: "networkidle" });
    const prov = page.locator('[data-figure="params.backbone"] .prov').first();
    await prov.waitFor();
    const text = await prov.textContent();
    expect(text).toContain("861,793,792");
    expect(text).toContain("14,394,851,328");
    expect(await prov.locator("a.permalink").getAttribute("href")).toBe("#figure=params.backbone");
    // sections have permalinks too
    await expect(page.locator("#sizes h2 a.anchor").getAttribute("href")).resolves.toBe("#sizes");

    const calc = page.locator("#calculator");
    await calc.scrollIntoViewIfNeeded();
    await calc.locator('input[name="trainable"]').fill("4");
    await calc.locator('input[name="checkpointing"]').uncheck();
    await expect.poll(() => page.url()).toMatch(/[?&]k=4\b.*ckpt=0|ckpt=0.*[?&]k=4\b/);
    const shared = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await shared.goto(page.url(), { waitUntil: "networkidle" });
    await expect.poll(() => shared.locator('#calculator input[name="trainable"]').inputValue()).toBe("4");
    await expect(shared.locator('#calculator input[name="checkpointing"]').isChecked()).resolves.toBe(false);
    await expect(shared.locator('#calculator tr[data-row="shard.trainable"]').textContent()).resolves.toContain("899.7 M");
    await page.close();
    await shared.close();
  });

  it("exports every table as valid CSV and JSON that agree", async () => {
    const page = await openReview(1280);
    const links = await page.locator("p.export a").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThanOrEqual(12);
    const names = new Set(links.map((l) => new URL(l).pathname.replace(/\.(csv|json)$/, "")));
    for (const name of names) {
      const csv = await fetch(`${webUrl}${name}.csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get("content-type")).toContain("text/csv");
      const json = await fetch(`${webUrl}${name}.json`);
      expect(json.status).toBe(200);
      const data = (await json.json()) as { columns: string[]; rows: Record<string, unknown>[] };
      const [header, ...rows] = parseCsv(await csv.text());
      expect(header).toEqual(data.columns);
      expect(rows.length).toBe(data.rows.length);
      rows.forEach((r, i) => expect(r).toEqual(data.columns.map((c) => (data.rows[i]![c] === null ? "" : String(data.rows[i]![c])))));
    }
    const sizes = (await (await fetch(`${webUrl}/export/subnet-102-status-review/sizes.json`)).json()) as {
      rows: { id: string; value: number; published: number; agrees: boolean }[];
    };
    expect(sizes.rows.find((r) => r.id === "params.backbone")).toMatchObject({ value: 861_793_792, published: 861_900_000, agrees: false });
    expect((await fetch(`${webUrl}/export/subnet-102-status-review/nope.csv`)).status).toBe(404);
    // a figure's provenance, as its panel fetches it
    const backbone = (await (await fetch(`${webUrl}/figure/subnet-102-status-review/params.backbone`)).json()) as {
      value: number;
      inputs: Record<string, { value: number }>;
    };
    expect(backbone.value).toBe(861_793_792);
    expect(backbone.inputs.total!.value - backbone.inputs.routedExperts!.value - backbone.inputs.sharedExperts!.value).toBe(861_793_792);
    const missing = await fetch(`${webUrl}/figure/subnet-102-status-review/no.such.figure`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("id: no figure no.such.figure in review subnet-102-status-review");
  });

  it("loads only the islands' script, React and the page's interactive parts, at most 120 kB gzip, and the calculator when reached", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const refused: string[] = [];
    page.on("console", (m) => m.type() === "error" && /Content Security Policy/.test(m.text()) && refused.push(m.text()));
    const responses: Promise<{ url: string; body: Buffer }>[] = [];
    page.on("response", (r) => {
      if (r.request().resourceType() === "script") responses.push(r.body().then((body) => ({ url: r.url(), body })));
    });
    await page.goto(`${webUrl}/r/subnet-102-status-review`, { waitUntil: "networkidle" });
    const scripts = await Promise.all(responses);
    // the policy allows the theme script by its hash and no other inline script, and the theme script ran
    const policy = (await fetch(`${webUrl}/r/subnet-102-status-review`)).headers.get("content-security-policy")!;
    expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(/script-src [^;]*/.exec(policy)![0]).not.toContain("unsafe-inline");
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("light");
    const html = await page.content();
    expect(html).not.toContain("__NEXT_DATA__");
    expect(html).not.toContain("self.__next_f");
    const onLoad = scripts.map((s) => new URL(s.url).pathname);
    expect(onLoad.length).toBeGreaterThan(0);
    for (const path of onLoad) expect(path).toMatch(/^\/_islands\//);
    const gzip = scripts.reduce((sum, s) => sum + gzipSync(s.body).length, 0);
    expect(gzip).toBeLessThanOrEqual(120_000);
    expect(onLoad.some((p) => p.includes("calculator"))).toBe(false);
    // interactive: a figure opens, the theme toggles
    await page.locator('#sizes [data-figure="params.backbone"] button.fig').first().click();
    await page.locator("#sizes .prov").first().waitFor();
    await page.locator("#calculator").scrollIntoViewIfNeeded();
    await page.locator('#calculator input[name="trainable"]').waitFor();
    expect((await Promise.all(responses)).some((s) => s.url.includes("/_islands/calculator"))).toBe(true);
    expect(refused).toEqual([]);
    await page.close();
  });

  it("answers an unknown review with a 404 that lists the reviews, serves a favicon and sets security headers", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${webUrl}/r/no-such-review`, { waitUntil: "networkidle" });
    expect(res!.status()).toBe(404);
    await expect(page.locator('[data-list="reviews"]').textContent()).resolves.toContain("Subnet Status Review");
    expect((await fetch(`${webUrl}/icon.svg`)).status).toBe(200);
    const cached = await fetch(`${webUrl}/r/subnet-102-status-review`);
    expect(cached.status).toBe(200);
    expect(await cached.text()).toContain("Model &amp; Shard Sizes");
    const home = await fetch(webUrl);
    expect(home.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(home.headers.get("x-frame-options")).toBe("DENY");
    expect(home.headers.get("x-content-type-options")).toBe("nosniff");
    expect(home.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    await page.close();
  });

  it("switches to the dark theme and fits a phone-width screen", async () => {
    const page = await openReview(390);
    await page.locator("button.theme-toggle").click();
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("dark");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // at 390 px the tables become cards: every row's Published cell is on screen, not scrolled off to the right
    const published = await page.locator('#sizes td[data-label="Published"]:visible, table[data-table="memory"] td[data-label="GPU peak, published"]').all();
    expect(published.length).toBe(12);
    for (const td of published) {
      const box = (await td.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: `${shotsDir}/review-phone-dark.png` });
  });

  // last: it stops the api
  it('serves the last good page with a "data as of" banner when the api is down', async () => {
    const before = await openReview(1280);
    await expect(before.locator(".stale").count()).resolves.toBe(0);
    await before.close();
    await stack.stopApi();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The render cache answers the copy it has while it renders the page again without the api (it asks the api's
    // data version at most once a second), so the banner shows on a reload within seconds.
    const deadline = Date.now() + 10_000;
    let res = await page.goto(webUrl, { waitUntil: "networkidle" });
    while ((await page.locator(".stale").count()) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      res = await page.goto(webUrl, { waitUntil: "networkidle" });
    }
    expect(res!.status()).toBe(200);
    // kept only briefly by the render cache, so the api's return shows even if its data did not change
    expect(res!.headers()["cache-control"]).toMatch(/s-maxage=\d/);
    const banner = page.locator('.stale[role="status"]');
    await expect(banner.textContent()).resolves.toMatch(/^Data as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: the api is unreachable/);
    await expect(page.locator("h1").textContent()).resolves.toBe("Subnet Status Review");
    await expect(page.locator('#sizes tr[data-row="params.backbone"]').textContent()).resolves.toContain("≠ published 861.9 M");
    const csv = await fetch(`${webUrl}/export/subnet-102-status-review/sizes.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("x-data-as-of")).toMatch(/^\d{4}-/);
    // a figure still opens its formula (fetched from this server's last good copy)
    await page.locator('#sizes tr[data-row="params.backbone"] button.fig').click();
    await expect(page.locator('#sizes tr[data-row="params.backbone"] .prov').textContent()).resolves.toContain("861,793,792");
    await page.screenshot({ path: `${shotsDir}/review-api-down.png` });
  });
});

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") record.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      (field = ""), (record = []), i++;
    } else if (ch === "\n" || ch === "\r") throw new Error(`bare line break at ${i}: not CRLF CSV`);
    else field += ch;
  }
  if (field !== "" || record.length) throw new Error("the last record does not end in CRLF");
  return records;
}
