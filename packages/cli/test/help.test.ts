import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { commandHelps, commandNames } from "../src/commands.ts";
import { runReview } from "./run-review.ts";

const srcDir = fileURLToPath(new URL("../src", import.meta.url));
const review = (...args: string[]) => runReview(args);

/** Every flag name the CLI's sources declare for node:util (`name: { type: "string" }`), wherever it is declared. */
async function declaredFlagNames(): Promise<string[]> {
  const files = [...(await readdir(join(srcDir, "commands"))).map((f) => join(srcDir, "commands", f)), join(srcDir, "training-evals.ts")];
  const names = new Set<string>();
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/(?:"([a-z][a-z0-9-]*)"|\b([a-z][a-zA-Z0-9]*))\s*:\s*\{\s*type:\s*"(?:string|boolean)"/g)) names.add(m[1] ?? m[2]!);
  }
  return [...names].sort();
}

describe("help", () => {
  it("`review help` lists every flag any command parses, each with a line of help", async () => {
    const { code, stdout } = await review("help");
    expect(code).toBe(0);
    const declared = await declaredFlagNames();
    expect(declared.length).toBeGreaterThan(40);
    expect(declared.filter((name) => !new RegExp(`--${name}\\b`).test(stdout))).toEqual([]);
    for (const help of await commandHelps()) {
      for (const [name, flag] of Object.entries(help.flags)) expect(flag.help ?? "", `--${name} in ${help.usage.split("\n")[0]}`).not.toBe("");
    }
  });

  it.each(commandNames)("`review %s --help` prints its usage and flags and exits 0", async (name) => {
    const { code, stdout, stderr } = await review(name, "--help");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`pnpm review ${name}`);
    const helps = (await commandHelps()).filter((h) => h.usage.startsWith(`pnpm review ${name} `) || h.usage === `pnpm review ${name}`);
    expect(helps.length).toBeGreaterThan(0);
    for (const h of helps) for (const flag of Object.keys(h.flags)) expect(stdout).toContain(`--${flag}`);
  });

  it("`review token create --help` shows only that subcommand; -h works too", async () => {
    const { code, stdout } = await review("token", "create", "-h");
    expect(code).toBe(0);
    expect(stdout).toContain("pnpm review token create");
    expect(stdout).not.toContain("pnpm review token revoke");
  });
});
