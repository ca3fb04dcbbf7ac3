import type { Figure } from "@subnet-review/core";

/** How the page labels a figure: its kind, or "derived" for a computation whose every input is reported or derived. */
export type DisplayKind = Figure["kind"] | "derived";

export function kindOf(f: Figure): DisplayKind {
  const inputs = Object.values(f.inputs);
  if (f.kind === "computed" && inputs.length > 0 && inputs.every((i) => i.kind === "reported" || kindOf(i) === "derived")) return "derived";
  return f.kind;
}
