import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Db } from "@subnet-review/db";
import { appRouter } from "./root.ts";
import { createContext } from "./trpc.ts";

export interface ApiServerOptions {
  db: Db;
  /** Origins allowed to call the API from a browser (the web app's origin); "*" allows any. */
  corsOrigin?: string;
}

/** The HTTP server apps/api runs: tRPC under /trpc, a liveness and database check at /health. */
export function createApiServer(opts: ApiServerOptions): Server {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) => createContext(opts.db, req.headers),
  });
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (opts.corsOrigin) {
      res.setHeader("access-control-allow-origin", opts.corsOrigin);
      res.setHeader("access-control-allow-headers", "authorization, content-type");
      if (req.method === "OPTIONS") return void res.writeHead(204).end();
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") return void health(opts.db, res);
    if (path?.startsWith("/trpc/")) return void trpc(req, res);
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
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
