// @subnet-review/core/node: what only Node processes use (kept out of the browser-safe main entry).
export { processIsAlive } from "./process.ts";
export { ProgressWriter, type ProgressStream, type ProgressWriterOptions } from "./progress-writer.ts";
export { drainAndClose, freePort, listen } from "./http-server.ts";
