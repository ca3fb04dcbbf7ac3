import { mergeAdapter } from "@subnet-review/trainer";
import { z } from "zod";
import { parseFlags, userPath, type CommandHelp, type FlagSpecs } from "../args.ts";
import { workerPython } from "../env.ts";

const mergeFlags = {
  base: { type: "string", value: "DIR", help: "the base checkpoint the run trained (config.json, *.safetensors)" },
  adapter: { type: "string", value: "DIR", help: "the run's adapter directory (runs/<ID>/adapter)" },
  out: { type: "string", value: "DIR", help: "where to write the merged checkpoint" },
  python: { type: "string", value: "PATH", help: "the Python with torch that runs the worker (default TRAINER_PYTHON or /usr/bin/python3)" },
} satisfies FlagSpecs;

export const mergeHelp: CommandHelp = {
  usage: `pnpm review merge --base DIR --adapter DIR --out DIR [--python PATH]
    a trained adapter + its base -> a full checkpoint (sharded safetensors + index)`,
  flags: mergeFlags,
};

export async function mergeCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    mergeFlags,
    z.object({
      base: z.string({ error: "is required: the base checkpoint directory" }).min(1),
      adapter: z.string({ error: "is required: a run's adapter directory (runs/<ID>/adapter)" }).min(1),
      out: z.string({ error: "is required: the directory to write the merged checkpoint to" }).min(1),
      python: z.string().min(1).optional(),
    }),
  );
  const r = await mergeAdapter({ base: userPath(flags.base), adapter: userPath(flags.adapter), out: userPath(flags.out), python: workerPython(flags.python) });
  console.log(`merged into ${r.outputDir}: ${r.replaced} expert tensors replaced, ${r.copied} copied byte for byte, ${r.files} files`);
}
