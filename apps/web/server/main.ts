// The web app's production server (`pnpm --filter @subnet-review/web start`, `review serve`, infra/web.Dockerfile):
// a node:http server that answers `/` and `/r/<slug>` from its render cache and hands every other request to Next.
// Bundled to dist/server.mjs by scripts/bundle-server.mjs; runs from this checkout or from Next's standalone output.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { drainAndClose, listen } from "@subnet-review/core/node";
import { webEnv } from "../src/lib/env";
import { DataVersionPoller, fetchDataVersion, type Version } from "./data-version.ts";
import { bypassSecret, isBypass, loopbackRenderer, selfAddress } from "./loopback.ts";
import { loadNextApp, requireBuild, StartupError } from "./next-app.ts";
import { cacheKey, RenderCache } from "./render-cache.ts";
import { serverEnv } from "./server-env.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The app's folder (holding .next): dist/'s parent, in this checkout and in the standalone output alike. */
const dir = fileURLToPath(new URL("..", import.meta.url));
/** How long the api may take to say its data version before it counts as not answering. */
const VERSION_TIMEOUT_MS = 2_000;
/** A render taking longer fails (the page's own api calls give up after 8 s and use the last good copy). */
const RENDER_TIMEOUT_MS = 30_000;
/** SIGTERM or SIGINT: requests in flight get this long to finish (within the 10 s `review serve` waits before it kills). */
const DRAIN_MS = 8_000;

async function main(): Promise<void> {
  const env = serverEnv();
  const { apiUrl } = webEnv();
  requireBuild(dir);
  Object.assign(process.env, { NODE_ENV: "production" });
  // where `next start` runs (src/lib/last-good.ts keeps its copies under it by default)
  process.chdir(dir);

  // Listening first, as Next does, so a taken port fails at once; requests before Next is ready wait for it.
  let ready!: (handler: Handler) => void;
  const started = new Promise<Handler>((resolve) => (ready = resolve));
  let handle: Handler = (req, res) => started.then((h) => h(req, res));
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error(`web: ${req.method} ${req.url}:`, err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal Server Error");
      else res.destroy();
    });
  });
  if (env.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = env.keepAliveTimeoutMs;
  try {
    await listen(server, env.port, env.hostname);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new StartupError(`PORT: ${env.hostname}:${env.port} is already in use`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      throw new StartupError(`HOSTNAME: ${env.hostname} is not an address of this machine`);
    throw err;
  }
  const address = server.address() as AddressInfo;

  let app: Awaited<ReturnType<typeof loadNextApp>> | undefined;
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`web: ${signal}: finishing the requests in flight`);
    await drainAndClose(server, DRAIN_MS);
    await app?.close().catch((err: unknown) => console.error("web: closing Next:", err));
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  app = await loadNextApp({ dir, hostname: env.hostname, port: address.port, httpServer: server });
  const next = app;
  const secret = bypassSecret();
  const versions = new DataVersionPoller(
    () => fetchDataVersion(apiUrl, VERSION_TIMEOUT_MS),
    env.checkEveryMs,
    (from: Version | undefined, to: Version) => {
      if (to === null) console.error(`web: the api at ${apiUrl} does not answer: pages are rendered from its last good answers until it does`);
      else if (from === null) console.log(`web: the api at ${apiUrl} answers again: pages are rendered afresh`);
    },
  );
  const cache =
    env.cacheBytes > 0
      ? new RenderCache({
          maxBytes: env.cacheBytes,
          render: loopbackRenderer({ ...selfAddress(address), secret, timeoutMs: RENDER_TIMEOUT_MS, maxBytes: env.cacheBytes }),
          versions,
          retryMs: Math.max(env.checkEveryMs, 1000),
          log: (line) => console.error(line),
        })
      : null;
  handle = async (req, res) => {
    const key = cache && !isBypass(req, secret) ? cacheKey(req) : null;
    if (key && (await cache!.answer(key, req, res))) return;
    await next.handle(req, res);
  };
  ready(handle);
  const cacheLine = cache
    ? `render cache ${(env.cacheBytes / 2 ** 20).toFixed(0)} MiB, data version asked at most every ${env.checkEveryMs} ms`
    : "render cache off";
  console.log(`web: ready on http://${env.hostname}:${address.port} (api ${apiUrl}; ${cacheLine})`);
}

main().catch((err: unknown) => {
  // a problem the operator can fix is said in one line; anything else with its stack
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StartupError || message.startsWith("web: ")) console.error(`web: ${message.replace(/^web: /, "")}`);
  else console.error("web: could not start:", err);
  process.exit(1);
});
