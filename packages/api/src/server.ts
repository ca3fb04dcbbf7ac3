import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { serializeFigures } from "@subnet-review/core";
import type { DataChangesOptions, Db } from "@subnet-review/db";
import { fastQueryResponse } from "./query-fast-path.ts";
import { ResponseCache, type CachedResponse } from "./response-cache.ts";
import { SerialisedAnswers } from "./serialised-answers.ts";
import { appRouter } from "./root.ts";
import { createContext, INTERNAL_ERROR } from "./trpc.ts";
import { dataVersionOf } from "./view/data-version.ts";

/** One failure, as logged: a line of JSON on stderr unless ApiServerOptions.log says otherwise. */
export interface FailureLog {
  level: "warn" | "error";
  requestId: string;
  /** The procedure path(s), e.g. "runs.appendSteps", or the HTTP path when no procedure was reached. */
  path: string;
  method: string;
  status: number;
  code: string;
  /** The full message, internals included: for the operator, never sent to the client. */
  message: string;
  cause?: string;
}

export interface ApiServerOptions {
  db: Db;
  /** Origins allowed to call the API from a browser (the web app's origin); "*" allows any. */
  corsOrigin?: string | undefined;
  /** Bytes of cached public responses this server keeps (default 32 MiB). */
  cacheBytes?: number;
  /**
   * How long a cached response is served (default 2 s). Writes by other processes clear it when their notification
   * arrives; the TTL bounds how long they show late while notifications are not live (see view/data-version.ts).
   */
  cacheTtlMs?: number;
  /** How the server listens for other processes' writes (probe, heartbeat, reconnection; tests slow reconnection). */
  dataChanges?: DataChangesOptions;
  /** A token's lastUsedAt is written at most this often (default a minute; bench/api-writes.ts compares 0). */
  lastUsedEveryMs?: number;
  /** Where failures go (default: one JSON line each on stderr). */
  log?: (entry: FailureLog) => void;
  /**
   * Anonymous GETs of queries skip tRPC's fetch adapter (query-fast-path.ts; default true). False sends every request
   * through the adapter: the tests compare the two answers.
   */
  queryFastPath?: boolean;
}

export type ApiServer = Server & { responseCache: ResponseCache };

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Calls in one batched request: more is a 400 naming the limit. */
export const MAX_BATCH_CALLS = 16;
const CACHE_TTL_MS = 2_000;

/**
 * Public queries whose anonymous answers are cached: the same for every anonymous reader, small, and asked often.
 * Anything else (new procedures included) is answered fresh every time.
 */
export const cachedQueries: ReadonlySet<string> = new Set([
  "review.list",
  "review.bySlug",
  "modelConfig.list",
  "runs.byExperiment",
  "runs.steps",
  "evals.byRun",
  "evals.byModel",
  "evals.tasks",
  "telemetry.cycles",
]);

/** The request headers tRPC's fetch adapter reads. */
const TRPC_HEADERS = ["content-type", "accept", "trpc-accept"];

class BodyTooLarge extends Error {}

/** A failure answered here, before or around tRPC, in tRPC's error shape (so clients read it like any other). */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

const jsonRpcCodes: Record<string, number> = {
  BAD_REQUEST: -32600,
  PAYLOAD_TOO_LARGE: -32413,
  METHOD_NOT_SUPPORTED: -32405,
  NOT_FOUND: -32004,
  INTERNAL_SERVER_ERROR: -32603,
};

function errorBody(failure: HttpFailure, requestId: string, path: string | null): Buffer {
  const shape = {
    message: failure.message,
    code: jsonRpcCodes[failure.code] ?? -32603,
    data: {
      code: failure.code,
      httpStatus: failure.status,
      path,
      requestId,
      fields: failure.field ? [{ path: failure.field, message: failure.message }] : null,
    },
  };
  return Buffer.from(JSON.stringify({ error: serializeFigures(shape) }));
}

/** Reads the body, up to MAX_BODY_BYTES; beyond, stops listening (the caller answers 413 and closes). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off("data", onData);
        req.pause();
        return reject(new BodyTooLarge());
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/** JSON with object keys sorted, so equal inputs give equal cache keys whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

interface TrpcCall {
  /** Procedure paths, in batch order. */
  paths: string[];
  batch: boolean;
  /** The canonical `input` query parameter of a GET (null when absent). */
  input: string | null;
}

/** Reads /trpc/<paths>?batch=1&input=...: the procedures, the batch cap and the input's JSON, checked here. */
function trpcCall(url: URL, method: string): TrpcCall {
  let pathPart: string;
  try {
    pathPart = decodeURIComponent(url.pathname.slice("/trpc/".length));
  } catch {
    throw new HttpFailure(400, "BAD_REQUEST", "path: not a valid percent-encoded procedure path", "path");
  }
  const batch = url.searchParams.get("batch") === "1";
  const paths = batch ? pathPart.split(",") : [pathPart];
  if (paths.length > MAX_BATCH_CALLS) {
    throw new HttpFailure(400, "BAD_REQUEST", `batch: at most ${MAX_BATCH_CALLS} calls per request; got ${paths.length}`, "batch");
  }
  let input: string | null = null;
  const raw = url.searchParams.get("input");
  if (raw !== null && method !== "POST") {
    try {
      input = canonicalJson(JSON.parse(raw));
    } catch {
      throw new HttpFailure(400, "BAD_REQUEST", "input: not valid JSON", "input");
    }
  }
  return { paths, batch, input };
}

/** Runs one tRPC request through the fetch adapter and buffers the answer, so it can be cached and replayed. */
async function trpcResponse(
  opts: ApiServerOptions,
  log: (entry: FailureLog) => void,
  req: IncomingMessage,
  call: TrpcCall,
  body: string | undefined,
  requestId: string,
): Promise<CachedResponse> {
  // Only the headers tRPC reads (the body's type, streaming asked for) travel on; the context reads authorization.
  const headers = new Headers();
  for (const name of TRPC_HEADERS) {
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
  }
  // Only what tRPC reads travels on: an extra query parameter neither changes the answer nor its cache key. The
  // host is fixed: a malformed Host header is no reason to fail.
  const query = new URLSearchParams();
  if (call.batch) query.set("batch", "1");
  if (call.input !== null) query.set("input", call.input);
  const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
  const request = new Request(`http://api.local/trpc/${call.paths.map(encodeURIComponent).join(",")}?${query}`, {
    method,
    headers,
    // tRPC bodies are JSON text; a string is a BodyInit under Node's and the DOM's typings alike.
    ...(body !== undefined && method !== "GET" ? { body } : {}),
  });
  // Answers are spliced in serialised unless the client asked for a stream (which this server does not offer).
  const streamed = [req.headers.accept, req.headers["trpc-accept"]].some((h) => h?.includes("jsonl"));
  const serialised = streamed ? undefined : new SerialisedAnswers();
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req: request,
    router: appRouter,
    allowBatching: true,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: () => createContext(opts.db, { authorization: req.headers.authorization }, requestId, opts.lastUsedEveryMs, serialised),
    onError({ error, path }) {
      const status = getHTTPStatusCodeFromError(error);
      log({
        level: status >= 500 ? "error" : "warn",
        requestId,
        path: path ?? call.paths.join(","),
        method: req.method ?? "GET",
        status,
        code: error.code,
        message: error.message,
        ...(status >= 500 && error.cause ? { cause: String(error.cause.stack ?? error.cause) } : {}),
      });
    },
  });
  const answer = Buffer.from(await response.arrayBuffer());
  // The body is buffered whole and sent with its length: a streamed answer's Transfer-Encoding must not travel with
  // it (both at once is a response Node's own HTTP client refuses to parse).
  const answerHeaders = Object.fromEntries(response.headers);
  delete answerHeaders["transfer-encoding"];
  return {
    status: response.status,
    headers: answerHeaders,
    body: serialised ? serialised.splice(answer) : answer,
  };
}

const writeLine = (entry: FailureLog) => process.stderr.write(`${JSON.stringify(entry)}\n`);

/**
 * The HTTP server apps/api runs: tRPC under /trpc, a liveness and database check at /health.
 * Anonymous GETs of the cached queries are answered from a short-lived cache bounded in bytes; a write through the
 * api clears it, and so does any other process's once its notification arrives. Every failure is logged with its
 * request id, which the client gets in `x-request-id`.
 */
export function createApiServer(opts: ApiServerOptions): ApiServer {
  const cache = new ResponseCache(opts.cacheTtlMs ?? CACHE_TTL_MS, opts.cacheBytes ?? 32 * 1024 * 1024);
  const log = opts.log ?? writeLine;
  const fastPath = opts.queryFastPath ?? true;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    res.setHeader("x-request-id", requestId);
    if (opts.corsOrigin) {
      res.setHeader("access-control-allow-origin", opts.corsOrigin);
      res.setHeader("access-control-allow-headers", "authorization, content-type");
      res.setHeader("access-control-expose-headers", "x-request-id");
      if (req.method === "OPTIONS") return void res.writeHead(204).end();
    }
    const method = req.method ?? "GET";
    let pathname = (req.url ?? "/").split("?")[0]!;
    let procedures: string | null = null;
    try {
      // The host is not ours to trust or parse: only the path and query are read.
      const url = new URL(req.url ?? "/", "http://api.local");
      pathname = url.pathname;
      if (url.pathname === "/health") return await health(opts.db, res);
      if (!url.pathname.startsWith("/trpc/"))
        throw new HttpFailure(404, "NOT_FOUND", `no route ${url.pathname}: the api answers /trpc/<procedure> and /health`);
      if (method !== "GET" && method !== "HEAD" && method !== "POST") {
        throw new HttpFailure(405, "METHOD_NOT_SUPPORTED", `method ${method}: queries are GET (or HEAD), mutations POST`);
      }
      const call = trpcCall(url, method);
      procedures = call.paths.join(",");
      let answer: CachedResponse;
      if (method === "POST") {
        const body = (await readBody(req)).toString("utf8");
        try {
          if (body) JSON.parse(body);
        } catch {
          throw new HttpFailure(400, "BAD_REQUEST", "input: the body is not valid JSON", "input");
        }
        answer = await trpcResponse(opts, log, req, call, body, requestId);
      } else {
        // The fast path answers what it can exactly as the adapter would; the rest (errors included) goes through it.
        const read = async () =>
          (fastPath ? await fastQueryResponse(opts.db, call, req.headers, requestId, opts.lastUsedEveryMs) : null) ??
          (await trpcResponse(opts, log, req, call, undefined, requestId));
        if (!req.headers.authorization && call.paths.every((p) => cachedQueries.has(p))) {
          answer = await cache.get(`${call.batch ? "batch:" : ""}${procedures}?${call.input ?? ""}`, read);
        } else {
          answer = await read();
        }
      }
      // The length up front: the whole body is at hand, so no chunked framing (a 204, to HEAD, has none).
      if (answer.status !== 204) res.setHeader("content-length", answer.body.length);
      res.writeHead(answer.status, answer.headers).end(answer.body);
    } catch (err) {
      const failure =
        err instanceof HttpFailure
          ? err
          : err instanceof BodyTooLarge
            ? new HttpFailure(413, "PAYLOAD_TOO_LARGE", `request body over ${MAX_BODY_BYTES} bytes`)
            : new HttpFailure(500, "INTERNAL_SERVER_ERROR", `${INTERNAL_ERROR} (request ${requestId})`);
      log({
        level: failure.status >= 500 ? "error" : "warn",
        requestId,
        path: procedures ?? pathname,
        method,
        status: failure.status,
        code: failure.code,
        message: failure.status >= 500 ? String((err as Error)?.stack ?? err) : failure.message,
      });
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyTooLarge) {
        // The rest of the body is still on its way: answer, close our side, and drain what comes (for at most 5 s)
        // so the client reads the 413 instead of a reset, and opens a new connection for its next request.
        res.setHeader("connection", "close");
        res.once("finish", () => {
          req.resume();
          setTimeout(() => req.socket.destroy(), 5_000).unref();
        });
      }
      res.writeHead(failure.status, { "content-type": "application/json" }).end(errorBody(failure, requestId, procedures));
    }
  });
  // While the server is open its database's writes are learnt by notification (no query per read), and each one
  // clears the response cache.
  const dataVersion = dataVersionOf(opts.db);
  const release = dataVersion.retain(opts.dataChanges);
  const unsubscribe = dataVersion.subscribe(() => cache.clear());
  server.once("close", () => {
    unsubscribe();
    void release();
    cache.close();
  });
  return Object.assign(server, { responseCache: cache });
}

async function health(db: Db, res: ServerResponse): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, database: "up" }));
  } catch {
    res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, database: "down" }));
  }
}

// Defined in core beside the other helpers of a Node process, so the web server (which must not load the api) uses them too.
export { drainAndClose, listen } from "@subnet-review/core/node";
