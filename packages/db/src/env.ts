import { z } from "zod";

/** "" counts as unset: shells and tests clear a variable that way. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/**
 * The database's part of an app's environment. Apps parse it once (with their own variables) and pass the result
 * to openDatabase; the library itself never reads process.env.
 */
export const databaseEnvSchema = z.object({
  /** a PostgreSQL server; unset: the embedded PGlite */
  DATABASE_URL: optionalText,
  /** the embedded database's folder (default .data/pglite) */
  REVIEW_DATA_DIR: optionalText,
});
export type DatabaseEnv = z.infer<typeof databaseEnvSchema>;

/** openDatabase's options from a parsed environment. */
export function databaseOptions(env: DatabaseEnv): { url: string | undefined; dataDir: string | undefined } {
  return { url: env.DATABASE_URL, dataDir: env.REVIEW_DATA_DIR };
}
