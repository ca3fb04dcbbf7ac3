import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEEPSEEK_BOS,
  DEEPSEEK_EOS,
  DEEPSEEK_V2_CHAT_TEMPLATE,
  SftDataError,
  loadTokenizer,
  packExamples,
  prepareSftData,
  readPackedDataset,
  readSftExamples,
  renderExample,
  tokenizeExample,
} from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const tokenizerDir = join(here, "../fixtures/tiny-tokenizer");
const tokenizer = await loadTokenizer(tokenizerDir);
const work = await mkdtemp(join(tmpdir(), "trainer-data-test-"));
afterAll(() => rm(work, { recursive: true, force: true }));

async function jsonl(name: string, lines: Array<unknown | string>): Promise<string> {
  const path = join(work, name);
  await writeFile(path, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return path;
}

const GSM = [
  { question: "Tom has 3 apples and buys 4 more. How many apples?", answer: "3 + 4 = <<3+4=7>>7\n#### 7" },
  { question: "A pen costs $2. How much do 5 pens cost?", answer: "5 * 2 = <<5*2=10>>10\n#### 10" },
  { question: "Sara reads 12 pages a day for 3 days. Total?", answer: "12 * 3 = <<12*3=36>>36\n#### 36" },
  { question: "What is 100 minus 58?", answer: "100 - 58 = <<100-58=42>>42\n#### 42" },
  { question: "Half of 90?", answer: "90 / 2 = <<90/2=45>>45\n#### 45" },
];

describe("readSftExamples", () => {
  it("reads the three shapes as chat messages", async () => {
    const path = await jsonl("shapes.jsonl", [
      { question: "Q1", answer: "A1" },
      "",
      { prompt: "P2", response: "R2" },
      {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "U3" },
          { role: "assistant", content: "A3" },
        ],
      },
    ]);
    const file = await readSftExamples(path);
    expect(file.lines).toBe(3);
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(file.examples.map((e) => e.line)).toEqual([1, 3, 4]);
    expect(file.examples[0]!.messages).toEqual([
      { role: "user", content: "Q1" },
      { role: "assistant", content: "A1" },
    ]);
    expect(file.examples[1]!.messages).toEqual([
      { role: "user", content: "P2" },
      { role: "assistant", content: "R2" },
    ]);
    expect(file.examples[2]!.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
  });

  it("reports every bad line with path, line number and what was expected", async () => {
    const path = await jsonl("bad.jsonl", [
      { question: "ok", answer: "ok" },
      "{not json",
      { question: "no answer" },
      { messages: [{ role: "bot", content: "x" }] },
      { messages: [{ role: "user", content: "only a question" }] },
      { text: "unknown shape" },
      { prompt: "p", response: 7 },
    ]);
    const error = await readSftExamples(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SftDataError);
    const issues = (error as SftDataError).issues;
    expect(issues.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7]);
    const message = (error as Error).message;
    expect(message).toContain(`${path}:2: invalid JSON`);
    expect(message).toMatch(new RegExp(`${path}:3: expected \\{question, answer\\}: answer: `));
    expect(message).toMatch(new RegExp(`${path}:4: expected \\{messages: .*messages\\[0\\]\\.role`));
    expect(message).toMatch(new RegExp(`${path}:5: .*must contain an assistant message`));
    expect(message).toMatch(/and 1 more bad lines/);
    expect(issues[4]!.message).toMatch(/got keys \[text\]/);
    expect(issues[5]!.message).toMatch(/expected \{prompt, response\}: response: /);
  });
});

describe("render + tokenize: target masks", () => {
  it("masks the prompt; targets are the space after 'Assistant:', the answer and EOS (hand-checked)", () => {
    const rendered = renderExample(
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "42" },
      ],
      DEEPSEEK_V2_CHAT_TEMPLATE,
    );
    expect(rendered.text).toBe(`${DEEPSEEK_BOS}User: Hi\n\nAssistant: 42${DEEPSEEK_EOS}`);
    const { ids, targets } = tokenizeExample(tokenizer, rendered);
    const pieces = ids.map((id, i) => [tokenizer.decode([id]), targets[i]] as const);
    // Tiny vocab: "User" is split by BPE; check the boundary exactly.
    const prompt = pieces
      .filter(([, t]) => t === 0)
      .map(([s]) => s)
      .join("");
    const target = pieces
      .filter(([, t]) => t === 1)
      .map(([s]) => s)
      .join("");
    expect(prompt).toBe(`${DEEPSEEK_BOS}User: Hi\n\nAssistant:`);
    expect(target).toBe(` 42${DEEPSEEK_EOS}`);
    expect(pieces.slice(-4)).toEqual([
      [" ", 1],
      ["4", 1],
      ["2", 1],
      [DEEPSEEK_EOS, 1],
    ]);
    expect(pieces[0]).toEqual([DEEPSEEK_BOS, 0]);
    // Targets are one contiguous run at the end.
    const firstTarget = targets.indexOf(1);
    expect([...targets.slice(firstTarget)].every((t) => t === 1)).toBe(true);
  });

  it("multi-turn messages: only assistant turns are targets; system and user are not", () => {
    const rendered = renderExample(
      [
        { role: "system", content: "Sys" },
        { role: "user", content: "one" },
        { role: "assistant", content: "1" },
        { role: "user", content: "two" },
        { role: "assistant", content: "2" },
      ],
      DEEPSEEK_V2_CHAT_TEMPLATE,
    );
    expect(rendered.text).toBe(`${DEEPSEEK_BOS}Sys\n\nUser: one\n\nAssistant: 1${DEEPSEEK_EOS}User: two\n\nAssistant: 2${DEEPSEEK_EOS}`);
    const { ids, targets } = tokenizeExample(tokenizer, rendered);
    let runs = "";
    ids.forEach((id, i) => (runs += targets[i] ? `[${tokenizer.decode([id])}]` : tokenizer.decode([id])));
    expect(runs.replace(/\]\[/g, "")).toBe(`${DEEPSEEK_BOS}Sys\n\nUser: one\n\nAssistant:[ 1${DEEPSEEK_EOS}]User: two\n\nAssistant:[ 2${DEEPSEEK_EOS}]`);
  });
});

describe("packExamples", () => {
  it("concatenates, splits across rows, zeroes each row's first position and pads the last row", () => {
    const examples = [
      { ids: [1, 2, 3], targets: Uint8Array.from([0, 1, 1]) },
      { ids: [4, 5, 6, 7, 8], targets: Uint8Array.from([0, 1, 1, 1, 1]) },
      { ids: [9], targets: Uint8Array.from([0]) },
    ];
    const packed = packExamples(examples, { seqLen: 4, padId: 0 });
    expect(packed.sequences).toBe(3);
    expect([...packed.inputIds]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0]);
    // Position 4 holds token 5, a target of example 2, but it opens row 2: nothing precedes it.
    expect([...packed.lossMask]).toEqual([0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    expect(packed.targetTokens).toBe(5);
    expect(packed.splitExamples).toBe(1);
    expect(packed.paddingTokens).toBe(3);
  });

  it("rejects a seqLen below 2 and an empty input", () => {
    expect(() => packExamples([{ ids: [1], targets: Uint8Array.from([0]) }], { seqLen: 1, padId: 0 })).toThrow(/seqLen must be an integer >= 2/);
    expect(() => packExamples([], { seqLen: 8, padId: 0 })).toThrow(/no tokens/);
  });
});

describe("prepareSftData", () => {
  it("writes packed.v1: manifest, int32 LE ids and a 0/1 mask that agree", async () => {
    const dataPath = await jsonl("gsm.jsonl", GSM);
    const outDir = join(work, "packed-a");
    // One row holds all five examples, so every answer's targets are intact (row cuts: packExamples test).
    const manifest = await prepareSftData({ dataPath, tokenizerDir, seqLen: 512, outDir, seed: 3 });
    expect(manifest).toMatchObject({
      format: "subnet-review.packed.v1",
      seqLen: 512,
      sequences: 1,
      vocabSize: 514,
      padId: 513,
      seed: 3,
      examples: 5,
      source: { path: dataPath, lines: 5 },
      template: `${DEEPSEEK_BOS}User: {prompt}\n\nAssistant: {response}${DEEPSEEK_EOS}`,
    });
    expect(manifest.tokens).toBe(512);
    expect(JSON.parse(await readFile(join(outDir, "packed.json"), "utf8"))).toEqual(manifest);
    const raw = await readFile(join(outDir, "input_ids.i32"));
    expect(raw.length).toBe(manifest.tokens * 4);
    expect(raw.readInt32LE(0)).toBe(512); // the first example starts with BOS
    const { inputIds, lossMask } = await readPackedDataset(outDir);
    // Every example's tokens appear, in shuffled order, followed by padding.
    const total = manifest.tokens - manifest.paddingTokens;
    expect([...inputIds.slice(total)].every((id) => id === 513)).toBe(true);
    expect([...lossMask.slice(total)].every((m) => m === 0)).toBe(true);
    const text = tokenizer.decode([...inputIds.slice(0, total)]);
    for (const row of GSM) expect(text).toContain(`User: ${row.question}\n\nAssistant: ${row.answer}${DEEPSEEK_EOS}`);
    // The targets decode to exactly the five answers (each with its leading space and EOS).
    const targetIds = [...inputIds].filter((_, i) => lossMask[i] === 1);
    expect(targetIds.length).toBe(manifest.targetTokens);
    const targetText = tokenizer.decode(targetIds);
    expect(targetText.split(DEEPSEEK_EOS).slice(0, -1).sort()).toEqual(GSM.map((r) => ` ${r.answer}`).sort());
    expect(targetText).not.toContain("User:");
  });

  it("is deterministic for a seed and shuffles differently for another", async () => {
    const dataPath = await jsonl("gsm-det.jsonl", GSM);
    const files = async (dir: string) => Promise.all(["packed.json", "input_ids.i32", "loss_mask.u8"].map((f) => readFile(join(dir, f))));
    await prepareSftData({ dataPath, tokenizerDir, seqLen: 32, outDir: join(work, "det-1"), seed: 11 });
    await prepareSftData({ dataPath, tokenizerDir, seqLen: 32, outDir: join(work, "det-2"), seed: 11 });
    await prepareSftData({ dataPath, tokenizerDir, seqLen: 32, outDir: join(work, "det-3"), seed: 12 });
    const [a, b, c] = await Promise.all([files(join(work, "det-1")), files(join(work, "det-2")), files(join(work, "det-3"))]);
    a.forEach((buf, i) => expect(buf.equals(b[i]!)).toBe(true));
    expect(a[1]!.equals(c[1]!)).toBe(false);
  });

  it("honours limit, replaces an earlier dataset atomically, and leaves no temp dirs", async () => {
    const dataPath = await jsonl("gsm-limit.jsonl", GSM);
    const outDir = join(work, "replace");
    await prepareSftData({ dataPath, tokenizerDir, seqLen: 16, outDir, seed: 0 });
    const manifest = await prepareSftData({ dataPath, tokenizerDir, seqLen: 16, outDir, seed: 0, limit: 2 });
    expect(manifest.examples).toBe(2);
    expect(manifest.source.lines).toBe(2);
    expect((await readPackedDataset(outDir)).manifest).toEqual(manifest);
    expect((await readdir(work)).filter((n) => n.includes(".tmp-") || n.includes(".old-"))).toEqual([]);
  });

  it("a bad line fails the whole file and writes nothing", async () => {
    const dataPath = await jsonl("gsm-bad.jsonl", [...GSM, { question: "no answer" }]);
    const outDir = join(work, "never");
    await expect(prepareSftData({ dataPath, tokenizerDir, seqLen: 16, outDir, seed: 0 })).rejects.toThrow(`${dataPath}:6: expected {question, answer}`);
    await expect(readdir(outDir)).rejects.toThrow(/ENOENT/);
  });

  it("refuses to overwrite a directory that is not a packed dataset", async () => {
    const dataPath = await jsonl("gsm-ow.jsonl", GSM);
    const outDir = join(work, "precious");
    await mkdir(outDir);
    await writeFile(join(outDir, "notes.txt"), "keep me");
    await expect(prepareSftData({ dataPath, tokenizerDir, seqLen: 16, outDir, seed: 0 })).rejects.toThrow(/refusing to replace/);
    expect(await readFile(join(outDir, "notes.txt"), "utf8")).toBe("keep me");
  });

  it("names bad options", async () => {
    await expect(prepareSftData({ dataPath: "x", tokenizerDir, seqLen: 1, outDir: "y", seed: -1 })).rejects.toThrow(/invalid options: seqLen: .*; seed: /);
  });

  it("rejects a template whose special tokens the tokenizer lacks", async () => {
    const dataPath = await jsonl("gsm-tpl.jsonl", GSM);
    const template = { ...DEEPSEEK_V2_CHAT_TEMPLATE, assistant: "Assistant: {content}<|eot|>", specialTokens: ["<|eot|>"] };
    await expect(prepareSftData({ dataPath, tokenizerDir, seqLen: 16, outDir: join(work, "tpl"), seed: 0, template })).rejects.toThrow(
      /needs "<\|eot\|>" as one token/,
    );
  });
});
