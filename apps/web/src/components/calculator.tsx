"use client";

import { countParameters, estimateMemory, formatFigure, gpuCatalog, InputError, modelSizeFigures, parseModelConfig, cells } from "@subnet-review/core";
import { useEffect, useMemo, useRef, useState } from "react";
import { cellNames } from "../lib/format";
import { FigureButton as FigureValue } from "./figure-button";
import { SectionHeading } from "./section-heading";

interface Inputs {
  configText: string;
  trainable: string;
  kept: string;
  gpu: string;
  microBatch: string;
  seqLen: string;
  checkpointing: boolean;
}

// The calculator's inputs in the page URL (?k=4&n=16&gpu=…&mb=…&seq=…&ckpt=0&config=…), so a state can be shared.
const URL_KEYS = { trainable: "k", kept: "n", gpu: "gpu", microBatch: "mb", seqLen: "seq", checkpointing: "ckpt", configText: "config" } as const;

function fromUrl(defaults: Inputs, search: string): Inputs {
  const q = new URLSearchParams(search);
  const next = { ...defaults };
  for (const [key, name] of Object.entries(URL_KEYS) as [keyof Inputs, string][]) {
    const v = q.get(name);
    if (v === null) continue;
    if (key === "checkpointing") next.checkpointing = v !== "0";
    else next[key] = v;
  }
  return next;
}

function toUrl(defaults: Inputs, inputs: Inputs): string {
  const q = new URLSearchParams(window.location.search);
  for (const [key, name] of Object.entries(URL_KEYS) as [keyof Inputs, string][]) {
    const v = inputs[key];
    // only what differs from the review's own inputs, so a plain link stays plain
    if (v === defaults[key]) q.delete(name);
    else q.set(name, key === "checkpointing" ? (v ? "1" : "0") : key === "configText" ? compactJson(String(v)) : String(v));
  }
  const search = q.toString();
  return `${window.location.pathname}${search ? `?${search}` : ""}${window.location.hash}`;
}

function compactJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

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

/** `shape`: the review's memory table assumptions, the calculator's starting point. */
export function Calculator({
  defaultConfig,
  trainable,
  kept,
  shape,
}: {
  defaultConfig: unknown;
  trainable: number;
  kept: number;
  shape: { gpu: string; microBatch: number; seqLen: number; checkpointing: boolean };
}) {
  const { gpu, microBatch, seqLen, checkpointing } = shape;
  const defaults = useMemo<Inputs>(
    () => ({
      configText: JSON.stringify(defaultConfig, null, 1),
      trainable: String(trainable),
      kept: String(kept),
      gpu,
      microBatch: String(microBatch),
      seqLen: String(seqLen),
      checkpointing,
    }),
    [defaultConfig, trainable, kept, gpu, microBatch, seqLen, checkpointing],
  );
  const [inputs, setInputs] = useState<Inputs>(defaults);
  // Read the URL after hydration (the server render has no URL state), then keep the URL in step with the inputs.
  const loaded = useRef(false);
  useEffect(() => {
    const fromLink = fromUrl(defaults, window.location.search);
    if (fromLink.configText !== defaults.configText) {
      try {
        fromLink.configText = JSON.stringify(JSON.parse(fromLink.configText), null, 1);
      } catch {
        // shown as typed: the calculator names the bad field
      }
    }
    setInputs(fromLink);
    loaded.current = true;
  }, [defaults]);
  useEffect(() => {
    if (!loaded.current) return;
    const url = toUrl(defaults, inputs);
    if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) window.history.replaceState(null, "", url);
  }, [defaults, inputs]);
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
    <section className="review calc" id="calculator" aria-labelledby="calculator-h">
      <SectionHeading id="calculator" number="05" title="Shard & memory calculator" eyebrow="Beyond the published page" />
      <p className="note">
        Change the model, K, N or the GPU: every figure is recomputed here in your browser by the same core that computes the review. The page address keeps
        your inputs, so a link shares them.
      </p>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          K, trainable experts / layer
          <input name="trainable" inputMode="numeric" value={inputs.trainable} onChange={set("trainable")} />
        </label>
        <label>
          N, kept frozen experts / layer
          <input name="kept" inputMode="numeric" value={inputs.kept} onChange={set("kept")} />
        </label>
        <label>
          GPU
          <select name="gpu" value={inputs.gpu} onChange={set("gpu")}>
            {gpuCatalog.map((g) => (
              <option key={g.name} value={g.name}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Micro-batch (sequences)
          <input name="microBatch" inputMode="numeric" value={inputs.microBatch} onChange={set("microBatch")} />
        </label>
        <label>
          Sequence length
          <input name="seqLen" inputMode="numeric" value={inputs.seqLen} onChange={set("seqLen")} />
        </label>
        <label>
          Activation checkpointing
          <input name="checkpointing" type="checkbox" checked={inputs.checkpointing} onChange={set("checkpointing")} />
        </label>
        <label style={{ gridColumn: "1 / -1" }}>
          Model config.json (paste any supported Hugging Face config)
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
                    <td className="num">
                      <FigureValue figure={f} />
                    </td>
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
                <tr>
                  <th>Cell</th>
                  <th>Weights + grads + optimizer</th>
                  <th>Activations</th>
                  <th>Total</th>
                  <th>Fits on one</th>
                  <th>{inputs.gpu} needed</th>
                </tr>
              </thead>
              <tbody>
                {cells.map((cell) => {
                  const m = result.memory[cell];
                  const total = m.figure.totalGB;
                  return (
                    <tr key={cell} data-cell={cell}>
                      <td>{cellNames[cell]}</td>
                      <td className="num">{formatFigure({ value: m.statesGB, unit: "GB" })}</td>
                      <td className="num">{formatFigure({ value: m.activationsGB, unit: "GB" })}</td>
                      <td className="num" data-total={cell}>
                        <FigureValue figure={total} />
                      </td>
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
        <p className="error" role="alert">
          {result.error}
        </p>
      )}
    </section>
  );
}
