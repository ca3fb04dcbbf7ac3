import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { evalWorkerRequestSchema } from "../src/worker/eval-messages.ts";
import { workerSpecSchema } from "../src/worker/messages.ts";
import { PROTOCOL_SCHEMA_PATH, protocolSchemaText } from "../src/worker/protocol-schema.ts";

interface Cases {
  valid: { name: string; spec: unknown; parsed: unknown }[];
  invalid: { name: string; spec: unknown; path: (string | number)[] }[];
  eval_requests: {
    valid: { name: string; request: unknown; parsed: unknown }[];
    invalid: { name: string; request: unknown; path: (string | number)[] }[];
  };
}
// the same cases feed worker/tests/test_protocol.py, which checks them against protocol.schema.json
const cases = JSON.parse(readFileSync(new URL("./fixtures/protocol-cases.json", import.meta.url), "utf8")) as Cases;

describe("worker protocol schema", () => {
  it("worker/protocol.schema.json is what the zod schemas emit now (rewrite it: pnpm --filter @subnet-review/trainer protocol-schema)", () => {
    expect(readFileSync(PROTOCOL_SCHEMA_PATH, "utf8")).toBe(protocolSchemaText());
  });

  it.each(cases.valid)("accepts $name with its defaults filled in", ({ spec, parsed }) => {
    expect(workerSpecSchema.parse(spec)).toEqual(parsed);
  });

  it.each(cases.invalid)("refuses $name, naming the field", ({ spec, path }) => {
    const result = workerSpecSchema.safeParse(spec);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it.each(cases.eval_requests.valid)("accepts the eval request $name with its defaults filled in", ({ request, parsed }) => {
    expect(evalWorkerRequestSchema.parse(request)).toEqual(parsed);
  });

  it.each(cases.eval_requests.invalid)("refuses the eval request $name, naming the field", ({ request, path }) => {
    const result = evalWorkerRequestSchema.safeParse(request);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });
});
