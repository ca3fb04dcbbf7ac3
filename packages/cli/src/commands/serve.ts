import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApiServer, listen } from "@subnet-review/api";
import { importPublishedReview, openDatabase } from "@subnet-review/db";
import { z } from "zod";
import { numberFlag, parseFlags, UsageError } from "../args.ts";

export const serveUsage = `pnpm review serve [--api-port 4000] [--web-port 3000]   run the api and the built web app (embedded PGlite unless DATABASE_URL)`;

const webDir = fileURLToPath(new URL("../../../../apps/web", import.meta.url));
const port = numberFlag.pipe(z.number().int().min(0).max(65535, "a TCP port from 0 to 65535"));

/** The zero-setup path: database (embedded by default), the reference review, the api and the web app. */
export async function serveCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    { "api-port": { type: "string", default: "4000" }, "web-port": { type: "string", default: "3000" } },
    z.object({ "api-port": port, "web-port": port }),
  );
  if (!existsSync(`${webDir}/.next/BUILD_ID`)) {
    throw new UsageError("the web app is not built: run `pnpm build` first (`pnpm start` does both)");
  }
  const database = await openDatabase();
  const { figures } = await importPublishedReview(database.db);
  const server = createApiServer({ db: database.db });
  const apiPort = await listen(server, flags["api-port"], "127.0.0.1");
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  console.log(`database: ${database.mode === "url" ? "DATABASE_URL" : `embedded PGlite (${database.mode})`}; reference review: ${figures} reported figures`);
  console.log(`api:      ${apiUrl}/health`);

  const nextBin = fileURLToPath(new URL("../../../../apps/web/node_modules/next/dist/bin/next", import.meta.url));
  const web = spawn(process.execPath, [nextBin, "start", "--port", String(flags["web-port"]), "--hostname", "127.0.0.1"], {
    cwd: webDir,
    env: { ...process.env, API_URL: apiUrl },
    stdio: ["ignore", "inherit", "inherit"],
  });
  console.log(`review:   http://127.0.0.1:${flags["web-port"]}/   (Ctrl-C stops everything)`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      web.kill("SIGTERM");
      server.close();
      void database.close().then(resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    web.once("exit", (code) => {
      if (code !== 0 && code !== null) console.error(`web exited with code ${code}`);
      stop();
    });
  });
}
