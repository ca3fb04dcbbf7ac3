import { InputError } from "@subnet-review/core";
import { UsageError } from "./args.ts";
import { censusCommand, memoryCommand, modelUsage, throughputCommand } from "./commands/model.ts";
import { importCommand, importUsage } from "./commands/import.ts";
import { serveCommand, serveUsage } from "./commands/serve.ts";
import { tokenCommand, tokenUsage } from "./commands/token.ts";
import { ingestCommand, ingestUsage } from "./commands/ingest.ts";
import { trainCommand, trainUsage } from "./commands/train.ts";
import { experimentCommand, experimentUsage } from "./commands/experiment.ts";
import { mergeCommand, mergeUsage } from "./commands/merge.ts";
import { evalCommand, evalUsage } from "./commands/eval.ts";

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  census: censusCommand,
  memory: memoryCommand,
  throughput: throughputCommand,
  token: tokenCommand,
  serve: serveCommand,
  import: importCommand,
  ingest: ingestCommand,
  train: trainCommand,
  experiment: experimentCommand,
  merge: mergeCommand,
  eval: evalCommand,
};

const usage = `usage: pnpm review <command> [flags]

${modelUsage}
${serveUsage}
${importUsage}
${tokenUsage}
${ingestUsage}
${trainUsage}
${experimentUsage}
${mergeUsage}
${evalUsage}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`review: unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands).join(", ")}\n\n${usage}`);
    return 2;
  }
  try {
    await command(rest);
    return 0;
  } catch (err) {
    // Input problems are the user's to fix: the message names the field, no stack trace.
    if (err instanceof UsageError || err instanceof InputError) {
      console.error(`review ${name}: ${err.message}`);
      return 2;
    }
    console.error(`review ${name}: ${(err as Error).message}`);
    if (process.env.DEBUG) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
