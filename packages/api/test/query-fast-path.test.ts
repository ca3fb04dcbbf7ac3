import { request } from "node:http";
import { serializeFigures } from "@subnet-review/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fastQueryResponse } from "../src/query-fast-path.ts";
import { appRouter } from "../src/root.ts";
import { createApiServer, listen, type ApiServer, type FailureLog } from "../src/server.ts";
import { startTestApi, type TestApi } from "../src/testing.ts";

// The fast path (query-fast-path.ts) must answer exactly what tRPC's fetch adapter answers: every public query,
// single and batched, is asked of two servers on one database, the api as it runs and one forced through the
// adapter, and their status lines, headers (in order) and bodies compared. Errors must reach the adapter.

// Wrapped, so each test can see whether the server's fast path answered (an object) or handed over (null).
vi.mock("../src/query-fast-path.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../src/query-fast-path.ts")>();
  return { ...original, fastQueryResponse: vi.fn(original.fastQueryResponse) };
});

const SLUG = "subnet-102-status-review";
const EXPERIMENT = "esft-cells-gsm8k";
const RUN = "run-fast-path";
const MODEL = "deepseek-v2-lite";
const CYCLE = { netuid: 102, firstBlock: 524 * 15_700, length: 524 };

let api: TestApi;
let adapter: ApiServer;
let adapterUrl: string;
const adapterLogs: FailureLog[] = [];

beforeAll(async () => {
  // No response cache on either: every request runs its path.
  api = await startTestApi({ cacheTtlMs: 0 });
  adapter = createApiServer({ db: api.db, cacheTtlMs: 0, queryFastPath: false, log: (entry) => adapterLogs.push(entry) });
  adapterUrl = `http://127.0.0.1:${await listen(adapter, 0, "127.0.0.1")}`;
  // Something in every table a query reads, written as the trainer and the evaluator write it (the api).
  const writer = api.client(await api.token("fast-path"));
  const startedAt = "2026-11-30T10:00:00.000Z";
  await writer.runs.create.mutate({
    ...{ id: RUN, cell: "A", trainable: 8, kept: 0, steps: 2, spec: {}, experts: null, hardware: null, gitCommit: null },
    ...{ experiment: { name: EXPERIMENT, description: "fast path" }, startedAt },
  });
  const step = (n: number) => ({
    ...{ step: n, loss: 2.5 - n / 10, gradNorm: 1, lr: 1e-5, tokens: 4096, tokensPerSecond: 1000 },
    ...{ stepSeconds: 4.1, memAllocatedBytes: 2 ** 33, memPeakBytes: null },
  });
  await writer.runs.appendSteps.mutate({ runId: RUN, steps: [step(1), step(2)] });
  await writer.runs.finish.mutate({
    ...{ runId: RUN, status: "completed", error: null, finishedAt: "2026-11-30T10:01:00.000Z", wallclockSeconds: 60 },
    ...{ peakMemoryBytes: 2 ** 34, tokensPerSecond: 1000, mfu: null },
  });
  await writer.evals.record.mutate({
    results: [{ model: MODEL, runId: RUN, step: 2, task: "gsm8k_cot", metric: "strict-match", value: 0.5, stderr: 0.01, n: 1319 }],
  });
  // Chain cycles have no api write (the ingest stores them): one row as the ingest's PgStore writes it.
  const hash = (block: number) => `0x${block.toString(16).padStart(64, "0")}`;
  const { firstBlock } = CYCLE;
  await api.db.chainCycle.create({
    data: {
      ...{ ...CYCLE, cycle: 15_700, scheduleKey: "0:20/300/12/12/90/10/56/12/12", lastBlock: firstBlock + 523 },
      ...{ firstBlockHash: hash(firstBlock), lastBlockHash: hash(firstBlock + 523), commitReadBlock: firstBlock + 332 },
      ...{ commitReadHash: hash(firstBlock + 332), windowEndBlock: firstBlock + 343, windowEndHash: hash(firstBlock + 343) },
      ...{ readBlock: firstBlock + 344, readBlockHash: hash(firstBlock + 344), registeredNeurons: 256, rpcRequests: 3, rpcCalls: 31 },
      phases: [{ phase: "MinerCommit1", start: firstBlock + 320, end: firstBlock + 331 }],
      schedule: { fromBlock: 0, phases: {}, source: "test" },
      ...{ committedMiners: 1, committedDefinition: "committed-in-miner-commit-windows" },
      ...{ acceptedMiners: 1, acceptedDefinition: "accepted-by-validator-rules" },
      miners: {
        create: [
          {
            ...{ hotkey: "5Accepted", uid: 7, commitBlock: firstBlock + 325, commitPhase: "MinerCommit1", payloadKind: "signed-hash" },
            ...{ payload: '{"m":"ab"}', submissionBlock: firstBlock + 344, committed: true, accepted: true, rejection: null },
          },
        ],
      },
    },
  });
}, 60_000);
afterAll(async () => {
  adapter?.close();
  adapter?.closeAllConnections();
  await api?.stop();
});

type Call = [path: string, input?: unknown];

/** Every public query with an input that finds something (the test below checks none is missing). */
const QUERIES: Call[] = [
  ["review.list"],
  ["review.bySlug", { slug: SLUG }],
  ["review.bySlug", { slug: SLUG, experiment: EXPERIMENT }],
  ["review.dataVersion"],
  ["modelConfig.list"],
  ["runs.byExperiment", { name: EXPERIMENT }],
  ["runs.steps", { runId: RUN }],
  ["evals.byRun", { runId: RUN }],
  ["evals.byModel", { model: MODEL }],
  ["evals.tasks"],
  ["telemetry.cycles", { netuid: 102 }],
  ["telemetry.cycle", CYCLE],
];

const wire = (value: unknown) => serializeFigures(value);

/** The URL a tRPC client asks for these calls with (httpLink for one, httpBatchLink for a batch). */
function urlOf(calls: Call[], batch: boolean): string {
  const paths = calls.map(([path]) => path).join(",");
  if (!batch) {
    const input = calls[0]![1];
    return `/trpc/${paths}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(wire(input)))}`}`;
  }
  const inputs = Object.fromEntries(calls.flatMap(([, input], i) => (input === undefined ? [] : [[i, wire(input)]])));
  return `/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;
}

interface Exchange {
  status: number;
  /** Raw header lines in the order sent, less those that differ per request (date, request id). */
  headers: string[];
  /** With the request id (error bodies name it) replaced, so two requests' bodies compare. */
  body: string;
}

function exchange(base: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: opts.method ?? "GET", headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const requestId = String(res.headers["x-request-id"]);
        const lines: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]!.toLowerCase()}: ${res.rawHeaders[i + 1]}`);
        resolve({
          status: res.statusCode ?? 0,
          headers: lines.filter((l) => !l.startsWith("date:") && !l.startsWith("x-request-id:")),
          body: Buffer.concat(chunks).toString("utf8").replaceAll(requestId, "<request id>"),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const fastPath = vi.mocked(fastQueryResponse);

/** Asks both servers; returns the two answers and what the fast path made of the api's request. */
async function both(path: string, opts: Parameters<typeof exchange>[2] = {}) {
  fastPath.mockClear();
  const fast = await exchange(api.url, path, opts);
  const answered = fastPath.mock.results.length === 1 ? await fastPath.mock.results[0]!.value : "not asked";
  return { fast, adapter: await exchange(adapterUrl, path, opts), answered };
}

describe("the query fast path", () => {
  it("is tried for every query the router has (a new query needs a case here)", () => {
    const queries = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
      .filter(([, procedure]) => procedure._def.type === "query")
      .map(([path]) => path);
    expect(new Set(QUERIES.map(([path]) => path))).toEqual(new Set(queries));
  });

  it.each(QUERIES.map((call) => [call[0], call[1] ?? null, call] as const))("answers %s (input %j) as the adapter does", async (_p, _i, call) => {
    for (const batch of [false, true]) {
      const { fast, adapter: expected, answered } = await both(urlOf([call], batch));
      expect(answered, "the fast path answered").not.toBeNull();
      expect(expected.status).toBe(200);
      expect(fast).toEqual(expected);
    }
  });

  it("answers a batch of every query, and one asking the same review twice, as the adapter does", async () => {
    for (const calls of [QUERIES, [QUERIES[1]!, QUERIES[0]!, QUERIES[1]!]]) {
      const { fast, adapter: expected, answered } = await both(urlOf(calls, true));
      expect(answered).not.toBeNull();
      expect(expected.status).toBe(200);
      expect(JSON.parse(expected.body)).toHaveLength(calls.length);
      expect(fast).toEqual(expected);
    }
  });

  it("answers HEAD and a GET sent with content-type application/json as the adapter does", async () => {
    const path = urlOf([QUERIES[1]!], false);
    for (const opts of [{ method: "HEAD" }, { headers: { "content-type": "application/json" } }]) {
      const { fast, adapter: expected, answered } = await both(path, opts);
      expect(answered).not.toBeNull();
      expect(fast).toEqual(expected);
    }
  });

  const handedOver: [string, string, Parameters<typeof exchange>[2], number][] = [
    ["an unknown review (NOT_FOUND)", urlOf([["review.bySlug", { slug: "no-such-review" }]], false), {}, 404],
    ["a malformed slug (BAD_REQUEST)", urlOf([["review.bySlug", { slug: "Not A Slug" }]], false), {}, 400],
    ["input the transformer refuses", `/trpc/review.bySlug?input=${encodeURIComponent('{"f":[],"d":{}}')}`, {}, 400],
    ["a batch with one failing call", urlOf([QUERIES[0]!, ["review.bySlug", { slug: "no-such-review" }]], true), {}, 207],
    ["a batch whose input is not an object", `/trpc/review.list,review.list?batch=1&input=${encodeURIComponent("[1]")}`, {}, 400],
    ["an unknown procedure", urlOf([["review.nothing"]], false), {}, 404],
    ["a mutation by GET", urlOf([["runs.finish", { runId: RUN }]], false), {}, 405],
    ["a batch mixing a query and a mutation", urlOf([QUERIES[0]!, ["runs.finish", { runId: RUN }]], true), {}, 400],
    ["a stream asked of one call", urlOf([QUERIES[0]!], false), { headers: { "trpc-accept": "application/jsonl" } }, 400],
    ["a stream asked by Accept", urlOf([QUERIES[0]!], false), { headers: { accept: "application/jsonl" } }, 400],
    // answered whole with its length and no Transfer-Encoding (both at once: Node's client refuses to parse it)
    ["a stream asked of a batch", urlOf([QUERIES[0]!], true), { headers: { "trpc-accept": "application/jsonl" } }, 200],
    ["another content type", urlOf([QUERIES[0]!], false), { headers: { "content-type": "text/plain" } }, 200],
  ];

  it.each(handedOver)("hands %s to the adapter, whose answer and log line it is", async (_what, path, opts, status) => {
    const logged = api.logs.length;
    const adapterLogged = adapterLogs.length;
    const { fast, adapter: expected, answered } = await both(path, opts);
    expect(answered).toBeNull();
    expect(expected.status).toBe(status);
    expect(fast).toEqual(expected);
    const without = ({ requestId: _r, ...entry }: FailureLog) => entry;
    expect(api.logs.slice(logged).map(without)).toEqual(adapterLogs.slice(adapterLogged).map(without));
  });

  it("leaves a token holder's read to the adapter (private fields, the token checked)", async () => {
    const token = await api.token("fast-path-reader");
    const { fast, adapter: expected, answered } = await both(urlOf([QUERIES[1]!], false), { headers: { authorization: `Bearer ${token}` } });
    expect(answered).toBeNull();
    expect(expected.status).toBe(200);
    expect(fast).toEqual(expected);
  });
});
