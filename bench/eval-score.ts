/**
 * GSM8K scoring benchmark: 1,319 predictions built from the real test set answers (a third answered right in the
 * CoT form, a third wrong, a third with the right number only in flexible form), scored by
 * scoreGsm8kPredictions (read + parse + match + both filters + exact_match). Target: under 200 ms.
 * Writes bench/results/eval-score.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { scoreGsm8kPredictions } from "../packages/eval/src/index.ts";

const DATA = process.env.EVAL_DATA_DIR
  ? join(process.env.EVAL_DATA_DIR, "gsm8k", "test.jsonl")
  : fileURLToPath(new URL("../../shared/data/gsm8k/test.jsonl", import.meta.url));
const TARGET_MS = 200;
const RUNS = 10;

const problems = readFileSync(DATA, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as { question: string; answer: string });
const gold = (answer: string): string => answer.split("####").at(-1)!.trim();

const predictions = problems.map((p, i) => {
  const g = gold(p.answer);
  const work = "Let me work through this step by step. First we add the amounts, then we multiply.";
  if (i % 3 === 0) return { question: p.question, completion: `${work} The answer is ${g}.` };
  if (i % 3 === 1) return { question: p.question, completion: `${work} The answer is ${g}1.` };
  return { question: p.question, completion: `${work} So the total comes to ${g} in the end` };
});
const expectedStrict = problems.filter((_, i) => i % 3 === 0).length / problems.length;
const expectedFlexible = problems.filter((_, i) => i % 3 !== 1).length / problems.length;

const dir = mkdtempSync(join(tmpdir(), "bench-eval-score-"));
const predictionsPath = join(dir, "predictions.jsonl");
writeFileSync(predictionsPath, predictions.map((p) => JSON.stringify(p)).join("\n") + "\n");

const times: number[] = [];
const cold = performance.now();
let scores = await scoreGsm8kPredictions({ dataPath: DATA, predictionsPath });
const firstMs = performance.now() - cold;
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  scores = await scoreGsm8kPredictions({ dataPath: DATA, predictionsPath });
  times.push(performance.now() - t0);
}
if (Math.abs(scores.strict - expectedStrict) > 1e-12 || Math.abs(scores.flexible - expectedFlexible) > 1e-12) {
  throw new Error(`scores ${scores.strict}/${scores.flexible} differ from the constructed ${expectedStrict}/${expectedFlexible}`);
}
times.sort((a, b) => a - b);
const round = (x: number): number => Math.round(x * 100) / 100;
const medianMs = round(times[Math.floor(times.length / 2)]!);
const result = {
  bench: "eval-score-gsm8k",
  predictions: scores.n,
  strict: round(scores.strict * 100) / 100,
  flexible: round(scores.flexible * 100) / 100,
  runs: RUNS,
  firstMs: round(firstMs),
  medianMs,
  minMs: round(times[0]!),
  maxMs: round(times.at(-1)!),
  targetMs: TARGET_MS,
  pass: medianMs < TARGET_MS,
  node: process.version,
  at: new Date().toISOString(),
};
console.log(
  `scored ${scores.n} GSM8K predictions (strict ${(scores.strict * 100).toFixed(2)}%, flexible ${(scores.flexible * 100).toFixed(2)}%) in ${medianMs} ms median of ${RUNS} (first run ${result.firstMs}, min ${result.minMs}, max ${result.maxMs}); target < ${TARGET_MS} ms: ${result.pass ? "PASS" : "FAIL"}`,
);
const out = join(dirname(fileURLToPath(import.meta.url)), "results", "eval-score.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
