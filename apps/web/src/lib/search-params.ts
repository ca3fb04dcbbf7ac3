export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const EXPERIMENT = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** ?experiment=NAME picks the runs shown; anything else is ignored (the default experiment is shown). */
export function experimentParam(params: Record<string, string | string[] | undefined>): string | undefined {
  const v = params.experiment;
  return typeof v === "string" && EXPERIMENT.test(v) ? v : undefined;
}

/** Section 03's exploration: a range of cycle indexes (?from=&to=) and one cycle's drill-down (?cycle=FIRSTBLOCK-LENGTH). */
export interface CyclesQuery {
  range: { from: number; to: number } | null;
  cycle: { firstBlock: number; length: number } | null;
}

const whole = (v: string | string[] | undefined) => (typeof v === "string" && /^\d{1,9}$/.test(v) ? Number(v) : null);

export function cyclesParam(params: Record<string, string | string[] | undefined>): CyclesQuery {
  const [from, to] = [whole(params.from), whole(params.to)];
  const c = typeof params.cycle === "string" ? /^(\d{1,9})-(\d{1,9})$/.exec(params.cycle) : null;
  return {
    range: from !== null && to !== null && from <= to ? { from, to } : null,
    cycle: c && Number(c[2]) > 0 ? { firstBlock: Number(c[1]), length: Number(c[2]) } : null,
  };
}
