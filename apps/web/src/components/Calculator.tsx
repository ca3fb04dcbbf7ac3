"use client";

import {
  countParameters,
  estimateMemory,
  formatFigure,
  gpuCatalog,
  InputError,
  modelSizeFigures,
  parseModelConfig,
  type Cell,
} from "@subnet-review/core";
import { useMemo, useState } from "react";
import { FigureValue } from "./FigureValue";

interface Inputs {
  configText: string;
  trainable: string;
  kept: string;
  gpu: string;
  microBatch: string;
  seqLen: string;
  checkpointing: boolean;
}

const cellNames: Record<Cell, string> = { A: "A · in-place ESFT", B: "B · frozen-kept", C: "C · ESFT-classic", full: "Full fine-tune" };

/** Everything recomputed in the browser by the same core the server uses. */
function compute(i: Inputs) {
  let raw: unknown;
  try {
    raw = JSON.parse(i.configText);
  } catch (err) {
    throw new InputError("config", `must be a config.json (JSON): ${(err as Error).message}`);
  }
  const census = countParameters(parseModelConfig(raw));
  const shard = { trainable: Number(i.trainable), kept: Number(i.kept) };
  const sizes = modelSizeFigures(census, shard);
  const memory = estimateMemory(census, {
    ...shard,
    gpu: i.gpu,
    microBatch: Number(i.microBatch),
    seqLen: Number(i.seqLen),
    checkpointing: i.checkpointing,
  });
  return { census, sizes, memory };
}

export function Calculator({ defaultConfig, trainable, kept, gpu }: { defaultConfig: unknown; trainable: number; kept: number; gpu: string }) {
  const [inputs, setInputs] = useState<Inputs>({
    configText: JSON.stringify(defaultConfig, null, 1),
    trainable: String(trainable),
    kept: String(kept),
    gpu,
    microBatch: "4",
    seqLen: "2048",
    checkpointing: true,
  });
  const result = useMemo(() => {
    try {
      return { ok: true as const, ...compute(inputs) };
    } catch (err) {
      if (err instanceof InputError) return { ok: false as const, error: err.message };
      throw err;
    }
  }, [inputs]);
  const set = (key: keyof Inputs) => (e: { target: { value: string; checked?: boolean } }) =>
    setInputs((s) => ({ ...s, [key]: key === "checkpointing" ? Boolean(e.target.checked) : e.target.value }));

  return (
    <section className="review calc" id="calculator" aria-labelledby="calc-h">
      <div className="eyebrow">§ 05 · Beyond the published page</div>
      <h2 id="calc-h">Shard &amp; memory calculator</h2>
      <p className="note">Change the model, K, N or the GPU: every figure is recomputed here in your browser by the same core that computes the review.</p>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>K, trainable experts / layer<input name="trainable" inputMode="numeric" value={inputs.trainable} onChange={set("trainable")} /></label>
        <label>N, kept frozen experts / layer<input name="kept" inputMode="numeric" value={inputs.kept} onChange={set("kept")} /></label>
        <label>GPU
          <select name="gpu" value={inputs.gpu} onChange={set("gpu")}>
            {gpuCatalog.map((g) => <option key={g.name} value={g.name}>{g.name}</option>)}
          </select>
        </label>
        <label>Micro-batch (sequences)<input name="microBatch" inputMode="numeric" value={inputs.microBatch} onChange={set("microBatch")} /></label>
        <label>Sequence length<input name="seqLen" inputMode="numeric" value={inputs.seqLen} onChange={set("seqLen")} /></label>
        <label>Activation checkpointing<input name="checkpointing" type="checkbox" checked={inputs.checkpointing} onChange={set("checkpointing")} /></label>
        <label style={{ gridColumn: "1 / -1" }}>Model config.json (paste any supported Hugging Face config)
          <textarea name="config" spellCheck={false} value={inputs.configText} onChange={set("configText")} />
        </label>
      </form>
      {result.ok ? (
        <>
          <div className="table-wrap">
            <table data-table="calc-sizes">
              <tbody>
                {result.sizes.map((f) => (
                  <tr key={f.id} data-row={f.id}>
                    <td>{f.label}</td>
                    <td className="num"><FigureValue figure={f} /></td>
                    <td className="how">{f.formula}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Memory per cell on {inputs.gpu}</h3>
          <div className="table-wrap">
            <table data-table="calc-memory">
              <thead>
                <tr><th>Cell</th><th>Weights + grads + optimizer</th><th>Activations</th><th>Total</th><th>Fits on one</th><th>{inputs.gpu} needed</th></tr>
              </thead>
              <tbody>
                {(["A", "B", "C", "full"] as const).map((cell) => {
                  const m = result.memory[cell];
                  const total = m.figures.find((f) => f.id === `memory.${cell}.totalGB`)!;
                  return (
                    <tr key={cell} data-cell={cell}>
                      <td>{cellNames[cell]}</td>
                      <td className="num">{formatFigure({ value: m.statesGB, unit: "GB" })}</td>
                      <td className="num">{formatFigure({ value: m.activationsGB, unit: "GB" })}</td>
                      <td className="num" data-total={cell}><FigureValue figure={total} /></td>
                      <td>{m.fitsOn.length ? m.fitsOn.join(", ") : "none"}</td>
                      <td className="num">{m.gpusNeeded ?? "no fit"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <p className="error" role="alert">{result.error}</p>
      )}
    </section>
  );
}
