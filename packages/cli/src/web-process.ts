import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processIsAlive } from "@subnet-review/core/node";
import { z } from "zod";

/** The web app's production server `review serve` runs: its own process group, stopped with the parent. */
export interface WebProcess {
  pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

// Loaded into the web server's process. Its stdin is a pipe from `review serve`, which ends when serve exits in any way,
// kill -9 included; the web server then stops its whole group, so no orphan keeps the port.
const exitWithParent = `data:text/javascript,${encodeURIComponent(
  `process.stdin.on("end", () => process.kill(-process.pid, "SIGTERM")); process.stdin.on("error", () => undefined); process.stdin.resume();`,
)}`;

const recordSchema = z.object({ servePid: z.number().int().positive(), webPid: z.number().int().positive(), webStarted: z.string() });

/** Where serve records its web child per port, so the next start can reap one a killed serve left behind. */
function recordFile(stateDir: string, port: number): string {
  return join(stateDir, `serve-web-${port}.json`);
}

/**
 * When `pid` started, in clock ticks since boot (Linux /proc; field 22 of stat). With the pid it names one process:
 * a reused pid has another start time, so it is never signalled. (A command line would not tell: Next may rename
 * its process title.)
 */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!processIsAlive(pid)) return true;
    await sleep(50);
  }
  return !processIsAlive(pid);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Stops the web server a killed `review serve` left on `port` (its serve process is dead, the web server it
 * recorded still runs). Returns the reaped pid, or null when there was none.
 */
export async function reapOrphanWeb(stateDir: string, port: number): Promise<number | null> {
  let record: z.infer<typeof recordSchema>;
  try {
    record = recordSchema.parse(JSON.parse(await readFile(recordFile(stateDir, port), "utf8")));
  } catch {
    return null;
  }
  if (processIsAlive(record.servePid) && record.servePid !== process.pid) return null; // a live serve owns it
  let reaped: number | null = null;
  if (processIsAlive(record.webPid) && startTime(record.webPid) === record.webStarted) {
    signalGroup(record.webPid, "SIGTERM");
    if (!(await waitForExit(record.webPid, 5000))) {
      signalGroup(record.webPid, "SIGKILL");
      await waitForExit(record.webPid, 5000);
    }
    reaped = record.webPid;
  }
  await rm(recordFile(stateDir, port), { force: true });
  return reaped;
}

/**
 * Starts the web app's production server (`server`: apps/web/dist/server.mjs, what is deployed: the review page from
 * its render cache, the rest by Next) in its own process group, recorded under `stateDir` until it is stopped.
 */
export async function startWeb(opts: { webDir: string; server: string; port: number; apiUrl: string; stateDir: string }): Promise<WebProcess> {
  const child = spawn(process.execPath, ["--import", exitWithParent, opts.server], {
    cwd: opts.webDir,
    env: { ...process.env, PORT: String(opts.port), HOSTNAME: "127.0.0.1", API_URL: opts.apiUrl, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["pipe", "inherit", "inherit"],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the web app (${opts.server})`);
  child.stdin!.on("error", () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await mkdir(opts.stateDir, { recursive: true });
  const file = recordFile(opts.stateDir, opts.port);
  const webStarted = startTime(pid);
  if (webStarted !== null) await writeFile(file, JSON.stringify({ servePid: process.pid, webPid: pid, webStarted } satisfies z.infer<typeof recordSchema>));
  let stopping: Promise<void> | null = null;
  return {
    pid,
    exited,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        signalGroup(pid, "SIGTERM");
        const timer = setTimeout(() => {
          console.error(`the web app did not stop within ${graceMs / 1000} s of SIGTERM (requests still coming in?); killed`);
          signalGroup(pid, "SIGKILL");
        }, graceMs);
        await exited;
        clearTimeout(timer);
        signalGroup(pid, "SIGKILL"); // anything Next left in its group
        await rm(file, { force: true });
      })();
      return stopping;
    },
  };
}
