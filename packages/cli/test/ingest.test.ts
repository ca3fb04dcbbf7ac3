import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { PHASE_NAMES, PgStore } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, type FakePhases } from "@subnet-review/telemetry/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

// `review ingest` as a user runs it: a child process against the fake Subtensor node and a real Postgres database.
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const NETUID = 102;
const PHASES: FakePhases = { Distribute: 20, Train: 300, MinerCommit1: 10, MinerCommit2: 10, Submission: 80, Validate: 10, Merge: 50, ValidatorCommit1: 10, ValidatorCommit2: 10 };
const FIRST = 700;
const LAST = 707;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let chain: FakeChain;
let node: FakeNode;
let owner: Server;
let ownerUrl: string;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  // The chain holds activity through LAST, but the head stops at the end of LAST - 1, so --follow has a cycle to catch.
  chain = new FakeChain({ netuid: NETUID, phases: PHASES, firstCycle: FIRST, lastCycle: LAST, neurons: 40, validators: 4, seed: 5, blocksAfter: -500 });
  node = await new FakeNode(chain).start();
  dir = await mkdtemp(join(tmpdir(), "ingest-cli-"));
  await writeFile(join(dir, "whitelist.json"), JSON.stringify(chain.whitelist));
  await writeFile(join(dir, "schedule.json"), JSON.stringify([{ fromBlock: 0, phases: PHASES, source: "test schedule file" }]));
  // The owner's schedule endpoint, in its real response shape.
  owner = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ cycle_length: 500, phases: PHASE_NAMES.map((name, index) => ({ index, name, length: PHASES[name] })) }),
    );
  });
  await new Promise<void>((resolve) => owner.listen(0, "127.0.0.1", resolve));
  ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
});
afterAll(async () => {
  owner?.close();
  await node?.stop();
  await open?.close();
  await database?.drop();
});
beforeEach(async () => {
  await open.db.chainCycle.deleteMany();
  await open.db.telemetryCheckpoint.deleteMany();
});

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", main, "ingest", ...args], { env: { ...process.env, DATABASE_URL: database.url } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
const review = (...args: string[]) => start(args).done;

async function expectStored(cycles: number[]) {
  const stored = await new PgStore(open.db).list(NETUID);
  expect(stored.map((c) => c.index)).toEqual(cycles);
  for (const c of stored) expect(new Map(c.activeMiners.map((m) => [m.hotkey, m.payload])), `cycle ${c.index}`).toEqual(chain.expected.get(c.index));
  return stored;
}

describe("review ingest", { timeout: 60_000 }, () => {
  it("backfills a cycle range into Postgres with a progress line, and a re-run only verifies", async () => {
    const args = ["--rpc", node.wsUrl, "--netuid", "102", "--from-cycle", String(FIRST), "--to-cycle", String(LAST - 1), "--whitelist", join(dir, "whitelist.json"), "--schedule", join(dir, "schedule.json")];
    const first = await review(...args);
    expect(first.stderr).toMatch(/\[#{20}\] 7\/7 cycles · cycle 70\d ingested, \d+ active miners · [\d.]+ cycles\/s · \d+ requests · ETA 0s/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`netuid 102, cycles ${FIRST}–${LAST - 1}: 7 ingested, 0 re-ingested \\(block changed\\), 0 verified`));
    const stored = await expectStored(range(FIRST, LAST - 1));
    expect(stored[0]!.schedule.source).toBe("test schedule file");
    expect(await open.db.telemetryCheckpoint.findUnique({ where: { netuid: NETUID } })).toMatchObject({ lastCycle: LAST - 1 });

    const again = await review(...args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 ingested, 0 re-ingested (block changed), 7 verified unchanged");
  });

  it("--follow with the owner's schedule ingests the last cycles, then each new finalized cycle, until Ctrl-C", async () => {
    const { child, done } = start(["--rpc", node.httpUrl, "--netuid", "102", "--last", "2", "--follow", "--poll-seconds", "0.2", "--whitelist", join(dir, "whitelist.json"), "--schedule-url", ownerUrl]);
    const until = async (what: () => Promise<boolean>) => {
      for (let i = 0; i < 300 && !(await what()); i++) await new Promise((r) => setTimeout(r, 100));
    };
    await until(async () => (await open.db.chainCycle.count()) === 2);
    await expectStored([LAST - 2, LAST - 1]);
    chain.advance(500); // cycle LAST completes and is finalized
    await until(async () => (await open.db.chainCycle.count()) === 3);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("stopped following");
    const stored = await expectStored([LAST - 2, LAST - 1, LAST]);
    expect(stored[0]!.schedule.source).toMatch(new RegExp(`^owner endpoint ${ownerUrl}.*, observed at #\\d+`));
  });

  it.each([
    [["--netuid", "102", "--last", "2"], /--rpc: the node's JSON-RPC URL is required/],
    [["--rpc", "ws://127.0.0.1:1", "--last", "2"], /--netuid: the subnet id is required/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102"], /--last: say what to ingest/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--from-cycle", "5"], /--to-cycle: give --from-cycle and --to-cycle together/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--from-cycle", "9", "--to-cycle", "5"], /--to-cycle: must be >= --from-cycle 9/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--last", "2", "--requests-per-minute", "0"], /--requests-per-minute: must be greater than 0/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--last", "2", "--schedule", "a.json", "--schedule-url", "http://x"], /--schedule-url: give either/],
  ])("%j fails naming the flag", async (args, message) => {
    const { code, stdout, stderr } = await review(...(args as string[]));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("names a bad whitelist entry and a bad schedule file, and writes nothing", async () => {
    await writeFile(join(dir, "bad-whitelist.json"), JSON.stringify([chain.whitelist[0], "not-an-address"]));
    const badList = await review("--rpc", node.wsUrl, "--netuid", "102", "--last", "2", "--whitelist", join(dir, "bad-whitelist.json"));
    expect(badList.code).toBe(2);
    expect(badList.stderr).toMatch(/--whitelist: entry 1: not an SS58 address/);
    await writeFile(join(dir, "bad-schedule.json"), JSON.stringify([{ fromBlock: 0, phases: { ...PHASES, Train: 0 }, source: "x" }]));
    const badSchedule = await review("--rpc", node.wsUrl, "--netuid", "102", "--last", "2", "--schedule", join(dir, "bad-schedule.json"));
    expect(badSchedule.code).toBe(2);
    expect(badSchedule.stderr).toMatch(/--schedule: invalid schedule history:[\s\S]*Train/);
    expect(await open.db.chainCycle.count()).toBe(0);
  });
});
