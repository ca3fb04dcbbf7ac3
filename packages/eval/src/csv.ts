/**
 * RFC 4180 CSV: fields separated by ",", records by CRLF or LF, fields in double quotes may hold commas,
 * quotes (doubled) and line breaks, which are kept verbatim. Each record carries the 1-based line it starts on.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = "CsvSyntaxError";
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf("\n", from); i >= 0 && i < to; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    // A blank line holds no record (as Python's csv reader reads it).
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
      i += text[i] === "\r" ? 2 : 1;
      line++;
      continue;
    }
    const recordLine = line;
    const fields: string[] = [];
    // One record: fields until an unquoted line break or the end of the text.
    for (;;) {
      let field: string;
      if (text[i] === '"') {
        let value = "";
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) throw new CsvSyntaxError(line, "quoted field is never closed");
          value += text.slice(from, q);
          if (text[q + 1] === '"') {
            value += '"';
            from = q + 2;
            continue;
          }
          line += countNewlines(text, i, q);
          i = q + 1;
          break;
        }
        field = value;
        const after = text[i];
        if (after !== undefined && after !== "," && after !== "\n" && after !== "\r") {
          throw new CsvSyntaxError(line, `unexpected character ${JSON.stringify(after)} after a closing quote`);
        }
      } else {
        let end = i;
        while (end < n) {
          const c = text.charCodeAt(end);
          if (c === 44 /* , */ || c === 10 /* \n */ || c === 13 /* \r */) break;
          if (c === 34 /* " */) throw new CsvSyntaxError(line, "a double quote inside an unquoted field");
          end++;
        }
        field = text.slice(i, end);
        i = end;
      }
      fields.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    // At a line break or the end.
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    line++;
    records.push({ line: recordLine, fields });
  }
  return records;
}
