import { pyStrip } from "./python-str.ts";
import { exactMatch, gsm8kExactMatchOptions } from "./exact-match.ts";

/** The 8 chain-of-thought exemplars of Wei et al. as lm-evaluation-harness `gsm8k-cot.yaml` (v3.0) holds them. */
export const GSM8K_COT_EXEMPLARS: readonly { question: string; target: string }[] = [
  {
    question:
      "There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?",
    target: "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.",
  },
  {
    question: "If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
    target: "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.",
  },
  {
    question: "Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
    target:
      "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.",
  },
  {
    question: "Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?",
    target: "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8.",
  },
  {
    question: "Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
    target: "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9.",
  },
  {
    question:
      "There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?",
    target:
      "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29.",
  },
  {
    question:
      "Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?",
    target:
      "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33.",
  },
  {
    question: "Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
    target: "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.",
  },
];

export const GSM8K_COT_STOP = ["Q:", "</s>", "<|im_end|>"] as const;
export const GSM8K_COT_MAX_TOKENS = 256;
export const INVALID_ANSWER = "[invalid]";

/** `doc_to_text`: "Q: {question}\nA:". */
export function gsm8kCotQuery(question: string): string {
  return `Q: ${question}\nA:`;
}

/** The 8-shot context: each exemplar "Q: ..\nA:" + " " + target, joined and followed by "\n\n", then the query. */
export function gsm8kCotPrompt(question: string): string {
  const shots = GSM8K_COT_EXEMPLARS.map((e) => `${gsm8kCotQuery(e.question)} ${e.target}`).join("\n\n");
  return `${shots}\n\n${gsm8kCotQuery(question)}`;
}

// Python `re` patterns from the yaml. The strict pattern ends in an unescaped "." which in Python matches any
// character but "\n" (JS "." also refuses "\r", "\u2028", "\u2029"), so it is written [^\n].
const STRICT = /The answer is (\-?[0-9\.\,]+)[^\n]/g;
const FLEXIBLE = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

/** strict-match: first match of `The answer is (\-?[0-9\.\,]+).`, group 1, stripped; else "[invalid]". */
export function extractStrict(output: string): string {
  for (const m of output.matchAll(STRICT)) return pyStrip(m[1]!);
  return INVALID_ANSWER;
}

/** flexible-extract: last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`, its first non-empty group, stripped. */
export function extractFlexible(output: string): string {
  let last: RegExpMatchArray | undefined;
  for (const m of output.matchAll(FLEXIBLE)) last = m;
  if (last === undefined) return INVALID_ANSWER;
  const group = [last[1], last[2]].find((g) => g !== undefined && g !== "");
  return group === undefined ? INVALID_ANSWER : pyStrip(group);
}

export interface Gsm8kScore {
  strict: { extracted: string; correct: boolean };
  flexible: { extracted: string; correct: boolean };
}

/** Both gsm8k_cot filters and the exact_match metric for one completion against its reference answer. */
export function scoreGsm8kCompletion(output: string, target: string): Gsm8kScore {
  const strict = extractStrict(output);
  const flexible = extractFlexible(output);
  return {
    strict: { extracted: strict, correct: exactMatch(strict, target, gsm8kExactMatchOptions) },
    flexible: { extracted: flexible, correct: exactMatch(flexible, target, gsm8kExactMatchOptions) },
  };
}
