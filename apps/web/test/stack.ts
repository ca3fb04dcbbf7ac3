import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestApi, type TestApi } from "@subnet-review/api/testing";
import { freePort } from "@subnet-review/core/node";
import type { Db } from "@subnet-review/db";
import { chromium, type Browser } from "playwright-core";

// What every browser test stands on: a fresh database on the real Postgres with the published review, the real
// api, the built web app under its production server (dist/server.mjs, as deployed), and Debian's Chromium.
const webDir = fileURLToPath(new URL("..", import.meta.url));
/** The production server `pnpm --filter @subnet-review/web build` bundles. */
export const webServer = fileURLToPath(new URL("../dist/server.mjs", import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const shotsDir = fileURLToPath(new URL("../test-results", import.meta.url));

/** The api and the web server, without a browser. */
export interface WebStack {
  api: TestApi;
  db: Db;
  apiUrl: string;
  webUrl: string;
  /** Stops the api (the web app keeps running), to see the page without it. */
  stopApi(): Promise<void>;
  /** Stops everything; resolves with the web server's exit code (null: killed by a signal). */
  stop(): Promise<number | null>;
}

export interface Stack extends WebStack {
  browser: Browser;
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/**
 * Starts the api and the web server; `seed` writes what the test needs (through the api or the database) before the
 * web app starts; `env` adds to the web server's environment.
 */
export async function startWebStack(seed?: (ctx: { db: Db; apiUrl: string }) => Promise<void>, env: Record<string, string> = {}): Promise<WebStack> {
  if (!existsSync(`${webDir}/.next/BUILD_ID`) || !existsSync(webServer))
    throw new Error("apps/web is not built: run `pnpm build` (turbo builds it before tests)");
  const api = await startTestApi();
  const apiUrl = api.url;
  await seed?.({ db: api.db, apiUrl });
  const webPort = await freePort();
  const web = spawn(process.execPath, [webServer], {
    cwd: webDir,
    // each stack keeps its own last good copies of the api's answers
    env: {
      ...process.env,
      PORT: String(webPort),
      HOSTNAME: "127.0.0.1",
      API_URL: apiUrl,
      NEXT_TELEMETRY_DISABLED: "1",
      WEB_CACHE_DIR: await mkdtemp(join(tmpdir(), "web-last-good-")),
      ...env,
    },
    stdio: "inherit",
  });
  const exited = new Promise<number | null>((resolve) => web.once("exit", (code) => resolve(code)));
  const webUrl = `http://127.0.0.1:${webPort}`;
  const up = await Promise.race([waitFor(webUrl, 60_000).then(() => true), exited.then(() => false)]).catch((err: unknown) => {
    web.kill("SIGKILL");
    throw err;
  });
  if (!up) {
    await api.stop();
    throw new Error(`the web server (${webServer}) exited before it answered: see its output above`);
  }
  let apiStopped: Promise<void> | null = null;
  const stopApi = () => (apiStopped ??= api.stop());
  return {
    api,
    db: api.db,
    apiUrl,
    webUrl,
    stopApi,
    async stop() {
      web.kill("SIGTERM");
      const code = await exited;
      await stopApi();
      return code;
    },
  };
}

/** Starts the stack with Chromium; `seed` as startWebStack's. */
export async function startStack(seed?: (ctx: { db: Db; apiUrl: string }) => Promise<void>): Promise<Stack> {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const web = await startWebStack(seed);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  await mkdir(shotsDir, { recursive: true });
  return {
    ...web,
    browser,
    async stop() {
      await browser.close();
      return web.stop();
    },
  };
}
