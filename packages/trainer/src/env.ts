import { z } from "zod";

/** The worker's Python when none is given: the one Debian's python3-torch installs into. */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/**
 * The trainer's part of an app's environment (also the eval worker's, which runs under the same Python). Apps parse
 * it once and pass `python` down; the library never reads process.env.
 */
export const trainerEnvSchema = z.object({
  TRAINER_PYTHON: z
    .string()
    .optional()
    .transform((v) => v || DEFAULT_PYTHON),
});
export type TrainerEnv = z.infer<typeof trainerEnvSchema>;
