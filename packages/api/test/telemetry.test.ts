import { formatFigure } from "@subnet-review/core";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";
import type { AppRouter } from "../src/index.ts";
import { clearAllResponseCaches } from "../src/response-cache.ts";

// Chain cycles as the ingest writes them (packages/telemetry PgStore), read back through the API and the review view.
const SLUG = "subnet-102-status-review";
let api: TestApi;
let client: ReturnType<TestApi["client"]>;

const MINERS = [200, 210, 230, 226];
const ACCEPTED = [120, 131, 150, 149];
const FIRST = 15_700;

beforeAll(async () => {
  api = await startTestApi();
  client = api.client();
});
afterAll(async () => {
  await api?.stop();
});

async function ingestCycles() {
  for (const [i, miners] of MINERS.entries()) {
    const cycle = FIRST + i;
    const hash = (b: number) => `0x${b.toString(16).padStart(64, "0")}`;
    const firstBlock = cycle * 524;
    await api.db.chainCycle.create({
      data: {
        netuid: 102,
        cycle,
        length: 524,
        scheduleKey: "0:20/300/12/12/90/10/56/12/12",
        firstBlock,
        lastBlock: firstBlock + 523,
        firstBlockHash: hash(firstBlock),
        lastBlockHash: hash(firstBlock + 523),
        commitReadBlock: firstBlock + 332,
        commitReadHash: hash(firstBlock + 332),
        windowEndBlock: firstBlock + 343,
        windowEndHash: hash(firstBlock + 343),
        readBlock: firstBlock + 344,
        readBlockHash: hash(firstBlock + 344),
        phases: [{ phase: "MinerCommit1", start: firstBlock + 320, end: firstBlock + 331 }],
        schedule: { fromBlock: 0, phases: {}, source: "test" },
        registeredNeurons: 256,
        committedMiners: miners,
        committedDefinition: "committed-in-miner-commit-windows",
        acceptedMiners: ACCEPTED[i]!,
        acceptedDefinition: "accepted-by-validator-rules",
        rpcRequests: 3,
        rpcCalls: 31,
        miners: {
          create: [
            {
              hotkey: "5Accepted",
              uid: 7,
              commitBlock: firstBlock + 325,
              commitPhase: "MinerCommit1",
              payloadKind: "signed-hash",
              payload: '{"m":"ab"}',
              submissionBlock: firstBlock + 344,
              committed: true,
              accepted: true,
              rejection: null,
            },
            {
              hotkey: "5Late",
              uid: 9,
              commitBlock: firstBlock + 322,
              commitPhase: "MinerCommit1",
              payloadKind: "signed-hash",
              payload: '{"m":"cd"}',
              submissionBlock: firstBlock + 322,
              committed: true,
              accepted: false,
              rejection: "commitment at #x is not a submission",
            },
          ],
        },
      },
    });
  }
  await api.db.telemetryCheckpoint.create({
    data: { netuid: 102, lastCycle: FIRST + MINERS.length - 1, lastBlock: (FIRST + MINERS.length) * 524 - 1, scheduleKey: "0:20/300/12/12/90/10/56/12/12" },
  });
  clearAllResponseCaches();
}

describe("section 03 and telemetry.cycles", () => {
  it("without ingested cycles keeps the published figures and a window derived from the published rounds × hours per round", async () => {
    const view = await client.review.bySlug.query({ slug: SLUG });
    expect(view.miners).toMatchObject({ series: [], measuredAverage: null, windowHours: null, average: { value: 225.2, kind: "reported" } });
    const rounds = view.throughput.rows.find((r) => r.figure.id === "throughput.rounds")!;
    // the window is not printed: it is derived from the published rounds (209.1) × hours per round (1.747), both reported
    const window = rounds.figure.inputs.windowHours!;
    expect(window).toMatchObject({
      kind: "computed",
      inputs: { rounds: { kind: "reported", value: 209.1 }, hoursPerRound: { kind: "reported", value: 1.747 } },
    });
    expect(window.value).toBeCloseTo(209.1 * 1.747, 9);
    expect(rounds.agrees).toBe(true);
    expect((await client.telemetry.cycles.query({ netuid: 102 })).cycles).toEqual([]);
  });

  it("measures the window average and the window hours from ingested cycles; section 02 counts rounds from them", async () => {
    await ingestCycles();
    const view = await client.review.bySlug.query({ slug: SLUG });
    expect(view.miners.series.map((p) => [p.cycle, p.activeMiners, p.acceptedMiners])).toEqual(MINERS.map((m, i) => [FIRST + i, m, ACCEPTED[i]]));
    expect(view.miners.measuredAcceptedAverage).toMatchObject({ kind: "measured", value: (120 + 131 + 150 + 149) / 4 });
    const average = view.miners.measuredAverage!;
    expect(average).toMatchObject({ kind: "measured", value: 216.5, formula: "mean of distinct active miners over 4 cycles (cycles 15,700–15,703)" });
    expect(average.inputs.minerCycles?.value).toBe(866);
    expect(view.miners.average).toMatchObject({ value: 225.2, kind: "reported" });
    const hours = view.miners.windowHours!;
    expect(hours.kind).toBe("measured");
    expect(hours.value).toBeCloseTo((4 * 524 * 12) / 3600, 10);
    const rounds = view.throughput.rows.find((r) => r.figure.id === "throughput.rounds")!;
    expect(rounds.figure.inputs.windowHours).toMatchObject({ kind: "measured", value: hours.value });
    expect(rounds.figure.value).toBeCloseTo(4, 10); // one round per cycle when the cycles are 524 blocks
    expect(formatFigure(rounds.figure)).toBe("4");
    expect(rounds.agrees).toBe(false);
    expect(view.throughput.windowNote).toMatch(/^measured, 4 cycles \(cycles 15,700–15,703\) × cycle length 524 blocks × 12 s \/ 3600/);
  });

  it("uses the review's own cycle window when it names one", async () => {
    await api.db.review.update({ where: { slug: SLUG }, data: { cycleFrom: FIRST + 1, cycleTo: FIRST + 2 } });
    clearAllResponseCaches();
    const view = await client.review.bySlug.query({ slug: SLUG });
    expect(view.miners.series.map((p) => p.cycle)).toEqual([FIRST + 1, FIRST + 2]);
    expect(view.miners.measuredAverage?.value).toBe(220);
    await api.db.review.update({ where: { slug: SLUG }, data: { cycleFrom: null, cycleTo: null } });
    clearAllResponseCaches();
  });

  it("telemetry.cycles answers a range or the last N, oldest first, with the checkpoint", async () => {
    const last = await client.telemetry.cycles.query({ netuid: 102, last: 2 });
    expect(last.cycles.map((c) => [c.cycle, c.committed.count, c.accepted.count])).toEqual([
      [FIRST + 2, 230, 150],
      [FIRST + 3, 226, 149],
    ]);
    expect(last.cycles[0]!.committed).toMatchObject({
      definition: "committed-in-miner-commit-windows",
      description: expect.stringMatching(/published review's wording/),
    });
    expect(last.cycles[0]!.accepted.definition).toBe("accepted-by-validator-rules");
    expect(last.cycles[0]).toMatchObject({ rpcRequests: 3, rpcCalls: 31, finalizedHash: `0x${((FIRST + 2) * 524 + 523).toString(16).padStart(64, "0")}` });
    const byBlock = await client.telemetry.cycles.query({ netuid: 102, fromBlock: (FIRST + 1) * 524 + 10, toBlock: (FIRST + 1) * 524 + 600 });
    expect(byBlock.cycles.map((c) => c.cycle)).toEqual([FIRST + 1, FIRST + 2]);
    expect(last.checkpoint).toMatchObject({ lastCycle: FIRST + 3 });
    expect(last.cycles[0]).toMatchObject({ length: 524, registeredNeurons: 256, scheduleSource: "test" });
    const ranged = await client.telemetry.cycles.query({ netuid: 102, fromCycle: FIRST, toCycle: FIRST + 1 });
    expect(ranged.cycles.map((c) => c.cycle)).toEqual([FIRST, FIRST + 1]);
    expect((await client.telemetry.cycles.query({ netuid: 7 })).cycles).toEqual([]);
  });

  it("telemetry.cycle gives one cycle's drill-down: block range, reads with hashes, both counts, every hotkey and why", async () => {
    const firstBlock = (FIRST + 1) * 524;
    const detail = await client.telemetry.cycle.query({ netuid: 102, firstBlock, length: 524 });
    expect(detail).toMatchObject({ cycle: FIRST + 1, firstBlock, lastBlock: firstBlock + 523, committed: { count: 210 }, accepted: { count: 131 } });
    expect(detail.reads.map((r) => [r.role, r.block])).toEqual([
      ["commitRead", firstBlock + 332],
      ["windowEnd", firstBlock + 343],
      ["submissionRead", firstBlock + 344],
    ]);
    expect(detail.miners).toEqual([
      expect.objectContaining({ hotkey: "5Accepted", uid: 7, payloadKind: "signed-hash", accepted: true, rejection: null }),
      expect.objectContaining({ hotkey: "5Late", uid: 9, committed: true, accepted: false, rejection: "commitment at #x is not a submission" }),
    ]);
    const missing = await client.telemetry.cycle.query({ netuid: 102, firstBlock: firstBlock + 1, length: 524 }).catch((e: unknown) => e);
    expect((missing as TRPCClientError<AppRouter>).data?.code).toBe("NOT_FOUND");
  });

  it.each([
    [{ netuid: 102, fromBlock: 10, toBlock: 5 }, "toBlock", /must be >= fromBlock 10/],
    [{ netuid: 102, fromBlock: 10, fromCycle: 5 }, "fromBlock", /either fromCycle\/toCycle or fromBlock\/toBlock/],
    [{ netuid: 102, fromCycle: 10, toCycle: 5 }, "toCycle", /must be >= fromCycle 10/],
    [{ netuid: 102, last: 0 }, "last", /at least 1 cycle/],
    [{ netuid: 102, last: 3, fromCycle: 1 }, "last", /either last, fromCycle\/toCycle or fromBlock/],
    [{ netuid: 70000 }, "netuid", /from 0 to 65535/],
  ])("refuses %j naming the field", async (input, field, message) => {
    const err = await client.telemetry.cycles.query(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    const data = (err as TRPCClientError<AppRouter>).data as { fields: { path: string; message: string }[] };
    expect(data.fields[0]).toMatchObject({ path: field, message: expect.stringMatching(message) });
  });
});
