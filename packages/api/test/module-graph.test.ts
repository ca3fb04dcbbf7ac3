// The api server loads only what it uses: not the trainer (nor the eval backends that need it), which the eval
// package's main entry re-exports. Checked in a child process whose resolve hook logs every module it loads.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "module-graph-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file URLs of every module that importing `entry` (a specifier resolved from this file) loads. */
function loadedModules(entry: string): string[] {
  const log = join(dir, `${Math.random().toString(36).slice(2)}.log`);
  const hooks = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + "\\n");
  return resolved;
}`;
  const script = `import { register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
await import(${JSON.stringify(import.meta.resolve(entry))});`;
  // tsx is registered first, so the hook above sees each specifier as tsx resolves it
  execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], { cwd: import.meta.dirname, stdio: "pipe" });
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

const fromTrainer = (urls: string[]) => urls.filter((u) => u.includes("/packages/trainer/"));

describe("module graph", () => {
  it("importing the api server does not load @subnet-review/trainer", () => {
    const urls = loadedModules("../src/server.ts");
    expect(urls.some((u) => u.endsWith("/packages/eval/src/tasks/index.ts"))).toBe(true); // the hook saw the graph
    expect(fromTrainer(urls)).toEqual([]);
  }, 60_000);

  it("while eval's main entry does (what the api imported before @subnet-review/eval/tasks)", () => {
    expect(fromTrainer(loadedModules("@subnet-review/eval")).length).toBeGreaterThan(0);
  }, 60_000);
});
