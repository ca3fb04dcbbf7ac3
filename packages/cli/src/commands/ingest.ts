import { ProgressWriter } from "@subnet-review/core/node";
import { databaseOptions, openDatabase } from "@subnet-review/db";
import {
  accountIdBytes,
  AmbiguousCycleRangeError,
  fetchOwnerSchedule,
  ingestProgressLine,
  MetadataLayoutError,
  parseScheduleHistory,
  PgStore,
  SubstrateRpc,
  TelemetryIngest,
  withObservedSegment,
  type BackfillRange,
  type IngestProgress,
  type IngestSummary,
  type ScheduleHistory,
} from "@subnet-review/telemetry";
import { z } from "zod";
import { numberFlag, parseFlags, readJsonFile, UsageError, type CommandHelp, type FlagSpecs } from "../args.ts";
import { cliEnv } from "../env.ts";

const ingestFlags = {
  rpc: { type: "string", value: "URL", help: "the Subtensor node's JSON-RPC endpoint (ws://, wss://, http:// or https://)" },
  netuid: { type: "string", value: "N", help: "the subnet (102)" },
  schedule: {
    type: "string",
    value: "FILE",
    help: "the schedule history: a JSON array of { fromBlock, phases, source } segments (packages/telemetry/schedules/subnet-102.json; format in its README)",
  },
  "schedule-url": {
    type: "string",
    value: "URL",
    help: "the owner's phase service; its schedule applies from the block it is read at on (not to history); with --follow it is read again every poll",
  },
  last: { type: "string", value: "N", help: "the last N completed cycles, walking back across schedule changes" },
  "from-block": { type: "string", value: "A", help: "with --to-block B: every whole completed cycle with a block in A..B" },
  "to-block": { type: "string", value: "B", help: "the end of --from-block's range" },
  "from-cycle": {
    type: "string",
    value: "A",
    help: "with --to-cycle B: cycle indexes (block // length) within one schedule; refused when the range exists under two schedules (name blocks instead)",
  },
  "to-cycle": { type: "string", value: "B", help: "the end of --from-cycle's range" },
  follow: { type: "boolean", help: "keep up with the finalized head until Ctrl-C; fills every gap after the checkpoint" },
  whitelist: {
    type: "string",
    value: "FILE",
    help: "JSON array of validator hotkeys (connito/sn_owner/validator_whitelist.json); a whitelisted hotkey with weights older than 448 blocks counts as a miner",
  },
  "requests-per-minute": {
    type: "string",
    value: "R",
    help: "at most R JSON-RPC calls a minute (each call inside a batch counts: what public nodes meter); HTTP requests / WebSocket frames are ~10x fewer",
  },
  "poll-seconds": { type: "string", value: "S", help: "how often --follow polls (default 12)" },
} satisfies FlagSpecs;

export const ingestHelp: CommandHelp = {
  usage: `pnpm review ingest --rpc URL --netuid 102 (--schedule FILE | --schedule-url URL | both)
    (--last N | --from-block A --to-block B | --from-cycle A --to-cycle B | --follow) [--follow]
    [--whitelist FILE] [--requests-per-minute R] [--poll-seconds 12]
    read subnet activity per cycle from a Subtensor node (finalized
    blocks only) into the database: for each whole cycle, the miners
    that committed in MinerCommit1/MinerCommit2 and the miners the
    subnet's validators accept, with each hotkey's reason`,
  flags: ingestFlags,
};

const wholeNumber = (min: number, what: string) => numberFlag.pipe(z.number().int("must be a whole number").min(min, what));
const pair = (f: Record<string, unknown>, a: string, b: string) => [f[a] !== undefined, f[b] !== undefined] as const;

const flagsSchema = z
  .object({
    rpc: z
      .string({ error: "the node's JSON-RPC URL is required (ws://, wss://, http:// or https://)" })
      .regex(/^(wss?|https?):\/\/\S+$/, "must be a ws://, wss://, http:// or https:// URL"),
    netuid: numberFlag.pipe(z.number().int("must be a whole number").min(0).max(65535, "a subnet id from 0 to 65535")).optional(),
    "from-cycle": wholeNumber(0, "a cycle index >= 0").optional(),
    "to-cycle": wholeNumber(0, "a cycle index >= 0").optional(),
    "from-block": wholeNumber(0, "a block number >= 0").optional(),
    "to-block": wholeNumber(0, "a block number >= 0").optional(),
    last: wholeNumber(1, "at least 1 cycle").optional(),
    follow: z.boolean().optional(),
    "requests-per-minute": numberFlag.pipe(z.number().positive("must be greater than 0")).optional(),
    schedule: z.string().optional(),
    "schedule-url": z
      .string()
      .regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL")
      .optional(),
    whitelist: z.string().optional(),
    "poll-seconds": numberFlag.pipe(z.number().positive("must be greater than 0").max(3600, "at most 3600")).default(12),
  })
  .superRefine((f, ctx) => {
    if (f.netuid === undefined) ctx.addIssue({ code: "custom", path: ["netuid"], message: "the subnet id is required, e.g. --netuid 102" });
    const ranges = [
      ["from-cycle", "to-cycle"],
      ["from-block", "to-block"],
    ] as const;
    for (const [a, b] of ranges) {
      const [from, to] = pair(f, a, b);
      if (from !== to) ctx.addIssue({ code: "custom", path: [from ? b : a], message: `give --${a} and --${b} together` });
      if (from && to && f[a]! > f[b]!) ctx.addIssue({ code: "custom", path: [b], message: `must be >= --${a} ${f[a]}` });
    }
    const given = [f.last !== undefined && "--last", f["from-cycle"] !== undefined && "--from-cycle", f["from-block"] !== undefined && "--from-block"].filter(
      Boolean,
    );
    if (given.length > 1)
      ctx.addIssue({
        code: "custom",
        path: ["last"],
        message: `give one of --last, --from-block/--to-block, --from-cycle/--to-cycle (got ${given.join(", ")})`,
      });
    if (given.length === 0 && !f.follow)
      ctx.addIssue({
        code: "custom",
        path: ["last"],
        message: "say what to ingest: --last N, --from-block A --to-block B, --from-cycle A --to-cycle B, or --follow",
      });
    if (f.schedule === undefined && f["schedule-url"] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message:
          "the cycle schedule is required: --schedule FILE (the schedule history, e.g. packages/telemetry/schedules/subnet-102.json) or --schedule-url URL (the owner's phase service, in force from now on)",
      });
    }
  });

const whitelistSchema = z.array(z.string().min(1)).superRefine((accounts, ctx) => {
  accounts.forEach((account, i) => {
    try {
      accountIdBytes(account);
    } catch (err) {
      ctx.addIssue({ code: "custom", path: [i], message: `not an SS58 address or 0x account id: ${(err as Error).message}` });
    }
  });
});

type Flags = z.infer<typeof flagsSchema>;

async function scheduleFile(path: string): Promise<ScheduleHistory> {
  try {
    return parseScheduleHistory(await readJsonFile(path, "--schedule"));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--schedule: ${(err as Error).message}`);
  }
}

/**
 * The schedule history as of `finalized`: the file's (or what earlier polls built) and, with --schedule-url, the
 * owner's schedule appended as a segment when it differs from the one in force. The owner serves only the schedule
 * in force now, so the segment starts at the finalized head read after its answer (`headAfter`): a change made
 * between the poll's head and the owner's answer is never applied to blocks before it.
 */
async function scheduleAt(flags: Flags, finalized: number, previous: ScheduleHistory | null, headAfter: () => Promise<number>): Promise<ScheduleHistory> {
  const history = previous ?? (flags.schedule ? await scheduleFile(flags.schedule) : null);
  if (!flags["schedule-url"]) return history!;
  const answer = await fetchOwnerSchedule(flags["schedule-url"], finalized);
  const from = Math.max(finalized, await headAfter());
  const segment = { ...answer, fromBlock: from, source: `${answer.source}, read at #${from}` };
  return history ? withObservedSegment(history, segment) : [segment];
}

/** Progress on stderr (core's ProgressWriter): rewritten in place on a terminal, otherwise throttled; each pass's last shows. */
function progressPrinter(): { onProgress: (p: IngestProgress) => void; end: () => void } {
  const progress = new ProgressWriter(process.stderr);
  return { onProgress: (p) => progress.update(ingestProgressLine(p), p.done >= p.total), end: () => progress.end() };
}

function summaryLines(netuid: number, s: IngestSummary): string[] {
  const first = s.cycles[0];
  const last = s.cycles.at(-1);
  const span =
    first && last ? `cycles ${first.index}–${last.index} (#${first.firstBlock}–#${last.firstBlock + last.length - 1})` : "no completed cycle in range";
  const n = s.cycles.length;
  const perCycle = n ? ` (${(s.requests / n).toFixed(2)} requests and ${(s.calls / n).toFixed(1)} calls a cycle)` : "";
  const lines = [
    `netuid ${netuid}, ${span}: ${s.ingested} ingested, ${s.reingested} re-ingested (block changed), ${s.verified} verified unchanged in ${s.seconds.toFixed(1)} s; ${s.requests} HTTP requests/WebSocket frames, ${s.calls} JSON-RPC calls${perCycle}`,
  ];
  for (const c of s.cycles) {
    if (c.committed === null) continue;
    lines.push(
      `  cycle ${c.index} (${c.length} blocks from #${c.firstBlock}): ${c.committed} committed, ${c.accepted} accepted; ${c.requests} requests, ${c.calls} calls`,
    );
  }
  if (s.checkpoint) lines.push(`checkpoint: every cycle up to #${s.checkpoint.lastBlock} (cycle ${s.checkpoint.lastCycle}) is stored`);
  for (const g of s.gaps)
    lines.push(
      `gap: ${g.cycles} cycle${g.cycles === 1 ? "" : "s"} in #${g.fromBlock}–#${g.toBlock} not ingested; --follow or --from-block ${g.fromBlock} --to-block ${g.toBlock} fills it`,
    );
  return lines;
}

export async function ingestCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, ingestFlags, flagsSchema);
  const netuid = flags.netuid!;
  let whitelist: string[] = [];
  if (flags.whitelist) {
    const parsed = whitelistSchema.safeParse(await readJsonFile(flags.whitelist, "--whitelist"));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UsageError(
        `--whitelist: ${issue.path.length ? `entry ${issue.path.join(".")}: ` : "must be a JSON array of validator hotkeys; "}${issue.message}`,
      );
    }
    whitelist = parsed.data;
  } else {
    console.error("note: no --whitelist, so validators' commitments are counted as miners'");
  }
  // The schedule file is checked before anything connects.
  if (flags.schedule) await scheduleFile(flags.schedule);
  const range: BackfillRange | null =
    flags.last !== undefined
      ? { last: flags.last }
      : flags["from-block"] !== undefined
        ? { fromBlock: flags["from-block"], toBlock: flags["to-block"]! }
        : flags["from-cycle"] !== undefined
          ? { fromCycle: flags["from-cycle"], toCycle: flags["to-cycle"]! }
          : null;

  const rpc = new SubstrateRpc({ url: flags.rpc, requestsPerMinute: flags["requests-per-minute"] ?? null });
  const database = await openDatabase(databaseOptions(cliEnv()));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const progress = progressPrinter();
  try {
    const headAfter = async () => (await rpc.finalized()).number;
    let schedule = await scheduleAt(flags, await headAfter(), null, headAfter);
    const ingest = new TelemetryIngest({
      rpc,
      store: new PgStore(database.db),
      netuid,
      schedule,
      validatorWhitelist: whitelist,
      onProgress: progress.onProgress,
    });
    const runtime = await ingest.checkRuntime().catch((err: unknown) => {
      // Known before any read: the layout check names the spec version and what changed.
      if (err instanceof MetadataLayoutError) throw new UsageError(`--rpc: ${err.message}`);
      throw err;
    });
    console.error(
      `runtime ${runtime.specName} spec ${runtime.specVersion}: storage layouts match; schedule: ${schedule.map((s) => `from #${s.fromBlock} ${s.source}`).join("; ")}`,
    );
    if (range) {
      const summary = await ingest.backfill(range).catch((err: unknown) => {
        if (err instanceof AmbiguousCycleRangeError) throw new UsageError(`--from-cycle: ${err.message}`);
        throw err;
      });
      progress.end();
      for (const line of summaryLines(netuid, summary)) console.log(line);
      if (summary.cycles.length === 0 && !flags.schedule)
        console.error("note: --schedule-url applies from the block it is read at on; give --schedule FILE to read history");
    }
    if (flags.follow && !stop.signal.aborted) {
      console.error(`following the finalized head of ${flags.rpc} every ${flags["poll-seconds"]} s (Ctrl-C stops)`);
      await ingest.follow({
        signal: stop.signal,
        pollMs: flags["poll-seconds"] * 1000,
        schedule: async (finalized) => (schedule = await scheduleAt(flags, finalized, schedule, headAfter)),
        onSummary: (s) => {
          progress.end();
          if (s.ingested + s.reingested > 0 || s.gaps.length > 0) for (const line of summaryLines(netuid, s)) console.log(line);
        },
        // A long follow outlives node restarts: report and try again at the next poll rather than exit.
        onError: (error) => {
          progress.end();
          console.error(`follow: ${(error as Error).message}; trying again in ${flags["poll-seconds"]} s`);
        },
      });
      console.error("stopped following");
    }
  } finally {
    progress.end();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await rpc.close();
    await database.close();
  }
}
