// Bundles the production server (server/main.ts, with what it imports from src/ and the workspace, zod included) into
// dist/server.mjs, plain JavaScript that `node` runs without tsx. Next stays outside, loaded from node_modules beside
// the app: Next's standalone output traces it (its own server.js loads it too). Runs after `next build` (package.json).
// When that build wrote a standalone output (NEXT_OUTPUT_STANDALONE=1), the bundle and what Next leaves to the deployer
// (.next/static, public/) are copied into it, so it runs as it is: node .next/standalone/apps/web/dist/server.mjs.
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const webDir = fileURLToPath(new URL("..", import.meta.url));

await build({
  entryPoints: [join(webDir, "server/main.ts")],
  outfile: join(webDir, "dist/server.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["next", "next/*"],
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
});

const standalone = join(webDir, ".next/standalone");
if (existsSync(standalone)) {
  const { relativeAppDir } = JSON.parse(readFileSync(join(webDir, ".next/required-server-files.json"), "utf8"));
  const appDir = join(standalone, relativeAppDir);
  if (!existsSync(join(appDir, "node_modules/next/package.json"))) throw new Error(`${appDir}: Next's standalone output has no node_modules/next`);
  cpSync(join(webDir, "dist"), join(appDir, "dist"), { recursive: true });
  cpSync(join(webDir, ".next/static"), join(appDir, ".next/static"), { recursive: true });
  if (existsSync(join(webDir, "public"))) cpSync(join(webDir, "public"), join(appDir, "public"), { recursive: true });
  console.log(
    `server: dist/server.mjs, copied into ${join(".next/standalone", relativeAppDir)} with .next/static${existsSync(join(webDir, "public")) ? " and public/" : ""}`,
  );
} else {
  console.log("server: dist/server.mjs");
}
