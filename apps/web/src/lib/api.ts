import { figureTransformer } from "@subnet-review/core";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
// Only the router's TYPE crosses into the web app; the server code stays in apps/api.
import type { AppRouter } from "@subnet-review/api";
import { webEnv } from "./env";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ReviewView = RouterOutputs["review"]["bySlug"];
export type ReviewList = RouterOutputs["review"]["list"];
export type CycleRange = RouterOutputs["telemetry"]["cycles"];
export type CycleDetail = RouterOutputs["telemetry"]["cycle"];

/** How long the page waits for the api before it serves the last good data instead. */
const API_TIMEOUT_MS = 8_000;

/** Server-side tRPC client for the api at API_URL (read in the server process, not at build time). */
export function api() {
  const url = `${webEnv().apiUrl}/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({ url, transformer: figureTransformer, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) }) }),
    ],
  });
}
