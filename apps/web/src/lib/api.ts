import "server-only";
import { figureTransformer } from "@subnet-review/core";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
// Only the router's TYPE crosses into the web app; the server code stays in apps/api.
import type { AppRouter } from "@subnet-review/api";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ReviewView = RouterOutputs["review"]["bySlug"];
export type ReviewList = RouterOutputs["review"]["list"];
export type CycleRange = RouterOutputs["telemetry"]["cycles"];
export type CycleDetail = RouterOutputs["telemetry"]["cycle"];

/** How long the page waits for the api before it serves the last good data instead. */
const API_TIMEOUT_MS = 8_000;

/** Server-side tRPC client; API_URL is read at request time so one image serves any deployment. */
export function api() {
  const url = `${process.env.API_URL ?? "http://127.0.0.1:4000"}/trpc`;
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url, transformer: figureTransformer, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) }) })],
  });
}
