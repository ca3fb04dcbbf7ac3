import { mergeAdapter } from "@subnet-review/trainer";
import { z } from "zod";
import { parseFlags, userPath } from "../args.ts";
import { workerPython } from "../env.ts";

export const mergeUsage = `pnpm review merge --base DIR --adapter DIR --out DIR [--python PATH]
                                                a trained adapter + its base -> a full checkpoint (sharded safetensors + index)`;

export async function mergeCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    { base: { type: "string" }, adapter: { type: "string" }, out: { type: "string" }, python: { type: "string" } },
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
