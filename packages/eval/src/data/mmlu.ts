import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CsvSyntaxError, parseCsv } from "../csv.ts";
import { EvalDataError, describeZodError } from "../errors.ts";

const LETTERS = ["A", "B", "C", "D"] as const;

/** One row of the original MMLU CSV release: no header, `question,A,B,C,D,answer`. */
export const mmluRowSchema = z
  .array(z.string())
  .length(6, "a row must have 6 fields: question,A,B,C,D,answer")
  .transform((f) => ({ question: f[0]!, choices: [f[1]!, f[2]!, f[3]!, f[4]!], answer: f[5]! }))
  .pipe(
    z.object({
      question: z.string(),
      choices: z.array(z.string()).length(4),
      answer: z.enum(LETTERS, { message: "answer (field 6) must be one of A, B, C, D" }),
    }),
  );

export interface MmluDoc {
  subject: string;
  question: string;
  choices: string[];
  /** Index 0-3 of the right choice (cais/mmlu's `answer`). */
  gold: number;
}

export async function loadMmluCsv(file: string, subject: string): Promise<MmluDoc[]> {
  const text = await readFile(file, "utf8");
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new EvalDataError(file, error.line, error.message.replace(/^line \d+: /, ""));
    throw error;
  }
  return records.map(({ line, fields }) => {
    const parsed = mmluRowSchema.safeParse(fields);
    if (!parsed.success) throw new EvalDataError(file, line, describeZodError(parsed.error));
    const { question, choices, answer } = parsed.data;
    return { subject, question, choices, gold: LETTERS.indexOf(answer) };
  });
}

/** Subjects present in `<dir>/test/`, sorted: the file names `<subject>_test.csv`. */
export async function listMmluSubjects(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, "test"));
  return names
    .filter((n) => n.endsWith("_test.csv"))
    .map((n) => n.slice(0, -"_test.csv".length))
    .sort();
}

export interface MmluSubjectData {
  subject: string;
  dev: MmluDoc[];
  test: MmluDoc[];
}

export async function loadMmlu(dir: string): Promise<MmluSubjectData[]> {
  const subjects = await listMmluSubjects(dir);
  if (subjects.length === 0) throw new Error(`${join(dir, "test")}: no <subject>_test.csv files found`);
  return Promise.all(
    subjects.map(async (subject) => ({
      subject,
      dev: await loadMmluCsv(join(dir, "dev", `${subject}_dev.csv`), subject),
      test: await loadMmluCsv(join(dir, "test", `${subject}_test.csv`), subject),
    })),
  );
}
