import type { Figure, Unit } from "@subnet-review/core";
import { units } from "@subnet-review/core";
import type { ReportedFigure } from "@subnet-review/db";

/**
 * A figure imported from a published document becomes a Figure of kind "reported" with its source. Its id is
 * "published.<key>": the published throughput figures share their keys with the ones core computes, and one id
 * names one figure (a permalink, a table row).
 */
export function reportedFigure(row: ReportedFigure): Figure {
  return {
    id: `published.${row.key}`,
    label: row.label,
    value: row.value,
    unit: (units as readonly string[]).includes(row.unit) ? (row.unit as Unit) : "count",
    formula: row.note ? `as published: ${row.note}` : "as published",
    kind: "reported",
    inputs: {},
    source: row.source,
  };
}

export class ReportedFigures {
  private readonly byKey: Map<string, Figure>;
  constructor(rows: ReportedFigure[]) {
    this.byKey = new Map(rows.map((r) => [r.key, reportedFigure(r)]));
  }
  get(key: string): Figure | null {
    return this.byKey.get(key) ?? null;
  }
  /** Keys under a prefix, e.g. "retention.mmlu." */
  withPrefix(prefix: string): Figure[] {
    return [...this.byKey].filter(([key]) => key.startsWith(prefix)).map(([, f]) => f);
  }
}
