import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { userPath } from "./env.ts";

// paths on the command line: resolved from where the user ran `pnpm review` (INIT_CWD in the CLI's environment)
export { userPath };

/** A usage or input problem: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One flag as node:util parses it, with what `--help` shows for it: the value's placeholder and a line of help. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>[string] & { value?: string; help?: string };
export type FlagSpecs = Record<string, FlagSpec>;

/** A command's help: its usage text and the very flag declarations its parser takes. */
export interface CommandHelp {
  usage: string;
  flags: FlagSpecs;
}

/** The usage text, then one line per declared flag, so every flag the command parses is in its help. */
export function formatHelp(help: CommandHelp): string {
  const rows = Object.entries(help.flags).map(([name, f]) => {
    const left = `--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
    const dflt = f.default === undefined ? "" : ` (default ${String(f.default)})`;
    return [left, `${f.help ?? ""}${dflt}`] as const;
  });
  if (rows.length === 0) return help.usage;
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return `${help.usage}\n${rows.map(([left, text]) => `    ${left.padEnd(width)}${text}`.trimEnd()).join("\n")}`;
}

/** node:util's own option config: the help-only fields left out. */
function parseArgsOptions(flags: FlagSpecs): NonNullable<ParseArgsConfig["options"]> {
  return Object.fromEntries(Object.entries(flags).map(([name, { value: _value, help: _help, ...option }]) => [name, option]));
}

/**
 * Parses one command's flags with node:util and validates them with zod, so every bad flag is
 * reported as `--flag: what is allowed`.
 */
export function parseFlags<S extends z.ZodType>(argv: string[], flags: FlagSpecs, schema: S): z.infer<S> {
  const options = parseArgsOptions(flags);
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = issue.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : "flags";
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * `--trainable -1` as `--trainable=-1`: node:util reads a value that starts with a dash as a missing value, so a
 * negative number would get its "ambiguous" message instead of the flag's own "what is allowed".
 */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : null;
    if (name !== null && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** A flag given as text that must be a number; zod then checks its range. */
export const numberFlag = z
  .string()
  .regex(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i, "must be a number")
  .transform(Number);

/** The absolute path of a readable regular file given to `flag`, or a UsageError naming the flag. */
export async function readableFile(path: string, flag: string): Promise<string> {
  const absolute = userPath(path);
  let problem: string | null = null;
  try {
    if ((await stat(absolute)).isFile()) await access(absolute, constants.R_OK);
    else problem = "not a file";
  } catch (err) {
    problem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  if (problem !== null) throw new UsageError(`${flag}: cannot read ${path} (${problem})`);
  return absolute;
}

export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(await readableFile(path, flag), "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${path} is not valid JSON (${(err as Error).message})`);
  }
}
