import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** The data sets beside the repository: ../shared/data. */
export const defaultDataDir = join(fileURLToPath(new URL("../../../../shared", import.meta.url)), "data");

/** "" counts as unset, as the shell's `X= cmd` means. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/** The evals' part of an app's environment; apps parse it once and pass dataDir down. */
export const evalEnvSchema = z.object({
  /** the data sets' folder */
  EVAL_DATA_DIR: optionalText,
  /** the folder that holds data/ (and reference/) beside the repository */
  SHARED_DIR: optionalText,
});
export type EvalEnv = z.infer<typeof evalEnvSchema>;

/** EVAL_DATA_DIR, else SHARED_DIR/data, else ../shared/data. */
export function evalDataDir(env: EvalEnv): string {
  return env.EVAL_DATA_DIR ?? (env.SHARED_DIR ? join(env.SHARED_DIR, "data") : defaultDataDir);
}
