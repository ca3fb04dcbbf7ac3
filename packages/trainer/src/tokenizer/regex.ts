/**
 * Translates the Oniguruma regexes found in tokenizer.json files into JavaScript RegExps with the
 * `u` flag. Oniguruma (what `tokenizers` compiles patterns with) differs from JS in ways that
 * change splits: `\s`, `\d`, `\w` are Unicode-aware there, `(?i:...)` scoped flags exist there but
 * not in Node 20, and a lone `{` or an escaped quote is a literal there but a syntax error under `u`.
 * `\b` is ASCII-only in JS, `.` stops at \r and U+2028 there, and `^`/`$` are always line anchors
 * (at \n only) in Oniguruma: each is rewritten to its Oniguruma meaning.
 * Constructs with no JS equivalent (possessive quantifiers, atomic groups, other inline flags,
 * nested classes, backreferences, \G \K \R \X ...) are rejected rather than approximated.
 */
export class UnsupportedRegexError extends Error {
  constructor(pattern: string, reason: string) {
    super(`unsupported regex ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "UnsupportedRegexError";
  }
}

const WHITE_SPACE = "\\p{White_Space}";
const NOT_WHITE_SPACE = "\\P{White_Space}";
// Oniguruma's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation, plus the
// Latin-1 superscripts and fractions (² ³ ¹ ¼ ½ ¾) its ISO-8859-1 ctype table counts as word.
const WORD_CLASS_BODY = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE";
const WORD = `[${WORD_CLASS_BODY}]`;
// \b and \B over that Unicode \w (JS's own \b only knows [A-Za-z0-9_]).
const WORD_BOUNDARY = `(?:(?<!${WORD})(?=${WORD})|(?<=${WORD})(?!${WORD}))`;
const NOT_WORD_BOUNDARY = `(?:(?<!${WORD})(?!${WORD})|(?<=${WORD})(?=${WORD}))`;
// Oniguruma's ^ and $ are line anchors that know only \n (JS's m flag also stops at \r, U+2028, U+2029).
const LINE_START = "(?<![^\\n])";
const LINE_END = "(?![^\\n])";
// Escapes with no exact JS counterpart, and why.
const UNSUPPORTED_ESCAPES: Record<string, string> = {
  G: "\\G (match-start anchor)",
  K: "\\K (keep)",
  R: "\\R (general newline)",
  X: "\\X (extended grapheme cluster)",
  N: "\\N (non-newline)",
  O: "\\O (any character)",
  y: "\\y (grapheme boundary)",
  Y: "\\Y (grapheme non-boundary)",
  g: "\\g (subexpression call)",
  k: "\\k (named backreference)",
};
// Characters that must stay escaped under the `u` flag (everything else escaped is a literal).
const JS_SYNTAX = new Set([..."^$\\.*+?()[]{}|/-"]);

function isAsciiLetter(ch: string): boolean {
  return (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z");
}

function caseFold(ch: string, inClass: boolean): string {
  const pair = `${ch.toLowerCase()}${ch.toUpperCase()}`;
  return inClass ? pair : `[${pair}]`;
}

/** Oniguruma pattern source -> equivalent JS pattern source (for use with the `u` flag). */
export function translateOnigurumaPattern(pattern: string): string {
  let out = "";
  let inClass = false;
  let classStart = false;
  // Stack of open groups; true where the group is a `(?i:` scope.
  const groups: boolean[] = [];
  const caseInsensitive = (): boolean => groups.includes(true);
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const next = chars[i + 1];
    if (ch === "\\") {
      if (next === undefined) throw new UnsupportedRegexError(pattern, "trailing backslash");
      i++;
      classStart = false;
      switch (next) {
        case "s":
          out += WHITE_SPACE;
          continue;
        case "S":
          out += NOT_WHITE_SPACE;
          continue;
        case "d":
          out += "\\p{Nd}";
          continue;
        case "D":
          out += "\\P{Nd}";
          continue;
        case "w":
          out += inClass ? WORD_CLASS_BODY : WORD;
          continue;
        case "W":
          if (inClass) throw new UnsupportedRegexError(pattern, "\\W inside a character class");
          out += `[^${WORD_CLASS_BODY}]`;
          continue;
        case "b":
          out += inClass ? "\\x08" : WORD_BOUNDARY; // [\b] is a backspace in both engines
          continue;
        case "B":
          if (inClass) throw new UnsupportedRegexError(pattern, "\\B inside a character class");
          out += NOT_WORD_BOUNDARY;
          continue;
        case "h":
          out += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]";
          continue;
        case "H":
          if (inClass) throw new UnsupportedRegexError(pattern, "\\H inside a character class");
          out += "[^0-9a-fA-F]";
          continue;
        case "a":
          out += "\\x07";
          continue;
        case "e":
          out += "\\x1B";
          continue;
        case "A":
          out += "(?<![\\s\\S])";
          continue;
        case "z":
          out += "(?![\\s\\S])";
          continue;
        case "Z":
          out += "(?=\\n?(?![\\s\\S]))";
          continue;
        case "p":
        case "P": {
          // \pL, \p{L}, \p{^L}
          if (chars[i + 1] === "{") {
            const close = chars.indexOf("}", i + 2);
            if (close < 0) throw new UnsupportedRegexError(pattern, "unterminated \\p{");
            let name = chars.slice(i + 2, close).join("");
            let negated = next === "P";
            if (name.startsWith("^")) {
              negated = !negated;
              name = name.slice(1);
            }
            out += `\\${negated ? "P" : "p"}{${name}}`;
            i = close;
          } else {
            const name = chars[i + 1];
            if (name === undefined) throw new UnsupportedRegexError(pattern, "dangling \\p");
            out += `\\${next}{${name}}`;
            i++;
          }
          continue;
        }
        case "x": {
          if (chars[i + 1] === "{") {
            const close = chars.indexOf("}", i + 2);
            if (close < 0) throw new UnsupportedRegexError(pattern, "unterminated \\x{");
            out += `\\u{${chars.slice(i + 2, close).join("")}}`;
            i = close;
          } else out += "\\x";
          continue;
        }
        default:
          if (UNSUPPORTED_ESCAPES[next]) throw new UnsupportedRegexError(pattern, `${UNSUPPORTED_ESCAPES[next]} has no JS equivalent`);
          // Oniguruma numbers only unnamed groups when no group is named; we keep names as plain captures.
          if (/[1-9]/.test(next)) throw new UnsupportedRegexError(pattern, `backreference \\${next}`);
          if (/[0-9A-Za-z]/.test(next)) out += `\\${next}`;
          else if (next === "-") out += inClass ? "\\-" : "-";
          else if (JS_SYNTAX.has(next)) out += `\\${next}`;
          else out += next; // e.g. \' \" \# \  are plain literals
          continue;
      }
    }
    if (inClass) {
      if (ch === "]") {
        // A `]` first in a class is a literal in Oniguruma; JS would read `[]` as an empty class.
        out += classStart ? "\\]" : "]";
        inClass = classStart;
        classStart = false;
        continue;
      }
      classStart = false;
      if (ch === "[") throw new UnsupportedRegexError(pattern, "nested character classes");
      if (caseInsensitive() && isAsciiLetter(ch)) {
        if (next === "-") throw new UnsupportedRegexError(pattern, "ranges inside a (?i:...) class");
        out += caseFold(ch, true);
      } else out += ch;
      continue;
    }
    switch (ch) {
      case "[":
        inClass = true;
        classStart = true;
        out += ch;
        if (next === "^") {
          out += "^";
          i++;
        }
        continue;
      case "(": {
        if (next === "?") {
          const rest = chars.slice(i + 2, i + 4).join("");
          if (rest === "i:") {
            groups.push(true);
            out += "(?:";
            i += 3;
            continue;
          }
          const kind = chars[i + 2];
          if (kind === ":" || kind === "=" || kind === "!") {
            groups.push(false);
            out += `(?${kind}`;
            i += 2;
            continue;
          }
          if (kind === "<" && (chars[i + 3] === "=" || chars[i + 3] === "!")) {
            groups.push(false);
            out += `(?<${chars[i + 3]}`;
            i += 3;
            continue;
          }
          if (kind === ">") throw new UnsupportedRegexError(pattern, "atomic groups (?>...)");
          if (kind === "<" || kind === "P") {
            groups.push(false);
            out += "(";
            // Named group: keep it as a plain capture (names are irrelevant to splitting).
            const close = chars.indexOf(">", i + 2);
            if (close < 0) throw new UnsupportedRegexError(pattern, "unterminated group name");
            i = close;
            continue;
          }
          throw new UnsupportedRegexError(pattern, `inline flags or group kind "(?${kind ?? ""}"`);
        }
        groups.push(false);
        out += ch;
        continue;
      }
      case ")":
        if (groups.length === 0) throw new UnsupportedRegexError(pattern, "unbalanced )");
        groups.pop();
        out += ch;
        continue;
      case "+":
      case "*":
      case "?":
        if (next === "+") throw new UnsupportedRegexError(pattern, `possessive quantifier ${ch}+`);
        out += ch;
        continue;
      case ".":
        out += "[^\\n]";
        continue;
      case "^":
        out += LINE_START;
        continue;
      case "$":
        out += LINE_END;
        continue;
      case "}":
        // Intervals are consumed whole at "{", so this `}` is a literal in Oniguruma.
        out += "\\}";
        continue;
      case "{": {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(i).join(""));
        if (m) {
          out += m[0];
          i += m[0].length - 1;
          if (chars[i + 1] === "+") throw new UnsupportedRegexError(pattern, "possessive quantifier {n,m}+");
        } else out += "\\{";
        continue;
      }
      default:
        if (caseInsensitive() && isAsciiLetter(ch)) out += caseFold(ch, false);
        else out += ch;
    }
  }
  if (inClass) throw new UnsupportedRegexError(pattern, "unterminated character class");
  if (groups.length > 0) throw new UnsupportedRegexError(pattern, "unbalanced (");
  return out;
}

/** A global, Unicode JS RegExp behaving like Oniguruma on `pattern`. */
export function compileOnigurumaRegex(pattern: string): RegExp {
  const source = translateOnigurumaPattern(pattern);
  try {
    return new RegExp(source, "gu");
  } catch (err) {
    throw new UnsupportedRegexError(pattern, (err as Error).message);
  }
}
