import { describe, expect, it } from "vitest";
import {
  GSM8K_COT_EXEMPLARS,
  extractFlexible,
  extractStrict,
  exactMatch,
  gsm8kCotPrompt,
  gsm8kExactMatchOptions,
  gsm8kTarget,
  normalizeForExactMatch,
  scoreGsm8kCompletion,
} from "../src/index.ts";

describe("strict-match filter: `The answer is (\\-?[0-9\\.\\,]+).`, first match", () => {
  it("takes the number before the trailing character", () => {
    expect(extractStrict("So 8 * 9 = 72. The answer is 72.")).toBe("72");
  });
  it("with no character after the number, the unescaped '.' eats its last digit", () => {
    // [0-9.,]+ backtracks one digit so that '.' can match: the harness scores this "7".
    expect(extractStrict("The answer is 72")).toBe("7");
    expect(scoreGsm8kCompletion("The answer is 72", "72").strict.correct).toBe(false);
  });
  it("a single digit with nothing after it does not match at all", () => {
    expect(extractStrict("The answer is 5")).toBe("[invalid]");
  });
  it("'.' does not match a newline: 'The answer is 7\\n' is invalid, '72\\n' gives 7", () => {
    expect(extractStrict("The answer is 7\nQ")).toBe("[invalid]");
    expect(extractStrict("The answer is 72\n")).toBe("7");
  });
  it("keeps negative numbers and commas, which exact_match then drops", () => {
    expect(extractStrict("The answer is -3.")).toBe("-3");
    expect(extractStrict("The answer is 1,250 dollars")).toBe("1,250");
    expect(scoreGsm8kCompletion("The answer is 1,250 dollars", "1250").strict.correct).toBe(true);
    expect(scoreGsm8kCompletion("The answer is -3.", "-3").strict.correct).toBe(true);
  });
  it("a '$' after 'is ' is not a digit: invalid", () => {
    expect(extractStrict("The answer is $18.")).toBe("[invalid]");
  });
  it("takes the FIRST match; a '.' followed by more text stays in the group until exact_match drops it", () => {
    expect(extractStrict("The answer is 5. Wait. The answer is 6.")).toBe("5.");
    expect(scoreGsm8kCompletion("The answer is 5. Wait. The answer is 6.", "5").strict.correct).toBe(true);
  });
  it("is case-sensitive on the phrase and needs the exact spacing", () => {
    expect(extractStrict("the answer is 12.")).toBe("[invalid]");
    expect(extractStrict("The answer is: 12.")).toBe("[invalid]");
  });
  it("no match at all gives [invalid], which never equals a number", () => {
    expect(extractStrict("I do not know")).toBe("[invalid]");
    expect(scoreGsm8kCompletion("I do not know", "7").strict.correct).toBe(false);
  });
});

describe("flexible-extract filter: `(-?[$0-9.,]{2,})|(-?[0-9]+)`, last match, first non-empty group", () => {
  it("takes the LAST number", () => {
    expect(extractFlexible("3 + 4 = 7, then 7 * 2 = 14")).toBe("14");
  });
  it("a lone digit comes from group 2", () => {
    expect(extractFlexible("she has 5")).toBe("5");
  });
  it("keeps '$', ',' and a trailing '.', which exact_match removes", () => {
    expect(extractFlexible("It costs $1,200.")).toBe("$1,200.");
    expect(scoreGsm8kCompletion("It costs $1,200.", "1200").flexible.correct).toBe(true);
  });
  it("negative numbers", () => {
    expect(extractFlexible("the change is -15 degrees")).toBe("-15");
    expect(scoreGsm8kCompletion("the change is -15 degrees", "-15").flexible.correct).toBe(true);
  });
  it("a sentence-final '..' after a number is still one match: '18..' -> only the last '.' is dropped", () => {
    expect(extractFlexible("total 18..")).toBe("18..");
    expect(scoreGsm8kCompletion("total 18..", "18").flexible.correct).toBe(false);
  });
  it("no digits at all: [invalid]", () => {
    expect(extractFlexible("no numbers here")).toBe("[invalid]");
  });
  it("'..' alone matches group 1 (2+ chars of [$0-9.,])", () => {
    expect(extractFlexible("Hmm.. 4 apples..")).toBe("..");
  });
});

describe("exact_match with gsm8k_cot's settings", () => {
  it("removes ',', '$', everything up to '#### ', and a final '.', then lower-cases", () => {
    expect(normalizeForExactMatch("$1,000.", gsm8kExactMatchOptions)).toBe("1000");
    expect(normalizeForExactMatch("so the total is\n#### 1,000", gsm8kExactMatchOptions)).toBe("1000");
    expect(normalizeForExactMatch("ABC", gsm8kExactMatchOptions)).toBe("abc");
  });
  it("'\\.$' follows Python: it also matches before a final newline", () => {
    expect(normalizeForExactMatch("72.\n", gsm8kExactMatchOptions)).toBe("72\n");
    expect(normalizeForExactMatch("7.2", gsm8kExactMatchOptions)).toBe("7.2");
  });
  it("ignore_case compares [INVALID] and [invalid] equal", () => {
    expect(exactMatch("[INVALID]", "[invalid]", gsm8kExactMatchOptions)).toBe(true);
  });
  it("regexes run before lower-casing, and punctuation other than the listed ones stays", () => {
    expect(exactMatch("1.5", "15", gsm8kExactMatchOptions)).toBe(false);
    expect(exactMatch("18", "18.0", gsm8kExactMatchOptions)).toBe(false);
  });
  it("the reference is the text after the last '####', stripped", () => {
    expect(gsm8kTarget("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72")).toBe("72");
    expect(gsm8kTarget("x #### 1,000 ")).toBe("1,000");
  });
});

describe("gsm8k_cot prompt", () => {
  it("holds the 8 exemplars, 'Q: ..\\nA: target' joined by a blank line, then the query", () => {
    const p = gsm8kCotPrompt("What is 2 + 2?");
    expect(GSM8K_COT_EXEMPLARS).toHaveLength(8);
    expect(p.startsWith("Q: There are 15 trees in the grove. Grove workers will plant trees in the grove today.")).toBe(true);
    expect(p.endsWith("23 - 15 is 8. The answer is 8.\n\nQ: What is 2 + 2?\nA:")).toBe(true);
    expect(p.split("\n\n")).toHaveLength(9);
    expect(p.match(/\nA: /g)).toHaveLength(8);
    for (const e of GSM8K_COT_EXEMPLARS) expect(extractStrict(e.target)).toMatch(/^\d+$/);
  });
});
