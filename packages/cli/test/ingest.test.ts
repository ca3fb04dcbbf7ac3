import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { PHASE_NAMES, PgStore } from "@subnet-review/telemetry";
import { FakeChain, FakeNode, PHASES_500, PHASES_524 } from "@subnet-review/telemetry/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatHelp } from "../src/args.ts";
import { ingestHelp } from "../src/commands/ingest.ts";

// `review ingest` as a user runs it: a child process against the fake Subtensor node and a real Postgres database.
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const exampleSchedule = fileURLToPath(new URL("../../telemetry/schedules/subnet-102.json", import.meta.url));
const NETUID = 102;
// 500-block cycles 96..99 (#48,000–#49,999), then 524-block cycles from #50,100: 96 (#50,304–#50,827) and 97.
const CHANGE = 50_100;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let chain: FakeChain;
let node: FakeNode;
let owner: Server;
let ownerUrl: string;
let ownerAnswers524 = 0;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  // Activity through 524-block cycle 97, but the head stops at #49,999 so --follow has the change to cross.
  chain = new FakeChain({
    netuid: NETUID,
    schedule: [
      { fromBlock: 0, phases: PHASES_500 },
      { fromBlock: CHANGE, phases: PHASES_524 },
    ],
    fromBlock: 48_000,
    toBlock: 51_351,
    neurons: 40,
    validators: 4,
    staleValidators: 1,
    seed: 5,
  });
  chain.head = chain.finalized = 49_999;
  node = await new FakeNode(chain).start();
  dir = await mkdtemp(join(tmpdir(), "ingest-cli-"));
  await writeFile(join(dir, "whitelist.json"), JSON.stringify(chain.whitelist));
  await writeFile(
    join(dir, "history.json"),
    JSON.stringify([
      { fromBlock: 0, phases: PHASES_500, source: "test: 500-block cycles" },
      { fromBlock: CHANGE, phases: PHASES_524, source: "test: 524 from the change" },
    ]),
  );
  await writeFile(join(dir, "until-change.json"), JSON.stringify([{ fromBlock: 0, phases: PHASES_500, source: "test: 500-block cycles" }]));
  // The owner's schedule endpoint, in its real response shape: the schedule in force at the chain's finalized head.
  owner = createServer((_req, res) => {
    const phases = chain.finalized >= CHANGE ? PHASES_524 : PHASES_500;
    if (phases === PHASES_524) ownerAnswers524++;
    const total = PHASE_NAMES.reduce((n, p) => n + phases[p], 0);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ cycle_length: total, phases: PHASE_NAMES.map((name, index) => ({ index, name, length: phases[name] })) }));
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
  chain.head = chain.finalized = 49_999;
});

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", main, "ingest", ...args], { env: { ...process.env, DATABASE_URL: database.url } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
const review = (...args: string[]) => start(args).done;
const stored = async () => (await new PgStore(open.db).list(NETUID)).map((c) => `${c.length}:${c.index}`);

describe("review ingest", { timeout: 60_000 }, () => {
  it("--help prints the usage, naming every flag, and exits 0", async () => {
    const { code, stdout } = await review("--help");
    expect(code).toBe(0);
    // the help is generated from the flag declarations the command parses
    expect(stdout.trim()).toBe(formatHelp(ingestHelp));
    // the declarations themselves (not the source text, whose layout the formatter owns)
    const flags = Object.keys(ingestHelp.flags);
    expect(flags.length).toBe(13);
    for (const flag of flags) expect(stdout, flag).toContain(`--${flag}`);
  });

  it("backfills a block range across the schedule change with both counts, and a re-run only verifies", async () => {
    chain.head = chain.finalized = 51_351;
    const args = [
      "--rpc",
      node.wsUrl,
      "--netuid",
      "102",
      "--from-block",
      "48000",
      "--to-block",
      "51351",
      "--whitelist",
      join(dir, "whitelist.json"),
      "--schedule",
      join(dir, "history.json"),
    ];
    const first = await review(...args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/runtime node-subtensor spec 393: storage layouts match/);
    expect(first.stdout).toMatch(
      /netuid 102, cycles 96–97 \(#48000–#51351\): 6 ingested, 0 re-ingested \(block changed\), 0 verified unchanged in [\d.]+ s; \d+ HTTP requests\/WebSocket frames, \d+ JSON-RPC calls/,
    );
    expect(first.stdout).toMatch(/ {2}cycle 96 \(524 blocks from #50304\): \d+ committed, \d+ accepted; 3 requests, \d+ calls/);
    expect(first.stdout).toContain("checkpoint: every cycle up to #51351 (cycle 97) is stored");
    expect(await stored()).toEqual(["500:96", "500:97", "500:98", "500:99", "524:96", "524:97"]);
    const again = await review(...args);
    expect(again.stdout).toContain("0 ingested, 0 re-ingested (block changed), 6 verified unchanged");
  });

  it("--follow with the owner's schedule keeps up across the length change it announces, until Ctrl-C", async () => {
    const { child, done } = start([
      "--rpc",
      node.httpUrl,
      "--netuid",
      "102",
      "--last",
      "2",
      "--follow",
      "--poll-seconds",
      "0.2",
      "--whitelist",
      join(dir, "whitelist.json"),
      "--schedule",
      join(dir, "until-change.json"),
      "--schedule-url",
      ownerUrl,
    ]);
    const until = async (what: () => Promise<boolean>) => {
      for (let i = 0; i < 300 && !(await what()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await what()).toBe(true);
    };
    await until(async () => (await stored()).length === 2);
    ownerAnswers524 = 0;
    chain.head = chain.finalized = 50_200; // the owner now serves 524-block cycles
    // A second answer means the poll that first saw 524 has also read the head after it (#50,200), whatever the load.
    await until(async () => ownerAnswers524 >= 2);
    chain.head = chain.finalized = 51_351;
    await until(async () => (await stored()).length === 4);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("stopped following");
    expect(await stored()).toEqual(["500:98", "500:99", "524:96", "524:97"]);
    const rows = await new PgStore(open.db).list(NETUID);
    expect(rows[2]!.schedule.source).toMatch(new RegExp(`^owner endpoint ${ownerUrl}.*, read at #50200$`));
  });

  it("the example schedule history file parses and names what is unknown", async () => {
    const example = JSON.parse(await readFile(exampleSchedule, "utf8")) as { fromBlock: number; source: string }[];
    expect(example[0]).toMatchObject({ fromBlock: 0 });
    const { code, stderr } = await review("--rpc", node.wsUrl, "--netuid", "102", "--last", "1", "--schedule", exampleSchedule);
    expect(stderr).not.toMatch(/--schedule:/);
    expect(code).toBe(0);
  });

  it.each([
    [["--netuid", "102", "--last", "2", "--schedule", "x.json"], /--rpc: the node's JSON-RPC URL is required/],
    [["--rpc", "ws://127.0.0.1:1", "--last", "2", "--schedule", "x.json"], /--netuid: the subnet id is required/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--last", "2"], /--schedule: the cycle schedule is required: --schedule FILE .* or --schedule-url URL/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--schedule", "x.json"], /--last: say what to ingest/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--schedule", "x.json", "--from-cycle", "5"], /--to-cycle: give --from-cycle and --to-cycle together/],
    [["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--schedule", "x.json", "--from-block", "9", "--to-block", "5"], /--to-block: must be >= --from-block 9/],
    [
      ["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--schedule", "x.json", "--last", "2", "--from-block", "1", "--to-block", "5"],
      /--last: give one of --last, --from-block/,
    ],
    [
      ["--rpc", "ws://127.0.0.1:1", "--netuid", "102", "--schedule", "x.json", "--last", "2", "--requests-per-minute", "0"],
      /--requests-per-minute: must be greater than 0/,
    ],
  ])("%j fails naming the flag", async (args, message) => {
    const { code, stdout, stderr } = await review(...(args as string[]));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses an ambiguous cycle range and a changed storage layout by name, and writes nothing", async () => {
    chain.head = chain.finalized = 51_351;
    const ambiguous = await review("--rpc", node.wsUrl, "--netuid", "102", "--from-cycle", "96", "--to-cycle", "97", "--schedule", join(dir, "history.json"));
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/--from-cycle: cycles 96–97 exist under more than one schedule/);
    const saved = { hex: chain.metadataHex, spec: chain.specVersion };
    const metadata = Buffer.from(chain.metadataHex.slice(2), "hex");
    const name = Buffer.from("LastUpdate");
    const at = metadata.indexOf(Buffer.concat([Buffer.from([name.length << 2]), name]));
    metadata[at + 1 + name.length + 3] = 2; // LastUpdate's key hasher: Identity → Blake2_128Concat
    chain.metadataHex = `0x${metadata.toString("hex")}`;
    chain.specVersion = 400;
    try {
      const changed = await review("--rpc", node.wsUrl, "--netuid", "102", "--last", "2", "--schedule", join(dir, "history.json"));
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(
        /--rpc: runtime spec version 400 changed storage telemetry decodes; refusing to read it: SubtensorModule\.LastUpdate hashers are Blake2_128Concat, expected Identity/,
      );
    } finally {
      chain.metadataHex = saved.hex;
      chain.specVersion = saved.spec;
    }
    expect(await open.db.chainCycle.count()).toBe(0);
  });

  it("names a bad whitelist entry and a bad schedule file, and writes nothing", async () => {
    await writeFile(join(dir, "bad-whitelist.json"), JSON.stringify([chain.whitelist[0], "not-an-address"]));
    const badList = await review(
      "--rpc",
      node.wsUrl,
      "--netuid",
      "102",
      "--last",
      "2",
      "--whitelist",
      join(dir, "bad-whitelist.json"),
      "--schedule",
      join(dir, "history.json"),
    );
    expect(badList.code).toBe(2);
    expect(badList.stderr).toMatch(/--whitelist: entry 1: not an SS58 address/);
    await writeFile(join(dir, "bad-schedule.json"), JSON.stringify([{ fromBlock: 0, phases: { ...PHASES_500, Train: 0 }, source: "x" }]));
    const badSchedule = await review("--rpc", node.wsUrl, "--netuid", "102", "--last", "2", "--schedule", join(dir, "bad-schedule.json"));
    expect(badSchedule.code).toBe(2);
    expect(badSchedule.stderr).toMatch(/--schedule: invalid schedule history:[\s\S]*Train/);
    expect(await open.db.chainCycle.count()).toBe(0);
  });
});
