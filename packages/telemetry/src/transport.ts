import { retryAfterMs } from "@subnet-review/core";
import WebSocket from "ws";

/** Sends one JSON-RPC batch and returns the raw parsed reply (validated by the client). */
export interface RpcTransport {
  send(batch: readonly { id: number }[], timeoutMs: number): Promise<unknown[]>;
  close(): Promise<void>;
}

/** A failure worth retrying: HTTP 429/5xx, a dropped or unreachable socket, a timeout. */
export class RetryableTransportError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.name = "RetryableTransportError";
    this.retryAfterMs = retryAfterMs;
  }
}

export function httpTransport(url: string): RpcTransport {
  return {
    async send(batch, timeoutMs) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new RetryableTransportError(`HTTP ${url}: ${(error as Error).message}`);
      }
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel();
        throw new RetryableTransportError(`HTTP ${response.status} from ${url}`, retryAfterMs(response.headers.get("retry-after")));
      }
      if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}: ${await response.text()}`);
      const body: unknown = await response.json();
      return Array.isArray(body) ? body : [body];
    },
    async close() {},
  };
}

interface Pending {
  resolve(reply: unknown): void;
  reject(error: Error): void;
}

/**
 * One WebSocket, opened on first use and reopened after a drop. Replies are routed by id, whether they come back
 * as a batch array or one by one; a drop fails every request in flight with a retryable error.
 */
export function wsTransport(url: string): RpcTransport {
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;
  const pending = new Map<number, Pending>();

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const open = (): Promise<WebSocket> => {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on("open", () => {
        socket = ws;
        opening = null;
        resolve(ws);
      });
      ws.on("message", (data) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.toString());
        } catch {
          return failAll(new Error(`WebSocket ${url}: reply is not JSON`));
        }
        for (const reply of Array.isArray(parsed) ? parsed : [parsed]) {
          const id = (reply as { id?: unknown } | null)?.id;
          const waiter = typeof id === "number" ? pending.get(id) : undefined;
          if (!waiter) continue; // a late reply to a request already retried elsewhere
          pending.delete(id as number);
          waiter.resolve(reply);
        }
      });
      ws.on("error", (error) => {
        if (opening) {
          opening = null;
          reject(new RetryableTransportError(`WebSocket ${url}: ${error.message}`));
        }
      });
      ws.on("close", (code) => {
        if (socket === ws) socket = null;
        if (opening) {
          opening = null;
          reject(new RetryableTransportError(`WebSocket ${url} closed while opening (${code})`));
        }
        failAll(new RetryableTransportError(`WebSocket ${url} dropped (code ${code})`));
      });
    });
    return opening;
  };

  return {
    async send(batch, timeoutMs) {
      const ws = await open();
      const replies = batch.map(
        (request) =>
          new Promise<unknown>((resolve, reject) => {
            pending.set(request.id, { resolve, reject });
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          for (const r of batch) pending.delete(r.id);
          // A silent socket is treated like a dropped one: close it so the next try reconnects.
          ws.terminate();
          reject(new RetryableTransportError(`WebSocket ${url}: no reply in ${timeoutMs} ms`));
        }, timeoutMs);
      });
      ws.send(JSON.stringify(batch));
      try {
        return await Promise.race([Promise.all(replies), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const ws = socket;
      socket = null;
      if (ws && ws.readyState === WebSocket.OPEN) {
        await new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          ws.close();
        });
      }
    },
  };
}
