import { formatFigure } from "@subnet-review/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";
import { clearAllResponseCaches } from "../src/response-cache.ts";

let api: TestApi;
let token: string;
const client = (auth?: string) => api.client(auth);

const SLUG = "subnet-102-status-review";
const result = (over: Record<string, unknown>) =>
  ({ model: "deepseek-v2-lite", task: "gsm8k_cot", metric: "strict-match", value: 0.5, stderr: 0.01, n: 1319, ...over }) as never;

beforeAll(async () => {
  api = await startTestApi();
  token = await api.token("evals-test");
  for (const cell of ["A", "C"] as const) {
    await client(token).runs.create.mutate({
      id: `run-${cell}`,
      cell,
      trainable: 8,
      kept: 0,
      steps: 500,
      spec: {},
      experts: null,
      hardware: null,
      gitCommit: null,
      experiment: { name: "esft-cells-gsm8k", description: "" },
      startedAt: new Date().toISOString(),
    });
  }
});
afterAll(async () => {
  await api?.stop();
});

describe("evals router", () => {
  it("refuses writes without a token and names the field of a bad result", async () => {
    await expect(client().evals.record.mutate({ results: [result({})] })).rejects.toThrow(/API token/);
    await expect(client(token).evals.record.mutate({ results: [result({ metric: "acc" })] })).rejects.toThrow(
      /gsm8k_cot metrics are strict-match, flexible-extract/,
    );
    await expect(client(token).evals.record.mutate({ results: [result({ task: "piqa" })] })).rejects.toThrow(/task must be one of/);
    await expect(client(token).evals.record.mutate({ results: [result({ value: 58.5 })] })).rejects.toThrow(/value/);
    await expect(client(token).evals.record.mutate({ results: [result({ runId: "run-none", step: 0 })] })).rejects.toThrow(/runId: no run run-none/);
  });

  it("upserts by model | run | step | task | metric and lists by run and by model", async () => {
    await client(token).evals.record.mutate({ results: [result({ runId: "run-A", step: 100, value: 0.3 })] });
    await client(token).evals.record.mutate({ results: [result({ runId: "run-A", step: 100, value: 0.35 }), result({ runId: "run-A", step: 0, value: 0.2 })] });
    const rows = await client().evals.byRun.query({ runId: "run-A" });
    expect(rows.map((r) => [r.step, r.value])).toEqual([
      [0, 0.2],
      [100, 0.35],
    ]);
    await client(token).evals.record.mutate({
      results: [result({ model: "deepseek-ai/DeepSeek-V2-Lite", task: "mmlu", metric: "acc", value: 0.585, n: 14042 })],
    });
    expect((await client().evals.byModel.query({ model: "deepseek-ai/DeepSeek-V2-Lite" })).map((r) => r.task)).toEqual(["mmlu"]);
  });

  it("puts measured GSM8K-by-step and retention figures into the review view", async () => {
    await client(token).evals.record.mutate({
      results: [
        result({ runId: "run-C", step: 0, value: 0.2 }),
        result({ runId: "run-C", step: 250, value: 0.31 }),
        result({ runId: "run-A", step: 0, task: "hellaswag", metric: "acc", value: 0.525, n: 1000 }),
        result({ runId: "run-A", step: 500, task: "hellaswag", metric: "acc", value: 0.516, n: 1000 }),
        result({ runId: "run-C", step: 500, task: "hellaswag", metric: "acc", value: 0.522, n: 1000 }),
      ],
    });
    clearAllResponseCaches();
    const view = await client().review.bySlug.query({ slug: SLUG });
    const evals = view.evals!;
    expect(evals.gsm8k.map((c) => [c.cell, c.points.map((p) => [p.step, p.figure.value])])).toEqual([
      [
        "A",
        [
          [0, 20],
          [100, 35],
        ],
      ],
      [
        "C",
        [
          [0, 20],
          [250, 31],
        ],
      ],
    ]);
    expect(evals.gsm8k[0]!.points[1]!.figure).toMatchObject({ kind: "measured", unit: "percent" });
    const hs = evals.retention.find((r) => r.benchmark === "hellaswag")!;
    expect(formatFigure(hs.base!)).toMatch(/52\.5/);
    expect(hs.note).toMatch(/1,000/);
    expect(hs.base!.formula).toMatch(/SAMPLE of 1,000/);
    expect(hs.cells.map((c) => [c.cell, c.step, c.delta?.value, c.flagged])).toEqual([
      ["A", 500, -0.9, true],
      ["C", 500, -0.3, false],
    ]);
    // base from the run-less result of the review's model when no run has a step-0 evaluation
    expect(evals.retention.find((r) => r.benchmark === "mmlu")?.base?.value).toBe(58.5);
    // the published figures stay as the comparison
    expect(view.cells.retention.find((r) => r.benchmark === "hellaswag")?.base.kind).toBe("reported");
  });
});
