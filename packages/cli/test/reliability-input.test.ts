import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@subnet-review/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReview } from "./run-review.ts";

// The CLI's bad-input classes: each exits 2 with one line naming the flag and what is allowed, on stderr only,
// with no stack trace and no database or library internals.

const config = fileURLToPath(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url));

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "cli-input-"));
  await writeFile(join(dir, "not-json.json"), "{ nope");
  await writeFile(join(dir, "not-a-review.json"), JSON.stringify({ title: "no slug" }));
  await writeFile(join(dir, "data.jsonl"), `${JSON.stringify({ question: "1+1?", answer: "2\n#### 2" })}\n`);
  await writeFile(join(dir, "bad-line.jsonl"), `${JSON.stringify({ question: "1+1?", answer: "#### 2" })}\n{ nope\n`);
  await writeFile(join(dir, "empty.jsonl"), "\n");
});
afterAll(async () => {
  await database.drop();
});

const review = (...args: string[]) => runReview(args, { DATABASE_URL: database.url });

const internals = /\n\s+at |prisma|Prisma|invocation|ENOENT: no such file|SQL|Unhandled/;

describe("bad input to the CLI", () => {
  it.each([
    [["census", "--config", config, "--trainable", "-1"], /^review census: --trainable: must be 0 or more$/],
    [["memory", "--config", config, "--trainable", "8", "--kept", "-16"], /^review memory: --kept: must be 0 or more$/],
    [["import", "--file", "missing-review.json"], /^review import: --file: cannot read missing-review.json \(ENOENT\)$/],
    [["import", "--file", "DIR"], /^review import: --file: cannot read .* \(not a file\)$/],
    [["import", "--file", "DIR/not-json.json"], /^review import: --file: .*not-json.json is not valid JSON/],
    [["import", "--file", "DIR/not-a-review.json"], /^review import: --file: .*not-a-review.json: slug: /],
    [
      ["eval", "score", "--task", "gsm8k_cot", "--data", "missing.jsonl", "--predictions", "DIR/data.jsonl"],
      /^review eval: --data: cannot read missing.jsonl \(ENOENT\)$/,
    ],
    [
      ["eval", "score", "--task", "gsm8k_cot", "--data", "DIR/data.jsonl", "--predictions", "missing.jsonl"],
      /^review eval: --predictions: cannot read missing.jsonl \(ENOENT\)$/,
    ],
    [
      ["eval", "score", "--task", "gsm8k_cot", "--data", "DIR/bad-line.jsonl", "--predictions", "DIR/data.jsonl"],
      /^review eval: --data: .*bad-line.jsonl:2: not valid JSON/,
    ],
    [
      ["eval", "score", "--task", "gsm8k_cot", "--data", "DIR/data.jsonl", "--predictions", "DIR/bad-line.jsonl"],
      /^review eval: --predictions: .*bad-line.jsonl:1: field "completion"/,
    ],
    [
      ["eval", "score", "--task", "gsm8k_cot", "--data", "DIR/data.jsonl", "--predictions", "DIR/empty.jsonl"],
      /^review eval: --predictions: .*empty.jsonl: no predictions$/,
    ],
    [["token", "revoke", "--id", "2147483648"], /^review token: --id: a token id \(see token list\): at most 2147483647$/],
    [["token", "revoke", "--id", "-1"], /^review token: --id: a token id \(see token list\)$/],
    [["token", "revoke", "--id", "99"], /^review token: --id: no active token 99$/],
    [["token", "revoke"], /^review token: --id: required: a token id \(see token list\)$/],
    [["token", "create"], /^review token: --name: required: a name for the token$/],
  ])("%j exits 2 naming the flag", async (args, message) => {
    const { code, stdout, stderr } = await review(...(args as string[]).map((a) => a.replace(/^DIR/, dir)));
    expect(stdout).toBe("");
    expect(stderr.trim()).toMatch(message);
    expect(stderr).not.toMatch(internals);
    expect(code).toBe(2);
  });
});
