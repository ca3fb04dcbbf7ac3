import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EvalDataError, loadArc, loadEvalTask, loadGsm8k, loadHellaswag, loadMmluCsv, parseCsv } from "../src/index.ts";
import { testDataDir } from "./tiny-model.ts";

const dir = mkdtempSync(join(tmpdir(), "eval-data-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("RFC 4180 CSV reader", () => {
  it("handles quotes, doubled quotes, commas and newlines inside quotes, CRLF, and a last line without newline", () => {
    const recs = parseCsv('a,"b,1","say ""hi""\nthere"\r\nx,,y\nlast,row');
    expect(recs).toEqual([
      { line: 1, fields: ["a", "b,1", 'say "hi"\nthere'] },
      { line: 3, fields: ["x", "", "y"] },
      { line: 4, fields: ["last", "row"] },
    ]);
  });
  it("skips blank lines but keeps counting them", () => {
    expect(parseCsv("a,b\n\r\nc,d\n\n")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 3, fields: ["c", "d"] },
    ]);
  });
  it("keeps a CRLF inside a quoted field verbatim", () => {
    expect(parseCsv('"a\r\nb",c\r\n')).toEqual([{ line: 1, fields: ["a\r\nb", "c"] }]);
  });
});

describe("line-numbered errors", () => {
  it("GSM8K: a line without '####' names file, line and field", async () => {
    const p = file("gsm8k.jsonl", '{"question":"q1","answer":"x #### 1"}\n{"question":"q2","answer":"no marker"}\n');
    await expect(loadGsm8k(p)).rejects.toThrow(`${p}:2: field "answer": must contain "####"`);
  });
  it("GSM8K: a line that is not JSON", async () => {
    const p = file("bad.jsonl", '{"question":"q1","answer":"#### 1"}\n\n{"question": \n');
    await expect(loadGsm8k(p)).rejects.toThrow(new RegExp(`${p}:3: not valid JSON`));
  });
  it("ARC: an answerKey that is not a label", async () => {
    const p = file("arc.jsonl", '{"id":"x","question":{"stem":"s","choices":[{"text":"a","label":"1"},{"text":"b","label":"2"}]},"answerKey":"C"}\n');
    await expect(loadArc(p)).rejects.toThrow(`${p}:1: field "answerKey": must be one of the choice labels (1, 2), got "C"`);
  });
  it("HellaSwag: a label out of range", async () => {
    const p = file("hs.jsonl", '{"ind":1,"activity_label":"a","ctx_a":"b","ctx_b":"c","endings":["1","2","3","4"],"label":7}\n');
    await expect(loadHellaswag(p)).rejects.toThrow(new RegExp(`${p}:1: field "label"`));
  });
  it("MMLU CSV: a record's error names the line it starts on, after a record spanning two lines", async () => {
    const p = file("m_test.csv", '"two\nlines",a,b,c,d,A\nq,a,b,c,d,E\n');
    await expect(loadMmluCsv(p, "m")).rejects.toThrow(`${p}:3: field "answer": answer (field 6) must be one of A, B, C, D`);
    const q = file("m2_test.csv", "q,a,b,c,d,A\nq,a,b,c,A\n");
    await expect(loadMmluCsv(q, "m2")).rejects.toThrow(`${q}:2: field "(record)": a row must have 6 fields`);
    const r = file("m3_test.csv", 'q,a,b,c,d,A\n"never closed,a,b,c,d,A\n');
    await expect(loadMmluCsv(r, "m3")).rejects.toThrow(`${r}:2: quoted field is never closed`);
  });
  it("errors are EvalDataError with file and line", async () => {
    const p = file("g2.jsonl", '{"question":"","answer":"#### 1"}\n');
    const err = await loadGsm8k(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvalDataError);
    expect(err).toMatchObject({ file: p, line: 1 });
  });
});

describe("ARC", () => {
  it("numeric labels: gold is the index of answerKey among the labels", async () => {
    const docs = await loadArc(`${testDataDir}/arc/ARC-Challenge-Test.jsonl`);
    expect(docs).toHaveLength(1172);
    const d = docs[44]!; // line 45, NYSEDREGENTS_2008_8_34, labels 1-4, answerKey "2"
    expect(d.id).toBe("NYSEDREGENTS_2008_8_34");
    expect(d.labels).toEqual(["1", "2", "3", "4"]);
    expect(d.gold).toBe(1);
    expect(d.choices[1]).toBe("Kinetic energy increases and potential energy decreases.");
    expect(docs.filter((x) => x.labels[0] === "1")).toHaveLength(22);
  });
  it("prompt is 'Question: {stem}\\nAnswer:' with the choice texts", async () => {
    const task = await loadEvalTask("arc_challenge", { dataDir: testDataDir, limit: 1 });
    const it0 = task.items[0]!;
    if (it0.kind !== "choice") throw new Error("expected a choice item");
    expect(it0.context).toBe(
      "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:",
    );
    expect(it0.choices[2]).toBe("Planetary days will become shorter.");
    expect(it0.gold).toBe(2);
  });
});
