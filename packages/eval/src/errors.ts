import type { z } from "zod";

/** A malformed record in a data or predictions file: names the file, the 1-based line and the field. */
export class EvalDataError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = "EvalDataError";
    this.file = file;
    this.line = line;
  }
}

/** One readable sentence per zod issue: `field "question.stem": expected string, received number`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(record)";
      return `field "${field}": ${issue.message}`;
    })
    .join("; ");
}
