#!/usr/bin/env node
// `pnpm review`: the CLI from its prebuilt bundle (dist/, built by scripts/bundle.ts with esbuild), so a command
// starts as plain Node instead of compiling TypeScript. A missing bundle, or one older than a file it was built
// from, is rebuilt first (a fresh clone, a pull, an edit); `--prebuild` only does that (postinstall).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

/** True when dist/inputs.json lists only files that still exist and are no newer than the build. */
function bundleIsFresh() {
  try {
    /** @type {{ builtAt: number, files: string[] }} */
    const inputs = JSON.parse(readFileSync(join(dist, "inputs.json"), "utf8"));
    return inputs.files.every((file) => statSync(join(dist, file)).mtimeMs <= inputs.builtAt);
  } catch {
    return false; // no bundle yet, or an input gone
  }
}

async function rebuild() {
  const { tsImport } = await import("tsx/esm/api");
  const { buildBundle } = await tsImport("../scripts/bundle.ts", import.meta.url);
  await buildBundle();
}

if (process.argv[2] === "--prebuild") {
  // after `pnpm install`: a bundle that cannot be built here (a filtered install without tsx or esbuild) is not an
  // install failure; `pnpm review` builds it, or says why, on first use
  if (!bundleIsFresh()) await rebuild().catch((err) => console.error(`cli bundle not built: ${err.message}`));
} else {
  if (!bundleIsFresh()) await rebuild();
  if (process.env.DEBUG) process.setSourceMapsEnabled(true); // stack traces name the TypeScript sources
  await import("../dist/main.js");
}
