import { modelConfigRouter } from "./routers/modelConfig.ts";
import { reviewRouter } from "./routers/review.ts";
import { createTRPCRouter } from "./trpc.ts";

export const appRouter = createTRPCRouter({
  review: reviewRouter,
  modelConfig: modelConfigRouter,
});

export type AppRouter = typeof appRouter;
