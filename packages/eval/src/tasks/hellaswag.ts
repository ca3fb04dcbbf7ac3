import { pyCapitalize, pyStrip } from "../python-str.ts";
import type { HellaswagRecord } from "../data/hellaswag.ts";

/** Every HellaSwag figure here comes from this file, a sample, so each result says so. */
export const HELLASWAG_SAMPLE_NOTE =
  "HellaSwag figures are on a random SAMPLE of 1,000 of the 10,042 validation items (the full split is not available here), not the full split.";

/** The harness's hellaswag `preprocess`: strip, " [title]" -> ". ", drop `[...]`, "  " -> " ". */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.split(" [title]").join(". ");
  t = t.replace(/\[[^\n]*?\]/g, "");
  t = t.split("  ").join(" ");
  return t;
}

export interface HellaswagDoc {
  query: string;
  choices: string[];
  gold: number;
}

/** The harness's `process_docs`: query = preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)). */
export function hellaswagDoc(rec: HellaswagRecord): HellaswagDoc {
  const ctx = `${rec.ctx_a} ${pyCapitalize(rec.ctx_b)}`;
  return {
    query: hellaswagPreprocess(`${rec.activity_label}: ${ctx}`),
    choices: rec.endings.map(hellaswagPreprocess),
    gold: rec.label,
  };
}
