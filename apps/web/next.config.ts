import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

// Every response: no framing, no sniffing, no referrer beyond the origin, and only this origin's scripts, styles,
// fonts and images (inline ones too: Next's hydration data and the theme script before first paint are inline).
const securityHeaders = [
  {
    key: "Content-Security-Policy",
    // `next dev` evaluates its refresh code, so only there is eval allowed
    value: `default-src 'self'; script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === "development" ? " 'unsafe-eval'" : ""}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'`,
  },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];

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
  // The render cache lives in this server's memory: a restarted server renders afresh instead of serving pages
  // rendered before it stopped (possibly over another database).
  experimental: { isrFlushToDisk: false },
  // The build checks the app; the tests are checked by `pnpm typecheck`.
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
