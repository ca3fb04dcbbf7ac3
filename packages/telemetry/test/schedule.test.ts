import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  CONNITO_REPO_DEFAULT_PHASES,
  cycleAtBlock,
  cyclesByIndex,
  cyclesOverlapping,
  lastCyclesEndingBy,
  cycleLength,
  cycleWindow,
  fetchOwnerSchedule,
  parseScheduleHistory,
  phaseAtBlock,
  phaseWindow,
  withObservedSegment,
  type PhaseLengths,
} from "../src/index.ts";

const LIVE_524: PhaseLengths = { ...CONNITO_REPO_DEFAULT_PHASES, Submission: 104 }; // a 524-block schedule for the test
const history = parseScheduleHistory([
  { fromBlock: 0, phases: CONNITO_REPO_DEFAULT_PHASES, source: "repo default" },
  { fromBlock: 8_000_000, phases: LIVE_524, source: "owner endpoint" },
]);

describe("cycle schedule", () => {
  it("cycle_index = block // cycle_length under the segment in force", () => {
    expect(cycleLength(CONNITO_REPO_DEFAULT_PHASES)).toBe(500);
    expect(cycleAtBlock(history, 8_668_092)).toMatchObject({ index: 16_542, length: 524, firstBlock: 16_542 * 524 });
    expect(cycleAtBlock(history, 1_000)).toMatchObject({ index: 2, length: 500, firstBlock: 1000, lastBlock: 1499 });
  });

  it("phase windows are contiguous and fill the cycle", () => {
    const c = cycleWindow(history, 16_542)!;
    expect(c.schedule.source).toBe("owner endpoint");
    expect(phaseWindow(c, "Distribute")).toEqual({ phase: "Distribute", start: c.firstBlock, end: c.firstBlock + 19 });
    expect(phaseWindow(c, "MinerCommit1")).toEqual({ phase: "MinerCommit1", start: c.firstBlock + 320, end: c.firstBlock + 329 });
    expect(phaseWindow(c, "ValidatorCommit2").end).toBe(c.lastBlock);
    for (let i = 1; i < c.phases.length; i++) expect(c.phases[i]!.start).toBe(c.phases[i - 1]!.end + 1);
    expect(phaseAtBlock(history, c.firstBlock + 335)?.phase).toBe("MinerCommit2");
  });

  it("an index valid under two segments resolves to the later one; a cut cycle to none", () => {
    // 15,999 is 7,999,500.. under 500 and 8,383,476.. under 524: the index alone is ambiguous across a change.
    expect(cycleWindow(history, 15_999)).toMatchObject({ length: 524, firstBlock: 15_999 * 524 });
    expect(cycleWindow(history, 10)).toMatchObject({ length: 500, firstBlock: 5000 });
    expect(cycleWindow(history, 15_267)).toMatchObject({ length: 500 }); // 524-cycle 15,267 starts before 8,000,000
    const shrinking = parseScheduleHistory([
      { fromBlock: 0, phases: LIVE_524, source: "a" },
      { fromBlock: 1_000_000, phases: CONNITO_REPO_DEFAULT_PHASES, source: "b" },
    ]);
    // Under 524, cycle 1,908 spans 999,792..1,000,315 (cut by the change); under 500 it ends before 1,000,000.
    expect(cycleWindow(shrinking, 1_908)).toBeNull();
  });

  it("rejects bad schedules naming the field", () => {
    expect(() => parseScheduleHistory([{ fromBlock: 0, phases: { ...CONNITO_REPO_DEFAULT_PHASES, Train: 0 }, source: "x" }])).toThrow(/Train/);
    expect(() => parseScheduleHistory([])).toThrow(/at least one segment/);
    expect(() => parseScheduleHistory([history[1], history[0]])).toThrow(/strictly increasing fromBlock/);
  });
});

describe("owner schedule endpoint", () => {
  async function serve(body: unknown) {
    const server = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
  }
  const phases = Object.entries(LIVE_524).map(([name, length], index) => ({ index, name, length }));

  it("reads GET / into a segment and appends it when it differs", async () => {
    const s = await serve({ message: "Phase service is running", cycle_length: 524, phases, usage: "GET /phase?block_height=123" });
    try {
      const segment = await fetchOwnerSchedule(s.url, 9_000_000);
      expect(segment.phases).toEqual(LIVE_524);
      expect(withObservedSegment(history, segment)).toBe(history); // same as in force: unchanged
      const base = parseScheduleHistory([history[0]]);
      expect(withObservedSegment(base, segment)).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it("refuses a body whose lengths do not add up", async () => {
    const s = await serve({ cycle_length: 500, phases });
    try {
      await expect(fetchOwnerSchedule(s.url, 1)).rejects.toThrow(/cycle_length 500 != sum of phases 524/);
    } finally {
      await s.close();
    }
  });
});

describe("schedule history across changes", () => {
  const P524: PhaseLengths = {
    ...CONNITO_REPO_DEFAULT_PHASES,
    MinerCommit1: 12,
    MinerCommit2: 12,
    Submission: 90,
    Merge: 56,
    ValidatorCommit1: 12,
    ValidatorCommit2: 12,
  };
  const changes = parseScheduleHistory([
    { fromBlock: 0, phases: CONNITO_REPO_DEFAULT_PHASES, source: "500" },
    { fromBlock: 50_100, phases: P524, source: "524" },
    { fromBlock: 60_000, phases: null, source: "unknown from here" },
  ]);

  it("--last walks back across a change, skips the cut cycle, and stops at an unknown schedule", () => {
    expect(lastCyclesEndingBy(changes, 3, 50_900).map((w) => `${w.length}:${w.index}`)).toEqual(["500:98", "500:99", "524:96"]);
    expect(lastCyclesEndingBy(changes, 2, 70_000).map((w) => `${w.length}:${w.index}@${w.lastBlock}`)).toEqual([]);
    expect(lastCyclesEndingBy(changes, 2, 59_999).at(-1)).toMatchObject({ length: 524, index: 113, lastBlock: 59_735 });
  });

  it("block ranges take whole cycles of every segment; index ranges must fall in one schedule", () => {
    expect(cyclesOverlapping(changes, 49_600, 50_900).map((w) => `${w.length}:${w.index}`)).toEqual(["500:99", "524:96", "524:97"]);
    expect(cyclesByIndex(changes, 100, 101).map((w) => w.length)).toEqual([524, 524]);
    expect(() => cyclesByIndex(changes, 96, 97)).toThrow(/exist under more than one schedule/);
  });

  it("the shipped subnet-102 history parses; its 524-block segment is marked unknown", async () => {
    const file = parseScheduleHistory(JSON.parse(await readFile(fileURLToPath(new URL("../schedules/subnet-102.json", import.meta.url)), "utf8")));
    expect(file.map((s) => [s.fromBlock, s.phases === null ? null : cycleLength(s.phases)])).toEqual([
      [0, 500],
      [8_668_092, null],
    ]);
    expect(cycleAtBlock(file, 8_668_092)).toBeNull();
    expect(() => parseScheduleHistory([{ fromBlock: 0, phases: { ...P524, Train: 0 }, source: "x" }])).toThrow(/Train/);
  });
});
