import { experimentFlagsSchema, runExperiment } from "@subnet-review/trainer";
import { parseFlags, userPath, type CommandHelp, type FlagSpecs } from "../args.ts";
import { splitEvalFlags, trainingEvalFlags, trainingEvalUsage } from "../training-evals.ts";
import { finishEvals, runFlagOptions, runRows, runSetup, stopSignal } from "./train.ts";

const experimentUsage = `pnpm review experiment --model DIR --data FILE --trainable-experts SEL --kept N --steps S --name NAME
      [--description TEXT] [--routing subnet|renormalized --top-k K] [train's other flags] [--api URL --token T]
    cells A, B and C on the same data, experts and seed, as one experiment;
    --routing applies to A and B (C routes naturally), --top-k to all three
${trainingEvalUsage}`;

const experimentFlags = {
  ...runFlagOptions,
  name: { type: "string", value: "NAME", help: "the experiment's name: lowercase letters, digits, '.', '_' and '-'" },
  description: { type: "string", value: "TEXT", help: "what the experiment compares, shown with it" },
} as const satisfies FlagSpecs;

export const experimentHelp: CommandHelp = { usage: experimentUsage, flags: { ...experimentFlags, ...trainingEvalFlags } };

export async function experimentCommand(argv: string[]): Promise<void> {
  const { rest, evalFlags } = splitEvalFlags(argv);
  const flags = parseFlags(rest, experimentFlags, experimentFlagsSchema);
  const { spec, python, recorder, evals } = runSetup(flags, evalFlags);
  const stop = stopSignal();
  try {
    const result = await runExperiment(spec, {
      name: flags.name,
      ...(flags.description ? { description: flags.description } : {}),
      outDir: userPath(flags.out),
      recorder,
      python,
      signal: stop.signal,
      ...(evals ? { onMessage: evals.onMessage } : {}),
    });
    if (evals) await finishEvals(evals, flags.api);
    console.log(`experiment ${result.experiment.name}: ${result.dir} (expert assignment: ${result.dir}/expert_cfg.json)`);
    console.log(runRows(result.runs));
    const failed = result.runs.filter((r) => r.status === "failed");
    if (failed.length) throw new Error(`${failed.map((r) => `cell ${r.id} failed: ${r.error}`).join("; ")}`);
    if (result.runs.length < 3) throw new Error(`stopped after ${result.runs.length} of 3 cells`);
    const unsent = result.runs.filter((r) => !r.synced);
    if (unsent.length)
      throw new Error(`the API has not taken everything yet: ${unsent.map((r) => `pnpm review train --resume ${r.dir} --api URL --token T`).join("; ")}`);
  } finally {
    stop.dispose();
  }
}
