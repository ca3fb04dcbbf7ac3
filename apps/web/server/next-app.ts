import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { join } from "node:path";

export interface NextApp {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

/** A startup problem with a message for the operator (no stack trace). */
export class StartupError extends Error {}

/** Fails with what to run when the app in `dir` is not built. */
export function requireBuild(dir: string): void {
  if (!existsSync(join(dir, ".next", "BUILD_ID")) || !existsSync(join(dir, ".next", "required-server-files.json"))) {
    throw new StartupError(`the web app is not built (no .next/BUILD_ID in ${dir}): run \`pnpm --filter @subnet-review/web build\` first`);
  }
}

/**
 * Next's request handler for the built app in `dir`, as Next's standalone server.js runs it: production mode and the
 * configuration the build wrote (.next/required-server-files.json), so this checkout and the standalone output run
 * the same way and next.config.ts is not compiled again at start.
 */
export async function loadNextApp(opts: { dir: string; hostname: string; port: number; httpServer: Server }): Promise<NextApp> {
  requireBuild(opts.dir);
  const built = join(opts.dir, ".next", "required-server-files.json");
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG ??= JSON.stringify((JSON.parse(readFileSync(built, "utf8")) as { config: unknown }).config);
  // imported only now: Next reads NODE_ENV and the configuration above as it loads
  const { default: next } = await import("next");
  const app = next({ dev: false, dir: opts.dir, hostname: opts.hostname, port: opts.port, httpServer: opts.httpServer });
  await app.prepare();
  const handle = app.getRequestHandler();
  return { handle: (req, res) => handle(req, res), close: () => app.close() };
}
