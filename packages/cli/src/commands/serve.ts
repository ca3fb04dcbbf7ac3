import { existsSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createApiServer, drainAndClose, listen } from "@subnet-review/api";
import { importPublishedReview, databaseOptions, openDatabase } from "@subnet-review/db";
import { z } from "zod";
import { numberFlag, parseFlags, UsageError, type CommandHelp, type FlagSpecs } from "../args.ts";
import { cliEnv } from "../env.ts";
import { reapOrphanWeb, startWeb } from "../web-process.ts";

const serveFlags = {
  "api-port": { type: "string", default: "4000", value: "PORT", help: "the api's port on 127.0.0.1" },
  "web-port": { type: "string", default: "3000", value: "PORT", help: "the review page's port on 127.0.0.1" },
} satisfies FlagSpecs;

export const serveHelp: CommandHelp = {
  usage: `pnpm review serve [--api-port 4000] [--web-port 3000]
    run the api and the built web app (embedded PGlite unless DATABASE_URL); Ctrl-C or SIGTERM stops all three`,
  flags: serveFlags,
};

const webDir = fileURLToPath(new URL("../../../../apps/web", import.meta.url));
/** The web app's production server, bundled by its build beside .next. */
const webServer = fileURLToPath(new URL("../../../../apps/web/dist/server.mjs", import.meta.url));
/** Where serve records its web child, beside the embedded database's default folder. */
const stateDir = fileURLToPath(new URL("../../../../.data", import.meta.url));
const port = numberFlag.pipe(z.number().int().min(1, "a TCP port from 1 to 65535").max(65535, "a TCP port from 1 to 65535"));

/** Fails with the flag's name when something already listens on the port, before anything is started. */
async function ensurePortFree(value: number, flag: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new UsageError(`${flag}: 127.0.0.1:${value} is already in use (another \`review serve\`?)`) : err),
    );
    probe.listen(value, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/** The zero-setup path: database (embedded by default), the reference review, the api and the web app. */
export async function serveCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, serveFlags, z.object({ "api-port": port, "web-port": port }));
  if (!existsSync(`${webDir}/.next/BUILD_ID`) || !existsSync(webServer)) {
    throw new UsageError("the web app is not built: run `pnpm build` first (`pnpm start` does both)");
  }
  const reaped = await reapOrphanWeb(stateDir, flags["web-port"]);
  if (reaped) console.log(`stopped the web server (pid ${reaped}) a killed \`review serve\` left on port ${flags["web-port"]}`);
  await ensurePortFree(flags["api-port"], "--api-port");
  await ensurePortFree(flags["web-port"], "--web-port");

  const database = await openDatabase(databaseOptions(cliEnv()));
  let api: HttpServer | null = null;
  let web: Awaited<ReturnType<typeof startWeb>> | null = null;
  // Shutdown order: the web app first (it calls the api), then the api drains, then the database closes, so no
  // request is ever answered by a closed database.
  const shutdown = async () => {
    await web?.stop();
    if (api) await drainAndClose(api);
    await database.close();
  };
  let webExit: number | null = null;
  try {
    const { figures } = await importPublishedReview(database.db);
    api = createApiServer({ db: database.db });
    const apiPort = await listen(api, flags["api-port"], "127.0.0.1");
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    console.log(`database: ${database.mode === "url" ? "DATABASE_URL" : `embedded PGlite (${database.mode})`}; reference review: ${figures} reported figures`);
    console.log(`api:      ${apiUrl}/health`);
    web = await startWeb({ webDir, server: webServer, port: flags["web-port"], apiUrl, stateDir });
    console.log(`review:   http://127.0.0.1:${flags["web-port"]}/   (Ctrl-C stops everything)`);

    const stopSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    let onSignal!: () => void;
    const signalled = new Promise<void>((resolve) => (onSignal = resolve));
    for (const s of stopSignals) process.once(s, onSignal);
    webExit = await Promise.race([signalled.then(() => null), web.exited.then((code) => code ?? -1)]);
    for (const s of stopSignals) process.off(s, onSignal);
  } finally {
    await shutdown();
  }
  if (webExit !== null) throw new Error(`the web app exited with code ${webExit}; everything was stopped`);
}
