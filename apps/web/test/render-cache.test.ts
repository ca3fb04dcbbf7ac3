import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { preferredEncoding } from "../server/accept-encoding.ts";
import type { Rendered } from "../server/cached-page.ts";
import { DataVersionPoller, type Version } from "../server/data-version.ts";
import { cacheKey, RenderCache } from "../server/render-cache.ts";

// The render cache's rules over a real node:http server, with the render (Next, over loopback, in production) and
// the api's data version played by the test. The production server's own test is server.e2e.test.ts.

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

interface Harness {
  url: string;
  /** Requests the server has received. */
  received(): number;
  renders: string[];
  /** What the next renders answer, by path (default: a page naming the path and the version it was rendered at). */
  answer: Map<string, (path: string) => Rendered>;
  setVersion(v: Version): void;
  /** Holds renders until released. */
  hold(): () => void;
  cache: RenderCache;
}

const page = (body: string, headers: string[] = []): Rendered => ({
  status: 200,
  rawHeaders: ["Content-Type", "text/html; charset=utf-8", "X-Frame-Options", "DENY", "Connection", "keep-alive", "Date", "x", ...headers],
  body: Buffer.from(body),
});

async function harness(maxBytes = 1 << 20): Promise<Harness> {
  let version: Version = "v1";
  const renders: string[] = [];
  const answer = new Map<string, (path: string) => Rendered>();
  let held: Promise<void> | null = null;
  const versions = new DataVersionPoller(async () => version, 0);
  const cache = new RenderCache({
    maxBytes,
    versions,
    retryMs: 0,
    log: () => undefined,
    async render(path) {
      renders.push(path);
      if (held) await held;
      const rendered = versions.latest;
      return (answer.get(path) ?? (() => page(`<p>${path} at ${rendered}</p>`)))(path);
    },
  });
  let received = 0;
  const server = createServer(async (req, res) => {
    received++;
    const key = cacheKey(req);
    if (key && (await cache.answer(key, req, res))) return;
    res.writeHead(299, { "content-type": "text/plain" }).end("next");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    renders,
    answer,
    setVersion: (v) => (version = v),
    hold() {
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      return () => {
        held = null;
        release();
      };
    },
    cache,
  };
}

const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, state: res.headers.get("x-render-cache"), body: await res.text(), headers: res.headers };
};

/** Asks until `done` holds (re-renders happen in the background); fails after `ms`. */
async function until<T>(ask: () => Promise<T>, done: (r: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await ask();
    if (done(r)) return r;
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms; last: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the render cache", () => {
  it("keys exactly / and /r/<slug> without a query, for GET and HEAD", () => {
    const key = (method: string, url: string) => cacheKey({ method, url } as Parameters<typeof cacheKey>[0]);
    expect(key("GET", "/")).toBe("/");
    expect(key("HEAD", "/r/subnet-102-status-review")).toBe("/r/subnet-102-status-review");
    for (const url of ["/?", "/?experiment=x", "/r/a?experiment=x", "/r/a/", "/r/", "/r/a/b", "/figure/a/b", "/export/a/sizes.csv", "/_next/static/x.js"]) {
      expect(key("GET", url), url).toBeNull();
    }
    expect(key("POST", "/")).toBeNull();
  });

  it("renders a page once for concurrent first requests, then answers it without rendering", async () => {
    const h = await harness();
    const release = h.hold();
    const first = Promise.all([1, 2, 3, 4, 5].map(() => get(`${h.url}/r/a`)));
    while (h.received() < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    const answers = await first;
    expect(h.renders).toEqual(["/r/a"]);
    expect(new Set(answers.map((a) => a.body))).toEqual(new Set(["<p>/r/a at v1</p>"]));
    expect(answers.every((a) => a.state === "miss" && a.status === 200)).toBe(true);
    const again = await get(`${h.url}/r/a`);
    expect([again.state, again.body]).toEqual(["hit", "<p>/r/a at v1</p>"]);
    // the stored headers are the page's, less the hop-by-hop ones; Vary names Accept-Encoding
    expect(again.headers.get("x-frame-options")).toBe("DENY");
    expect(again.headers.get("vary")).toBe("Accept-Encoding");
    expect(again.headers.get("date")).not.toBe("x");
    expect(h.renders).toEqual(["/r/a"]);
  });

  it("serves the old page while it re-renders one whose data version changed, then the new one", async () => {
    const h = await harness();
    await get(`${h.url}/r/a`);
    h.setVersion("v2");
    const release = h.hold();
    // the first request after the change asks the version; the page is behind it, so it is re-rendered
    const stale = await until(
      () => get(`${h.url}/r/a`),
      (r) => r.state === "stale",
    );
    expect(stale.body).toBe("<p>/r/a at v1</p>");
    release();
    const fresh = await until(
      () => get(`${h.url}/r/a`),
      (r) => r.body.includes("v2"),
    );
    expect([fresh.state, fresh.body]).toEqual(["hit", "<p>/r/a at v2</p>"]);
    expect(h.renders).toEqual(["/r/a", "/r/a"]);
  });

  it("re-renders a page whose answer said s-maxage once that has passed, whatever the data version", async () => {
    const h = await harness();
    let n = 0;
    h.answer.set("/r/isr", () => page(`<p>render ${++n}</p>`, ["Cache-Control", "s-maxage=1, stale-while-revalidate=31535999"]));
    await get(`${h.url}/r/isr`);
    expect((await get(`${h.url}/r/isr`)).state).toBe("hit");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get(`${h.url}/r/isr`)).state).toBe("stale");
    const next = await until(
      () => get(`${h.url}/r/isr`),
      (r) => r.body.includes("render 2"),
    );
    expect(next.state).toBe("hit");
    expect(next.headers.get("cache-control")).toBe("s-maxage=1, stale-while-revalidate=31535999");
  });

  it("re-renders when the api stops answering and again when it answers", async () => {
    const h = await harness();
    await get(`${h.url}/`);
    h.setVersion(null);
    await until(
      () => get(`${h.url}/`),
      (r) => r.body.includes("at null"),
    );
    h.setVersion("v1");
    const back = await until(
      () => get(`${h.url}/`),
      (r) => r.body.includes("at v1"),
    );
    expect(back.body).toBe("<p>/ at v1</p>");
    expect(h.renders).toEqual(["/", "/", "/"]);
  });

  it("keeps only 200s: a 404 passes to Next every time; a page gone on re-render is dropped; a failed re-render keeps the old page", async () => {
    const h = await harness();
    h.answer.set("/r/missing", () => ({ status: 404, rawHeaders: [], body: Buffer.from("no") }));
    expect((await get(`${h.url}/r/missing`)).status).toBe(299);
    expect((await get(`${h.url}/r/missing`)).status).toBe(299);
    expect(h.renders).toEqual(["/r/missing", "/r/missing"]);

    await get(`${h.url}/r/a`);
    h.answer.set("/r/a", () => ({ status: 500, rawHeaders: [], body: Buffer.from("oops") }));
    h.setVersion("v2");
    // requests go on getting the old page while the re-render fails (tried again after retryMs)
    const during = await until(
      async () => ({ answer: await get(`${h.url}/r/a`), renders: h.renders.length }),
      (r) => r.renders >= 5,
    );
    expect([during.answer.state, during.answer.body]).toEqual(["stale", "<p>/r/a at v1</p>"]);

    h.answer.set("/r/a", () => ({ status: 404, rawHeaders: [], body: Buffer.from("gone") }));
    h.setVersion("v3");
    const gone = await until(
      () => get(`${h.url}/r/a`),
      (r) => r.status === 299,
    );
    expect(gone.body).toBe("next");
  });

  it("does not keep a page that sets a cookie, and hands a request to Next when it carries a header the page varies on", async () => {
    const h = await harness();
    h.answer.set("/r/cookie", () => page("<p>mine</p>", ["Set-Cookie", "a=1"]));
    expect((await get(`${h.url}/r/cookie`)).status).toBe(299);
    h.answer.set("/r/v", () => page("<p>v</p>", ["Vary", "RSC, Accept-Encoding"]));
    expect((await get(`${h.url}/r/v`)).state).toBe("miss");
    expect((await get(`${h.url}/r/v`, { headers: { rsc: "1" } })).status).toBe(299);
    const plain = await get(`${h.url}/r/v`);
    expect([plain.state, plain.headers.get("vary")]).toEqual(["hit", "rsc, Accept-Encoding"]);
  });

  it("holds at most maxBytes of pages, dropping the least recently answered", async () => {
    const body = "x".repeat(600); // under the compression threshold: one copy per page
    const h = await harness(1500);
    for (const p of ["/r/a", "/r/b", "/r/c"]) h.answer.set(p, () => page(body));
    await get(`${h.url}/r/a`);
    await get(`${h.url}/r/b`);
    await get(`${h.url}/r/a`); // b is now the least recently answered
    await get(`${h.url}/r/c`);
    expect(h.cache.size.pages).toBe(2);
    expect(h.cache.size.bytes).toBeLessThanOrEqual(1500);
    expect((await get(`${h.url}/r/a`)).state).toBe("hit");
    expect((await get(`${h.url}/r/b`)).state).toBe("miss");
  });
});

describe("preferredEncoding", () => {
  it("picks brotli, then gzip, by q-value, else identity", () => {
    expect(preferredEncoding(undefined)).toBe("identity");
    expect(preferredEncoding("gzip, deflate, br, zstd")).toBe("br");
    expect(preferredEncoding("gzip")).toBe("gzip");
    expect(preferredEncoding("br;q=0.5, gzip")).toBe("gzip");
    expect(preferredEncoding("br;q=0, gzip;q=0")).toBe("identity");
    expect(preferredEncoding("*")).toBe("br");
    expect(preferredEncoding("*;q=0.1, br;q=0")).toBe("gzip");
    expect(preferredEncoding("identity")).toBe("identity");
  });
});
