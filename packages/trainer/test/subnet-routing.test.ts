import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseModelConfig } from "@subnet-review/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS_FILE, readMetricsLog } from "../src/runner/metrics-log.ts";
import { readRunFile } from "../src/runner/run-file.ts";
import { runTraining } from "../src/runner/runner.ts";
import { checkSelection, parseTrainableExperts } from "../src/runner/selection.ts";
import { runFlagsSchema, runSpecFromFlags, runSpecSchema } from "../src/runner/spec.ts";
import { TRAINER_ROOT } from "../src/worker/launch.ts";

// --routing, --top-k and --trainable-experts subnet:PATH, from the flags to the worker's ready line and run.json.

const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
const fixture = join(TRAINER_ROOT, "fixtures/expert_groups/exp_tiny/expert_assignment.json");
const lite = parseModelConfig(JSON.parse(readFileSync(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url), "utf8")));
const base = { model: "m", data: "d.jsonl", cell: "A", "trainable-experts": "top-k:2", steps: "3", device: "cpu" };

let dir = "";
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "subnet-routing-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--routing and --top-k", () => {
  it("default to the subnet's routing with the model's k, and name the flag when wrong", () => {
    const spec = runSpecFromFlags(runFlagsSchema.parse(base), (p) => `/abs/${p}`);
    expect(spec).toMatchObject({ routingMode: "subnet", topK: null });
    expect(runSpecFromFlags(runFlagsSchema.parse({ ...base, routing: "renormalized", "top-k": "1" }), (p) => p)).toMatchObject({
      routingMode: "renormalized",
      topK: 1,
    });
    const issue = (v: object) => runFlagsSchema.safeParse({ ...base, ...v }).error?.issues[0];
    expect(issue({ routing: "masked" })).toMatchObject({ path: ["routing"], message: "must be subnet or renormalized" });
    expect(issue({ "top-k": "0" })).toMatchObject({ path: ["top-k"], message: expect.stringMatching(/^must be at least 1/) });
    expect(issue({ cell: "C", routing: "subnet" })).toMatchObject({ path: ["routing"], message: expect.stringMatching(/cells A and B/) });
  });

  it("reads a run.json written before routing was recorded as the renormalized forward it ran", () => {
    const spec = runSpecFromFlags(runFlagsSchema.parse(base), (p) => p);
    const { routingMode: _m, topK: _k, ...old } = spec;
    expect(runSpecSchema.parse(old)).toMatchObject({ routingMode: "renormalized", topK: null });
  });
});

describe("--trainable-experts subnet:PATH", () => {
  it("reads the subnet's expert_assignment.json as the experts of each MoE layer", async () => {
    await expect(parseTrainableExperts(`subnet:${fixture}`)).resolves.toEqual({ method: "explicit", experts: { "1": [2, 5], "2": [0, 7] } });
    expect(runSpecFromFlags(runFlagsSchema.parse({ ...base, "trainable-experts": "subnet:exp.json" }), (p) => `/abs/${p}`).trainableExperts).toBe(
      "subnet:/abs/exp.json",
    );
    // exp_math's shape: 8 of 64 experts in each of DeepSeek-V2-Lite's MoE layers 1..26
    const math = Object.fromEntries(lite.moeLayerIndices.map((l) => [String(l), Array.from({ length: 8 }, (_, s) => [s, (l * 7 + s * 8) % 64])]));
    const selection = await parseTrainableExperts(`subnet:${file("math.json", math)}`);
    expect(() => checkSelection(selection, lite, "A", 0)).not.toThrow();
  });

  it("names the layer and the id of a bad file", async () => {
    const bad = async (value: unknown) => {
      const selection = await parseTrainableExperts(`subnet:${file("bad.json", value)}`);
      checkSelection(selection, lite, "A", 0);
    };
    const pairs = (l: number) => [
      [0, l],
      [1, l + 1],
    ];
    const all = Object.fromEntries(lite.moeLayerIndices.map((l) => [String(l), pairs(l)]));
    await expect(bad({ ...all, "0": [[0, 3]] })).rejects.toThrow(
      /^--trainable-experts: layer 0 is not a MoE layer of this model; MoE layers are 1\.\.26 \(it lists expert id\(s\) 3\)/,
    );
    await expect(bad({ ...all, "5": [[0, 64]] })).rejects.toThrow(/^--trainable-experts: layer 5: expert id 64 is out of range 0\.\.63/);
    await expect(
      bad({
        ...all,
        "5": [
          [0, 9],
          [1, 9],
        ],
      }),
    ).rejects.toThrow(/^--trainable-experts: subnet:.*bad\.json: layer 5 lists expert id 9 twice/);
    await expect(
      bad({
        ...all,
        "5": [
          [0, 9],
          [0, 10],
        ],
      }),
    ).rejects.toThrow(/layer 5 uses slot 0 twice \(expert id 10\)/);
    await expect(bad({ ...all, "5": [[0, -1]] })).rejects.toThrow(/layer 5 entry 0 is \[0,-1\]; it must be a \[slot, expert id\] pair of integers >= 0/);
    await expect(bad({ ...all, "5": [3] })).rejects.toThrow(/layer 5 entry 0 is 3/);
    await expect(bad({ experts: { "1": [0] } })).rejects.toThrow(/key "experts" must be an MoE layer index/);
    await expect(bad([[0, 1]])).rejects.toThrow(/must be a JSON object \{"<MoE layer>": \[\[slot, expert id\], \.\.\.\]\}/);
    await expect(parseTrainableExperts(`subnet:${join(dir, "none.json")}`)).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe("a run records its routing", () => {
  let model = "";
  let data = "";
  const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });

  beforeAll(() => {
    model = join(dir, "model");
    execFileSync(python, ["-m", "worker.fixture", model, "--vocab-size", "514"], { cwd: TRAINER_ROOT });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(TRAINER_ROOT, "fixtures/tiny-tokenizer", f), join(model, f));
    data = join(dir, "gsm8k-8.jsonl");
    const gsm8k = readFileSync(fileURLToPath(new URL("../../../../shared/data/gsm8k/train.jsonl", import.meta.url)), "utf8");
    writeFileSync(data, `${gsm8k.split("\n").slice(0, 8).join("\n")}\n`);
  }, 60_000);

  it("refuses --top-k above the model's routed experts before any worker starts", async () => {
    const flags = runFlagsSchema.parse({ ...base, model, data, "top-k": "9" });
    await expect(
      runTraining(
        runSpecFromFlags(flags, (p) => p),
        { outDir: join(dir, "runs-bad"), python, stderr: quiet() },
      ),
    ).rejects.toThrow(/^--top-k: 9 exceeds the model's 8 routed experts per layer/);
  });

  it.each([
    ["subnet", "1", { mode: "subnet", top_k: 1, clamped: {} }],
    ["renormalized", "3", { mode: "renormalized", top_k: 3, clamped: { "1": 2, "2": 2 } }],
  ])(
    "trains the subnet's shard with %s routing, top-%s, in metrics.jsonl's ready line and run.json",
    async (routing, k, expected) => {
      const flags = runFlagsSchema.parse({
        ...base,
        model,
        data,
        "trainable-experts": `subnet:${fixture}`,
        routing,
        "top-k": k,
        batch: "2",
        seq: "128",
        lr: "3e-3",
      });
      const result = await runTraining(
        runSpecFromFlags(flags, (p) => p),
        { outDir: join(dir, "runs"), python, stderr: quiet() },
      );
      expect(result.status, result.error ?? "").toBe("completed");
      const ready = readMetricsLog(join(result.dir, METRICS_FILE)).find((m) => m.type === "ready");
      expect(ready?.type === "ready" && ready.run.routing).toEqual(expected);
      expect(ready?.type === "ready" && ready.run.trainable).toEqual({ "1": [2, 5], "2": [0, 7] });
      expect(readRunFile(result.dir).spec).toMatchObject({ routingMode: routing, topK: Number(k) });
    },
    60_000,
  );
});
