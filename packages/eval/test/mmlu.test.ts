import { describe, expect, it } from "vitest";
import { loadEvalTask, loadMmlu, mmluPrompt } from "../src/index.ts";
import { testDataDir } from "./tiny-model.ts";

const DATA = testDataDir;

// Written out by hand from dev/abstract_algebra_dev.csv (5 rows) and the first row of
// test/abstract_algebra_test.csv, following the harness's mmlu default template.
const EXPECTED_ABSTRACT_ALGEBRA_0 =
  "The following are multiple choice questions (with answers) about abstract algebra.\n\n" +
  "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n" +
  "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: B\n\n" +
  "Statement 1 | Every element of a group generates a cyclic subgroup of the group. Statement 2 | The symmetric group S_10 has 10 elements.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: C\n\n" +
  "Statement 1| Every function from a finite set onto itself must be one to one. Statement 2 | Every subgroup of an abelian group is abelian.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer: A\n\n" +
  "Find the characteristic of the ring 2Z.\nA. 0\nB. 3\nC. 12\nD. 30\nAnswer: A\n\n" +
  "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:";

describe("mmlu", () => {
  it("builds the 5-shot abstract_algebra prompt byte for byte", async () => {
    const task = await loadEvalTask("mmlu", { dataDir: DATA, limit: 1 });
    const first = task.items[0]!;
    expect(first.kind).toBe("choice");
    if (first.kind !== "choice") return;
    expect(first.subject).toBe("abstract_algebra");
    expect(first.context).toBe(EXPECTED_ABSTRACT_ALGEBRA_0);
    expect(first.choices).toEqual(["A", "B", "C", "D"]);
  });
  it("loads the full CSV release: 57 subjects, 5 dev rows each, 14,042 test rows, quoted newlines kept", async () => {
    const subjects = await loadMmlu(`${DATA}/mmlu`);
    expect(subjects).toHaveLength(57);
    expect(subjects.every((s) => s.dev.length === 5)).toBe(true);
    expect(subjects.reduce((n, s) => n + s.test.length, 0)).toBe(14042);
    const law = subjects.find((s) => s.subject === "professional_law")!;
    expect(law.test).toHaveLength(1534);
    expect(subjects.flatMap((s) => s.test).filter((d) => d.question.includes("\n")).length).toBeGreaterThan(0);
  });
  it("0-shot is the description and the question only; a subject name is read with spaces", async () => {
    const [aa] = await loadMmlu(`${DATA}/mmlu`);
    const p = mmluPrompt("high_school_us_history", aa!.dev, aa!.test[0]!, 0);
    expect(p.startsWith("The following are multiple choice questions (with answers) about high school us history.\n\nFind the degree")).toBe(true);
    expect(() => mmluPrompt("x", aa!.dev, aa!.test[0]!, 6)).toThrow(/dev split has only 5/);
  });
  it("--limit applies per subject, as the harness applies it per subtask", async () => {
    const task = await loadEvalTask("mmlu", { dataDir: DATA, limit: 2 });
    expect(task.items).toHaveLength(114);
  });
});
