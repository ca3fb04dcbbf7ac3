import { connect } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { serializeFigures } from "@subnet-review/core";
import { createDb } from "@subnet-review/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INT32_MAX } from "../src/fields.ts";
import { HIDDEN_ERROR } from "../src/public-view.ts";
import { createApiServer, listen, MAX_BATCH_CALLS, type FailureLog } from "../src/server.ts";
import { startTestApi, type TestApi } from "../src/testing.ts";

// The api as an attacker and a careless client meet it: bad input of every class gets a 4xx naming the field and
// no internals; the cache stays bounded over thousands of distinct reads; a failure is logged with its request id.

const SLUG = "subnet-102-status-review";
const CACHE_BYTES = 8 * 1024 * 1024;
let api: TestApi;
let token: string;

beforeAll(async () => {
  // A long TTL: what the cache test sees after a write is the write's doing, not expiry.
  api = await startTestApi({ cacheBytes: CACHE_BYTES, cacheTtlMs: 10 * 60_000 });
  token = await api.token("reliability");
});
afterAll(async () => {
  await api?.stop();
});

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

const wire = (value: unknown) => JSON.stringify(serializeFigures(value));
const query = (path: string, input?: unknown, extra = "") => `/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(wire(input))}`}${extra}`;

async function http(method: string, path: string, opts: { body?: string; auth?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.auth !== null) headers.authorization = `Bearer ${opts.auth ?? token}`;
  const res = await fetch(`${api.url}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: opts.body }) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
const mutate = (path: string, input: unknown, auth?: string | null) => http("POST", `/trpc/${path}`, { body: wire(input), auth });

/** One raw HTTP/1.1 exchange (headers no client library would send), answered or closed within 10 s. */
function rawExchange(port: number, request: string | Buffer, opts: { thenSend?: string } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 10_000);
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (opts.thenSend && /\r\n\r\n/.test(text)) {
        socket.write(opts.thenSend);
        opts.thenSend = undefined;
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" || err.code === "EPIPE" ? undefined : reject(err)));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(request);
  });
}

const port = () => Number(new URL(api.url).port);
const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

/** Anything a response must never carry: Prisma or SQL text, stack frames, source paths, driver errors. */
const INTERNALS =
  /prisma|invocation|\bSELECT\b|\bINSERT\b|\bUPDATE "|postgres|\/work\/|node_modules|\.tsx?:\d|\.m?js:\d|\n\s+at |\bP[12]\d{3}\b|ECONNREFUSED|22P05|\bstack\b/i;

const step = (n: number) => ({
  step: n,
  loss: 2.5,
  gradNorm: 1,
  lr: 1e-5,
  tokens: 8192,
  tokensPerSecond: 20_000,
  stepSeconds: 0.4,
  memAllocatedBytes: null,
  memPeakBytes: null,
});
const run = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  cell: "A",
  trainable: 8,
  kept: 0,
  steps: 10,
  spec: { batch: 4 },
  experts: null,
  hardware: null,
  gitCommit: null,
  experiment: null,
  startedAt: new Date().toISOString(),
  ...over,
});
const evalRow = (over: Record<string, unknown> = {}) => ({
  model: "m",
  runId: null,
  step: null,
  task: "gsm8k_cot",
  metric: "strict-match",
  value: 0.5,
  stderr: null,
  n: 10,
  note: null,
  samplesPath: null,
  ...over,
});

describe("bad input: a 4xx naming the field, no internals, nothing written", () => {
  const results: { name: string; status: number; leaked: boolean }[] = [];

  /** [name, request, expected status, field or message the answer must name] */
  const cases: [string, () => Promise<Answer>, number, RegExp][] = [
    // NUL characters, in text columns and inside JSON (jsonb cannot hold them either)
    ["NUL in runs.create gitCommit", () => mutate("runs.create", run("nul-1", { gitCommit: "abc\u0000" })), 400, /gitCommit: must not contain NUL/],
    [
      "NUL inside runs.create spec",
      () => mutate("runs.create", run("nul-2", { spec: { notes: ["ok", "a\u0000b"] } })),
      400,
      /spec\.notes\.1: must not contain NUL/,
    ],
    ["NUL in a spec key", () => mutate("runs.create", run("nul-3", { spec: { "a\u0000": 1 } })), 400, /spec\.a\\\\u0000: must not contain NUL/],
    ["NUL in modelConfig.upsert name", () => mutate("modelConfig.upsert", { name: "x\u0000", config: {} }), 400, /name: must not contain NUL/],
    ["NUL in evals.record note", () => mutate("evals.record", { results: [evalRow({ note: "\u0000" })] }), 400, /results\.0\.note: must not contain NUL/],
    [
      "NUL in runs.finish error",
      () =>
        mutate("runs.finish", {
          runId: "r",
          status: "failed",
          error: "boom\u0000",
          finishedAt: new Date().toISOString(),
          wallclockSeconds: 1,
          peakMemoryBytes: null,
          tokensPerSecond: null,
          mfu: null,
        }),
      400,
      /error: must not contain NUL/,
    ],
    ["NUL in a query", () => http("GET", query("review.bySlug", { slug: "a\u0000" }), { auth: null }), 400, /slug: must not contain NUL/],
    // integers beyond their 32-bit columns
    ["runs.create trainable 2^31", () => mutate("runs.create", run("big-1", { trainable: INT32_MAX + 1 })), 400, /"trainable"|trainable/],
    ["runs.create steps 2^31", () => mutate("runs.create", run("big-2", { steps: INT32_MAX + 1 })), 400, /at most 2147483647/],
    [
      "runs.create expert id 2^31",
      () => mutate("runs.create", run("big-3", { experts: { trainable: { "1": [INT32_MAX + 1] }, kept: {} } })),
      400,
      /at most 2147483647/,
    ],
    ["appendSteps step 2^31", () => mutate("runs.appendSteps", { runId: "r", steps: [step(INT32_MAX + 1)] }), 400, /at most 2147483647/],
    ["appendSteps tokens 2^31", () => mutate("runs.appendSteps", { runId: "r", steps: [{ ...step(1), tokens: 2 ** 40 }] }), 400, /at most 2147483647/],
    ["evals.record n 2^31", () => mutate("evals.record", { results: [evalRow({ n: INT32_MAX + 1 })] }), 400, /at most 2147483647/],
    ["evals.record step 2^31", () => mutate("evals.record", { results: [evalRow({ runId: "r", step: INT32_MAX + 1 })] }), 400, /at most 2147483647/],
    [
      "review.create trainable 2^31",
      () => mutate("review.create", { slug: "x", title: "x", source: "x", netuid: 1, modelName: "m", trainable: INT32_MAX + 1, kept: 0, constants: {} }),
      400,
      /at most 2147483647/,
    ],
    ["runs.steps afterStep 2^31", () => http("GET", query("runs.steps", { runId: "r", afterStep: INT32_MAX + 1 }), { auth: null }), 400, /at most 2147483647/],
    [
      "telemetry.cycles fromCycle 2^31",
      () => http("GET", query("telemetry.cycles", { netuid: 102, fromCycle: INT32_MAX + 1, toCycle: INT32_MAX + 2 }), { auth: null }),
      400,
      /at most 2147483647/,
    ],
    // a step twice in one batch
    [
      "appendSteps repeats a step",
      () => mutate("runs.appendSteps", { runId: "r", steps: [step(1), step(2), step(1)] }),
      400,
      /step 1 appears twice in this batch \(also at steps\.0\)/,
    ],
    // malformed requests
    ["GET input not JSON", () => http("GET", "/trpc/review.list?input=%7Bnope", { auth: null }), 400, /input: not valid JSON/],
    ["POST body not JSON", () => http("POST", "/trpc/runs.create", { body: "{nope" }), 400, /input: the body is not valid JSON/],
    [
      "input without the transformer's wrapper",
      () => http("GET", `/trpc/review.bySlug?input=${encodeURIComponent(JSON.stringify({ slug: SLUG, x: 1 }))}`, { auth: null }),
      400,
      /input: expected \{/,
    ],
    [
      "an unescaped $ key",
      () => http("POST", "/trpc/runs.create", { body: JSON.stringify({ f: {}, d: { ...run("w-1"), spec: { $where: 1 } } }) }),
      400,
      /input: spec\.\$where: keys starting with/,
    ],
    [
      "a $bigint of 200 digits",
      () => http("POST", "/trpc/runs.create", { body: JSON.stringify({ f: {}, d: { ...run("w-2"), steps: { $bigint: "9".repeat(200) } } }) }),
      400,
      /\$bigint must be an integer of at most 80 digits/,
    ],
    [
      "input nested 5,000 deep",
      () => http("POST", "/trpc/runs.create", { body: `{"f":{},"d":{"spec":${"[".repeat(5_000)}${"]".repeat(5_000)}}}` }),
      400,
      /nested deeper than 64/,
    ],
    [
      "a missing figure",
      () => http("POST", "/trpc/runs.create", { body: JSON.stringify({ f: {}, d: { $fig: "constructor" } }) }),
      400,
      /referenced but not sent/,
    ],
    [
      `a batch of ${MAX_BATCH_CALLS + 1} calls`,
      () =>
        http(
          "GET",
          `/trpc/${Array(MAX_BATCH_CALLS + 1)
            .fill("review.list")
            .join(",")}?batch=1`,
          { auth: null },
        ),
      400,
      new RegExp(`batch: at most ${MAX_BATCH_CALLS} calls per request; got ${MAX_BATCH_CALLS + 1}`),
    ],
    ["an unknown procedure", () => http("GET", "/trpc/review.nothing", { auth: null }), 404, /No procedure found|not found/i],
    ["a broken percent-encoding", () => http("GET", "/trpc/%E0%A4%A", { auth: null }), 400, /path: not a valid percent-encoded/],
    ["PUT", () => http("PUT", "/trpc/review.list", { body: "{}" }), 405, /method PUT: queries are GET/],
    ["DELETE", () => http("DELETE", "/trpc/review.list"), 405, /method DELETE/],
    ["an unknown route", () => http("GET", "/admin", { auth: null }), 404, /no route \/admin/],
    ["a write without a token", () => mutate("runs.create", run("anon"), null), 401, /writes need an API token/],
    ["a write with a wrong token", () => mutate("runs.create", run("anon"), "srv_wrong"), 401, /unknown or revoked/],
    ["a slug that is not one", () => http("GET", query("review.bySlug", { slug: "../../etc/passwd" }), { auth: null }), 400, /slug/],
    [
      "a config core cannot read",
      () => mutate("modelConfig.upsert", { name: "weird", config: { model_type: "deepseek_v2", hidden_size: 1e300 } }),
      400,
      /hidden_size|model_type|config/,
    ],
    // HEAD: answered like GET, without a body
    ["HEAD a query", () => http("HEAD", "/trpc/review.list", { auth: null }), 200, /^$/],
    ["HEAD /health", () => http("HEAD", "/health", { auth: null }), 200, /^$/],
    ["HEAD an unknown procedure", () => http("HEAD", "/trpc/review.nothing", { auth: null }), 404, /^$/],
  ];

  it.each(cases)("%s", async (name, send, status, names) => {
    const answer = await send();
    const leaked = INTERNALS.test(answer.text);
    results.push({ name, status: answer.status, leaked });
    expect(answer.text).toMatch(names);
    expect(answer.status).toBe(status);
    expect(leaked, answer.text).toBe(false);
    if (answer.text) expect(answer.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("malformed Host headers and a missing Host are not 500s", async () => {
    for (const host of ["[", "a b", "%zz:99999", "::::", "xn--", ""]) {
      const header = host === "" ? "" : `Host: ${host}\r\n`;
      const { text } = await rawExchange(port(), `GET /trpc/review.list HTTP/1.1\r\n${header}Connection: close\r\n\r\n`);
      const status = statusOf(text);
      results.push({ name: `Host ${JSON.stringify(host)}`, status, leaked: INTERNALS.test(text) });
      expect(status, text).toBeGreaterThanOrEqual(200);
      expect(status, text).toBeLessThan(500);
      expect(INTERNALS.test(text)).toBe(false);
    }
  });

  it("after a 413 the connection is closed, and the next request (new connection) is answered at once", async () => {
    for (const framing of ["content-length", "chunked"] as const) {
      const chunk = "x".repeat(64 * 1024);
      const head =
        framing === "content-length"
          ? `POST /trpc/runs.create HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`
          : `POST /trpc/runs.create HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const body = framing === "content-length" ? chunk : Array.from({ length: 70 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("");
      // A keep-alive client would send its next request on the same connection: it must find it closed, not stall.
      const started = Date.now();
      const { text, closed } = await rawExchange(port(), Buffer.from(head + body), { thenSend: "GET /health HTTP/1.1\r\nHost: a\r\n\r\n" });
      results.push({ name: `413 (${framing})`, status: statusOf(text), leaked: INTERNALS.test(text) });
      expect(statusOf(text), text).toBe(413);
      expect(text).toMatch(/connection: close/i);
      expect(text).toMatch(/request body over 4194304 bytes/);
      expect(closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(8_000);
      const next = await fetch(`${api.url}/health`);
      expect(next.status).toBe(200);
    }
    expect(await api.db.trainingRun.count()).toBe(0);
  });

  it("a 500 says internal error with its request id, the log has the path and the id, the client no internals", async () => {
    const logs: FailureLog[] = [];
    // A database that cannot be reached: every query fails inside Prisma with its own (internal) text.
    const broken = createDb("postgresql://nobody@127.0.0.1:9/none?connect_timeout=1");
    const server = createApiServer({ db: broken, log: (e) => logs.push(e) });
    const url = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
    try {
      const res = await fetch(`${url}${query("review.bySlug", { slug: SLUG })}`);
      const text = await res.text();
      const id = res.headers.get("x-request-id");
      results.push({ name: "database down", status: res.status, leaked: INTERNALS.test(text) });
      expect(res.status).toBe(500);
      expect(text).toContain(`internal error (request ${id})`);
      expect(INTERNALS.test(text), text).toBe(false);
      const entry = logs.find((e) => e.requestId === id);
      expect(entry).toMatchObject({ level: "error", path: "review.bySlug", status: 500, code: "INTERNAL_SERVER_ERROR" });
      // The operator's log keeps what the client is not told.
      expect(`${entry?.message}\n${entry?.cause ?? ""}`).toMatch(/prisma|database|connect|ECONNREFUSED/i);
    } finally {
      server.close();
      await broken.$disconnect();
    }
  });

  it("every failure above was logged with its procedure path and request id", () => {
    const paths = new Set(api.logs.map((e) => e.path));
    for (const p of ["runs.create", "runs.appendSteps", "evals.record", "review.bySlug", "telemetry.cycles", "runs.steps"]) expect(paths).toContain(p);
    expect(api.logs.every((e) => /^[0-9a-f-]{36}$/.test(e.requestId))).toBe(true);
  });

  afterAll(() => {
    const fiveHundreds = results.filter((r) => r.status >= 500 && r.name !== "database down").length;
    const leaks = results.filter((r) => r.leaked).length;
    console.log(`reliability: ${results.length} bad-input requests, ${fiveHundreds} answered 5xx (besides the database-down check), ${leaks} leaked internals`);
  });
});

describe("the response cache", () => {
  const list = async (extra = "", auth: string | null = null) =>
    JSON.parse((await http("GET", `/trpc/review.list${extra}`, { auth })).text) as { result: { data: { d: { slug: string }[] } } };
  const slugs = async (extra = "", auth: string | null = null) => (await list(extra, auth)).result.data.d.map((r) => r.slug);

  it("keys on procedure and normalised input: an extra query parameter or key order does not bypass it", async () => {
    await slugs();
    const before = api.server.responseCache.size.entries;
    // Written beside the api with triggers off, so no notification clears the cache: cached readers keep the old
    // answer until a write through the api.
    const review = await api.db.review.findFirstOrThrow();
    await api.db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL session_replication_role = replica`;
      await tx.review.create({
        data: {
          slug: "cache-probe",
          title: "t",
          summary: "",
          source: "s",
          subnetId: review.subnetId,
          modelConfigId: review.modelConfigId,
          trainable: 1,
          kept: 0,
          constants: review.constants as object,
        },
      });
    });
    expect(await slugs("?x=1")).not.toContain("cache-probe");
    expect(await slugs("?x=2&batch=0")).not.toContain("cache-probe");
    expect(api.server.responseCache.size.entries).toBe(before);
    const a = await http("GET", `/trpc/review.bySlug?input=${encodeURIComponent(JSON.stringify({ f: {}, d: { slug: SLUG, experiment: undefined } }))}`, {
      auth: null,
    });
    const b = await http("GET", `/trpc/review.bySlug?input=${encodeURIComponent(JSON.stringify({ d: { slug: SLUG }, f: {} }))}&utm=1`, { auth: null });
    expect(a.text).toBe(b.text);
    expect(api.server.responseCache.size.entries).toBe(before + 1);
    // A token holder's read is never served from (or stored in) the anonymous cache.
    expect(await slugs("", token)).toContain("cache-probe");

    // A refused write (401) does not clear it; a successful write does.
    expect((await mutate("modelConfig.upsert", { name: "x", config: {} }, "srv_wrong")).status).toBe(401);
    expect(await slugs()).not.toContain("cache-probe");
    const config = (await api.db.modelConfig.findFirstOrThrow()).config as Record<string, unknown>;
    expect((await mutate("modelConfig.upsert", { name: "cache-clear", config })).status).toBe(200);
    expect(await slugs()).toContain("cache-probe");
    await api.db.review.delete({ where: { slug: "cache-probe" } });
  });

  it(`3,000 distinct anonymous GETs keep the process bounded (cache ≤ ${CACHE_BYTES / 2 ** 20} MiB)`, async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const used = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return { heap: m.heapUsed + m.external, rss: m.rss };
    };
    await mutate("runs.create", run("mem-run"));
    await mutate("runs.appendSteps", { runId: "mem-run", steps: Array.from({ length: 200 }, (_, i) => step(i + 1)) });
    await http("GET", query("review.bySlug", { slug: SLUG }), { auth: null });
    const before = used();
    const requests: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      requests.push(query("review.bySlug", { slug: SLUG, pad: i })); // distinct keys, each a whole review
      requests.push(query("runs.steps", { runId: "mem-run", afterStep: i % 200, limit: 1 + (i % 97) })); // distinct keys
      requests.push(query("review.bySlug", { slug: SLUG }, `&n=${i}`)); // one key
    }
    let fiveHundreds = 0;
    let biggest = 0;
    for (let i = 0; i < requests.length; i += 8) {
      await Promise.all(
        requests.slice(i, i + 8).map(async (path) => {
          const res = await fetch(`${api.url}${path}`);
          const body = await res.arrayBuffer();
          biggest = Math.max(biggest, body.byteLength);
          if (res.status >= 500) fiveHundreds++;
        }),
      );
      expect(api.server.responseCache.size.bytes).toBeLessThanOrEqual(CACHE_BYTES);
    }
    const after = used();
    const grewMiB = (after.heap - before.heap) / 2 ** 20;
    console.log(
      `reliability: ${requests.length} distinct anonymous GETs (largest answer ${(biggest / 1024).toFixed(0)} kB): heap+external ${(before.heap / 2 ** 20).toFixed(1)} -> ${(after.heap / 2 ** 20).toFixed(1)} MiB (+${grewMiB.toFixed(1)}), rss ${(before.rss / 2 ** 20).toFixed(0)} -> ${(after.rss / 2 ** 20).toFixed(0)} MiB, cache ${(api.server.responseCache.size.bytes / 2 ** 20).toFixed(1)} MiB in ${api.server.responseCache.size.entries} entries, ${fiveHundreds} 5xx`,
    );
    expect(fiveHundreds).toBe(0);
    // 1,000 distinct reviews alone would hold biggest × 1,000 bytes if the cache were unbounded.
    expect(biggest * 1_000).toBeGreaterThan(4 * CACHE_BYTES);
    expect(grewMiB).toBeLessThan(CACHE_BYTES / 2 ** 20 + 24);
  }, 300_000);
});

describe("tokens and private fields", () => {
  it("writes lastUsedAt at most once a minute per token", async () => {
    const secret = await api.token("stamp");
    const row = () => api.db.apiToken.findFirstOrThrow({ where: { name: "stamp" } });
    expect((await mutate("runs.create", run("stamp-1"), secret)).status).toBe(200);
    const first = (await row()).lastUsedAt;
    expect(first).not.toBeNull();
    expect((await mutate("runs.create", run("stamp-2"), secret)).status).toBe(200);
    expect((await row()).lastUsedAt).toEqual(first);
    const old = new Date(Date.now() - 61_000);
    await api.db.apiToken.updateMany({ where: { name: "stamp" }, data: { lastUsedAt: old } });
    expect((await mutate("runs.create", run("stamp-3"), secret)).status).toBe(200);
    expect((await row()).lastUsedAt!.getTime()).toBeGreaterThan(old.getTime() + 60_000);
  });

  it("public reads carry no machine paths or raw error text; a token sees them", async () => {
    const spec = {
      model: "/srv/models/DeepSeek-V2-Lite",
      data: "/home/alice/sft.jsonl",
      tokenizer: "/srv/models/DeepSeek-V2-Lite",
      trainableExperts: "/home/alice/experts.json",
      batch: 4,
      note: "see https://example.org/a/b and tokens/s",
    };
    expect((await mutate("runs.create", run("private-1", { spec, experiment: { name: "private-exp", description: "d" } }))).status).toBe(200);
    const error = 'Traceback (most recent call last):\n  File "/home/alice/repo/worker/train.py", line 3\nRuntimeError: CUDA out of memory';
    expect(
      (
        await mutate("runs.finish", {
          runId: "private-1",
          status: "failed",
          error,
          finishedAt: new Date().toISOString(),
          wallclockSeconds: 1,
          peakMemoryBytes: null,
          tokensPerSecond: null,
          mfu: null,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await mutate("evals.record", {
          results: [evalRow({ model: "/srv/merged/private-1", runId: "private-1", step: 1, samplesPath: "/home/alice/evals/gsm8k.jsonl" })],
        })
      ).status,
    ).toBe(200);

    const reads = [
      query("runs.byExperiment", { name: "private-exp" }),
      query("evals.byRun", { runId: "private-1" }),
      query("evals.byModel", { model: "/srv/merged/private-1" }),
    ];
    for (const path of reads) {
      const anonymous = (await http("GET", path, { auth: null })).text;
      expect(anonymous).not.toMatch(/\/srv\/|\/home\/|alice\/|Traceback/);
      const holder = (await http("GET", path)).text;
      expect(holder).toMatch(/\/srv\/|\/home\/alice/);
    }
    const anonymousRuns = JSON.parse((await http("GET", reads[0]!, { auth: null })).text) as {
      result: { data: { d: { runs: { error: string; spec: typeof spec }[] } } };
    };
    const shown = anonymousRuns.result.data.d.runs[0]!;
    expect(shown.error).toBe(HIDDEN_ERROR);
    expect(shown.spec).toMatchObject({
      model: "DeepSeek-V2-Lite",
      data: "sft.jsonl",
      trainableExperts: "experts.json",
      batch: 4,
      note: "see https://example.org/a/b and tokens/s",
    });
    const evals = JSON.parse((await http("GET", reads[1]!, { auth: null })).text) as {
      result: { data: { d: { samplesPath: string | null; model: string }[] } };
    };
    expect(evals.result.data.d[0]).toMatchObject({ samplesPath: null, model: "private-1" });
  });

  it("user JSON with keys named like the transformer's tags round-trips through a write and a read", async () => {
    const spec = { $date: "2026-01-01", $bigint: "12", $fig: "params.total", $$x: { $: [1, { $date: null }] }, batch: 4 };
    expect((await mutate("runs.create", run("tags-1", { spec, experiment: { name: "tags-exp", description: "d" } }))).status).toBe(200);
    const stored = await api.db.trainingRun.findUniqueOrThrow({ where: { id: "tags-1" } });
    expect(stored.spec).toEqual(spec);
    const res = await fetch(`${api.url}${query("runs.byExperiment", { name: "tags-exp" })}`, { headers: { authorization: `Bearer ${token}` } });
    const { deserializeFigures } = await import("@subnet-review/core");
    const body = (await res.json()) as { result: { data: unknown } };
    const data = deserializeFigures(body.result.data) as { runs: { spec: unknown }[] };
    expect(data.runs[0]!.spec).toEqual(spec);
  });
});
