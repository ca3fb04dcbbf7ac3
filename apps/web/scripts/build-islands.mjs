// Bundles the review page's islands (src/islands/client.tsx: React and the page's interactive components) into
// public/_islands/, the only script the page loads in production. Runs before `next build` (see package.json).
import { rmSync } from "node:fs";
import { build } from "esbuild";

const outdir = new URL("../public/_islands/", import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { client: new URL("../src/islands/client.tsx", import.meta.url).pathname },
  outdir,
  bundle: true,
  // the calculator is imported on demand: its own chunk, shared code in another
  splitting: true,
  format: "esm",
  chunkNames: "[name]-[hash]",
  minify: true,
  target: "es2022",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
const kB = (b) => `${(b / 1000).toFixed(1)} kB`;
for (const [file, out] of Object.entries(result.metafile.outputs)) console.log(`islands: ${file.replace(/^.*public\//, "public/")} ${kB(out.bytes)}`);
