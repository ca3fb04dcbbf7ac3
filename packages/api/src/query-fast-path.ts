import type { IncomingHttpHeaders } from "node:http";
import type { Db } from "@subnet-review/db";
import { type AnyTRPCProcedure, transformTRPCResponse } from "@trpc/server";
import type { CachedResponse } from "./response-cache.ts";
import { appRouter } from "./root.ts";
import { SerialisedAnswers } from "./serialised-answers.ts";
import { createCallerFactory, createContext } from "./trpc.ts";

/** A GET of /trpc/<paths>, as server.ts reads it: the procedures in batch order and the input's canonical JSON. */
export interface QueryCall {
  paths: readonly string[];
  batch: boolean;
  input: string | null;
}

/** What tRPC's fetch adapter answers a successful, non-streamed call with (resolveResponse), in the order it sends. */
const ANSWER_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json", vary: "trpc-accept, accept" };

const createCaller = createCallerFactory(appRouter);
const config = appRouter._def._config;
/** Every procedure by its dotted path: tRPC keeps them flat at run time, though typed as the nested record. */
const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;

/** A node of the caller's proxy: a router (indexed by name) or a procedure (called with its input). */
type CallerNode = ((input: unknown) => Promise<unknown>) & { [name: string]: CallerNode };

const isQuery = (path: string) => Object.hasOwn(procedures, path) && procedures[path]!._def.type === "query";

/** Whether the request is one the fast path answers as the adapter would: anonymous, JSON (no stream asked), queries. */
function fastPathFits(call: QueryCall, headers: IncomingHttpHeaders): boolean {
  const contentType = headers["content-type"];
  return (
    headers.authorization === undefined &&
    (contentType === undefined || contentType === "application/json") &&
    headers["trpc-accept"] === undefined &&
    !headers.accept?.includes("jsonl") &&
    call.paths.every(isQuery)
  );
}

/**
 * Each call's input, read as tRPC's JSON content handler reads a GET's (one input, or an object keyed by batch
 * index) and passed through the router's input transformer; null where the adapter would refuse the shape.
 */
function callInputs(call: QueryCall): unknown[] | null {
  if (call.input === null) return call.paths.map(() => undefined);
  const raw: unknown = JSON.parse(call.input);
  const deserialize = (value: unknown) => (value === undefined ? undefined : config.transformer.input.deserialize(value));
  if (!call.batch) return [deserialize(raw)];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  return call.paths.map((_path, index) => deserialize((raw as Record<string, unknown>)[index]));
}

/**
 * An anonymous GET of queries answered without tRPC's fetch adapter, whose Request, Headers, AbortSignals and
 * Response were about 40% of an uncached read's CPU time. Every call still runs through tRPC, by its server-side
 * caller: the same router, context, middleware (the public view, the serialised answer), zod input and output, and
 * transformer; only the envelope around the answers is written here, by tRPC's own transformTRPCResponse, so the
 * bytes and headers are the adapter's (test/query-fast-path.test.ts compares them for every public query).
 * Returns null, having answered nothing, for anything else and on any failure (a NOT_FOUND, a bad input): the
 * caller then runs the whole request through the adapter, so error answers and their logging stay tRPC's.
 */
export async function fastQueryResponse(
  db: Db,
  call: QueryCall,
  headers: IncomingHttpHeaders,
  requestId: string,
  lastUsedEveryMs: number | undefined,
): Promise<CachedResponse | null> {
  if (!fastPathFits(call, headers)) return null;
  const serialised = new SerialisedAnswers();
  const caller = createCaller(createContext(db, {}, requestId, lastUsedEveryMs, serialised)) as unknown as CallerNode;
  let results: unknown[];
  try {
    const inputs = callInputs(call);
    if (inputs === null) return null;
    const procedureAt = (path: string) => path.split(".").reduce((node, name) => node[name] as CallerNode, caller);
    results = await Promise.all(call.paths.map((path, index) => procedureAt(path)(inputs[index])));
  } catch {
    return null;
  }
  const items = results.map((data) => ({ result: { data } }));
  const envelope = JSON.stringify(transformTRPCResponse(config, call.batch ? items : items[0]!));
  return { status: 200, headers: { ...ANSWER_HEADERS }, body: serialised.splice(Buffer.from(envelope)) };
}
