import { InputError } from "@subnet-review/core";
import { UsageError } from "./args.ts";
import { cliEnv } from "./env.ts";

type Command = (argv: string[]) => Promise<void>;

// Each command loads only its own module: `census` needs neither the database client nor the trainer.
const commands: Record<string, () => Promise<Command>> = {
  census: async () => (await import("./commands/model.ts")).censusCommand,
  memory: async () => (await import("./commands/model.ts")).memoryCommand,
  throughput: async () => (await import("./commands/model.ts")).throughputCommand,
  token: async () => (await import("./commands/token.ts")).tokenCommand,
  serve: async () => (await import("./commands/serve.ts")).serveCommand,
  import: async () => (await import("./commands/import.ts")).importCommand,
  ingest: async () => (await import("./commands/ingest.ts")).ingestCommand,
  train: async () => (await import("./commands/train.ts")).trainCommand,
  experiment: async () => (await import("./commands/experiment.ts")).experimentCommand,
  merge: async () => (await import("./commands/merge.ts")).mergeCommand,
  eval: async () => (await import("./commands/eval.ts")).evalCommand,
};

async function usage(): Promise<string> {
  const texts = await Promise.all([
    import("./commands/model.ts").then((m) => m.modelUsage),
    import("./commands/serve.ts").then((m) => m.serveUsage),
    import("./commands/import.ts").then((m) => m.importUsage),
    import("./commands/token.ts").then((m) => m.tokenUsage),
    import("./commands/ingest.ts").then((m) => m.ingestUsage),
    import("./commands/train.ts").then((m) => m.trainUsage),
    import("./commands/experiment.ts").then((m) => m.experimentUsage),
    import("./commands/merge.ts").then((m) => m.mergeUsage),
    import("./commands/eval.ts").then((m) => m.evalUsage),
  ]);
  return `usage: pnpm review <command> [flags]\n\n${texts.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`review: unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands).join(", ")}\n\n${await usage()}`);
    return 2;
  }
  try {
    cliEnv(); // a bad variable stops every command before it starts
    await (await load())(rest);
    return 0;
  } catch (err) {
    // Input problems are the user's to fix: the message names the field, no stack trace.
    if (err instanceof UsageError || err instanceof InputError) {
      console.error(`review ${name}: ${err.message}`);
      return 2;
    }
    console.error(`review ${name}: ${(err as Error).message}`);
    if (cliEnv().DEBUG) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
