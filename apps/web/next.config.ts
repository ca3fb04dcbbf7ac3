import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";
import { securityHeaders } from "./src/lib/security-headers.ts";

const config: NextConfig = {
  headers: async () => [{ source: "/:path*", headers: securityHeaders }],
  // Workspace packages ship TypeScript source.
  transpilePackages: ["@subnet-review/core"],
  // A self-contained server for infra/web.Dockerfile (which sets NEXT_OUTPUT_STANDALONE); traced from the monorepo root.
  ...(process.env.NEXT_OUTPUT_STANDALONE ? { output: "standalone" as const } : {}),
  outputFileTracingRoot: fileURLToPath(new URL("../..", import.meta.url)),
  poweredByHeader: false,
  // Next hashes the whole HTML in JavaScript on every response to make an ETag (a fifth of the CPU time serving a
  // cached review); the page changes as data arrives, so a conditional request would rarely save the body anyway.
  generateEtags: false,
  // The build checks the app; the tests are checked by `pnpm typecheck`.
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
