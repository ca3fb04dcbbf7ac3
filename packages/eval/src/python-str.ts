// Python's str semantics where the harness relies on them: its whitespace set differs from JS trim()
// (it includes \x1c-\x1f and \x85, excludes \ufeff) and len() counts code points, not UTF-16 units.
const PY_WHITESPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING = new RegExp(`^[${PY_WHITESPACE}]+`);
const TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`);

/** Python `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, "").replace(TRAILING, "");
}

/** Python `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, "");
}

/** Python `len(s)`: code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python `s.capitalize()`: first character upper-cased, every other character LOWER-cased. */
export function pyCapitalize(s: string): string {
  const first = s.codePointAt(0);
  if (first === undefined) return s;
  const head = String.fromCodePoint(first);
  return head.toUpperCase() + s.slice(head.length).toLowerCase();
}
