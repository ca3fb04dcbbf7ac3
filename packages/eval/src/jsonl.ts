import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { EvalDataError, describeZodError } from "./errors.ts";

export interface NumberedRecord<T> {
  /** 1-based line number in the file. */
  line: number;
  value: T;
}

/** Parses JSONL text, validating each non-blank line with `schema`; the first bad line throws naming file and line. */
export function parseJsonl<S extends z.ZodType>(text: string, file: string, schema: S): NumberedRecord<z.output<S>>[] {
  const out: NumberedRecord<z.output<S>>[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new EvalDataError(file, i + 1, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new EvalDataError(file, i + 1, describeZodError(parsed.error));
    out.push({ line: i + 1, value: parsed.data });
  }
  return out;
}

export async function readJsonl<S extends z.ZodType>(file: string, schema: S): Promise<NumberedRecord<z.output<S>>[]> {
  return parseJsonl(await readFile(file, "utf8"), file, schema);
}
