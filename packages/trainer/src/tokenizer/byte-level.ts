/**
 * GPT-2's reversible byte <-> printable-character table, as used by the `tokenizers` ByteLevel
 * pre-tokenizer and decoder: printable Latin-1 bytes map to themselves, the other 68 bytes map to
 * U+0100.. in byte order, so every byte string becomes a string of visible characters.
 */
function byteToCharTable(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCodePoint(b);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) {
      table[b] = String.fromCodePoint(256 + next);
      next++;
    }
  }
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = byteToCharTable();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();
// fatal: false replaces invalid sequences with U+FFFD, like Rust's String::from_utf8_lossy.
const utf8Lossy = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The byte-level form of `text`: its UTF-8 bytes, each as its table character. */
export function byteLevelString(text: string): string {
  const bytes = utf8.encode(text);
  let out = "";
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/**
 * Text of byte-level tokens, as the ByteLevel decoder does it: a token made only of table
 * characters contributes those bytes; any other token (e.g. an added token "<｜end▁of▁sentence｜>")
 * contributes its own UTF-8 bytes. The joined bytes are decoded lossily.
 */
export function byteLevelDecode(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const token of tokens) {
    const own: number[] = [];
    let allMapped = true;
    for (const ch of token) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b === undefined) {
        allMapped = false;
        break;
      }
      own.push(b);
    }
    if (allMapped) bytes.push(...own);
    else bytes.push(...utf8.encode(token));
  }
  return utf8Lossy.decode(Uint8Array.from(bytes));
}

/** UTF-8 byte length of a string (for byte offsets). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
