import { z } from "zod";
import { parseEnv, unsetIfEmpty } from "../src/lib/env";

// The production server's own settings (API_URL is the page's: src/lib/env.ts). PORT and HOSTNAME as Next's
// standalone server.js reads them; the render cache's bound and how often it asks the api for its data version.
const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `must be ${what}` })
    .int(`must be ${what}`)
    .min(min, `must be ${what}`)
    .max(max, `must be ${what}`);

const serverEnvSchema = z.object({
  PORT: z.preprocess(unsetIfEmpty, wholeNumber("a TCP port from 0 to 65535", 0, 65535).default(3000)),
  HOSTNAME: z.preprocess(unsetIfEmpty, z.string().default("0.0.0.0")),
  /** ms an idle keep-alive connection is kept (Node's default when unset) */
  KEEP_ALIVE_TIMEOUT: z.preprocess(unsetIfEmpty, wholeNumber("milliseconds, 0 or more", 0, 3_600_000).optional()),
  /** bytes of rendered pages kept (identity, gzip and brotli bodies); 0 turns the cache off */
  RENDER_CACHE_BYTES: z.preprocess(unsetIfEmpty, wholeNumber("a byte count, 0 or more", 0, 2 ** 40).default(16 * 1024 * 1024)),
  /** the api's data version is asked at most this often, and only while pages are requested */
  RENDER_CACHE_CHECK_MS: z.preprocess(unsetIfEmpty, wholeNumber("milliseconds, 0 or more", 0, 3_600_000).default(1000)),
});

export interface ServerEnv {
  port: number;
  hostname: string;
  keepAliveTimeoutMs: number | undefined;
  cacheBytes: number;
  checkEveryMs: number;
}

/** The environment, validated: a bad value throws an error naming the variable and what is allowed. */
export function serverEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  const parsed = parseEnv(serverEnvSchema, env);
  return {
    port: parsed.PORT,
    hostname: parsed.HOSTNAME,
    keepAliveTimeoutMs: parsed.KEEP_ALIVE_TIMEOUT,
    cacheBytes: parsed.RENDER_CACHE_BYTES,
    checkEveryMs: parsed.RENDER_CACHE_CHECK_MS,
  };
}
