import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hellaswagDoc, hellaswagPreprocess, hellaswagRecordSchema, loadEvalTask, pyCapitalize } from "../src/index.ts";
import { testDataDir } from "./tiny-model.ts";

const FILE = `${testDataDir}/hellaswag/hellaswag_val_sample1000.jsonl`;
const lines = readFileSync(FILE, "utf8").split("\n");
const record = (lineNo: number) => hellaswagRecordSchema.parse(JSON.parse(lines[lineNo - 1]!));

describe("capitalize (Python str.capitalize)", () => {
  it("upper-cases the first character and LOWER-cases the rest", () => {
    expect(pyCapitalize("the man in the Red shirt")).toBe("The man in the red shirt");
    expect(pyCapitalize("tHE MAN")).toBe("The man");
    expect(pyCapitalize("")).toBe("");
  });
});

describe("preprocess", () => {
  it("strips, turns ' [title]' into '. ', drops [..] tags, collapses double spaces", () => {
    expect(hellaswagPreprocess("  [header] How to x [title] Do y. [step] Then z.  ")).toBe(" How to x. Do y. Then z.");
    // strip runs first, so a leading tag leaves a leading space
    expect(hellaswagPreprocess("[title] If you're outside.")).toBe(" If you're outside.");
  });
});

// Expected strings computed with the harness's utils.process_docs in Python on these exact lines.
describe("real lines of the sample file", () => {
  it("line 2 (activitynet): ctx_b 'the woman' is capitalized", () => {
    const doc = hellaswagDoc(record(2));
    expect(doc.query).toBe(
      "Playing violin: A woman in a dress holding a violin addresses an audience. The woman plays the violin as other musicians look on. The woman",
    );
    expect(doc.choices).toEqual([
      "finishes playing and sits back.",
      "finishes playing directly and the audience applauds.",
      "finishes her playing and everyone applauds.",
      "pauses to face the audience.",
    ]);
    expect(doc.gold).toBe(2);
  });
  it("line 4 (wikihow): [header]/[title]/[step] handling and empty ctx_b", () => {
    const doc = hellaswagDoc(record(4));
    expect(doc.query).toBe(
      "Sports and Fitness: How to bowl the leg spinner's variations. To bowl a googly, you grip the ball the same as you would for a leg break but hold it so your palm faces away from you. As you bowl, you bring your elbow close to your head and cock your wrist so that back of your hand faces the batsman. You spin the ball by rotating the fingers.",
    );
    expect(doc.choices).toEqual([
      " If you're outside, the batsman only looks at the batsman as they dribble.. If you're inside, the batsman lets you line up the batsman with you.",
      "Bring your wrist back towards your head so that the ball is back in front of your body and your fist will be holding the ball. A barbell is not needed for this style of bowl.",
      "If done properly, the ball should turn from off to leg for right handers. If the batsman comes out of his crease and misses the googly, he can be stumped.",
      " Only let the ball hit your side as you come out of the ball, not your core. Remember to rotate your wrist so your hand reaches over your head, not away from it.",
    ]);
  });
  it("the task carries the SAMPLE note and holds all 1,000 items", async () => {
    const task = await loadEvalTask("hellaswag", { dataDir: testDataDir });
    expect(task.items).toHaveLength(1000);
    expect(task.note).toMatch(/SAMPLE of 1,000 of the 10,042/);
  });
});
