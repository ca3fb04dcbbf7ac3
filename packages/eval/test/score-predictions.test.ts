import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EvalDataError, scoreGsm8kPredictions } from "../src/index.ts";
import { testDataDir } from "./tiny-model.ts";

const DATA = `${testDataDir}/gsm8k/test.jsonl`;
const docs = readFileSync(DATA, "utf8")
  .trim()
  .split("\n")
  .slice(0, 4)
  .map((l) => JSON.parse(l) as { question: string; answer: string });
const dir = mkdtempSync(join(tmpdir(), "eval-pred-"));
const write = (name: string, rows: unknown[]): string => {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return p;
};

describe("scoreGsm8kPredictions", () => {
  it("matches predictions to problems by question text and scores both filters", async () => {
    // golds of the first 4 test problems: 18, 3, 70000, 540
    const predictionsPath = write("p.jsonl", [
      { question: docs[0]!.question, completion: "16 - 3 - 4 = 9. 9 * 2 = 18. The answer is 18." }, // strict ok, flexible ok
      { question: docs[2]!.question, completion: "He made $70,000. The answer is $70,000." }, // strict invalid, flexible ok
      { question: docs[1]!.question, completion: "The answer is 4.\n\nSo 3 bolts" }, // strict 4 wrong, flexible 3 ok
    ]);
    const r = await scoreGsm8kPredictions({ dataPath: DATA, predictionsPath });
    expect(r.n).toBe(3);
    expect(r.missing).toBe(1316);
    expect(r.strict).toBeCloseTo(1 / 3, 12);
    expect(r.flexible).toBe(1);
    expect(r.strictStderr).toBeCloseTo(1 / 3, 12);
    expect(r.flexibleStderr).toBe(0);
  });
  it("cuts each completion at the task's stop sequences before the filters, as the harness does", async () => {
    // A server that ignored `stop` ran on into a made-up next question; its last number is not the answer.
    const predictionsPath = write("unstopped.jsonl", [
      { question: docs[0]!.question, completion: " 9 * 2 = 18. The answer is 18.\n\nQ: What is 2 + 2?\nA: The answer is 4." },
      { question: docs[1]!.question, completion: " 2 + 1 = 3 bolts. The answer is 3.</s>The answer is 5." },
    ]);
    const r = await scoreGsm8kPredictions({ dataPath: DATA, predictionsPath });
    // uncut, flexible-extract takes "4." and "5." (0 of 2); cut at "Q:" and "</s>" it takes "18." and "3." (2 of 2)
    expect([r.strict, r.flexible]).toEqual([1, 1]);
  });
  it("a question not in the data is an error naming its line", async () => {
    const predictionsPath = write("bad.jsonl", [
      { question: docs[0]!.question, completion: "The answer is 18." },
      { question: "What is the airspeed of an unladen swallow?", completion: "The answer is 11." },
    ]);
    const err = await scoreGsm8kPredictions({ dataPath: DATA, predictionsPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvalDataError);
    expect((err as Error).message).toBe(`${predictionsPath}:2: field "question": not a question of ${DATA}`);
  });
  it("a repeated question and a missing completion are errors naming their lines", async () => {
    const dup = write("dup.jsonl", [
      { question: docs[0]!.question, completion: "a" },
      { question: docs[0]!.question, completion: "b" },
    ]);
    await expect(scoreGsm8kPredictions({ dataPath: DATA, predictionsPath: dup })).rejects.toThrow(`${dup}:2: field "question": already predicted on line 1`);
    const missing = write("missing.jsonl", [{ question: docs[0]!.question }]);
    await expect(scoreGsm8kPredictions({ dataPath: DATA, predictionsPath: missing })).rejects.toThrow(`${missing}:1: field "completion"`);
  });
});
