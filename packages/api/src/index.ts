export { appRouter, type AppRouter } from "./root.ts";
export { createApiServer, drainAndClose, listen, type ApiServerOptions } from "./server.ts";
export { createContext, createCallerFactory, type Context } from "./trpc.ts";
export type { ReviewView, ComparedFigure, CellMemoryView, RetentionRow } from "./view/view.ts";
export type { RunsView, RunCellView } from "./view/runs.ts";
export type { CycleSummaryView, CycleDetailView, CycleMinerView, CycleCountView } from "./routers/telemetry.ts";
