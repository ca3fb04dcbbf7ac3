export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const EXPERIMENT = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** ?experiment=NAME picks the runs shown; anything else is ignored (the default experiment is shown). */
export function experimentParam(params: Record<string, string | string[] | undefined>): string | undefined {
  const v = params.experiment;
  return typeof v === "string" && EXPERIMENT.test(v) ? v : undefined;
}
