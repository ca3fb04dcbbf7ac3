import { modelConfigRouter } from "./routers/modelConfig.ts";
import { reviewRouter } from "./routers/review.ts";
import { telemetryRouter } from "./routers/telemetry.ts";
import { createTRPCRouter } from "./trpc.ts";

export const appRouter = createTRPCRouter({
  review: reviewRouter,
  modelConfig: modelConfigRouter,
  telemetry: telemetryRouter,
});

export type AppRouter = typeof appRouter;
