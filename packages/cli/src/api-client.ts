import type { AppRouter } from "@subnet-review/api";
import { figureTransformer } from "@subnet-review/core";
import { createTRPCClient, httpBatchLink } from "@trpc/client";

/** A typed tRPC client for commands that write through the API (`--api URL --token T`). */
export function createApiClient(opts: { url: string; token?: string | undefined }) {
  const base = opts.url.replace(/\/+$/, "");
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        transformer: figureTransformer,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      }),
    ],
  });
}
export type ApiClient = ReturnType<typeof createApiClient>;
