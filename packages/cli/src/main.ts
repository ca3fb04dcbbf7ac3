import { InputError } from "@subnet-review/core";
import { formatHelp, UsageError } from "./args.ts";
import { commandHelps, commandLoader, commandNames } from "./commands.ts";
import { cliEnv } from "./env.ts";

/** Help generated from the flag declarations the commands parse: every command's, or one command's. */
async function usage(name?: string, sub?: string): Promise<string> {
  const text = (await commandHelps(name, sub)).map(formatHelp).join("\n\n");
  return name ? text : `usage: pnpm review <command> [flags]   (pnpm review <command> --help: one command)\n\n${text}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = commandLoader(name);
  if (!load) {
    console.error(`review: unknown command ${JSON.stringify(name)}; one of ${commandNames.join(", ")} (pnpm review help lists their flags)`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    const sub = rest[0] !== undefined && !rest[0].startsWith("-") ? rest[0] : undefined;
    console.log(await usage(name, sub));
    return 0;
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
