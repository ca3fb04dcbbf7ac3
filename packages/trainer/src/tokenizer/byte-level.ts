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
  // Hand-rolled UTF-8 (lone surrogates become U+FFFD, as TextEncoder does): this is the hot path.
  let out = "";
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out += BYTE_TO_CHAR[c];
      continue;
    }
    if (c < 0x800) {
      out += BYTE_TO_CHAR[0xc0 | (c >> 6)]! + BYTE_TO_CHAR[0x80 | (c & 0x3f)]!;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = text.charCodeAt(i + 1);
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out +=
          BYTE_TO_CHAR[0xf0 | (c >> 18)]! +
          BYTE_TO_CHAR[0x80 | ((c >> 12) & 0x3f)]! +
          BYTE_TO_CHAR[0x80 | ((c >> 6) & 0x3f)]! +
          BYTE_TO_CHAR[0x80 | (c & 0x3f)]!;
        continue;
      }
      c = 0xfffd;
    }
    out += BYTE_TO_CHAR[0xe0 | (c >> 12)]! + BYTE_TO_CHAR[0x80 | ((c >> 6) & 0x3f)]! + BYTE_TO_CHAR[0x80 | (c & 0x3f)]!;
  }
  return out;
}

/**
 * Text of byte-level tokens, as the ByteLevel decoder does it: a token made only of table
 * characters contributes those bytes; any other token (e.g. an added token "<｜end▁of▁sentence｜>")
 * contributes its own UTF-8 bytes. The joined bytes are decoded lossily.
 */
export function byteLevelDecode(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const token of tokens) bytes.push(...byteLevelTokenBytes(token));
  return utf8Lossy.decode(Uint8Array.from(bytes));
}

/** The bytes one byte-level token contributes to decoded text (see byteLevelDecode). */
export function byteLevelTokenBytes(token: string): Uint8Array {
  const own: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return utf8.encode(token);
    own.push(b);
  }
  return Uint8Array.from(own);
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
