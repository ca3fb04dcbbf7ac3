import { describe, expect, it } from "vitest";
import { loglikelihoodRequest, meanStderr, pooledSampleStderr, scoreMultipleChoice, truncateAtStop } from "../src/index.ts";

describe("acc and acc_norm", () => {
  it("disagree when a long choice has the lower total but higher per-character loglikelihood", () => {
    // "rock": -2.0 / 4 chars = -0.5; "a heavy iron ball": -2.2 / 17 chars = -0.129
    const s = scoreMultipleChoice([-2.0, -2.2], ["rock", "a heavy iron ball"], 1);
    expect(s).toEqual({ pred: 0, predNorm: 1, acc: 0, accNorm: 1 });
  });
  it("and the other way round: the gold short choice wins acc, loses acc_norm", () => {
    // "up": -0.5 / 2 = -0.25 per char; "down": -0.6 / 4 = -0.15 per char
    expect(scoreMultipleChoice([-0.5, -0.6], ["up", "down"], 0)).toEqual({ pred: 0, predNorm: 1, acc: 1, accNorm: 0 });
  });
  it("length is in characters (code points), not UTF-16 units or bytes", () => {
    // "😀😀" is 2 characters (4 UTF-16 units): -1/2 = -0.5 beats "abc" -1.8/3 = -0.6; by UTF-16 units it would lose.
    expect(scoreMultipleChoice([-1.0, -1.8], ["😀😀", "abc"], 0).predNorm).toBe(0);
  });
  it("ties go to the first choice, as numpy argmax", () => {
    expect(scoreMultipleChoice([-1, -1], ["a", "b"], 1).pred).toBe(0);
  });
  it("rejects a count mismatch", () => {
    expect(() => scoreMultipleChoice([-1], ["a", "b"], 0)).toThrow(/1 loglikelihoods for 2 choices/);
  });
});

describe("loglikelihood requests", () => {
  it("continuation is ' ' + choice", () => {
    expect(loglikelihoodRequest("Question: why?\nAnswer:", "because")).toEqual({
      context: "Question: why?\nAnswer:",
      continuation: " because",
    });
  });
  it("moves the context's trailing whitespace onto the continuation", () => {
    expect(loglikelihoodRequest("Answer: \n", "B")).toEqual({ context: "Answer:", continuation: " \n B" });
  });
});

describe("stop sequences", () => {
  it("cut at the first occurrence of each", () => {
    expect(truncateAtStop("The answer is 5.\n\nQ: next</s>", ["Q:", "</s>"])).toBe("The answer is 5.\n\n");
    expect(truncateAtStop("no stop", ["Q:"])).toBe("no stop");
  });
});

describe("standard errors", () => {
  it("mean_stderr is the sample std (n-1) over sqrt(n)", () => {
    // [0,1,0,1]: mean 0.5, sum sq 1, var 1/3, sd 0.57735, / 2
    expect(meanStderr([0, 1, 0, 1])).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
    expect(meanStderr([1])).toBeNaN();
  });
  it("pooled stderr over groups (the harness's group aggregation)", () => {
    // groups [1,0] (se 0.5) and [1,1,0] (se sqrt(1/3)/sqrt(3)): sum((n-1)*se^2*n) = 0.5 + 2/3, / (5-2), / 5
    const se2 = meanStderr([1, 1, 0]);
    expect(pooledSampleStderr([0.5, se2], [2, 3])).toBeCloseTo(Math.sqrt((0.5 + 2 / 3) / 3 / 5), 12);
  });
});
