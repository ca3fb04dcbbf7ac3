import { evalsRouter } from "./routers/evals.ts";
import { modelConfigRouter } from "./routers/model-config.ts";
import { reviewRouter } from "./routers/review.ts";
import { runsRouter } from "./routers/runs.ts";
import { telemetryRouter } from "./routers/telemetry.ts";
import { createTRPCRouter } from "./trpc.ts";

export const appRouter = createTRPCRouter({
  review: reviewRouter,
  modelConfig: modelConfigRouter,
  runs: runsRouter,
  evals: evalsRouter,
  telemetry: telemetryRouter,
});

export type AppRouter = typeof appRouter;
