// The CLI as users run it: bin/review.mjs on the esbuild bundle in dist/ (the other tests run the sources with tsx).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../scripts/bundle.ts";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../bin/review.mjs", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const inputsFile = fileURLToPath(new URL("../dist/inputs.json", import.meta.url));
const config = fileURLToPath(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url));

async function exec(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", argv, { env: { ...process.env, DATABASE_URL: "", ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await buildBundle();
}, 60_000);

describe("the bundled CLI", () => {
  it("prints what the sources print", async () => {
    const args = ["census", "--config", config, "--trainable", "8", "--kept", "16"];
    for (const extra of [["--json"], []]) {
      const bundled = await exec([bin, ...args, ...extra]);
      const sources = await exec(["--import", "tsx", main, ...args, ...extra]);
      expect(bundled.code).toBe(0);
      expect(bundled.stdout).toBe(sources.stdout);
    }
  });

  it("refuses bad input naming the flag, exit 2, no stack trace", async () => {
    const r = await exec([bin, "census", "--config", config, "--trainable", "-1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^review census: --trainable: must be 0 or more/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("finds the files beside its sources (migrations, the published review) and loads PGlite and Prisma", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "bundle-")), "pglite");
    const r = await exec([bin, "import"], { REVIEW_DATA_DIR: dataDir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/review \d+: 49 reported figures imported/);
  }, 60_000);

  it("rebuilds itself when a file it was built from is newer than the build", async () => {
    const inputs = JSON.parse(readFileSync(inputsFile, "utf8")) as { builtAt: number; files: string[] };
    writeFileSync(inputsFile, JSON.stringify({ ...inputs, builtAt: 0 }));
    const r = await exec([bin, "census", "--config", config, "--json"]);
    expect(r.code).toBe(0);
    const rebuilt = JSON.parse(readFileSync(inputsFile, "utf8")) as { builtAt: number };
    expect(rebuilt.builtAt).toBeGreaterThan(inputs.builtAt - 1);
  }, 60_000);
});
