// Builds the CLI users run (`pnpm review`): the workspace's TypeScript compiled once into dist/ with esbuild, so a
// command starts as plain Node instead of compiling TypeScript at every call (tsx stays for development and tests).
// bin/review.mjs runs it when dist/ is missing or a file it was built from changed; `pnpm --filter
// @subnet-review/cli build` (tsx scripts/bundle.ts) runs it now.
// Packages from node_modules stay outside the bundle, imported from the files Node itself would load, so their own
// assets (PGlite's WASM, Prisma's runtime) load as usual; zod alone is bundled (plain JS that every command loads,
// spread over ~60 files that cost more to open than to parse).
import { readFile } from "node:fs/promises";
import { mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const cliDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = resolve(cliDir, "../..");
const distDir = resolve(cliDir, "dist");

/**
 * dist/inputs.json, read by bin/review.mjs: every file the bundle was built from or imports (relative to dist/);
 * one changed after builtAt, or gone, means the bundle is stale.
 */
export interface BundleInputs {
  builtAt: number;
  files: string[];
}

/** A specifier relative to dist/ (every output file lies directly in it). */
function fromDist(file: string): string {
  const rel = relative(distDir, file).split("\\").join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** zod's schema API as a module namespace, which esbuild can tree-shake (zod's `z` export is one object). */
const zodApi = fileURLToPath(new URL("v4/classic/external.js", import.meta.resolve("zod")));

/**
 * Two rewrites of the workspace's sources as they are read:
 * - they find their files (migrations, the worker's Python, the published review) beside themselves through
 *   import.meta.url: in the bundle it still names the source file, as a URL relative to dist/;
 * - `import { z } from "zod"` becomes `import * as z` from zod's API module, so only the parts of zod that are
 *   used are compiled at start (a third of the code `census` loaded, with 50 message locales).
 */
const sourceRewrites: Plugin = {
  name: "source-rewrites",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      let text = await readFile(path, "utf8");
      const original = text;
      text = text.replace(
        /^import \{ z(, ZodError)? \} from "zod";$/gm,
        (_, error: string | undefined) => `import * as z from ${JSON.stringify(zodApi)};${error ? ` import { ZodError } from ${JSON.stringify(zodApi)};` : ""}`,
      );
      if (text.includes("import.meta.url")) text = text.replaceAll("import.meta.url", `new URL(${JSON.stringify(fromDist(path))}, import.meta.url).href`);
      return text === original ? undefined : { contents: text, loader: "ts" };
    });
  },
};

/** Packages compiled into the bundle: ours, and zod. */
const bundled = /^zod(\/|$)/;

/** Other packages stay external, at the real path Node's resolution gives from the importing file. */
const externalPackages = (externals: Set<string>): Plugin => ({
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith("node:") || args.pluginData?.external) return undefined;
      if (args.path.startsWith("@subnet-review/") || bundled.test(args.path)) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { external: true } });
      if (found.errors.length > 0) return { errors: found.errors };
      if (!found.path || found.external) return { path: args.path, external: true }; // a Node builtin
      const file = realpathSync(found.path);
      externals.add(file);
      return { path: fromDist(file), external: true };
    });
  },
});

/** Written whole, then renamed over the old file: a `review` starting meanwhile never reads half a file. */
function writeWhole(file: string, contents: Uint8Array | string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
}

/** Chunks a build no longer names are kept an hour: a command still running may yet import them. */
const OLD_CHUNK_MS = 3_600_000;

export async function buildBundle(): Promise<void> {
  const builtAt = Date.now(); // before reading anything: a file saved during the build makes the next start rebuild
  const externals = new Set<string>();
  const result = await build({
    entryPoints: { main: resolve(cliDir, "src/main.ts") },
    outdir: distDir,
    write: false,
    bundle: true,
    splitting: true, // each command's module stays its own chunk: `census` loads neither the database nor the trainer
    absWorkingDir: repoDir,
    format: "esm",
    platform: "node",
    target: "node20",
    conditions: ["node"], // as Node resolves: no bundler-only "module" condition
    mainFields: ["main"],
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    sourcemap: "linked",
    minify: true, // less to compile at every start
    metafile: true,
    logLevel: "warning",
    plugins: [externalPackages(externals), sourceRewrites],
  });
  mkdirSync(distDir, { recursive: true });
  // chunks first, main.js and inputs.json last: a start never finds a main.js whose chunks are not there yet
  const files = [...result.outputFiles].sort((a, b) => Number(a.path.endsWith("main.js")) - Number(b.path.endsWith("main.js")));
  for (const file of files) writeWhole(file.path, file.contents);
  const inputs: BundleInputs = {
    builtAt,
    files: [...Object.keys(result.metafile.inputs).map((p) => resolve(repoDir, p)), ...externals].map(fromDist),
  };
  writeWhole(resolve(distDir, "inputs.json"), `${JSON.stringify(inputs)}\n`);
  const current = new Set([...files.map((f) => f.path), resolve(distDir, "inputs.json")]);
  for (const name of readdirSync(distDir)) {
    const path = resolve(distDir, name);
    if (!current.has(path) && statSync(path).mtimeMs < builtAt - OLD_CHUNK_MS) rmSync(path, { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  await buildBundle();
  console.log(`cli bundle: ${relative(repoDir, distDir)}/main.js built in ${Math.round(performance.now() - started)} ms`);
}
