export { createDb, type Db } from "./client.ts";
export {
  listenForDataChanges,
  DATA_CHANGED_CHANNEL,
  DATA_CHANGES_APPLICATION,
  type DataChanges,
  type DataChangesHandlers,
  type DataChangesOptions,
  type DataChangesState,
} from "./data-changes.ts";
export { openDatabase, defaultDataDir, type OpenDatabase } from "./database.ts";
export { databaseEnvSchema, databaseOptions, type DatabaseEnv } from "./env.ts";
export { connectEmbedded, EMBEDDED_MAX_CONNECTIONS, type EmbeddedConnection, type EmbeddedPostgres } from "./embedded.ts";
export { applyMigrations, readMigrations, migrationsDir, type Migration } from "./migrate.ts";
export { importPublishedReview, readPublishedReview, publishedReviewSchema, publishedReviewPath, type PublishedReview } from "./published.ts";
export { reviewConstantsSchema, type ReviewConstants } from "./schemas.ts";
export { createApiToken, findActiveToken, revokeApiToken, hashToken } from "./tokens.ts";
export { Prisma } from "./generated/prisma/client.ts";
export type {
  Review,
  ReportedFigure,
  ModelConfig,
  Subnet,
  Experiment,
  ApiToken,
  TrainingRun,
  TrainingStep,
  EvalResult,
  ChainCycle,
  ChainMiner,
  TelemetryCheckpoint,
} from "./generated/prisma/client.ts";
