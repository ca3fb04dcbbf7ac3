import { join } from "node:path";
import { z } from "zod";

// The web server's environment, validated on first use in the server process (not at build time), so one image
// serves any deployment: API_URL is the api this server asks.

/** "" counts as unset, as the shell's `X= cmd` means. */
export const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);

/** `env` parsed by `schema`; a bad variable throws an error naming it and what is allowed. */
export function parseEnv<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new Error(`web: environment ${issue.path.join(".")}: ${issue.message}`);
}

const webEnvSchema = z.object({
  API_URL: z.preprocess(unsetIfEmpty, z.url({ error: "must be the api's base URL, e.g. http://127.0.0.1:4000" }).default("http://127.0.0.1:4000")),
  /** where the last good answers are kept across restarts */
  WEB_CACHE_DIR: z.preprocess(unsetIfEmpty, z.string().optional()),
});
export type WebEnv = { apiUrl: string; cacheDir: string };

let parsed: WebEnv | undefined;

export function webEnv(): WebEnv {
  if (!parsed) {
    const env = parseEnv(webEnvSchema, process.env);
    parsed = { apiUrl: env.API_URL, cacheDir: env.WEB_CACHE_DIR ?? join(process.cwd(), ".next", "cache", "last-good") };
  }
  return parsed;
}
