import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "@subnet-review/db";
import { publicResponses, type CachedResponse } from "./responseCache.ts";
import { appRouter } from "./root.ts";
import { createContext } from "./trpc.ts";

export interface ApiServerOptions {
  db: Db;
  /** Origins allowed to call the API from a browser (the web app's origin); "*" allows any. */
  corsOrigin?: string | undefined;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Runs one tRPC request through the fetch adapter and buffers the answer, so it can be cached and replayed. */
async function trpcResponse(db: Db, req: IncomingMessage, body: Buffer | undefined): Promise<CachedResponse> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    // tRPC bodies are JSON text; a string is a BodyInit under Node's and the DOM's typings alike.
    ...(body ? { body: body.toString("utf8") } : {}),
  });
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req: request,
    router: appRouter,
    createContext: () => createContext(db, { authorization: req.headers.authorization }),
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/**
 * The HTTP server apps/api runs: tRPC under /trpc, a liveness and database check at /health.
 * Queries (GET) are public and answered from a short-lived cache; a write (POST) clears it.
 */
export function createApiServer(opts: ApiServerOptions): Server {
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (opts.corsOrigin) {
      res.setHeader("access-control-allow-origin", opts.corsOrigin);
      res.setHeader("access-control-allow-headers", "authorization, content-type");
      if (req.method === "OPTIONS") return void res.writeHead(204).end();
    }
    const url = req.url ?? "/";
    if (url === "/health") return health(opts.db, res);
    if (!url.startsWith("/trpc/")) {
      return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
    }
    try {
      let answer: CachedResponse;
      if (req.method === "GET") {
        answer = await publicResponses.get(url, () => trpcResponse(opts.db, req, undefined));
      } else {
        answer = await trpcResponse(opts.db, req, await readBody(req));
        if (req.method === "POST") publicResponses.clear();
      }
      res.writeHead(answer.status, answer.headers).end(answer.body);
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      res
        .writeHead(tooLarge ? 413 : 500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: tooLarge ? `request body over ${MAX_BODY_BYTES} bytes` : "internal error" }));
    }
  });
}

async function health(db: Db, res: ServerResponse): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, database: "up" }));
  } catch {
    res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, database: "down" }));
  }
}

/** Listens and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, port: number, host = "0.0.0.0"): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
