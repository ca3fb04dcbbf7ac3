import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { startTestApi } from "@subnet-review/api/testing";
import type { Db } from "@subnet-review/db";
import { chromium, type Browser } from "playwright-core";

// What every browser test stands on: a fresh database on the real Postgres with the published review, the real
// api, the built web app under `next start`, and Debian's Chromium.
const webDir = fileURLToPath(new URL("..", import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const shotsDir = fileURLToPath(new URL("../test-results", import.meta.url));

export interface Stack {
  db: Db;
  apiUrl: string;
  webUrl: string;
  browser: Browser;
  /** Stops the api (the web app keeps running), to see the page without it. */
  stopApi(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
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

/** Starts the stack; `seed` writes what the test needs (through the api or the database) before the web app starts. */
export async function startStack(seed?: (ctx: { db: Db; apiUrl: string }) => Promise<void>): Promise<Stack> {
  if (!existsSync(`${webDir}/.next/BUILD_ID`)) throw new Error("apps/web is not built: run `pnpm build` (turbo builds it before tests)");
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const api = await startTestApi();
  const apiUrl = api.url;
  await seed?.({ db: api.db, apiUrl });
  const webPort = await freePort();
  const web = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "--port", String(webPort), "--hostname", "127.0.0.1"], {
    cwd: webDir,
    // each stack keeps its own last good copies of the api's answers
    env: { ...process.env, API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: "1", WEB_CACHE_DIR: await mkdtemp(join(tmpdir(), "web-last-good-")) },
    stdio: "inherit",
  });
  const webUrl = `http://127.0.0.1:${webPort}`;
  await waitFor(webUrl, 60_000);
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
  let apiStopped: Promise<void> | null = null;
  const stopApi = () => (apiStopped ??= api.stop());
  return {
    db: api.db,
    apiUrl,
    webUrl,
    browser,
    stopApi,
    async stop() {
      await browser.close();
      web.kill("SIGTERM");
      await stopApi();
    },
  };
}
