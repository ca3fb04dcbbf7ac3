import type { CycleDetail, ReviewList, ReviewView } from "./api";
import { cycleDetail, cycleRange, isNotFound, rememberedFirstSlug, reviewList, reviewView } from "./last-good";
import { type CyclesQuery, cyclesParam, experimentParam } from "./search-params";
import { formatCount } from "./format";

export type CyclePoint = ReviewView["miners"]["series"][number];

/** Section 03's explorer: the cycles charted (the review's window or a chosen range) and one cycle's drill-down. */
export interface CyclesShown {
  points: CyclePoint[];
  rangeNote: string | null;
  detail: { cycle: NonNullable<CyclesQuery["cycle"]>; data: CycleDetail | null; problem: string | null } | null;
}

/** Everything the review page renders, read from the api before rendering (the Pages Router renders synchronously). */
export type ReviewPageData =
  | { kind: "review"; view: ReviewView; asOf: string | null; problem: string | null; experiment: string | null; cyclesQuery: CyclesQuery; cycles: CyclesShown }
  | { kind: "not-found"; reviews: ReviewList | null }
  | { kind: "unavailable" };

type Query = Record<string, string | string[] | undefined>;

/** The review at `slug`, or the first review when `slug` is null (the home page); 404 and outages are answers too. */
export async function loadReviewPage(slug: string | null, query: Query): Promise<ReviewPageData> {
  const experiment = experimentParam(query);
  const cyclesQuery = cyclesParam(query);
  let review;
  try {
    review = slug === null ? await firstReview(experiment) : await reviewView(slug, experiment);
  } catch (err) {
    // bad slug text and unknown slugs both answer 404 with the list of reviews
    if (isNotFound(err) || (err as { data?: { code?: string } }).data?.code === "BAD_REQUEST") return notFound();
    return { kind: "unavailable" };
  }
  if (!review) return notFound();
  const cycles = await cyclesShown(review.data, cyclesQuery);
  return { kind: "review", view: review.data, asOf: review.asOf, problem: review.problem, experiment: experiment ?? null, cyclesQuery, cycles };
}

async function notFound(): Promise<ReviewPageData> {
  return { kind: "not-found", reviews: (await reviewList().catch(() => null))?.data ?? null };
}

/** The list and the review it names first, asked together when this server already knows that name. */
async function firstReview(experiment: string | undefined) {
  const guess = rememberedFirstSlug();
  const early = guess
    ? reviewView(guess, experiment).then(
        (v) => ({ v }),
        (e: unknown) => ({ e }),
      )
    : null;
  const list = await reviewList();
  const first = list.data[0];
  if (!first) return null;
  const hit = first.slug === guess && early ? await early : null;
  if (hit && "e" in hit) throw hit.e;
  const view = hit ? hit.v : await reviewView(first.slug, experiment);
  return { ...view, asOf: view.asOf ?? list.asOf, problem: view.problem ?? list.problem };
}

async function cyclesShown(view: ReviewView, query: CyclesQuery): Promise<CyclesShown> {
  const netuid = view.subnet.netuid;
  const [range, detail] = await Promise.all([
    query.range
      ? cycleRange(netuid, query.range.from, query.range.to).then(
          (r) => r.data,
          () => null,
        )
      : null,
    query.cycle
      ? cycleDetail(netuid, query.cycle.firstBlock, query.cycle.length).then((r) => ({ data: r.data, problem: null }), detailProblem(query.cycle))
      : null,
  ]);
  let points: CyclePoint[] = view.miners.series;
  let rangeNote: string | null = null;
  if (query.range) {
    if (!range) rangeNote = "The chosen range could not be read from the api: showing the review's window.";
    else if (range.cycles.length === 0)
      rangeNote = `No ingested cycle between ${formatCount(query.range.from)} and ${formatCount(query.range.to)}: showing the review's window.`;
    else
      points = range.cycles.map((c) => ({
        cycle: c.cycle,
        activeMiners: c.committed.count,
        acceptedMiners: c.accepted.count,
        registeredNeurons: c.registeredNeurons,
        length: c.length,
        firstBlock: c.firstBlock,
        lastBlock: c.lastBlock,
        firstBlockHash: c.firstBlockHash,
        lastBlockHash: c.finalizedHash,
        scheduleKey: c.scheduleKey,
      }));
  }
  return { points, rangeNote, detail: query.cycle && detail ? { cycle: query.cycle, ...detail } : null };
}

function detailProblem(cycle: NonNullable<CyclesQuery["cycle"]>) {
  return (err: unknown) => ({
    data: null,
    problem: isNotFound(err)
      ? `No ingested cycle starts at block #${formatCount(cycle.firstBlock)} with ${formatCount(cycle.length)} blocks.`
      : "This cycle's hotkeys could not be read from the api.",
  });
}
