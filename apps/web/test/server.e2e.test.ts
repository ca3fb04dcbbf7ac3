import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { createApiServer, listen } from "@subnet-review/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebStack, type WebStack, webServer } from "./stack.ts";

// The production server (dist/server.mjs) over the built app, the real api and the real Postgres: the review page
// answered from its render cache, refreshed when the data changes, and the last good copy while the api is down.
const review = "/r/subnet-102-status-review";
let stack: WebStack;

beforeAll(async () => {
  stack = await startWebStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${stack.webUrl}${path}`, init);
  return { status: res.status, headers: res.headers, state: res.headers.get("x-render-cache"), body: Buffer.from(await res.arrayBuffer()) };
}

/** Asks until `done` holds; fails after `ms`. */
async function until<T>(ask: () => Promise<T>, done: (r: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await ask();
    if (done(r)) return r;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the production server", () => {
  it("answers the review's URL and the home page from its render cache, with the same bytes and Next's security headers", async () => {
    for (const path of [review, "/"]) {
      const first = await get(path);
      const second = await get(path);
      expect(first.status).toBe(200);
      expect(second.state, path).toMatch(/^(hit|stale)$/);
      expect(second.body.equals(first.body)).toBe(true);
      expect(second.body.toString()).toContain("Model &amp; Shard Sizes");
      expect(second.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(second.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(second.headers.get("x-frame-options")).toBe("DENY");
      expect(second.headers.get("x-content-type-options")).toBe("nosniff");
      expect(second.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      expect(second.headers.get("vary")).toMatch(/Accept-Encoding/);
    }
  });

  it("answers gzip and brotli that decode to the identity body, and HEAD with the headers alone", async () => {
    const identity = await get(review);
    const gzip = await get(review, { headers: { "accept-encoding": "gzip" } });
    const br = await get(review, { headers: { "accept-encoding": "gzip, deflate, br" } });
    // fetch decodes what it is sent: ask with node:http's raw bytes instead
    const raw = async (encoding: string) => {
      const { request } = await import("node:http");
      return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        request(`${stack.webUrl}${review}`, { headers: { "accept-encoding": encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on("error", reject)
          .end();
      });
    };
    const gz = await raw("gzip");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.body.length).toBeLessThan(identity.body.length / 3);
    expect(gunzipSync(gz.body).equals(identity.body)).toBe(true);
    const brotli = await raw("br");
    expect(brotli.headers["content-encoding"]).toBe("br");
    expect(brotliDecompressSync(brotli.body).equals(identity.body)).toBe(true);
    expect(gzip.body.equals(identity.body) && br.body.equals(identity.body)).toBe(true);
    const plain = await raw("identity");
    expect(plain.headers["content-encoding"]).toBeUndefined();

    const head = await fetch(`${stack.webUrl}${review}`, { method: "HEAD", headers: { "accept-encoding": "identity" } });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-render-cache")).toMatch(/^(hit|stale)$/);
    expect(Number(head.headers.get("content-length"))).toBe(identity.body.length);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("renders a URL with a query, an unknown review and every other path through Next, never from the cache", async () => {
    for (const path of [`${review}?experiment=esft-cells-gsm8k`, "/?from=1&to=2", "/r/no-such-review", "/icon.svg"]) {
      for (let i = 0; i < 2; i++) {
        const r = await get(path);
        expect(r.state, path).toBeNull();
        expect(r.status, path).toBe(path.includes("no-such") ? 404 : 200);
        expect(r.headers.get("x-frame-options"), path).toBe("DENY");
      }
    }
  });

  it("shows a write through the api within a few seconds", async () => {
    const client = stack.api.client(await stack.api.token("server-e2e"));
    const experiment = `render-cache-${Date.now()}`;
    expect((await get(review)).body.toString()).not.toContain(experiment);
    await client.runs.create.mutate({
      id: `${experiment}-a`,
      cell: "A",
      trainable: 2,
      kept: 0,
      steps: 4,
      spec: {},
      experts: null,
      hardware: null,
      gitCommit: null,
      experiment: { name: experiment, description: "" },
      startedAt: new Date().toISOString(),
    });
    const started = Date.now();
    const seen = await until(
      () => get(review),
      (r) => r.body.toString().includes(experiment),
      15_000,
    );
    expect(seen.state).toMatch(/^(hit|stale)$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // last: it stops the api
  it('serves the page with its "Data as of" banner while the api is down, and renders afresh when it answers again', async () => {
    expect((await get(review)).body.toString()).not.toContain("Data as of");
    const port = Number(new URL(stack.apiUrl).port);
    // the api's server stops (its database stays, to start it again on the same port)
    await new Promise<void>((resolve) => {
      stack.api.server.close(() => resolve());
      stack.api.server.closeAllConnections();
    });
    const down = await until(
      () => get(review),
      (r) => r.body.toString().includes("Data as of"),
      15_000,
    );
    expect(down.status).toBe(200);
    // (React marks text boundaries in the HTML with empty comments)
    expect(down.body.toString().replaceAll("<!-- -->", "")).toMatch(/Data as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: the api is unreachable/);
    expect(down.body.toString()).toContain("Model &amp; Shard Sizes");
    // and that copy is what the cache answers until the api is back
    const kept = await get(review);
    expect([kept.state, kept.body.equals(down.body)]).toEqual(["hit", true]);

    const again: Server = createApiServer({ db: stack.db });
    await listen(again, port, "127.0.0.1");
    try {
      const back = await until(
        () => get(review),
        (r) => !r.body.toString().includes("Data as of"),
        15_000,
      );
      expect(back.status).toBe(200);
    } finally {
      again.close();
      again.closeAllConnections();
    }
  });
});

describe("starting and stopping", () => {
  const run = promisify(execFile);

  it("says to build first when the app is not built, and names a bad setting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "web-unbuilt-"));
    try {
      mkdirSync(join(dir, "dist"));
      cpSync(webServer, join(dir, "dist/server.mjs"));
      const unbuilt = await run(process.execPath, [join(dir, "dist/server.mjs")], {
        env: { ...process.env, PORT: "0", HOSTNAME: "127.0.0.1" },
        timeout: 20_000,
      }).catch((e: unknown) => e);
      expect((unbuilt as { code: number }).code).toBe(1);
      expect((unbuilt as { stderr: string }).stderr.trim()).toBe(
        `web: the web app is not built (no .next/BUILD_ID in ${dir}/): run \`pnpm --filter @subnet-review/web build\` first`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const badPort = await run(process.execPath, [webServer], { env: { ...process.env, PORT: "70000" }, timeout: 20_000 }).catch((e: unknown) => e);
    expect((badPort as { code: number }).code).toBe(1);
    expect((badPort as { stderr: string }).stderr.trim()).toBe("web: environment PORT: must be a TCP port from 0 to 65535");
    const badApi = await run(process.execPath, [webServer], { env: { ...process.env, PORT: "0", API_URL: "not a url" }, timeout: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect((badApi as { stderr: string }).stderr.trim()).toMatch(/^web: environment API_URL: must be the api's base URL/);
  });

  it("stops on SIGTERM with exit code 0 once the requests in flight are answered", async () => {
    const other = await startWebStack();
    const inFlight = fetch(`${other.webUrl}${review}?experiment=esft-cells-gsm8k`).then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const code = await other.stop();
    expect(code).toBe(0);
    expect(await inFlight).toBe(200);
    await expect(fetch(other.webUrl)).rejects.toThrow();
  });
});
