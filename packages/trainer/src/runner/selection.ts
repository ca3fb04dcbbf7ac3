// --trainable-experts: how the experts to train are chosen, as the worker's expert selection.
import { readFile } from "node:fs/promises";
import { InputError, type ModelConfig, type TrainedCell } from "@subnet-review/core";
import { z } from "zod";
import { expertConfigSchema, type expertSelectionSchema } from "../worker/messages.ts";

export type ExpertSelection = z.output<typeof expertSelectionSchema>;
export type ExpertsByLayer = Record<string, number[]>;

const FLAG = "--trainable-experts";
export const selectionHelp =
  '"top-k:K" (K per MoE layer by ESFT token score; "top-k:K:gate" by gate score), "esft-gate:P" / "esft-token:P" (ESFT top_p in (0, 1]), "subnet:PATH" (a subnet 102 expert_groups/<group>/expert_assignment.json: {"<MoE layer>": [[slot, expert id], ...]}), or the path of an ESFT expert-config JSON {"experts": {"<layer>": [ids]}}';

/** The subnet's shard file (Connito expert_groups/<group>/expert_assignment.json): per MoE layer, [slot, expert id] pairs. */
const subnetAssignmentSchema = z.record(z.string(), z.unknown());
const slotPair = z.tuple([z.number().int().min(0), z.number().int().min(0)]);

async function readJson(text: string, path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? `is not valid JSON (${err.message})` : `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    throw new InputError(FLAG, `${text} ${why}; it must be one of ${selectionHelp}`);
  }
}

/** A subnet expert-assignment file as explicit expert ids per layer; its shape, slots and ids checked here, its
 * layers and id range against the model by checkSelection. */
export async function readSubnetAssignment(text: string, path: string): Promise<ExpertsByLayer> {
  const raw = subnetAssignmentSchema.safeParse(await readJson(text, path));
  if (!raw.success)
    throw new InputError(FLAG, `${text}: must be a JSON object {"<MoE layer>": [[slot, expert id], ...]} (the subnet's expert_assignment.json)`);
  const experts: ExpertsByLayer = {};
  for (const [layer, pairs] of Object.entries(raw.data)) {
    if (!/^\d+$/.test(layer)) throw new InputError(FLAG, `${text}: key ${JSON.stringify(layer)} must be an MoE layer index written as a decimal string`);
    if (!Array.isArray(pairs)) throw new InputError(FLAG, `${text}: layer ${layer} must hold a list of [slot, expert id] pairs`);
    const slots = new Set<number>();
    const ids = new Set<number>();
    pairs.forEach((pair: unknown, i) => {
      const p = slotPair.safeParse(pair);
      if (!p.success)
        throw new InputError(FLAG, `${text}: layer ${layer} entry ${i} is ${JSON.stringify(pair)}; it must be a [slot, expert id] pair of integers >= 0`);
      const [slot, id] = p.data;
      if (ids.has(id)) throw new InputError(FLAG, `${text}: layer ${layer} lists expert id ${id} twice`);
      if (slots.has(slot)) throw new InputError(FLAG, `${text}: layer ${layer} uses slot ${slot} twice (expert id ${id})`);
      ids.add(id);
      slots.add(slot);
    });
    experts[layer] = [...ids].sort((a, b) => a - b);
  }
  return experts;
}

/** Parses the flag's text; a path is read and validated as ESFT's expert config. */
export async function parseTrainableExperts(text: string, resolvePath: (p: string) => string = (p) => p): Promise<ExpertSelection> {
  const topK = /^top-k:(\d+)(?::(gate|token))?$/.exec(text);
  if (topK) {
    const k = Number(topK[1]);
    if (k < 1) throw new InputError(FLAG, `top-k needs K >= 1; got ${text}`);
    return { method: "top_k", k, score: (topK[2] as "gate" | "token" | undefined) ?? "token" };
  }
  const esft = /^esft-(gate|token):(.+)$/.exec(text);
  if (esft) {
    const p = Number(esft[2]);
    if (!Number.isFinite(p) || p <= 0 || p > 1) throw new InputError(FLAG, `ESFT top_p must be a number in (0, 1]; got ${JSON.stringify(esft[2])}`);
    return { method: esft[1] === "gate" ? "esft_gate" : "esft_token", top_p: p };
  }
  const subnet = /^subnet:(.+)$/.exec(text);
  if (subnet) return { method: "explicit", experts: await readSubnetAssignment(text, resolvePath(subnet[1]!)) };
  if (/^[a-z-]+:/.test(text)) throw new InputError(FLAG, `unknown selection ${JSON.stringify(text)}; one of ${selectionHelp}`);
  const parsed = expertConfigSchema.safeParse(await readJson(text, resolvePath(text)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      FLAG,
      `${text}: ${["experts", ...issue.path.slice(1)].join(".")}: ${issue.message} (ESFT expert config: {"experts": {"<layer>": [ids]}})`,
    );
  }
  return { method: "explicit", experts: parsed.data.experts };
}

/** Checks a selection against the model before any worker starts: layers, ids and K + N within range. */
export function checkSelection(selection: ExpertSelection, config: ModelConfig, cell: TrainedCell, kept: number): void {
  const moe = config.moe;
  if (!moe) throw new InputError("--model", `${config.modelType} has no routed experts to train`);
  const E = moe.numExperts;
  if (selection.method === "top_k" && selection.k + (cell === "B" ? kept : 0) > E) {
    throw new InputError(FLAG, `K ${selection.k}${cell === "B" ? ` + --kept ${kept}` : ""} exceeds the model's ${E} routed experts per layer`);
  }
  if (selection.method !== "explicit") return;
  const layers = new Set(config.moeLayerIndices);
  for (const [layer, ids] of Object.entries(selection.experts)) {
    if (!layers.has(Number(layer))) {
      throw new InputError(
        FLAG,
        `layer ${layer} is not a MoE layer of this model; MoE layers are ${config.moeLayerIndices[0]}..${config.moeLayerIndices.at(-1)} (it lists expert id(s) ${ids.join(", ")})`,
      );
    }
    const bad = ids.find((e) => e >= E);
    if (bad !== undefined) throw new InputError(FLAG, `layer ${layer}: expert id ${bad} is out of range 0..${E - 1}`);
    const twice = ids.find((e, i) => ids.indexOf(e) !== i);
    if (twice !== undefined) throw new InputError(FLAG, `layer ${layer} lists expert id ${twice} twice`);
    if (ids.length + (cell === "B" ? kept : 0) > E)
      throw new InputError(FLAG, `layer ${layer}: ${ids.length} trainable + ${kept} kept exceeds the ${E} routed experts`);
  }
  if (cell !== "C") {
    const missing = config.moeLayerIndices.filter((l) => !selection.experts[String(l)]?.length);
    if (missing.length && !(cell === "B" && kept > 0)) {
      throw new InputError(
        FLAG,
        `no expert listed for MoE layer(s) ${missing.join(", ")}; cell ${cell} routes only to resident experts, so each needs at least one`,
      );
    }
  }
}

/** K for the run's record and core's estimates: the experts per layer (the mean, rounded, when ESFT's count varies). */
export function trainableCount(experts: ExpertsByLayer): number {
  const counts = Object.values(experts).map((ids) => ids.length);
  return counts.length ? Math.round(counts.reduce((a, b) => a + b, 0) / counts.length) : 0;
}
