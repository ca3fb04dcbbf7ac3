/**
 * The harness's `exact_match` (HF evaluate's): remove every match of each regex in `regexesToIgnore`, in order,
 * from prediction and reference, then lower-case (ignore_case), then drop punctuation (ignore_punctuation),
 * then compare for string equality.
 */
export interface ExactMatchOptions {
  ignoreCase: boolean;
  ignorePunctuation: boolean;
  /** Already translated to JS with the global flag (see `pythonSubPattern`). */
  regexesToIgnore: RegExp[];
}

// Python's string.punctuation.
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function normalizeForExactMatch(s: string, options: ExactMatchOptions): string {
  let out = s;
  for (const re of options.regexesToIgnore) out = out.replace(re, "");
  if (options.ignoreCase) out = out.toLowerCase();
  if (options.ignorePunctuation) out = out.replace(ASCII_PUNCTUATION, "");
  return out;
}

export function exactMatch(prediction: string, reference: string, options: ExactMatchOptions): boolean {
  return normalizeForExactMatch(prediction, options) === normalizeForExactMatch(reference, options);
}

/**
 * gsm8k_cot's metric settings: ignore_case true, ignore_punctuation false,
 * regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"]. Python's `$` (no MULTILINE) also matches just before a
 * final "\n", hence `(?=\n?$)`; `(?s).` is `[\s\S]`.
 */
export const gsm8kExactMatchOptions: ExactMatchOptions = {
  ignoreCase: true,
  ignorePunctuation: false,
  regexesToIgnore: [/,/g, /\$/g, /[\s\S]*#### /g, /\.(?=\n?$)/g],
};
