import { z } from "zod";

/** The constants a review is computed with (JSON column Review.constants). */
export const reviewConstantsSchema = z.object({
  gpu: z.string().min(1),
  gpuTokensPerSecond: z.number().positive().max(1e7),
  multiplier: z.number().positive().max(1e4),
  cycleBlocks: z.number().int().positive().max(1e6),
  blockSeconds: z.number().positive().max(3600),
  windowHours: z.number().positive().max(1e6),
  windowHoursNote: z.string().optional(),
  bytesPerWeight: z.number().positive().max(16),
  bytesPerGrad: z.number().nonnegative().max(16),
  bytesPerOptimizerState: z.number().nonnegative().max(32),
});
export type ReviewConstants = z.infer<typeof reviewConstantsSchema>;
