import type { CommandHelp } from "./args.ts";

export type Command = (argv: string[]) => Promise<void>;

interface Entry {
  run(): Promise<Command>;
  /** The same flag declarations the command parses, with its usage text. */
  help(): Promise<CommandHelp[]>;
}

// Each command loads only its own module: `census` needs neither the database client nor the trainer.
const model = () => import("./commands/model.ts");
const train = () => import("./commands/train.ts");
const entries: Record<string, Entry> = {
  census: { run: async () => (await model()).censusCommand, help: async () => [(await model()).censusHelp] },
  memory: { run: async () => (await model()).memoryCommand, help: async () => [(await model()).memoryHelp] },
  throughput: { run: async () => (await model()).throughputCommand, help: async () => [(await model()).throughputHelp] },
  serve: { run: async () => (await import("./commands/serve.ts")).serveCommand, help: async () => [(await import("./commands/serve.ts")).serveHelp] },
  import: { run: async () => (await import("./commands/import.ts")).importCommand, help: async () => [(await import("./commands/import.ts")).importHelp] },
  token: { run: async () => (await import("./commands/token.ts")).tokenCommand, help: async () => (await import("./commands/token.ts")).tokenHelp },
  ingest: { run: async () => (await import("./commands/ingest.ts")).ingestCommand, help: async () => [(await import("./commands/ingest.ts")).ingestHelp] },
  train: { run: async () => (await train()).trainCommand, help: async () => (await train()).trainHelp },
  experiment: {
    run: async () => (await import("./commands/experiment.ts")).experimentCommand,
    help: async () => [(await import("./commands/experiment.ts")).experimentHelp],
  },
  merge: { run: async () => (await import("./commands/merge.ts")).mergeCommand, help: async () => [(await import("./commands/merge.ts")).mergeHelp] },
  eval: { run: async () => (await import("./commands/eval.ts")).evalCommand, help: async () => (await import("./commands/eval.ts")).evalHelp },
};

export const commandNames = Object.keys(entries);

/** How to load a command's function (its module only), or null for an unknown name. */
export function commandLoader(name: string): (() => Promise<Command>) | null {
  const entry = entries[name];
  return entry ? () => entry.run() : null;
}

/**
 * The helps of one command (of one subcommand when `sub` names one, as in `token create --help`), or of every
 * command in order.
 */
export async function commandHelps(name?: string, sub?: string): Promise<CommandHelp[]> {
  if (name === undefined) return (await Promise.all(commandNames.map((n) => entries[n]!.help()))).flat();
  const helps = (await entries[name]?.help()) ?? [];
  const ofSub = sub ? helps.filter((h) => h.usage.startsWith(`pnpm review ${name} ${sub} `) || h.usage.startsWith(`pnpm review ${name} ${sub}\n`)) : [];
  return ofSub.length ? ofSub : helps;
}
