import { z } from "zod";
import { backoffDelayMs, type BackoffOptions } from "@subnet-review/core";
import { RateLimiter } from "./rate-limit.ts";
import {
  blockHashSchema,
  headerSchema,
  jsonRpcResponseSchema,
  runtimeVersionSchema,
  storageChangeSetsSchema,
  storageKeysSchema,
  storageValueSchema,
  type BlockHash,
  type Header,
  type JsonRpcRequest,
  type RuntimeVersion,
} from "./rpc-schemas.ts";
import { httpTransport, RetryableTransportError, wsTransport, type RpcTransport } from "./transport.ts";

export const rpcClientOptionsSchema = z.object({
  url: z.string().regex(/^(wss?|https?):\/\//, "url must start with ws://, wss://, http:// or https://"),
  /** null: unthrottled. */
  requestsPerMinute: z.number().positive().nullable().default(null),
  maxRetries: z.number().int().nonnegative().default(8),
  backoffBaseMs: z.number().positive().default(250),
  backoffMaxMs: z.number().positive().default(10_000),
  timeoutMs: z.number().int().positive().default(30_000),
});
export type RpcClientOptions = z.input<typeof rpcClientOptionsSchema>;

export interface RpcCall<T> {
  method: string;
  params: unknown[];
  schema: z.ZodType<T, unknown>;
}

type Results<Calls extends readonly RpcCall<unknown>[]> = { [K in keyof Calls]: Calls[K] extends RpcCall<infer T> ? T : never };

export interface RpcStats {
  /** HTTP requests or WebSocket frames sent (one per batch), retries included. */
  roundTrips: number;
  /** JSON-RPC calls sent (every call inside a batch), retries included: what public nodes' rate limits meter. */
  calls: number;
  retries: number;
}

export const newRpcStats = (): RpcStats => ({ roundTrips: 0, calls: 0, retries: 0 });

export class RpcError extends Error {
  readonly code: number;
  constructor(method: string, code: number, message: string) {
    super(`${method} failed: JSON-RPC error ${code}: ${message}`);
    this.name = "RpcError";
    this.code = code;
  }
}

export const call = <T>(method: string, params: unknown[], schema: z.ZodType<T, unknown>): RpcCall<T> => ({ method, params, schema });

/** Substrate JSON-RPC over WebSocket or HTTP: batched, rate-limited, retried with backoff, validated with zod. */
export class SubstrateRpc {
  readonly stats: RpcStats = { roundTrips: 0, calls: 0, retries: 0 };
  private readonly transport: RpcTransport;
  private readonly limiter: RateLimiter;
  private readonly options: z.output<typeof rpcClientOptionsSchema>;
  private readonly backoff: BackoffOptions;
  private nextId = 1;

  constructor(options: RpcClientOptions) {
    const parsed = rpcClientOptionsSchema.safeParse(options);
    if (!parsed.success) throw new Error(`invalid RPC client options: ${z.prettifyError(parsed.error)}`);
    this.options = parsed.data;
    this.transport = /^wss?:/.test(this.options.url) ? wsTransport(this.options.url) : httpTransport(this.options.url);
    this.limiter = new RateLimiter(this.options.requestsPerMinute);
    this.backoff = { baseMs: this.options.backoffBaseMs, maxMs: this.options.backoffMaxMs };
  }

  /** Sends the calls as one JSON-RPC batch; results come back in call order, matched by id. */
  /** `meter`, when given, counts this batch too (per-cycle figures while other cycles share the client). */
  async batch<const Calls extends readonly RpcCall<unknown>[]>(calls: Calls, meter?: RpcStats): Promise<Results<Calls>> {
    if (calls.length === 0) return [] as unknown as Results<Calls>;
    for (let attempt = 0; ; attempt++) {
      const requests: JsonRpcRequest[] = calls.map((c) => ({ jsonrpc: "2.0", id: this.nextId++, method: c.method, params: c.params }));
      await this.limiter.acquire(requests.length);
      for (const stats of meter ? [this.stats, meter] : [this.stats]) {
        stats.roundTrips++;
        stats.calls += requests.length;
      }
      let replies: unknown[];
      try {
        replies = await this.transport.send(requests, this.options.timeoutMs);
      } catch (error) {
        if (!(error instanceof RetryableTransportError) || attempt >= this.options.maxRetries) throw error;
        this.stats.retries++;
        if (meter) meter.retries++;
        await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, this.backoff, error.retryAfterMs)));
        continue;
      }
      return this.matchReplies(calls, requests, replies);
    }
  }

  private matchReplies<const Calls extends readonly RpcCall<unknown>[]>(calls: Calls, requests: JsonRpcRequest[], replies: unknown[]): Results<Calls> {
    const byId = new Map<number, z.infer<typeof jsonRpcResponseSchema>>();
    for (const raw of replies) {
      const reply = jsonRpcResponseSchema.safeParse(raw);
      if (!reply.success) throw new Error(`malformed JSON-RPC reply: ${z.prettifyError(reply.error)}`);
      if (reply.data.id !== null) byId.set(reply.data.id, reply.data);
      else if ("error" in reply.data) throw new RpcError("batch", reply.data.error.code, reply.data.error.message);
    }
    return requests.map((request, i) => {
      const reply = byId.get(request.id);
      if (!reply) throw new Error(`no reply for ${request.method} (id ${request.id}) in the batch`);
      if ("error" in reply) throw new RpcError(request.method, reply.error.code, reply.error.message);
      const result = calls[i]!.schema.safeParse(reply.result);
      if (!result.success) throw new Error(`${request.method} returned an unexpected result: ${z.prettifyError(result.error)}`);
      return result.data;
    }) as unknown as Results<Calls>;
  }

  async call<T>(method: string, params: unknown[], schema: z.ZodType<T, unknown>): Promise<T> {
    const [result] = await this.batch([call(method, params, schema)] as const);
    return result;
  }

  finalizedHead(): Promise<BlockHash> {
    return this.call("chain_getFinalizedHead", [], blockHashSchema);
  }

  header(hash: BlockHash): Promise<Header> {
    return this.call("chain_getHeader", [hash], headerSchema);
  }

  /** Finalized head as { hash, number }. */
  async finalized(): Promise<{ hash: BlockHash; number: number }> {
    const hash = await this.finalizedHead();
    return { hash, number: (await this.header(hash)).number };
  }

  /** Canonical hashes of the given block numbers, one batch. */
  async blockHashes(numbers: readonly number[], meter?: RpcStats): Promise<BlockHash[]> {
    const replies = await this.batch(
      numbers.map((n) => call("chain_getBlockHash", [n], blockHashSchema.nullable())),
      meter,
    );
    return replies.map((hash, i) => {
      if (hash === null) throw new Error(`chain_getBlockHash(${numbers[i]}): the node has no such block`);
      return hash;
    });
  }

  async keysPaged(prefix: string, count: number, startKey: string | null, at: BlockHash, meter?: RpcStats): Promise<string[]> {
    const [keys] = await this.batch([call("state_getKeysPaged", [prefix, count, startKey, at], storageKeysSchema)] as const, meter);
    return keys;
  }

  /** Every key under `prefix` at block `at`, paging `pageSize` at a time. */
  async allKeys(prefix: string, at: BlockHash, pageSize = 1000): Promise<string[]> {
    const keys: string[] = [];
    for (;;) {
      const page = await this.keysPaged(prefix, pageSize, keys.at(-1) ?? null, at);
      keys.push(...page);
      if (page.length < pageSize) return keys;
    }
  }

  /** Values of `keys` at `at`, in chunks of `chunkSize` keys, all chunks in one batch. Absent keys map to null. */
  async queryStorageAt(keys: readonly string[], at: BlockHash, chunkSize = 50): Promise<Map<string, string | null>> {
    const [values] = await this.queryStorageAtMany([{ keys, at }], undefined, chunkSize);
    return values!;
  }

  /** queryStorageAt at several blocks, every chunk of every block in one batch; one map per request, in order. */
  async queryStorageAtMany(
    requests: readonly { keys: readonly string[]; at: BlockHash }[],
    meter?: RpcStats,
    chunkSize = 50,
  ): Promise<Map<string, string | null>[]> {
    const chunks: { request: number; keys: string[] }[] = [];
    requests.forEach(({ keys }, request) => {
      for (let i = 0; i < keys.length; i += chunkSize) chunks.push({ request, keys: keys.slice(i, i + chunkSize) });
    });
    const replies = await this.batch(
      chunks.map((c) => call("state_queryStorageAt", [c.keys, requests[c.request]!.at], storageChangeSetsSchema)),
      meter,
    );
    const maps = requests.map(({ keys }) => new Map<string, string | null>(keys.map((k) => [k.toLowerCase(), null])));
    replies.forEach((sets, i) => {
      const { at } = requests[chunks[i]!.request]!;
      for (const set of sets) {
        if (set.block.toLowerCase() !== at.toLowerCase()) throw new Error(`state_queryStorageAt answered for block ${set.block}, asked ${at}`);
        for (const [key, value] of set.changes) maps[chunks[i]!.request]!.set(key.toLowerCase(), value);
      }
    });
    return maps;
  }

  storage(key: string, at: BlockHash): Promise<string | null> {
    return this.call("state_getStorage", [key, at], storageValueSchema);
  }

  runtimeVersion(at?: BlockHash): Promise<RuntimeVersion> {
    return this.call("state_getRuntimeVersion", at ? [at] : [], runtimeVersionSchema);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
