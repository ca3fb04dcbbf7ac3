// The CLI's environment, validated once (zod) and passed down as options: the libraries never read process.env.
import { parseOrThrow } from "@subnet-review/core";
import { databaseEnvSchema } from "@subnet-review/db/env";
import { evalEnvSchema } from "@subnet-review/eval/env";
import { trainerEnvSchema } from "@subnet-review/trainer/env";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

/** "" counts as unset, as the shell's `X= cmd` means. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => v || undefined);

export const cliEnvSchema = z.object({
  ...databaseEnvSchema.shape,
  ...trainerEnvSchema.shape,
  ...evalEnvSchema.shape,
  /** where the user ran `pnpm review` (pnpm sets it); paths on the command line are relative to it */
  INIT_CWD: optionalText,
  /** the bearer token for `eval --endpoint` when --api-key is not given */
  OPENAI_API_KEY: optionalText,
  /** set: an unexpected error also prints its stack */
  DEBUG: optionalText.transform((v) => v !== undefined),
});
export type CliEnv = z.infer<typeof cliEnvSchema>;

let parsed: CliEnv | undefined;

/** The environment as parsed on first use; a bad variable is an InputError naming it. */
export function cliEnv(): CliEnv {
  if (!parsed) parsed = parseOrThrow(cliEnvSchema, process.env, "environment");
  return parsed;
}

/** Paths on the command line are relative to where the user ran `pnpm review`, not the repo root. */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(cliEnv().INIT_CWD ?? process.cwd(), path);
}

/** The worker's Python: --python (a path from the user's folder, or a name found on PATH), else TRAINER_PYTHON. */
export function workerPython(flag: string | undefined): string {
  if (!flag) return cliEnv().TRAINER_PYTHON;
  return flag.includes("/") ? userPath(flag) : flag;
}
