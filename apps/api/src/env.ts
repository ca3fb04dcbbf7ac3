// apps/api's environment, validated once at start; the libraries get what they need as options.
import { databaseEnvSchema } from "@subnet-review/db/env";
import { z } from "zod";

export const apiEnvSchema = z.object({
  ...databaseEnvSchema.shape,
  PORT: z.coerce.number({ error: "must be a port number" }).int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** the web app's origin, allowed by CORS (unset: none) */
  CORS_ORIGIN: z
    .string()
    .optional()
    .transform((v) => v || undefined),
});
export type ApiEnv = z.infer<typeof apiEnvSchema>;

/** The parsed environment, or an Error naming the first bad variable and what it allows. */
export function parseApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const parsed = apiEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`${issue.path.join(".")}: ${issue.message}`);
}
