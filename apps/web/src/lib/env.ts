import { join } from "node:path";
import { z } from "zod";

// The web server's environment, validated on first use in the server process (not at build time), so one image
// serves any deployment: API_URL is the api this server asks.
const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);
const webEnvSchema = z.object({
  API_URL: z.preprocess(unsetIfEmpty, z.url({ error: "must be the api's base URL, e.g. http://127.0.0.1:4000" }).default("http://127.0.0.1:4000")),
  /** where the last good answers are kept across restarts */
  WEB_CACHE_DIR: z.preprocess(unsetIfEmpty, z.string().optional()),
});
export type WebEnv = { apiUrl: string; cacheDir: string };

let parsed: WebEnv | undefined;

export function webEnv(): WebEnv {
  if (!parsed) {
    const r = webEnvSchema.safeParse(process.env);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new Error(`web: environment ${issue.path.join(".")}: ${issue.message}`);
    }
    parsed = { apiUrl: r.data.API_URL, cacheDir: r.data.WEB_CACHE_DIR ?? join(process.cwd(), ".next", "cache", "last-good") };
  }
  return parsed;
}
