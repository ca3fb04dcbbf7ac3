import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { freePort } from "@subnet-review/core/node";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

// `review serve` as `pnpm start` runs it, on the embedded database in a fresh folder: killed -9 and started again,
// killed -9 with a web child that could not follow it, and stopped with SIGTERM while requests are coming in.

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const webDir = fileURLToPath(new URL("../../../apps/web", import.meta.url));
const stateDir = fileURLToPath(new URL("../../../.data", import.meta.url));

interface Serve {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startServe(dataDir: string, apiPort: number, webPort: number): Serve {
  const child = spawn(process.execPath, ["--import", "tsx", main, "serve", "--api-port", String(apiPort), "--web-port", String(webPort)], {
    env: { ...process.env, DATABASE_URL: "", REVIEW_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function untilOk(url: string, serve: Serve, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (serve.child.exitCode !== null) throw new Error(`serve exited ${serve.child.exitCode}:\n${serve.output()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(5000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${ms} ms:\n${serve.output()}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function webPid(webPort: number): Promise<number> {
  return (JSON.parse(await readFile(join(stateDir, `serve-web-${webPort}.json`), "utf8")) as { webPid: number }).webPid;
}

async function untilDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  return !isAlive(pid);
}

const unclean = /PGlite is closed|Unhandled|unhandled|Can't reach database server|EADDRINUSE/;

describe("review serve", () => {
  beforeAll(() => {
    // turbo builds the web app before these tests (packages/cli/turbo.json); run alone, they need `pnpm build`.
    if (!existsSync(join(webDir, ".next/BUILD_ID")) || !existsSync(join(webDir, "dist/server.mjs"))) {
      throw new Error("apps/web is not built: run `pnpm build` (turbo builds it before these tests)");
    }
  });

  it("killed -9 leaves no web server behind, starts again on the same ports and data, and stops cleanly on SIGTERM under load", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "serve-")), "data");
    const [apiPort, webPort] = [await freePort(), await freePort()];
    const api = `http://127.0.0.1:${apiPort}`;
    const web = `http://127.0.0.1:${webPort}/`;

    const first = startServe(dataDir, apiPort, webPort);
    await untilOk(web, first);
    const firstWeb = await webPid(webPort);
    first.child.kill("SIGKILL");
    await first.exited;
    // The web server sees its parent's pipe close and stops its own process group.
    expect(await untilDead(firstWeb, 20_000)).toBe(true);

    const second = startServe(dataDir, apiPort, webPort);
    await untilOk(web, second);
    expect(second.output()).toContain("embedded PGlite (embedded)");
    const secondWeb = await webPid(webPort);

    // Eight clients keep asking the api's health (a database query each) and the page while SIGTERM arrives.
    const answers: number[] = [];
    const bodies: string[] = [];
    let load = true;
    const client = async (url: string) => {
      while (load) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
          answers.push(res.status);
          if (res.status >= 500) bodies.push(await res.text());
          else await res.arrayBuffer();
        } catch {
          await sleep(20); // refused or reset: the server stopped accepting, which is allowed
        }
      }
    };
    const clients = [...Array.from({ length: 6 }, () => client(`${api}/health`)), client(web), client(web)];
    await sleep(1500);
    const before = answers.length;
    const stopAt = performance.now();
    second.child.kill("SIGTERM");
    const code = await second.exited;
    const stopMs = performance.now() - stopAt;
    load = false;
    await Promise.all(clients);
    console.log(
      `serve SIGTERM: exit ${code} after ${stopMs.toFixed(0)} ms; ${answers.length - before} answers during shutdown, ${answers.length} in all, ${answers.filter((s) => s >= 500).length} of them 5xx${second.output().includes("did not stop") ? "; the web app was killed after its grace" : ""}`,
    );
    expect(code).toBe(0);
    expect(answers.length).toBeGreaterThan(before); // requests were answered while shutting down
    expect(answers.filter((s) => s >= 500)).toEqual([]);
    expect(bodies).toEqual([]);
    expect(second.output()).not.toMatch(unclean);
    expect(isAlive(secondWeb)).toBe(false);
    expect(existsSync(join(stateDir, `serve-web-${webPort}.json`))).toBe(false);
  }, 300_000);

  it("stops on the next start a web server that outlived its killed serve, then serves", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "serve-")), "data");
    const [apiPort, webPort] = [await freePort(), await freePort()];
    const web = `http://127.0.0.1:${webPort}/`;

    const first = startServe(dataDir, apiPort, webPort);
    await untilOk(web, first);
    const orphan = await webPid(webPort);
    // Frozen, the web server cannot notice its parent die: it outlives it with the port, as before this fix.
    process.kill(orphan, "SIGSTOP");
    first.child.kill("SIGKILL");
    await first.exited;
    expect(isAlive(orphan)).toBe(true);

    const second = startServe(dataDir, apiPort, webPort);
    try {
      await untilOk(web, second);
      expect(second.output()).toContain(`stopped the web server (pid ${orphan}) a killed \`review serve\` left on port ${webPort}`);
      expect(isAlive(orphan)).toBe(false);
    } finally {
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    }
    expect(second.output()).not.toMatch(unclean);
  }, 300_000);

  it("refuses a port that is taken, naming the flag, before opening anything", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "serve-")), "data");
    const taken = createServer();
    const apiPort = await new Promise<number>((resolve) => taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)));
    try {
      const serve = startServe(dataDir, apiPort, await freePort());
      expect(await serve.exited).toBe(2);
      if (serve.child.stdout!.readable) await new Promise((resolve) => serve.child.once("close", resolve)); // all its output read
      expect(serve.output().trim()).toBe(`review serve: --api-port: 127.0.0.1:${apiPort} is already in use (another \`review serve\`?)`);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      taken.close();
    }
  }, 60_000);
});
