import { openDatabase } from "@subnet-review/db";
import {
  accountIdBytes,
  CONNITO_REPO_DEFAULT_PHASES,
  fetchOwnerSchedule,
  ingestProgressLine,
  parseScheduleHistory,
  PgStore,
  SubstrateRpc,
  TelemetryIngest,
  type BackfillRange,
  type IngestProgress,
  type IngestSummary,
  type ScheduleHistory,
} from "@subnet-review/telemetry";
import { z } from "zod";
import { numberFlag, parseFlags, readJsonFile, UsageError } from "../args.ts";

export const ingestUsage = `pnpm review ingest --rpc URL --netuid 102 [--from-cycle A --to-cycle B | --last N] [--follow]
    [--requests-per-minute R] [--schedule FILE | --schedule-url URL] [--whitelist FILE] [--poll-seconds 12]
                                                read subnet activity per cycle from a Subtensor node (finalized
                                                blocks) into the database; --follow keeps up until Ctrl-C`;

const wholeNumber = (min: number, what: string) => numberFlag.pipe(z.number().int("must be a whole number").min(min, what));

const flagsSchema = z
  .object({
    rpc: z.string({ error: "the node's JSON-RPC URL is required (ws://, wss://, http:// or https://)" }).regex(/^(wss?|https?):\/\/\S+$/, "must be a ws://, wss://, http:// or https:// URL"),
    netuid: numberFlag.pipe(z.number().int("must be a whole number").min(0).max(65535, "a subnet id from 0 to 65535")).optional(),
    "from-cycle": wholeNumber(0, "a cycle index >= 0").optional(),
    "to-cycle": wholeNumber(0, "a cycle index >= 0").optional(),
    last: wholeNumber(1, "at least 1 cycle").optional(),
    follow: z.boolean().optional(),
    "requests-per-minute": numberFlag.pipe(z.number().positive("must be greater than 0")).optional(),
    schedule: z.string().optional(),
    "schedule-url": z.string().regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL").optional(),
    whitelist: z.string().optional(),
    "poll-seconds": numberFlag.pipe(z.number().positive("must be greater than 0").max(3600, "at most 3600")).default(12),
  })
  .superRefine((f, ctx) => {
    if (f.netuid === undefined) ctx.addIssue({ code: "custom", path: ["netuid"], message: "the subnet id is required, e.g. --netuid 102" });
    const from = f["from-cycle"] !== undefined;
    const to = f["to-cycle"] !== undefined;
    if (from !== to) ctx.addIssue({ code: "custom", path: [from ? "to-cycle" : "from-cycle"], message: "give --from-cycle and --to-cycle together" });
    if (from && to && f["from-cycle"]! > f["to-cycle"]!) ctx.addIssue({ code: "custom", path: ["to-cycle"], message: `must be >= --from-cycle ${f["from-cycle"]}` });
    if (from && f.last !== undefined) ctx.addIssue({ code: "custom", path: ["last"], message: "give either --from-cycle/--to-cycle or --last, not both" });
    if (!from && f.last === undefined && !f.follow) ctx.addIssue({ code: "custom", path: ["last"], message: "say what to ingest: --from-cycle A --to-cycle B, --last N, or --follow" });
    if (f.schedule !== undefined && f["schedule-url"] !== undefined) ctx.addIssue({ code: "custom", path: ["schedule-url"], message: "give either --schedule FILE or --schedule-url URL, not both" });
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

const DEFAULT_SCHEDULE: ScheduleHistory = [
  { fromBlock: 0, phases: CONNITO_REPO_DEFAULT_PHASES, source: "Connito-AI/Connito connito/shared/config.py CycleCfg defaults" },
];

async function scheduleFrom(flags: z.infer<typeof flagsSchema>, rpc: SubstrateRpc): Promise<ScheduleHistory> {
  if (flags.schedule) {
    try {
      return parseScheduleHistory(await readJsonFile(flags.schedule, "--schedule"));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--schedule: ${(err as Error).message}`);
    }
  }
  if (flags["schedule-url"]) {
    // The owner serves only the schedule in force now; it is assumed for earlier blocks too, and each stored
    // cycle records this source, so a history file (--schedule) is the way to backfill across a change.
    const finalized = await rpc.finalized();
    const observed = await fetchOwnerSchedule(flags["schedule-url"], finalized.number);
    return [{ fromBlock: 0, phases: observed.phases, source: `${observed.source}, observed at #${finalized.number}` }];
  }
  return DEFAULT_SCHEDULE;
}

/** Progress on stderr: rewritten in place on a terminal, otherwise a line at most once a second and at the end. */
function progressPrinter(): { onProgress: (p: IngestProgress) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let pending = false;
  return {
    onProgress(p) {
      const now = Date.now();
      if (p.done < p.total && now - last < (tty ? 100 : 1000)) return;
      last = now;
      const line = ingestProgressLine(p);
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      pending = tty;
    },
    end() {
      if (pending) process.stderr.write("\n");
      pending = false;
    },
  };
}

function summaryLine(netuid: number, s: IngestSummary): string {
  const span = s.cycles.length ? `cycles ${s.cycles[0]}–${s.cycles.at(-1)}` : "no completed cycle in range";
  const perCycle = s.cycles.length ? ` (${(s.requests / s.cycles.length).toFixed(2)}/cycle)` : "";
  return `netuid ${netuid}, ${span}: ${s.ingested} ingested, ${s.reingested} re-ingested (block changed), ${s.verified} verified unchanged in ${s.seconds.toFixed(1)} s; ${s.requests} requests${perCycle}`;
}

export async function ingestCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    {
      rpc: { type: "string" },
      netuid: { type: "string" },
      "from-cycle": { type: "string" },
      "to-cycle": { type: "string" },
      last: { type: "string" },
      follow: { type: "boolean" },
      "requests-per-minute": { type: "string" },
      schedule: { type: "string" },
      "schedule-url": { type: "string" },
      whitelist: { type: "string" },
      "poll-seconds": { type: "string" },
    },
    flagsSchema,
  );
  const netuid = flags.netuid!;
  let whitelist: string[] = [];
  if (flags.whitelist) {
    const parsed = whitelistSchema.safeParse(await readJsonFile(flags.whitelist, "--whitelist"));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UsageError(`--whitelist: ${issue.path.length ? `entry ${issue.path.join(".")}: ` : "must be a JSON array of validator hotkeys; "}${issue.message}`);
    }
    whitelist = parsed.data;
  } else {
    console.error("note: no --whitelist, so validators' MinerCommit1 seed commitments are counted as miners");
  }
  const range: BackfillRange | null =
    flags.last !== undefined ? { last: flags.last } : flags["from-cycle"] !== undefined ? { fromCycle: flags["from-cycle"], toCycle: flags["to-cycle"]! } : null;

  const rpc = new SubstrateRpc({ url: flags.rpc, requestsPerMinute: flags["requests-per-minute"] ?? null });
  const database = await openDatabase();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const progress = progressPrinter();
  try {
    const schedule = await scheduleFrom(flags, rpc);
    const ingest = new TelemetryIngest({ rpc, store: new PgStore(database.db), netuid, schedule, validatorWhitelist: whitelist, onProgress: progress.onProgress });
    console.error(`schedule: ${schedule.map((s) => `from #${s.fromBlock} ${s.source}`).join("; ")}`);
    if (range) {
      const summary = await ingest.backfill(range);
      progress.end();
      console.log(summaryLine(netuid, summary));
    }
    if (flags.follow && !stop.signal.aborted) {
      console.error(`following the finalized head of ${flags.rpc} every ${flags["poll-seconds"]} s (Ctrl-C stops)`);
      await ingest.follow({
        signal: stop.signal,
        pollMs: flags["poll-seconds"] * 1000,
        onSummary: (s) => {
          progress.end();
          if (s.ingested + s.reingested > 0) console.log(summaryLine(netuid, s));
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
